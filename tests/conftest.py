"""Collection rules shared by every test run."""
from pathlib import Path


def pytest_ignore_collect(collection_path, config):
    """tests/test_lighthouse.py runs only when named (`make lighthouse`): it measures the site that
    `make test` or `make book` built, alone, so a plain `pytest` (which would run it first,
    and beside other tests) leaves it out."""
    if collection_path.name == "test_lighthouse.py":
        return not any(Path(arg.split("::")[0]).resolve() == collection_path.resolve() for arg in config.args)
    return None

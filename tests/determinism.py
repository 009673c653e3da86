"""pytest plugin (loaded with -p in pytest.ini): the environment every test and every kernel runs in.

Notebook kernels inherit it, so nbval sees the same numbers that `make outputs` stored, and figures
drawn during the tests go to a throwaway folder instead of overwriting the committed baselines.
"""
import os
import tempfile

DETERMINISTIC_ENV = {"PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                     "MKL_NUM_THREADS": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


def pytest_configure(config):
    os.environ.update(DETERMINISTIC_ENV)
    # `make test` names the folder, so that the site tests can compare the figures nbval's run drew.
    os.environ.setdefault("LAFML_FIGURE_DIR", tempfile.mkdtemp(prefix="lafml-test-figures-"))

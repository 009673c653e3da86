"""pytest plugin (loaded with -p in pytest.ini): the environment every test and every kernel runs in.

Notebook kernels inherit it, so nbval sees the same numbers that `make outputs` stored, and figures
drawn during the tests go to a throwaway folder instead of overwriting the committed baselines.
Every failure report names the environment it ran in (BLAS kernel, threads, versions), so a difference
that only one CPU or library version shows is recognisable as such.
"""
import os
import platform
import tempfile

import pytest

DETERMINISTIC_ENV = {"PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                     "MKL_NUM_THREADS": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
# The portability check (tools/portability.py) runs the chapters with more than one BLAS thread too.
THREADS_OVERRIDE = "LAFML_BLAS_THREADS"


def pytest_configure(config):
    os.environ.update(DETERMINISTIC_ENV)
    if os.environ.get(THREADS_OVERRIDE):
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = os.environ[THREADS_OVERRIDE]
    # `make test` names the folder, so that the site tests can compare the figures nbval's run drew.
    os.environ.setdefault("LAFML_FIGURE_DIR", tempfile.mkdtemp(prefix="lafml-test-figures-"))


def describe_environment():
    """One line: where the chapters' kernels run (what decides their last digits)."""
    name = os.environ.get("LAFML_ENVIRONMENT")  # set by tools/portability.py
    blas = "BLAS unknown"
    try:
        import numpy
        from threadpoolctl import threadpool_info

        libs = [f"{i['internal_api']} {i.get('version')} kernel {i.get('architecture')}" for i in threadpool_info()
                if i.get("user_api") == "blas"]
        blas = ", ".join(libs) or blas
        versions = f"numpy {numpy.__version__}"
    except ImportError:
        versions = "numpy missing"
    # The Colab and newest checks run their kernels in another environment, which describes itself.
    kernel = os.environ.get("LAFML_KERNEL_DESCRIPTION", f"Python {platform.python_version()}, {versions}")
    simd = os.environ.get("NPY_DISABLE_CPU_FEATURES")
    return (f"{name + ': ' if name else ''}kernel {kernel}; {blas} (as this runner's numpy loads it), "
            f"{os.environ.get('OPENBLAS_NUM_THREADS')} BLAS thread(s)"
            f"{', numpy SIMD without ' + simd if simd else ''}; {platform.machine()} {platform.system()}")


def pytest_report_header(config):
    return f"chapters run in: {describe_environment()}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        report.sections.append(("environment", describe_environment()))

"""pytest plugin (loaded with -p in pytest.ini): nbval's run of each chapter is the book's run too.

1. Every chapter's kernel starts in its own empty temporary folder, as in Colab and as `make book`
   runs it (tools/execute.py --cache), so a chapter that reads a file it does not ship fails here.
2. With `--record-cache DIR` (what `make test` passes), each chapter that nbval ran to the end without
   an exception is stored, with the outputs it produced now, in the Jupyter Book execution cache DIR.
   The site build that follows renders from that cache, so `make test` executes every chapter once,
   not twice; Jupyter Book itself executes (and reports) any chapter missing from the cache.
   Output mismatches are nbval's to report; the recorded notebook holds the fresh outputs either way.
"""
import os
import tempfile
import time

import nbformat
import nbval.plugin


def glue_module_source():
    """myst-nb's own glue(), as a module the kernel can import: see EmptyFolderKernel."""
    import inspect

    from myst_nb.ext import glue

    return ("import IPython\nfrom typing import Any\nfrom IPython.display import display as ipy_display\n"
            f"GLUE_PREFIX = {glue.GLUE_PREFIX!r}\n" + inspect.getsource(glue.glue))


class EmptyFolderKernel(nbval.plugin.RunningKernel):
    """A kernel started in an empty folder. With LAFML_GLUE_IN_KERNEL=1 (the Colab and newest-release
    checks, whose kernels have no myst-nb, as in Colab) it is first given myst-nb's glue() as `myst_nb`,
    so that the glued numbers are stored and compared there too, not only the printed ones."""

    def __init__(self, *args, cwd=None, **kwargs):
        self.folder = tempfile.TemporaryDirectory(prefix="nbval-")
        super().__init__(*args, cwd=self.folder.name, **kwargs)
        if os.environ.get("LAFML_GLUE_IN_KERNEL") == "1":
            code = (f"import sys as _sys, types as _types\n_m = _types.ModuleType('myst_nb')\n"
                    f"exec({glue_module_source()!r}, _m.__dict__)\n_sys.modules['myst_nb'] = _m\n"
                    "del _sys, _types, _m")
            msg_id = self.kc.execute(code, silent=True, store_history=False)
            self.await_reply(msg_id, timeout=60)
            self.await_idle(msg_id, timeout=60)

    def stop(self):
        super().stop()
        self.folder.cleanup()


nbval.plugin.RunningKernel = EmptyFolderKernel  # nbval 0.11 starts its kernels through this name


def pytest_addoption(parser):
    parser.addoption("--record-cache", metavar="DIR", default=None,
                     help="store each chapter nbval executed in this jupyter-cache (for the site build)")


def pytest_configure(config):
    cache_dir = config.getoption("record_cache")
    if cache_dir:
        from jupyter_cache import get_cache
        get_cache(cache_dir)  # create it before the xdist workers share it
        config.pluginmanager.register(Recorder(cache_dir), "nbval-recorder")


class Recorder:
    def __init__(self, cache_dir):
        self.cache_dir = cache_dir
        self.seconds = {}

    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            path = report.nodeid.split("::")[0]
            self.seconds[path] = self.seconds.get(path, 0.0) + report.duration

    def pytest_runtest_teardown(self, item, nextitem):
        if not isinstance(item, nbval.plugin.IPyNbCell):
            return
        if nextitem is not None and nextitem.parent is item.parent:
            return  # not the notebook's last cell yet
        self.record(item.parent, [i for i in item.session.items if i.parent is item.parent])

    def record(self, notebook_item, cells):
        from jupyter_cache import get_cache
        from jupyter_cache.base import CacheBundleIn

        outputs = [cell.test_outputs for cell in cells]
        if any(out is None or any(o.get("output_type") == "error" for o in out) for out in outputs):
            return  # a cell raised or did not run: nothing trustworthy to render
        nb = nbformat.read(str(notebook_item.path), as_version=4)
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        assert len(code) == len(cells), f"{notebook_item.path.name}: nbval saw {len(cells)} code cells"
        for count, (cell, fresh) in enumerate(zip(code, outputs), start=1):
            cell.outputs = [nbformat.from_dict(out) for out in fresh]
            cell.execution_count = count
            for out in cell.outputs:
                if out.get("output_type") == "execute_result":
                    out["execution_count"] = count
        seconds = self.seconds.get(notebook_item.nodeid, 0.0)
        get_cache(self.cache_dir).cache_notebook_bundle(
            CacheBundleIn(nb, str(notebook_item.path), data={"execution_seconds": seconds,
                                                             "executed_by": "nbval", "recorded": time.time()}),
            check_validity=False, overwrite=True)

"""Execute the chapter notebooks in parallel across the cores, deterministically.

    python tools/execute.py [NOTEBOOK ...]             # `make outputs`: store outputs in the notebooks
    python tools/execute.py --cache DIR [NOTEBOOK ...] # `make book`: fill Jupyter Book's execution cache

Without NOTEBOOK arguments: every chapter listed in _toc.yml.

By default it runs each notebook in its own folder and writes it back without timing metadata, so running
it twice changes no byte; figures go to figures/<chapter>/ (stale ones are removed first).
--cache runs each notebook alone in an empty temporary folder (as a learner's Colab would), with its
figures sent to $LAFML_FIGURE_DIR (default: the repository's figures/), and stores the executed notebook
in the jupyter-cache that `jupyter-book build` (execute_notebooks: cache) then renders from.

A failing cell stops with the chapter, the cell number and the traceback.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from determinism import DETERMINISTIC_ENV  # noqa: E402  (one definition, shared with the tests)

os.environ.update(DETERMINISTIC_ENV)

import nbformat  # noqa: E402
import yaml  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellExecutionError  # noqa: E402


def toc_chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def failed_cell(nb):
    for index, cell in enumerate(nb.cells):
        if any(out.get("output_type") == "error" for out in cell.get("outputs", [])):
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            return f"cell {index} ({first[:60]!r})"
    return "a cell"


def run(path, cwd, timeout=600):
    """Execute one notebook top to bottom in cwd. Return (notebook, seconds, error message or None)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(cwd)}})
    start = time.perf_counter()
    try:
        # The kernel's own log (ipykernel warns about TCP on every start) is noise; a cell's errors and
        # a dying kernel still reach us through the client.
        client.execute(stderr=subprocess.DEVNULL)
    except CellExecutionError as error:
        return nb, time.perf_counter() - start, f"{path.name}: {failed_cell(nb)} raised:\n{error}"
    return nb, time.perf_counter() - start, None


def merge_streams(cell):
    """One stdout block per print-run: how a busy kernel splits a stream must not change the file."""
    merged = []
    for out in cell.get("outputs", []):
        if merged and out.get("output_type") == "stream" and merged[-1].get("output_type") == "stream" \
                and merged[-1]["name"] == out["name"]:
            merged[-1]["text"] += out["text"]
        else:
            merged.append(out)
    cell["outputs"] = merged


def store_in_place(path):
    if "LAFML_FIGURE_DIR" not in os.environ:  # a figure the chapter no longer makes must not linger
        shutil.rmtree(ROOT / "figures" / path.stem, ignore_errors=True)
    nb, seconds, error = run(path, path.parent)
    if error:
        return path.name, seconds, error
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            merge_streams(cell)
    text = nbformat.writes(nb) + "\n"
    if path.read_text() != text:
        path.write_text(text)
    return path.name, seconds, None


def store_in_cache(path, cache_dir):
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    figures = Path(os.environ.setdefault("LAFML_FIGURE_DIR", str(ROOT / "figures")))
    shutil.rmtree(figures / path.stem, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=f"{path.stem}-") as empty:
        nb, seconds, error = run(path, Path(empty))
    if error:
        return path.name, seconds, error
    cache = get_cache(str(cache_dir))
    cache.cache_notebook_bundle(CacheBundleIn(nb, str(path), data={"execution_seconds": seconds}),
                                check_validity=False, overwrite=True)
    return path.name, seconds, None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, metavar="DIR", help="fill this execution cache instead")
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or toc_chapters()
    if args.cache:
        from jupyter_cache import get_cache
        get_cache(str(args.cache.resolve()))  # create it once, before the workers share it
    # Longest notebooks first keeps both cores busy to the end.
    notebooks.sort(key=lambda p: -p.stat().st_size)
    task = store_in_cache if args.cache else store_in_place
    extra = [[args.cache.resolve()] * len(notebooks)] if args.cache else []
    with ProcessPoolExecutor(max_workers=max(1, min(args.jobs, len(notebooks)))) as pool:
        results = list(pool.map(task, notebooks, *extra))
    failures = [error for _, _, error in results if error]
    for name, seconds, error in sorted(results):
        print(f"  {name:<36} {seconds:6.1f} s  {'FAILED' if error else 'ok'}")
    for error in failures:
        print(f"\nFAILED {error}", file=sys.stderr)
    print(f"executed {len(notebooks)} notebook(s), {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Execute the chapter notebooks in parallel across the cores, deterministically.

    python tools/execute.py [NOTEBOOK ...]             # `make outputs`: store outputs in the notebooks
    python tools/execute.py --cache DIR [NOTEBOOK ...] # `make book`: fill Jupyter Book's execution cache

Without NOTEBOOK arguments: every chapter listed in _toc.yml.

By default it runs each notebook in its own folder and writes it back without timing metadata, so running
it twice changes no byte, on any CPU: measured cells (timings, rounding errors) are stored without
outputs, and a figure is rewritten in figures/<chapter>/ only when it differs from the committed one by
more than the figure test's tolerance (see publish_figures).
--cache runs each notebook alone in an empty temporary folder (as a learner's Colab would) and stores the
executed notebook in the jupyter-cache that `jupyter-book build` (execute_notebooks: cache) then renders
from; figures are published the same way, or written as drawn to $LAFML_FIGURE_DIR when that is set.

A failing cell stops with the chapter, the cell number and the traceback.
"""
import argparse
import base64
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
from book import FIGURE_TOLERANCE, is_measured, measured_figures  # noqa: E402
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


def same_picture(old, new):
    """True when two PNGs (bytes) are the same picture for the figure test: within FIGURE_TOLERANCE."""
    if old == new:
        return True
    from matplotlib.testing.compare import compare_images
    from matplotlib.testing.exceptions import ImageComparisonFailure

    with tempfile.TemporaryDirectory(prefix="compare-") as folder:
        a, b = Path(folder) / "old.png", Path(folder) / "new.png"
        a.write_bytes(old)
        b.write_bytes(new)
        try:
            return compare_images(str(a), str(b), tol=FIGURE_TOLERANCE) is None
        except ImageComparisonFailure:  # another size: certainly another picture
            return False


def publish_figures(stem, drawn, nb):
    """Move the figures a run drew into figures/<stem>/, rewriting only those that really changed.

    A figure within FIGURE_TOLERANCE of the committed one (what the figure test accepts) keeps its
    committed bytes: on another CPU the anti-aliasing of an edge may move by a grey level, and that is not
    a change to review. Figures of measured cells are not baselines and are not kept; a figure the
    chapter no longer draws is removed.
    """
    target = ROOT / "figures" / stem
    target.mkdir(parents=True, exist_ok=True)
    skip = {f"{name}.png" for name in measured_figures(nb)}
    fresh = {p.name: p for p in (drawn / stem).glob("*.png") if p.name not in skip}
    for old in target.glob("*.png"):
        if old.name not in fresh:
            old.unlink()
    for name, new in fresh.items():
        old = target / name
        if not (old.exists() and same_picture(old.read_bytes(), new.read_bytes())):
            shutil.copyfile(new, old)


def keep_unchanged_images(nb, stored):
    """Give each image output the bytes stored before if it is the same picture (see publish_figures)."""
    if len(nb.cells) != len(stored.cells):
        return
    for cell, before in zip(nb.cells, stored.cells):
        if cell.cell_type != "code" or cell.source != before.source or len(cell.outputs) != len(before.get("outputs", [])):
            continue
        for out, old in zip(cell.outputs, before.outputs):
            new_png, old_png = out.get("data", {}).get("image/png"), old.get("data", {}).get("image/png")
            if new_png and old_png and new_png != old_png and \
                    same_picture(base64.b64decode(old_png), base64.b64decode(new_png)):
                out["data"]["image/png"] = old_png


def run_with_figures(path, cwd):
    """Run a chapter. Its figures go to $LAFML_FIGURE_DIR as drawn when that is set (the tests compare
    them), else they are published into the repository's figures/ (publish_figures)."""
    if "LAFML_FIGURE_DIR" in os.environ:
        return run(path, cwd)
    with tempfile.TemporaryDirectory(prefix=f"{path.stem}-figures-") as drawn:
        os.environ["LAFML_FIGURE_DIR"] = drawn
        try:
            nb, seconds, error = run(path, cwd)
        finally:
            del os.environ["LAFML_FIGURE_DIR"]
        if not error:
            publish_figures(path.stem, Path(drawn), nb)
    return nb, seconds, error


def store_in_place(path):
    nb, seconds, error = run_with_figures(path, path.parent)
    if error:
        return path.name, seconds, error
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            merge_streams(cell)
            if is_measured(cell):
                cell.outputs = []  # what this machine measured is not part of the stored book
    keep_unchanged_images(nb, nbformat.read(path, as_version=4))
    text = nbformat.writes(nb) + "\n"
    if path.read_text() != text:
        path.write_text(text)
    return path.name, seconds, None


def store_in_cache(path, cache_dir):
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    with tempfile.TemporaryDirectory(prefix=f"{path.stem}-") as empty:
        nb, seconds, error = run_with_figures(path, Path(empty))
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

"""What the tests know about the book: where things are, and how to read the table of contents."""
import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
FIGURES = ROOT / "figures"
SETUP_CELL = (ROOT / "tools" / "setup_cell.py").read_text().strip()
# Chapters are NN_name (01-12), appendices L_name (A, B, ...): "Fig. 7.2", "Theorem B.1".
CHAPTER_NAME = re.compile(r"^(\d\d|[A-Z])_[a-z0-9_]+$")


def chapter_number(stem):
    """The number the book prints for a chapter file: "7" for 07_eigenvalues_2, "A" for an appendix."""
    match = CHAPTER_NAME.match(stem)
    if not match:
        raise ValueError(f"{stem}: not a chapter file name (NN_name for a chapter, L_name for an appendix)")
    number = match.group(1)
    return str(int(number)) if number.isdigit() else number


def toc_files():
    """Every `file:` listed in _toc.yml, in reading order (without suffix)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    found = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return found


def chapter_paths():
    return sorted(CHAPTERS.glob("*.ipynb"))


def load(path):
    return json.loads(Path(path).read_text())


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def code_cells(nb):
    return [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


def saved_figure_names(nb):
    """The names passed to save_figure(fig, "name") in a chapter, in order."""
    return [m for _, c in code_cells(nb) for m in re.findall(r"save_figure\([^,]+,\s*[\"']([\w-]+)[\"']", source(c))]


# A *measured* cell (tagged nbval-ignore-output) shows what this machine measured: a timing, or a
# rounding error whose digits depend on the CPU's BLAS kernel. It still runs everywhere and asserts its
# claims, but its outputs are neither compared nor stored (tools/execute.py stores it empty), and its
# figures are not committed as baselines: the site shows what the build machine measured.
MEASURED = "nbval-ignore-output"


def is_measured(cell):
    return MEASURED in cell.get("metadata", {}).get("tags", [])


def measured_figures(nb):
    """Names of the figures that measured cells save."""
    return {name for _, cell in code_cells(nb) if is_measured(cell) for name in saved_figure_names({"cells": [cell]})}


# Figure comparison (matplotlib.testing.compare): RMS difference in 0-255 grey levels. Measured
# 2026-12-01 (README, "The same book on every machine"): other CPUs' BLAS kernels and numpy SIMD levels
# move anti-aliased edges by at most RMS 0.14 (chapter 7's spirals); real changes cost 2.2 (an arrow 5 %
# longer) to 6.4 (a curve moved by one pixel) in `python tools/figure_tolerance.py` (an added point in a
# 10 x 4 in figure: 2.4). 0.5 sits between, a factor of 3.5 above the one and 4 below the other.
FIGURE_TOLERANCE = 0.5

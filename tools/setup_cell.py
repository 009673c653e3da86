# Setup: this cell is identical in every chapter (tests/test_structure.py checks it).
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

SEED = 2024
rng = np.random.default_rng(SEED)
np.set_printoptions(precision=4, suppress=True)

# One figure style for the whole book: colour-blind-safe palette, readable fonts, and an opaque
# white background so that figures stay legible when the site is switched to dark mode.
sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
plt.rcParams.update({
    "figure.figsize": (6.4, 4.0), "figure.dpi": 100, "savefig.dpi": 100,
    "figure.facecolor": "white", "savefig.facecolor": "white",
    "axes.titlesize": 12, "axes.labelsize": 11, "legend.fontsize": 10,
    "svg.hashsalt": "lafml", "image.cmap": "viridis",
})

try:  # myst-nb's glue puts computed numbers into the prose; outside the book, just show them
    from myst_nb import glue
except ImportError:
    def glue(name, value, display=True):
        if display:
            print(f"{name} = {value}")


def save_figure(fig, name):
    """Write fig to figures/<CHAPTER>/<name>.png (a local figures/ folder when run alone)."""
    root = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "_toc.yml").exists()), Path.cwd())
    folder = Path(os.environ.get("LAFML_FIGURE_DIR", root / "figures")) / CHAPTER
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / f"{name}.png", bbox_inches="tight", metadata={"Software": None})

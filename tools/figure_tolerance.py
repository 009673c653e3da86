"""What a real change to a figure costs in the figure test's measure (RMS of grey levels, 0-255).

    python tools/figure_tolerance.py

Draws a typical figure of the book (the setup cell's style and size: three curves with markers, a
legend, a quiver arrow) and small real changes to it: a curve moved by one or two pixels, a curve
in another colour of the palette, one added point, one arrow longer by 5 %. Each is compared with
the original as tests/test_site.py compares figures. The tolerance (FIGURE_TOLERANCE in tests/book.py)
must sit below the smallest of these and above what other CPUs and library versions change
(`make portability` prints the largest figure difference of each environment).
"""
import io
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from book import FIGURE_TOLERANCE  # noqa: E402


def style():
    setup = (ROOT / "tools" / "setup_cell.py").read_text()
    start, end = setup.index("sns.set_theme"), setup.index("try:")
    exec(setup[start:end], {"sns": sns, "plt": plt})


def draw(shift_px=0.0, recolour=False, extra_point=False, longer_arrow=False, wide=False):
    fig, ax = plt.subplots(figsize=(10, 4) if wide else None)  # 10 x 4 in: the widest figures of the book
    x = np.linspace(0, 10, 40)
    colours = sns.color_palette("colorblind")
    # one pixel of this axes in data units of y (the axes is about 400 px high for a range of 3)
    dy = shift_px * 3.0 / 400
    ax.plot(x, np.sin(x) + dy, "o-", ms=4, color=colours[0], label="sin")
    ax.plot(x, np.cos(x), "s-", ms=4, color=colours[3] if recolour else colours[1], label="cos")
    ax.plot(x, 0.5 * np.sin(2 * x), "^-", ms=4, color=colours[2], label="sin 2x")
    if extra_point:
        ax.plot([4.2], [0.9], "o", ms=6, color=colours[0])
    ax.quiver(1, -1.2, 2 * (1.05 if longer_arrow else 1), 0.4, angles="xy", scale_units="xy", scale=1,
              color=colours[4])
    ax.set(xlim=(0, 10), ylim=(-1.5, 1.5), xlabel="$x$", ylabel="$y$", title="A typical figure")
    ax.legend(loc="upper right")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def rms(a, b, folder):
    (folder / "a.png").write_bytes(a)
    (folder / "b.png").write_bytes(b)
    diff = compare_images(str(folder / "a.png"), str(folder / "b.png"), tol=0, in_decorator=True)
    return diff["rms"] if diff else 0.0


def main():
    import tempfile

    style()
    changes = {"one curve moved by 1 px": dict(shift_px=1), "one curve moved by 2 px": dict(shift_px=2),
               "one curve in another palette colour": dict(recolour=True), "one added point": dict(extra_point=True),
               "one arrow 5 % longer": dict(longer_arrow=True)}
    base, wide = draw(), draw(wide=True)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        print(f"redrawn unchanged: RMS {rms(base, draw(), folder):.3f}")
        results = {name: rms(base, draw(**kw), folder) for name, kw in changes.items()}
        results["one added point, 10 x 4 in figure"] = rms(wide, draw(extra_point=True, wide=True), folder)
    for name, value in results.items():
        print(f"{name:<40} RMS {value:.3f}")
    smallest = min(results.values())
    print(f"smallest real change: RMS {smallest:.3f}; FIGURE_TOLERANCE = {FIGURE_TOLERANCE}")
    return 0 if smallest > FIGURE_TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())

"""Figures served as lossless WebP of a 256-colour palette; the committed figures/ stay PNG."""
import re
from pathlib import Path

FIGURE_REF = re.compile(r"\b(_images/[\w.-]+?)\.png\b")


def compress_figures(app, exception):
    """Serve the figures as lossless WebP of a 256-colour palette (deterministic, no dithering).

    The palette keeps plots sharp at a third of the PNG's bytes; WebP's lossless coding takes another
    fifth to a third off. The committed figures/ stay PNG; only the site's copies change.
    """
    if exception is not None or app.builder.format != "html":
        return
    from PIL import Image
    outdir = Path(app.outdir)
    for path in sorted((outdir / "_images").glob("*.png")):
        with Image.open(path) as image:
            palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                     dither=Image.Dither.NONE)
        palette.save(path.with_suffix(".webp"), lossless=True, quality=100, method=4)  # 6: 3% smaller, 35x slower
        path.unlink()
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        webp = FIGURE_REF.sub(lambda m: m.group(1) + (".webp" if (outdir / f"{m.group(1)}.webp").exists()
                                                      else ".png"), text)
        if webp != text:
            page.write_text(webp, encoding="utf-8")

"""Binder, Colab and "Download .ipynb" open the learner notebook (tools/learner.py), not the MyST source."""
import re
from pathlib import Path

import learner  # tools/learner.py


LAUNCH_LINK = re.compile(r'(href="https://(?:mybinder\.org|colab\.research\.google\.com)/[^"]*?)chapters/([\w-]+)\.ipynb"')


def serve_learner_notebooks(app, exception):
    """Binder, Colab and the download open the learner notebook (tools/learner.py), not the MyST source:
    launch links point at the committed notebooks/ copy, and the download serves the same text."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for stem, text in learner.learner_notebooks().items():
        (outdir / "_sources" / "chapters" / f"{stem}.ipynb").write_text(text, encoding="utf-8")
    for page in (outdir / "chapters").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        pointed = LAUNCH_LINK.sub(r'\1notebooks/\2.ipynb"', text)
        if pointed != text:
            page.write_text(pointed, encoding="utf-8")

"""Sphinx extension with the book's site fixes (listed in _config.yml under sphinx.local_extensions).

- MathJax is served from the built site (copied from the pinned `django-static-mathjax` package), so
  math renders offline and no reader's browser talks to a CDN.
- Scripts with an inline body that extensions add while the build runs (sphinx-thebe's configuration,
  sphinx-togglebutton's selector) reach each page twice: once from the registry (filename "") and
  once from the builder (filename None), which Sphinx does not see as equal; the second `const THEBE_JS_URL` is a SyntaxError on every page. Keep one copy.
- Every page gets a meta description: its own first paragraph, or the book's description.
- Page weight (every chapter page is measured by tests/test_site.py):
  MathJax is loaded as the TeX input and HTML output components only (half the size of the
  tex-chtml bundle, which adds the context menu); pydata-sphinx-theme's fontawesome.js (540 kB
  gzipped, all icons as SVG in JavaScript) is dropped because its CSS already draws the same icons
  from the webfonts; and figures are stored as 256-colour palette PNGs, which keeps plots sharp at a
  third of the bytes.
"""
import html
import re
import shutil
from pathlib import Path

import mathjax  # the django-static-mathjax package

MATHJAX_SOURCE = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
MATHJAX_TARGET = "mathjax"  # under _static/
MATHJAX_COMPONENTS = ["input/tex", "output/chtml", "a11y/assistive-mml"]  # assistive MathML: screen readers
DROPPED_SCRIPTS = ("fontawesome.js",)
# What the tex-chtml component never loads: other outputs, the speech engine, the "full" bundles.
MATHJAX_SKIP = shutil.ignore_patterns("sre", "*svg*", "mml-*", "tex-mml-*", "*-full*", "node-main.js",
                                      "latest.js", "svg")
DESCRIPTION_LENGTH = 160


def use_local_mathjax(app, config):
    config.mathjax_path = f"{MATHJAX_TARGET}/startup.js"
    config.mathjax3_config = {**(config.mathjax3_config or {}), "loader": {"load": MATHJAX_COMPONENTS}}


def copy_mathjax(app, exception):
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / MATHJAX_TARGET
        shutil.copytree(MATHJAX_SOURCE, target, ignore=MATHJAX_SKIP, dirs_exist_ok=True)


def compress_figures(app, exception):
    """Re-encode the site's PNG figures as 256-colour palettes (deterministic, no dithering)."""
    if exception is not None or app.builder.format != "html":
        return
    from PIL import Image
    for path in sorted((Path(app.outdir) / "_images").glob("*.png")):
        with Image.open(path) as image:
            if image.mode == "P":
                continue
            palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                     dither=Image.Dither.NONE)
        original = path.stat().st_size
        smaller = path.with_suffix(".tmp.png")
        palette.save(smaller, optimize=True)
        if smaller.stat().st_size < original:
            smaller.replace(path)
        else:
            smaller.unlink()


def page_description(app, doctree):
    """The page's first paragraph of prose, shortened to a search-result snippet."""
    if doctree is not None:
        from docutils import nodes
        for paragraph in doctree.findall(nodes.paragraph):
            text = re.sub(r"\s+", " ", paragraph.astext()).strip()
            if len(text.split()) >= 8:
                if len(text) > DESCRIPTION_LENGTH:
                    text = text[:DESCRIPTION_LENGTH].rsplit(" ", 1)[0] + "…"
                return text
    return app.config.lafml_description


def tidy_page(app, pagename, templatename, context, doctree):
    scripts, seen = [], set()
    for script in context.get("script_files", []):
        if str(getattr(script, "filename", "") or "").endswith(DROPPED_SCRIPTS):
            continue
        # Sphinx stores an inline script's filename as "" from the registry but None from the builder.
        key = (str(getattr(script, "filename", script) or ""), repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            scripts.append(script)
    context["script_files"] = scripts
    description = html.escape(page_description(app, doctree), quote=True)
    context["metatags"] = context.get("metatags", "") + f'\n    <meta name="description" content="{description}" />'


def setup(app):
    app.add_config_value("lafml_description", "", "html")
    app.connect("config-inited", use_local_mathjax)
    app.connect("html-page-context", tidy_page, priority=900)
    app.connect("build-finished", copy_mathjax)
    app.connect("build-finished", compress_figures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

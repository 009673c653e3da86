"""Sphinx extension with the book's site fixes (listed in _config.yml under sphinx.local_extensions).

- MathJax is served from the built site (copied from the pinned `django-static-mathjax` package), so
  math renders offline and no reader's browser talks to a CDN.
- Scripts with an inline body that extensions add while the build runs (sphinx-thebe's configuration,
  sphinx-togglebutton's selector) reach each page twice: once from the registry (filename "") and
  once from the builder (filename None), which Sphinx does not see as equal; the second `const THEBE_JS_URL` is a SyntaxError on every page. Keep one copy.
- The bibliography is a `role="list"` whose entries have `role="doc-biblioentry"`, which ARIA does not
  allow as list children (axe: aria-required-children, critical); the list role is dropped.
- Every page gets a meta description: its own first paragraph, or the book's description.
- Page weight (every chapter page is measured by tests/test_site.py):
  MathJax is loaded as the TeX input and HTML output components only (half the size of the
  tex-chtml bundle, which adds the context menu); pydata-sphinx-theme's fontawesome.js (540 kB
  gzipped, every icon as SVG in JavaScript, hard-coded in its layout template) is removed from the
  pages because the theme's CSS already draws the same icons from the webfonts, and those webfonts
  (270 kB) are cut down to the few dozen icons the site uses; figures are stored as 256-colour palette
  PNGs, which keeps plots sharp at a third of the bytes.
"""
import html
import re
import shutil
from pathlib import Path

import mathjax  # the django-static-mathjax package

MATHJAX_SOURCE = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
MATHJAX_TARGET = "mathjax"  # under _static/
MATHJAX_COMPONENTS = ["input/tex", "output/chtml", "a11y/assistive-mml"]  # assistive MathML: screen readers
FONTAWESOME_SCRIPT = re.compile(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>')
ICON_NAME = re.compile(r"\bfa-[a-z0-9-]+")
ICON_RULE = re.compile(r'([^{}]+)\{content:"\\([0-9a-f]+)"')
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


def lighten_icons(app, exception):
    """Drop fontawesome.js from every page and subset the icon webfonts to the icons in use."""
    if exception is not None or app.builder.format != "html":
        return
    from fontTools import subset
    from fontTools.ttLib import TTFont

    outdir = Path(app.outdir)
    used = set()
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        used |= set(ICON_NAME.findall(text))
        lighter = FONTAWESOME_SCRIPT.sub("", text)
        if lighter != text:
            page.write_text(lighter, encoding="utf-8")
    for script in (outdir / "_static").rglob("*.js"):
        if script.name != "fontawesome.js" and "mathjax" not in script.parts:
            used |= set(ICON_NAME.findall(script.read_text(encoding="utf-8", errors="ignore")))
    codepoints = set()
    for css in (outdir / "_static" / "styles").glob("*.css"):
        for selectors, code in ICON_RULE.findall(css.read_text(encoding="utf-8")):
            names = {sel.strip().split(":")[0].lstrip(".") for sel in selectors.split(",")}
            if names & used:
                codepoints.add(int(code, 16))
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    for font_path in (outdir / "_static").rglob("fa-*.woff2"):
        font = TTFont(font_path)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=codepoints)
        subsetter.subset(font)
        font.flavor = "woff2"
        font.save(font_path)


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
        # Sphinx stores an inline script's filename as "" from the registry but None from the builder.
        key = (str(getattr(script, "filename", script) or ""), repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            scripts.append(script)
    context["script_files"] = scripts
    if "body" in context:
        context["body"] = context["body"].replace('<div role="list" class="citation-list">', '<div class="citation-list">')
    description = html.escape(page_description(app, doctree), quote=True)
    context["metatags"] = context.get("metatags", "") + f'\n    <meta name="description" content="{description}" />'


# Without MathJax's context menu nothing makes a wide display equation focusable, so keyboard users
# could not scroll it (axe: scrollable-region-focusable); give each overflowing one a tab stop.
FOCUSABLE_WIDE_MATH = """document.addEventListener("DOMContentLoaded", () => {
  const ready = window.MathJax && MathJax.startup && MathJax.startup.promise;
  if (ready) ready.then(() => document.querySelectorAll('mjx-container[display="true"]').forEach(m => {
    if (m.scrollWidth > m.clientWidth) { m.tabIndex = 0; m.setAttribute("role", "math"); }
  }));
});"""


def add_page_scripts(app):
    app.add_js_file(None, body=FOCUSABLE_WIDE_MATH)


def setup(app):
    app.add_config_value("lafml_description", "", "html")
    app.connect("config-inited", use_local_mathjax)
    app.connect("builder-inited", add_page_scripts)
    app.connect("html-page-context", tidy_page, priority=900)
    app.connect("build-finished", copy_mathjax)
    app.connect("build-finished", compress_figures)
    app.connect("build-finished", lighten_icons)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

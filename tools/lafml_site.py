"""Sphinx extension with the book's site fixes (listed in _config.yml under sphinx.local_extensions).

- Math is typeset at build time: MathJax (the pinned npm package mathjax-full, run by
  tools/render_math.js) turns every TeX expression into SVG with hidden MathML for screen readers,
  so pages download no MathJax script and no math font, render offline and talk to no CDN. A TeX error
  fails the build with the page and the expression.
- Scripts with an inline body that extensions add while the build runs (sphinx-thebe's configuration,
  sphinx-togglebutton's selector) reach each page twice: once from the registry (filename "") and
  once from the builder (filename None), which Sphinx does not see as equal; the second `const THEBE_JS_URL` is a SyntaxError on every page. Keep one copy.
- The bibliography is a `role="list"` whose entries have `role="doc-biblioentry"`, which ARIA does not
  allow as list children (axe: aria-required-children, critical) and ARIA 1.3 deprecates (axe:
  aria-deprecated-role); both roles are dropped.
- The left sidebar is labelled as a landmark (axe: region, for the book title above its navigation).
- Figures (and any other numbered element) are numbered within their chapter: Fig. 7.2, Fig. A.1.
- Binder, Colab and "Download .ipynb" open the learner notebook (tools/learner.py), not the MyST source.
- Every page gets a meta description: its own first paragraph, or the book's description.
- Page weight (every chapter page is measured by tests/test_site.py): build-time SVG math saves the
  300 kB of MathJax scripts and woff fonts a page loaded; pydata-sphinx-theme's fontawesome.js (540 kB
  gzipped, every icon as SVG in JavaScript, hard-coded in its layout template) is removed from the
  pages because the theme's CSS already draws the same icons from the webfonts, and those webfonts
  (270 kB) are cut down to the few dozen icons the site uses; figures are served as lossless WebP of
  a 256-colour palette.
"""
import html
import json
import re
from pathlib import Path

from sphinx.errors import ExtensionError

import learner  # tools/learner.py: the notebooks Binder, Colab and the download open
import nodejs  # tools/nodejs.py: the pinned Node.js from PyPI

ROOT = Path(__file__).resolve().parent.parent
RENDER_MATH = ROOT / "tools" / "render_math.js"
MATH_CSS = "lafml-math.css"  # under _static/, written by typeset_math
# What Sphinx writes for $...$ and $$...$$: the TeX, HTML-escaped, inside \(...\) or \[...\]; a
# numbered equation also holds its <span class="eqno">. One display equation per div.
MATH_ELEMENT = re.compile(r'(<(span|div) class="math notranslate nohighlight"[^>]*>)(.*?)(</\2>)', re.S)
INLINE_TEX = re.compile(r"\\\((.*)\\\)", re.S)
DISPLAY_TEX = re.compile(r"\\\[(.*)\\\]", re.S)
BODY_START = re.compile(r"<body[^>]*>")
CHAPTER_DOC = re.compile(r"chapters/(\d\d|[A-Z])_")  # a chapter (07_...) or an appendix (A_...)
SIDEBAR = '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar">'
FIGURE_REF = re.compile(r"\b(_images/[\w.-]+?)\.png\b")
FONTAWESOME_SCRIPT = re.compile(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>')
ICON_NAME = re.compile(r"\bfa-[a-z0-9-]+")
ICON_RULE = re.compile(r'([^{}]+)\{content:"\\([0-9a-f]+)"')
DESCRIPTION_LENGTH = 160


def find_math(page_html):
    """[(start, end, tex, display)] for every Sphinx math element of a page, in order."""
    found = []
    for element in MATH_ELEMENT.finditer(page_html):
        body = element.group(3)
        if "<mjx-container" in body:
            continue  # typeset by an earlier build (an incremental build leaves unchanged pages alone)
        match = (DISPLAY_TEX if element.group(2) == "div" else INLINE_TEX).search(body)
        if match is None:
            raise ExtensionError(f"math element without TeX delimiters: {element.group(0)[:200]}")
        start = element.start(3) + match.start()
        found.append((start, start + len(match.group(0)), html.unescape(match.group(1)).strip(),
                      element.group(2) == "div"))
    return found


def typeset_math(app, exception):
    """Replace the TeX of every page by MathJax's SVG, typeset in one run of tools/render_math.js."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    pages = {}
    for path in sorted(outdir.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        math = find_math(text)
        if math:
            pages[path] = (text, math)
    if not pages and (outdir / "_static" / MATH_CSS).exists():
        return  # an incremental build that rewrote no page with math
    request = {"pages": [{"name": str(path.relative_to(outdir)), "math": [{"tex": tex, "display": display}
                                                                          for _, _, tex, display in math]}
                         for path, (_, math) in pages.items()]}
    try:
        result = nodejs.run([str(RENDER_MATH)], input=json.dumps(request), capture_output=True, text=True, cwd=ROOT)
    except SystemExit as missing:  # Node.js is not installed in this environment
        raise ExtensionError(str(missing)) from None
    if result.returncode != 0:
        hint = " (run `make install` to install mathjax-full into node_modules)" if "Cannot find module" in result.stderr else ""
        raise ExtensionError(f"typesetting the math failed{hint}:\n{result.stderr[-3000:]}")
    answer = json.loads(result.stdout)
    (outdir / "_static" / MATH_CSS).write_text(answer["css"], encoding="utf-8")
    for (path, (text, math)), typeset in zip(pages.items(), answer["pages"]):
        pieces, cursor = [], 0
        for (start, end, _, _), svg in zip(math, typeset["svgs"]):
            pieces += [text[cursor:start], svg]
            cursor = end
        text = "".join(pieces) + text[cursor:]
        body = BODY_START.search(text)
        text = text[:body.end()] + typeset["glyphs"] + text[body.end():]
        path.write_text(text, encoding="utf-8")


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


def label_sidebar(app, exception):
    """Make the left sidebar a landmark, so the book's title above its navigation sits in one too
    (axe: region); the theme's template writes it as a plain <div>."""
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        labelled = text.replace(SIDEBAR, SIDEBAR[:-1] + ' role="complementary" aria-label="Book contents">', 1)
        if labelled != text:
            page.write_text(labelled, encoding="utf-8")


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


def number_by_chapter(assign_figure_numbers):
    """Figures, tables and listings numbered within their chapter ("Fig. 7.2", not "Fig. 61").

    Sphinx numbers them per chapter only under a numbered toctree, which would print "7. 7. ..."
    since the chapter numbers live in the titles; so renumber what it assigned, by the chapter number
    in the file name, keeping the order. Wraps TocTreeCollector.assign_figure_numbers (Sphinx 7.4).
    """
    def assign(collector, env):
        before = env.toc_fignumbers
        assign_figure_numbers(collector, env)
        for docname, by_type in env.toc_fignumbers.items():
            chapter = CHAPTER_DOC.match(docname)
            if chapter:
                for figtype, numbers in by_type.items():
                    ordered = sorted(numbers, key=numbers.get)
                    number = chapter.group(1)
                    number = int(number) if number.isdigit() else number   # Fig. 7.2, Fig. A.1
                    by_type[figtype] = {node_id: (number, k) for k, node_id in enumerate(ordered, 1)}
        return [doc for doc, numbers in env.toc_fignumbers.items() if numbers != before.get(doc)]
    return assign


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
    # The math is typeset at build time (typeset_math): sphinx.ext.mathjax's scripts are not needed.
    context["script_files"] = [s for s in scripts if "mathjax" not in str(getattr(s, "filename", s) or "").lower()
                               and "window.MathJax" not in str(getattr(s, "attributes", {}).get("body", ""))]
    if "body" in context:
        context["body"] = context["body"].replace('<div role="list" class="citation-list">', '<div class="citation-list">') \
            .replace(' role="doc-biblioentry"', "")
    description = html.escape(page_description(app, doctree), quote=True)
    context["metatags"] = context.get("metatags", "") + f'\n    <meta name="description" content="{description}" />'


# A display equation wider than the page scrolls sideways; give each one that overflows a tab stop so
# keyboard users can scroll it too (axe: scrollable-region-focusable).
FOCUSABLE_WIDE_MATH = """document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll('div.math, mjx-container[display="true"]').forEach(m => {
    if (m.scrollWidth > m.clientWidth) { m.tabIndex = 0; m.setAttribute("role", "math"); }
  });
});"""


def add_page_assets(app):
    app.add_js_file(None, body=FOCUSABLE_WIDE_MATH)
    app.add_css_file(MATH_CSS)


def setup(app):
    from sphinx.environment.collectors.toctree import TocTreeCollector
    if not getattr(TocTreeCollector.assign_figure_numbers, "by_chapter", False):
        TocTreeCollector.assign_figure_numbers = number_by_chapter(TocTreeCollector.assign_figure_numbers)
        TocTreeCollector.assign_figure_numbers.by_chapter = True
    app.add_config_value("lafml_description", "", "html")
    app.connect("builder-inited", add_page_assets)
    app.connect("html-page-context", tidy_page, priority=900)
    app.connect("build-finished", typeset_math)
    app.connect("build-finished", compress_figures)
    app.connect("build-finished", lighten_icons)
    app.connect("build-finished", label_sidebar)
    app.connect("build-finished", serve_learner_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Math typeset at build time into MathML: MathJax (the pinned npm package mathjax-full, run by
tools/render_math.js) turns every TeX expression into MathML Core, which Chromium (>= 109), Firefox and
Safari render natively with the book's math font (a subset of DejaVu Math TeX Gyre, math_font.py), and
which screen readers read. Pages download no MathJax script, render offline and without JavaScript, and
talk to no CDN. A TeX error fails the build with the page and the expression.

MathML rather than MathJax's SVG (the first route): the SVG drew every glyph as a path, thousands of
elements a page (7,387 of chapter 7's 13,820) and a third of its HTML, beside a hidden copy of the same
MathML for screen readers; now the one MathML is both."""
import html
import json
import re
from pathlib import Path

from sphinx.errors import ExtensionError

import nodejs  # tools/nodejs.py: the pinned Node.js from PyPI

from . import math_font

ROOT = Path(__file__).resolve().parents[2]
RENDER_MATH = ROOT / "tools" / "render_math.js"
MATH_CSS = "lafml-math.css"  # under _static/, written by typeset_math
# What Sphinx writes for $...$ and $$...$$: the TeX, HTML-escaped, inside \(...\) or \[...\]; a
# numbered equation also holds its <span class="eqno">. One display equation per div.
MATH_ELEMENT = re.compile(r'(<(span|div) class="math notranslate nohighlight"[^>]*>)(.*?)(</\2>)', re.S)
INLINE_TEX = re.compile(r"\\\((.*)\\\)", re.S)
DISPLAY_TEX = re.compile(r"\\\[(.*)\\\]", re.S)
HEAD_END = "</head>"
def find_math(page_html):
    """[(start, end, tex, display)] for every Sphinx math element of a page, in order."""
    found = []
    for element in MATH_ELEMENT.finditer(page_html):
        body = element.group(3)
        if "<math" in body:
            continue  # typeset by an earlier build (an incremental build leaves unchanged pages alone)
        match = (DISPLAY_TEX if element.group(2) == "div" else INLINE_TEX).search(body)
        if match is None:
            raise ExtensionError(f"math element without TeX delimiters: {element.group(0)[:200]}")
        start = element.start(3) + match.start()
        found.append((start, start + len(match.group(0)), html.unescape(match.group(1)).strip(),
                      element.group(2) == "div"))
    return found


DISPLAY_MATH = '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"'


def typeset_math(app, exception):
    """Replace the TeX of every page by its MathML, typeset in one run of tools/render_math.js."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    pages = {}
    for path in sorted(outdir.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        math = find_math(text)
        if math:
            pages[path] = (text, math)
    (outdir / "_static" / MATH_CSS).write_text(math_font.stylesheet(), encoding="utf-8")
    if not pages:
        return  # an incremental build that rewrote no page with math
    request = {"pages": [{"name": str(path.relative_to(outdir)), "math": [{"tex": tex, "display": display}
                                                                          for _, _, tex, display in math]}
                         for path, (_, math) in pages.items()],
               "variants": math_font.variant_tables()}
    try:
        result = nodejs.run([str(RENDER_MATH)], input=json.dumps(request), capture_output=True, text=True, cwd=ROOT)
    except SystemExit as missing:  # Node.js is not installed in this environment
        raise ExtensionError(str(missing)) from None
    if result.returncode != 0:
        hint = " (run `make install` to install mathjax-full into node_modules)" if "Cannot find module" in result.stderr else ""
        raise ExtensionError(f"typesetting the math failed{hint}:\n{result.stderr[-3000:]}")
    answer = json.loads(result.stdout)
    for (path, (text, math)), typeset in zip(pages.items(), answer["pages"]):
        math_font.check_coverage(path.relative_to(outdir), typeset["mathml"])
        pieces, cursor = [], 0
        for (start, end, _, _), mathml in zip(math, typeset["mathml"]):
            # a display equation wider than the column scrolls sideways (math_font.stylesheet), so it takes
            # the keyboard focus: a reader without a mouse can scroll it too (axe: scrollable-region-focusable)
            mathml = mathml.replace(DISPLAY_MATH, DISPLAY_MATH + ' tabindex="0"', 1)
            pieces += [text[cursor:start], mathml]
            cursor = end
        text = "".join(pieces) + text[cursor:]
        # the math font is fetched at once, not when the stylesheet's first <math> is laid out
        head_end = text.find(HEAD_END)
        text = text[:head_end] + math_font.preload_link(path.parent.relative_to(outdir)) + text[head_end:]
        path.write_text(text, encoding="utf-8")


# A display equation wider than the page scrolls sideways; give each one that overflows a tab stop so
# keyboard users can scroll it too (axe: scrollable-region-focusable).
FOCUSABLE_WIDE_MATH = """document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll('div.math > math').forEach(m => {
    if (m.scrollWidth > m.clientWidth) m.tabIndex = 0;
  });
});"""


def add_math_assets(app):
    app.add_js_file(None, body=FOCUSABLE_WIDE_MATH)
    app.add_css_file(MATH_CSS)

"""Math typeset at build time: MathJax (the pinned npm package mathjax-full, run by tools/render_math.js)
turns every TeX expression into SVG with hidden MathML for screen readers, so pages download no MathJax
script and no math font, render offline and without JavaScript, and talk to no CDN. A TeX error fails
the build with the page and the expression."""
import html
import json
import re
from pathlib import Path

from sphinx.errors import ExtensionError

import nodejs  # tools/nodejs.py: the pinned Node.js from PyPI

ROOT = Path(__file__).resolve().parents[2]
RENDER_MATH = ROOT / "tools" / "render_math.js"
MATH_CSS = "lafml-math.css"  # under _static/, written by typeset_math
# What Sphinx writes for $...$ and $$...$$: the TeX, HTML-escaped, inside \(...\) or \[...\]; a
# numbered equation also holds its <span class="eqno">. One display equation per div.
MATH_ELEMENT = re.compile(r'(<(span|div) class="math notranslate nohighlight"[^>]*>)(.*?)(</\2>)', re.S)
INLINE_TEX = re.compile(r"\\\((.*)\\\)", re.S)
DISPLAY_TEX = re.compile(r"\\\[(.*)\\\]", re.S)
BODY_START = re.compile(r"<body[^>]*>")


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


# A display equation wider than the page scrolls sideways; give each one that overflows a tab stop so
# keyboard users can scroll it too (axe: scrollable-region-focusable).
FOCUSABLE_WIDE_MATH = """document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll('div.math, mjx-container[display="true"]').forEach(m => {
    if (m.scrollWidth > m.clientWidth) { m.tabIndex = 0; m.setAttribute("role", "math"); }
  });
});"""


def add_math_assets(app):
    app.add_js_file(None, body=FOCUSABLE_WIDE_MATH)
    app.add_css_file(MATH_CSS)

"""What every page's <head> and landmarks get right: one copy of each inline script, no MathJax script
(the math is typeset at build time), a bibliography ARIA allows, a labelled sidebar, a meta description.

- Scripts with an inline body that extensions add while the build runs (sphinx-thebe's configuration,
  sphinx-togglebutton's selector) reach each page twice: once from the registry (filename "") and once
  from the builder (filename None), which Sphinx does not see as equal; the second `const THEBE_JS_URL`
  is a SyntaxError on every page. Keep one copy.
- The bibliography is a `role="list"` whose entries have `role="doc-biblioentry"`, which ARIA does not
  allow as list children (axe: aria-required-children, critical) and ARIA 1.3 deprecates (axe:
  aria-deprecated-role); both roles are dropped.
- The left sidebar is labelled as a landmark (axe: region, for the book title above its navigation).
- Every page gets a meta description: its own first paragraph, or the book's description.
"""
import html
import re
from pathlib import Path

SIDEBAR = '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar">'
DESCRIPTION_LENGTH = 160


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

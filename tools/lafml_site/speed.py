"""Pages that render fast on a phone: less for the browser to fetch before the first paint, and less to lay out.

- The theme loads Sphinx's search scripts and the whole search index (35 kB gzipped, synchronously, in
  <head>) on every page, for a search-as-you-type box this book does not use (`search_as_you_type` is
  off): they stay on the search page only.
- The remaining synchronous scripts in <head> are deferred (order kept; they all wait for the DOM
  anyway); documentation_options.js, which inline scripts extend at once, is inlined instead.
- The stylesheets of a page are served as one bundle (in the same order, url()s rewritten), one
  request instead of fifteen before the first paint.
- The bundle keeps only the rules some page can use (purge_css.py): the theme's stylesheets style all that
  pydata-sphinx-theme, Bootstrap and Font Awesome can draw, 85 kB gzipped, of which this book uses a third.
- sphinx-design's stylesheet and tab script are left off the pages that use none of its elements (all
  of them, today).
- Code: Pygments wraps every name, bracket and space in a <span> whose colour is the block's own
  colour in both themes; those spans are unwrapped (a third of a chapter's elements, nothing visible).
"""
import hashlib
import posixpath
import re
from pathlib import Path

from . import purge_css

SEARCH_SCRIPT = re.compile(r'\s*<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|searchindex\.js)[^"]*"></script>')
DOC_OPTIONS = re.compile(r'<script src="[^"]*_static/documentation_options\.js[^"]*"></script>')
SYNC_SCRIPT = re.compile(r'<script\b(?![^>]*\b(?:defer|async)\b)([^>]*\bsrc="[^"]+"[^>]*)></script>')
STYLESHEET = re.compile(r'<link (?:rel="stylesheet" type="text/css" href="([^"]+)"|href="([^"]+)" rel="stylesheet") />')
CSS_IMPORT = re.compile(r'@import\s+(?:"([^"]+)"|url\(["\']?([^"\')]+)["\']?\))\s*;')
CSS_URL = re.compile(r'url\((["\']?)(?!data:|https?:|/|#)([^"\')]+)\1\)')
DESIGN_TABS = re.compile(r'\s*<script[^>]*src="[^"]*_static/design-tabs\.js[^"]*"></script>')
CODE_BLOCK = re.compile(r'<div class="highlight"><pre>.*?</pre></div>', re.S)
PYGMENTS_RULE = re.compile(r'html\[data-theme="(\w+)"\] \.highlight(?: \.(\w+))? \{([^}]*)\}')


def plain_token_classes(pygments_css):
    """Pygments classes whose only style, in every theme, is the code block's own colour."""
    base, rules = {}, {}
    for theme, cls, body in PYGMENTS_RULE.findall(pygments_css):
        props = dict(p.split(":", 1) for p in (d.strip() for d in body.split(";")) if ":" in p)
        props = {k.strip(): v.strip().lower() for k, v in props.items()}
        if not cls:
            base[theme] = props.get("color")
        else:
            rules.setdefault(cls, {})[theme] = props
    return {cls for cls, by_theme in rules.items()
            if set(by_theme) == set(base) and all(set(p) == {"color"} and p["color"] == base[t] for t, p in by_theme.items())}


def unwrap_plain_tokens(page_html, plain):
    if not plain:
        return page_html
    span = re.compile(r'<span class="(?:%s)">([^<]*)</span>' % "|".join(map(re.escape, sorted(plain))))
    return CODE_BLOCK.sub(lambda block: span.sub(r"\1", block.group(0)), page_html)


def stylesheet_for_bundle(css, outdir):
    """A stylesheet's text for a bundle in _static/: its @imports inlined, its url()s made relative to
    _static/."""
    here = css.parent.relative_to(outdir).as_posix()
    text = CSS_URL.sub(lambda u: f"url({u.group(1)}{posixpath.relpath(posixpath.normpath(posixpath.join(here, u.group(2))), '_static')}{u.group(1)})",
                       css.read_text(encoding="utf-8"))
    text = CSS_IMPORT.sub(lambda i: stylesheet_for_bundle((css.parent / (i.group(1) or i.group(2))).resolve(), outdir), text)
    return f"/* {css.relative_to(outdir).as_posix()} */\n{text}"


def bundle_stylesheets(page, page_html, outdir, bundles, names):
    """Replace the page's stylesheet links by one link to a bundle of them (written once per list)."""
    head_end = page_html.find("</head>")
    links = list(STYLESHEET.finditer(page_html, 0, head_end))
    if len(links) < 2:
        return page_html
    folder = page.parent
    files = [(folder / (m.group(1) or m.group(2)).split("?")[0]).resolve() for m in links]
    if 'class="sd-' not in page_html:   # sphinx-design's styles, on a page that uses none of its elements
        files = [f for f in files if not f.name.startswith("sphinx-design")]
    if not all(f.exists() and outdir in f.parents for f in files):
        return page_html                         # a stylesheet from elsewhere: leave the page alone
    key = tuple(files)
    if key not in bundles:
        body = purge_css.purge("\n".join(stylesheet_for_bundle(css, outdir) for css in files), names)
        name = f"lafml-bundle-{hashlib.sha256(body.encode()).hexdigest()[:12]}.css"
        (outdir / "_static" / name).write_text(body, encoding="utf-8")
        bundles[key] = name
    href = posixpath.relpath(f"_static/{bundles[key]}", folder.relative_to(outdir).as_posix() or ".")
    start, end = links[0].start(), links[-1].end()
    between = STYLESHEET.sub("", page_html[start:end])   # anything else between the links stays
    return page_html[:start] + f'<link rel="stylesheet" href="{href}" />' + between + page_html[end:]


def speed_up_pages(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir).resolve()
    options_file = outdir / "_static" / "documentation_options.js"
    options = options_file.read_text(encoding="utf-8") if options_file.exists() else None
    pygments = outdir / "_static" / "pygments.css"
    plain = plain_token_classes(pygments.read_text(encoding="utf-8")) if pygments.exists() else set()
    as_you_type = app.config.html_theme_options.get("search_as_you_type", False)
    bundles = {}
    names = purge_css.site_names(outdir)   # every class and id a page or a script can use
    for page in sorted(outdir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        head_end = text.find("</head>")
        if head_end < 0:
            continue
        head, rest = text[:head_end], text[head_end:]
        if page.name != "search.html" and not as_you_type:
            head = SEARCH_SCRIPT.sub("", head)
        if options is not None:
            head = DOC_OPTIONS.sub(lambda _: f"<script>{options}</script>", head)
        if page.name != "search.html":          # the search page runs its index loader inline
            head = SYNC_SCRIPT.sub(r'<script defer\1></script>', head)
        if 'class="sd-' not in rest:     # sphinx-design's tab script, on a page without its tabs
            head = DESIGN_TABS.sub("", head)
        new = bundle_stylesheets(page, head + rest, outdir, bundles, names)
        new = unwrap_plain_tokens(new, plain)
        if new != text:
            page.write_text(new, encoding="utf-8")

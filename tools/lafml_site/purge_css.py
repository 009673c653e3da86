"""The stylesheet bundle without the rules no page can use (speed.py calls it on every bundle).

The theme's stylesheets style everything pydata-sphinx-theme, Bootstrap, sphinx-design and Font Awesome
can draw: 505 kB (85 kB gzipped) that every page downloads and the browser matches against every element
before the first paint. A rule is dropped only when every one of its selectors names a class or an id
that appears nowhere on the site: not in any page's class or id attributes, nor anywhere in the text of
any script, nor among the classes made at run time (DYNAMIC_PREFIXES) (the theme's scripts add classes such as `show` at run time, and the search page builds its
results in script). Everything else stays: element and attribute selectors, @font-face, @keyframes,
and the contents of :not(), :is(), :where() and :has() are not judged (a missing class there can still
match). Conservative by construction: a kept rule that no page uses costs bytes, a dropped one that a
page uses would break it, so anything uncertain is kept.
"""
import re
from pathlib import Path

CLASS_ATTR = re.compile(r'\sclass="([^"]*)"')
ID_ATTR = re.compile(r'\sid="([^"]*)"')
WORD = re.compile(r"[A-Za-z_][\w-]*")
FUNCTIONAL = re.compile(r":(?:not|is|where|has|nth-child|nth-last-child|host|host-context)\(")
SELECTOR_NAMES = re.compile(r"([.#])(-?[A-Za-z_][\w-]*)")
# Classes made at run time from parts, so never written whole: Bootstrap's `bs-${name}-auto` (tooltip and
# popover placement), and the classes of Thebe's live code cells (its library and JupyterLab's
# CodeMirror load from a CDN only when a reader starts live code).
DYNAMIC_PREFIXES = ("bs-", "thebe", "jp-", "lm-", "cm-", "CodeMirror")
GROUPING_AT_RULES = ("@media", "@supports", "@layer", "@container", "@document")


def site_names(outdir):
    """Every class and id a page of the built site or one of its scripts can put on an element."""
    names = set()
    for page in Path(outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for value in CLASS_ATTR.findall(text) + ID_ATTR.findall(text):
            names.update(value.split())
        for script in re.findall(r"<script\b[^>]*>(.*?)</script>", text, re.S):  # inline scripts
            names.update(WORD.findall(script))
    for script in Path(outdir).rglob("*.js"):
        names.update(WORD.findall(script.read_text(encoding="utf-8", errors="replace")))
    return names


def blocks(css):
    """Split a stylesheet into top-level pieces: (prelude, body) for a block, (text, None) for a
    statement such as @import or @charset; comments dropped. Strings and nesting are respected."""
    pieces, i, start, n = [], 0, 0, len(css)
    prelude_start = 0
    while i < n:
        c = css[i]
        if css.startswith("/*", i):
            end = css.find("*/", i + 2)
            end = n if end < 0 else end + 2
            css = css[:i] + " " * (end - i) + css[end:]  # blank it, keep the offsets
            i = end
            continue
        if c in "\"'":
            end = i + 1
            while end < n and css[end] != c:
                end += 2 if css[end] == "\\" else 1
            i = end + 1
            continue
        if c == ";":
            pieces.append((css[prelude_start:i + 1].strip(), None))
            i += 1
            prelude_start = i
            continue
        if c == "{":
            depth, j = 1, i + 1
            while j < n and depth:
                if css[j] in "\"'":
                    q, j = css[j], j + 1
                    while j < n and css[j] != q:
                        j += 2 if css[j] == "\\" else 1
                elif css.startswith("/*", j):
                    j = css.find("*/", j + 2) + 1 or n
                elif css[j] == "{":
                    depth += 1
                elif css[j] == "}":
                    depth -= 1
                j += 1
            pieces.append((css[prelude_start:i].strip(), css[i + 1:j - 1]))
            i = j
            prelude_start = i
            continue
        i += 1
    rest = css[prelude_start:].strip()
    if rest:
        pieces.append((rest, None))
    return pieces


def split_selectors(prelude):
    """The selectors of a rule's prelude, split at top-level commas (not inside :is(a, b))."""
    parts, depth, current = [], 0, []
    for c in prelude:
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def judged_part(selector):
    """The selector without what is not judged: attribute selectors' values and functional pseudo-classes."""
    selector = re.sub(r"\[[^\]]*\]", "", selector)
    out, i = [], 0
    while i < len(selector):
        m = FUNCTIONAL.match(selector, i)
        if m:
            depth, j = 1, m.end()
            while j < len(selector) and depth:
                depth += {"(": 1, ")": -1}.get(selector[j], 0)
                j += 1
            i = j
            continue
        out.append(selector[i])
        i += 1
    return "".join(out)


def can_match(selector, names):
    return all(name in names or name.startswith(DYNAMIC_PREFIXES) for _, name in SELECTOR_NAMES.findall(judged_part(selector)))


def purge(css, names):
    """The stylesheet without the rules whose every selector names a class or id the site never uses."""
    out = []
    for prelude, body in blocks(css):
        if body is None:
            out.append(prelude)
        elif prelude.startswith("@"):
            if prelude.lower().startswith(GROUPING_AT_RULES) and "{" in body:
                inner = purge(body, names)
                if inner.strip():
                    out.append(f"{prelude}{{{inner}}}")
            else:
                out.append(f"{prelude}{{{body}}}")   # @font-face, @keyframes, @page ...: kept as they are
        else:
            kept = [s for s in split_selectors(prelude) if can_match(s, names)]
            if kept:
                out.append(f"{','.join(kept)}{{{body}}}")
    return "\n".join(out)

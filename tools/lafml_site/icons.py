"""Icons: pydata-sphinx-theme's fontawesome.js (540 kB gzipped, every icon as SVG in JavaScript,
hard-coded in its layout template) is removed from the pages, because the theme's CSS already draws the
same icons from the webfonts; those webfonts (270 kB) are cut down to the few dozen icons the site uses."""
import re
from pathlib import Path

FONTAWESOME_SCRIPT = re.compile(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>')
ICON_NAME = re.compile(r"\bfa-[a-z0-9-]+")
ICON_RULE = re.compile(r'([^{}]+)\{content:"\\([0-9a-f]+)"')


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

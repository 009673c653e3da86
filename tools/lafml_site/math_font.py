"""The book's math font: a subset of DejaVu Math TeX Gyre (Bitstream Vera licence, _static/fonts/LICENSE-DejaVu.txt),
an OpenType math font whose MATH table gives MathML its stretchy brackets, radicals and script sizes.
A reader's system may have no math font at all; the subset holds only the characters the book's math
uses (with their size variants and assembly parts), about 30 kB, where the whole font is 580 kB.

The subset is committed (_static/fonts/lafml-math.woff2), so a build needs no system font. A page whose
math uses a character the subset lacks fails the build; make the subset again from the built site:

    apt-get install fonts-dejavu-extra      # the source font, /usr/share/fonts/truetype/dejavu/
    .venv/bin/python tools/lafml_site/math_font.py _build/html
"""
import functools
import html
import posixpath
import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FONT = ROOT / "_static" / "fonts" / "lafml-math.woff2"
SOURCE = Path("/usr/share/fonts/truetype/dejavu/DejaVuMathTeXGyre.ttf")
FAMILY = "LAFML Math"
TEXT = re.compile(r">([^<]+)<")
AUTO_ITALIC = re.compile(r"<mi>([^<&]|&#x[0-9A-F]+;)</mi>")  # a one-letter <mi> is drawn italic (x as 𝑥)
MATH = re.compile(r"<math\b.*?</math>", re.S)
# Always in the subset: printable ASCII and the Greek letters (and their italic forms), so that a new equation rarely needs a new font.
BASE = frozenset(chr(c) for c in [*range(0x20, 0x7F), *range(0x391, 0x3AA), *range(0x3B1, 0x3CA)])


# The variants MathJax writes (mathvariant="bold", \mathbb ...) and their names in Unicode's
# Mathematical Alphanumeric Symbols; MathML Core renders only mathvariant="normal", so the letters are
# replaced by those characters (𝐀 for a bold A).
VARIANTS = {"bold": "BOLD", "italic": "ITALIC", "bold-italic": "BOLD ITALIC", "double-struck": "DOUBLE-STRUCK",
            "script": "SCRIPT", "bold-script": "BOLD SCRIPT", "fraktur": "FRAKTUR", "bold-fraktur": "BOLD FRAKTUR",
            "sans-serif": "SANS-SERIF", "bold-sans-serif": "SANS-SERIF BOLD", "sans-serif-italic": "SANS-SERIF ITALIC",
            "monospace": "MONOSPACE"}
# Letters Unicode placed earlier, in Letterlike Symbols (ℝ, ℒ, ℎ): the holes in the block above.
HOLES = {"DOUBLE-STRUCK": "DOUBLE-STRUCK", "SCRIPT": "SCRIPT", "FRAKTUR": "BLACK-LETTER", "ITALIC": "ITALIC"}
BASE_NAME = re.compile(r"(?:LATIN|GREEK) (CAPITAL|SMALL) LETTER (\w+)$|DIGIT (\w+)$")


@functools.cache
def variant_tables():
    """{"bold": {"A": "𝐀", ...}, ...}: for each variant, every Latin and Greek letter and digit with a
    Unicode mathematical form."""
    tables = {}
    letters = [chr(c) for c in [*range(0x30, 0x3A), *range(0x41, 0x5B), *range(0x61, 0x7B), *range(0x391, 0x3CA)]]
    for variant, prefix in VARIANTS.items():
        table = {}
        for char in letters:
            found = BASE_NAME.match(unicodedata.name(char, ""))
            if not found:
                continue
            rest = f"DIGIT {found.group(3)}" if found.group(3) else f"{found.group(1)} {found.group(2)}"
            names = [f"MATHEMATICAL {prefix} {rest}"]
            if prefix in HOLES:
                names.append(f"{HOLES[prefix]} {rest}")
            if rest == "SMALL H" and prefix == "ITALIC":
                names.append("PLANCK CONSTANT")
            for name in names:
                try:
                    table[char] = unicodedata.lookup(name)
                    break
                except KeyError:
                    continue
        tables[variant] = table
    return tables


def stylesheet():
    """The math CSS: the font (swap: text shows at once, the font follows within the first requests, as
    the page preloads it) and MathML's own settings."""
    return f"""/* the book's math font (tools/lafml_site/math_font.py) */
@font-face {{ font-family: "{FAMILY}"; src: url("fonts/{FONT.name}") format("woff2"); font-display: swap; }}
math {{ font-family: "{FAMILY}", math; }}
/* the theme lays div.math out as a row (the equation number, then the equation) and styled MathJax's
   container; the same for <math>: it takes the row's width (display math is centred in it) and a display
   equation wider than the column scrolls sideways, not the page */
div.math > math {{ flex-grow: 1; min-width: 0; overflow-x: auto; overflow-y: hidden; padding-bottom: .2rem; }}
"""


def preload_link(folder):
    href = posixpath.relpath(f"_static/fonts/{FONT.name}", folder.as_posix() or ".")
    return f'<link rel="preload" href="{href}" as="font" type="font/woff2" crossorigin />'


@functools.cache
def font_characters():
    from fontTools.ttLib import TTFont
    if not FONT.exists():
        raise FileNotFoundError(f"the math font {FONT} is missing: make it with `.venv/bin/python tools/lafml_site/math_font.py _build/html`")
    return frozenset(map(chr, TTFont(FONT).getBestCmap()))


# Characters the browser draws from the font that are in no text of the MathML: the radical sign of
# <msqrt> and <mroot> (without it in the subset, sqrt(5) is drawn as a bare 5).
IMPLICIT = {"<msqrt": "\u221A", "<mroot": "\u221A"}


def characters(mathml):
    """The characters a <math> draws: its text, the italic form of each one-letter <mi>, and the radical
    sign of each root."""
    drawn = {c for text in TEXT.findall(mathml) for c in html.unescape(text) if not c.isspace()}
    drawn |= {char for tag, char in IMPLICIT.items() if tag in mathml}
    italic = variant_tables()["italic"]
    return drawn | {italic[c] for c in map(html.unescape, AUTO_ITALIC.findall(mathml)) if c in italic}


def check_coverage(page, mathml_list):
    from sphinx.errors import ExtensionError
    missing = set().union(*map(characters, mathml_list)) - font_characters() if mathml_list else set()
    if missing:
        listed = ", ".join(f"{c} (U+{ord(c):04X})" for c in sorted(missing))
        raise ExtensionError(f"{page}: math uses characters the book's math font lacks: {listed}; make the font again "
                             f"(see tools/lafml_site/math_font.py)")


def make_subset(site):
    """Subset SOURCE to the characters of every <math> under the built site `site`, into FONT."""
    from fontTools import subset
    used = BASE | {variant_tables()["italic"][c] for c in BASE if c in variant_tables()["italic"]}
    for page in Path(site).rglob("*.html"):
        for math in MATH.findall(page.read_text(encoding="utf-8")):
            used |= characters(math)
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]        # ssty (script-size forms) and the rest
    options.name_IDs = ["*"]               # keep the copyright and licence names
    options.notdef_outline = True
    font = subset.load_font(str(SOURCE), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(map(ord, used)))
    subsetter.subset(font)                 # keeps the MATH table's variants and parts of the kept glyphs
    FONT.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(FONT), options)
    print(f"{FONT.relative_to(ROOT)}: {len(used)} characters, {FONT.stat().st_size} bytes")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: math_font.py BUILT_SITE_DIR (e.g. _build/html)")
    if not SOURCE.exists():
        sys.exit(f"{SOURCE} not found: apt-get install fonts-dejavu-extra")
    make_subset(sys.argv[1])

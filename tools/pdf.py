"""The whole book as one PDF (`make pdf`): the built site's pages joined into one print document, which
Chromium prints.

The PDF is made from the HTML that `make book` / `make render` built from the executed notebooks, so it
executes nothing, and every chapter, section, figure, equation, definition and exercise number, every
formula (typeset at build time) and every figure is the site's own, by construction. What changes for
paper (tools/pdf.css): no web chrome, part and chapter openings on new pages, code wrapped at the margin,
hidden plotting code left out (the figures stay), solutions gathered at the end of each chapter, links
between pages turned into links inside the PDF, and a title page and a table of contents with page
numbers, which come from a first printing: Chromium writes each link target's page into the PDF, the
contents are filled in and the book printed again, until the numbers hold (README, Decisions).

    python tools/pdf.py                  # _build/html -> _build/pdf/linear-algebra-for-ml.pdf (and a copy in _build/html)
"""
import argparse
import html
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from chromium import CHROMIUM_ARGS, CHROMIUM_HELP, find_chromium as find  # noqa: E402 (the tests' one rule)
SITE = ROOT / "_build" / "html"
OUT = ROOT / "_build" / "pdf"
PDF_NAME = "linear-algebra-for-ml.pdf"
# Pages of the site that are not the book: the execution report of one build.
SITE_ONLY = {"status"}
# The landing page's title is the book's, which the title page carries; in the PDF it is the preface.
ROOT_TITLE = "About this book"
# The paper (tests/test_pdf.py checks that nothing is printed outside these margins).
PAPER = "A4"
MARGINS_MM = {"top": 18, "right": 17, "bottom": 20, "left": 17}
MATH = re.compile(r'<math\b.*?</math>', re.S)  # MathML Core, as tools/lafml_site/typeset_math.py writes it
MATH_REFERENCE = re.compile(r'\b(href)="#')
MATH_PLACEHOLDER = re.compile(r'<lafml-math n="(\d+)"></lafml-math>')
CONTENTS_MARK = "@@lafml-contents@@"
ID_ATTRIBUTES = ("aria-labelledby", "aria-describedby", "aria-controls", "for")


class PdfError(RuntimeError):
    """The site cannot become the PDF; the message names the page and what is wrong."""


def site_url():
    sys.path.insert(0, str(ROOT / "tools"))
    import learner  # the one place that turns _config.yml's repository into the site's address
    return learner.site_url()


TOC_ROOT = yaml.safe_load((ROOT / "_toc.yml").read_text())["root"]


def book_pages():
    """[(part caption or None, page file)] in reading order, from _toc.yml, without the site-only pages."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [(None, toc["root"])]
    for part in toc["parts"]:
        pages += [(part["caption"], entry["file"]) for entry in part["chapters"] if entry["file"] not in SITE_ONLY]
    return pages


def key_of(file):
    return Path(file).name


class Book:
    """The print document, assembled page by page."""

    def __init__(self, pages):
        self.pages = pages
        self.keys = {file: key_of(file) for _, file in pages}
        if len(set(self.keys.values())) != len(self.keys):
            raise PdfError(f"two pages share a file name, so their anchors would collide: {sorted(self.keys)}")
        self.url = site_url()
        self.stylesheets = []
        self.math = []  # the typeset formulas, kept out of the HTML parser (most of a page's elements)

    # -- one page -------------------------------------------------------------------------------------
    def page(self, file, shift):
        path = SITE / f"{file}.html"
        if not path.exists():
            raise PdfError(f"{file}: {path.relative_to(ROOT)} is missing; build the site first (`make render`)")
        key = self.keys[file]
        soup = BeautifulSoup(self.stash_math(path.read_text(encoding="utf-8"), key), "html.parser")
        if not self.stylesheets:
            self.stylesheets = [urljoin(f"{file}.html", link["href"]) for link in soup.select('link[rel="stylesheet"]')]
        article = soup.select_one("article.bd-article")
        if article is None:
            raise PdfError(f"{file}: no <article class=\"bd-article\"> in {path.relative_to(ROOT)}")
        wrapper = soup.new_tag("div", attrs={"class": "book-page", "id": key})
        for child in list(article.children):
            wrapper.append(child.extract())
        self.drop_chrome(wrapper)
        self.gather_solutions(soup, wrapper, file)
        self.shift_headings(wrapper, shift)
        if file == TOC_ROOT:
            first = wrapper.find(["h1", "h2"])
            first.string = ROOT_TITLE
        self.namespace_ids(wrapper, file)
        self.rewrite_sources(wrapper, file)
        return wrapper

    def stash_math(self, text, key):
        """Each formula becomes a placeholder that document() puts back (parsing a few thousand MathML
        trees per chapter would be most of the work), with the page's prefix on any id or reference in it."""
        def stash(match):
            self.math.append(MATH_REFERENCE.sub(lambda m: f'{m.group(1)}="#{key}--', match.group(0))
                             .replace(' id="', f' id="{key}--'))
            return f'<lafml-math n="{len(self.math) - 1}"></lafml-math>'
        return MATH.sub(stash, text)

    def restore_math(self, text):
        restored = MATH_PLACEHOLDER.sub(lambda m: self.math[int(m.group(1))], text)
        if "<lafml-math" in restored:
            raise PdfError("a formula's placeholder was not restored (tools/pdf.py MATH_PLACEHOLDER)")
        return restored

    @staticmethod
    def drop_chrome(page):
        """What only a screen needs: permalinks, buttons, scripts, and the plotting code the site hides."""
        for element in page.select("a.headerlink, button, script, div.tag_hide-input > details.above-input"):
            element.decompose()
        for element in page.select(".dropdown"):  # shown open on paper
            element["class"] = [c for c in element["class"] if c != "dropdown"]

    @staticmethod
    def gather_solutions(soup, page, file):
        """Solutions move to the end of their chapter, after the exercises, under their own heading."""
        solutions = page.select("div.solution")
        if not solutions:
            return
        section = soup.new_tag("section", attrs={"id": "solutions", "class": "book-solutions"})
        heading = soup.new_tag("h2")
        heading.string = "Solutions"
        section.append(heading)
        for solution in solutions:
            section.append(solution.extract())
        top = page.find("section")
        if top is None:
            raise PdfError(f"{file}: solutions but no top-level section to end with them")
        top.append(section)

    @staticmethod
    def shift_headings(page, shift):
        """Parts are the PDF outline's first level, so a page inside a part starts at h2."""
        if shift == 0:
            return
        for level in range(6, 0, -1):
            for heading in page.find_all(f"h{level}"):
                heading.name = f"h{min(level + shift, 6)}"

    def namespace_ids(self, page, file):
        """Every id gets its page's prefix (pages reuse ids such as "exercises"), and every link follows:
        to a page of the book, a link inside the PDF; to any other page of the site, its web address."""
        key = self.keys[file]
        for element in page.find_all(id=True):
            if element is not page:
                element["id"] = f"{key}--{element['id']}"
        for attr in ID_ATTRIBUTES:
            for element in page.find_all(attrs={attr: True}):
                element[attr] = " ".join(f"{key}--{token}" for token in element[attr].split())
        for element in page.find_all(["a", "use", "area"]):
            for attr in ("href", "xlink:href"):
                if element.has_attr(attr):
                    element[attr] = self.link(element[attr], file)

    def link(self, href, file):
        if href.startswith("#"):
            return f"#{self.keys[file]}--{href[1:]}" if len(href) > 1 else f"#{self.keys[file]}"
        parts = urlsplit(href)
        if parts.scheme or href.startswith("//"):
            return href
        target = urlsplit(urljoin(f"/{file}.html", href))
        path = target.path.lstrip("/")
        stem = path[:-len(".html")] if path.endswith(".html") else None
        if stem in self.keys:
            return f"#{self.keys[stem]}--{target.fragment}" if target.fragment else f"#{self.keys[stem]}"
        if not (SITE / path).exists():
            raise PdfError(f"{file}: a link to {href!r}, which the site does not have")
        return self.url + path + (f"#{target.fragment}" if target.fragment else "")

    @staticmethod
    def rewrite_sources(page, file):
        """Images are read from the built site, wherever the print document is written."""
        for image in page.find_all("img"):
            source = urlsplit(urljoin(f"/{file}.html", image["src"])).path.lstrip("/")
            if not (SITE / source).exists():
                raise PdfError(f"{file}: the image {image['src']} is not in the built site")
            image["src"] = (SITE / source).as_uri()
            image["loading"] = "eager"

    # -- the whole book -------------------------------------------------------------------------------
    def assemble(self):
        """Join the pages once (the slow part); document() then only writes the contents."""
        soup = BeautifulSoup("<!DOCTYPE html><html lang=\"en\" data-theme=\"light\" data-mode=\"light\">"
                             "<head><meta charset=\"utf-8\"></head><body></body></html>", "html.parser")
        body = soup.body
        body.append(BeautifulSoup(self.title_page(), "html.parser"))
        contents_at = len(body.contents)
        entries = []  # (level, title, anchor)
        part = object()
        for caption, file in self.pages:
            if caption != part and caption is not None:
                anchor = "part-" + "".join(ch if ch.isalnum() else "-" for ch in caption.lower()).strip("-")
                heading = soup.new_tag("h1", attrs={"id": anchor, "class": "book-part"})
                heading.string = caption
                body.append(heading)
                entries.append((0, html.escape(caption), anchor))
            part = caption
            page = self.page(file, shift=0 if caption is None else 1)
            body.append(page)
            top = page.find(["h1", "h2"])
            entries.append((0 if caption is None else 1, top.decode_contents().strip(), page["id"]))
            if caption is not None and self.is_chapter(file):
                for section in page.select("section > h3"):
                    target = section.parent.get("id")
                    if target:
                        entries.append((2, section.decode_contents().strip(), target))
        head = soup.head
        title = soup.new_tag("title")
        title.string = self.config()["title"]
        head.append(title)
        for sheet in self.stylesheets:
            head.append(soup.new_tag("link", attrs={"rel": "stylesheet", "href": (SITE / sheet).as_uri()}))
        style = soup.new_tag("style")
        margins = " ".join(f"{MARGINS_MM[side]}mm" for side in ("top", "right", "bottom", "left"))
        style.string = f"@page {{ size: {PAPER}; margin: {margins}; }}\n" + (ROOT / "tools" / "pdf.css").read_text()
        head.append(style)
        contents = BeautifulSoup(self.contents(entries, None), "html.parser").nav
        body.insert(contents_at, contents)
        self.check_links(soup)
        contents.replace_with(CONTENTS_MARK)
        self.before_contents, self.after_contents = self.restore_math(str(soup)).split(CONTENTS_MARK)
        self.entries = entries

    def document(self, page_numbers=None):
        """The print document as HTML; page_numbers maps a contents entry's anchor to its page."""
        return self.before_contents + self.restore_math(self.contents(self.entries, page_numbers)) + self.after_contents

    @staticmethod
    def is_chapter(file):
        return Path(file).parent.name == "chapters"

    @staticmethod
    def config():
        return yaml.safe_load((ROOT / "_config.yml").read_text())

    def title_page(self):
        config = self.config()
        logo = (ROOT / "_static" / "logo-light.svg").read_text()
        commit = subprocess.run(["git", "log", "-1", "--format=%h %cs"], cwd=ROOT, capture_output=True, text=True).stdout.split()
        built = f"Built from commit {commit[0]} of {commit[1]}." if len(commit) == 2 else ""
        return f"""<section class="title-page">
<div class="title-logo">{logo}</div>
<p class="book-title">{html.escape(config["title"])}</p>
<p class="book-subtitle">From vectors to attention, with code whose every number is computed on the page</p>
<p class="book-edition">Second edition</p>
<p class="book-author">{html.escape(config["author"])}</p>
<div class="book-colophon">
<p>The website, the notebooks and this PDF are built from the same executed notebooks:
<a href="{self.url}">{self.url}</a>. Plotting code that the website hides behind a toggle is left out
here; the figures it draws are all present, and every notebook has the code.</p>
<p>Text and figures: CC BY 4.0. Code: MIT (the repository's LICENSE). {html.escape(built)}</p>
</div>
</section>"""

    @staticmethod
    def contents(entries, page_numbers):
        """The contents: each entry is a heading's HTML (its formulas still placeholders) and its anchor."""
        rows = []
        for level, title, anchor in entries:
            number = page_numbers.get(anchor, "") if page_numbers else "000"
            rows.append(f'<li class="toc-{level}"><a href="#{anchor}"><span class="toc-title">{title}</span>'
                        f'<span class="toc-page">{number}</span></a></li>')
        return f'<nav class="book-contents" aria-label="Contents"><h1 id="contents">Contents</h1><ul>{"".join(rows)}</ul></nav>'

    @staticmethod
    def check_links(soup):
        """Every link inside the book has one target (sphinx-proof repeats ids like "proof-content" in
        every block, which is harmless where nothing links to them)."""
        counts = Counter(element["id"] for element in soup.find_all(id=True))
        missing, ambiguous = {}, set()
        for element in soup.find_all(["a", "use"]):
            for attr in ("href", "xlink:href"):
                value = element.get(attr, "")
                if not value.startswith("#"):
                    continue
                if counts[value[1:]] == 0:
                    page = element.find_parent("div", class_="book-page")
                    missing.setdefault(page["id"] if page else "front matter", set()).add(value)
                elif counts[value[1:]] > 1:
                    ambiguous.add(value)
        if missing:
            detail = "; ".join(f"{page}: {', '.join(sorted(links)[:5])}" for page, links in missing.items())
            raise PdfError(f"links to anchors that the book does not have: {detail}")
        if ambiguous:
            raise PdfError(f"links to anchors that several elements share: {sorted(ambiguous)[:5]}")


def find_chromium():
    chromium = find()
    if chromium is None:
        raise PdfError(CHROMIUM_HELP)
    return chromium


def footer():
    return ('<div style="width:100%;font-size:8pt;font-family:sans-serif;color:#555;text-align:center;">'
            '<span class="pageNumber"></span></div>')


def print_pdf(browser, document, path):
    source = path.with_suffix(".html")  # beside the PDF: the print document, to look at in a browser
    source.write_text(document, encoding="utf-8")
    page = browser.new_page()
    page.goto(source.as_uri(), wait_until="load", timeout=300_000)
    page.emulate_media(media="print")
    page.pdf(path=str(path), outline=True, tagged=True, prefer_css_page_size=True, print_background=True,
             display_header_footer=True, header_template="<div></div>", footer_template=footer())
    page.close()


def destination_pages(path, anchors):
    """The page (1-based, as the footer prints) of each anchor that a link points at."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw
    document = pdfium.PdfDocument(str(path))
    pages = {}
    for anchor in anchors:
        destination = raw.FPDF_GetNamedDestByName(document.raw, anchor.encode())
        if destination:
            pages[anchor] = raw.FPDFDest_GetDestPageIndex(document.raw, destination) + 1
    document.close()
    missing = sorted(set(anchors) - set(pages))
    if missing:
        raise PdfError(f"the printed PDF has no destination for contents entries {missing[:5]}")
    return pages


def build(output, only=()):
    from playwright.sync_api import sync_playwright
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    pages = [(caption, file) for caption, file in book_pages() if not only or file in only]
    book = Book(pages)
    book.assemble()
    document = book.document()
    print(f"assembled {len(book.pages)} pages of the site in {time.perf_counter() - started:.0f} s", flush=True)
    anchors = [anchor for _, _, anchor in book.entries]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        numbers = None
        for printing in range(1, 4):
            printing_started = time.perf_counter()
            print_pdf(browser, document, output)
            print(f"printing {printing}: {time.perf_counter() - printing_started:.0f} s", flush=True)
            found = destination_pages(output, anchors)
            if found == numbers:
                break
            numbers = found
            document = book.document(page_numbers=numbers)
        else:
            raise PdfError("the contents' page numbers did not settle after three printings")
        browser.close()
    served = "" if only else f" (and {(SITE / PDF_NAME).relative_to(ROOT)}, which the site links to)"
    if not only:
        (SITE / PDF_NAME).write_bytes(output.read_bytes())
    print(f"{output}: {output.stat().st_size / 1e6:.1f} MB, printed {printing} times in "
          f"{time.perf_counter() - started:.0f} s{served}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=OUT / PDF_NAME)
    parser.add_argument("--only", action="append", default=[], metavar="PAGE",
                        help="print only this page of the TOC (e.g. chapters/01_vectors), to try a change quickly")
    args = parser.parse_args()
    try:
        build(args.output.resolve(), args.only)
    except PdfError as error:
        sys.exit(f"make pdf: {error}")


if __name__ == "__main__":
    main()

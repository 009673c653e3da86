"""The whole book as one PDF (tools/pdf.py), as a reader opens it: outline, figures, text, margins, links.

The `site` fixture (tests/test_site.py) builds the site and the PDF once per test run (`make pdf` under
`make test`, `make book` alone); these tests read the PDF with PDFium (pypdfium2).
"""
import ctypes
import html
import re
import sys
from pathlib import Path

import pytest
import yaml

from book import ROOT, chapter_paths
from test_site import site  # noqa: F401 (the one build of this run, shared with the site tests)

sys.path.insert(0, str(ROOT / "tools"))
import pdf  # noqa: E402 (tools/pdf.py)

pdfium = pytest.importorskip("pypdfium2")
import pypdfium2.raw as raw  # noqa: E402

MM = 72 / 25.4
# TeX that should have been typeset, and references Sphinx could not resolve ("??"), in the text a
# reader sees; code is set in a monospaced font and may legitimately hold "\n" or r"$\lambda$".
RAW_TEX = re.compile(r"\?\?|\$\$|\\(?:frac|begin|end|mathbf|mathrm|mathbb|boldsymbol|operatorname|left|right|sum|"
                     r"sqrt|lambda|sigma|alpha|top|cdot|times|ref|eqref|label)\b|\{(?:prf:ref|numref|eq|term|cite:p|cite:t|glue:text)\}")
# Web chrome: the toggles' and the theme's own words, which no sentence of the book uses.
CHROME = ["Hide code cell source", "Show code cell output", "Skip to main content", "Back to top",
          "Copy to clipboard", "Download the book (PDF)", "Toggle navigation", "Launch Binder"]


@pytest.fixture(scope="module")
def book(site):  # noqa: F811
    path = pdf.OUT / pdf.PDF_NAME
    assert path.exists(), f"{path.relative_to(ROOT)} was not built:\n{site['log']}"
    document = pdfium.PdfDocument(str(path))
    pages = []
    for index in range(len(document)):
        page = document[index]
        text = page.get_textpage()
        pages.append({"text": text.get_text_range(), "textpage": text, "page": page})
    outline = [(item.level, item.get_title(), item.get_dest().get_index() if item.get_dest() else None)
               for item in document.get_toc(max_depth=6)]
    yield {"path": path, "document": document, "pages": pages, "outline": outline,
           "html": path.with_suffix(".html").read_text(encoding="utf-8")}


def spaces(text):
    """Every run of (non-breaking) space one space, as PDFium's text and the site's text are compared."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def plain(fragment):
    """The text of a fragment of the site's HTML."""
    return spaces(html.unescape(re.sub(r"<[^>]+>", "", fragment)))


def page_title(file):
    return pdf.ROOT_TITLE if file == pdf.TOC_ROOT else plain(re.search(r"<h1>(.*?)<a class=\"headerlink\"", article(site_page(file)), re.S).group(1))


def site_page(file):
    return (pdf.SITE / f"{file}.html").read_text(encoding="utf-8")


def article(html):
    return html[html.find('<article class="bd-article">'):html.find("</article>")]


def squeeze(title):
    return re.sub(r"\s+", "", title)


def chapter_spans(book):
    """{page title without spaces: (its first page index, one past its last)} from the outline."""
    titles = {squeeze(page_title(file)) for _, file in pdf.book_pages()}
    entries = [(squeeze(title), at) for level, title, at in book["outline"] if squeeze(title) in titles]
    starts = [at for _, at in entries] + [len(book["pages"])]
    return {title: (at, starts[i + 1]) for i, (title, at) in enumerate(entries)}


def test_the_site_serves_the_pdf_and_links_it_from_every_page(book):
    served = pdf.SITE / pdf.PDF_NAME
    assert served.read_bytes() == book["path"].read_bytes(), "the site's copy of the PDF is not the one built"
    for page in sorted(pdf.SITE.rglob("*.html")):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        if 'http-equiv="Refresh"' in text:  # index.html only sends the browser to the landing page
            continue
        depth = len(page.relative_to(pdf.SITE).parts) - 1
        link = f'href="{"../" * depth}{pdf.PDF_NAME}"'
        assert f'<p class="lafml-book-pdf"><a {link}>' in text, \
            f"{page.relative_to(pdf.SITE)}: no 'Download the book (PDF)' link ({link}) in the sidebar"
        assert "window.print()" not in text, f"{page.relative_to(pdf.SITE)}: still offers to print the page alone"


def test_outline_has_every_part_chapter_and_section(book):
    """Bookmarks: parts, then each page of the book under its part, then a chapter's sections."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    parts = [part["caption"] for part in toc["parts"]
             if any(entry["file"] not in pdf.SITE_ONLY for entry in part["chapters"])]
    top = [title for level, title, _ in book["outline"] if level == 0]
    assert [t for t in top if t in parts] == parts, f"outline's first level {top} lacks parts {parts}"
    spans = chapter_spans(book)
    bookmarks = {(level, squeeze(title)) for level, title, _ in book["outline"]}
    for caption, file in pdf.book_pages():
        level = 0 if caption is None else 1
        assert (level, squeeze(page_title(file))) in bookmarks, f"{file}: no bookmark '{page_title(file)}' at level {level}"
        if Path(file).parent.name == "chapters":
            first, end = spans[squeeze(page_title(file))]
            marked = {squeeze(t) for lv, t, at in book["outline"] if lv == 2 and first <= at < end}
            for section in re.findall(r'<section id="[^"]*">\s*<h2>(.*?)<a class="headerlink"', article(site_page(file)), re.S):
                # a formula in a heading is an image to the outline: compare the words around it
                words = [w for w in plain(re.sub(r"<math\b.*?</math>", " ", section, flags=re.S)).split()]
                assert any(all(w in m for w in map(squeeze, words)) for m in marked), \
                    f"{file}: no bookmark for section '{plain(section)}'"
    assert all(at is not None for _, _, at in book["outline"]), "a bookmark without a destination"


def test_every_figure_of_the_site_is_in_the_pdf(book):
    on_site = sum(len(re.findall(r"<img\b", article(site_page(file)))) for _, file in pdf.book_pages())
    drawn = 0
    for page in book["pages"]:
        drawn += sum(1 for _ in page["page"].get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=5))
    assert drawn == on_site, f"the site's pages of the book show {on_site} images, the PDF draws {drawn}"


def test_figure_and_statement_numbers_match_the_site(book):
    """Every caption number a chapter shows on the site (Fig. 3.2, Theorem 6.1, Exercise 3.1) is printed in
    that chapter's pages. (Not in the site's order: solutions move to the end, and PDFium reads the
    statements' titles, which the theme raises above their boxes, after the rest of their page.)"""
    spans = chapter_spans(book)
    for caption, file in pdf.book_pages():
        if Path(file).parent.name != "chapters":
            continue
        source = site_page(file)
        first, end = spans[squeeze(page_title(file))]
        text = spaces(" ".join(book["pages"][i]["text"] for i in range(first, end)))
        numbers = [plain(n) for n in re.findall(r'class="caption-number">([^<]+)<', article(source))]
        assert numbers, f"{file}: no numbered element on the site"
        missing = [number for number in numbers if not re.search(re.escape(number) + r"(?!\d)", text)]
        assert not missing, f"{file}: {missing} on the site but not in the PDF's pages {first + 1}-{end}"


def test_exercises_have_their_solutions_at_the_end_of_their_chapter(book):
    spans = chapter_spans(book)
    for caption, file in pdf.book_pages():
        solutions = [plain(e) for e in re.findall(r"Solution to<a [^>]*> (Exercise [\dA-Z.]+)</a>", article(site_page(file)))]
        if not solutions:
            continue
        first, end = spans[squeeze(page_title(file))]
        text = spaces(" ".join(book["pages"][i]["text"] for i in range(first, end)))
        heading = [at for level, t, at in book["outline"] if level == 2 and t == "Solutions" and first <= at < end]
        assert heading, f"{file}: no Solutions section in the PDF"
        tail = spaces(" ".join(book["pages"][i]["text"] for i in range(heading[0], end)))
        for exercise in solutions:
            assert f"Solution to {exercise}" in tail, f"{file}: 'Solution to {exercise}' not after the Solutions heading"
        assert text.count("Solution to Exercise") == len(solutions), f"{file}: solutions printed twice or missing"


def is_code(textpage, index):
    """Whether the character is set in a monospaced font, as code and outputs are."""
    size = raw.FPDFText_GetFontInfo(textpage.raw, index, None, 0, None)
    if not size:
        return False
    name = (raw.c_char * size)()
    raw.FPDFText_GetFontInfo(textpage.raw, index, name, size, None)
    return b"mono" in bytes(name).lower()


def test_no_raw_tex_unresolved_reference_or_web_chrome(book):
    problems = []
    for number, page in enumerate(book["pages"], 1):
        for hit in RAW_TEX.finditer(page["text"]):
            if not is_code(page["textpage"], hit.start()):
                problems.append(f"page {number}: {hit.group()!r} in ...{page['text'][max(0, hit.start() - 40):hit.end() + 20]!r}")
        for words in CHROME:
            if words in page["text"]:
                problems.append(f"page {number}: web chrome {words!r}")
    assert not problems, "\n".join(problems[:20])


def clip_box(item):
    """The box a page object is clipped to, or None: what lies outside it is not drawn."""
    clip = raw.FPDFPageObj_GetClipPath(item.raw)
    if not clip:
        return None
    xs, ys = [], []
    for path in range(raw.FPDFClipPath_CountPaths(clip)):
        for index in range(raw.FPDFClipPath_CountPathSegments(clip, path)):
            x, y = ctypes.c_float(), ctypes.c_float()
            raw.FPDFPathSegment_GetPoint(raw.FPDFClipPath_GetPathSegment(clip, path, index), x, y)
            xs.append(x.value)
            ys.append(y.value)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def test_nothing_is_printed_past_the_margins(book):
    """Text (formulas included: MathML prints as text), images and drawings stay inside the left and right
    margins: code wraps, figures shrink. Text and images count where they are placed, clipped or not (a
    clipped line of code is a cut one); a drawing (a box's border or background) counts where it is
    visible, inside its clip. Boxes as wide as the column may reach a point or two into the margin."""
    left = pdf.MARGINS_MM["left"] * MM - 1.5
    problems = []
    for number, page in enumerate(book["pages"], 1):
        right = page["page"].get_width() - pdf.MARGINS_MM["right"] * MM + 1.5
        textpage = page["textpage"]
        for i in range(textpage.count_rects()):
            x0, y0, x1, y1 = textpage.get_rect(i)
            if x0 < left or x1 > right:
                words = textpage.get_text_bounded(x0, y0, x1, y1)[:40]
                problems.append(f"page {number}: text {words!r} from x={x0:.0f} to {x1:.0f} pt, margins at {left:.0f}-{right:.0f}")
        column = right - left
        for item in page["page"].get_objects(max_depth=8):
            if item.type not in (raw.FPDF_PAGEOBJ_IMAGE, raw.FPDF_PAGEOBJ_PATH):
                continue
            x0, _, x1, _ = item.get_bounds()
            if item.type == raw.FPDF_PAGEOBJ_PATH:
                clip = clip_box(item)
                if clip:
                    x0, x1 = max(x0, clip[0]), min(x1, clip[2])
                if x1 - x0 > 0.9 * column:
                    continue  # a box's background or rule
            if x0 < left or x1 > right:
                kind = "image" if item.type == raw.FPDF_PAGEOBJ_IMAGE else "drawing"
                problems.append(f"page {number}: {kind} from x={x0:.0f} to {x1:.0f} pt, margins at {left:.0f}-{right:.0f}")
    assert not problems, f"{len(problems)} object(s) past the margins:\n" + "\n".join(problems[:20])


def test_links_inside_the_book_land(book):
    """Every link between places in the book is a PDF destination, and the contents print its page."""
    document = book["document"]
    targets = set(re.findall(r'<a [^>]*href="#([^"]+)"', book["html"]))
    names = set()
    for index in range(raw.FPDF_CountNamedDests(document.raw)):
        size = raw.c_long(0)
        raw.FPDF_GetNamedDest(document.raw, index, None, size)
        buffer = (raw.c_ubyte * size.value)()
        raw.FPDF_GetNamedDest(document.raw, index, buffer, size)
        names.add(bytes(buffer).decode("utf-16-le").rstrip("\x00"))
    assert targets - names == set(), f"links without a destination in the PDF: {sorted(targets - names)[:10]}"
    # Each contents entry is a link: it must lead to a page, and print that page's number.
    contents = [at for level, title, at in book["outline"] if level == 0 and title == "Contents"]
    assert contents, "no Contents bookmark"
    after = min(at for level, title, at in book["outline"] if at > contents[0])  # where the book starts
    entries, wrong = 0, []
    for index in range(contents[0], after):
        page, textpage = book["pages"][index]["page"], book["pages"][index]["textpage"]
        position = raw.c_int(0)
        link = raw.FPDF_LINK()
        while raw.FPDFLink_Enumerate(page.raw, position, link):
            destination = raw.FPDFLink_GetDest(document.raw, link)
            rect = raw.FS_RECTF()
            if not destination or not raw.FPDFLink_GetAnnotRect(link, rect):
                continue
            target = raw.FPDFDest_GetDestPageIndex(document.raw, destination) + 1
            # the page number is the entry's last 2.5em (tools/pdf.css .toc-page); the title ends before it
            printed = squeeze(textpage.get_text_bounded(rect.right - 25, rect.bottom, rect.right, rect.top))
            entries += 1
            if printed != str(target):
                title = squeeze(textpage.get_text_bounded(rect.left, rect.bottom, rect.right - 25, rect.top))
                wrong.append(f"'{title}' prints '{printed}' and leads to page {target}")
    chapters = len(chapter_spans(book))
    assert entries >= chapters, f"the contents have {entries} links, fewer than the book's {chapters} pages"
    assert not wrong, "contents entries whose printed page is not where they lead: " + "; ".join(wrong[:10])


def test_page_count_is_sane(book):
    """Each chapter takes between 8 and 80 pages (a chapter of the second edition is 5000-8500 words,
    with figures and code), and the whole book fewer than 1000."""
    spans = chapter_spans(book)
    for caption, file in pdf.book_pages():
        if Path(file).parent.name != "chapters":
            continue
        first, end = spans[squeeze(page_title(file))]
        assert 8 <= end - first <= 80, f"{file}: {end - first} pages"
    assert len(book["pages"]) < 1000, f"{len(book['pages'])} pages"

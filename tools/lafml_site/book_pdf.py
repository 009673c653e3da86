"""A "Download the book (PDF)" link on every page: the whole book that tools/pdf.py prints from this site
(`make book` and `make pdf` put it at _build/html/linear-algebra-for-ml.pdf). It replaces the theme's
".pdf" entry, which printed the one page with the browser, and sits at the foot of the sidebar."""
import re
from pathlib import Path

PDF_NAME = "linear-algebra-for-ml.pdf"
PRINT_BUTTON = re.compile(r'<li>\s*<button onclick="window\.print\(\)".*?</button>\s*</li>', re.S)
SIDEBAR_END = '<div class="sidebar-primary-items__end sidebar-primary__section">'


def link_the_book(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for page in outdir.rglob("*.html"):
        if "_static" in page.relative_to(outdir).parts:  # the theme's template fragments
            continue
        text = page.read_text(encoding="utf-8")
        if 'class="lafml-book-pdf"' in text:  # an incremental build leaves unchanged pages as they were
            continue
        href = "../" * (len(page.relative_to(outdir).parts) - 1) + PDF_NAME
        item = (f'<li><a href="{href}" class="btn btn-sm btn-download-pdf-button dropdown-item" '
                f'title="Download the book (PDF)"><span class="btn__icon-container"><i class="fas fa-file-pdf"></i>'
                f'</span><span class="btn__text-container">Book (.pdf)</span></a></li>')
        linked = PRINT_BUTTON.sub(lambda _: item, text, count=1)
        linked = linked.replace(SIDEBAR_END, SIDEBAR_END + f'\n<p class="lafml-book-pdf"><a href="{href}">'
                                f'<i class="fas fa-file-pdf" aria-hidden="true"></i> Download the book (PDF)</a></p>', 1)
        if linked != text:
            page.write_text(linked, encoding="utf-8")

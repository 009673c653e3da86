"""The book's Sphinx extension (sphinx.local_extensions in _config.yml): one module per concern.

- typeset_math: TeX typeset at build time by MathJax in Node.js into MathML Core, which the browser renders
  (no math script in the browser, no SVG).
- math_font: the subset math font MathML is drawn with (committed; the build checks it covers the math).
- figures: figures served as lossless palette WebP.
- icons: no fontawesome.js; the icon webfonts cut to the icons in use.
- numbering: figures, exercises and numbered statements numbered within their chapter (Fig. 7.2, A.1).
- pages: one copy of each inline script, ARIA the validators accept, meta descriptions.
- learner_links: Binder, Colab and the download open the learner notebooks (tools/learner.py).
- book_pdf: a "Download the book (PDF)" link on every page (the PDF is tools/pdf.py's).
- first_visit: a clean first visit (theme mode "auto", the dark logo).
- speed: fast on a phone (no search index on every page, deferred scripts, one stylesheet, lighter code).
- purge_css: that one stylesheet without the rules no page or script can use (called by speed).

Page weight (tests/test_site.py measures every chapter page): build-time math saves the 300 kB of MathJax
scripts and fonts a page loaded; MathML instead of MathJax's SVG 61-106 kB of HTML and half the page's
elements (chapter 7: 22,836 to 10,883), for a 45 kB font; the purged stylesheet 56 kB (85 to 29 kB);
dropping fontawesome.js saves 540 kB; subset icon fonts 270 kB; WebP figures a third of the PNGs' bytes.
"""
from . import book_pdf, figures, first_visit, icons, learner_links, numbering, pages, speed, typeset_math


def setup(app):
    numbering.install(app)
    app.add_config_value("lafml_description", "", "html")
    app.connect("config-inited", first_visit.dark_logo)
    app.connect("builder-inited", typeset_math.add_math_assets)
    app.connect("builder-inited", first_visit.resolve_auto_early)
    app.connect("html-page-context", first_visit.default_mode)
    app.connect("html-page-context", pages.tidy_page, priority=900)
    # build-finished handlers run in this order: math first (it rewrites every page), then the rest.
    app.connect("build-finished", typeset_math.typeset_math)
    app.connect("build-finished", figures.compress_figures)
    app.connect("build-finished", icons.lighten_icons)
    app.connect("build-finished", pages.label_sidebar)
    app.connect("build-finished", learner_links.serve_learner_notebooks)
    app.connect("build-finished", book_pdf.link_the_book)
    # last, after every extension (pydata-sphinx-theme rewrites pygments.css at build-finished): it bundles
    # the stylesheets as they will be served
    app.connect("build-finished", speed.speed_up_pages, priority=1000)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

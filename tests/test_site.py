"""The book as `make book` builds it, and as readers see it in a real browser.

One clean build per test run (the `site` fixture, see build_site): every chapter executed alone in an
empty temporary folder, its figures written to a temporary folder, Sphinx warnings as errors. Then:
figure regression against the committed figures/, and browser checks of every page with Chromium.
"""
import fcntl
import functools
import gzip
import http.server
import json
import os
import re
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from matplotlib.testing.compare import compare_images

from book import FIGURE_TOLERANCE, FIGURES, ROOT, chapter_paths, load, measured_figures, toc_files
from chromium import CHROMIUM_ARGS, CHROMIUM_HELP, find_chromium

# Bytes a chapter page may transfer, gzipped (images and fonts as they are), figures included.
PAGE_BUDGET = 350_000
# Pages over the budget, known and not hidden: the four with the most figures (190-250 kB of WebP). Math as
# MathML and the purged stylesheet (issue 16) took 72-118 kB off every chapter page; each page here still
# runs every other check, its weight is reported as an expected failure, a page that grows by more than
# 2% fails, and one that comes back under the budget fails until it is taken off this list.
# Measured 2026-12-01, rounded up to the kB:
OVER_BUDGET = {
    "07_eigenvalues_2": 408_000,
    "11_pca": 369_000,
    "A_matrix_calculus": 430_000,
    "B_probability_vectors": 368_000,
}
CHAPTERS = chapter_paths()
PAGES = [f for f in toc_files()]


def build_site(folder):
    """Build the book; return what the tests need to know about the build (JSON-serialisable).

    Alone (`pytest`), this is `make book` exactly, with figures sent to a temporary folder. Under
    `make test`, nbval has just executed every chapter into the execution cache and written its figures
    to $LAFML_FIGURE_DIR (LAFML_SITE_FROM_CACHE=1): then only `make pdf` runs (render, then print the
    PDF), so no chapter executes twice; Jupyter Book executes, and -W reports, any chapter missing from the
    cache. Either way the PDF is built too (tests/test_pdf.py).
    """
    if os.environ.get("LAFML_SITE_FROM_CACHE") == "1":
        figures, target = os.environ["LAFML_FIGURE_DIR"], "pdf"
    else:
        figures, target = str(folder / "fresh-figures"), "book"
    env = {**os.environ, "LAFML_FIGURE_DIR": figures}
    result = subprocess.run(["make", "--no-print-directory", target], cwd=ROOT, env=env, capture_output=True, text=True)
    return {"target": target, "returncode": result.returncode, "figures": figures,
            "log": result.stdout[-6000:] + "\n" + result.stderr[-6000:]}


@pytest.fixture(scope="session")
def site(tmp_path_factory, worker_id):
    """One build per test run, shared by the xdist workers: the first to get here builds, the others wait."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # the run's folder, common to its workers
    record = shared / "site.json"
    with open(shared / "site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            record.write_text(json.dumps(build_site(shared)))
    built = json.loads(record.read_text())
    if built["returncode"] != 0:
        pytest.fail(f"`make {built['target']}` failed:\n{built['log']}", pytrace=False)
    return {"html": ROOT / "_build" / "html", "figures": Path(built["figures"]), "log": built["log"]}


def test_book_builds_without_warnings(site):
    """The build runs Sphinx with -W: reaching here means no warning; the site must be complete."""
    assert (site["html"] / "index.html").exists()
    assert (site["html"] / "_static" / "lafml-math.css").exists(), "the math stylesheet was not written"


def test_math_is_typeset_at_build_time(site):
    """No page may ship TeX for the reader's browser to typeset: every math element holds MathML."""
    for page in PAGES:
        text = (site["html"] / f"{page}.html").read_text(encoding="utf-8")
        scripts = [s for s in re.findall(r"<script\b[^>]*>.*?</script>", text, re.S) if "mathjax" in s.lower()]
        assert not scripts, f"{page}: still loads MathJax in the browser: {scripts[0][:120]}"
        leftover = re.findall(r'class="math notranslate nohighlight"[^>]*>\s*(?:<span class="eqno">.*?</span>)?\s*\\[\[(]',
                              text, re.S)
        assert not leftover, f"{page}: {len(leftover)} math element(s) left as TeX"
        starts = re.findall(r'class="math notranslate nohighlight"[^>]*>\s*(?:<span class="eqno">.*?</span>)?\s*(.{0,60})', text, re.S)
        not_mathml = [start for start in starts if not start.startswith("<math")]
        assert not not_mathml, f"{page}: math element(s) without MathML: {not_mathml[:3]}"


# ---------------------------------------------------------------- learner notebooks

def caption_number(page_html, anchor):
    """The number the page prints for the element with this id ("Fig. 3.2", "Theorem 6.1"), or None."""
    at = page_html.find(f'id="{anchor}"')
    if at < 0:
        return None
    found = re.search(r'class="caption-number">([^<]*)<', page_html[at:at + 4000])
    return found.group(1).strip() if found else ""


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_learner_notebook_agrees_with_the_page(site, chapter):
    """What notebooks/ shows (tools/learner.py) is what the built page shows: the same glued values in the
    same order, numbers that match the page's, and links that land on pages and anchors of this build."""
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    import learner

    book = learner.Book(CHAPTERS)
    made = learner.Chapter(book, chapter)
    nb = made.build()
    page = (site["html"] / "chapters" / f"{chapter.stem}.html").read_text(encoding="utf-8")
    pasted = [re.sub(r"<[^>]+>", "", t) for t in re.findall(r'<span class="pasted-text">(.*?)</span>', page, re.S)]
    assert made.pasted == pasted, f"notebooks/{chapter.stem}.ipynb: glued values differ from the page's " \
                                  f"(learner {made.pasted[:8]}..., page {pasted[:8]}...)"
    cited = {re.sub(r"<[^>]+>", "", t) for t in re.findall(r'href="\.\./references\.html#[^"]*"[^>]*>(.*?)</a>', page)}
    pages = {}
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for text, url in re.findall(r"\[([^\[\]]*)\]\((https?://[^)\s]+)\)", cell.source):
            if not url.startswith(book.url):
                continue
            path, _, anchor = url[len(book.url):].partition("#")
            target = site["html"] / path
            assert target.exists(), f"notebooks/{chapter.stem}.ipynb: [{text}]({url}) is not a page of the build"
            html_text = pages.setdefault(path, target.read_text(encoding="utf-8"))
            if anchor:
                number = caption_number(html_text, anchor)
                assert number is not None, f"notebooks/{chapter.stem}.ipynb: [{text}]({url}): no #{anchor} on {path}"
                if number and re.fullmatch(r"(Fig\.|[A-Z][a-z]+) [0-9A-Z]+\.\d+", text):
                    assert text == number, f"notebooks/{chapter.stem}.ipynb: says {text!r} where the page says {number!r}"
            if path == "references.html":
                assert text in cited, f"notebooks/{chapter.stem}.ipynb: cites {text!r}, the page cites {sorted(cited)[:5]}"


def test_what_blocks_the_first_paint(site):
    """Before a page can paint, the browser must fetch what its <head> holds synchronously: one stylesheet
    bundle and no script (tools/lafml_site/speed.py); the search index only on the search page."""
    for page in PAGES + ["search"]:
        text = (site["html"] / f"{page}.html").read_text(encoding="utf-8")
        head = text[:text.find("</head>")]
        sheets = re.findall(r'<link[^>]*rel="stylesheet"[^>]*>', head)
        blocking = [s for s in re.findall(r"<script\b[^>]*\bsrc=[^>]*>", head) if not re.search(r"\b(defer|async)\b", s)]
        assert len(sheets) == 1, f"{page}: {len(sheets)} stylesheets block the first paint (one bundle expected)"
        if page != "search":
            assert not blocking, f"{page}: synchronous scripts in <head>: {blocking[:3]}"
            assert "searchindex.js" not in text, f"{page}: loads the search index, which only the search page uses"


def test_every_page_is_built(site):
    missing = [f for f in PAGES if not (site["html"] / f"{f}.html").exists()]
    assert not missing, f"pages in _toc.yml missing from the build: {missing}"


# ---------------------------------------------------------------- figures

@pytest.fixture(scope="session")
def drawn_figures(request):
    """The figures this test run's execution of the chapters drew."""
    if os.environ.get("LAFML_SITE_FROM_CACHE") == "1":  # `make test`: nbval's run, just before, drew them
        return Path(os.environ["LAFML_FIGURE_DIR"])
    return request.getfixturevalue("site")["figures"]    # alone: the book build executes and draws them


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_figures_match_the_committed_ones(drawn_figures, chapter):
    """Every figure nbval's run drew is the committed one, within FIGURE_TOLERANCE (tests/book.py).

    Runs on what the notebook run drew, not on the site build, so that a chapter that breaks the build
    cannot hide a changed figure elsewhere. Figures of measured cells (timings, rounding errors) are not
    baselines: they are checked by name only."""
    measured = {f"{name}.png" for name in measured_figures(load(chapter))}
    fresh_dir, committed_dir = drawn_figures / chapter.stem, FIGURES / chapter.stem
    fresh = {p.name for p in fresh_dir.glob("*.png")}
    committed = {p.name for p in committed_dir.glob("*.png")}
    assert measured <= fresh, f"{chapter.stem}: measured figures that were not drawn: {sorted(measured - fresh)}"
    assert not measured & committed, \
        f"{chapter.stem}: measured figures are not baselines, remove them from figures/: {sorted(measured & committed)}"
    assert fresh - measured - committed == set(), \
        f"{chapter.stem}: the code makes figures that are not committed: {sorted(fresh - measured - committed)}; run `make outputs`"
    assert committed - fresh == set(), \
        f"{chapter.stem}: committed figures that no code makes: {sorted(committed - fresh)}"
    changed = []
    for name in sorted(committed):
        report = compare_images(str(committed_dir / name), str(fresh_dir / name), tol=FIGURE_TOLERANCE)
        if report is not None:  # "Error: Image files did not match.\n  RMS Value: 3.1\n  Expected: ..."
            rms = next((line.strip() for line in report.splitlines() if "RMS" in line), "")
            diff = report.split("Difference:")[1].split()[0] if "Difference:" in report else ""
            changed.append(f"{name}: {rms} (tolerance {FIGURE_TOLERANCE}); difference image {diff}")
    assert not changed, f"{chapter.stem}: figures differ from figures/{chapter.stem}/:\n" + "\n".join(changed)


# ---------------------------------------------------------------- browser

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server(site):
    handler = functools.partial(QuietHandler, directory=str(site["html"]))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser():
    executable = find_chromium()
    if executable is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM_HELP}")
        pytest.skip(f"browser tests skipped: {CHROMIUM_HELP}")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def visit(browser, server, page_file, theme="light", screenshot=True, query=""):
    """Open one page; return what a reader's browser did: requests, console errors and warnings, bytes.
    theme=None is a first-time reader (a fresh profile, nothing stored); "light", "dark" or "auto" a
    returning reader who chose that mode."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if theme is not None:
        context.add_init_script(f"localStorage.setItem('theme', '{theme}'); localStorage.setItem('mode', '{theme}');")
    page = context.new_page()
    seen = {"foreign": [], "errors": [], "failed": [], "responses": []}
    local = urlparse(server).netloc

    def route(r):
        if urlparse(r.request.url).netloc != local and not r.request.url.startswith("data:"):
            seen["foreign"].append(r.request.url)
            return r.abort()
        return r.continue_()

    page.route("**/*", route)
    page.on("console", lambda m: m.type in ("error", "warning") and seen["errors"].append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("requestfailed", lambda r: seen["failed"].append(r.url))
    page.on("response", lambda r: seen["responses"].append(r))
    page.goto(f"{server}/{page_file}.html{query}", wait_until="networkidle")
    if screenshot:
        shots = ROOT / "_build" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"{page_file.replace('/', '_')}-{theme}.jpg"), full_page=True, type="jpeg",
                        quality=80)  # for people to review; JPEG is twice as fast to write as PNG here
    return context, page, seen


def gzipped_bytes(responses):
    total = 0
    for response in responses:
        try:
            body = response.body()
        except Exception:  # redirects and aborted requests carry no body
            continue
        total += len(gzip.compress(body, 6)) if not re.search(r"\.(png|jpe?g|woff2?)(\?|$)", response.url) else len(body)
    return total


@pytest.mark.parametrize("page_file", PAGES)
def test_page_in_the_browser(browser, server, page_file):
    from axe_playwright_python.sync_playwright import Axe

    context, page, seen = visit(browser, server, page_file)
    try:
        assert not seen["foreign"], f"{page_file}: requests to other hosts: {seen['foreign'][:5]}"
        assert not seen["errors"], f"{page_file}: console errors: {seen['errors'][:5]}"
        assert not seen["failed"], f"{page_file}: failed requests: {seen['failed'][:5]}"
        broken = page.evaluate("[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
        assert not broken, f"{page_file}: images that did not load: {broken}"
        # Off-screen sections are not rendered until a reader scrolls near them (content-visibility:
        # auto, _static/lafml.css); axe needs them rendered to measure colour contrast.
        page.add_style_tag(content="* { content-visibility: visible !important; }")
        results = Axe().run(page)
        # The issue asks for no serious or critical violation; the site has none of any impact, so keep it so.
        violations = results.response["violations"]
        assert not violations, f"{page_file}: axe violations: " + "; ".join(
            f"{v['id']} ({v['impact']}, {len(v['nodes'])}x): {v['help']} at {v['nodes'][0]['target']}" for v in violations)
    finally:
        context.close()
    dark_context, dark_page, dark_seen = visit(browser, server, page_file, theme="dark")
    try:
        assert dark_page.evaluate("document.documentElement.dataset.theme") == "dark", f"{page_file}: dark theme not applied"
        assert not dark_seen["errors"], f"{page_file} (dark): console messages: {dark_seen['errors'][:5]}"
        assert dark_page.locator("img.logo__image.only-dark").first.is_visible(), f"{page_file} (dark): no dark logo"
    finally:
        dark_context.close()
    for mode in (None, "auto"):   # a first-time reader (empty storage), and one who chose "auto"
        context, page, seen = visit(browser, server, page_file, theme=mode, screenshot=False)
        who = "first visit" if mode is None else "mode auto"
        try:
            assert not seen["errors"], f"{page_file} ({who}): console messages: {seen['errors'][:5]}"
            assert not seen["failed"], f"{page_file} ({who}): failed requests: {seen['failed'][:5]}"
            assert page.evaluate("document.documentElement.dataset.theme") == "light", \
                f"{page_file} ({who}): a light-mode system should get the light theme"
            icons = page.evaluate("[...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)")
            assert icons and all(page.request.get(i).ok for i in icons), f"{page_file} ({who}): no favicon: {icons}"
            assert page.locator("img.logo__image.only-light").first.is_visible(), f"{page_file} ({who}): no logo"
        finally:
            context.close()


def test_search_works_offline(browser, server):
    """Sphinx's search runs in the page from searchindex.js: it must find a chapter with no network."""
    context, page, seen = visit(browser, server, "search", screenshot=False, query="?q=eigenvector")
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=20_000)
        hits = page.evaluate("[...document.querySelectorAll('#search-results ul.search li a')].map(a => a.href)")
        assert any("chapters/06_eigenvalues_1.html" in h for h in hits), f"search for 'eigenvector' found {hits[:5]}"
        assert not seen["foreign"] and not seen["errors"], f"search page: {seen['foreign'][:3]} {seen['errors'][:3]}"
    finally:
        context.close()


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_page(browser, server, chapter):
    page_file = f"chapters/{chapter.stem}"
    context, page, seen = visit(browser, server, page_file, screenshot=False)
    try:
        # Math is MathML Core, rendered by the browser with the book's math font, and read by screen readers.
        assert page.locator("main math").count() > 0, f"{page_file}: no typeset math (MathML)"
        assert page.locator("mjx-container, svg#MJX-SVG-global-cache").count() == 0, f"{page_file}: MathJax's SVG left in the page"
        drawn = page.evaluate("""async () => {
            await document.fonts.ready;
            const face = [...document.fonts].find(f => f.family.replace(/"/g, '') === 'LAFML Math');
            const math = document.querySelector('main math');
            return {font: face ? face.status : null, family: getComputedStyle(math).fontFamily,
                    display: getComputedStyle(math).display};
        }""")
        assert drawn["font"] == "loaded", f"{page_file}: the math font did not load: {drawn}"
        assert drawn["family"].startswith('"LAFML Math"') and "math" in drawn["display"], f"{page_file}: math not laid out as MathML: {drawn}"
        raw = page.evaluate(r"""() => {
            const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
            const found = [];
            while (walker.nextNode()) {
                const n = walker.currentNode;
                if (n.parentElement.closest('pre, code, script, style, math, .highlight, .output')) continue;
                if (/\$[^$\s][^$]*\$|\\\(|\\\[|\\(frac|mathbf|begin)\b/.test(n.textContent)) found.push(n.textContent.trim().slice(0, 80));
            }
            return found;
        }""")
        assert not raw, f"{page_file}: TeX left unrendered: {raw[:3]}"
        alts = page.evaluate("[...document.querySelectorAll('main figure img, main .cell_output img')].map(i => i.alt)")
        assert alts, f"{page_file}: no figures found"
        bad = [a for a in alts if len(a.split()) < 6 or re.search(r"\.(png|svg|jpe?g)\b", a)] if alts else []
        assert not bad, f"{page_file}: figures without a real alt text: {bad[:3]}"
        links = page.evaluate("[...document.querySelectorAll('a')].map(a => a.href)")
        binder = [h for h in links if "mybinder.org" in h]
        colab = [h for h in links if "colab.research.google.com" in h]
        # Binder, Colab and the download open the learner notebook (notebooks/), not the MyST source.
        assert binder and all(f"notebooks/{chapter.stem}.ipynb" in h for h in binder), f"{page_file}: Binder link {binder}"
        assert colab and all(h.endswith(f"notebooks/{chapter.stem}.ipynb") for h in colab), f"{page_file}: Colab link {colab}"
        assert page.locator(".btn-launch-thebe").count() == 1, f"{page_file}: no live-code (Thebe) button"
        downloads = [h for h in links if h.endswith(f"_sources/chapters/{chapter.stem}.ipynb")]
        assert downloads, f"{page_file}: no download link to its notebook"
        download = page.request.get(downloads[0])
        assert download.ok, f"{page_file}: the notebook download {downloads[0]} is missing"
        assert download.text() == (ROOT / "notebooks" / f"{chapter.stem}.ipynb").read_text(), \
            f"{page_file}: the download is not the learner notebook notebooks/{chapter.stem}.ipynb"
        weight = gzipped_bytes(seen["responses"])
        print(f"page weight {page_file}: {weight / 1000:.0f} kB gzipped")
        if chapter.stem in OVER_BUDGET:
            assert weight > PAGE_BUDGET, f"{page_file}: {weight / 1000:.0f} kB, now within the budget: remove it from OVER_BUDGET"
            assert weight <= OVER_BUDGET[chapter.stem] * 1.02, \
                f"{page_file}: {weight / 1000:.0f} kB gzipped, heavier than the {OVER_BUDGET[chapter.stem] / 1000:.0f} kB recorded"
            pytest.xfail(f"{page_file}: {weight / 1000:.0f} kB gzipped, over the {PAGE_BUDGET / 1000:.0f} kB budget (known)")
        assert weight <= PAGE_BUDGET, f"{page_file}: {weight / 1000:.0f} kB gzipped, budget {PAGE_BUDGET / 1000:.0f} kB"
    finally:
        context.close()

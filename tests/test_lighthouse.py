"""Lighthouse (pinned in package.json) on the landing page and every chapter, as a phone sees it.

This is `make lighthouse` (not yet part of `make test`: README, Decisions): it measures the site that
`make test` or `make book` built in _build/html. It never builds: a missing or stale site fails with
what to run. Run it alone
(`pytest tests/test_lighthouse.py`) after `make render`. It runs serially (no xdist): two Lighthouse
runs side by side would each measure the other's load.

Per page (tools/lighthouse.py does the measuring): mobile performance at least 95 as the best of up to
MAX_RUNS runs (stopping at the first that reaches it); accessibility, best practices and SEO 100 (from
the first run, which audits everything; they do not depend on the machine's load); and budgets on what
does not vary with the load either: DOM elements, render-blocking bytes, bytes before the first paint.
A page that misses a target today is listed in KNOWN_SHORTFALLS with what was measured: that check is
an expected failure, it fails if the page gets worse (for the quantities that do not vary with load),
and it fails once the page meets the target, so that the entry is removed.
"""
import os
import sys

import pytest

from book import ROOT, toc_files
from chromium import CHROMIUM_HELP, find_chromium

sys.path.insert(0, str(ROOT / "tools"))
import lighthouse  # noqa: E402

HTML = ROOT / "_build" / "html"
PAGES = lighthouse.pages()
MAX_RUNS = 3
PERFORMANCE_TARGET = 95
OTHER_TARGET = 100          # accessibility, best practices, SEO

# Budgets that a page meeting the performance target satisfies, from Lighthouse's mobile simulation
# (slow 4G: 150 ms round trips, 1.6 Mbit/s = 204.8 kB/s; CPU 4 x slower) and its scoring curves
# (FCP 0.9 at 1.8 s, LCP 0.9 at 2.5 s; weights FCP 10, SI 10, LCP 25, TBT 30, CLS 25).
#
# Bytes before the first paint (the HTML, all of which the simulation fetches before what it links, and
# the render-blocking requests): the landing page meets the target with 125.9 kB (FCP 1.88 s, LCP 2.18 s,
# measured 2026-12-01); every further kB delays FCP and LCP by 1/204.8 s. With Lighthouse's curves, even
# with TBT 0, CLS 0 and Speed Index equal to FCP, the score falls below 95 past 195 kB.
BYTES_BEFORE_PAINT_BUDGET = 195_000
# Render-blocking bytes: every page fetches the same ones (the stylesheet bundle, the two theme scripts
# it preloads, two icon fonts), so the lightest page bounds them: the landing page (7.7 kB of HTML)
# scores 95 with 118.1 kB of them (FCP 1.84 s, LCP 2.14 s, SI 3.90 s, TBT 113 ms, measured 2026-12-01);
# by Lighthouse's curves 9 kB more (44 ms later) would take it below 95, and no other page can afford more.
RENDER_BLOCKING_BUDGET = 127_000
# DOM elements: Lighthouse's own limit (its dom-size audit scores 0.5 at 1,400 elements and calls more
# "excessive"). The score does not bound it yet: the only page meeting the target is the landing page
# (443 elements), and the style-and-layout time per element, which would turn TBT into a DOM size, was
# measured only under heavy load (0.3-1.1 ms per element observed at a load average of 5-14 on 2
# cores), which overstates it. Revisit once a chapter page meets the target.
DOM_BUDGET = 1_400

# Pages below a target today, with what was measured: 2026-12-01, `make lighthouse` (one mobile run a
# page) on the site with math as MathML and the purged stylesheet, the machine otherwise idle (load
# average 1-2). Every chapter's bytes before the first paint now meet their budget (105-113 kB, were
# 221-281 kB with MathJax's SVG), so those entries are gone. One entry per (page, check).
# Accessibility 96: in the one report inspected (chapter 7), Lighthouse's axe failed
# colour contrast on internal reference links; tests/test_site.py's axe, which first renders the
# off-screen sections that content-visibility: auto leaves unrendered, finds no violation, so those
# sections are the likely cause (not yet confirmed). Remove an entry when its page meets the target.
KNOWN_SHORTFALLS = {
    ("chapters/01_vectors", "performance"): 74,
    ("chapters/01_vectors", "accessibility"): 96,
    ("chapters/01_vectors", "dom_elements"): 9356,
    ("chapters/02_matrices", "performance"): 65,
    ("chapters/02_matrices", "accessibility"): 96,
    ("chapters/02_matrices", "dom_elements"): 9714,
    ("chapters/03_linear_systems", "performance"): 72,
    ("chapters/03_linear_systems", "accessibility"): 96,
    ("chapters/03_linear_systems", "dom_elements"): 9408,
    ("chapters/04_inverses_determinants", "performance"): 66,
    ("chapters/04_inverses_determinants", "accessibility"): 96,
    ("chapters/04_inverses_determinants", "dom_elements"): 10917,
    ("chapters/05_vector_spaces", "performance"): 69,
    ("chapters/05_vector_spaces", "accessibility"): 96,
    ("chapters/05_vector_spaces", "dom_elements"): 8067,
    ("chapters/06_eigenvalues_1", "performance"): 68,
    ("chapters/06_eigenvalues_1", "accessibility"): 96,
    ("chapters/06_eigenvalues_1", "dom_elements"): 8764,
    ("chapters/07_eigenvalues_2", "performance"): 64,
    ("chapters/07_eigenvalues_2", "accessibility"): 96,
    ("chapters/07_eigenvalues_2", "dom_elements"): 10847,
    ("chapters/08_orthogonality", "performance"): 65,
    ("chapters/08_orthogonality", "accessibility"): 96,
    ("chapters/08_orthogonality", "dom_elements"): 10867,
    ("chapters/09_least_squares", "performance"): 70,
    ("chapters/09_least_squares", "accessibility"): 96,
    ("chapters/09_least_squares", "dom_elements"): 9602,
    ("chapters/10_svd", "performance"): 80,
    ("chapters/10_svd", "accessibility"): 96,
    ("chapters/10_svd", "dom_elements"): 8274,
    ("chapters/11_pca", "performance"): 67,
    ("chapters/11_pca", "accessibility"): 96,
    ("chapters/11_pca", "dom_elements"): 9092,
    ("chapters/12_neurons_to_attention", "performance"): 43,
    ("chapters/12_neurons_to_attention", "accessibility"): 96,
    ("chapters/12_neurons_to_attention", "dom_elements"): 11832,
    ("chapters/A_matrix_calculus", "performance"): 67,
    ("chapters/A_matrix_calculus", "accessibility"): 96,
    ("chapters/A_matrix_calculus", "dom_elements"): 13446,
    ("chapters/B_probability_vectors", "performance"): 69,
    ("chapters/B_probability_vectors", "accessibility"): 96,
    ("chapters/B_probability_vectors", "dom_elements"): 11782,
}
# Checks whose value does not depend on the machine's load: a known shortfall may not get worse.
INVARIANT = {"accessibility", "best-practices", "seo", "dom_elements", "render_blocking_bytes", "bytes_before_paint"}
CHECKS = {  # check: (quantity, target, True if the value must be at least the target, else at most)
    "performance": ("performance", PERFORMANCE_TARGET, True),
    "accessibility": ("accessibility", OTHER_TARGET, True),
    "best-practices": ("best-practices", OTHER_TARGET, True),
    "seo": ("seo", OTHER_TARGET, True),
    "dom_elements": ("dom_elements", DOM_BUDGET, False),
    "render_blocking_bytes": ("render_blocking_bytes", RENDER_BLOCKING_BUDGET, False),
    "bytes_before_paint": ("bytes_before_paint", BYTES_BEFORE_PAINT_BUDGET, False),
}
# A page whose performance is a known shortfall is measured once: its entry fails when that one run
# reaches the target (then measure it again, and remove the entry); the others get up to MAX_RUNS.
SOURCES = ["_config.yml", "_toc.yml", "tools/render_math.js", "tools/lafml_site", "_static"]


def source_of(page):
    for suffix in (".ipynb", ".md"):
        if (ROOT / f"{page}{suffix}").exists():
            return ROOT / f"{page}{suffix}"
    raise AssertionError(f"{page}: no source file (.ipynb or .md) for this page of _toc.yml")


def newest(path):
    path = ROOT / path
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return max(files, key=lambda p: p.stat().st_mtime)


def stale_pages():
    """Pages whose HTML is older than their source, or than the extension, static files and configuration."""
    stale = []
    for page in PAGES:
        built = (HTML / f"{page}.html").stat().st_mtime
        for source in [source_of(page)] + [newest(s) for s in SOURCES]:
            if source.stat().st_mtime > built:
                stale.append(f"{page}.html is older than {source.relative_to(ROOT)}")
                break
    return stale


@pytest.fixture(scope="module")
def server():
    """The site tests/test_site.py built (this phase never builds), served gzipped on 127.0.0.1."""
    try:
        lighthouse.lighthouse_cli()
        lighthouse.check_site(HTML, PAGES)
    except lighthouse.LighthouseError as error:
        pytest.fail(f"{error} (this phase measures the site tests/test_site.py built; it does not build)",
                    pytrace=False)
    stale = stale_pages()
    if stale:
        pytest.fail("the built site is stale: " + "; ".join(stale[:3]) +
                    ". Rebuild it: `rm -rf _build/html && make render` (or run `make test`)", pytrace=False)
    if find_chromium() is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM_HELP}", pytrace=False)
        pytest.skip(f"Lighthouse tests skipped: {CHROMIUM_HELP}")
    with lighthouse.serve(HTML) as url:
        yield url


MEASURED = {}


@pytest.fixture
def measured(server, request):
    """The page's measurement, once per page for all its checks."""
    page = request.node.callspec.params["page"]
    if page not in MEASURED:
        known = (page, "performance") in KNOWN_SHORTFALLS
        try:
            MEASURED[page] = lighthouse.measure_page(
                server, page, "mobile", runs=1 if known else MAX_RUNS,
                stop=lambda run: run["performance"] >= PERFORMANCE_TARGET)
        except lighthouse.LighthouseError as error:
            MEASURED[page] = error
    if isinstance(MEASURED[page], Exception):
        pytest.fail(str(MEASURED[page]), pytrace=False)
    return MEASURED[page]


def describe(check, value):
    if check.endswith("bytes") or check.endswith("paint"):
        return f"{value / 1000:.1f} kB"
    return f"{value:,.0f}"


@pytest.mark.parametrize("check", list(CHECKS))
@pytest.mark.parametrize("page", PAGES)
def test_lighthouse(measured, page, check):
    quantity, target, at_least = CHECKS[check]
    value = measured["best"][quantity]
    meets = value >= target if at_least else value <= target
    runs = measured["runs"] if check == "performance" else 1
    said = f"{page}: {check} {describe(check, value)} (best of {runs} mobile run(s)); target {'≥' if at_least else '≤'} " \
           f"{describe(check, target)}"
    if (page, check) in KNOWN_SHORTFALLS:
        recorded = KNOWN_SHORTFALLS[(page, check)]
        if meets:
            pytest.fail(f"{said}: meets it now, remove ({page!r}, {check!r}) from KNOWN_SHORTFALLS", pytrace=False)
        if check in INVARIANT and (value < recorded if at_least else value > recorded * 1.02):
            pytest.fail(f"{said}: worse than the {describe(check, recorded)} recorded in KNOWN_SHORTFALLS", pytrace=False)
        pytest.xfail(f"{said} (known shortfall, recorded {describe(check, recorded)})")
    if not meets:
        pytest.fail(said, pytrace=False)


def test_every_page_is_measured():
    """The pages measured are the landing page and every chapter and appendix of _toc.yml, and every
    known shortfall names one of them and a check."""
    files = toc_files()
    assert PAGES == [files[0]] + [f for f in files if f.startswith("chapters/")]
    unknown = [key for key in KNOWN_SHORTFALLS if key[0] not in PAGES or key[1] not in CHECKS]
    assert not unknown, f"KNOWN_SHORTFALLS entries that name no page or check: {unknown}"

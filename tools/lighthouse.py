"""Lighthouse (the version pinned in package.json) against the built site, as a phone and a desktop see it.

    python tools/lighthouse.py [--runs 3] [--form-factor mobile desktop] [--page intro ...] [--json FILE]

Serves `_build/html` gzipped on 127.0.0.1 (an ephemeral port), then for the landing page and every
chapter and appendix in _toc.yml runs Lighthouse in Chromium (the flags of the browser tests, plus
--headless=new): mobile is Lighthouse's default (a simulated mid-range phone on slow 4G, simulated
throttling), desktop is `--preset=desktop`. Prints a Markdown table (best and median of the runs) and,
with --json, writes every run's numbers.

Two kinds of run, so that the slow, load-independent audits run once and the noisy score as often as asked:
  * the first run of a page (mobile) is a full one: the four categories, every audit; accessibility,
    best practices and SEO (axe, the console, meta tags) do not depend on the machine's load;
  * the other runs are performance runs: only the five metrics the score is made of (FCP, LCP, TBT,
    CLS, Speed Index, with Lighthouse's weights, so the score is its own) and the audits read below
    (dom-size, network-requests), which spares the other gatherers (a third of a run on a chapter page).
Per page this gives the four category scores, FCP, LCP, TBT, CLS, SI, DOM elements, and:
  * render-blocking requests and bytes: the requests that Lighthouse's simulated first paint waits for,
    by its own rule (lantern's NetworkNode.hasRenderBlockingPriority: priority VeryHigh, or High for a
    script), read from the network-requests audit, the page itself excepted. (The render-blocking-resources
    audit lists nothing on 127.0.0.1: it drops requests that took under 50 ms to download.)
  * bytes before first paint: the page's HTML plus those requests, gzipped as transferred. In the
    simulation a request the HTML links starts only once the whole HTML has arrived, so all of it counts.
These three and the DOM size come from the page and the server, not from the machine's load.
"""
import argparse
import functools
import gzip
import http.server
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
NODE_MODULES = ROOT / "node_modules"
sys.path.insert(0, str(ROOT / "tests"))
from book import toc_files  # noqa: E402
from chromium import CHROMIUM_ARGS, CHROMIUM_HELP, find_chromium  # noqa: E402
sys.path.insert(0, str(ROOT / "tools"))
import nodejs  # noqa: E402

FORM_FACTORS = ("mobile", "desktop")
AUDIT_CATEGORIES = ("accessibility", "best-practices", "seo")
METRICS = {"fcp": "first-contentful-paint", "lcp": "largest-contentful-paint", "tbt": "total-blocking-time",
           "cls": "cumulative-layout-shift", "si": "speed-index"}
PERFORMANCE_AUDITS = (*METRICS.values(), "dom-size", "network-requests")
# Per quantity: True when larger is better (scores); best-of-runs takes the max of these, the min of the rest.
HIGHER_IS_BETTER = {"performance": True, "accessibility": True, "best-practices": True, "seo": True}
RUN_TIMEOUT = 240  # seconds for one Lighthouse run; a chapter page took 20-60 s at a load average of 4-14 on 2 cores


class LighthouseError(RuntimeError):
    """Lighthouse could not measure: what is missing, or which page failed, and how to fix it."""


def pages():
    """The pages measured: the landing page and every chapter and appendix, in reading order."""
    files = toc_files()
    return [files[0]] + [f for f in files[1:] if f.startswith("chapters/")]


def pinned_version():
    return json.loads((ROOT / "package.json").read_text())["dependencies"]["lighthouse"]


def lighthouse_cli():
    """Lighthouse's command line in node_modules, checked to be the version package.json pins."""
    installed = NODE_MODULES / "lighthouse" / "package.json"
    wanted = pinned_version()
    if not installed.exists():
        raise LighthouseError(f"Lighthouse {wanted} is not installed in node_modules: run `make install` "
                              "(npm ci from package-lock.json, with the pinned Node.js of tools/nodejs.py)")
    version = json.loads(installed.read_text())["version"]
    if version != wanted:
        raise LighthouseError(f"node_modules holds Lighthouse {version}, package.json pins {wanted}: run `make install`")
    return NODE_MODULES / "lighthouse" / "cli" / "index.js"


def chromium():
    executable = find_chromium()
    if executable is None:
        raise LighthouseError(CHROMIUM_HELP)
    return executable


def check_site(html=HTML, page_list=None):
    """The built site must exist and hold every page measured; else say how to build it."""
    if not (html / "index.html").exists():
        raise LighthouseError(f"no built site in {html}: run `make render` (or `make book`) first")
    missing = [p for p in (page_list or pages()) if not (html / f"{p}.html").exists()]
    if missing:
        raise LighthouseError(f"pages missing from {html}: {missing}; run `make render`")


# ---------------------------------------------------------------- the server

class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """A static server that compresses text as a production host would (gzip level 6, cached in memory)."""
    COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
    cache = {}

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        ctype = self.guess_type(str(path))
        if (not path.is_file() or "gzip" not in self.headers.get("Accept-Encoding", "")
                or not ctype.startswith(self.COMPRESSIBLE)):
            return super().send_head()
        key = (path, path.stat().st_mtime_ns)
        if key not in self.cache:
            self.cache[key] = gzip.compress(path.read_bytes(), 6)
        body = self.cache[key]
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@contextmanager
def serve(html=HTML):
    """Serve `html` on 127.0.0.1 at an ephemeral port; yields the base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(GzipHandler, directory=str(html)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


# ---------------------------------------------------------------- one run

def run_lighthouse(base_url, page, form_factor, kind, executable=None):
    """One Lighthouse run of one page; returns the parsed report. kind is "performance" (the score's five
    metrics and the audits numbers() reads) or "all" (the four categories, every audit)."""
    cli = lighthouse_cli()
    executable = executable or chromium()
    args = [str(cli), f"{base_url}/{page}.html", "--quiet", "--output=json",
            f"--chrome-flags={' '.join(CHROMIUM_ARGS + ['--headless=new'])}", "--disable-full-page-screenshot"]
    if form_factor == "desktop":
        args.append("--preset=desktop")
    elif form_factor != "mobile":
        raise ValueError(f"form factor {form_factor!r}: expected one of {FORM_FACTORS}")
    if kind == "performance":
        args += ["--only-categories=performance", f"--only-audits={','.join(PERFORMANCE_AUDITS)}"]
    elif kind == "all":
        args.append(f"--only-categories={','.join(('performance',) + AUDIT_CATEGORIES)}")
    else:
        raise ValueError(f"kind {kind!r}: expected 'performance' or 'all'")
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as tmp:
        out = Path(tmp) / "report.json"
        env = {**nodejs.node_env(), "CHROME_PATH": executable, "TMPDIR": tmp}
        try:
            result = subprocess.run([str(nodejs.node_bin_dir() / "node"), *args, f"--output-path={out}"],
                                    env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise LighthouseError(f"{page} ({form_factor}): Lighthouse took more than {RUN_TIMEOUT} s") from None
        report = json.loads(out.read_text()) if out.exists() else {}
    if report.get("runtimeError"):  # e.g. ERRORED_DOCUMENT_REQUEST (404), NO_FCP (nothing painted)
        error = report["runtimeError"]
        raise LighthouseError(f"{page} ({form_factor}): the page did not load in Lighthouse: "
                              f"{error.get('code')}: {error.get('message')}")
    if result.returncode != 0 or not report:
        raise LighthouseError(f"{page} ({form_factor}): Lighthouse failed (exit {result.returncode}):\n"
                              f"{result.stderr[-2000:]}")
    return report


def render_blocking(report):
    """(requests, bytes) that Lighthouse's simulated first paint waits for, and the page's own HTML bytes."""
    items = report["audits"]["network-requests"]["details"]["items"]
    document = next(i for i in items if i["resourceType"] == "Document")
    blocking = [i for i in items if i is not document
                and (i["priority"] == "VeryHigh" or (i["priority"] == "High" and i["resourceType"] == "Script"))]
    return blocking, document["transferSize"]


def numbers(report):
    """The quantities one run measured, as plain numbers (milliseconds, bytes, counts, scores 0-100)."""
    audits, got = report["audits"], {}
    for category, value in report["categories"].items():
        if value["score"] is None:
            raise LighthouseError(f"{report['requestedUrl']}: no {category} score "
                                  f"({report.get('runWarnings') or 'Lighthouse gave no reason'})")
        got[category] = round(value["score"] * 100)
    for key, audit in METRICS.items():
        got[key] = audits[audit]["numericValue"]
    got["dom_elements"] = audits["dom-size"]["numericValue"]
    blocking, document = render_blocking(report)
    got["render_blocking_requests"] = len(blocking)
    got["render_blocking_bytes"] = sum(i["transferSize"] for i in blocking)
    got["bytes_before_paint"] = document + got["render_blocking_bytes"]
    got["bytes_total"] = sum(i["transferSize"] for i in audits["network-requests"]["details"]["items"])
    breakdown = audits.get("mainthread-work-breakdown", {}).get("details", {}).get("items", [])
    if breakdown:  # full runs only: main-thread time of the observed (unthrottled) load, by kind of work
        got["style_layout_ms"] = sum(i["duration"] for i in breakdown if i["group"] == "styleLayout")
    return got


def summarise(runs):
    """Best and median of each quantity over runs (a list of dicts from numbers()); a quantity only some
    runs measured (the categories of the first run) is summarised over those."""
    out = {"runs": len(runs), "best": {}, "median": {}}
    for key in dict.fromkeys(k for r in runs for k in r):
        values = [r[key] for r in runs if key in r]
        out["best"][key] = max(values) if HIGHER_IS_BETTER.get(key) else min(values)
        out["median"][key] = statistics.median(values)
    return out


def measure_page(base_url, page, form_factor="mobile", runs=3, stop=None, executable=None, audit=True):
    """Measure one page with up to `runs` runs, stopping early once stop(numbers of the run) is true.

    With audit, the first run is a full one (all four categories: axe, the console, meta tags, which do
    not depend on the machine's load, measured once), the others performance runs; the performance
    score is measured alike in both (the trace is taken before the other gatherers run)."""
    measured = []
    for i in range(runs):
        kind = "all" if audit and i == 0 else "performance"
        measured.append(numbers(run_lighthouse(base_url, page, form_factor, kind, executable)))
        if stop is not None and stop(measured[-1]):
            break
    return {"page": page, "form_factor": form_factor, "all": measured, **summarise(measured)}


def measure(page_list=None, form_factors=FORM_FACTORS, runs=3, html=HTML, audit_form_factors=("mobile",),
            progress=None):
    """Every page in every form factor; the load-independent categories for audit_form_factors only."""
    page_list = page_list or pages()
    lighthouse_cli()
    executable = chromium()
    check_site(html, page_list)
    results = []
    load_before = os.getloadavg()
    started = time.perf_counter()
    with serve(html) as base_url:
        for page in page_list:
            for form_factor in form_factors:
                results.append(measure_page(base_url, page, form_factor, runs, executable=executable,
                                            audit=form_factor in audit_form_factors))
                if progress:
                    progress(f"{page} {form_factor}: performance "
                             f"{results[-1]['best']['performance']} "
                             f"({time.perf_counter() - started:.0f} s)")
    return {"lighthouse": pinned_version(), "date": time.strftime("%Y-%m-%d"), "runs": runs,
            "load_average_before": load_before, "load_average": os.getloadavg(), "cores": os.cpu_count(), "seconds": time.perf_counter() - started,
            "results": results}


# ---------------------------------------------------------------- the table

def page_name(page):
    """'landing page', 'chapter 7', 'appendix A', from the file name."""
    if not page.startswith("chapters/"):
        return "landing page"
    stem = page.split("/")[-1]
    number = stem.split("_")[0]
    return f"chapter {int(number)}" if number.isdigit() else f"appendix {number}"


def table(measured):
    """The Markdown table for the README: per page, mobile then desktop, best (median) of the runs."""
    by = {(r["page"], r["form_factor"]): r for r in measured["results"]}
    page_list = list(dict.fromkeys(r["page"] for r in measured["results"]))
    factors = [f for f in FORM_FACTORS if any(r["form_factor"] == f for r in measured["results"])]
    load = f"{measured['load_average'][0]:.1f} at the end"
    if "load_average_before" in measured:
        load = f"{measured['load_average_before'][0]:.1f} at the start, " + load
    lines = [f"Lighthouse {measured['lighthouse']}, measured {measured['date']} by `tools/lighthouse.py` on "
             f"{measured['cores']} cores (1-minute load average {load}, "
             f"{measured['seconds'] / 60:.0f} min), pages served gzipped on 127.0.0.1; "
             f"performance and timings: best of {measured['runs']} run(s), median in brackets; "
             "accessibility, best practices and SEO from one mobile run. Mobile is Lighthouse's simulated "
             "phone on slow 4G, desktop `--preset=desktop`. Render-blocking and before-first-paint bytes are "
             "gzipped, as Lighthouse's simulation counts them (see `tools/lighthouse.py`).", ""]
    head = ["page"]
    for f in factors:
        head += [f"{f} performance", f"{f} FCP", f"{f} LCP", f"{f} TBT", f"{f} CLS"]
    head += ["DOM elements", "render-blocking", "before first paint", "accessibility", "best practices", "SEO"]
    lines += ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]

    def pair(result, key, fmt):
        return f"{fmt(result['best'][key])} ({fmt(result['median'][key])})"

    seconds = lambda ms: f"{ms / 1000:.1f} s"  # noqa: E731
    for page in page_list:
        row = [page_name(page)]
        for f in factors:
            r = by[(page, f)]
            row += [pair(r, "performance", str), pair(r, "fcp", seconds), pair(r, "lcp", seconds),
                    pair(r, "tbt", lambda ms: f"{ms:.0f} ms"), pair(r, "cls", lambda v: f"{v:.2f}")]
        first = by[(page, factors[0])]
        best = first["best"]
        row += [f"{best['dom_elements']:,.0f}",
                f"{best['render_blocking_requests']} / {best['render_blocking_bytes'] / 1000:.0f} kB",
                f"{best['bytes_before_paint'] / 1000:.0f} kB"]
        audited = next((by[(page, f)]["best"] for f in factors if "seo" in by[(page, f)]["best"]), {})
        row += [str(audited.get(c, "not measured")) for c in AUDIT_CATEGORIES]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="performance runs per page and form factor")
    parser.add_argument("--form-factor", nargs="+", choices=FORM_FACTORS, default=list(FORM_FACTORS))
    parser.add_argument("--page", nargs="+", help=f"pages to measure (default: all of {pages()})")
    parser.add_argument("--json", type=Path, help="write every run's numbers here")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    unknown = set(args.page or []) - set(toc_files())
    if unknown:
        parser.error(f"not pages of _toc.yml: {sorted(unknown)}")
    try:
        measured = measure(args.page, args.form_factor, args.runs, progress=lambda m: print(m, file=sys.stderr))
    except LighthouseError as error:
        sys.exit(f"lighthouse: {error}")
    if args.json:
        args.json.write_text(json.dumps(measured, indent=1) + "\n")
    print(table(measured))


if __name__ == "__main__":
    main()

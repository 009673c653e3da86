"""Time the book's build and tests on this machine and print a table (medians of --repeat runs).

    python tools/benchmark.py [--repeat 3] [--skip-test] [--update-readme]
    python tools/benchmark.py --lighthouse-only [--lighthouse-runs 3] [--update-readme]

(a) cold `make book`                       clean _build, parallel execution into the cache, render
(b) plain serial Jupyter Book              `jupyter-book build --all`, execute_notebooks: force
(c) `make preview` after a prose edit      one markdown cell of one chapter changed
(d) `make preview` after a code edit       one code cell of one chapter changed
(e) `make test`                            the whole suite
(f) floor                                  the chapters' own execution times (from (b)) / cores
(g) rendering alone                        `make render` from the cache (a) filled, after removing the HTML

Then Lighthouse (tools/lighthouse.py) measures the landing page and every chapter of the site the
timings left in _build/html, mobile and desktop, and --update-readme writes that table too (between the
lighthouse markers). --lighthouse-only measures only that, on the site already built (`make render`
first), without re-timing the build.

Figures go to a temporary folder and edited chapters are restored byte for byte afterwards, so the
benchmark leaves the working tree as it found it. Timings on a shared machine are noisy: compare the
ratios within one run.
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
EDITED = ROOT / "chapters" / "01_vectors.ipynb"
README_MARK = re.compile(r"(<!-- benchmark:start -->\n).*?(<!-- benchmark:end -->)", re.S)
LIGHTHOUSE_MARK = re.compile(r"(<!-- lighthouse:start -->\n).*?(<!-- lighthouse:end -->)", re.S)


def timed(cmd, env, check=True):
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if check and result.returncode != 0:
        sys.exit(f"benchmark: {' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds, result.stdout + result.stderr


def serial_reference(env):
    """Plain Jupyter Book: force-execute every notebook one after another, into its own output folder."""
    config = ROOT / "_build" / "bench-serial-config.yml"
    config.parent.mkdir(exist_ok=True)
    text = (ROOT / "_config.yml").read_text().replace("execute_notebooks: cache", "execute_notebooks: force")
    # Jupyter Book resolves local extensions relative to the config file, which lives elsewhere here.
    text = text.replace("lafml_site: tools/", f"lafml_site: {ROOT / 'tools'}/")
    config.write_text(text)
    out = Path(tempfile.mkdtemp(prefix="bench-serial-"))
    try:
        seconds, log = timed([str(BIN / "jupyter-book"), "build", "--all", "-W", "--keep-going", "--config",
                              str(config), "--path-output", str(out), "."], env)
    finally:
        shutil.rmtree(out, ignore_errors=True)
        config.unlink()
    executed = [float(s) for s in re.findall(r"Executed notebook in ([0-9.]+) seconds", log)]
    return seconds, executed


def edited(path, kind):
    """A copy of the notebook JSON with one markdown (prose) or code cell changed."""
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"][2:] if c["cell_type"] == kind)
    extra = " (benchmark edit)" if kind == "markdown" else "\n_benchmark_edit = 1"
    cell["source"] = "".join(cell["source"]) + extra
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def preview_after(kind, env):
    original = EDITED.read_bytes()
    try:
        EDITED.write_text(edited(EDITED, kind))
        seconds, log = timed(["make", "--no-print-directory", "preview"], env)
    finally:
        EDITED.write_bytes(original)
    timed(["make", "--no-print-directory", "preview"], env)  # back to the unedited state
    return seconds


def update_readme(mark, table):
    readme = ROOT / "README.md"
    text = readme.read_text()
    if not mark.search(text):
        sys.exit(f"benchmark: README.md has no {mark.pattern[3:mark.pattern.index('-->')].strip()} ... end markers")
    readme.write_text(mark.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text))


def lighthouse_table(runs, update):
    """Lighthouse on the built site (tools/lighthouse.py): the landing page and every chapter, mobile and desktop."""
    sys.path.insert(0, str(ROOT / "tools"))
    import lighthouse
    try:
        measured = lighthouse.measure(runs=runs, progress=lambda m: print(m, file=sys.stderr))
    except lighthouse.LighthouseError as error:
        sys.exit(f"benchmark: {error}")
    (ROOT / "_build" / "lighthouse.json").write_text(json.dumps(measured, indent=1) + "\n")
    table = lighthouse.table(measured)
    print(table)
    if update:
        update_readme(LIGHTHOUSE_MARK, table)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-test", action="store_true", help="leave out (e), the slowest")
    parser.add_argument("--update-readme", action="store_true")
    parser.add_argument("--lighthouse-only", action="store_true",
                        help="only the Lighthouse table, on the site already in _build/html")
    parser.add_argument("--lighthouse-runs", type=int, default=3, help="performance runs per page and form factor")
    args = parser.parse_args()
    if args.lighthouse_runs < 1:
        parser.error("--lighthouse-runs must be at least 1")
    if args.lighthouse_only:
        lighthouse_table(args.lighthouse_runs, args.update_readme)
        return
    figures = tempfile.mkdtemp(prefix="bench-figures-")
    env = {**os.environ, "LAFML_FIGURE_DIR": figures}
    cores = os.cpu_count()
    runs = {key: [] for key in "abcdeg"}
    floors = []
    for i in range(args.repeat):
        print(f"run {i + 1}/{args.repeat}", file=sys.stderr)
        seconds, executed = serial_reference(env)
        runs["b"].append(seconds)
        floors.append(sum(executed) / cores)
        runs["a"].append(timed(["make", "--no-print-directory", "book"], env)[0])
        shutil.rmtree(ROOT / "_build" / "html")
        shutil.rmtree(ROOT / "_build" / ".doctrees")
        runs["g"].append(timed(["make", "--no-print-directory", "render"], env)[0])
        runs["c"].append(preview_after("markdown", env))
        runs["d"].append(preview_after("code", env))
        if not args.skip_test:
            runs["e"].append(timed(["make", "--no-print-directory", "test"], env, check=False)[0])
    shutil.rmtree(figures, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in runs.items() if v}
    floor = statistics.median(floors)
    rows = [("(a) cold `make book`", med["a"]),
            ("(b) plain serial `jupyter-book build --all` (force)", med["b"]),
            ("(c) `make preview` after a prose edit", med["c"]),
            ("(d) `make preview` after a code edit", med["d"])]
    if "e" in med:
        rows.append(("(e) `make test`", med["e"]))
    rows.append(("(f) floor: chapters' execution time / cores", floor))
    rows.append(("(g) rendering alone (`make render`, warm cache)", med["g"]))
    machine = f"{platform.machine()}, {cores} cores, Python {platform.python_version()}, {platform.system()}"
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {machine}; medians of {args.repeat} run(s).", "",
             "| step | seconds |", "| --- | ---: |"] + [f"| {name} | {s:.1f} |" for name, s in rows]
    lines += ["", f"Ratios: (b)/(a) = {med['b'] / med['a']:.2f} (target ≥ 1.5); (a)/(f) = {med['a'] / floor:.2f}; "
              f"(a)/((f)+(g)) = {med['a'] / (floor + med['g']):.2f} (target ≤ 1.3)"]
    table = "\n".join(lines)
    print(table)
    if args.update_readme:
        update_readme(README_MARK, table)
    # The last timed step, (e) `make test` or else `make preview`, left the built site in _build/html.
    lighthouse_table(args.lighthouse_runs, args.update_readme)


if __name__ == "__main__":
    main()

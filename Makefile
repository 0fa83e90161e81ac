# Clustering by Alternating Optimisation: build, test and use the book.
# `make` or `make help` lists the targets (the list is in the `help` recipe below).

# The top level has a folder named book/: without .PHONY, `make book` would do nothing.
.PHONY: help book test serve lab student grade clean mutate
.DEFAULT_GOAL := help

# Results must not depend on the caller's shell. MPLBACKEND (or a MATPLOTLIBRC file) choosing
# Agg makes every inline figure vanish from the notebooks; PYTHONPATH (or PYTHONHOME) can import
# another copy of algos or numpy. No target passes them on; the tests (tests/conftest.py) drop
# them too when pytest is run directly.
unexport MPLBACKEND MATPLOTLIBRC PYTHONPATH PYTHONHOME

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements-installed
SITE   := _build/html
PORT   ?= 8000
LAB_CONFIG := $(CURDIR)/jupyter-config
# pytest arguments for `make test`, e.g. `make test PYTEST_ARGS="-x tests/test_site.py"`.
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one more than the CPUs, because many tests spend their time
# waiting on kernels, browsers and servers. Each test file runs whole in one process (a
# notebook's cells in order, one JupyterLab or graded class per file), the slowest files first
# (tests/conftest.py, SLOWEST_FIRST; xdist's own reordering is off). TEST_JOBS=0 runs serially.
TEST_JOBS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))

# JupyterLab refuses to run as root unless told to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

help:
	@echo "make book      build the website into _build/html (creates .venv on first use)"
	@echo "make test      build, then run every test: unit, notebooks (nbval), homework, browser"
	@echo "make serve     serve the built site on http://127.0.0.1:$(PORT)/ (PORT=... to change)"
	@echo "make lab       JupyterLab on book/, for class use"
	@echo "make student   student notebooks and the hand-out zip in _build/student/ (FORCE=1 overwrites edited ones)"
	@echo "make grade NB=path/to/notebook.ipynb (or DIR=path/to/folder)   grade one notebook, or every notebook below a folder into _build/grades/ (JOBS=n, SEED=n, TIMEOUT=s, MEMORY=2G per process, STRICT=1)"
	@echo "make clean     remove _build/ (site, execution cache, student notebooks) and test caches"
	@echo "make mutate    mutation testing of algos (hours; not part of make test): scores in _build/mutation/ (MUTANTS='algos.gmm1d.*' re-tests only those)"
	@echo "make help      this list"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)

# Install (again) only when the pinned requirements change; requirements.txt pulls in
# constraints.txt, which pins every transitive dependency. pip compiles what it installs one
# file after another; compileall does the same work on every CPU (a fresh install: 100 s -> 80 s
# on two cores).
$(STAMP): requirements.txt constraints.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check --no-compile -r requirements.txt
	$(PY) -m compileall -q -j 0 $(VENV)/lib
	@touch $@

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo
	@echo "The book is built. Open file://$(CURDIR)/$(SITE)/index.html"
	@echo "or run 'make serve' and browse http://127.0.0.1:$(PORT)/"

test: book
	$(PY) -m pytest $(if $(filter 0,$(TEST_JOBS)),,-n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder) $(PYTEST_ARGS)

serve:
	@test -f $(SITE)/index.html || { echo "No site in $(SITE): run 'make book' first."; exit 2; }
	@echo "Serving $(SITE) on http://127.0.0.1:$(PORT)/ (Ctrl+C stops)"
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory $(SITE)

# jupyter-config/ adds the classroom defaults (no news pop-up, no update check, book/_ext and
# caches hidden from the file browser) to the user's own Jupyter configuration, which wins.
lab: $(STAMP)
	JUPYTER_CONFIG_PATH="$(LAB_CONFIG)$(if $(JUPYTER_CONFIG_PATH),:$(JUPYTER_CONFIG_PATH))" \
		$(VENV)/bin/jupyter lab --ServerApp.root_dir=book --ServerApp.ip=127.0.0.1 $(ALLOW_ROOT)

# The homework tools (grading/) run from the repository root, so NB=... and DIR=... are
# paths relative to where you typed `make`. make's own exit code is 2 whenever the grader's
# is not 0; the README gives the direct command that keeps the grader's codes.
student: $(STAMP)
	$(PY) -m grading student $(if $(filter 1 yes true,$(FORCE)),--force)

# Checked before anything else runs (a fresh machine would otherwise install first).
ifneq ($(filter grade,$(MAKECMDGOALS)),)
ifeq ($(strip $(NB))$(strip $(DIR)),)
$(error Usage: make grade NB=path/to/notebook.ipynb  or  make grade DIR=path/to/folder)
endif
ifneq ($(strip $(NB)),)
ifneq ($(strip $(DIR)),)
$(error make grade takes NB=... or DIR=..., not both)
endif
endif
endif

grade: $(STAMP)
	$(PY) -m grading grade "$(or $(NB),$(DIR))" $(if $(TIMEOUT),--timeout $(TIMEOUT)) \
		$(if $(SEED),--seed $(SEED)) $(if $(JOBS),--jobs $(JOBS)) $(if $(MEMORY),--memory $(MEMORY)) \
		$(if $(filter 1 yes true,$(STRICT)),--strict)

# mutmut runs in _build/mutation, where algos/ and tests/ link to book/algos and tests/ (see
# pyproject's [tool.mutmut]); it keeps its results in mutants/ there.
MUTATION := _build/mutation
MUTATE_JOBS ?= 2
mutate: $(STAMP)
	@mkdir -p $(MUTATION)
	ln -sfn ../../book/algos $(MUTATION)/algos
	ln -sfn ../../tests $(MUTATION)/tests
	ln -sfn ../../pyproject.toml $(MUTATION)/pyproject.toml
	$(if $(MUTANTS),,rm -rf $(MUTATION)/mutants)
	cd $(MUTATION) && start=$$(date +%s) && \
		env -u PYTHONPATH -u MPLBACKEND OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
		$(CURDIR)/$(VENV)/bin/mutmut run --max-children $(MUTATE_JOBS) $(foreach m,$(MUTANTS),'$(m)') && \
		echo "mutation run: $$(( $$(date +%s) - start )) s wall time on $$(nproc) cores"
	cd $(MUTATION) && $(CURDIR)/$(PY) $(CURDIR)/tests/mutation/scores.py

clean:
	rm -rf _build .pytest_cache .hypothesis

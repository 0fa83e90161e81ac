# Clustering by Alternating Optimisation: build, test and use the book.
# `make` or `make help` lists the targets (the list is in the `help` recipe below).

# The top level has a folder named book/: without .PHONY, `make book` would do nothing.
.PHONY: help book test serve lab student grade clean
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

# JupyterLab refuses to run as root unless told to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

help:
	@echo "make book      build the website into _build/html (creates .venv on first use)"
	@echo "make test      build, then run every test: unit, notebooks (nbval), homework, browser"
	@echo "make serve     serve the built site on http://127.0.0.1:$(PORT)/ (PORT=... to change)"
	@echo "make lab       JupyterLab on book/, for class use"
	@echo "make student   student notebooks and the hand-out zip in _build/student/ (FORCE=1 overwrites edited ones)"
	@echo "make grade NB=path/to/notebook.ipynb   grade one notebook: a line per exercise"
	@echo "make grade DIR=path/to/folder   grade every notebook below the folder into _build/grades/"
	@echo "               (grades.csv, feedback/); JOBS=n at a time; SEED=n, TIMEOUT=s per cell,"
	@echo "               MEMORY=2G per process; STRICT=1 refuses to grade without the sandbox"
	@echo "make clean     remove _build/ (site, execution cache, student notebooks) and test caches"
	@echo "make help      this list"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)

# Install (again) only when the pinned requirements change; requirements.txt pulls in
# constraints.txt, which pins every transitive dependency.
$(STAMP): requirements.txt constraints.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -r requirements.txt
	@touch $@

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo
	@echo "The book is built. Open file://$(CURDIR)/$(SITE)/index.html"
	@echo "or run 'make serve' and browse http://127.0.0.1:$(PORT)/"

test: book
	$(PY) -m pytest $(PYTEST_ARGS)

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

clean:
	rm -rf _build .pytest_cache .hypothesis

# Clustering by Alternating Optimisation: build, test and use the book.
#
#   make book      build the website into _build/html (creates .venv on first use)
#   make test      build, then run every test: unit, notebooks (nbval), homework, browser
#   make serve     serve the built site on http://127.0.0.1:8000
#   make lab       JupyterLab on book/, for class use
#   make student   write student notebooks (solutions removed) to _build/student/ (FORCE=1 to
#                  overwrite notebooks someone has edited)
#   make grade NB=path/to/notebook.ipynb   grade a student's notebook (TIMEOUT=s per cell)
#   make clean     remove _build/ (site, execution cache, student notebooks) and test caches
#   make mutate    mutation testing of the algorithm modules (slow; not part of `make test`):
#                  per-module scores in _build/mutation/scores.md. MUTANTS='algos.gmm1d.*'
#                  re-tests only the matching mutants and keeps the other results

# The top level has a folder named book/: without .PHONY, `make book` would do nothing.
.PHONY: book test serve lab student grade clean mutate

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements-installed
SITE   := _build/html
PORT   ?= 8000
# pytest arguments for `make test`, e.g. `make test PYTEST_ARGS="-x tests/test_site.py"`.
PYTEST_ARGS ?=

# JupyterLab refuses to run as root unless told to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

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

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=book --ServerApp.ip=127.0.0.1 \
		--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate $(ALLOW_ROOT)

# The homework tool runs from the repository root with book/ on the import path, so
# NB=... is a path relative to where you typed `make`.
student: $(STAMP)
	PYTHONPATH=book $(PY) -m algos.homework student $(if $(filter 1 yes true,$(FORCE)),--force)

# Checked before anything else runs (a fresh machine would otherwise install first).
ifneq ($(filter grade,$(MAKECMDGOALS)),)
ifeq ($(strip $(NB)),)
$(error Usage: make grade NB=path/to/notebook.ipynb)
endif
endif

grade: $(STAMP)
	PYTHONPATH=book $(PY) -m algos.homework grade "$(NB)" $(if $(TIMEOUT),--timeout $(TIMEOUT))

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

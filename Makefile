# Every target installs what it needs into .venv on first use, so a fresh checkout with only
# Python 3.11 needs one command: a virtual environment, because Debian's system pip refuses
# to install (PEP 668). An edited pyproject.toml triggers a reinstall.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-slow lint docs

# The 2015 PyMC notebook's analysis.
demo: $(VENV)/.installed-run
	$(PY) -m bayes_gmm demo

# The fast default run: everything but the tests marked slow, a process per core
# (pytest-xdist), a test file per process at a time so that module fixtures fit once.
test: $(VENV)/.installed-dev
	$(PY) -m pytest -n auto --dist loadfile

# The slow statistical suite (calibration, sampler agreement, Metropolis runs), with
# progress and the time of every test, a process per core: most of its tests run one
# chain, on one core.
test-slow: $(VENV)/.installed-dev
	$(PY) -m pytest -m slow -n auto -v --durations=0

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Warnings are errors; the build executes the gallery of examples/ and fails if one fails.
docs: $(VENV)/.installed-dev
	MPLBACKEND=Agg $(PY) -m sphinx -W -q -b html docs docs/_build/html

# The demo needs the package alone; the tests, lint and docs need its extras too.
$(VENV)/.installed-run: EXTRAS :=
$(VENV)/.installed-dev: EXTRAS := [test,docs,dask]
$(VENV)/.installed-%: pyproject.toml
	@echo "Installing bayes_gmm$(EXTRAS) into $(VENV)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".$(EXTRAS)"
	touch $@

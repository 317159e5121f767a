# Two commands on a fresh machine with Python 3.11 + pip: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint bench docs clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.base
	$(VENV)/bin/sedtheory run --out results

lint: $(VENV)/.test
	$(VENV)/bin/ruff check sedtheory tests benchmarks
	$(VENV)/bin/mypy sedtheory

test: $(VENV)/.test lint docs
	$(PY) -m pytest -n 2 -p no:cacheprovider

docs: $(VENV)/.test
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir $(VENV)/site
	$(PY) docs/_ext/check_site.py $(VENV)/site

bench: $(VENV)/.test
	$(PY) benchmarks/bench_equilibrium.py
	$(PY) benchmarks/bench_principal.py
	$(PY) benchmarks/bench_learning.py
	$(PY) benchmarks/bench_us_incomes.py

clean:
	rm -rf $(VENV) results site .pytest_cache .mypy_cache .hypothesis

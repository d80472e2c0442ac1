# mlstat: `make demo` runs the main example, `make test` runs every test suite and ruff.
# Both create .venv with python3.11 and install the core and every plugin under plugins/
# in editable mode (each plugin with its `test` extra when it declares one).

PYTHON ?= python3.11
VENV   := .venv
LINTED := mlstat_core plugins tests scripts benchmarks
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PLUGINS := $(sort $(wildcard plugins/*/pyproject.toml))
DEMO   ?= $(if $(wildcard examples/coding-ecoicop.toml),examples/coding-ecoicop.toml,examples/budget-children.toml)

export HF_HUB_OFFLINE := 1
export PYSPARK_PYTHON := $(abspath $(BIN)/python)

.PHONY: demo test test-min lint venv browser clean docs docs-examples

$(STAMP): pyproject.toml $(PLUGINS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	for p in $(dir $(PLUGINS)); do \
	  $(BIN)/python -m pip install --quiet -e "$${p}[test]" || exit 1; \
	done
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/mlstat run $(DEMO) --out runs

# Headless Chromium for the report rendering test (Debian's package; needs root or sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: install Debian's chromium package for the browser test"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)

# The documentation site (mkdocs.yml): regenerate the reference pages, build site/ strictly.
docs: $(STAMP)
	$(BIN)/python scripts/gen_cli_docs.py
	$(BIN)/python scripts/gen_pipeline_reference.py
	$(BIN)/python -m mlstat_core.testing.hookdoc > docs/hooks.md.tmp && mv docs/hooks.md.tmp docs/hooks.md
	$(BIN)/python scripts/gen_quality_examples.py --render
	$(BIN)/mkdocs build --strict --quiet

# Rerun the example pipelines whose figures the quality guideline and lessons learned quote
# (a few minutes on 2 cores; not part of `make test`, whose tests check the stored results).
docs-examples: $(STAMP)
	OMP_NUM_THREADS=2 $(BIN)/python scripts/gen_quality_examples.py
	$(BIN)/mkdocs build --strict --quiet

# pytest's options for every suite: pytest-xdist spreads the tests over the cores (at most 4
# workers: each may start torch or a Spark JVM). On 2 cores a suite takes about 0.6 of its
# serial time (measured 2026-12-02); a test must not depend on another's order or files.
PYTEST := -m pytest -q --timeout=900 -n auto --maxprocesses=4

# Each suite runs in its own pytest process (its own rootdir and conftest), core first.
test: $(STAMP) browser
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mkdocs build --strict --quiet
	$(BIN)/python $(PYTEST) tests
	for t in $(wildcard plugins/*/tests); do \
	  (cd $$(dirname $$t) && ../../$(BIN)/python $(PYTEST) tests) || exit 1; \
	done

# Run by hand (CI leaves it out: see CONTRIBUTING.md). The core, mlstat-coding and
# mlstat-editimpute at the lowest versions they declare
# (constraints/minimum.txt), in .venv-min, without torch: what many offices have installed.
# The generated-docs test is left out (it needs every plugin installed). Then mlstat-twitter
# at its own floors (constraints/minimum-twitter.txt: py3langid needs numpy 2) in
# .venv-min-twitter. Both install the packages as an office does, not in editable mode, and
# run the tests with PYTHONSAFEPATH=1 (`python -P`: the current folder not on the path, in
# the Python processes the tests start too), so that they test the installed packages: a
# file a package needs but does not ship fails here. setuptools
# never cleans build/, where a module deleted from the source would still be installed.
MIN_VENV    := .venv-min
MIN_TWITTER_VENV := .venv-min-twitter
MIN_PLUGINS := plugins/mlstat-coding plugins/mlstat-editimpute
MIN_TWITTER_PLUGINS := plugins/mlstat-coding plugins/mlstat-twitter
# the installed core is imported, and every installed distribution ships its licence text
INSTALLED   := "import importlib.metadata as md, mlstat_core as m, sys; \
  bad = [d.name for d in md.distributions() if d.name.startswith('mlstat') \
         and not any(str(f).endswith('licenses/LICENSE') for f in d.files or [])]; \
  sys.exit(f'not installed or without LICENSE: {m.__file__} {bad}' \
           if bad or 'site-packages' not in m.__file__ else 0)"
test-min: browser
	test -x $(MIN_VENV)/bin/python || $(PYTHON) -m venv $(MIN_VENV)
	rm -rf build $(addsuffix /build,$(MIN_PLUGINS) $(MIN_TWITTER_PLUGINS))
	$(MIN_VENV)/bin/python -m pip install --quiet -c constraints/minimum.txt . \
	  pytest pytest-timeout pytest-xdist "setuptools>=77" $(MIN_PLUGINS)
	$(MIN_VENV)/bin/python -P -c $(INSTALLED)
	PYTHONSAFEPATH=1 $(MIN_VENV)/bin/python $(PYTEST) tests \
	  --ignore=tests/test_docs.py
	for p in $(MIN_PLUGINS); do \
	  (cd $$p && PYTHONSAFEPATH=1 ../../$(MIN_VENV)/bin/python $(PYTEST) tests) || exit 1; \
	done
	test -x $(MIN_TWITTER_VENV)/bin/python || $(PYTHON) -m venv $(MIN_TWITTER_VENV)
	rm -rf build $(addsuffix /build,$(MIN_TWITTER_PLUGINS))
	$(MIN_TWITTER_VENV)/bin/python -m pip install --quiet -c constraints/minimum-twitter.txt \
	  . pytest pytest-timeout pytest-xdist "setuptools>=77" $(MIN_TWITTER_PLUGINS)
	$(MIN_TWITTER_VENV)/bin/python -P -c $(INSTALLED)
	cd plugins/mlstat-twitter && \
	  PYTHONSAFEPATH=1 ../../$(MIN_TWITTER_VENV)/bin/python $(PYTEST) tests

clean:
	rm -rf $(VENV) $(MIN_VENV) $(MIN_TWITTER_VENV) runs site .pytest_cache

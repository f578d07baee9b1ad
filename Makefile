# The course's single entry point. `make lab` and `make test` set up everything they need
# (a virtual environment in .venv, the graphviz program) and are safe to run again: a
# second run reuses what the first installed.

include scripts/setup.mk
# What `make setup` installs here (recipes read it when they run): the student edition's
# Makefile keeps setup.mk's default, the TensorFlow build alone.
EXTRAS := $(TF_EXTRA),instructor,test,check
PYTEST_ARGS ?=
# Test files run on this many processes (pytest-xdist, one file per process at a time).
TEST_WORKERS ?= 2
PYTEST = $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

.PHONY: test test-quick test-durations check release translations bench

## Run every test: unit tests, notebook lint and release sync, every notebook executed.
test: data
	@# Chromium for the browser test; if it cannot be installed, that test fails and says why.
	-@PYTHON=$(PYTHON) bash scripts/install-system-packages.sh --tests
	$(PYTEST) $(PYTEST_ARGS)

## The quick tier while you work: every test that executes no notebook and starts no
## sandbox, cluster or browser (tests/plugins/tiers.py), on the same processes.
test-quick: data
	$(PYTEST) --quick $(PYTEST_ARGS)

## Run the tests and store the seconds each file took (tests/durations.json), which orders
## the next runs, longest first; with PYTEST_ARGS=FILE only that file's figure changes.
test-durations: data
	-@PYTHON=$(PYTHON) bash scripts/install-system-packages.sh --tests
	$(PYTEST) --store-durations $(PYTEST_ARGS)

## Quick checks (no notebook execution, under a minute): ruff, notebook lint, release sync.
## They need only the `check` extra, not TensorFlow: a fresh clone installs that alone.
check: $(VENV)/.check-tools
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m course_utils.lint
	$(PY) -m course_utils.release --check

$(VENV)/.check-tools: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check $$($(PY) -c 'import tomllib; \
		print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["check"])') \
		2>&1 | grep -v "is ignored" || true
	@$(PY) -c "import nbformat" && test -x $(VENV)/bin/ruff \
		|| { echo "keras-course: installing the check tools failed; see the pip messages above" >&2; exit 1; }
	@touch $@

## Regenerate the student notebooks from the solution notebooks (and strip the solutions);
## RELEASE_ARGS="--student OUT" writes the student edition into OUT instead.
RELEASE_ARGS ?=
release: setup
	$(PY) -m course_utils.release $(RELEASE_ARGS)

## Bring the translations' catalogs (translations/<lang>/) up to date after the English
## changed: new pieces get empty entries, changed ones are marked fuzzy. Translate those,
## then `make release`.
translations: $(VENV)/.check-tools
	$(PY) -m course_utils.translation

## Benchmarks: dataset baselines and per-lesson execution times and accuracies.
bench: setup
	$(PY) bench/dataset_baselines.py
	$(PY) bench/lesson_runs.py


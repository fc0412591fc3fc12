# The course's single entry point. `make lab` for learners, `make test` for instructors.
# Both set up what they need on first use and do nothing more on later runs.

# The first Python 3.11-3.13 on PATH (override: make lab PYTHON=/path/to/python3.12).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null \
	  && { echo $$p; break; }; done)
# make test-compat's Python: TensorFlow 2.19 has wheels for 3.11 and 3.12 only (override: COMPAT_PYTHON=...).
COMPAT_PYTHON ?= $(shell for p in python3.11 python3.12; do command -v $$p >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
DEV_VENV := .venv-dev
COMPAT_VENV := .venv-compat
# Where make lab puts the learner's copies of the exercises.
WORK ?= work
LAB_ARGS ?=
# Jupyter refuses to run as root unless told; containers and cloud VMs often are root.
ROOT_ARG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
# What `make test` runs; FAST mode keeps training short (the compared outputs do not depend on it).
TEST_ARGS ?=
# Parallel test processes (pytest-xdist). --dist loadscope keeps each notebook's cells in one
# process, in order, as nbval needs; each process holds a kernel of up to 3 GB.
TEST_WORKERS ?= 2
# What `make test-compat` runs on the oldest supported stack besides the solutions: the tests that
# exercise TensorFlow and Keras (the checks and the helpers). The tests of files only (lint, hygiene,
# documents, the exercise generator) say the same on any stack and stay in `make test`; the unfilled
# exercises' check failures are the `stub` case of every tests/test_checks_*.py.
COMPAT_TESTS := tests/test_checks_*.py tests/test_session.py tests/test_costs.py tests/test_data.py \
  tests/test_data_audio.py tests/test_plots.py

.PHONY: help python-check lab test test-compat browser-test exercises notebooks colab quiz-bank benchmark lint clean

help:
	@echo "make lab        set up .venv (first time) and open the course in JupyterLab"
	@echo "make test       set up .venv-dev (first time) and run the whole validation"
	@echo "make test-compat  the checks' tests and the solutions on the oldest supported TensorFlow/Keras (.venv-compat)"
	@echo "make exercises  regenerate exercises/ from solutions/ (instructors)"
	@echo "make notebooks  re-run notebooks/ and solutions/ in full mode to refresh their stored outputs"
	@echo "make colab      add or update every notebook's Open-in-Colab badge and Colab install cell"
	@echo "make quiz-bank  collect every walkthrough's 確認テスト into docs/kakunin_test_bank.md"
	@echo "make benchmark  time every notebook in full and FAST mode -> docs/benchmark.md"
	@echo "make lint       ruff on the helper package, tools, tests and notebooks"
	@echo "make browser-test  opt-in: a learner's exercise in JupyterLab in headless Chromium"

python-check:
	@test -n "$(PYTHON)" || { echo "No Python 3.11-3.13 found on PATH. TensorFlow 2.21 and Keras 3.15 need one of these;"; \
	  echo "install one (python.org, your package manager, pyenv or 'uv python install 3.12') or run: make lab PYTHON=/path/to/python3.12"; exit 1; }

$(VENV)/.installed: requirements.txt pyproject.toml | python-check
	@echo "Setting up the course's environment in $(VENV) with $(PYTHON) (first time: a few minutes)..."
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt -e .
	@touch $@

$(DEV_VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml | python-check
	@echo "Setting up the instructors' environment in $(DEV_VENV) with $(PYTHON) (first time: a few minutes)..."
	@test -x $(DEV_VENV)/bin/python || $(PYTHON) -m venv $(DEV_VENV)
	$(DEV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DEV_VENV)/bin/python -m pip install --quiet -r requirements-dev.txt -e .
	@touch $@

$(COMPAT_VENV)/.installed: requirements-compat.txt pyproject.toml
	@test -n "$(COMPAT_PYTHON)" || { echo "make test-compat needs Python 3.11 or 3.12 (TensorFlow 2.19's);"; \
	  echo "install one or run: make test-compat COMPAT_PYTHON=/path/to/python3.11"; exit 1; }
	@echo "Setting up the oldest supported stack in $(COMPAT_VENV) with $(COMPAT_PYTHON) (first time: a few minutes)..."
	@test -x $(COMPAT_VENV)/bin/python || $(COMPAT_PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(COMPAT_VENV)/bin/python -m pip install --quiet -r requirements-compat.txt -e .
	@touch $@

# JUPYTER_DATA_DIR: kernels and extensions come from .venv only, so a stale "python3" kernel or an
# instructors' extension installed for the whole user account cannot take the course's place.
lab: $(VENV)/.installed
	@$(VENV)/bin/python tools/learner_copies.py exercises $(WORK)
	JUPYTER_DATA_DIR=$(CURDIR)/$(VENV)/share/jupyter $(VENV)/bin/jupyter lab --ServerApp.root_dir=. $(ROOT_ARG) $(LAB_ARGS)

test: $(DEV_VENV)/.installed
	CNN_COURSE_FAST=1 $(DEV_VENV)/bin/python -m pytest tests notebooks solutions --ignore=tests/browser \
	  --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
	  -n $(TEST_WORKERS) --dist loadscope --durations=8 $(TEST_ARGS)

# The oldest supported stack (requirements-compat.txt): stored outputs hold the newest stack's numbers,
# so the solutions run with --nbval-lax: every cell must run without error, every check cell passes.
test-compat: $(COMPAT_VENV)/.installed
	CNN_COURSE_FAST=1 $(COMPAT_VENV)/bin/python -m pytest $(COMPAT_TESTS) solutions \
	  --nbval-lax --nbval-current-env -n $(TEST_WORKERS) --dist loadscope --durations=8 $(TEST_ARGS)

# Opt-in, not part of `make test`: JupyterLab in headless Chromium (needs Debian's chromium, chromium-driver).
browser-test: $(DEV_VENV)/.installed $(VENV)/.installed
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { echo "browser-test needs Chromium and its driver: sudo apt install chromium chromium-driver fonts-noto-cjk"; exit 1; }
	CNN_COURSE_BROWSER=1 $(DEV_VENV)/bin/python -m pytest tests/browser -v

exercises: $(DEV_VENV)/.installed
	$(DEV_VENV)/bin/python tools/make_exercises.py

notebooks: $(DEV_VENV)/.installed
	$(DEV_VENV)/bin/python tools/run_notebooks.py $(NOTEBOOKS)

colab: $(DEV_VENV)/.installed
	$(DEV_VENV)/bin/python tools/colab.py

quiz-bank: $(DEV_VENV)/.installed
	$(DEV_VENV)/bin/python tools/quiz_bank.py

benchmark: $(DEV_VENV)/.installed
	$(DEV_VENV)/bin/python tools/benchmark.py $(NOTEBOOKS)

lint: $(DEV_VENV)/.installed
	$(DEV_VENV)/bin/ruff check cnn_course tools tests conftest.py notebooks solutions exercises
	$(DEV_VENV)/bin/ruff format --check cnn_course tools tests conftest.py notebooks solutions exercises

clean:
	rm -rf .pytest_cache build *.egg-info

# The course's single entry point. `make lab` for learners, `make test` for instructors.
# Both set up what they need on first use and do nothing more on later runs.

# The Python that builds the environments: the first 3.11-3.13 on PATH, or the one named
# (make lab PYTHON=python3.12 or a path; under pyenv a version's command works too). Anything else
# is refused before anything is built (tools/find_python.sh says why).
PY := $(shell sh tools/find_python.sh $(PYTHON) 2>/dev/null)
EXPLICIT := $(if $(filter command line environment,$(origin PYTHON)),--explicit)
VENV := .venv
DEV_VENV := .venv-dev
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

.PHONY: help python-check venv dev-venv lab work save update check test browser-test screenshots \
	exercises notebooks colab quiz-bank benchmark lint clean

help:
	@echo "Learners:"
	@echo "  make lab        set up .venv (first time), copy new exercises into work/ and open JupyterLab"
	@echo "  make check      run your work/ notebooks headless and list each task's ✓ or ✗ (UNIT=09 for one)"
	@echo "  make save       save your work/ in its own history (git -C work log shows it)"
	@echo "  make update     update the course; whatever you ran or wrote is kept"
	@echo "Instructors:"
	@echo "  make test       set up .venv-dev (first time) and run the whole validation"
	@echo "  make exercises  regenerate exercises/ from solutions/"
	@echo "  make notebooks  re-run notebooks/ and solutions/ in full mode to refresh their stored outputs"
	@echo "  make colab      add or update every notebook's Open-in-Colab badge and Colab install cell"
	@echo "  make quiz-bank  collect every walkthrough's 確認テスト into docs/kakunin_test_bank.md"
	@echo "  make benchmark  time every notebook in full and FAST mode -> docs/benchmark.md"
	@echo "  make lint       ruff on the helper package, tools, tests and notebooks"
	@echo "  make browser-test  opt-in: a learner's exercise in JupyterLab in headless Chromium"
	@echo "  make screenshots   the same, and store its screenshots in docs/images/"

python-check:
	@test -n "$(PY)" || sh tools/find_python.sh $(PYTHON)

# Both environments are checked on every use (a fraction of a second when complete): one built
# with an unsupported or another named Python is rebuilt, an interrupted install is resumed.
venv: python-check
	@$(PY) tools/ensure_venv.py $(VENV) requirements.txt $(EXPLICIT)

dev-venv: python-check
	@$(PY) tools/ensure_venv.py $(DEV_VENV) requirements-dev.txt $(EXPLICIT)

# JUPYTER_DATA_DIR: kernels and extensions come from .venv only, so a stale "python3" kernel or an
# instructors' extension installed for the whole user account cannot take the course's place.
# TF_CPP_MIN_LOG_LEVEL and TF_ENABLE_ONEDNN_OPTS: kernels inherit them, so TensorFlow stays quiet
# even in a cell run before the setup cell.
lab: venv work
	TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0 JUPYTER_DATA_DIR=$(CURDIR)/$(VENV)/share/jupyter \
	  $(VENV)/bin/jupyter lab --ServerApp.root_dir=. $(ROOT_ARG) $(LAB_ARGS)

# The learner's copies of the exercises (what make lab does before it starts JupyterLab).
work: python-check
	@$(PY) tools/learner.py --work $(WORK) copies

save: python-check
	@$(PY) tools/learner.py --work $(WORK) save $(if $(MESSAGE),"$(MESSAGE)")

update: python-check
	@$(PY) tools/learner.py --work $(WORK) update

# A learner's self-check, in the learners' environment: UNIT=09 for one unit.
check: venv
	@TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0 $(VENV)/bin/python tools/self_check.py $(WORK) $(UNIT)

test: dev-venv
	CNN_COURSE_FAST=1 $(DEV_VENV)/bin/python -m pytest tests notebooks solutions --ignore=tests/browser \
	  --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
	  -n $(TEST_WORKERS) --dist loadscope --durations=8 $(TEST_ARGS)

# Opt-in, not part of `make test`: JupyterLab in headless Chromium (needs Debian's chromium, chromium-driver).
# Its screenshots go to browser-test-work/ (ignored); `make screenshots` stores them in docs/images/.
browser-test: dev-venv venv
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { echo "browser-test needs Chromium and its driver: sudo apt install chromium chromium-driver fonts-noto-cjk"; exit 1; }
	CNN_COURSE_BROWSER=1 $(DEV_VENV)/bin/python -m pytest tests/browser -v

screenshots:
	CNN_COURSE_SCREENSHOTS=1 $(MAKE) --no-print-directory browser-test

exercises: dev-venv
	$(DEV_VENV)/bin/python tools/make_exercises.py

notebooks: dev-venv
	$(DEV_VENV)/bin/python tools/run_notebooks.py $(NOTEBOOKS)

colab: dev-venv
	$(DEV_VENV)/bin/python tools/colab.py

quiz-bank: dev-venv
	$(DEV_VENV)/bin/python tools/quiz_bank.py

benchmark: dev-venv
	$(DEV_VENV)/bin/python tools/benchmark.py $(NOTEBOOKS)

lint: dev-venv
	$(DEV_VENV)/bin/ruff check cnn_course tools tests conftest.py notebooks solutions exercises
	$(DEV_VENV)/bin/ruff format --check cnn_course tools tests conftest.py notebooks solutions exercises

clean:
	rm -rf .pytest_cache build *.egg-info

# The course's single entry point. `make lab` for learners, `make test` for instructors.
# Both set up what they need on first use and do nothing more on later runs.

# The Python that builds the environments: the first 3.11-3.13 on PATH, or the one named
# (make lab PYTHON=python3.12 or a path; under pyenv a version's command works too). Anything else
# is refused before anything is built (tools/find_python.sh says why).
PY := $(shell sh tools/find_python.sh $(PYTHON) 2>/dev/null)
EXPLICIT := $(if $(filter command line environment,$(origin PYTHON)),--explicit)
# make test-compat's Python: TensorFlow 2.19 has wheels for 3.11 and 3.12 only (override: COMPAT_PYTHON=...).
COMPAT_PYTHON ?= $(shell for p in python3.11 python3.12; do $$p -c pass >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
DEV_VENV := .venv-dev
COMPAT_VENV := .venv-compat
# Where make lab puts the learner's copies of the exercises.
WORK ?= work
# The language of the exercises make lab copies there: en, or ja for the Japanese edition (ja/, README.ja.md).
# (Not LANG, which is the system's locale.)
COURSE_LANG ?= en
LAB_ARGS ?=
# Jupyter refuses to run as root unless told; containers and cloud VMs often are root.
ROOT_ARG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
# What `make test` runs; FAST mode keeps training short (the compared outputs do not depend on it).
TEST_ARGS ?=
# Parallel test processes (pytest-xdist). --dist loadscope keeps each notebook's cells in one
# process, in order, as nbval needs; each process holds a kernel of up to 3 GB.
TEST_WORKERS ?= 2
# make release's nbgrader course directory (docs/grading.md); UNIT=09 releases one unit.
COURSE ?= course
# What `make test-compat` runs on the oldest supported stack besides the solutions: the tests that
# exercise TensorFlow and Keras (the checks, the helpers, the 確認テスト's proofs). The tests of files
# only (lint, hygiene, documents, the exercise generator) say the same on any stack and stay in
# `make test`; the unfilled exercises' check failures are the `stub` case of every tests/test_checks_*.py.
COMPAT_TESTS := tests/test_checks_*.py tests/test_session.py tests/test_costs.py tests/test_data.py \
  tests/test_data_audio.py tests/test_plots.py tests/test_quiz.py

.PHONY: help python-check venv dev-venv compat-venv lab lab-ja work save update check test test-compat browser-test screenshots \
	exercises ja release grading-test notebooks colab quiz-bank drill benchmark lint clean

help:
	@echo "Learners:"
	@echo "  make lab        set up .venv (first time), copy new exercises into work/ and open JupyterLab"
	@echo "  make lab COURSE_LANG=ja  (or make lab-ja) the same with the Japanese edition's exercises (ja/exercises/)"
	@echo "  make check      run your work/ notebooks headless and list each task's ✓ or ✗ (UNIT=09 for one)"
	@echo "  make save       save your work/ in its own history (git -C work log shows it)"
	@echo "  make update     update the course; whatever you ran or wrote is kept"
	@echo "  make drill      a timed 確認テスト drill in the terminal, 72 s per question (UNITS=\"5 6 7\" N=20 SEED=7)"
	@echo "Instructors:"
	@echo "  make test       set up .venv-dev (first time) and run the whole validation"
	@echo "  make test-compat  the checks' tests and the solutions on the oldest supported TensorFlow/Keras (.venv-compat)"
	@echo "  make exercises  write the solutions' nbgrader metadata, then regenerate exercises/ from them"
	@echo "  make ja         update the Japanese catalogs (locale/ja/) from the English, then write ja/ and README.ja.md"
	@echo "  make release    nbgrader: set up COURSE=course/ from the solutions and generate the 11 assignments"
	@echo "  make grading-test  opt-in: generate and autograde all 11 units with three submissions each"
	@echo "  make notebooks  re-run notebooks/ and solutions/ in full mode to refresh their stored outputs"
	@echo "  make colab      add or update every notebook's Open-in-Colab badge and Colab install cell"
	@echo "  make quiz-bank  write the walkthroughs' 確認テスト sections and docs/kakunin_test_bank.md from the questions files"
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

compat-venv:
	@test -n "$(COMPAT_PYTHON)" || { echo "make test-compat needs Python 3.11 or 3.12 (TensorFlow 2.19's);"; \
	  echo "install one or run: make test-compat COMPAT_PYTHON=/path/to/python3.11"; exit 1; }
	@$(COMPAT_PYTHON) tools/ensure_venv.py $(COMPAT_VENV) requirements-compat.txt

# JUPYTER_DATA_DIR: kernels and extensions come from .venv only, so a stale "python3" kernel or an
# instructors' extension installed for the whole user account cannot take the course's place.
# TF_CPP_MIN_LOG_LEVEL and TF_ENABLE_ONEDNN_OPTS: kernels inherit them, so TensorFlow stays quiet
# even in a cell run before the setup cell.
lab: venv work
	TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0 JUPYTER_DATA_DIR=$(CURDIR)/$(VENV)/share/jupyter \
	  $(VENV)/bin/jupyter lab --ServerApp.root_dir=. $(ROOT_ARG) $(LAB_ARGS)

# The learner's copies of the exercises (what make lab does before it starts JupyterLab).
work: python-check
	@$(PY) tools/learner.py --work $(WORK) copies --lang $(COURSE_LANG)

lab-ja:
	@$(MAKE) --no-print-directory lab COURSE_LANG=ja

# A timed drill of the 確認テスト in the terminal (docs/drill.ipynb is the notebook's): UNITS="5 6 7" for some units.
UNITS ?=
N ?= 20
drill: venv
	@$(VENV)/bin/python -m cnn_course.quiz $(UNITS) -n $(N) $(if $(SEED),--seed $(SEED))

save: python-check
	@$(PY) tools/learner.py --work $(WORK) save $(if $(MESSAGE),"$(MESSAGE)")

update: python-check
	@$(PY) tools/learner.py --work $(WORK) update

# A learner's self-check, in the learners' environment: UNIT=09 for one unit.
check: venv
	@TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0 $(VENV)/bin/python tools/self_check.py $(WORK) $(UNIT)

# One Japanese solution runs end to end as well (its checks print 課題 lines, compared with the stored ones);
# the others have the same code (tests/test_japanese.py) and fit no more in the 10-minute budget.
JA_NBVAL := ja/solutions/01_convolution.ipynb

test: dev-venv
	CNN_COURSE_FAST=1 $(DEV_VENV)/bin/python -m pytest tests notebooks solutions $(JA_NBVAL) docs/drill.ipynb --ignore=tests/browser \
	  --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
	  -n $(TEST_WORKERS) --dist loadscope --durations=8 $(TEST_ARGS)

# The oldest supported stack (requirements-compat.txt): stored outputs hold the newest stack's numbers,
# so the solutions run with --nbval-lax: every cell must run without error, every check cell passes.
test-compat: compat-venv
	CNN_COURSE_FAST=1 $(COMPAT_VENV)/bin/python -m pytest $(COMPAT_TESTS) solutions \
	  --nbval-lax --nbval-current-env -n $(TEST_WORKERS) --dist loadscope --durations=8 $(TEST_ARGS)

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

# The Japanese edition: catalogs updated from the English, then ja/ and README.ja.md written from them
# (docs/instructors.md, "The Japanese edition"). Run it after make exercises, make notebooks or make quiz-bank.
ja: dev-venv
	$(DEV_VENV)/bin/python tools/make_ja.py

# nbgrader's course directory (docs/grading.md): its config from docs/nbgrader_config.py the first time,
# the solutions as its source, the student versions in $(COURSE)/release/. PATH: nbgrader runs `alembic`.
release: dev-venv
	PATH="$(CURDIR)/$(DEV_VENV)/bin:$$PATH" $(DEV_VENV)/bin/python tools/release.py $(COURSE) $(UNIT)

# Opt-in, not part of `make test` (which autogrades unit 10 only): every unit generated and autograded
# with the solution, the unfilled exercise and one task left undone, in a temporary course directory.
grading-test: dev-venv
	CNN_COURSE_GRADING_ALL=1 CNN_COURSE_FAST=1 $(DEV_VENV)/bin/python -m pytest tests/test_grading.py -v -s \
	  --durations=12 $(TEST_ARGS)

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

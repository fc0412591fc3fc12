"""The validation itself: the sanitiser is read, CI calls the README's command, the pins are exact."""

import re

from nbval.plugin import get_sanitize_patterns


def test_every_sanitiser_pair_is_read(root):
    text = (root / "tests" / "nbval_sanitize.cfg").read_text(encoding="utf-8")
    assert len(get_sanitize_patterns(text)) == text.count("\nregex: ") == 5


def test_ci_runs_the_readme_test_command(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test$", (root / ".ci" / "run").read_text(encoding="utf-8"), re.M)
    workflow = (root / ".github" / "workflows" / "validate.yml").read_text(encoding="utf-8")
    assert "make test" in workflow
    assert re.search(r"^\s+run: make test-compat$", workflow, re.M) and "make test-compat" in readme


def test_make_test_runs_nbval_strictly_on_walkthroughs_and_solutions(root):
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntest:")[1].split("\n\n")[0]
    for flag in (
        "--nbval ",
        "--nbval-current-env",
        "--nbval-sanitize-with tests/nbval_sanitize.cfg",
        "notebooks",
        "solutions",
    ):
        assert flag in recipe
    assert "--nbval-lax" not in recipe and "CNN_COURSE_FAST=1" in recipe


def test_requirements_are_pinned_exactly(root):
    for name in ("requirements.txt", "requirements-dev.txt", "requirements-compat.txt"):
        for line in (root / name).read_text(encoding="utf-8").splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r "):
                assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][\w.]*", line), f"{name}: pin exactly: {line}"


def test_instructor_tools_stay_out_of_the_learners_environment(root):
    learner = (root / "requirements.txt").read_text(encoding="utf-8")
    for tool in ("nbgrader", "nbval", "pytest", "ruff"):
        assert tool not in learner

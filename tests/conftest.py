"""Fixtures shared by the unit tests."""

import importlib.util
from pathlib import Path

import pytest

from cnn_course.checks import CheckFailed

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def keras():
    import keras

    return keras


def load_tool(name):
    """A script of tools/ imported as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def solution(name):
    """The names a solution notebook defines (its code cells run, its check cells skipped)."""
    from cnn_course.authoring import task_namespace

    return task_namespace(ROOT / "solutions" / f"{name}.ipynb")


# -- what every test_checks_<unit>.py needs ---------------------------------------------
def stub(*args, **kwargs):
    """The exercise's unfilled answer."""
    raise NotImplementedError()


def rejects(check_function, answer, *fragments):
    """The check fails on `answer`, and its message contains every fragment; returns the message."""
    with pytest.raises(CheckFailed) as info:
        check_function(answer)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"expected {fragment!r} in:\n{message}"
    return message


def accepts(check_function, answer, capsys):
    """The check passes on `answer` and prints its one-line success message."""
    check_function(answer)
    assert capsys.readouterr().out.startswith("✓ Task ")

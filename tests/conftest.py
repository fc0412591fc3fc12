"""Fixtures shared by the unit tests."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def keras():
    import keras

    return keras


def solution(name):
    """The names a solution notebook defines (its code cells run, its check cells skipped)."""
    from cnn_course.authoring import task_namespace

    return task_namespace(ROOT / "solutions" / f"{name}.ipynb")

"""Every check of every unit, handed the classic bad answers, fails with one short CheckFailed.

The checks are discovered from the solutions' check cells (``check.<name>(...)``),
so a new task is covered without editing this file.
"""

import importlib
import re

import nbformat
import numpy as np
import pytest

from cnn_course.authoring import is_check_cell
from cnn_course.checks import CheckFailed
from tests.conftest import ROOT

CALL = re.compile(r"^check\.(\w+)\((.*)\)\s*$", re.M)


def _checks():
    """(unit module, check name, number of arguments) for every check cell of the solutions."""
    found = []
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        module = re.search(r"from cnn_course\.checks import (\w+) as check", "\n".join(c.source for c in cells))
        for cell in filter(is_check_cell, cells):
            for name, args in CALL.findall(cell.source):
                found.append((module.group(1), name, len(args.split(","))))
    return found


def _raises(*args, **kwargs):
    raise RuntimeError("something broke inside the learner's code")


def _tiny_model(*args, **kwargs):
    import keras

    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dense(2)(inputs))


def _duplicate_names(*args, **kwargs):
    import keras

    given = args[0] if args and isinstance(args[0], keras.KerasTensor) else None
    x = keras.Input((8, 8, 3)) if given is None else given
    y = keras.layers.Activation("relu", name="same")(keras.layers.Activation("relu", name="same")(x))
    return y if given is not None else keras.Model(x, y)


def _layer(*args, **kwargs):
    import keras

    return keras.layers.ReLU()


BAD_INPUTS = {
    "None": None,
    "a string": "my answer",
    "a number": 3,
    "a function that raises": _raises,
    "a function returning a NumPy array": lambda *a, **k: np.zeros((2, 3)),
    "a function returning a layer": _layer,
    "a function returning a model with the wrong input shape": _tiny_model,
    "a function whose layers share a name": _duplicate_names,
}


@pytest.mark.parametrize("unit, name, n_args", _checks(), ids=lambda v: str(v))
def test_every_check_turns_bad_inputs_into_one_short_check_failed(unit, name, n_args):
    check = getattr(importlib.import_module(f"cnn_course.checks.{unit}"), name)
    for label, bad in BAD_INPUTS.items():
        with pytest.raises(CheckFailed) as info:
            check(*[bad] * n_args)
        lines = str(info.value).splitlines()
        assert 1 <= len(lines) <= 6, f"{label}: {len(lines)} lines:\n{info.value}"
        assert lines[0].startswith("Task "), f"{label}:\n{info.value}"


def test_discovery_finds_the_checks_of_every_unit():
    units = {unit for unit, _, _ in _checks()}
    assert len(units) == len(list((ROOT / "solutions").glob("*.ipynb")))

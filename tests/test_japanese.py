"""The Japanese edition: ja/ is what `make ja` writes, every catalog is complete and current,
translations keep what they must, and the checks speak Japanese."""

import ast
import re
from pathlib import Path

import pytest

from cnn_course import translation

PACKAGE = Path(__file__).resolve().parent.parent / "cnn_course"
MARKERS = {"_", "N_", "ngettext"}
UNTRANSLATED = "# not a message"


def english_literals(path):
    """(line, text) of the module's string literals that read as English sentences outside _(), N_(), ngettext().

    Docstrings (of modules, functions, classes and attributes), and lines marked ``# not a message`` (a pattern, a layer name), are left out.
    """
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines()
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in MARKERS:
            inside.update(id(n) for arg in node.args for n in ast.walk(arg))
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):  # a docstring
            inside.add(id(node.value))
    found = []
    for node in ast.walk(tree):
        if id(node) in inside:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            inside.update(id(v) for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if len(re.findall(r"[A-Za-z]{2,}", text)) >= 2 and " " in text.strip():
            if UNTRANSLATED not in lines[node.lineno - 1]:
                found.append((node.lineno, text))
    return found


@pytest.mark.parametrize("path", sorted((PACKAGE / "checks").glob("*.py")), ids=lambda p: p.name)
def test_every_check_message_goes_through_the_catalogs(path):
    found = english_literals(path)
    assert not found, f"{path.name}: English messages outside _(): " + "; ".join(
        f"line {line}: {text[:60]!r}" for line, text in found[:10]
    )

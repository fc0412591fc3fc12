"""The course's code and notebooks pass ruff (lint and format), as `make lint` reports."""

import subprocess
import sys
from pathlib import Path

import pytest

RUFF = Path(sys.executable).with_name("ruff")
TARGETS = ["cnn_course", "tools", "tests", "conftest.py", "notebooks", "solutions", "exercises"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff(root, command):
    if not RUFF.exists():
        pytest.skip("ruff is an instructors' tool (requirements-dev.txt)")
    result = subprocess.run([str(RUFF), *command, *TARGETS], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]

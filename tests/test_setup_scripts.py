"""Set-up that refuses early and repairs itself, and the learner's self-check; no network needed."""

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tests.conftest import ROOT, load_tool

ensure_venv = load_tool("ensure_venv")
self_check = load_tool("self_check")


def find_python(*args, path=None):
    env = {**os.environ, "PATH": path} if path else None
    return subprocess.run(
        ["sh", str(ROOT / "tools" / "find_python.sh"), *args], capture_output=True, text=True, env=env, timeout=60
    )


def fake_python(folder, version):
    """An executable that behaves like a Python of `version` for find_python.sh's questions."""
    major, minor = version
    script = folder / f"python{major}.{minor}"
    script.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *exit*) [ {minor} -ge 11 ] && [ {minor} -le 13 ]; exit $? ;; '
        f"*executable*) echo {script} ;; *version_info*) echo {major}.{minor} ;; esac\n"
    )
    script.chmod(0o755)
    return script


def test_the_supported_python_range_is_the_same_in_all_three_places():
    """pyproject's requires-python, find_python.sh (runs before any Python is known) and ensure_venv.py."""
    import re
    import tomllib

    from packaging.specifiers import SpecifierSet

    spec = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"])
    declared = [(3, minor) for minor in range(8, 20) if f"3.{minor}" in spec]
    assert (declared[0], declared[-1]) == ensure_venv.SUPPORTED
    shell = (ROOT / "tools" / "find_python.sh").read_text()
    low, high = re.search(r"\((\d+, \d+)\) <= sys.version_info\[:2\] <= \((\d+, \d+)\)", shell).groups()
    assert [tuple(map(int, v.split(", "))) for v in (low, high)] == [declared[0], declared[-1]]
    candidates = re.search(r"for candidate in ((?:python3\.\d+ )+)python3;", shell).group(1).split()
    assert candidates == [f"python3.{minor}" for _, minor in reversed(declared)]
    names = ", ".join(f"3.{minor}" for _, minor in declared[:-1]) + f" or 3.{declared[-1][1]}"
    assert f"the course needs Python {names}" in shell


def test_a_named_python_outside_the_range_is_refused_before_anything_is_built(tmp_path):
    result = find_python(str(fake_python(tmp_path, (3, 10))))
    assert result.returncode == 1 and result.stdout == ""
    assert "is Python 3.10; the course needs Python 3.11, 3.12 or 3.13" in result.stderr
    assert "Nothing was built" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_named_python_that_does_not_exist_says_so_in_one_line():
    result = find_python("python3.99-nowhere")
    assert result.returncode == 1 and "PYTHON=python3.99-nowhere: no such command" in result.stderr


def test_a_named_python_in_the_range_is_used(tmp_path):
    assert find_python(str(fake_python(tmp_path, (3, 12)))).stdout.strip().endswith("python3.12")
    assert Path(find_python(sys.executable).stdout.strip()).exists()


def test_without_a_name_the_first_fitting_python_on_path_is_found(tmp_path):
    fake_python(tmp_path, (3, 10))
    found = fake_python(tmp_path, (3, 12))
    (tmp_path / "python3").symlink_to(tmp_path / "python3.10")
    shell_only = tmp_path / "bin"  # a PATH with a shell and these fakes, and no other Python
    shell_only.mkdir()
    (shell_only / "sh").symlink_to("/bin/sh")
    assert find_python(path=f"{tmp_path}:{shell_only}").stdout.strip() == str(found)
    (tmp_path / "python3.12").unlink()
    result = find_python(path=f"{tmp_path}:{shell_only}")
    assert result.returncode == 1 and "No Python 3.11-3.13 found on PATH" in result.stderr


def test_make_refuses_an_unsupported_python_before_building(tmp_path):
    result = subprocess.run(
        ["make", "--no-print-directory", "python-check", f"PYTHON={fake_python(tmp_path, (3, 10))}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "the course needs Python 3.11, 3.12 or 3.13" in result.stderr


# -- the virtual environment's repair ------------------------------------------------------
@pytest.fixture(scope="module")
def built_venv(tmp_path_factory):
    path = tmp_path_factory.mktemp("venvs") / ".venv"
    venv.create(path, with_pip=False)
    return path


def with_version(built, tmp_path, version):
    """A copy of a working venv whose pyvenv.cfg claims another Python version."""
    copy = tmp_path / ".venv"
    subprocess.run(["cp", "-a", str(built), str(copy)], check=True)
    config = copy / "pyvenv.cfg"
    lines = [f"version = {version}" if line.startswith("version") else line for line in config.read_text().splitlines()]
    config.write_text("\n".join(lines) + "\n")
    return copy


HERE = sys.version_info[:2]


def test_no_venv_is_built(tmp_path):
    assert ensure_venv.plan(tmp_path / ".venv", HERE, "f", explicit=False) == ("rebuild", f"no {tmp_path}/.venv/ yet")


def test_a_venv_of_an_unsupported_python_is_rebuilt(built_venv, tmp_path):
    stale = with_version(built_venv, tmp_path, "3.10.13")
    action, why = ensure_venv.plan(stale, HERE, "f", explicit=False)
    assert action == "rebuild" and "built with Python 3.10, which the course does not support" in why


def test_a_venv_of_another_python_than_the_one_named_is_rebuilt_only_when_named(built_venv, tmp_path):
    other = with_version(built_venv, tmp_path, "3.13.0" if HERE != (3, 13) else "3.12.1")
    (other / ".installed").write_text(json.dumps({"requirements": "f"}))
    action, why = ensure_venv.plan(other, HERE, "f", explicit=True)
    assert action == "rebuild" and "PYTHON names Python" in why
    assert ensure_venv.plan(other, HERE, "f", explicit=False) == ("ok", "")


def test_a_broken_or_half_installed_venv_is_repaired(built_venv, tmp_path):
    half = with_version(built_venv, tmp_path, f"{HERE[0]}.{HERE[1]}.0")
    assert ensure_venv.plan(half, HERE, "f", explicit=True)[0] == "install", "no stamp: the install did not finish"
    (half / ".installed").write_text(json.dumps({"requirements": "old"}))
    assert ensure_venv.plan(half, HERE, "new", explicit=True) == (
        "install",
        "the requirements changed since the last install",
    )
    (half / "bin" / "python").unlink()
    assert ensure_venv.plan(half, HERE, "new", explicit=True)[0] == "rebuild"


def test_the_requirements_fingerprint_follows_included_files(tmp_path):
    (tmp_path / "base.txt").write_text("numpy==2\n")
    (tmp_path / "dev.txt").write_text("-r base.txt\npytest==9\n")
    before = ensure_venv.requirements_fingerprint(tmp_path / "dev.txt")
    (tmp_path / "base.txt").write_text("numpy==3\n")
    assert ensure_venv.requirements_fingerprint(tmp_path / "dev.txt") != before


# -- make check: the learner's self-check ------------------------------------------------------
def executed_exercise():
    """A notebook as nbclient leaves it: one task passed, one failed, one not run."""
    failed = new_output(
        "error",
        ename="CheckFailed",
        evalue="Task 2 · dense_block — dense_block(x, k=6): layers in order: item 0 of 21\n  expected: BN",
        traceback=[],
    )
    missing = new_output("error", ename="NotDefinedYet", evalue="name 'f' is not defined yet: run ...", traceback=[])
    return new_notebook(
        cells=[
            new_markdown_cell("## Task 1 · Channels（チャネル数）"),
            new_code_cell("check.a(a)", outputs=[new_output("stream", name="stdout", text="✓ Task 1 · a: 3 checks\n")]),
            new_markdown_cell("## Task 2 · The dense block（Denseブロック） · warm-up ★ · 1 point"),
            new_code_cell("check.dense_block(dense_block)", outputs=[failed]),
            new_markdown_cell("## Task 3 · Drill"),
            new_code_cell("check.f(f)", outputs=[missing]),
        ]
    )


def test_self_check_reads_each_task_result():
    assert self_check.task_results(executed_exercise()) == [
        ("Task 1 · Channels", True, ""),
        ("Task 2 · The dense block", False, "dense_block(x, k=6): layers in order: item 0 of 21"),
        ("Task 3 · Drill", False, "NameError: name 'f' is not defined yet: run ..."),
    ]


def test_self_check_reads_the_japanese_editions_tasks():
    nb = executed_exercise()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace("## Task", "## 課題")
    nb.cells[2].source = "## 課題 2 · The dense block（dense block） · ウォームアップ ★ · 1 点"
    nb.cells[3].outputs[0].evalue = "課題 2 · dense_block — dense_block(x, k=6): 層の順序: 21 個中 0 番目\n  期待値: BN"
    assert [(task, ok) for task, ok, _ in self_check.task_results(nb)] == [
        ("課題 1 · Channels", True),
        ("課題 2 · The dense block", False),
        ("課題 3 · Drill", False),
    ]
    assert self_check.task_results(nb)[1][2] == "dense_block(x, k=6): 層の順序: 21 個中 0 番目"


def test_self_check_runs_a_learners_notebook_without_writing_it(tmp_path, capsys):
    nb = new_notebook(
        cells=[
            new_code_cell("from cnn_course.checks import Task\nimport types\ncheck = types.SimpleNamespace()"),
            new_markdown_cell("## Task 1 · Answer"),
            new_code_cell("def answer():\n    return 41"),
            new_code_cell(
                "def _check(f):\n"
                "    with Task(1, 'answer') as t:\n"
                "        t.equal('answer()', f(), 42, hint='one more')\n"
                "check.answer = _check"
            ),
            new_code_cell("check.answer(answer)"),
        ]
    )
    path = tmp_path / "01_mine.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    assert self_check.main(str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "✗ Task 1 · Answer\n      answer()\n" in out
    assert "0 of 1 tasks pass in 1 notebook(s)" in out
    assert path.read_bytes() == before
    assert self_check.main(str(tmp_path), "5") == 1, "no notebook of that unit"

"""Documents generated from the notebooks stay in step with them."""

import pytest

from tests.conftest import load_tool


def test_quiz_bank_is_up_to_date(root):
    tool = load_tool("quiz_bank")
    walkthroughs = sorted((root / "notebooks").glob("*.ipynb"))
    committed = (root / "docs" / "kakunin_test_bank.md").read_text(encoding="utf-8")
    assert committed == tool.bank_text(walkthroughs), "run `make quiz-bank` and commit docs/kakunin_test_bank.md"


def test_every_walkthrough_contributes_answered_questions(root):
    """A unit still without a questions file (tests/test_quiz.py checks those) has older, proven questions."""
    tool = load_tool("quiz_bank")
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        if tool.unit_questions(path) is not None:
            continue
        found = tool.questions(path)
        assert len(found) >= 3, f"{path.name}: the 確認テスト needs at least three questions"
        assert [number for number, *_ in found] == list(range(1, len(found) + 1))
        assert all(letter in "abcde" for _, _, letter, _ in found)


def test_a_question_without_a_proven_answer_is_refused(root, tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    tool = load_tool("quiz_bank")
    nb = new_notebook(
        cells=[new_markdown_cell("## 確認テスト\n\n**Q1.** Two plus two?\n- (a) 4"), new_code_cell('answer = "a"')]
    )
    nbformat.write(nb, tmp_path / "99_x.ipynb")
    with pytest.raises(ValueError, match="needs a code cell after it"):
        tool.questions(tmp_path / "99_x.ipynb")


def test_the_readme_curriculum_lists_every_unit_with_its_measured_time(root):
    """Each walkthrough has a row in the README's curriculum, and its time is docs/benchmark.md's, in whole minutes."""
    import math
    import re

    readme = (root / "README.md").read_text(encoding="utf-8")
    benchmark = (root / "docs" / "benchmark.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| \[\d\d [^]]*\]\((notebooks/\d\d_\w+\.ipynb)\) \|.*\| (\d+) min \|$", readme, re.M))
    walkthroughs = sorted(f"notebooks/{p.name}" for p in (root / "notebooks").glob("*.ipynb"))
    assert sorted(rows) == walkthroughs, "the README's curriculum table needs one row per walkthrough"
    for notebook, minutes in rows.items():
        measured = re.search(rf"^\| {re.escape(notebook)} \| ([\d.,]+) s \|", benchmark, re.M)
        assert measured, f"run `make benchmark`: docs/benchmark.md has no full-mode time for {notebook}"
        expected = math.ceil(float(measured.group(1).replace(",", "")) / 60)
        assert int(minutes) == expected, f"{notebook}: the README says {minutes} min, docs/benchmark.md {expected} min"


def test_benchmark_reads_the_slowest_check_cell_from_nbclients_timings():
    from nbformat.v4 import new_code_cell, new_notebook

    def timed(source, start, end):
        cell = new_code_cell(source)
        cell.metadata["execution"] = {
            "iopub.status.busy": f"2026-12-01T10:00:{start}Z",
            "iopub.status.idle": f"2026-12-01T10:00:{end}Z",
        }
        return cell

    nb = new_notebook(
        cells=[timed("x = 1", "00.0", "30.0"), timed("check.a(a)", "30.0", "31.5"), timed("check.b(b)", "31.5", "35.0")]
    )
    assert load_tool("benchmark").slowest_check(nb) == (3.5, "check.b(b)")
    assert load_tool("benchmark").slowest_check(new_notebook(cells=[new_code_cell("x = 1")])) is None


def test_benchmark_lists_the_slowest_check_cell_of_every_solution(root):
    benchmark = (root / "docs" / "benchmark.md").read_text(encoding="utf-8")
    checks = benchmark.partition(load_tool("benchmark").CHECKS_HEADING)[2]
    for path in sorted((root / "solutions").glob("*.ipynb")):
        assert f"| solutions/{path.name} | `check." in checks, f"run `make benchmark NOTEBOOKS=solutions/{path.name}`"

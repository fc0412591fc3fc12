"""The solutions as nbgrader assignments: metadata in step, the release is the exercise, autograding is fair.

`make test` generates all eleven releases and autogrades one unit (10, the quickest)
with three submissions: the solution, the unfilled exercise and one with a single
wrong task. `make grading-test` (CNN_COURSE_GRADING_ALL=1) autogrades all eleven.
Each run has its own course directory and nbgrader database in a temporary folder.
"""

import copy
import csv
import html
import os
import re
import time

import nbformat
import pytest

from cnn_course.grading import DEPENDS_LINE, TOTAL_LINE, GradingError, grade_solution, tasks, total_points
from tests.conftest import ROOT, load_tool

release = load_tool("release")
UNITS = release.units()
MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


# -- the metadata ------------------------------------------------------------------------
@pytest.mark.parametrize("name", UNITS)
def test_grading_metadata_is_in_step_with_the_solution(name):
    path = ROOT / "solutions" / f"{name}.ipynb"
    committed = path.read_text(encoding="utf-8")
    nb = nbformat.reads(committed, as_version=4)
    found = grade_solution(nb, name)
    assert nbformat.writes(nb) + "\n" == committed, f"solutions/{name}: run `make exercises` and commit the result"
    ids = [_nbgrader(c)["grade_id"] for c in nb.cells if _nbgrader(c)]
    assert len(ids) == len(set(ids)) == 2 * len(found)
    assert all(re.fullmatch(r"task\d+_[a-z0-9_]+", i) for i in ids), ids
    total = total_points(nb)
    assert f"**Points.** {total} in all" in nb.cells[1].source + nb.cells[2].source


@pytest.mark.parametrize("name", UNITS)
def test_the_tool_writes_only_metadata_and_its_lines_and_is_idempotent(name):
    """From a solution stripped of what the tool writes, it makes the committed solution back, outputs untouched."""
    committed = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    bare = copy.deepcopy(committed)
    for cell in bare.cells:
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type == "markdown":
            cell.source = DEPENDS_LINE.sub("", TOTAL_LINE.sub("", cell.source))
    once = copy.deepcopy(bare)
    grade_solution(once, name)
    twice = copy.deepcopy(once)
    grade_solution(twice, name)
    assert nbformat.writes(once) == nbformat.writes(twice) == nbformat.writes(committed)
    for before, after in zip(bare.cells, once.cells, strict=True):
        assert before.get("outputs") == after.get("outputs") and before.cell_type == after.cell_type
        if before.cell_type == "code":
            assert before.source == after.source


def test_a_task_without_points_is_refused_with_a_clear_message():
    nb = nbformat.read(ROOT / "solutions" / "09_densenet.ipynb", as_version=4)
    heading = next(c for c in nb.cells if c.source.startswith("## Task 3 ·"))
    heading.source = re.sub(r" · \d+ points?", "", heading.source, count=1)
    with pytest.raises(GradingError, match=r"09_densenet: Task 3 has no points: end its heading with ' · N points'"):
        grade_solution(nb, "09_densenet")


@pytest.mark.parametrize("name", UNITS)
def test_a_task_that_uses_an_earlier_one_says_so(name):
    nb = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    for task in tasks(nb, name):
        statement = nb.cells[task.statement].source
        for earlier in task.uses:
            assert re.search(rf"\*\*Depends on Tasks? [^*]*\b{earlier}\b", statement), (name, task.number)


# -- the release -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course directory with all eleven assignments generated (nbgrader's database in it)."""
    course = tmp_path_factory.mktemp("course")
    release.prepare_course(course)
    release.generate(course, UNITS)
    return course


def _without_nbgrader(nb):
    cells = []
    for cell in nb.cells:
        metadata = {k: v for k, v in cell.metadata.items() if k != "nbgrader"}
        grading = {k: v for k, v in _nbgrader(cell).items() if k not in ("checksum", "cell_type")}
        cells.append((cell.cell_type, cell.get("id"), cell.source, cell.get("outputs"), metadata, grading))
    return cells


@pytest.mark.parametrize("name", UNITS)
def test_the_release_is_the_exercise(course, name):
    released = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    exercise = nbformat.read(ROOT / "exercises" / f"{name}.ipynb", as_version=4)
    assert _without_nbgrader(released) == _without_nbgrader(exercise)
    assert f"/exercises/{name}.ipynb" in released.cells[0].source and "/solutions/" not in released.cells[0].source


# -- autograding -----------------------------------------------------------------------------
def _submission(released, solution, wrong=None):
    """The release with every answer cell filled from the solution; `wrong` = (grade id, answer) for one task."""
    answers = {
        _nbgrader(c)["grade_id"]: MARKER.sub("", c.source) for c in solution.cells if _nbgrader(c).get("solution")
    }
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        grade_id = _nbgrader(cell).get("grade_id")
        if _nbgrader(cell).get("solution"):
            cell.source = wrong[1] if wrong and grade_id == wrong[0] else answers[grade_id]
    return nb


def _autograde(course, name, submissions):
    """Autograde the submissions; returns ({student: {grade id: score}}, {student: exported score}, seconds)."""
    from nbgrader.api import Gradebook

    for student, nb in submissions.items():
        target = course / "submitted" / student / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
    start = time.perf_counter()
    release.nbgrader(course, "autograde", name, "--create", "--force")
    seconds = time.perf_counter() - start
    release.nbgrader(course, "export", "--to", "grades.csv")
    with open(course / "grades.csv", newline="", encoding="utf-8") as file:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(file) if row["assignment"] == name}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {
            student: {g.name: g.score for g in gradebook.find_submission_notebook(name, name, student).grades}
            for student in submissions
        }
    print(f"autograde {name}: {len(submissions)} submissions in {seconds:.0f} s; exported {exported}")
    return scores, exported, seconds


def _expected(points, wrong_id=None, zero=False):
    return {g: 0.0 if zero or g == wrong_id else float(p) for g, p in points.items()}


def _grade_and_compare(course, name, wrong):
    solution = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    released = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    points = {_nbgrader(c)["grade_id"]: _nbgrader(c)["points"] for c in solution.cells if _nbgrader(c).get("grade")}
    submissions = {
        "solution": _submission(released, solution),
        "unfilled": copy.deepcopy(released),
        "one_wrong": _submission(released, solution, wrong),
    }
    scores, exported, _ = _autograde(course, name, submissions)
    wrong_test = wrong[0].removesuffix("_answer")
    total = float(sum(points.values()))
    assert scores["solution"] == _expected(points)
    assert scores["unfilled"] == _expected(points, zero=True)
    assert scores["one_wrong"] == _expected(points, wrong_test)
    assert exported == {"solution": total, "unfilled": 0.0, "one_wrong": total - points[wrong_test]}
    return wrong_test


def test_autograde_one_unit_scores_each_task_on_its_own(course, monkeypatch):
    """Unit 10: a wrong Task 2 (LayerNorm over the batch axis) costs Task 2's points only; its message is feedback."""
    monkeypatch.setenv("CNN_COURSE_FAST", "1")
    name = "10_normalization"
    solution = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    answer = next(c for c in solution.cells if _nbgrader(c).get("grade_id") == "task2_layer_norm_answer")
    wrong_answer = MARKER.sub("", answer.source).replace("axes = tuple(range(1, x.ndim))", "axes = 0")
    assert wrong_answer != MARKER.sub("", answer.source)
    _grade_and_compare(course, name, ("task2_layer_norm_answer", wrong_answer))

    release.nbgrader(course, "generate_feedback", name, "--student", "one_wrong")
    page = html.unescape(
        re.sub(r"<[^>]+>", "", (course / "feedback" / "one_wrong" / name / f"{name}.html").read_text())
    )
    assert "CheckFailed: Task 2 · layer_norm" in page and "expected:" in page and "hint:" in page
    assert "Traceback (most recent call last)" not in page  # the message, not a traceback


@pytest.mark.skipif(os.environ.get("CNN_COURSE_GRADING_ALL") != "1", reason="opt-in: make grading-test")
@pytest.mark.parametrize("name", UNITS)
def test_autograde_every_unit(course, name, monkeypatch):
    """Every unit: the solution scores full points, the unfilled exercise zero, and one task left undone
    (the last task no other task uses, its answer cell as released) costs exactly that task's points."""
    monkeypatch.setenv("CNN_COURSE_FAST", "1")
    solution = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    released = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    found = tasks(solution, name)
    used = {n for t in found for n in t.uses}
    undone = [t for t in found if t.number not in used][-1]
    _grade_and_compare(course, name, (f"{undone.grade_id}_answer", released.cells[undone.answer].source))

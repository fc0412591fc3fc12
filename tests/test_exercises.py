"""Exercises are generated from solutions, start clean, fail at every check, and are never overwritten."""

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from cnn_course.authoring import has_solution, is_check_cell, make_exercise, write_exercises

SOLUTIONS = sorted(p.name for p in (Path(__file__).resolve().parent.parent / "solutions").glob("*.ipynb"))


@pytest.mark.parametrize("name", SOLUTIONS)
def test_committed_exercise_is_what_the_generator_makes(root, name):
    solution = nbformat.read(root / "solutions" / name, as_version=4)
    generated = nbformat.writes(make_exercise(solution, f"solutions/{name}")) + "\n"
    committed = (root / "exercises" / name).read_text(encoding="utf-8")
    assert committed == generated, f"exercises/{name} is stale: run `make exercises` and commit the result"


@pytest.mark.parametrize("name", SOLUTIONS)
def test_only_the_answers_differ(root, name):
    solution = nbformat.read(root / "solutions" / name, as_version=4)
    exercise = nbformat.read(root / "exercises" / name, as_version=4)
    assert len(solution.cells) == len(exercise.cells)
    answers = 0
    for s, e in zip(solution.cells, exercise.cells, strict=True):
        if has_solution(s):
            answers += 1
            assert "# YOUR CODE HERE\n" in e.source and e.source.rstrip().endswith("raise NotImplementedError()")
            before = s.source.split("### BEGIN SOLUTION")[0]
            assert e.source.startswith(before), "the code before an answer (signature, docstring) must stay"
        elif "colab-badge.svg" in s.source:  # the exercise's badge opens the exercise
            assert e.source == s.source.replace(f"/solutions/{name}", f"/exercises/{name}")
            assert f"/exercises/{name}" in e.source and "/solutions/" not in e.source
        else:
            assert e.source == s.source
        if e.cell_type == "code":
            assert e.outputs == [] and e.execution_count is None
    checks = [c for c in solution.cells if is_check_cell(c)]
    assert answers >= 5 and len(checks) == answers, "every task has one answer cell and one check cell"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """One Jupyter kernel for all the exercises (each starts from an empty namespace): TensorFlow loads once."""
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(tmp_path_factory.mktemp("exercises")))
    yield manager
    manager.shutdown_kernel(now=True)


@pytest.mark.parametrize("name", SOLUTIONS)
def test_every_check_fails_on_the_unfilled_exercise(root, name, kernel):
    exercise = nbformat.read(root / "exercises" / name, as_version=4)
    exercise.cells.insert(0, nbformat.v4.new_code_cell("%reset -f"))  # nothing left from the previous exercise
    NotebookClient(exercise, km=kernel, timeout=300, allow_errors=True).execute()
    check_cells = [c for c in exercise.cells if is_check_cell(c)]
    assert check_cells
    for cell in check_cells:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert errors, f"{cell.source!r} passed on the unfilled exercise"
        assert errors[0].ename == "CheckFailed", f"{cell.source!r}: {errors[0].ename}: {errors[0].evalue}"
        assert "not written yet" in errors[0].evalue or "is still None" in errors[0].evalue
        shown = "\n".join(errors[0].traceback)
        assert "Traceback" not in shown and "%tb" not in shown, "a failed check shows its message only"


def _copy_course(root, tmp_path):
    for folder in ("solutions", "exercises"):
        shutil.copytree(root / folder, tmp_path / folder)
    return tmp_path / "solutions", tmp_path / "exercises"


def test_generator_keeps_an_exercise_someone_worked_in(root, tmp_path):
    solutions, exercises = _copy_course(root, tmp_path)
    target = exercises / SOLUTIONS[0]
    worked = nbformat.read(target, as_version=4)
    answer = next(c for c in worked.cells if c.cell_type == "code" and "raise NotImplementedError()" in c.source)
    answer.source = answer.source.replace("raise NotImplementedError()", "return 42  # my answer")
    nbformat.write(worked, target)
    before = target.read_text(encoding="utf-8")

    written, unchanged, kept = write_exercises(solutions, exercises)
    assert kept == [target] and target not in written
    assert target.read_text(encoding="utf-8") == before


def test_generator_keeps_an_exercise_with_notes_added(root, tmp_path):
    solutions, exercises = _copy_course(root, tmp_path)
    target = exercises / SOLUTIONS[0]
    noted = nbformat.read(target, as_version=4)
    noted.cells[0].source += "\n\nMy note: ask about compression."
    nbformat.write(noted, target)
    before = target.read_text(encoding="utf-8")
    _, _, kept = write_exercises(solutions, exercises)
    assert kept == [target] and target.read_text(encoding="utf-8") == before


def test_generator_keeps_an_exercise_with_outputs(root, tmp_path):
    solutions, exercises = _copy_course(root, tmp_path)
    target = exercises / SOLUTIONS[0]
    run = nbformat.read(target, as_version=4)
    code = next(c for c in run.cells if c.cell_type == "code")
    code.execution_count = 1
    code.outputs = [nbformat.v4.new_output("stream", text="hello\n")]
    nbformat.write(run, target)
    before = target.read_text(encoding="utf-8")
    _, _, kept = write_exercises(solutions, exercises)
    assert kept == [target] and target.read_text(encoding="utf-8") == before


def test_generator_rewrites_an_untouched_stale_exercise_and_is_idempotent(root, tmp_path):
    solutions, exercises = _copy_course(root, tmp_path)
    solution_path = solutions / SOLUTIONS[0]
    solution = nbformat.read(solution_path, as_version=4)
    solution.cells[0].source += "\n\nA sentence an instructor added."
    nbformat.write(solution, solution_path)

    written, _, kept = write_exercises(solutions, exercises)
    assert written == [exercises / SOLUTIONS[0]] and kept == []
    assert "A sentence an instructor added." in (exercises / SOLUTIONS[0]).read_text(encoding="utf-8")
    written, unchanged, kept = write_exercises(solutions, exercises)
    assert written == [] and kept == [] and len(unchanged) == len(SOLUTIONS)

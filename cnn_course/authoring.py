"""Notebook tooling for instructors: exercises from solutions, and what tests need to read notebooks.

The solution notebook is the single source of an exercise. Its answers sit
between nbgrader's ``### BEGIN SOLUTION`` and ``### END SOLUTION`` markers;
nbgrader's own ``ClearSolutions`` replaces each region with
``# YOUR CODE HERE`` / ``raise NotImplementedError()`` and ``ClearOutput``
empties the outputs. nbgrader is an instructors' package (requirements-dev.txt),
imported only when an exercise is generated.
"""

import copy
import hashlib
import json
import logging
import re
from pathlib import Path

import nbformat

from cnn_course.checks import CHECK_CALL


def is_check_cell(cell):
    """A code cell that runs an exercise check (``check.<task>(...)``)."""
    return cell.cell_type == "code" and bool(CHECK_CALL.search(cell.source))


def has_solution(cell):
    return cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source


def content_hash(nb):
    """A fingerprint of what a person can change in a notebook: cell kinds, sources and outputs."""
    cells = [(c.cell_type, c.source, c.get("outputs", []), c.get("execution_count")) for c in nb.cells]
    return hashlib.sha256(json.dumps(cells, sort_keys=True).encode("utf-8")).hexdigest()


def make_exercise(solution, source_name):
    """The exercise notebook for a solution notebook: answers replaced by stubs, outputs cleared.

    It is the notebook nbgrader's ``generate_assignment`` releases, but for nbgrader's checksums:
    the same preprocessors clear the answers and outputs and lock the graded cells (a check cell
    cannot be edited or deleted, an answer cell cannot be deleted), and the badge opens the exercise.

    Its metadata records the solution it came from and a fingerprint of its cells,
    so that the generator can tell later whether anyone has changed it.
    """
    from nbgrader.preprocessors import ClearOutput, ClearSolutions, LockCells

    quiet = logging.getLogger("cnn_course.authoring.nbgrader")
    quiet.setLevel(logging.ERROR)
    exercise = copy.deepcopy(solution)
    resources = {"language": "python"}
    # Every answer cell carries nbgrader's metadata (cnn_course.grading), so its checks apply as in a release.
    exercise, resources = ClearSolutions(log=quiet).preprocess(exercise, resources)
    exercise, resources = ClearOutput(log=quiet).preprocess(exercise, resources)
    exercise, resources = LockCells(log=quiet).preprocess(exercise, resources)  # as nbgrader's release locks them
    for cell in exercise.cells:
        cell.metadata.pop("execution", None)
    badges_to_exercise(exercise)
    exercise.metadata["cnn_course"] = {
        "generated_from": source_name,
        "by": "make exercises",
        "content_hash": content_hash(exercise),
    }
    return exercise


SOLUTION_LINK = re.compile(r"(/blob/[^/\s)]+/(?:ja/)?)solutions/([^/\s)]+\.ipynb)")


def badges_to_exercise(nb):
    """Point the notebook's links to a solution on GitHub (its "Open in Colab" badge) at the exercise instead.

    `make exercises` and nbgrader's release (``ExerciseBadge`` in its preprocessors) both use it,
    so a learner's badge never opens the answers.
    """
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = SOLUTION_LINK.sub(r"\g<1>exercises/\g<2>", cell.source)
    return nb


def exercise_badge_preprocessor():
    """An nbconvert preprocessor class for nbgrader's ``GenerateAssignment.preprocessors`` (see docs/grading.md)."""
    from nbconvert.preprocessors import Preprocessor

    class ExerciseBadge(Preprocessor):
        enabled = True

        def preprocess(self, nb, resources):
            return badges_to_exercise(nb), resources

    return ExerciseBadge


def untouched(exercise):
    """True if the exercise's cells are exactly as the generator wrote them (no edits, no outputs)."""
    recorded = exercise.metadata.get("cnn_course", {}).get("content_hash")
    return recorded == content_hash(exercise)


def write_exercises(solutions_dir, exercises_dir, source_folder="solutions"):
    """Regenerate every exercise; never overwrite one that someone has changed.

    Returns (written, unchanged, kept): lists of paths. `kept` are exercises whose
    cells differ from what the generator last wrote (answers typed in, cells run,
    notes added), left exactly as they are. `source_folder` is how the exercises' metadata names the
    solutions' folder ("ja/solutions" for the Japanese edition).
    """
    written, unchanged, kept = [], [], []
    exercises_dir.mkdir(exist_ok=True)
    for source in sorted(Path(solutions_dir).glob("*.ipynb")):
        target = exercises_dir / source.name
        text = (
            nbformat.writes(make_exercise(nbformat.read(source, as_version=4), f"{source_folder}/{source.name}")) + "\n"
        )
        if target.exists():
            current = target.read_text(encoding="utf-8")
            if current == text:
                unchanged.append(target)
                continue
            if not untouched(nbformat.reads(current, as_version=4)):
                kept.append(target)
                continue
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written, unchanged, kept


def task_namespace(path):
    """Run a solution notebook's code cells, except its check cells, and return the names they define.

    Tests use this to call the check functions with the solution's own answers.
    """
    from IPython.core.inputtransformer2 import TransformerManager  # cells may hold magics (%pip on Colab)

    to_python = TransformerManager().transform_cell
    namespace = {"__name__": "__solution__"}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and not is_check_cell(cell):
            exec(compile(to_python(cell.source), f"{Path(path).name}:{cell.get('id', '?')}", "exec"), namespace)
    return namespace

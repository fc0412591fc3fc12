"""nbgrader's cell metadata for the solutions, derived from the notebooks themselves.

Each task of a solution notebook is a markdown statement whose heading carries
its points (``## Task 3 · The transition layer（トランジション層） · 2 points``),
an answer cell (``### BEGIN SOLUTION`` … ``### END SOLUTION``) and a check cell
(``check.<name>(...)``). From these, `grade_solution` writes:

- on the answer cell, nbgrader's metadata of an autograded answer
  (grade id ``task3_transition_layer_answer``);
- on the check cell, that of an autograded test worth the heading's points
  (grade id ``task3_transition_layer``: the task's number and its check's name);
- in the title cell, one line with the unit's total (``**Points.** …``);
- under a task whose answer calls an earlier task's function, one line saying
  so (its check can pass only when that task's answer works too).

Nothing else changes: no source but those lines, no output, no other metadata.
A second run changes nothing. ``make exercises`` runs it before it regenerates
the exercises; the exercises keep the same metadata, so a learner's copy can be
autograded as it is.
"""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cnn_course.checks import CHECK_CALL

HEADING = re.compile(r"^## Task (\d+) · (.*)$", re.MULTILINE)
POINTS = re.compile(r" · (\d+) points?\s*$")
TOTAL_LINE = re.compile(r"\n*^\*\*Points\.\*\* .*$", re.MULTILINE)
DEPENDS_LINE = re.compile(r"\n*^\*\*Depends on Tasks? .*$", re.MULTILINE)


class GradingError(ValueError):
    """A solution notebook whose tasks cannot be graded as they stand (the message says which and why)."""


@dataclass
class Task:
    number: int
    points: int
    check: str  # the check function's name
    heading: int  # index of the markdown cell with the task's heading
    statement: int  # index of the task's last markdown cell (the dependency line goes there)
    answer: int  # index of the answer cell
    test: int  # index of the check cell
    uses: dict = field(default_factory=dict)  # earlier task number -> names of its functions this answer calls

    @property
    def grade_id(self):
        return f"task{self.number}_{self.check}"


def _defined_names(source):
    tree = ast.parse(source)
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(n.id for target in node.targets for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _called_names(source):
    return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}


def _unfinished(name, task):
    return GradingError(f"{name}: Task {task['number']} has no answer cell and check cell under its heading")


def tasks(nb, name="notebook"):
    """The tasks of a solution notebook, in order; GradingError if one lacks its points, answer or check."""
    found, current = [], None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            match = HEADING.search(cell.source)
            if match and current is not None:
                raise _unfinished(name, current)
            if match:
                heading = match.group(0)
                points = POINTS.search(heading)
                if not points:
                    raise GradingError(
                        f"{name}: Task {match.group(1)} has no points: end its heading with ' · N points', "
                        f"e.g. '{heading.rstrip()} · 2 points'"
                    )
                current = {"number": int(match.group(1)), "points": int(points.group(1)), "heading": index}
            if current is not None and "answer" not in current:
                current["statement"] = index
        elif cell.cell_type == "code" and current is not None:
            if "### BEGIN SOLUTION" in cell.source:
                current["answer"] = index
            elif CHECK_CALL.search(cell.source) and "answer" in current:
                current["test"] = index
                current["check"] = CHECK_CALL.search(cell.source).group(1)
                found.append(Task(**current))
                current = None
    if current is not None:
        raise _unfinished(name, current)
    numbers = [t.number for t in found]
    if numbers != list(range(1, len(found) + 1)):
        raise GradingError(f"{name}: tasks are numbered {numbers}, expected 1, 2, 3, …")
    defined = {}
    for task in found:
        source = nb.cells[task.answer].source
        for used in sorted(_called_names(source) & set(defined)):
            if defined[used] != task.number:
                task.uses.setdefault(defined[used], []).append(used)
        for defined_name in _defined_names(source):
            defined.setdefault(defined_name, task.number)
    return found


def answer_metadata(task):
    return {
        "grade": False,
        "grade_id": f"{task.grade_id}_answer",
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }


def test_metadata(task):
    return {
        "grade": True,
        "grade_id": task.grade_id,
        "locked": True,
        "points": task.points,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }


def _total_line(found):
    total = sum(t.points for t in found)
    return (
        f"**Points.** {total} in all, each task's in its heading. When the class is graded (nbgrader), "
        "each check cell scores its task's points if it passes: a task's grade depends on its own answer, "
        "and on an earlier task's only where it says so."
    )


def _depends_line(task):
    earlier = sorted(task.uses)
    names = [f"`{name}`" for n in earlier for name in task.uses[n]]
    if len(earlier) == 1:
        heading, which = f"Task {earlier[0]}", f"Task {earlier[0]}'s does"
    else:
        numbers = ", ".join(map(str, earlier[:-1])) + f" and {earlier[-1]}"
        heading, which = f"Tasks {numbers}", "theirs do"
    uses = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
    return (
        f"**Depends on {heading}.** This task uses your {uses}: its check, and its points, can pass only once {which}."
    )


def _with_line(source, pattern, line):
    """`source` with the generated line matching `pattern` replaced by `line` (added if absent, removed if None)."""
    base = pattern.sub("", source).rstrip("\n")
    return base if line is None else f"{base}\n\n{line}"


def grade_solution(nb, name="notebook"):
    """Write nbgrader's metadata, the total line and the dependency lines into `nb` (in place); returns its tasks."""
    found = tasks(nb, name)
    if not found:
        raise GradingError(f"{name}: no tasks found ('## Task N · … · N points' headings)")
    for task in found:
        nb.cells[task.answer].metadata["nbgrader"] = answer_metadata(task)
        nb.cells[task.test].metadata["nbgrader"] = test_metadata(task)
        statement = nb.cells[task.statement]
        statement.source = _with_line(statement.source, DEPENDS_LINE, _depends_line(task) if task.uses else None)
    title = next(c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("# "))
    title.source = _with_line(title.source, TOTAL_LINE, _total_line(found))
    return found


def write_grading(solutions_dir):
    """Bring every solution's grading metadata up to date; returns (written, unchanged) lists of paths."""
    written, unchanged = [], []
    for path in sorted(Path(solutions_dir).glob("*.ipynb")):
        before = path.read_text(encoding="utf-8")
        nb = nbformat.reads(before, as_version=4)
        grade_solution(nb, f"solutions/{path.name}")
        after = nbformat.writes(nb) + "\n"
        if after == before:
            unchanged.append(path)
        else:
            path.write_text(after, encoding="utf-8")
            written.append(path)
    return written, unchanged


def total_points(nb):
    """The points of a notebook's graded cells, from their nbgrader metadata."""
    return sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in nb.cells)

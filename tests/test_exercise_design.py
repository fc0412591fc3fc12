"""Exercises make the learner think: at most a third of a unit's tasks are warm-ups, and only a
warm-up may rebuild what the walkthrough shows.

A task's heading says its difficulty and, for a warm-up, that it is one
(``## Task 2 · The VGG block（VGGブロック） · warm-up ★ · 1 point``). An answer region of a task
that is not a warm-up must not be a copy of a walkthrough cell: its code, with comments,
docstrings, local names and whitespace normalised away, must not be found (80 % of its tokens or
more, in runs of three or more) in any code cell of the unit's walkthrough.
"""

import builtins
import io
import keyword
import re
import tokenize
from difflib import SequenceMatcher
from pathlib import Path

import nbformat
import pytest

from cnn_course.grading import tasks

ROOT = Path(__file__).resolve().parent.parent
UNITS = sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb"))
DIFFICULTY = re.compile(r" · (warm-up )?(★{1,3}) · \d+ points?\s*$")
KEPT = set(keyword.kwlist) | set(dir(builtins)) | {"keras", "layers", "ops", "np", "tf", "check", "self"}
COPIED = 0.8  # the share of an answer's tokens found in one walkthrough cell that makes it a copy
SHORTEST = 6  # answers of fewer tokens are too short to be a copy of anything


def normalised_tokens(source):
    """The code's tokens with names other than keywords, builtins, modules and attributes as `_`."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    out, previous = [], None
    for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            continue
        if tok.type == tokenize.STRING and previous in (None, ":", "NEWLINE"):
            previous = "NEWLINE"  # a docstring or a bare string statement
            continue
        if tok.type == tokenize.ENDMARKER:
            break
        text = tok.string
        if tok.type == tokenize.NAME and text not in KEPT and previous != ".":
            text = "_"
        out.append(text)
        previous = tok.string
    return out


def answer_regions(source):
    """The code between each ### BEGIN SOLUTION and ### END SOLUTION, dedented."""
    regions = re.findall(r"### BEGIN SOLUTION\n(.*?)\n[ \t]*### END SOLUTION", source, re.DOTALL)
    out = []
    for region in regions:
        lines = region.splitlines()
        indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
        out.append("\n".join(line[indent:] for line in lines))
    return out


def copied_share(answer, cell):
    matcher = SequenceMatcher(None, answer, cell, autojunk=False)
    return sum(b.size for b in matcher.get_matching_blocks() if b.size >= 3) / len(answer)


def unit_tasks(name):
    solution = nbformat.read(ROOT / "solutions" / name, as_version=4)
    walkthrough = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    cells = [normalised_tokens(c.source) for c in walkthrough.cells if c.cell_type == "code"]
    return solution, tasks(solution, name), cells


@pytest.mark.parametrize("name", UNITS)
def test_every_task_says_its_difficulty_and_at_most_a_third_are_warm_ups(name):
    solution, found, _ = unit_tasks(name)
    warm_ups = []
    for task in found:
        heading = solution.cells[task.heading].source.splitlines()[0]
        match = DIFFICULTY.search(heading)
        assert match, (
            f"{name}: Task {task.number}'s heading must end ' · ★ · 1 point' "
            f"(★ to ★★★, 'warm-up ★' for a warm-up): {heading!r}"
        )
        if match.group(1):
            warm_ups.append(task.number)
    assert 3 * len(warm_ups) <= len(found), f"{name}: warm-ups {warm_ups} are more than a third of {len(found)} tasks"


@pytest.mark.parametrize("name", UNITS)
def test_only_a_warm_up_rebuilds_a_walkthrough_cell(name):
    solution, found, cells = unit_tasks(name)
    copies = []
    for task in found:
        heading = solution.cells[task.heading].source.splitlines()[0]
        if " · warm-up ★" in heading:
            continue
        for region in answer_regions(solution.cells[task.answer].source):
            answer = normalised_tokens(region)
            if len(answer) < SHORTEST:
                continue
            share = max((copied_share(answer, cell) for cell in cells), default=0.0)
            if share >= COPIED:
                copies.append(f"Task {task.number} ({share:.0%} of its answer is in a walkthrough cell)")
    assert not copies, f"{name}: tasks not marked as warm-ups copy the walkthrough: {'; '.join(copies)}"


def test_the_copy_detector_sees_through_names_and_comments():
    walkthrough = normalised_tokens(
        "def conv(x, w):\n    '''Doc.'''\n    out = np.zeros((3, 3))  # the map\n    for i in range(3):\n"
        "        out[i] = (x[i:i + 2] * w).sum()\n    return out\n"
    )
    renamed = normalised_tokens(
        "result = np.zeros((3, 3))\nfor row in range(3):\n    result[row] = (image[row:row + 2] * kernel).sum()\n"
        "return result\n"
    )
    other = normalised_tokens("return layers.Conv2D(8, 3, padding='same')(x) + np.ones(3)\n")
    assert copied_share(renamed, walkthrough) >= COPIED
    assert copied_share(other, walkthrough) < COPIED

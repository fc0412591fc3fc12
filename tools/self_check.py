"""A learner's self-check: run the notebooks in work/ headless and list each task's result.

    python tools/self_check.py work [UNIT]          (make check, make check UNIT=09)

Each notebook runs top to bottom in a fresh kernel, in memory and in FAST mode
(as `make test` runs the solutions): the learner's file is never written. For
every check cell the table shows ✓, or ✗ with the first line of the check's
message (a task whose cell was not filled in reads "not written yet").
Copies of updated exercises (NN_topic.updated.ipynb) are skipped. The Japanese edition's
exercises (課題) are listed as they are headed.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from cnn_course.authoring import is_check_cell

TASK_HEADING = re.compile(
    r"^## (Task|課題) (\d+) · (.+?)(?:（[^（）]*）)?(?: · [^·\n]*★[^·\n]*)?(?: · \d+ (?:points?|点))?\s*$", re.MULTILINE
)
"""A task's heading, in English or in the Japanese edition (課題): its number and title, without the
other language's name of it, its stars and its points."""
CELL_TIMEOUT = 600


def notebooks(work, unit=None):
    """The learner's exercise notebooks in work/, or those of one unit ("09" or "9")."""
    found = [p for p in sorted(Path(work).glob("[0-9][0-9]_*.ipynb")) if ".updated" not in p.name]
    if unit is not None:
        found = [p for p in found if p.name.startswith(f"{int(unit):02d}_")]
    return found


def _first_line(text):
    lines = re.sub(r"\x1b\[[0-9;]*m", "", text).strip().splitlines()
    return lines[0].strip() if lines else ""


def task_results(nb):
    """[(task, passed, message)] for an executed notebook, one per check cell, in order."""
    results, task = [], "Task ?"
    for cell in nb.cells:
        if cell.cell_type == "markdown" and (heading := TASK_HEADING.search(cell.source)):
            task = f"{heading.group(1)} {heading.group(2)} · {heading.group(3)}"
        if not is_check_cell(cell):
            continue
        printed = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if errors:
            error = errors[0]
            shown = _first_line(error.evalue).split(" — ", 1)[-1]
            kind = "NameError" if error.ename == "NotDefinedYet" else error.ename
            results.append((task, False, shown if kind == "CheckFailed" else f"{kind}: {shown}"))
        elif "✓" in printed:
            results.append((task, True, ""))
        else:
            results.append((task, False, "the check cell did not run to the end"))
    return results


def run(path):
    """Execute a copy of the notebook in memory; return it (the file on disk is not touched)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True)
    try:
        client.execute(cwd=str(Path(path).parent), stderr=subprocess.DEVNULL)  # the kernel's own log lines
    except (CellTimeoutError, DeadKernelError) as err:
        print(f"  {path.name}: stopped early ({type(err).__name__}: {_first_line(str(err))[:160]})")
    return nb


def main(work="work", unit=None):
    os.environ.setdefault("CNN_COURSE_FAST", "1")
    paths = notebooks(work, unit)
    if not paths:
        where = f"for unit {unit} " if unit else ""
        print(f"No exercise notebooks {where}in {work}/: run `make lab` first (it copies them there).")
        return 1
    passed = total = 0
    for path in paths:
        start = time.perf_counter()
        results = task_results(run(path))
        print(
            f"\n{path.name}  ({sum(ok for _, ok, _ in results)} of {len(results)} tasks pass, "
            f"{time.perf_counter() - start:.0f} s)"
        )
        for task, ok, message in results:
            print(f"  {'✓' if ok else '✗'} {task}" + ("" if ok else f"\n      {message}"))
        passed += sum(ok for _, ok, _ in results)
        total += len(results)
    print(f"\n{passed} of {total} tasks pass in {len(paths)} notebook(s). Your files were not changed.")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))

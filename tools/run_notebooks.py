"""Re-run walkthroughs and solutions top to bottom in full mode and store their outputs.

    python tools/run_notebooks.py                      # every notebook in notebooks/, solutions/ and docs/
    python tools/run_notebooks.py notebooks/09_densenet.ipynb

Stored outputs are what nbval compares and what learners read, so they always
come from one real top-to-bottom run: this is the only way the kit writes them.
Exercises are never run here (they are generated without outputs).
"""

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("notebooks", "solutions", "docs")  # docs: the drill (docs/drill.ipynb)


def run(path, fast=False, timeout=900):
    """Execute one notebook in its own folder; return the executed notebook and the wall time."""
    nb = nbformat.read(path, as_version=4)
    env_fast = os.environ.pop("CNN_COURSE_FAST", None)
    if fast:
        os.environ["CNN_COURSE_FAST"] = "1"
    try:
        start = time.perf_counter()
        NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        ).execute()
        return nb, time.perf_counter() - start
    finally:
        os.environ.pop("CNN_COURSE_FAST", None)
        if env_fast is not None:
            os.environ["CNN_COURSE_FAST"] = env_fast


def main(args):
    paths = [Path(a).resolve() for a in args] or [p for f in FOLDERS for p in sorted((ROOT / f).glob("*.ipynb"))]
    for path in paths:
        if path.parent.name not in FOLDERS:
            sys.exit(f"{path.name}: only notebooks in {' and '.join(FOLDERS)}/ store outputs (exercises start clean)")
        nb, seconds = run(path)
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
        nbformat.write(nb, path)
        print(f"{path.relative_to(ROOT)}: ran in {seconds:.0f} s, outputs stored")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Bring the solutions' grading metadata up to date, then regenerate exercises/ from them.

python tools/make_exercises.py        (or: make exercises)

First, nbgrader's cell metadata (answer and test cells, grade ids, points from
each task's heading) and the unit's total line are written into solutions/
(cnn_course.grading; only metadata and those lines change). Then each exercise
is regenerated from its solution (nbgrader's markers); an exercise that anyone
has changed since it was generated is kept, never overwritten.
"""

import sys
from pathlib import Path

from cnn_course.authoring import write_exercises
from cnn_course.grading import GradingError, write_grading

ROOT = Path(__file__).resolve().parent.parent


def main():
    try:
        graded, _ = write_grading(ROOT / "solutions")
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in graded:
        print(f"grading    {path.relative_to(ROOT)}: nbgrader metadata, points or dependency lines updated")
    written, unchanged, kept = write_exercises(ROOT / "solutions", ROOT / "exercises")
    for path in written:
        print(f"written    {path.relative_to(ROOT)}")
    for path in unchanged:
        print(f"up to date {path.relative_to(ROOT)}")
    for path in kept:
        print(
            f"kept       {path.relative_to(ROOT)}: it was changed since it was generated (answers, outputs or notes); "
            "move it away (or `git checkout` it) and run again to regenerate it"
        )
    return 1 if kept else 0


if __name__ == "__main__":
    sys.exit(main())

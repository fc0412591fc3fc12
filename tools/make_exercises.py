"""Regenerate exercises/ from solutions/ (nbgrader's markers); never overwrite a learner's work.

python tools/make_exercises.py        (or: make exercises)
"""

import sys
from pathlib import Path

from cnn_course.authoring import write_exercises

ROOT = Path(__file__).resolve().parent.parent


def main():
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

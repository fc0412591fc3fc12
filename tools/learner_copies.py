"""Give the learner a copy of each exercise to work in; never overwrite one.

    python tools/learner_copies.py exercises work      (make lab runs this)

Copies exercises/NN_topic.ipynb to work/NN_topic.ipynb when work/ has no file of
that name. work/ is ignored by git, so `git pull` brings new and updated
exercises into exercises/ without touching what the learner wrote.
"""

import shutil
import sys
from pathlib import Path


def copy_missing(source_dir, target_dir):
    """Copy each notebook of source_dir that target_dir lacks; return the new copies."""
    target_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for source in sorted(source_dir.glob("*.ipynb")):
        target = target_dir / source.name
        if not target.exists():
            shutil.copy2(source, target)
            copied.append(target)
    return copied


def main(source, target):
    source_dir, target_dir = Path(source), Path(target)
    if not source_dir.is_dir():
        sys.exit(f"no folder {source_dir}/: run this from the course's top folder")
    copied = copy_missing(source_dir, target_dir)
    for path in copied:
        print(f"new exercise copy: {path}")
    total = len(list(target_dir.glob("*.ipynb")))
    print(f"Your exercises are in {target_dir}/ ({total} notebooks); nothing there is ever overwritten.")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python tools/learner_copies.py EXERCISES_DIR WORK_DIR")
    main(*sys.argv[1:])

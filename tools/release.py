"""Set up an nbgrader course directory from the solutions and generate the student versions.

python tools/release.py COURSE [UNIT ...]      (or: make release COURSE=course [UNIT=09])

Copies docs/nbgrader_config.py to COURSE/nbgrader_config.py if it has none (edit that
copy), copies each solution to COURSE/source/<unit>/<unit>.ipynb (nbgrader's
source: the solutions are its single source, so a copy there is replaced when the
solution changed), then runs `nbgrader generate_assignment`, which writes
COURSE/release/<unit>/<unit>.ipynb: the exercise `make exercises` writes, plus
nbgrader's checksums. docs/grading.md says what comes next.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def units(root=ROOT):
    return [p.stem for p in sorted((root / "solutions").glob("*.ipynb"))]


def nbgrader_env(root=ROOT):
    """The environment nbgrader and its kernels run in: this checkout's cnn_course, nbgrader's tools on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])  # nbgrader calls `alembic`
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(root), env.get("PYTHONPATH", "")] if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    return env


def nbgrader(course, *args, root=ROOT, check=True):
    """Run an nbgrader command in the course directory; returns the CompletedProcess (output captured)."""
    command = [str(Path(sys.executable).with_name("nbgrader")), *args]
    result = subprocess.run(command, cwd=course, env=nbgrader_env(root), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result


def prepare_course(course, names=None, root=ROOT):
    """The course directory with its config and the solutions as nbgrader's source; returns the units."""
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    config = course / "nbgrader_config.py"
    if not config.exists():
        shutil.copyfile(root / "docs" / "nbgrader_config.py", config)
    names = names or units(root)
    for name in names:
        solution = root / "solutions" / f"{name}.ipynb"
        if not solution.exists():
            raise SystemExit(f"no solutions/{name}.ipynb (units: {', '.join(units(root))})")
        target = course / "source" / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(solution, target)
    return names


def generate(course, names, root=ROOT):
    """nbgrader generate_assignment for the units (one nbgrader run for all of them); returns the release paths."""
    for pattern in ["[0-9][0-9]_*"] if names == units(root) else names:
        nbgrader(course, "generate_assignment", pattern, "--force", root=root)
    return [Path(course) / "release" / name / f"{name}.ipynb" for name in names]


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    course, wanted = Path(argv[0]), argv[1:]
    names = [n for n in units() if any(n.startswith(w) for w in wanted)] if wanted else None
    if wanted and not names:
        print(f"no unit matches {' '.join(wanted)} (units: {', '.join(units())})")
        return 2
    names = prepare_course(course, names)
    for path in generate(course, names):
        print(f"released   {path}")
    print(f"next: docs/grading.md (collect, autograde, export) — in {course}: nbgrader autograde <unit>")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Make sure a virtual environment exists, fits this interpreter and has its requirements installed.

    python3.12 tools/ensure_venv.py .venv requirements.txt [--explicit]      (make lab, make test)

Run it with the interpreter the environment should have (make finds it with
tools/find_python.sh). It does nothing when the environment is complete and
current, which takes a fraction of a second. Otherwise it says what it does and why:

- an environment built with a Python outside 3.11-3.13, one whose interpreter no
  longer runs, or (with --explicit, when PYTHON was named) one built with another
  Python than the one named, is deleted and built again;
- an environment whose install was interrupted or whose requirements changed is
  installed into again, with pip's progress shown (the first time is a large download).

The stamp <venv>/.installed records the Python version and a fingerprint of the
requirements it was installed from.
"""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUPPORTED = ((3, 11), (3, 13))
STAMP = ".installed"


def _version(text):
    major, minor = text.strip().split(".")[:2]
    return int(major), int(minor)


def requirements_fingerprint(requirements):
    """A hash of the requirements file, the files it includes with -r, and pyproject.toml."""
    files, queue = [], [Path(requirements)]
    while queue:
        path = queue.pop()
        files.append(path)
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("-r "):
                queue.append(path.parent / line[3:].strip())
    files.append(ROOT / "pyproject.toml")
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(files))).hexdigest()


def venv_version(venv):
    """The Python (major, minor) a venv was built with, from its pyvenv.cfg; None if it has none."""
    config = Path(venv) / "pyvenv.cfg"
    if not config.exists():
        return None
    for line in config.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("version", "version_info"):
            return _version(value)
    return None


def plan(venv, want, fingerprint, explicit):
    """What to do with `venv` for Python `want`: ("ok", ""), ("install", why) or ("rebuild", why)."""
    venv = Path(venv)
    if not venv.exists():
        return "rebuild", f"no {venv}/ yet"
    have = venv_version(venv)
    try:
        runs = subprocess.run([str(venv / "bin" / "python"), "-c", "pass"], capture_output=True).returncode == 0
    except OSError:  # missing, or not executable
        runs = False
    if have is None or not runs:
        return "rebuild", f"{venv}/ is broken (its Python does not run)"
    shown = f"{have[0]}.{have[1]}"
    if not SUPPORTED[0] <= have <= SUPPORTED[1]:
        return "rebuild", f"{venv}/ was built with Python {shown}, which the course does not support"
    if explicit and have != want:
        return "rebuild", f"{venv}/ was built with Python {shown}; PYTHON names Python {want[0]}.{want[1]}"
    stamp = venv / STAMP
    if not stamp.exists():
        return "install", f"the last install into {venv}/ did not finish"
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8")).get("requirements")
    except json.JSONDecodeError:
        recorded = None
    if recorded != fingerprint:
        return "install", "the requirements changed since the last install"
    return "ok", ""


PROGRESS = ("Collecting", "Downloading", "Installing collected", "Successfully installed")


def pip_showing_progress(command):
    """Run pip, showing what it downloads (with sizes) and installs; all of its output if it fails."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.lstrip().startswith(PROGRESS):
            print("  " + line.strip(), flush=True)
    if process.wait() != 0:
        print("".join(lines[-40:]), end="")
    return process.returncode


def ensure(venv, requirements, explicit):
    """Build or complete the environment as `plan` says; returns pip's exit code (0 when nothing to do)."""
    venv, want = Path(venv), sys.version_info[:2]
    fingerprint = requirements_fingerprint(requirements)
    action, why = plan(venv, want, fingerprint, explicit)
    if action == "ok":
        return 0
    if action == "rebuild":
        print(f"Building {venv}/ with Python {want[0]}.{want[1]} ({sys.executable}): {why}.", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    else:
        print(f"Installing into {venv}/: {why}.", flush=True)
    print(
        f"pip installs {requirements} (the first time: TensorFlow and the rest, about 600 MB to download and"
        " 2 GB on disk; each download and its size is listed below).",
        flush=True,
    )
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    code = pip_showing_progress([*pip, "--upgrade", "pip"]) or pip_showing_progress(
        [*pip, "-r", str(requirements), "-e", str(ROOT)]
    )
    if code != 0:
        print(f"pip failed (above); run the same command again to resume, or delete {venv}/ to start over.")
        return code
    record = {"python": f"{want[0]}.{want[1]}", "requirements": fingerprint}
    (venv / STAMP).write_text(json.dumps(record) + "\n", encoding="utf-8")
    print(f"{venv}/ is ready.")
    return 0


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--explicit"]
    if len(arguments) != 2:
        sys.exit("usage: python tools/ensure_venv.py VENV REQUIREMENTS [--explicit]")
    sys.exit(ensure(*arguments, explicit="--explicit" in sys.argv[1:]))

#!/bin/sh
# Print the path of the Python 3.11-3.13 that builds the course's environments (make runs this).
#   sh tools/find_python.sh         the first of python3.13, python3.12, python3.11, python3 that runs and fits
#   sh tools/find_python.sh NAME    NAME (a command or a path), refused unless it is Python 3.11-3.13;
#                                   under pyenv, a version's command (python3.12) works even when that
#                                   version is not the active one
# On failure it prints one message on stderr, builds nothing and exits 1.

NEEDS="the course needs Python 3.11, 3.12 or 3.13 (Keras 3.15 needs 3.11 or newer; TensorFlow 2.21 has no wheels for 3.14)"

real_path() {  # the interpreter behind the command $1 (through a pyenv shim too), or nothing
  if "$1" -c 'pass' >/dev/null 2>&1; then
    "$1" -c 'import sys; print(sys.executable)'
    return
  fi
  command -v pyenv >/dev/null 2>&1 || return
  for version in $(pyenv whence "$1" 2>/dev/null); do
    PYENV_VERSION=$version pyenv which "$1" 2>/dev/null && return
  done
}

fits() {
  "$1" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' >/dev/null 2>&1
}

if [ -n "$1" ]; then
  found=$(real_path "$1")
  if [ -z "$found" ]; then
    echo "PYTHON=$1: no such command on PATH (nor a pyenv version that has it); $NEEDS: name one, e.g. make lab PYTHON=python3.12" >&2
    exit 1
  fi
  if ! fits "$found"; then
    version=$("$found" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo "unknown")
    echo "PYTHON=$1 is Python $version; $NEEDS. Nothing was built." >&2
    exit 1
  fi
  echo "$found"
  exit 0
fi

for candidate in python3.13 python3.12 python3.11 python3; do
  if "$candidate" -c 'pass' >/dev/null 2>&1 && fits "$candidate"; then
    "$candidate" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
echo "No Python 3.11-3.13 found on PATH; $NEEDS. Install one (python.org, your package manager, pyenv or 'uv python install 3.12') or name it: make lab PYTHON=/path/to/python3.12" >&2
exit 1

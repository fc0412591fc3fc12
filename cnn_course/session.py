"""The one call at the top of every notebook: quiet logs, seeds, the FAST switch."""

import contextlib
import os
import platform
import sys
from dataclasses import dataclass

from cnn_course import i18n

FAST_VARIABLE = "CNN_COURSE_FAST"
"""Set this environment variable to 1 to shrink epochs and samples (CI does)."""

SUPPORTED = {"TensorFlow": ("tensorflow", (2, 19), (2, 21)), "Keras": ("keras", (3, 10), (3, 15))}
"""Oldest and newest minor versions the checks and solutions are tested on (pyproject's floors,
requirements.txt's pins): name → (pip package, oldest, newest)."""


@dataclass(frozen=True)
class Course:
    """What ``setup()`` decided: the seed and whether the notebook runs in FAST mode."""

    seed: int
    fast: bool

    def pick(self, full, fast):
        """Return `fast` in FAST mode and `full` otherwise (epochs, sample sizes, ...)."""
        return fast if self.fast else full


def fast_mode():
    """True when the FAST switch is on (``CNN_COURSE_FAST`` set to 1, true or yes)."""
    return os.environ.get(FAST_VARIABLE, "").strip().lower() in {"1", "true", "yes", "on"}


@contextlib.contextmanager
def _stderr_silenced():
    """Send file descriptor 2 to /dev/null for a moment.

    TensorFlow's C++ start-up lines ("Could not find cuda drivers ...") are written
    before its log level applies, straight to the process's stderr, which Jupyter
    shows in red under the cell. Python-level errors still raise as usual.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def _minor(version):
    """'2.19.1' or '3.10.0rc1' → (2, 19)."""
    major, minor = (version.split(".") + ["0"])[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


def version_warning(versions):
    """One line when a version in {"TensorFlow": "2.17.1", ...} is outside SUPPORTED; None otherwise."""
    outside = []
    for name, version in versions.items():
        _, oldest, newest = SUPPORTED[name]
        if not oldest <= _minor(version) <= newest:
            outside.append(f"{name} {version}")
    if not outside:
        return None
    wanted = " ".join(
        f'"{package}>={oldest[0]}.{oldest[1]},<{newest[0]}.{newest[1] + 1}"'
        for package, oldest, newest in SUPPORTED.values()
    )
    tested = ", ".join(f"{n} {o[0]}.{o[1]}–{m[0]}.{m[1]}" for n, (_, o, m) in SUPPORTED.items())
    verb = "is" if len(outside) == 1 else "are"
    return (
        f"⚠ {' and '.join(outside)} {verb} outside what this course is tested on ({tested}); some checks may"
        f" misjudge correct answers: run  %pip install {wanted}  and restart the kernel."
    )


def setup(seed=0, quiet=True, lang=None):
    """Prepare a notebook: silence TensorFlow's start-up logs, seed, read FAST, choose the language.

    Call it in the first code cell, before anything imports TensorFlow. With
    `quiet`, TensorFlow's start-up lines and its Python warnings are silenced. It seeds
    Python, NumPy and TensorFlow (``keras.utils.set_random_seed``), keeps
    TensorFlow's oneDNN rewrites off so results repeat, makes the course's plot
    style the default, and prints one line with the versions and the mode (and a
    second line when TensorFlow or Keras is outside the tested range, ``SUPPORTED``). `lang`
    ("en" or "ja") is the language of the checks' messages; the notebooks in ``ja/`` pass "ja",
    and without it the environment variable ``CNN_COURSE_LANG`` decides (``cnn_course.i18n``).

    Returns a ``Course`` with ``seed`` and ``fast``.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"setup(seed=...) expects an integer seed, got {seed!r}")
    if lang is not None:
        i18n.set_language(lang)
    if quiet:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    already_imported = "tensorflow" in sys.modules
    with _stderr_silenced() if quiet and not already_imported else contextlib.nullcontext():
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe logs here, once
    if quiet:
        tf.get_logger().setLevel("ERROR")  # e.g. retracing warnings, which would land in a cell's output
    import keras
    import numpy as np

    from cnn_course import plots

    keras.utils.set_random_seed(seed)
    plots.use_course_style()
    course = Course(seed=seed, fast=fast_mode())
    mode = f"FAST mode ({FAST_VARIABLE}=1)" if course.fast else "full mode"
    print(
        f"Python {platform.python_version()} · TensorFlow {tf.__version__} · Keras {keras.__version__}"
        f" · NumPy {np.__version__} · seed {seed} · {mode}"
    )
    warning = version_warning({"TensorFlow": tf.__version__, "Keras": keras.__version__})
    if warning:
        print(warning)
    return course

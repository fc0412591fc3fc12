"""setup(): one line, seeds, the FAST switch; the package imports without side effects."""

import subprocess
import sys

import numpy as np
import pytest

from cnn_course import session


def run_python(code, **env):
    import os

    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=120
    )


def test_importing_the_package_imports_no_tensorflow():
    result = run_python(
        "import sys, cnn_course, cnn_course.data, cnn_course.costs, cnn_course.checks, cnn_course.plots\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'imported too early'"
    )
    assert result.returncode == 0, result.stderr


def test_setup_prints_one_line_and_nothing_on_stderr():
    from importlib.metadata import version

    result = run_python("from cnn_course import setup; setup()", TF_CPP_MIN_LOG_LEVEL="", CNN_COURSE_FAST="")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1  # the installed versions are inside SUPPORTED: no warning line
    installed = f"TensorFlow {version('tensorflow')} · Keras {version('keras')}"
    assert installed in lines[0] and "seed 0" in lines[0] and "full mode" in lines[0]
    assert result.stderr.strip() == "", f"TensorFlow's start-up lines leaked: {result.stderr[:300]}"


def test_setup_silences_tensorflow_warnings(capsys):
    import tensorflow as tf

    session.setup()
    assert tf.get_logger().level == 40  # logging.ERROR


def test_setup_reports_fast_mode():
    result = run_python(
        "from cnn_course import setup; c = setup(seed=3); print(c.fast, c.pick(10, 1))", CNN_COURSE_FAST="1"
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.strip().splitlines()
    assert "FAST mode" in first and "seed 3" in first
    assert second == "True 1"


@pytest.mark.parametrize(
    "value, expected", [("1", True), ("true", True), ("YES", True), ("", False), ("0", False), ("no", False)]
)
def test_fast_switch_values(monkeypatch, value, expected):
    monkeypatch.setenv(session.FAST_VARIABLE, value)
    assert session.fast_mode() is expected


def test_setup_seeds_numpy_and_keras(capsys):
    """Re-running setup repeats NumPy's draws, a layer's initial weights and a dropout mask.

    Not keras.random's unseeded draws, which the course does not use: Keras 3.10 does not
    reset their generator on a second set_random_seed (keras-team/keras#21874 added that later).
    """
    import keras

    def draws(seed=7):
        session.setup(seed=seed)
        dense = keras.layers.Dense(3)
        dense.build((None, 2))
        mask = keras.layers.Dropout(0.5)(np.ones((1, 16)), training=True)
        return np.random.rand(3), dense.kernel.numpy(), np.asarray(mask)

    first, second, other = draws(), draws(), draws(seed=8)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    assert capsys.readouterr().out.count("seed 7") == 2


@pytest.mark.parametrize("seed", ["0", 1.5, None, True])
def test_setup_rejects_a_seed_that_is_not_an_integer(seed):
    with pytest.raises(TypeError, match="expects an integer seed"):
        session.setup(seed=seed)


# -- the supported range: pyproject's floors, the two stacks' pins, setup()'s warning ----------
def test_supported_range_matches_pyproject_and_requirements(root):
    import re
    import tomllib

    def pins(name):
        return dict(re.findall(r"^([\w-]+)==([\d.]+)", (root / name).read_text(encoding="utf-8"), re.M))

    floors = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    newest_pins, oldest_pins = pins("requirements.txt"), pins("requirements-compat.txt")
    for package, oldest, newest in session.SUPPORTED.values():
        assert f"{package}>={oldest[0]}.{oldest[1]}" in floors
        assert session._minor(newest_pins[package]) == newest
        assert session._minor(oldest_pins[package]) == oldest


def test_no_warning_inside_the_supported_range():
    assert session.version_warning({"TensorFlow": "2.21.0", "Keras": "3.15.1"}) is None
    assert session.version_warning({"TensorFlow": "2.19.1", "Keras": "3.10.0"}) is None


@pytest.mark.parametrize(
    "versions, named",
    [
        ({"TensorFlow": "2.17.1", "Keras": "3.12.0"}, "TensorFlow 2.17.1 is outside"),
        ({"TensorFlow": "2.21.0", "Keras": "3.8.0"}, "Keras 3.8.0 is outside"),
        ({"TensorFlow": "2.22.0rc0", "Keras": "3.16.0"}, "TensorFlow 2.22.0rc0 and Keras 3.16.0 are outside"),
    ],
)
def test_one_line_names_what_is_outside_and_how_to_fix_it(versions, named):
    warning = session.version_warning(versions)
    assert warning.startswith(f"⚠ {named}") and "\n" not in warning
    assert '%pip install "tensorflow>=2.19,<2.22" "keras>=3.10,<3.16"' in warning

"""The embedded digits and the opt-in keras.datasets path (tested offline)."""

import gzip
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from cnn_course import data


@pytest.fixture(scope="module")
def digits():
    return data.load_digits()


def test_digits_are_28x28x1_floats_in_unit_range(digits):
    (x_train, y_train), (x_test, y_test) = digits
    assert x_train.shape == (1437, 28, 28, 1) and x_test.shape == (360, 28, 28, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0 and x_train.max() > 0.9
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))


def test_digits_sit_in_the_central_box_like_mnist(digits):
    (x_train, _), _ = digits
    border = np.concatenate(
        [x_train[:, :4].ravel(), x_train[:, -4:].ravel(), x_train[:, :, :4].ravel(), x_train[:, :, -4:].ravel()]
    )
    assert border.max() == 0.0
    assert x_train[:, 4:24, 4:24].mean() > 0.2


def test_split_is_stratified_and_deterministic(digits):
    (_, y_train), (_, y_test) = digits
    train_share = np.bincount(y_train) / len(y_train)
    test_share = np.bincount(y_test) / len(y_test)
    assert np.abs(train_share - test_share).max() < 0.01
    (x_again, y_again), _ = data.load_digits()
    assert np.array_equal(x_again, digits[0][0]) and np.array_equal(y_again, y_train)
    (_, y_other), _ = data.load_digits(seed=1)
    assert not np.array_equal(y_other, y_train)


def test_resizing_keeps_the_digit():
    from sklearn.datasets import load_digits

    raw = load_digits().images[:50] / 16.0
    resized = data._resize_digits(load_digits().images[:50])[:, 4:24, 4:24, 0]
    # averaging each 20×20 image back down to 8×8 (2.5 pixels a cell) recovers the original closely
    from scipy.ndimage import zoom

    back = zoom(resized, (1, 8 / 20, 8 / 20), order=1, grid_mode=True, mode="nearest")
    assert np.corrcoef(back.ravel(), raw.ravel())[0, 1] > 0.95


@pytest.mark.parametrize("test_size", [0, 1, -0.2, 1.5])
def test_load_digits_rejects_a_bad_test_size(test_size):
    with pytest.raises(ValueError, match="between 0 and 1"):
        data.load_digits(test_size=test_size)


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        ({"test_size": "0.2"}, TypeError, "test fraction as a number, e.g. 0.2; got '0.2'"),
        ({"test_size": None}, TypeError, "got None"),
        ({"test_size": 0.001}, ValueError, "leaves 2 test and 1795 training images"),
        ({"test_size": 0.999}, ValueError, "choose it between 0.0056 and 0.9944"),
        ({"seed": None}, TypeError, "seed fixes the split and must be an integer"),
        ({"seed": 1.5}, TypeError, "got 1.5"),
        ({"seed": True}, TypeError, "got True"),
    ],
)
def test_load_digits_says_in_one_sentence_what_it_expected(kwargs, error, fragment):
    with pytest.raises(error) as info:
        data.load_digits(**kwargs)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_the_smallest_allowed_test_size_gives_one_digit_of_each_class():
    (_, y_train), (_, y_test) = data.load_digits(test_size=0.0056)
    assert sorted(set(y_test)) == list(range(10)) and len(y_train) + len(y_test) == data.N_DIGITS


@pytest.mark.parametrize("name", [["mnist"], None, 3])
def test_load_dataset_wants_one_name_as_a_string(name):
    with pytest.raises(TypeError, match="one dataset name as a string"):
        data.load_dataset(name)


def test_unknown_dataset_names_the_choices():
    with pytest.raises(ValueError, match="'digits', 'mnist', 'fashion_mnist', 'cifar10'"):
        data.load_dataset("imagenet")


def _idx_gz(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def run_in_fresh_keras_home(tmp_path, code, **env):
    """Run code in a new interpreter whose KERAS_HOME is tmp_path (keras reads it once, at import)."""
    script = textwrap.dedent(code)
    environment = {**os.environ, "KERAS_HOME": str(tmp_path), **env}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, timeout=180)


def test_opt_in_fashion_mnist_reads_a_planted_file_offline(tmp_path):
    folder = tmp_path / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(6, 28, 28))
    labels = np.array([0, 1, 2, 3, 4, 5])
    for name, array, magic in [
        ("train-images-idx3-ubyte.gz", images, 2051),
        ("train-labels-idx1-ubyte.gz", labels, 2049),
        ("t10k-images-idx3-ubyte.gz", images[:2], 2051),
        ("t10k-labels-idx1-ubyte.gz", labels[:2], 2049),
    ]:
        _idx_gz(folder / name, array, magic)
    np.save(tmp_path / "expected.npy", images)
    result = run_in_fresh_keras_home(
        tmp_path,
        f"""
        import numpy as np
        from cnn_course.data import load_dataset
        (x, y), (xt, yt) = load_dataset("fashion_mnist")
        expected = np.load({str(tmp_path / "expected.npy")!r}) / 255.0
        assert x.shape == (6, 28, 28, 1) and x.dtype == np.float32 and xt.shape == (2, 28, 28, 1), x.shape
        assert np.allclose(x[..., 0], expected) and list(y) == [0, 1, 2, 3, 4, 5] and y.dtype == np.int64
        print("ok")
        """,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_failed_download_says_one_sentence_and_names_the_offline_default(tmp_path):
    # a proxy on a closed local port makes the download fail at once, with or without network
    closed = "http://127.0.0.1:9"
    result = run_in_fresh_keras_home(
        tmp_path,
        """
        from cnn_course.data import load_dataset, DatasetUnavailable
        try:
            load_dataset("mnist")
        except DatasetUnavailable as err:
            print(err)
        """,
        https_proxy=closed,
        http_proxy=closed,
        HTTPS_PROXY=closed,
        HTTP_PROXY=closed,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    message = result.stdout.strip().splitlines()[-1]  # Keras first prints "Downloading data from ..."
    assert message.startswith("Could not download MNIST") and "load_dataset('digits')" in message
    assert message.endswith("scikit-learn.") and "Traceback" not in result.stdout + result.stderr


# -- the synthesised letters (unit 04's source task) ------------------------------------------------------
@pytest.fixture(scope="module")
def letters():
    return data.load_letters(per_class=12, letters="ABOL", seed=0)


def test_letters_are_framed_like_the_digits(letters):
    x, y = letters
    assert x.shape == (48, 28, 28, 1) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.array_equal(y, np.repeat(np.arange(4), 12))
    assert 0.0 <= x.min() and 0.9 < x.max() <= 1.0
    assert x[:, :4].max() == 0.0 and x[:, :, -4:].max() == 0.0, "the 4-pixel margin of load_digits"


def test_letters_are_told_apart_by_their_shape(letters):
    """The holes stay open (an O is dark in the middle, bright around it); the four letters differ as images."""
    x, y = letters
    o = x[y == 2].mean(axis=0)[..., 0]
    assert o[12:16, 12:16].mean() < 0.15 and o[4:24, 4:24].max() > 0.5
    means = [x[y == c].mean(axis=0) for c in range(4)]
    assert min(np.abs(means[i] - means[j]).mean() for i in range(4) for j in range(i + 1, 4)) > 0.02


def test_letters_are_deterministic_and_vary(letters):
    x, _ = letters
    again, _ = data.load_letters(per_class=12, letters="ABOL", seed=0)
    other, _ = data.load_letters(per_class=12, letters="ABOL", seed=1)
    assert np.array_equal(again, x) and not np.array_equal(other, x)
    # fonts, sizes and angles differ: no two images of a class are the same
    for c in range(4):
        flat = x[c * 12 : (c + 1) * 12].reshape(12, -1)
        assert len(np.unique(flat, axis=0)) == 12


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"per_class": 0}, ValueError, "positive integer; got 0"),
        ({"per_class": 2.5}, ValueError, "positive integer; got 2.5"),
        ({"letters": "AA"}, ValueError, "distinct ASCII letters or digits"),
        ({"letters": ""}, ValueError, "got ''"),
        ({"letters": ["A", "B"]}, ValueError, "got ['A', 'B']"),
        ({"letters": "Aß"}, ValueError, "got 'Aß'"),
        ({"seed": "0"}, TypeError, "must be an integer"),
    ],
)
def test_load_letters_says_what_it_expected(kwargs, error, fragment):
    with pytest.raises(error) as caught:
        data.load_letters(**{"per_class": 1, **kwargs})
    assert fragment in str(caught.value)

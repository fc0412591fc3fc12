"""Data for the course: real digits shipped with scikit-learn, and opt-in downloads.

The default needs no network: scikit-learn's 1,797 handwritten digits (8×8,
UCI optical digits) scaled up to a 20×20 box and centred in a 28×28 frame, the
way MNIST frames its digits, so models written for MNIST's 28×28×1 input run
unchanged. Printed letters are synthesised offline from Matplotlib's fonts and
reduced the way the digits were. MNIST, Fashion-MNIST and CIFAR-10 come from
``keras.datasets`` only when asked for, and need a download the first time.
"""

import math
import string
from pathlib import Path

import numpy as np

DIGITS = "digits"
KERAS_DATASETS = {
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
}
IMAGE_SIZE = 28
DIGIT_BOX = 20
N_DIGITS, N_CLASSES = 1797, 10


class DatasetUnavailable(RuntimeError):
    """An opt-in dataset could not be downloaded or read."""


def _resize_digits(images):
    """8×8 images in 0..16 → float32 28×28×1 images in [0, 1], digit in the central 20×20."""
    from scipy.ndimage import zoom

    scaled = zoom(images / 16.0, (1, DIGIT_BOX / 8, DIGIT_BOX / 8), order=1, grid_mode=True, mode="nearest")
    margin = (IMAGE_SIZE - DIGIT_BOX) // 2
    framed = np.pad(scaled.clip(0.0, 1.0), ((0, 0), (margin, margin), (margin, margin)))
    return framed[..., np.newaxis].astype("float32")


def load_digits(test_size=0.2, seed=0):
    """The embedded default: scikit-learn's digits as 28×28×1 images.

    Returns ``(x_train, y_train), (x_test, y_test)`` like ``keras.datasets``:
    float32 images in [0, 1] of shape (n, 28, 28, 1) and int64 labels 0–9. The
    split is stratified (every digit in the same proportion on both sides) and
    the same for the same `seed` (an integer; there is no "random each call" split):
    1,437 training and 360 test images by default.
    """
    _check_split(test_size, seed)
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    digits = sklearn_digits()
    x = _resize_digits(digits.images)
    y = digits.target.astype("int64")
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, stratify=y, random_state=seed)
    return (x_train, y_train), (x_test, y_test)


def _check_split(test_size, seed):
    """One sentence for each way `test_size` or `seed` can be wrong."""
    if not isinstance(test_size, (int, float, np.integer, np.floating)) or isinstance(test_size, bool):
        raise TypeError(f"test_size is the test fraction as a number, e.g. 0.2; got {test_size!r}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size is the test fraction, between 0 and 1 (exclusive); got {test_size!r}")
    n_test = math.ceil(test_size * N_DIGITS)
    if min(n_test, N_DIGITS - n_test) < N_CLASSES:
        lowest, highest = N_CLASSES / N_DIGITS, 1 - N_CLASSES / N_DIGITS
        raise ValueError(
            f"test_size={test_size!r} leaves {n_test} test and {N_DIGITS - n_test} training images; both need"
            f" one of each of the {N_CLASSES} digits, so choose it between {lowest:.4f} and {highest:.4f}"
        )
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed fixes the split and must be an integer, e.g. seed=0; got {seed!r}")


def _as_course_arrays(x, y):
    """uint8 images (n, h, w) or (n, h, w, c) → float32 in [0, 1] with a channel axis; labels → int64 (n,)."""
    x = np.asarray(x, dtype="float32") / 255.0
    if x.ndim == 3:
        x = x[..., np.newaxis]
    return x, np.asarray(y, dtype="int64").reshape(-1)


def load_dataset(name=DIGITS):
    """Load a dataset by name: "digits" (default, offline) or an opt-in download.

    "mnist", "fashion_mnist" and "cifar10" come from ``keras.datasets`` and are
    downloaded to ``$KERAS_HOME/datasets`` (``~/.keras/datasets``) the first time.
    If that fails, ``DatasetUnavailable`` says so in one sentence and names the
    offline default. All return ``(x_train, y_train), (x_test, y_test)`` with
    float32 images in [0, 1] of shape (n, h, w, channels) and int64 labels.
    """
    if not isinstance(name, str):
        raise TypeError(f"load_dataset takes one dataset name as a string, e.g. load_dataset('digits'); got {name!r}")
    if name == DIGITS:
        return load_digits()
    if name not in KERAS_DATASETS:
        known = ", ".join(repr(n) for n in [DIGITS, *KERAS_DATASETS])
        raise ValueError(f"unknown dataset {name!r}: choose one of {known}")
    import keras

    loader = getattr(keras.datasets, name)
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as err:  # urllib, SSL, proxy and corrupt-file errors all end here
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DatasetUnavailable(
            f"Could not download {KERAS_DATASETS[name]} through keras.datasets ({reason}); "
            f"work offline with load_dataset({DIGITS!r}), the digits that ship with scikit-learn."
        ) from None
    return _as_course_arrays(x_train, y_train), _as_course_arrays(x_test, y_test)


# -- synthesised letters (unit 04): a second offline image task, made like the digits -------------------
LETTER_FONTS = (  # all ship with Matplotlib (mpl-data/fonts/ttf)
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf", "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf",
    "cmr10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmb10.ttf",
)  # fmt: skip
BITMAP = 32  # the UCI digits' bitmap size, before 4×4 blocks are counted


def _letter_bitmap(character, font, rng):
    """A 32×32 boolean bitmap of `character` in `font`: random size, slant, rotation and offset."""
    import matplotlib
    from matplotlib.font_manager import FontProperties
    from matplotlib.path import Path as Outline
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    fname = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / font
    glyph = TextPath((0, 0), character, size=10, prop=FontProperties(fname=fname))
    low, high = glyph.vertices.min(axis=0), glyph.vertices.max(axis=0)
    place = (
        Affine2D()
        .translate(*(-(low + high) / 2))
        .scale((BITMAP - 4) / (high - low).max() * rng.uniform(0.8, 1.0))
        .skew_deg(rng.uniform(-12, 12), 0)
        .rotate_deg(rng.uniform(-10, 10))
        .translate(*(BITMAP / 2 + rng.uniform(-1.5, 1.5, size=2)))
    )
    rows, cols = np.mgrid[0:BITMAP, 0:BITMAP]
    centres = np.stack([cols.ravel() + 0.5, BITMAP - rows.ravel() - 0.5], axis=1)
    inside = np.zeros(len(centres), dtype=bool)
    for contour in glyph.transformed(place).to_polygons(closed_only=True):
        inside ^= Outline(contour).contains_points(centres)  # even-odd: the holes of A, B, D … stay open
    return inside.reshape(BITMAP, BITMAP)


def load_letters(per_class=150, letters=string.ascii_uppercase, seed=0):
    """Printed letters, synthesised offline, as 28×28×1 images made the way the digits were.

    Each image is one of `letters` in one of 16 fonts that ship with Matplotlib
    (DejaVu, STIX, Computer Modern), drawn at a random size, slant (±12°),
    rotation (±10°) and offset into a 32×32 bitmap; then, like the UCI digits,
    the on-pixels are counted in 4×4 blocks (8×8 values 0..16) and the result
    is framed like ``load_digits``. Returns ``(x, y)``: float32 images in [0, 1]
    and int64 labels, the index of each letter in `letters`, `per_class`
    images of each, in order of class. The same arguments give the same images.
    """
    if not isinstance(per_class, (int, np.integer)) or isinstance(per_class, bool) or per_class < 1:
        raise ValueError(f"per_class is the number of images of each letter, a positive integer; got {per_class!r}")
    allowed = string.ascii_letters + string.digits
    if not isinstance(letters, str) or not letters or len(set(letters)) != len(letters) or set(letters) - set(allowed):
        raise ValueError(f"letters is a string of distinct ASCII letters or digits, e.g. 'ABCDE'; got {letters!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed fixes the images and must be an integer, e.g. seed=0; got {seed!r}")
    rng = np.random.default_rng(seed)
    counts = np.array([
        _letter_bitmap(character, LETTER_FONTS[rng.integers(len(LETTER_FONTS))], rng)
        .reshape(8, 4, 8, 4)
        .sum(axis=(1, 3))
        for character in letters
        for _ in range(per_class)
    ])  # fmt: skip
    return _resize_digits(counts), np.repeat(np.arange(len(letters), dtype="int64"), per_class)


# -- synthesised audio (unit 11): no package ships audio, so the course makes its own -----------------
AUDIO_KINDS = ("notes", "chirp", "pluck")
PENTATONIC = (261.63, 293.66, 329.63, 392.00, 440.00, 523.25)  # C4 D4 E4 G4 A4 C5, in hertz


def _notes(n, sample_rate, rng):
    """A melody of pentatonic notes, each with two harmonics and a decaying envelope."""
    note_length = sample_rate // 4  # four notes a second
    t = np.arange(note_length) / sample_rate
    envelope = np.exp(-4.0 * t) * np.minimum(1.0, t * 200)  # 5 ms attack, then decay
    pieces = []
    while sum(len(p) for p in pieces) < n:
        f = PENTATONIC[rng.integers(len(PENTATONIC))]
        tone = np.sin(2 * np.pi * f * t) + 0.4 * np.sin(4 * np.pi * f * t) + 0.15 * np.sin(6 * np.pi * f * t)
        pieces.append(envelope * tone)
    return np.concatenate(pieces)[:n]


def _chirp(n, sample_rate, rng):
    """A tone sweeping linearly from 100 Hz to 1 kHz (and back, if long enough)."""
    t = np.arange(n) / sample_rate
    sweep = max(t[-1], 1e-9)
    phase = 2 * np.pi * (100 * t + 0.5 * (900 / sweep) * t**2)
    return np.sin(phase + rng.uniform(0, 2 * np.pi))


def _pluck(n, sample_rate, rng):
    """Karplus-Strong plucked strings: a burst of noise looped through an averaging delay line."""
    out = np.zeros(n)
    pluck_every = sample_rate // 2
    for start in range(0, n, pluck_every):
        period = int(round(sample_rate / PENTATONIC[rng.integers(len(PENTATONIC))] + 0.5))  # the average adds ½ sample
        buffer = rng.uniform(-1, 1, period)
        for i in range(start, min(start + pluck_every, n)):
            j = (i - start) % period
            out[i] += buffer[j]
            buffer[j] = 0.996 * 0.5 * (buffer[j] + buffer[(j + 1) % period])
    return out


def synth_audio(kind="notes", seconds=2.0, sample_rate=4000, seed=0):
    """A deterministic synthesised sound as float32 samples in [-1, 1].

    `kind` is "notes" (a pentatonic melody with harmonics), "chirp" (a 100 Hz to
    1 kHz sweep) or "pluck" (Karplus-Strong plucked strings). The same arguments
    always give the same samples.
    """
    if kind not in AUDIO_KINDS:
        raise ValueError(f"unknown sound {kind!r}: choose one of {', '.join(map(repr, AUDIO_KINDS))}")
    if not seconds > 0 or not sample_rate >= 1000:
        raise ValueError(
            f"expected seconds > 0 and sample_rate >= 1000, got seconds={seconds!r}, sample_rate={sample_rate!r}"
        )
    n = int(round(seconds * sample_rate))
    rng = np.random.default_rng(seed)
    wave = {"notes": _notes, "chirp": _chirp, "pluck": _pluck}[kind](n, sample_rate, rng)
    return (0.95 * wave / max(np.abs(wave).max(), 1e-9)).astype("float32")

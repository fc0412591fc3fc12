"""Checks for unit 01 (convolution): a NumPy conv2d, the output size, parameter counts, pooling, drills.

Every expectation is measured on Keras: the convolution and pooling results come
from ``Conv2D`` (after ``ZeroPadding2D``), ``MaxPooling2D`` and
``AveragePooling2D`` holding the same weights; sizes and parameter counts from
built layers. Wrong answers are recognised by recomputing the usual mistakes.
"""

import numpy as np

from cnn_course.checks import Task, is_whole_number

CONV_CASES = [  # H, W, C, M, K, padding, stride
    (5, 5, 1, 1, 3, 0, 1),
    (6, 7, 3, 2, 3, 1, 1),
    (7, 7, 2, 4, 3, 1, 2),
    (8, 6, 2, 3, 5, 2, 2),
    (9, 9, 3, 2, 2, 0, 3),
]


def _keras_conv(x, kernels, bias, padding, stride):
    import keras
    from keras import layers

    inputs = keras.Input(x.shape)
    conv = layers.Conv2D(kernels.shape[-1], kernels.shape[0], strides=stride)
    model = keras.Model(inputs, conv(layers.ZeroPadding2D(padding)(inputs)))
    conv.set_weights([kernels, bias])
    return np.asarray(model(x[np.newaxis]))[0]


def _as_array(t, value, what):
    try:
        return np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        t.fail(f"{what} should return an array", "a NumPy array", type(value).__name__)


def conv2d(fn):
    """Task 1: conv2d(x, kernels, bias, padding, stride) equals Conv2D with the same weights."""
    rng = np.random.default_rng(0)
    with Task(1, "conv2d") as t:
        t.function(fn, "conv2d")
        for H, W, C, M, K, p, s in CONV_CASES:
            x = rng.normal(size=(H, W, C)).astype("float32")
            kernels = rng.normal(size=(K, K, C, M)).astype("float32")
            bias = rng.normal(size=M).astype("float32")
            what = f"conv2d(x {H}×{W}×{C}, kernels {K}×{K}×{C}×{M}, bias, padding={p}, stride={s})"
            size_hint = "⌊(n + 2p − k)/s⌋ + 1 positions per side: pad both sides, then step by the stride"
            got = _as_array(t, t.call(fn, (x, kernels, bias, p, s), what=what, hint=size_hint), what)
            expected = _keras_conv(x, kernels, bias, p, s)
            t.equal(f"{what}: output shape", got.shape, expected.shape, size_hint)
            t.close(f"{what}: values", got, expected, _conv_hint(got, x, kernels, bias, p, s), atol=1e-3)


def _conv_hint(got, x, kernels, bias, p, s):
    variants = [
        (kernels[::-1, ::-1], bias, ((p, p), (p, p)), "do not flip the kernel: Conv2D computes cross-correlation"),
        (kernels, np.zeros_like(bias), ((p, p), (p, p)), "add the bias of each output channel"),
        (kernels, bias, ((2 * p, 0), (2 * p, 0)), "pad p zeros on every side, not 2p on one side"),
    ]
    for k, b, pads, hint in variants:
        padded = np.pad(x, (*pads, (0, 0)))
        try:
            if np.allclose(got, _keras_conv(padded, k, b, 0, s), atol=1e-3):
                return hint
        except ValueError:
            continue
    single = _keras_conv(x[..., :1], kernels[:, :, :1], bias, p, s)
    if got.shape == single.shape and np.allclose(got, single, atol=1e-3):
        return "sum the products over all input channels, not only the first"
    return "each output value: Σ over the K×K window and all C channels of window × kernel, plus the bias"


def output_size(fn):
    """Task 2: ⌊(n + 2p − k)/s⌋ + 1, compared with Keras."""
    import keras
    from keras import layers

    with Task(2, "output_size") as t:
        t.function(fn, "output_size")
        for n, k, p, s in [
            (28, 3, 2, 1),
            (28, 3, 1, 1),
            (28, 5, 0, 1),
            (7, 3, 0, 2),
            (8, 3, 0, 2),
            (32, 5, 2, 2),
            (10, 4, 1, 3),
        ]:
            what = f"output_size(n={n}, k={k}, p={p}, s={s})"
            got = t.call(fn, (n, k, p, s), what=what)
            t.expect(
                is_whole_number(got),
                f"{what} should be an int",
                "an int",
                got,
                "a size is a whole number: use // (floor division)",
            )
            inputs = keras.Input((n, n, 1))
            expected = keras.Model(
                inputs, layers.Conv2D(1, k, strides=s)(layers.ZeroPadding2D(p)(inputs))
            ).output.shape[1]
            hints = {
                (n + p - k) // s + 1: "padding adds p on both sides: n + 2p",
                (n + 2 * p - k) // s: "add 1: a kernel that fits once gives one output",
                (n + 2 * p - k + 1) // s + 1: "the count is ⌊(n + 2p − k)/s⌋ + 1",
            }
            t.equal(what, int(got), expected, hints.get(int(got), "⌊(n + 2p − k)/s⌋ + 1"))


def _count(t, fn, args, what, expected, hints):
    got = t.call(fn, args, what=what)
    t.expect(is_whole_number(got), f"{what} should be an int", "an int", got)
    t.equal(what, int(got), expected, hints.get(int(got), "weights plus biases"))


def conv_params(fn):
    """Task 3: K·K·C_in·C_out + C_out, compared with Conv2D.count_params()."""
    from keras import layers

    with Task(3, "conv_params") as t:
        t.function(fn, "conv_params")
        for k, c_in, c_out in [(3, 1, 32), (3, 32, 64), (5, 3, 16), (1, 64, 128), (7, 3, 64)]:
            layer = layers.Conv2D(c_out, k)
            layer.build((None, 16, 16, c_in))
            hints = {
                k * k * c_in * c_out: "each output channel also has a bias",
                k * c_in * c_out + c_out: "the kernel is K×K: K·K weights per input and output channel",
                k * k * c_out + c_out: "each kernel spans all C_in input channels",
            }
            _count(
                t, fn, (k, c_in, c_out), f"conv_params(k={k}, c_in={c_in}, c_out={c_out})", layer.count_params(), hints
            )


def dense_params(fn):
    """Task 4: n_in·n_out + n_out, compared with Dense.count_params()."""
    from keras import layers

    with Task(4, "dense_params") as t:
        t.function(fn, "dense_params")
        for n_in, n_out in [(784, 10), (128, 64), (3136, 100), (1, 1)]:
            layer = layers.Dense(n_out)
            layer.build((None, n_in))
            hints = {
                n_in * n_out: "each output unit also has a bias",
                n_in + n_out: "every input connects to every output: multiply",
            }
            _count(t, fn, (n_in, n_out), f"dense_params(n_in={n_in}, n_out={n_out})", layer.count_params(), hints)


def pool2d(fn):
    """Task 5: non-overlapping max and average pooling, compared with Keras."""
    from keras import layers

    rng = np.random.default_rng(1)
    with Task(5, "pool2d") as t:
        t.function(fn, "pool2d")
        for (H, W, C), size in [((6, 6, 1), 2), ((7, 6, 3), 2), ((9, 10, 2), 3)]:
            x = rng.normal(size=(H, W, C)).astype("float32")
            for mode, layer in [("max", layers.MaxPooling2D(size)), ("average", layers.AveragePooling2D(size))]:
                what = f"pool2d(x {H}×{W}×{C}, size={size}, mode={mode!r})"
                got = _as_array(t, t.call(fn, (x, size, mode), what=what), what)
                expected = np.asarray(layer(x[np.newaxis]))[0]
                t.equal(
                    f"{what}: output shape",
                    got.shape,
                    expected.shape,
                    "windows do not overlap (stride = size), and rows or columns that do not fill a window are dropped",
                )
                hint = "pool each channel separately: the channels stay apart"
                if mode == "average" and np.allclose(got, np.asarray(layers.MaxPooling2D(size)(x[np.newaxis]))[0]):
                    hint = "mode 'average' takes the mean of each window"
                t.close(f"{what}: values", got, expected, hint, atol=1e-5)


def drill(out_size, n_params, pooled_size):
    """Task 6: a 64×64×3 input, 32 filters of 5×5, padding 2, stride 2; then 2×2 max pooling."""
    with Task(6, "exam drill") as t:
        for value, name in [(out_size, "out_size"), (n_params, "n_params"), (pooled_size, "pooled_size")]:
            t.value(value, name, (int, np.integer))
        t.equal(
            "out_size",
            out_size,
            32,
            {33: "⌊(64 + 4 − 5)/2⌋ + 1: the division rounds down", 60: "the stride is 2"}.get(
                out_size, "⌊(n + 2p − k)/s⌋ + 1"
            ),
        )
        t.equal(
            "n_params",
            n_params,
            5 * 5 * 3 * 32 + 32,
            {2400: "add the 32 biases", 800: "each kernel spans the 3 input channels"}.get(
                n_params, "K·K·C_in·C_out + C_out"
            ),
        )
        t.equal("pooled_size", pooled_size, 16, "2×2 pooling with stride 2 halves the side")

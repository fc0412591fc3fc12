"""Checks for unit 03 (transposed convolution): output size, scatter-add, conv matrix, gradient, decoder, drill.

Every expectation is measured on Keras: sizes from ``keras.ops.conv_transpose``
(what ``Conv2DTranspose`` computes) followed by ``Cropping2D``; values from ``Conv2D``
and ``keras.ops.conv_transpose`` holding the learner's kernel; the decoder from its
layers, shapes and parameter counts. The op rather than the layer because the
layer refuses ``output_padding=0`` on Keras 3.10.
Wrong answers are recognised by running Keras on the usual mistakes (a flipped
or transposed kernel, stride 1, the rows in the wrong order) or by probes (an
all-ones input, whose output counts the overlapping stamps).
"""

import numpy as np

from cnn_course.checks import Task, is_whole_number
from cnn_course.checks.compare import (
    activation,
    chain,
    compare_with_reference,
    conv,
    conv_transpose,
    reference_model,
    relu,
)


# -- references measured on Keras ---------------------------------------------------------
def _keras_conv(x, kernel, stride):
    """Conv2D (valid, no bias) holding `kernel`, on one single-channel image x (n, n)."""
    from keras import layers

    layer = layers.Conv2D(1, kernel.shape[0], strides=stride, use_bias=False)
    layer.build((None, *x.shape, 1))
    layer.set_weights([np.asarray(kernel, "float32").reshape(*kernel.shape, 1, 1)])
    return np.asarray(layer(np.asarray(x, "float32")[np.newaxis, :, :, np.newaxis]))[0, :, :, 0]


def _keras_conv_transpose(y, kernel, stride, output_padding=0):
    """Conv2DTranspose's op (valid, no bias) with `kernel`, on one single-channel map y (H, W)."""
    from keras import ops

    kernel = np.asarray(kernel, "float32").reshape(*kernel.shape, 1, 1)
    y = np.asarray(y, "float32")[np.newaxis, :, :, np.newaxis]
    return np.asarray(ops.conv_transpose(y, kernel, strides=stride, output_padding=output_padding))[0, :, :, 0]


def _as_array(t, value, what):
    try:
        array = np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        t.fail(f"{what} should return an array", "a NumPy array", type(value).__name__)
    return array


# -- Task 1 ---------------------------------------------------------------------------------
SIZE_CASES = [  # n, k, s, p, output_padding
    (4, 3, 2, 0, 0),
    (5, 5, 3, 1, 2),
    (7, 3, 2, 1, 1),
    (7, 4, 2, 1, 0),
    (8, 5, 2, 2, 1),
    (3, 2, 2, 0, 0),
    (4, 3, 1, 0, 0),
    (6, 1, 3, 0, 0),
    (1, 4, 1, 0, 0),
]


def _size_hints(n, k, s, p, a):
    """The value each usual mistake gives → its hint (the first listed wins where two coincide)."""
    hints = {}
    for value, hint in [
        ((n - 1) * s + k + a, "padding p crops p rows from each side of the output: subtract 2p"),
        ((n - 1) * s + 2 * p + k + a, "in a transposed convolution padding removes rows: −2p, not +2p"),
        ((n - 1) * s - p + k + a, "p is cropped on both sides: −2p, not −p"),
        ((n + 2 * p - k) // s + 1, "that is the convolution's formula (it shrinks); run it backwards"),
        (n * s - 2 * p + k + a, "the first stamp starts at 0 and the last at (n − 1)·s: use n − 1, not n"),
        ((n - 1) * s - 2 * p + k, "add the output padding: extra rows at the bottom (and columns at the right)"),
    ]:
        hints.setdefault(value, hint)
    return hints


def transposed_output_size(fn):
    """Task 1: (n − 1)·s − 2p + k + output_padding, compared with Conv2DTranspose's op + Cropping2D."""
    import keras
    from keras import layers, ops

    with Task(1, "transposed_output_size") as t:
        t.function(fn, "transposed_output_size")
        for n, k, s, p, a in SIZE_CASES:
            what = f"transposed_output_size(n={n}, k={k}, s={s}, p={p}, output_padding={a})"
            got = t.call(fn, (n, k, s, p, a), what=what)
            t.expect(is_whole_number(got), f"{what} should be an int", "an int", got, "a size is a whole number")
            y = ops.conv_transpose(keras.Input((n, n, 1)), np.ones((k, k, 1, 1)), strides=s, output_padding=a)
            expected = layers.Cropping2D(p)(y).shape[1]
            hint = _size_hints(n, k, s, p, a).get(int(got), "(n − 1)·s − 2p + k + output_padding")
            t.equal(what, int(got), expected, hint)
        what = "transposed_output_size(7, 3, 2) (p and output_padding left at their defaults)"
        got = t.call(fn, (7, 3, 2), what=what, hint="give p and output_padding the default value 0")
        t.equal(what, got, 15, "with p = 0 and output_padding = 0 the size is (n − 1)·s + k")


# -- Task 2 ---------------------------------------------------------------------------------
SCATTER_CASES = [  # H, W, K, stride
    (3, 4, 3, 2),
    (4, 3, 4, 2),
    (3, 3, 2, 3),
    (5, 2, 3, 1),
    (2, 3, 1, 2),
]


def _scatter_hint(got, x, kernel, stride):
    variants = [
        (kernel[::-1, ::-1], stride, "do not flip the kernel: kernel[a, b] goes to row i·s + a, column j·s + b"),
        (kernel.T, stride, "kernel[a, b] goes to row i·s + a and column j·s + b (rows first): do not transpose it"),
    ]
    for k, s, hint in variants:
        if np.allclose(got, _keras_conv_transpose(x, k, s), atol=1e-4):
            return hint
    return "out[i·s : i·s + K, j·s : j·s + K] += x[i, j] · kernel, for every input pixel (i, j)"


def conv_transpose2d(fn):
    """Task 2: the scatter-add of one channel equals Conv2DTranspose ("valid", no bias) with the same kernel."""
    rng = np.random.default_rng(3)
    with Task(2, "conv_transpose2d") as t:
        t.function(fn, "conv_transpose2d")
        ones, ones_kernel = np.ones((3, 3)), np.ones((3, 3))
        what = "conv_transpose2d(np.ones((3, 3)), np.ones((3, 3)), stride=2)"
        got = _as_array(t, t.call(fn, (ones, ones_kernel, 2), what=what), what)
        expected = _keras_conv_transpose(ones, ones_kernel, 2)
        t.equal(
            f"{what}: output shape",
            got.shape,
            expected.shape,
            "(H − 1)·stride + K rows and (W − 1)·stride + K columns"
            + (": the stamps start `stride` pixels apart" if got.shape == (5, 5) else ""),
        )
        hint = "each output pixel counts the stamps that cover it (1, 2 or 4)"
        if np.allclose(got, 1):
            hint = "where stamps overlap their values add up: use +=, not ="
        t.close(f"{what}: values (stamps overlap where they meet)", got, expected, hint)
        for H, W, K, s in SCATTER_CASES:
            x = rng.normal(size=(H, W)).astype("float32")
            kernel = rng.normal(size=(K, K)).astype("float32")
            what = f"conv_transpose2d(x {H}×{W}, kernel {K}×{K}, stride={s})"
            got = _as_array(t, t.call(fn, (x, kernel, s), what=what), what)
            expected = _keras_conv_transpose(x, kernel, s)
            shape_hint = "(H − 1)·stride + K rows and (W − 1)·stride + K columns"
            if got.shape == _keras_conv_transpose(x, kernel, 1).shape and s != 1:
                shape_hint = (
                    "the stamps of neighbouring pixels start `stride` pixels apart: put x[i, j]'s at (i·s, j·s)"
                )
            t.equal(f"{what}: output shape", got.shape, expected.shape, shape_hint)
            t.close(f"{what}: values", got, expected, _scatter_hint(got, x, kernel, s), atol=1e-4)


# -- Task 3 ---------------------------------------------------------------------------------
MATRIX_CASES = [  # K, n, stride
    (3, 4, 1),
    (3, 5, 2),
    (3, 6, 2),
    (2, 5, 3),
    (4, 9, 2),
]


def _matrix_hint(C, x, kernel, stride):
    result = C @ x.ravel()
    for expected, hint in [
        (_keras_conv(x, kernel[::-1, ::-1], stride), "do not flip the kernel: Conv2D computes cross-correlation"),
        (_keras_conv(x, kernel.T, stride), "put kernel[a, b] at input pixel (i·s + a, j·s + b): do not transpose it"),
        (
            _keras_conv(x, kernel, stride).T,
            "row r = i·m + j belongs to output pixel (i, j): order the rows like conv(x).ravel()",
        ),
        (_keras_conv(x.T, kernel, stride), "flatten each window row by row (ravel's default order), like x.ravel()"),
    ]:
        if np.allclose(result, expected.ravel(), atol=1e-4):
            return hint
    return "row r of C holds the kernel at the place of output pixel r's window, zeros everywhere else"


def conv_matrix(fn):
    """Task 3: C @ x.ravel() equals Conv2D(x), and C.T @ y equals Conv2DTranspose(y)."""
    rng = np.random.default_rng(4)
    with Task(3, "conv_matrix") as t:
        t.function(fn, "conv_matrix")
        for K, n, s in MATRIX_CASES:
            kernel = rng.normal(size=(K, K)).astype("float32")
            what = f"conv_matrix(kernel {K}×{K}, n={n}, stride={s})"
            C = _as_array(t, t.call(fn, (kernel, n, s), what=what), what)
            m = _keras_conv(np.zeros((n, n)), kernel, s).shape[0]
            shape_hint = "one row per output pixel (m² with m = ⌊(n − k)/s⌋ + 1), one column per input pixel (n²)"
            if C.shape == (n * n, m * m):
                shape_hint = "C has one row per output pixel and one column per input pixel: shape (m², n²)"
            elif C.shape == ((n - K + 1) ** 2, n * n) and s != 1:
                shape_hint = "windows start `stride` pixels apart: m = ⌊(n − k)/s⌋ + 1 output pixels per side"
            t.equal(f"{what}: shape", C.shape, (m * m, n * n), shape_hint)
            for trial in range(2):
                x = rng.normal(size=(n, n)).astype("float32")
                t.close(
                    f"{what}: C @ x.ravel() against Conv2D(x).ravel() (random x no. {trial + 1})",
                    C @ x.ravel(),
                    _keras_conv(x, kernel, s).ravel(),
                    _matrix_hint(C, x, kernel, s),
                    atol=1e-4,
                )
            y = rng.normal(size=(m, m)).astype("float32")
            a = n - ((m - 1) * s + K)  # the output padding that leads back to n
            t.close(
                f"{what}: C.T @ y.ravel() against Conv2DTranspose(y, output_padding={a}).ravel()",
                C.T @ y.ravel(),
                _keras_conv_transpose(y, kernel, s, a).ravel(),
                "C is right for the convolution, so Cᵀ should be the transposed convolution: check the dtype",
                atol=1e-4,
            )


# -- Task 4 ---------------------------------------------------------------------------------
GRADIENT_CASES = [  # K, n, stride
    (3, 5, 2),
    (3, 6, 2),
    (2, 4, 1),
    (4, 10, 3),
]


def input_gradient(fn):
    """Task 4: the gradient of Σ Conv2D(x)·y with respect to x equals Conv2DTranspose(y)."""
    rng = np.random.default_rng(5)
    with Task(4, "input_gradient") as t:
        t.function(fn, "input_gradient")
        for K, n, s in GRADIENT_CASES:
            kernel = rng.normal(size=(K, K)).astype("float32")
            m = _keras_conv(np.zeros((n, n)), kernel, s).shape[0]
            y = rng.normal(size=(m, m)).astype("float32")
            what = f"input_gradient(kernel {K}×{K}, y {m}×{m}, n={n}, stride={s})"
            got = _as_array(t, t.call(fn, (kernel, y, n, s), what=what), what)
            shape_hint = "the gradient has the shape of the input x: (n, n)"
            if got.shape == (1, n, n, 1):
                shape_hint = "return an (n, n) array: drop the batch and channel axes with [0, :, :, 0]"
            t.equal(f"{what}: shape", got.shape, (n, n), shape_hint)
            a = n - ((m - 1) * s + K)
            hint = "the gradient of Σ conv(x)·y with respect to x, with the kernel copied into the Conv2D as it is"
            if np.allclose(got, _keras_conv_transpose(np.ones_like(y), kernel, s, a), atol=1e-4):
                hint = "weight conv(x) by y before summing: the gradient of Σ conv(x)·y, not of Σ conv(x)"
            elif np.allclose(got, _keras_conv_transpose(y, kernel[::-1, ::-1], s, a), atol=1e-4):
                hint = "copy the kernel into the Conv2D as it is, without flipping it"
            t.close(f"{what}: values against Conv2DTranspose(y)", got, _keras_conv_transpose(y, kernel, s, a), hint)


# -- Task 5 ---------------------------------------------------------------------------------
def decoder_spec():
    """Conv2DTranspose(32, 4, 2, same) → ReLU → Conv2DTranspose(16, 4, 2, same) → ReLU → Conv2D(1, 3) → sigmoid."""
    return chain(conv_transpose(4, 32, 2), relu(), conv_transpose(4, 16, 2), relu(), conv(3, 1), activation("sigmoid"))


def _decoder_hint(e, g):
    if e is None or g is None:
        return None
    if e.kind == "Conv2DTranspose" and g.kind != "Conv2DTranspose":
        if g.kind == "UpSampling2D" or g.kind == "Conv2D":
            return "learn the upsampling: Conv2DTranspose(…, 4, strides=2, padding='same'), not UpSampling2D + Conv2D"
        return "two Conv2DTranspose layers come first, each followed by a ReLU"
    if e.kind == g.kind == "Conv2DTranspose":
        for key, advice in [
            ("kernel", "kernel_size=4: divisible by the stride 2, so the stamps overlap evenly"),
            ("strides", "strides=2: each transposed convolution doubles height and width"),
            ("filters", "32 filters in the first transposed convolution, 16 in the second"),
            ("padding", "padding='same' (or 'valid' then a crop of 1 on every side): 7 → 14 → 28"),
        ]:
            if e.settings.get(key) != g.settings.get(key):
                return advice
    if e.kind == "ReLU":
        return "each transposed convolution is followed by a ReLU (activation='relu' counts)"
    if e.kind == "Sigmoid":
        return "the output needs a sigmoid" + (", not a ReLU" if g.kind == "ReLU" else "") + ": pixels lie in [0, 1]"
    if e.kind == "Conv2D":
        return "end with Conv2D(1, 3, padding='same') and a sigmoid"
    return None


def _decoder_shape_hint(shape):
    if shape[:2] == (34, 34):
        return "padding 'valid' adds k − s rows: use padding='same', which gives exactly 2× (7 → 14 → 28)"
    if shape[-1:] != (1,):
        return "the output has one channel: a grey image"
    return "two stride-2 transposed convolutions with padding='same': 7 → 14 → 28"


def decoder(fn):
    """Task 5: 7×7×C code → Conv2DTranspose ×2 (stride 2) → 28×28×1 in [0, 1], compared with the spec's model."""
    with Task(5, "decoder") as t:
        t.function(fn, "decoder")
        for c in (3, 5):
            what = f"decoder(code_channels={c})"
            model = t.keras_model(t.call(fn, (c,), what=what), what)
            reference = reference_model(decoder_spec(), (7, 7, c))
            compare_with_reference(
                t, model, reference, what, _decoder_hint, _decoder_shape_hint, training=False, input_scale=3.0
            )


# -- Task 6 ---------------------------------------------------------------------------------
def drill(out_valid, out_same, n_params):
    """Task 6: Conv2DTranspose(32, 3, strides=2) on a 7×7×64 map: sizes with 'valid' and 'same', parameters."""
    import keras
    from keras import layers

    with Task(6, "exam drill") as t:
        for value, name in [(out_valid, "out_valid"), (out_same, "out_same"), (n_params, "n_params")]:
            t.value(value, name, (int, np.integer))
        inputs = keras.Input((7, 7, 64))
        valid = layers.Conv2DTranspose(32, 3, strides=2)
        t.equal(
            "out_valid",
            out_valid,
            valid(inputs).shape[1],
            {
                17: "(n − 1)·s + k: the last stamp starts at (7 − 1)·2",
                14: "that is the 'same' size; 'valid' keeps the whole overlap: (n − 1)·s + k",
                3: "that is the convolution's formula; the transposed convolution enlarges",
            }.get(out_valid, "(n − 1)·s + k"),
        )
        t.equal(
            "out_same",
            out_same,
            layers.Conv2DTranspose(32, 3, strides=2, padding="same")(inputs).shape[1],
            {15: "'same' gives exactly n·s", 13: "'same' gives exactly n·s"}.get(out_same, "'same' gives n·s"),
        )
        t.equal(
            "n_params",
            n_params,
            valid.count_params(),
            {
                3 * 3 * 64 * 32: "add the 32 biases",
                3 * 3 * 64 * 32 + 64: "one bias per output channel (32 filters), not per input channel",
                3 * 3 * 32 + 32: "each kernel spans all 64 input channels",
            }.get(n_params, "k·k·C_in·C_out + C_out, as for Conv2D"),
        )

"""Checks for unit 03 (transposed convolution): output size, scatter-add, matrix, gradient, padding, decoder, drill.

Every expectation is computed by Keras from the task's specification: sizes from
``keras.ops.conv_transpose`` (what ``Conv2DTranspose`` computes) then ``Cropping2D``;
values from ``keras.ops.conv`` and ``keras.ops.conv_transpose`` (what ``Conv2D`` and
``Conv2DTranspose`` compute) holding the learner's kernel, on random mixed-sign inputs of
several sizes, strides and paddings; the decoder against a model built from its statement
(same random weights). The ops rather than the layers: they are many times faster to call
once per case, the layer refuses ``output_padding=0`` on Keras 3.10, and ``None`` is
another size when k < s.
Hints come from the evidence: Keras run on the usual mistakes (a flipped or transposed
kernel, stride 1, a factor), the shape that a slip gives, or the error the code raised.
"""

import numpy as np

from cnn_course.checks import CheckFailed, Task, error_hint, first_line, is_whole_number
from cnn_course.checks.compare import (
    activation,
    chain,
    compare_with_reference,
    conv,
    conv_transpose,
    reference_model,
    relu,
)
from cnn_course.i18n import N_, _


# -- references measured on Keras ---------------------------------------------------------
def _keras_conv(x, kernel, stride):
    """What Conv2D (valid, no bias) holding `kernel` computes (its op), on one single-channel image x (n, n)."""
    from keras import ops

    kernel = np.asarray(kernel, "float32").reshape(*kernel.shape, 1, 1)
    x = np.asarray(x, "float32")[np.newaxis, :, :, np.newaxis]
    return np.asarray(ops.conv(x, kernel, strides=stride))[0, :, :, 0]


def _keras_conv_transpose(y, kernel, stride, output_padding=0):
    """Conv2DTranspose's op (valid, no bias) with `kernel`, on one single-channel map y (H, W)."""
    from keras import ops

    kernel = np.asarray(kernel, "float32").reshape(*kernel.shape, 1, 1)
    y = np.asarray(y, "float32")[np.newaxis, :, :, np.newaxis]
    return np.asarray(ops.conv_transpose(y, kernel, strides=stride, output_padding=output_padding))[0, :, :, 0]


# -- Task 1 ---------------------------------------------------------------------------------
SIZE_CASES = [  # n, k, s, p, output_padding
    (4, 3, 2, 0, 0),
    (5, 5, 3, 2, 1),
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
        ((n - 1) * s + k + a, _("padding p crops p rows from each side of the output: subtract 2p")),
        ((n - 1) * s + 2 * p + k + a, _("in a transposed convolution padding removes rows: −2p, not +2p")),
        ((n - 1) * s - p + k + a, _("p is cropped on both sides: −2p, not −p")),
        ((n + 2 * p - k) // s + 1, _("that is the convolution's formula (it shrinks); run it backwards")),
        (n * s - 2 * p + k + a, _("the first stamp starts at 0 and the last at (n − 1)·s: use n − 1, not n")),
        ((n - 1) * s - 2 * p + k, _("add the output padding: extra rows at the bottom (and columns at the right)")),
        ((n - 1) * s - 2 * p + k + 2 * a, _("the output padding adds rows on one side only: + output_padding, not 2×")),
    ]:
        hints.setdefault(value, hint)
    return hints


def _keras_size(n, k, s, p=0, a=0):
    """The side of Conv2DTranspose's op (valid) followed by Cropping2D(p), on an n×n input."""
    import keras
    from keras import layers, ops

    y = ops.conv_transpose(keras.Input((n, n, 1)), np.ones((k, k, 1, 1)), strides=s, output_padding=a)
    return layers.Cropping2D(p)(y).shape[1]


def transposed_output_size(fn):
    """Task 1: (n − 1)·s − 2p + k + output_padding, compared with Conv2DTranspose's op + Cropping2D."""
    with Task(1, "transposed_output_size") as t:
        t.function(fn, "transposed_output_size")
        for n, k, s, p, a in SIZE_CASES:
            what = f"transposed_output_size(n={n}, k={k}, s={s}, p={p}, output_padding={a})"  # not a message
            got = t.call(fn, (n, k, s, p, a), what=what)
            t.expect(
                is_whole_number(got),
                _("{what} should be an int").format(what=what),
                _("an int"),
                got,
                _("a size is a whole number"),
            )
            formula = "(n − 1)·s − 2p + k + output_padding"  # not a message
            hint = _size_hints(n, k, s, p, a).get(int(got), formula)
            t.equal(what, int(got), _keras_size(n, k, s, p, a), hint)
        what = _("transposed_output_size(7, 3, 2) (p and output_padding left at their defaults)")
        got = t.call(fn, (7, 3, 2), what=what, hint=_("give p and output_padding the default value 0"))
        t.equal(what, got, _keras_size(7, 3, 2), _("with p = 0 and output_padding = 0 the size is (n − 1)·s + k"))


# -- Task 2 ---------------------------------------------------------------------------------
SCATTER_CASES = [  # H, W, K, stride; the first on all ones
    (4, 4, 3, 2),
    (3, 4, 3, 2),
    (4, 3, 4, 2),
    (3, 3, 2, 3),
    (5, 2, 3, 1),
    (2, 3, 1, 2),
]


def _scatter_shape_hint(got, H, W, K, s):
    """The usual wrong sizes → their hints (a wrong size equal to the right one never matches `got`)."""
    return {
        ((W - 1) * s + K, (H - 1) * s + K): _("rows come from H = x.shape[0], columns from W: is it transposed?"),
        ((H - 1) + K, (W - 1) + K): _("the stamps of neighbouring pixels start `stride` pixels apart"),
        (H * K, W * K): _("the stamps start `stride` pixels apart, not K: they overlap where K > stride"),
        (H * s + K, W * s + K): _("the last stamp starts at (H − 1)·stride: (H − 1)·stride + K rows, not H·stride + K"),
        (H * s, W * s) if K < s else None: _("Conv2DTranspose with K < stride gives H·stride: keep the task's size"),
    }.get(got, _("(H − 1)·stride + K rows and (W − 1)·stride + K columns"))


def _scatter_hint(got, x, kernel, stride):
    for k, hint in [
        (kernel[::-1, ::-1], _("do not flip the kernel: kernel[a, b] goes to row i·s + a, column j·s + b")),
        (kernel.T, _("kernel[a, b] goes to row i·s + a and column j·s + b (rows first): do not transpose it")),
    ]:
        if np.allclose(got, _keras_conv_transpose(x, k, stride), atol=1e-4):
            return hint
    return _("out[i·s : i·s + K, j·s : j·s + K] += x[i, j] · kernel, for every input pixel (i, j)")


COUNTS = N_("each output pixel counts the stamps that cover it (1, 2 or 4)")


def conv_transpose2d(fn):
    """Task 2: the scatter-add of one channel equals Conv2DTranspose ("valid", no bias) with the same kernel."""
    rng = np.random.default_rng(3)
    with Task(2, "conv_transpose2d") as t:
        t.function(fn, "conv_transpose2d")
        for number, (H, W, K, s) in enumerate(SCATTER_CASES):
            ones = number == 0  # all ones first: the output counts the stamps that cover each pixel
            x = np.ones((H, W)) if ones else rng.normal(size=(H, W)).astype("float32")
            kernel = np.ones((K, K)) if ones else rng.normal(size=(K, K)).astype("float32")
            what = (
                f"conv_transpose2d({'np.ones' if ones else 'x'} {H}×{W}, kernel {K}×{K}, stride={s})"  # not a message
            )
            got = t.array(t.call(fn, (x, kernel, s), what=what), what)
            expected = _keras_conv_transpose(x, kernel, s)
            t.equal(
                _("{what}: output shape").format(what=what),
                got.shape,
                expected.shape,
                _scatter_shape_hint(got.shape, H, W, K, s),
            )
            hint = _scatter_hint(got, x, kernel, s)
            if ones:
                hint = _("overlapping stamps add up: use +=, not =") if np.allclose(got, 1) else _(COUNTS)
            t.close(_("{what}: values").format(what=what), got, expected, hint, atol=1e-4)


# -- Task 3 ---------------------------------------------------------------------------------
MATRIX_CASES = [  # K, n, stride, padding: (n + 2p − K) not divisible by s in most of them
    (3, 4, 1, 0),
    (3, 6, 2, 0),
    (3, 5, 2, 1),
    (2, 7, 3, 1),
    (4, 9, 2, 2),
    (3, 4, 1, 2),
]


def _matrix_shape_hint(shape, n, K, s, p, m):
    hints = {}
    if p:  # first: where a padding slip and another slip give the same shape, the padding is the likelier
        hints[(m * m, (n + 2 * p) ** 2)] = _("the padded zeros are not inputs: keep only the n² real pixels' columns")
        for side in ((n - K) // s + 1, (n + p - K) // s + 1):
            hints.setdefault(
                (side**2, n * n), _("pad p zeros on each side first: m = ⌊(n + 2p − k)/s⌋ + 1, not n or n + p")
            )
    for wrong, hint in [
        ((n * n, m * m), _("C has one row per output pixel and one column per input pixel: shape (m², n²)")),
        (
            ((n + 2 * p - K + 1) ** 2, n * n),
            _("windows start `stride` pixels apart: m = ⌊(n + 2p − k)/s⌋ + 1 per side"),
        ),
        (((m - 1) ** 2, n * n), _("the first window counts too: m = ⌊(n + 2p − k)/s⌋ + 1, not ⌊(n + 2p − k)/s⌋")),
        ((m, m, n, n), _("reshape to 2-D: one row per output pixel (m²), one column per input pixel (n²)")),
    ]:
        hints.setdefault(wrong, hint)
    general = _("one row per output pixel (m² with m = ⌊(n + 2p − k)/s⌋ + 1), one column per input pixel (n²)")
    return hints.get(shape, general)


def _matrix_hint(C, x, kernel, stride, p):
    pad = np.pad(x, p)
    result, m = C @ x.ravel(), _keras_conv(pad, kernel, stride).shape[0]
    for expected, hint in [
        (_keras_conv(pad, kernel[::-1, ::-1], stride), _("do not flip the kernel: Conv2D computes cross-correlation")),
        (
            _keras_conv(pad, kernel.T, stride),
            _("put kernel[a, b] at input pixel (i·s + a, j·s + b): do not transpose it"),
        ),
        (
            _keras_conv(pad, kernel, stride).T,
            _("row r = i·m + j belongs to output pixel (i, j): order the rows like conv(x).ravel()"),
        ),
        (
            _keras_conv(pad.T, kernel, stride),
            _("flatten each window row by row (ravel's default order), like x.ravel()"),
        ),
        (
            _keras_conv(pad, kernel, 1)[:m, :m],
            _("output pixel (i, j)'s window starts at row i·s, column j·s: × stride"),
        ),
        (
            _keras_conv(np.pad(x, ((0, 2 * p), (0, 2 * p))), kernel, stride),
            _("the image sits p rows and p columns into the padded grid: window row i·s + a is image row i·s + a − p"),
        ),
    ]:
        if np.allclose(result, expected.ravel(), atol=1e-4):
            return hint
    K = kernel.shape[0]
    if not p and np.allclose(C[0, : K * K], kernel.ravel()):
        return _("the window's rows lie n apart in x.ravel(): kernel row a starts at column (i·s + a)·n + j·s")
    if p:
        return _(
            "kernel[a, b] of output pixel (i, j) meets image pixel (i·s + a − p, j·s + b − p), if inside the image"
        )
    return _("row r of C holds the kernel at the place of output pixel r's window, zeros everywhere else")


def _past_the_grid(err):
    if "broadcast" in str(err):
        return _("a window runs past the grid: m = ⌊(n + 2p − k)/s⌋ + 1 windows fit (floor, not ceil or round)")
    if isinstance(err, TypeError) and "positional" in str(err):
        return _("conv_matrix takes a fourth parameter `padding=0`, after `stride`")
    return None


def conv_matrix(fn):
    """Task 3: C @ x.ravel() equals Conv2D(ZeroPadding2D(p)(x)), and C.T @ y equals Conv2DTranspose + crop p."""
    rng = np.random.default_rng(4)
    with Task(3, "conv_matrix") as t:
        t.function(fn, "conv_matrix")
        for K, n, s, p in MATRIX_CASES:
            kernel = rng.normal(size=(K, K)).astype("float32")
            what = f"conv_matrix(kernel {K}×{K}, n={n}, stride={s}"  # not a message
            what += f", padding={p})" if p else ")"
            args = (kernel, n, s, p) if p else (kernel, n, s)
            C = t.array(t.call(fn, args, what=what, hint=_past_the_grid), what)
            m = (n + 2 * p - K) // s + 1
            t.equal(
                _("{what}: shape").format(what=what),
                C.shape,
                (m * m, n * n),
                _matrix_shape_hint(C.shape, n, K, s, p, m),
            )
            for trial in range(2):
                x = rng.normal(size=(n, n)).astype("float32")
                conv = "Conv2D(ZeroPadding2D(p)(x))" if p else "Conv2D(x)"
                t.close(
                    _("{what}: C @ x.ravel() against {conv}.ravel() (random x no. {number})").format(
                        what=what, conv=conv, number=trial + 1
                    ),
                    C @ x.ravel(),
                    _keras_conv(np.pad(x, p), kernel, s).ravel(),
                    _matrix_hint(C, x, kernel, s, p),
                    atol=1e-4,
                )
            y = rng.normal(size=(m, m)).astype("float32")
            a = n + 2 * p - ((m - 1) * s + K)  # the output padding that leads back to n + 2p
            if p:
                against = _(
                    "{what}: C.T @ y.ravel() against Conv2DTranspose(y, output_padding={output_padding}),"
                    " then Cropping2D({padding})"
                ).format(what=what, output_padding=a, padding=p)
            else:
                against = _(
                    "{what}: C.T @ y.ravel() against Conv2DTranspose(y, output_padding={output_padding})"
                ).format(what=what, output_padding=a)
            t.close(
                against,
                C.T @ y.ravel(),
                _keras_conv_transpose(y, kernel, s, a)[p : p + n, p : p + n].ravel(),
                _("C is right for the convolution, so Cᵀ should be the transposed convolution: check the dtype"),
                atol=1e-4,
            )


# -- Task 4 ---------------------------------------------------------------------------------
GRADIENT_CASES = [  # K, n, stride: K ≠ m, and (n − K) not divisible by s in two of them
    (3, 5, 2),
    (3, 6, 2),
    (2, 4, 1),
    (2, 7, 3),
    (4, 10, 3),
]


def _gradient_shape_hint(shape, n, K, m):
    kernel_shape = _("that is the kernel's shape: take the gradient with respect to x, not the kernel")
    return {
        (1, n, n, 1): _("return an (n, n) array: drop the batch and channel axes with [0, :, :, 0]"),
        (K, K): kernel_shape,
        (K, K, 1, 1): kernel_shape,
        (m, m): _("that is y's shape: take the gradient with respect to x, whose shape is (n, n)"),
    }.get(shape, _("the gradient has the shape of the input x: (n, n)"))


def _gradient_hint(got, y, kernel, s, a):
    for variant, k, hint in [
        (
            np.ones_like(y),
            kernel,
            _("weight conv(x) by y before summing: the gradient of Σ conv(x)·y, not of Σ conv(x)"),
        ),
        (y, kernel[::-1, ::-1], _("copy the kernel into the Conv2D as it is, without flipping it")),
        (y, kernel.T, _("copy the kernel into the Conv2D as it is (kernel.reshape(K, K, 1, 1)), not transposed")),
    ]:
        if np.allclose(got, _keras_conv_transpose(variant, k, s, a), atol=1e-4):
            return hint
    expected = _keras_conv_transpose(y, kernel, s, a)
    factor = np.sum(got * expected) / np.sum(expected * expected)
    if np.allclose(got, factor * expected, atol=1e-4):
        if np.isclose(factor, 1 / y.size):
            return _("sum the products (tf.reduce_sum), not their mean")
        if np.isclose(factor, -1):
            return _("the gradient of +⟨conv(x), y⟩: no minus sign")
        return _("yours is {factor} × the gradient of Σ conv(x)·y: differentiate that sum itself, not a loss").format(
            factor=f"{factor:.3g}"
        )
    return _("the gradient of Σ conv(x)·y with respect to x, with the kernel copied into the Conv2D as it is")


def _tape_error(err):
    text = str(err)
    if "NoneType" in text:
        return _("the tape gave None: compute conv(x) inside `with tf.GradientTape()`, on x a tf.Variable")
    if "ncompatible shapes" in text or "broadcast" in text:  # not a message
        return _("conv(x) must have y's shape (m, m): a 'valid' Conv2D (the default) with strides=stride")
    return None


def input_gradient(fn):
    """Task 4: the gradient of Σ Conv2D(x)·y with respect to x equals Conv2DTranspose(y)."""
    rng = np.random.default_rng(5)
    with Task(4, "input_gradient") as t:
        t.function(fn, "input_gradient")
        for K, n, s in GRADIENT_CASES:
            kernel = rng.normal(size=(K, K)).astype("float32")
            m = _keras_conv(np.zeros((n, n)), kernel, s).shape[0]
            y = rng.normal(size=(m, m)).astype("float32")
            what = f"input_gradient(kernel {K}×{K}, y {m}×{m}, n={n}, stride={s})"  # not a message
            got = t.array(t.call(fn, (kernel, y, n, s), what=what, hint=_tape_error), what)
            t.equal(_("{what}: shape").format(what=what), got.shape, (n, n), _gradient_shape_hint(got.shape, n, K, m))
            a = n - ((m - 1) * s + K)
            expected = _keras_conv_transpose(y, kernel, s, a)
            t.close(
                _("{what}: values against Conv2DTranspose(y)").format(what=what),
                got,
                expected,
                _gradient_hint(got, y, kernel, s, a),
            )


# -- Task 5 ---------------------------------------------------------------------------------
PADDING_CASES = [  # n, k, s, target
    (7, 4, 2, 14),
    (7, 3, 2, 14),
    (7, 3, 2, 15),
    (7, 3, 2, 16),
    (7, 3, 2, 17),  # the largest output is (n − 1)·s + k + (s − 1) = 16
    (5, 4, 1, 5),  # stride 1: output padding 0 only, and −2p changes the size by even steps
    (5, 3, 1, 5),
    (4, 5, 3, 12),  # (1, 0) and (2, 2) both work: the smallest padding is 1
    (6, 5, 3, 13),
    (3, 7, 2, 4),
    (8, 2, 4, 33),
]


def _transposed_padding_search(n, k, s, target):
    """The smallest p ≥ 0 with an output padding 0 ≤ a < s giving `target`, as (p, a), or None."""
    p = 0
    while target - ((n - 1) * s - 2 * p + k) < 0:
        p += 1
    a = target - ((n - 1) * s - 2 * p + k)
    return (p, a) if a < s else None


def _pair_hint(got, n, k, s, target, right):
    p, a = got
    size = (n - 1) * s - 2 * p + k + a
    if right is not None and (a, p) == tuple(right) and a != p:
        return _("return (padding, output_padding): the padding first")
    if a < 0 or p < 0:
        return _("neither padding nor output padding can be negative: increase p until a ≥ 0")
    if a >= s:
        if right is None:
            return _(
                "output padding must be smaller than the stride ({stride}): no pair reaches {target}, return None"
            ).format(stride=s, target=target)
        return _(
            "output padding must be smaller than the stride ({stride}), as Keras requires: crop more (a larger p)"
        ).format(stride=s)
    if size != target:
        if (n - 1) * s - p + k + a == target:
            return _("the padding crops p rows from each side: −2p, not −p")
        if (n + 2 * p - k) // s + 1 == target:
            return _("that pair suits a convolution; a transposed convolution gives (n − 1)·s − 2p + k + a")
        return _("(n − 1)·s − 2p + k + output_padding = {size} with your pair, not {target}").format(
            size=size, target=target
        )
    if right is None:
        return _("return None where no pair exists")
    return _("the smallest padding that works: start from p = 0")


def transposed_padding(fn):
    """Task 5: the smallest p and an output padding below the stride that give `target`, checked on Keras; or None."""
    with Task(5, "transposed_padding") as t:
        t.function(fn, "transposed_padding")
        for n, k, s, target in PADDING_CASES:
            what = f"transposed_padding(n={n}, k={k}, s={s}, target={target})"  # not a message
            got = _call_allowing_none(t, fn, (n, k, s, target), what)
            right = _transposed_padding_search(n, k, s, target)
            if got is None:
                if right is not None:
                    p, a = right
                    t.fail(
                        what,
                        right,
                        "None",
                        _(
                            "padding {padding} and output padding {output_padding} give {target}: return that pair"
                        ).format(padding=p, output_padding=a, target=target),
                    )
                t.passed += 1
                continue
            pair = isinstance(got, (tuple, list)) and len(got) == 2 and all(is_whole_number(v) for v in got)
            if not pair:
                t.fail(
                    _("{what} should be a pair of ints").format(what=what),
                    right or "None",
                    got,
                    _("return (padding, output_padding)"),
                )
            got = tuple(int(v) for v in got)
            if got != right:
                t.fail(
                    what,
                    right if right is not None else _("None (no pair gives this size)"),
                    got,
                    _pair_hint(got, n, k, s, target, right),
                )
            reached = _keras_size(n, k, s, *got)
            t.equal(
                _("{what}: Conv2DTranspose(output_padding={output_padding}) then Cropping2D({padding})").format(
                    what=what, output_padding=got[1], padding=got[0]
                ),
                reached,
                target,
            )


def _call_allowing_none(t, fn, args, what):
    """Like Task.call, for a function whose right answer may be None."""
    try:
        return fn(*args)
    except NotImplementedError:
        t.fail(
            _("{what}: not written yet").format(what=what),
            hint=_("replace `raise NotImplementedError()` with your code and run the cell"),
        )
    except CheckFailed:
        raise
    except Exception as err:
        t.fail(
            _("{what} raised {error}").format(what=what, error=type(err).__name__),
            got=first_line(err),
            hint=error_hint(err, what),
        )


# -- Task 6 ---------------------------------------------------------------------------------
def decoder_spec():
    """Conv2DTranspose(32, 4, 2, same) → ReLU → Conv2DTranspose(16, 4, 2, same) → ReLU → Conv2D(1, 3) → sigmoid."""
    return chain(conv_transpose(4, 32, 2), relu(), conv_transpose(4, 16, 2), relu(), conv(3, 1), activation("sigmoid"))


def _decoder_hint(e, g):
    if e is None or g is None:
        return None
    if e.kind == "Conv2DTranspose" and g.kind != "Conv2DTranspose":
        if g.kind == "UpSampling2D" or g.kind == "Conv2D":
            return _(
                "learn the upsampling: Conv2DTranspose(…, 4, strides=2, padding='same'), not UpSampling2D + Conv2D"
            )
        return _("two Conv2DTranspose layers come first, each followed by a ReLU")
    if e.kind == g.kind == "Conv2DTranspose":
        for key, advice in [
            ("kernel", _("kernel_size=4: divisible by the stride 2, so the stamps overlap evenly")),
            ("strides", _("strides=2: each transposed convolution doubles height and width")),
            ("filters", _("32 filters in the first transposed convolution, 16 in the second")),
            ("padding", _("padding='same' (or 'valid' then a crop of 1 on every side): 7 → 14 → 28")),
        ]:
            if e.settings.get(key) != g.settings.get(key):
                return advice
    if e.kind == "ReLU":
        return _("each transposed convolution is followed by a ReLU (activation='relu' counts)")
    if e.kind == "Sigmoid":
        if g.kind == "ReLU":
            return _("the output needs a sigmoid, not a ReLU: pixels lie in [0, 1]")
        return _("the output needs a sigmoid: pixels lie in [0, 1]")
    if e.kind == "Conv2D":
        return _("end with Conv2D(1, 3, padding='same') and a sigmoid")
    return None


def _decoder_shape_hint(shape):
    if shape[:2] == (34, 34):
        return _("padding 'valid' adds k − s rows: use padding='same', which gives exactly 2× (7 → 14 → 28)")
    if shape[-1:] != (1,):
        return _("the output has one channel: a grey image")
    return _("two stride-2 transposed convolutions with padding='same': 7 → 14 → 28")


def decoder(fn):
    """Task 6: 7×7×C code → Conv2DTranspose ×2 (stride 2) → 28×28×1 in [0, 1], compared with the spec's model."""
    with Task(6, "decoder") as t:
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
    """Task 7: Conv2DTranspose(32, 3, strides=2) on a 7×7×64 map: sizes with 'valid' and 'same', parameters."""
    import keras
    from keras import layers

    n, k, s, c_in, c_out = 7, 3, 2, 64, 32
    with Task(7, _("exam drill")) as t:
        for value, name in [(out_valid, "out_valid"), (out_same, "out_same"), (n_params, "n_params")]:
            t.value(value, name, (int, np.integer))
        inputs = keras.Input((n, n, c_in))
        valid = layers.Conv2DTranspose(c_out, k, strides=s)
        same = layers.Conv2DTranspose(c_out, k, strides=s, padding="same")
        for name, got, expected, hints, default in [
            (
                "out_valid",
                out_valid,
                valid(inputs).shape[1],
                {
                    n * s + k: _("(n − 1)·s + k: the last stamp starts at (7 − 1)·2"),
                    n * s: _("that is the 'same' size; 'valid' keeps the whole overlap: (n − 1)·s + k"),
                    (n - k) // s + 1: _("that is the convolution's formula; the transposed convolution enlarges"),
                    (n - 1) * s: _("each stamp is k wide: add k to (n − 1)·s"),
                },
                "(n − 1)·s + k",
            ),
            (
                "out_same",
                out_same,
                same(inputs).shape[1],
                {
                    (n - 1) * s + k: _("that is the 'valid' size; 'same' gives exactly n·s"),
                    n: _("'same' keeps the size only at stride 1: a transposed convolution gives n·s"),
                    -(-n // s): _("that is the convolution's 'same' (⌈n/s⌉); the transposed one gives n·s"),
                },
                _("'same' gives n·s"),
            ),
            (
                "n_params",
                n_params,
                valid.count_params(),
                {
                    k * k * c_in * c_out: _("add the 32 biases"),
                    k * k * c_in * c_out + c_in: _("one bias per output channel (32 filters), not per input channel"),
                    k * k * c_out + c_out: _("each kernel spans all 64 input channels"),
                    c_in * c_out + c_out: _("each filter is k×k = 3×3 per input channel"),
                },
                _("k·k·C_in·C_out + C_out, as for Conv2D"),
            ),
        ]:
            t.equal(name, got, expected, hints.get(got, default))

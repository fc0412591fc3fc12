"""Checks for unit 01 (convolution): a NumPy conv2d, the output size, parameter counts, pooling, drills.

The convolution and pooling results come from Keras (``Conv2D`` after
``ZeroPadding2D``, ``MaxPooling2D``, ``AveragePooling2D``) holding the same
weights, on non-square inputs, odd channel counts, kernels and biases of both
signs, paddings 0–2 and strides 1–3 where the sizes do not divide evenly;
sizes and counts from the formulas, on cases where the usual wrong formulas
give other numbers. Wrong answers are recognised by recomputing the usual
mistakes in NumPy.
"""

import numpy as np

from cnn_course.checks import Task, is_whole_number

CONV_CASES = [  # H, W, C, M, K, padding, stride: (n + 2p − k) is not a multiple of s on most sides
    (8, 10, 3, 5, 3, 1, 2),
    (10, 7, 2, 3, 4, 2, 3),
    (6, 5, 1, 1, 3, 0, 1),
    (5, 9, 4, 3, 2, 0, 2),
    (11, 6, 3, 7, 5, 2, 1),
]


def _keras_conv(x, kernels, bias, padding, stride):
    from keras import layers

    conv = layers.Conv2D(kernels.shape[-1], kernels.shape[0], strides=stride)
    conv.build((None, x.shape[0] + 2 * padding, x.shape[1] + 2 * padding, x.shape[2]))
    conv.set_weights([kernels, bias])
    return np.asarray(conv(layers.ZeroPadding2D(padding)(x[np.newaxis])))[0]


def _correlate(x, kernels, bias, pads, stride):
    """Cross-correlation from the definition, with `pads` ((top, bottom), (left, right)): for the mistakes."""
    K = kernels.shape[0]
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, (*pads, (0, 0))), (K, K), axis=(0, 1))
    return np.einsum("hwcij,ijcm->hwm", windows[::stride, ::stride], kernels) + bias


SIZE_SLIPS = [  # (size of one side from n, k, p, s, the hint), the usual mistakes first
    (lambda n, k, p, s: (n + p - k) // s + 1, "padding adds p zeros on both sides: n + 2p"),
    (lambda n, k, p, s: (n - k) // s + 1, "pad the input first: n + 2p"),
    (lambda n, k, p, s: (n + 2 * p - k) // s, "add 1: a kernel that fits once gives one output"),
    (lambda n, k, p, s: -(-(n + 2 * p - k) // s) + 1, "round down: a window that does not fit is dropped (use //)"),
    (lambda n, k, p, s: round((n + 2 * p - k) / s) + 1, "round down (//), not to the nearest whole number"),
    (lambda n, k, p, s: n // s + (2 * p - k) // s + 1, "floor once, after adding: (n + 2p − k) // s, not n // s + …"),
    (lambda n, k, p, s: (n + 2 * p) // s - k // s + 1, "floor once, after subtracting: (n + 2p − k) // s"),
    (lambda n, k, p, s: n + 2 * p - k + 1, "divide by the stride: the window moves s pixels at a time"),
    (lambda n, k, p, s: (n + 2 * p - k + 1) // s + 1, "the count is ⌊(n + 2p − k)/s⌋ + 1"),
]


def _size_hint(got, n, k, p, s, fallback="⌊(n + 2p − k)/s⌋ + 1"):
    return next((hint for size, hint in SIZE_SLIPS if size(n, k, p, s) == got), fallback)


def _conv_shape_hint(got, H, W, C, M, K, p, s):
    if got == (M, (H + 2 * p - K) // s + 1, (W + 2 * p - K) // s + 1):
        return "channels last: the result has shape (H', W', M)"
    if len(got) == 4 or got[-1:] == (M * C,) != (M,):
        return "sum the products over the C input channels too: the result has M channels, not M·C"
    if len(got) == 3 and got[-1] == M:
        side = (H, got[0]) if got[0] != (H + 2 * p - K) // s + 1 else (W, got[1])
        return _size_hint(side[1], side[0], K, p, s, "(H', W') = ⌊(n + 2p − k)/s⌋ + 1 on each side")
    return "one output value per position and kernel: shape (H', W', M)"


def _conv_hint(got, x, kernels, bias, p, s):
    C, (oh, ow) = x.shape[-1], _correlate(x, kernels, bias, ((p, p), (p, p)), s).shape[:2]
    right = ((p, p), (p, p))
    variants = {
        "do not flip the kernel: Conv2D computes cross-correlation": (kernels[::-1, ::-1], bias, right, s),
        "kernels[i, j] multiplies x[row + i, col + j]: do not swap the kernel's rows and columns": (
            kernels.transpose(1, 0, 2, 3),
            bias,
            right,
            s,
        ),
        "add the bias of each output channel": (kernels, 0 * bias, right, s),
        "add each bias once per output value, not once per input channel": (kernels, C * bias, right, s),
        "pad p zeros on every side, not 2p on one side": (kernels, bias, ((2 * p, 0), (2 * p, 0)), s),
        "step the window by the stride: output (i, j) reads the window at (i·s, j·s)": (kernels, bias, right, 1),
    }
    for hint, (k, b, pads, step) in variants.items():
        values = _correlate(x, k, b, pads, step)[:oh, :ow]
        if values.shape == got.shape and np.allclose(got, values, atol=1e-3):
            return hint
    first = _correlate(x[..., :1], kernels[:, :, :1], bias, right, s)
    if np.allclose(got, first, atol=1e-3):
        return "sum the products over all input channels, not only the first"
    return "each output value: Σ over the K×K window and all C channels of window × kernel, plus the bias"


def conv2d(fn):
    """Task 1: conv2d(x, kernels, bias, padding, stride) equals Conv2D with the same weights."""
    rng = np.random.default_rng(0)
    with Task(1, "conv2d") as t:
        t.function(fn, "conv2d")
        for H, W, C, M, K, p, s in CONV_CASES:
            x = rng.normal(size=(H, W, C)).astype("float32")
            kernels = rng.normal(size=(K, K, C, M)).astype("float32")
            bias = rng.uniform(0.5, 2.0, M).astype("float32") * np.resize([1, -1], M).astype("float32")
            what = f"conv2d(x {H}×{W}×{C}, kernels {K}×{K}×{C}×{M}, bias, padding={p}, stride={s})"
            size_hint = "⌊(n + 2p − k)/s⌋ + 1 positions per side: pad both sides, then step by the stride"
            got = t.array(t.call(fn, (x, kernels, bias, p, s), what=what, hint=size_hint), what)
            expected = _keras_conv(x, kernels, bias, p, s)
            if got.shape != expected.shape:
                t.fail(
                    f"{what}: output shape", expected.shape, got.shape, _conv_shape_hint(got.shape, H, W, C, M, K, p, s)
                )
            t.close(f"{what}: values", got, expected, _conv_hint(got, x, kernels, bias, p, s), atol=1e-3)


def _formula_task(t, fn, name, cases, right, slips, fallback):
    """The learner's numbers on every case; a wrong one explained by the slip that gives all of them."""
    answers = []
    for case in cases:
        what = f"{name}({', '.join(f'{k}={v}' for k, v in case.items())})"
        got = t.call(fn, tuple(case.values()), what=what)
        t.expect(is_whole_number(got), f"{what} should be an int", "an int", got, "a whole number: use //, not /")
        answers.append((what, got, right(*case.values())))
    wrong = [answer for answer in answers if answer[1] != answer[2]]
    if wrong:
        every = [
            slip for slip in slips if all(slip[0](*c.values()) == a[1] for c, a in zip(cases, answers, strict=True))
        ]
        case = cases[answers.index(wrong[0])]
        this = [slip for slip in slips if slip[0](*case.values()) == wrong[0][1]]
        what, got, expected = wrong[0]
        t.fail(what, expected, got, (every + this + [(None, fallback)])[0][1])
    t.passed += 1


def output_size(fn):
    """Task 2: ⌊(n + 2p − k)/s⌋ + 1, on cases where the usual slips give other numbers."""
    with Task(2, "output_size") as t:
        t.function(fn, "output_size")
        cases = [(28, 3, 1, 1), (13, 5, 2, 2), (10, 4, 1, 3), (12, 5, 0, 4), (10, 3, 1, 3), (6, 3, 2, 3), (32, 5, 2, 2)]
        cases += [(9, 5, 0, 3)]
        cases = [dict(zip("nkps", case, strict=True)) for case in cases]
        right = lambda n, k, p, s: (n + 2 * p - k) // s + 1  # noqa: E731
        _formula_task(t, fn, "output_size", cases, right, SIZE_SLIPS, "⌊(n + 2p − k)/s⌋ + 1")


def conv_params(fn):
    """Task 3: K·K·C_in·C_out + C_out, on cases where the usual slips give other numbers."""
    slips = [
        (lambda k, c_in, c_out: k * k * c_in * c_out + 1, "one bias per output channel, not one in all"),
        (
            lambda k, c_in, c_out: k * k * c_in * c_out + c_in,
            "one bias per output channel (c_out), not per input channel",
        ),
        (
            lambda k, c_in, c_out: k * k * (c_in + c_out) + c_out,
            "each of the c_out kernels has K·K·c_in weights: multiply",
        ),
        (
            lambda k, c_in, c_out: (k * k * c_in + 1) * (c_out + 1),
            "c_out kernels of K·K·c_in weights, plus c_out biases",
        ),
        (
            lambda k, c_in, c_out: k * c_in * c_out + c_out,
            "the kernel is K×K: K·K weights per input and output channel",
        ),
        (lambda k, c_in, c_out: k * k * c_out + c_out, "each kernel spans all c_in input channels"),
        (lambda k, c_in, c_out: k * k * c_in * c_out, "each output channel also has a bias"),
    ]
    cases = [(3, 1, 32), (3, 32, 64), (5, 3, 16), (1, 64, 128), (7, 3, 64), (2, 5, 3)]
    with Task(3, "conv_params") as t:
        t.function(fn, "conv_params")
        cases = [dict(zip(("k", "c_in", "c_out"), case, strict=True)) for case in cases]
        right = lambda k, c_in, c_out: k * k * c_in * c_out + c_out  # noqa: E731
        _formula_task(t, fn, "conv_params", cases, right, slips, "K·K·c_in weights per output channel, plus its bias")


def dense_params(fn):
    """Task 4: n_in·n_out + n_out, on cases where the usual slips give other numbers."""
    slips = [
        (lambda n_in, n_out: n_in * n_out + 1, "one bias per output unit, not one in all"),
        (lambda n_in, n_out: n_in * n_out + n_in, "one bias per output unit (n_out), not per input"),
        (lambda n_in, n_out: (n_in + 1) * (n_out + 1), "n_out units of n_in weights, plus n_out biases"),
        (lambda n_in, n_out: n_in + n_out, "every input connects to every output: multiply"),
        (lambda n_in, n_out: n_in * n_out, "each output unit also has a bias"),
    ]
    with Task(4, "dense_params") as t:
        t.function(fn, "dense_params")
        cases = [dict(n_in=n_in, n_out=n_out) for n_in, n_out in [(784, 10), (128, 64), (3136, 100), (5, 3), (1, 1)]]
        right = lambda n_in, n_out: n_in * n_out + n_out  # noqa: E731
        _formula_task(t, fn, "dense_params", cases, right, slips, "n_in weights per output unit, plus its bias")


def _pool_hint(got, x, size, mode):
    H, W, C = x.shape
    windows = x[: H // size * size, : W // size * size].reshape(H // size, size, W // size, size, C)
    mixed = x[: H // size * size, : W // size * size].reshape(H // size, W // size, size, size, C)
    reduce = np.max if mode == "max" else np.mean
    variants = {
        "mode 'average' takes the mean of each window": windows.max(axis=(1, 3)),
        "mode 'max' takes the maximum of each window": windows.mean(axis=(1, 3)),
        "the maximum of the values, not of their absolute values": np.abs(windows).max(axis=(1, 3)),
        "start the maximum from the window's first value (or −∞), not 0: a window may hold negative values only": (
            np.maximum(windows.max(axis=(1, 3)), 0)
        ),
        "the mean divides the window's sum by size²": windows.sum(axis=(1, 3)),
        "pool each channel separately: the channels stay apart": np.repeat(
            reduce(windows, axis=(1, 3, 4))[..., None], C, -1
        ),
        "a window is `size` consecutive rows and columns: reshape to (H // size, size, W // size, size, C)": (
            reduce(mixed, axis=(2, 3))
        ),
    }
    for hint, values in variants.items():
        if np.allclose(got, values, atol=1e-5):
            return hint
    return f"each output value is the {mode} of one size×size window of one channel"


def pool2d(fn):
    """Task 5: non-overlapping max and average pooling, compared with Keras, on mostly negative values."""
    from keras import layers

    rng = np.random.default_rng(1)
    with Task(5, "pool2d") as t:
        t.function(fn, "pool2d")
        for (H, W, C), size in [((7, 10, 3), 2), ((11, 8, 5), 3), ((9, 13, 16), 2)]:
            x = (rng.normal(size=(H, W, C)) - 0.8).astype("float32")
            x[..., 0] = -np.abs(x[..., 0]) - 0.1  # a channel of negative values only
            for mode, layer in [("max", layers.MaxPooling2D(size)), ("average", layers.AveragePooling2D(size))]:
                what = f"pool2d(x {H}×{W}×{C}, size={size}, mode={mode!r})"
                got = t.array(t.call(fn, (x.copy(), size, mode), what=what), what)
                expected = np.asarray(layer(x[np.newaxis]))[0]
                hint = "channels stay apart: the result has shape (H // size, W // size, C)"
                if got.ndim == 3 and got.shape[-1] == C:
                    hint = (
                        "windows do not overlap (stride = size), and rows or columns that do not fill one are dropped"
                    )
                t.equal(f"{what}: output shape", got.shape, expected.shape, hint)
                t.close(f"{what}: values", got, expected, _pool_hint(got, x, size, mode), atol=1e-5)


def drill(out_size, n_params, pooled_size):
    """Task 6: a 64×64×3 input, 32 filters of 5×5, padding 2, stride 2; then 2×2 max pooling."""
    n, c, m, k, p, s = 64, 3, 32, 5, 2, 2
    size = (n + 2 * p - k) // s + 1
    with Task(6, "exam drill") as t:
        for value, name in [(out_size, "out_size"), (n_params, "n_params"), (pooled_size, "pooled_size")]:
            t.value(value, name, (int, np.integer))
        t.equal("out_size", out_size, size, _size_hint(out_size, n, k, p, s))
        hints = {
            k * k * c * m: f"add the {m} biases",
            k * k * m + m: f"each kernel spans the {c} input channels",
            k * k * c * m + c: f"one bias per filter: {m}, not {c}",
            k * c * m + m: "each filter is 5×5: 25 weights per input channel",
        }
        t.equal("n_params", n_params, k * k * c * m + m, hints.get(n_params, "K·K·C_in·C_out + C_out"))
        hints = {
            size - 1: "2×2 pooling with stride 2: windows do not overlap",
            size: "the pooling halves the side",
            size // 4: "one 2×2 pooling with stride 2 halves the side once",
        }
        t.equal(
            "pooled_size", pooled_size, size // 2, hints.get(pooled_size, "2×2 pooling with stride 2 halves the side")
        )

"""Checks for unit 01 (convolution): a NumPy conv2d, sizes and counts, im2col, the padding for a size, pooling, drills.

The convolution and pooling results come from Keras (the op of ``Conv2D`` on the
zero-padded image, ``MaxPooling2D``, ``AveragePooling2D``) holding the same
weights, on non-square inputs, odd channel counts, kernels and biases of both
signs, paddings 0–2 and strides 1–3 where the sizes do not divide evenly;
sizes and counts from the formulas, on cases where the usual wrong formulas
give other numbers. The im2col matrix is judged by what it computes (its
product with random kernels against ``Conv2D``'s op), the padding for a size
against a search over the paddings one by one. Wrong answers are recognised by
recomputing the usual mistakes in NumPy.
"""

import re

import numpy as np

from cnn_course.checks import CheckFailed, Task, error_hint, first_line, is_whole_number
from cnn_course.i18n import N_, _

CONV_CASES = [  # H, W, C, M, K, padding, stride: (n + 2p − k) is not a multiple of s on most sides
    (8, 10, 3, 5, 3, 1, 2),
    (10, 7, 2, 3, 4, 2, 3),
    (6, 5, 1, 1, 3, 0, 1),
    (5, 9, 4, 3, 2, 0, 2),
    (11, 6, 3, 7, 5, 2, 1),
]


def _keras_conv(x, kernels, bias, padding, stride):
    """What Conv2D after ZeroPadding2D computes (their ops: many times faster than building layers per case)."""
    from keras import ops

    padded = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))[np.newaxis]
    return np.asarray(ops.conv(padded, kernels, strides=stride))[0] + bias


def _correlate(x, kernels, bias, pads, stride):
    """Cross-correlation from the definition, with `pads` ((top, bottom), (left, right)): for the mistakes."""
    K = kernels.shape[0]
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, (*pads, (0, 0))), (K, K), axis=(0, 1))
    return np.einsum("hwcij,ijcm->hwm", windows[::stride, ::stride], kernels) + bias


SIZE_SLIPS = [  # (size of one side from n, k, p, s, the hint), the usual mistakes first
    (lambda n, k, p, s: (n + p - k) // s + 1, N_("padding adds p zeros on both sides: n + 2p")),
    (lambda n, k, p, s: (n - k) // s + 1, N_("pad the input first: n + 2p")),
    (lambda n, k, p, s: (n + 2 * p - k) // s, N_("add 1: a kernel that fits once gives one output")),
    (lambda n, k, p, s: -(-(n + 2 * p - k) // s) + 1, N_("round down: a window that does not fit is dropped (use //)")),
    (lambda n, k, p, s: round((n + 2 * p - k) / s) + 1, N_("round down (//), not to the nearest whole number")),
    (
        lambda n, k, p, s: n // s + (2 * p - k) // s + 1,
        N_("floor once, after adding: (n + 2p − k) // s, not n // s + …"),
    ),
    (lambda n, k, p, s: (n + 2 * p) // s - k // s + 1, N_("floor once, after subtracting: (n + 2p − k) // s")),
    (lambda n, k, p, s: n + 2 * p - k + 1, N_("divide by the stride: the window moves s pixels at a time")),
    (lambda n, k, p, s: (n + 2 * p - k + 1) // s + 1, N_("the count is ⌊(n + 2p − k)/s⌋ + 1")),
]


def _size_hint(got, n, k, p, s, fallback="⌊(n + 2p − k)/s⌋ + 1"):
    return next((_(hint) for size, hint in SIZE_SLIPS if size(n, k, p, s) == got), fallback)


def _conv_shape_hint(got, H, W, C, M, K, p, s):
    if got == (M, (H + 2 * p - K) // s + 1, (W + 2 * p - K) // s + 1):
        return _("channels last: the result has shape (H', W', M)")
    if len(got) == 4 or got[-1:] == (M * C,) != (M,):
        return _("sum the products over the C input channels too: the result has M channels, not M·C")
    if len(got) == 3 and got[-1] == M:
        side = (H, got[0]) if got[0] != (H + 2 * p - K) // s + 1 else (W, got[1])
        return _size_hint(side[1], side[0], K, p, s, _("(H', W') = ⌊(n + 2p − k)/s⌋ + 1 on each side"))
    return _("one output value per position and kernel: shape (H', W', M)")


def _conv_hint(got, x, kernels, bias, p, s):
    C, (oh, ow) = x.shape[-1], _correlate(x, kernels, bias, ((p, p), (p, p)), s).shape[:2]
    right = ((p, p), (p, p))
    variants = {
        _("do not flip the kernel: Conv2D computes cross-correlation"): (kernels[::-1, ::-1], bias, right, s),
        _("kernels[i, j] multiplies x[row + i, col + j]: do not swap the kernel's rows and columns"): (
            kernels.transpose(1, 0, 2, 3),
            bias,
            right,
            s,
        ),
        _("add the bias of each output channel"): (kernels, 0 * bias, right, s),
        _("add each bias once per output value, not once per input channel"): (kernels, C * bias, right, s),
        _("pad p zeros on every side, not 2p on one side"): (kernels, bias, ((2 * p, 0), (2 * p, 0)), s),
        _("step the window by the stride: output (i, j) reads the window at (i·s, j·s)"): (kernels, bias, right, 1),
    }
    for hint, (k, b, pads, step) in variants.items():
        values = _correlate(x, k, b, pads, step)[:oh, :ow]
        if values.shape == got.shape and np.allclose(got, values, atol=1e-3):
            return hint
    first = _correlate(x[..., :1], kernels[:, :, :1], bias, right, s)
    if np.allclose(got, first, atol=1e-3):
        return _("sum the products over all input channels, not only the first")
    return _("each output value: Σ over the K×K window and all C channels of window × kernel, plus the bias")


def conv2d(fn):
    """Task 1: conv2d(x, kernels, bias, padding, stride) equals Conv2D with the same weights."""
    rng = np.random.default_rng(0)
    with Task(1, "conv2d") as t:
        t.function(fn, "conv2d")
        for H, W, C, M, K, p, s in CONV_CASES:
            x = rng.normal(size=(H, W, C)).astype("float32")
            kernels = rng.normal(size=(K, K, C, M)).astype("float32")
            bias = rng.uniform(0.5, 2.0, M).astype("float32") * np.resize([1, -1], M).astype("float32")
            what = f"conv2d(x {H}×{W}×{C}, kernels {K}×{K}×{C}×{M}, bias, padding={p}, stride={s})"  # not a message
            size_hint = _("⌊(n + 2p − k)/s⌋ + 1 positions per side: pad both sides, then step by the stride")
            got = t.array(t.call(fn, (x, kernels, bias, p, s), what=what, hint=size_hint), what)
            expected = _keras_conv(x, kernels, bias, p, s)
            if got.shape != expected.shape:
                t.fail(
                    _("{what}: output shape").format(what=what),
                    expected.shape,
                    got.shape,
                    _conv_shape_hint(got.shape, H, W, C, M, K, p, s),
                )
            t.close(
                _("{what}: values").format(what=what), got, expected, _conv_hint(got, x, kernels, bias, p, s), atol=1e-3
            )


IM2COL_CASES = [  # H, W, C, K, padding, stride, M: non-square, odd channels, sizes that do not divide evenly
    (7, 9, 3, 3, 1, 2, 4),
    (8, 6, 2, 2, 0, 3, 3),
    (5, 7, 4, 4, 2, 1, 2),
    (6, 6, 1, 3, 0, 1, 5),
]


def _im2col(x, K, pads, stride, order="hwc", rows="ij", crop=None):
    """The im2col matrix from the definition, with `pads` ((top, bottom), (left, right)): for the mistakes."""
    windows = _windows(np.pad(x, (*pads, (0, 0))), K, stride)  # (H', W', C, K, K)
    if crop:
        windows = windows[: crop[0], : crop[1]]
    oh, ow = windows.shape[:2]
    if rows == "ji":
        windows = windows.transpose(1, 0, 2, 3, 4)
    flat = {"hwc": (0, 1, 3, 4, 2), "chw": (0, 1, 2, 3, 4), "whc": (0, 1, 4, 3, 2)}[order]
    return windows.transpose(flat).reshape(oh * ow, -1)


def _im2col_hint(got, x, K, p, s):
    right = ((p, p), (p, p))
    variants = {
        _("flatten each window as (row, column, channel), like kernels.reshape(K·K·C, M): channels last"): (
            right,
            s,
            "chw",
            "ij",
        ),
        _("flatten each window row by row: (row, column, channel), not column by column"): (right, s, "whc", "ij"),
        _("row r = i·W' + j: go along an output row first (j), then down (i)"): (right, s, "hwc", "ji"),
        _("pad p zeros on every side, not 2p on one side"): (((2 * p, 0), (2 * p, 0)), s, "hwc", "ij"),
        _("pad the image with p zeros on every side first"): (((0, 0), (0, 0)), s, "hwc", "ij"),
        _("step the window by the stride: row (i, j) is the window at (i·s, j·s)"): (right, 1, "hwc", "ij"),
    }
    crop = ((x.shape[0] + 2 * p - K) // s + 1, (x.shape[1] + 2 * p - K) // s + 1)
    for hint, (pads, step, order, rows) in variants.items():
        values = _im2col(x, K, pads, step, order, rows, crop if step != s else None)
        if values.shape == got.shape and np.allclose(got, values, atol=1e-5):
            return hint
    flipped = _im2col(x[::-1, ::-1], K, right, s)[::-1]
    if flipped.shape == got.shape and np.allclose(got, flipped, atol=1e-5):
        return _("take each window as it is (no flipping), top-left corner at (i·s, j·s)")
    return _(
        "row i·W' + j holds the K×K×C window at (i·s, j·s) of the padded image, flattened as (row, column, channel)"
    )


def im2col(fn):
    """Task 3: im2col(x, K, padding, stride) @ kernels.reshape(K·K·C, M) + bias equals Conv2D."""
    rng = np.random.default_rng(3)
    with Task(3, "im2col") as t:
        t.function(fn, "im2col")
        for H, W, C, K, p, s, M in IM2COL_CASES:
            x = rng.normal(size=(H, W, C)).astype("float32")
            kernels = rng.normal(size=(K, K, C, M)).astype("float32")
            bias = rng.uniform(0.5, 2.0, M).astype("float32") * np.resize([1, -1], M).astype("float32")
            what = f"im2col(x {H}×{W}×{C}, K={K}, padding={p}, stride={s})"  # not a message
            got = t.array(t.call(fn, (x.copy(), K, p, s), what=what), what)
            oh, ow = (H + 2 * p - K) // s + 1, (W + 2 * p - K) // s + 1
            shape = (oh * ow, K * K * C)
            if got.shape != shape:
                hint = _("one row per output position (H'·W' rows), one column per window value (K·K·C columns)")
                if got.shape == shape[::-1]:
                    hint = _("rows are output positions, columns window values: transpose your matrix")
                elif got.shape == (oh, ow, K * K * C):
                    hint = _("reshape to two axes: row i·W' + j for output position (i, j)")
                elif got.ndim == 2 and got.shape[1] == K * K * C:
                    hint = _size_hint(got.shape[0] // ow if got.shape[0] % ow == 0 else -1, H, K, p, s)
                    hint = _("H'·W' rows with H' = ⌊(H + 2p − K)/s⌋ + 1 ({rows}) and W' ({columns}); {hint}").format(
                        rows=oh, columns=ow, hint=hint
                    )
                t.fail(_("{what}: shape").format(what=what), shape, got.shape, hint)
            t.passed += 1
            product = (got @ kernels.reshape(K * K * C, M) + bias).reshape(oh, ow, M)
            t.close(
                _(
                    "{what} @ kernels.reshape({size}, {filters}) + bias, reshaped to ({rows}, {columns}, {filters}),"
                    " against Conv2D"
                ).format(what=what, size=K * K * C, filters=M, rows=oh, columns=ow),
                product,
                _keras_conv(x, kernels, bias, p, s),
                _im2col_hint(got, x, K, p, s),
                atol=1e-3,
            )


def _padding_search(n, k, s, target):
    """The smallest p ≥ 0 with ⌊(n + 2p − k)/s⌋ + 1 == target, or None: tried one padding after another."""
    p = 0
    while n + 2 * p < k or (n + 2 * p - k) // s + 1 < target:
        p += 1
    return p if (n + 2 * p - k) // s + 1 == target else None


PADDING_CASES = [  # n, k, s, target
    (28, 3, 1, 28),
    (28, 5, 1, 28),
    (28, 4, 1, 28),  # even kernel, stride 1: every padding gives an odd change, never the same size
    (11, 3, 3, 5),  # paddings 2 and 3 both give 5: the smallest is 2
    (28, 3, 2, 14),
    (28, 3, 1, 20),  # smaller than the unpadded output (26): no padding shrinks it
    (9, 4, 2, 6),
    (6, 7, 1, 2),  # the kernel is wider than the image: pad until it fits
    (12, 1, 3, 4),
    (10, 2, 1, 13),
]


UNREACHED = N_("not every padding reaches the target: check ⌊(n + 2p − k)/s⌋ + 1 == target, else return None")


def _padding_slips(n, k, s, target):
    """What the usual mistakes give, with their hints."""
    closed = ((target - 1) * s + k - n) / 2
    largest = None
    for p in range(0, n + k + target * s + 2):
        if n + 2 * p >= k and (n + 2 * p - k) // s + 1 == target:
            largest = p
    return [
        ((k - 1) // 2, _("that is the padding that keeps the size for an odd k at stride 1: solve for `target`")),
        (closed, _("return an int (or None): the padding is a whole number of pixels")),
        (int(closed), _("not every padding reaches the target: check ⌊(n + 2p − k)/s⌋ + 1 == target, else None")),
        (
            -(-int(2 * closed) // 2),
            _("not every padding reaches the target: check ⌊(n + 2p − k)/s⌋ + 1 == target, else None"),
        ),
        (largest, _("the smallest padding that works: stop at the first")),
        ((target - 1) * s + k - n, _("the padding goes on both sides: n + 2p")),
        (0, _("if no padding p ≥ 0 gives `target`, return None")),
        (k - 1, _("p zeros on each side of the image: solve ⌊(n + 2p − k)/s⌋ + 1 == target for p")),
    ]


def _call_allowing_none(t, fn, args, what):
    """Like Task.call, for a function whose right answer may be None."""
    try:
        return fn(*args)
    except NotImplementedError:
        t.fail(
            _("{what}: not written yet").format(what=what),
            hint=_("replace `raise NotImplementedError()` with your code and run that cell"),
        )
    except CheckFailed:
        raise
    except Exception as err:
        t.fail(
            _("{what} raised {error}").format(what=what, error=type(err).__name__),
            got=first_line(err),
            hint=error_hint(err, what),
        )


def padding_for(fn):
    """Task 4: the smallest p ≥ 0 that turns n into target, or None; compared with a search over every p."""
    with Task(4, "padding_for") as t:
        t.function(fn, "padding_for")
        for n, k, s, target in PADDING_CASES:
            what = f"padding_for(n={n}, k={k}, s={s}, target={target})"  # not a message
            got = _call_allowing_none(t, fn, (n, k, s, target), what)
            right = _padding_search(n, k, s, target)
            if right is None:
                if got is not None:
                    reached = (n + 2 * got - k) // s + 1 if is_whole_number(got) and got >= 0 else None
                    hint = _("if no padding p ≥ 0 gives `target`, return None")
                    if is_whole_number(got) and got < 0:
                        hint = _("a negative padding does not exist: no padding shrinks the output, return None")
                    elif reached is not None:
                        hint = _(
                            "padding {padding} gives {size}, not {target}: when no p ≥ 0 works, return None"
                        ).format(padding=got, size=reached, target=target)
                    t.fail(what, _("None (no padding gives this size)"), got, hint)
                t.passed += 1
                continue
            if got is None:
                t.fail(
                    what,
                    right,
                    "None",
                    _(
                        "padding {padding} gives {target}: search from p = 0 up,"
                        " and return the first that gives `target`"
                    ).format(padding=right, target=target),
                )
            if not is_whole_number(got):
                t.fail(
                    _("{what} should be an int").format(what=what),
                    right,
                    got,
                    _("a whole number of pixels (or None if none exists)"),
                )
            if got != right:
                reached = (n + 2 * got - k) // s + 1 if got >= 0 and n + 2 * got >= k else None
                hint = next((h for value, h in _padding_slips(n, k, s, target) if value == got), None)
                if hint is None and reached == target:
                    hint = _("the smallest padding that works: stop at the first")
                if hint is None:
                    hint = _("padding {padding} gives ⌊(n + 2p − k)/s⌋ + 1 = {size}, not {target}").format(
                        padding=got, size=reached, target=target
                    )
                t.fail(what, right, got, hint)
            t.passed += 1


def _formula_task(t, fn, name, cases, right, slips, fallback):
    """The learner's numbers on every case; a wrong one explained by the slip that gives all of them."""
    answers = []
    for case in cases:
        what = f"{name}({', '.join(f'{k}={v}' for k, v in case.items())})"
        got = t.call(fn, tuple(case.values()), what=what)
        t.expect(
            is_whole_number(got),
            _("{what} should be an int").format(what=what),
            _("an int"),
            got,
            _("a whole number: use //, not /"),
        )
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
        slips = [(size, _(hint)) for size, hint in SIZE_SLIPS]
        _formula_task(t, fn, "output_size", cases, right, slips, "⌊(n + 2p − k)/s⌋ + 1")


def conv_params(fn):
    """Task 2 (with output_size): K·K·C_in·C_out + C_out, on cases where the usual slips give other numbers."""
    slips = [
        (lambda k, c_in, c_out: k * k * c_in * c_out + 1, _("one bias per output channel, not one in all")),
        (
            lambda k, c_in, c_out: k * k * c_in * c_out + c_in,
            _("one bias per output channel (c_out), not per input channel"),
        ),
        (
            lambda k, c_in, c_out: k * k * (c_in + c_out) + c_out,
            _("each of the c_out kernels has K·K·c_in weights: multiply"),
        ),
        (
            lambda k, c_in, c_out: (k * k * c_in + 1) * (c_out + 1),
            _("c_out kernels of K·K·c_in weights, plus c_out biases"),
        ),
        (
            lambda k, c_in, c_out: k * c_in * c_out + c_out,
            _("the kernel is K×K: K·K weights per input and output channel"),
        ),
        (lambda k, c_in, c_out: k * k * c_out + c_out, _("each kernel spans all c_in input channels")),
        (lambda k, c_in, c_out: k * k * c_in * c_out, _("each output channel also has a bias")),
    ]
    cases = [(3, 1, 32), (3, 32, 64), (5, 3, 16), (1, 64, 128), (7, 3, 64), (2, 5, 3)]
    with Task(2, "conv_params") as t:
        t.function(fn, "conv_params")
        cases = [dict(zip(("k", "c_in", "c_out"), case, strict=True)) for case in cases]
        right = lambda k, c_in, c_out: k * k * c_in * c_out + c_out  # noqa: E731
        _formula_task(
            t, fn, "conv_params", cases, right, slips, _("K·K·c_in weights per output channel, plus its bias")
        )


def dense_params(fn):
    """Task 2 (with output_size): n_in·n_out + n_out, on cases where the usual slips give other numbers."""
    slips = [
        (lambda n_in, n_out: n_in * n_out + 1, _("one bias per output unit, not one in all")),
        (lambda n_in, n_out: n_in * n_out + n_in, _("one bias per output unit (n_out), not per input")),
        (lambda n_in, n_out: (n_in + 1) * (n_out + 1), _("n_out units of n_in weights, plus n_out biases")),
        (lambda n_in, n_out: n_in + n_out, _("every input connects to every output: multiply")),
        (lambda n_in, n_out: n_in * n_out, _("each output unit also has a bias")),
    ]
    with Task(2, "dense_params") as t:
        t.function(fn, "dense_params")
        cases = [dict(n_in=n_in, n_out=n_out) for n_in, n_out in [(784, 10), (128, 64), (3136, 100), (5, 3), (1, 1)]]
        right = lambda n_in, n_out: n_in * n_out + n_out  # noqa: E731
        _formula_task(t, fn, "dense_params", cases, right, slips, _("n_in weights per output unit, plus its bias"))


def _windows(x, size, stride):
    """The size×size windows of x (H, W, C) every `stride` pixels: shape (H', W', C, size, size)."""
    return np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(0, 1))[::stride, ::stride]


def _pool_hint(got, x, size, mode, stride):
    H, W, C = x.shape
    windows = _windows(x, size, stride)
    reduce = np.max if mode == "max" else np.mean
    variants = {
        _("mode 'average' takes the mean of each window"): windows.max(axis=(3, 4)),
        _("mode 'max' takes the maximum of each window"): windows.mean(axis=(3, 4)),
        _("the maximum of the values, not of their absolute values"): np.abs(windows).max(axis=(3, 4)),
        _("start the maximum from the window's first value (or −∞), not 0: a window may hold negative values only"): (
            np.maximum(windows.max(axis=(3, 4)), 0)
        ),
        _("the mean divides the window's sum by size²"): windows.sum(axis=(3, 4)),
        _("pool each channel separately: the channels stay apart"): np.repeat(
            reduce(windows, axis=(2, 3, 4))[..., None], C, -1
        ),
    }
    if stride == size:
        mixed = x[: H // size * size, : W // size * size].reshape(H // size, W // size, size, size, C)
        variants[
            _("a window is `size` consecutive rows and columns: reshape to (H // size, size, W // size, size, C)")
        ] = reduce(mixed, axis=(2, 3))
    else:
        moved = reduce(_windows(x, size, size), axis=(3, 4))
        variants[
            _("move the window by `stride` ({stride}), not by `size` ({size})").format(stride=stride, size=size)
        ] = moved
        step = _("the window is `size`×`size` ({size}×{size}); `stride` ({stride}) is only its step")
        variants[step.format(size=size, stride=stride)] = reduce(_windows(x, stride, stride), axis=(3, 4))
    for hint, values in variants.items():
        if values.shape == got.shape and np.allclose(got, values, atol=1e-5):
            return hint
    if mode == "max":
        return _("each output value is the max of one size×size window of one channel, the windows `stride` apart")
    return _("each output value is the average of one size×size window of one channel, the windows `stride` apart")


def _pool_shape_hint(got, x, size, stride, default=False):
    H, W, C = x.shape
    if len(got) != 3 or got[-1] != C:
        return _("channels stay apart: the result has shape (H', W', C)")
    if default and got[:2] == (H - size + 1, W - size + 1):
        return _("stride=None means stride = size: the windows then do not overlap")
    if got[:2] == (H // size, W // size) != ((H - size) // stride + 1, (W - size) // stride + 1):
        return _("move the window by `stride` ({stride}), not by `size`: ⌊(H − size)/stride⌋ + 1 rows").format(
            stride=stride
        )
    if got[:2] == ((H - 1) // stride + 1, (W - 1) // stride + 1):
        return _("a window that does not fit is dropped: start positions 0, stride, … up to H − size")
    return _("windows `stride` apart that fit inside the image: ⌊(H − size)/stride⌋ + 1 rows, the same for columns")


def _missing_stride(err):
    if isinstance(err, TypeError) and re.search(r"argument|positional", str(err)):  # not a message
        return _("pool2d takes a fourth parameter `stride=None` (None: the same as size), after `mode`")
    return None


POOL_CASES = [  # H, W, C, size, stride (None: the default, stride = size)
    (7, 10, 3, 2, None),
    (11, 8, 5, 3, None),
    (9, 13, 4, 3, 2),  # overlapping windows, as in AlexNet
    (10, 9, 3, 2, 3),  # gaps between the windows
    (8, 7, 2, 3, 1),
]


def pool2d(fn):
    """Task 5: max and average pooling with a stride (overlapping, gapped, default), compared with Keras."""
    from keras import layers

    rng = np.random.default_rng(1)
    with Task(5, "pool2d") as t:
        t.function(fn, "pool2d")
        for H, W, C, size, stride in POOL_CASES:
            x = (rng.normal(size=(H, W, C)) - 0.8).astype("float32")
            x[..., 0] = -np.abs(x[..., 0]) - 0.1  # a channel of negative values only
            step = stride or size
            for mode, kind in [("max", layers.MaxPooling2D), ("average", layers.AveragePooling2D)]:
                args = (x.copy(), size, mode) if stride is None else (x.copy(), size, mode, stride)
                what = f"pool2d(x {H}×{W}×{C}, size={size}, mode={mode!r}"  # not a message
                what += f", stride={stride})" if stride else ")"
                got = t.array(t.call(fn, args, what=what, hint=_missing_stride if stride else None), what)
                expected = np.asarray(kind(size, strides=step)(x[np.newaxis]))[0]
                if got.shape != expected.shape:
                    hint = _pool_shape_hint(got.shape, x, size, step, default=stride is None)
                    t.fail(_("{what}: output shape").format(what=what), expected.shape, got.shape, hint)
                t.close(
                    _("{what}: values").format(what=what),
                    got,
                    expected,
                    _pool_hint(got, x, size, mode, step),
                    atol=1e-5,
                )


def drill(out_size, n_params, pooled_size):
    """Task 6: a 64×64×3 input, 32 filters of 5×5, padding 2, stride 2; then 2×2 max pooling."""
    n, c, m, k, p, s = 64, 3, 32, 5, 2, 2
    size = (n + 2 * p - k) // s + 1
    with Task(6, _("exam drill")) as t:
        for value, name in [(out_size, "out_size"), (n_params, "n_params"), (pooled_size, "pooled_size")]:
            t.value(value, name, (int, np.integer))
        t.equal("out_size", out_size, size, _size_hint(out_size, n, k, p, s))
        hints = {
            k * k * c * m: _("add the {filters} biases").format(filters=m),
            k * k * m + m: _("each kernel spans the {channels} input channels").format(channels=c),
            k * k * c * m + c: _("one bias per filter: {filters}, not {channels}").format(filters=m, channels=c),
            k * c * m + m: _("each filter is 5×5: 25 weights per input channel"),
        }
        formula = "K·K·C_in·C_out + C_out"  # not a message
        t.equal("n_params", n_params, k * k * c * m + m, hints.get(n_params, formula))
        hints = {
            size - 1: _("2×2 pooling with stride 2: windows do not overlap"),
            size: _("the pooling halves the side"),
            size // 4: _("one 2×2 pooling with stride 2 halves the side once"),
        }
        t.equal(
            "pooled_size",
            pooled_size,
            size // 2,
            hints.get(pooled_size, _("2×2 pooling with stride 2 halves the side")),
        )


def _field_by_intervals(stack):
    """The input rows one output pixel depends on, followed back through the layers: their count."""
    low, high = 0, 0
    for k, s in reversed(stack):
        low, high = low * s, high * s + k - 1
    return high - low + 1


def _jumps(stack, which):
    out, product = [], 1
    for _k, s in stack:
        out.append(product * (s if which == "with_own" else 1))
        product *= s
    return out


FIELD_SLIPS = [  # (the receptive field a mistake gives, its hint)
    (
        lambda st: 1 + sum(k - 1 for k, s in st),
        N_("a stride spreads the later layers' windows: multiply by the strides"),
    ),
    (
        lambda st: 1 + sum((k - 1) * j for (k, s), j in zip(st, _jumps(st, "with_own"), strict=True)),
        N_("a layer's own stride does not widen its own window: use the product of the strides *below* it"),
    ),
    (
        lambda st: 1 + sum((k - 1) * int(np.prod([s for _k, s in st[i + 1 :]])) for i, (k, _s) in enumerate(st)),
        N_("the strides of the layers *below* (closer to the input) spread a layer's window, not those above"),
    ),
    (
        lambda st: sum(k * j for (k, s), j in zip(st, _jumps(st, ""), strict=True)),
        N_("each layer adds k − 1 (times the strides below), on top of the 1 pixel you start from"),
    ),
    (
        lambda st: sum((k - 1) * j for (k, s), j in zip(st, _jumps(st, ""), strict=True)),
        N_("start from 1: one output pixel of a 1×1 window sees 1 input pixel"),
    ),
    (
        lambda st: int(np.prod([k for k, _s in st])),
        N_("windows of stacked layers overlap: add (k − 1)·jump, not multiply"),
    ),
    (lambda st: sum(k for k, _s in st), N_("stacked windows overlap: each adds k − 1 times the strides below it")),
    (
        lambda st: 1 + sum((k - 1) * (1 + sum(s for _k, s in st[:i]) - i) for i, (k, _s) in enumerate(st)),
        N_("multiply the strides below a layer, do not add them"),
    ),
]

FIELD_CASES = [
    [(3, 1), (3, 1)],
    [(3, 1), (3, 1), (3, 1)],
    [(7, 2), (3, 2), (3, 1), (3, 1)],  # a ResNet stem (7×7/2 conv, 3×3/2 max pool) and two 3×3 convolutions
    [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)],  # VGG-like: conv, pool, conv, pool, conv
    [(5, 3), (3, 2), (1, 1), (3, 1)],
    [(2, 2), (2, 2), (2, 2)],
    [(1, 1)],
    [(3, 2), (5, 1)],
]


def receptive_field(fn):
    """Task 7: the receptive field of a stack of (k, s) layers, against following one pixel back through them."""
    with Task(7, "receptive_field") as t:
        t.function(fn, "receptive_field")
        answers = []
        for stack in FIELD_CASES:
            what = f"receptive_field({stack})"
            got = t.call(fn, ([tuple(layer) for layer in stack],), what=what)
            t.expect(
                is_whole_number(got),
                _("{what} should be an int").format(what=what),
                _("an int"),
                got,
                _("a count of input pixels"),
            )
            answers.append((stack, got))
        every = [_(h) for slip, h in FIELD_SLIPS if all(slip(st) == got for st, got in answers)]
        for stack, got in answers:
            right = _field_by_intervals(stack)
            if got != right:
                this = [_(h) for slip, h in FIELD_SLIPS if slip(stack) == got]
                fallback = _("r = 1 + Σ (kᵢ − 1) · (product of the strides of the layers below layer i)")
                hint = (every + this + [fallback])[0]
                t.fail(f"receptive_field({stack})", right, got, hint)
            t.passed += 1

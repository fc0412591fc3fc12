"""Unit 01's checks reject the stub and typical wrong answers, each for its own reason, and accept correct ones."""

import math

import keras
import numpy as np
import pytest

from cnn_course.checks import convolution as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("01_convolution")


# -- Task 1 · conv2d ----------------------------------------------------------------------------
def conv_with(
    flip=False, transpose=False, bias_times=1, pads=None, first_channel=False, step=None, size=None, per_channel=False
):
    """A loop convolution with one of the usual mistakes switched on."""

    def answer(x, kernels, bias, padding=0, stride=1):
        K = kernels.shape[0]
        k = kernels[::-1, ::-1] if flip else kernels.transpose(1, 0, 2, 3) if transpose else kernels
        x = np.pad(x, pads(padding) if pads else ((padding, padding), (padding, padding), (0, 0)))
        if first_channel:
            x, k = x[..., :1], k[:, :, :1]
        side = size or (lambda n: (n - K) // stride + 1)
        out_h, out_w = side(x.shape[0]), side(x.shape[1])
        move = step or stride
        out = np.zeros((out_h, out_w, kernels.shape[-1] * (x.shape[-1] if per_channel else 1)))
        for i in range(out_h):
            for j in range(out_w):
                window = x[i * move : i * move + K, j * move : j * move + K, :]
                if per_channel:
                    out[i, j] = np.einsum("ijc,ijcm->cm", window, k).ravel()
                else:
                    out[i, j] = np.tensordot(window, k, axes=3) + bias_times * bias
        return out

    return answer


def channels_first(x, kernels, bias, padding=0, stride=1):
    return np.moveaxis(SOLUTION["conv2d"](x, kernels, bias, padding, stride), -1, 0)


CONV_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda *a, **k: None, "returned None"),
    "kernel flipped (true convolution)": (conv_with(flip=True), "do not flip the kernel"),
    "kernel rows and columns swapped": (conv_with(transpose=True), "do not swap the kernel's rows and columns"),
    "no bias": (conv_with(bias_times=0), "add the bias"),
    "bias added once per input channel": (conv_with(bias_times=3), "not once per input channel"),
    "2p on one side": (conv_with(pads=lambda p: ((2 * p, 0), (2 * p, 0), (0, 0))), "not 2p on one side"),
    "p on one side only": (conv_with(pads=lambda p: ((p, 0), (p, 0), (0, 0))), "output shape", "n + 2p"),
    "first input channel only": (conv_with(first_channel=True), "all input channels"),
    "channels not summed (M·C outputs)": (conv_with(per_channel=True), "not M·C"),
    "stride ignored when moving the window": (conv_with(step=1), "step the window by the stride"),
    "one output too many (ceil)": (conv_with(size=lambda n: -(-(n - 3) // 2) + 1), "raised", "pad both sides"),
    "channels first": (channels_first, "channels last"),
}


@pytest.mark.parametrize("mistake", list(CONV_MISTAKES))
def test_conv2d_rejects(mistake):
    answer, *fragments = CONV_MISTAKES[mistake]
    rejects(check.conv2d, answer, "Task 1", *fragments)


def with_einsum(x, kernels, bias, padding=0, stride=1):
    K = kernels.shape[0]
    x = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(x, (K, K), axis=(0, 1))[::stride, ::stride]
    return np.einsum("hwcij,ijcm->hwm", windows, kernels) + bias


def by_kernel_offsets(x, kernels, bias, pad=0, step=1):  # a sum over the K×K shifts, other argument names
    K, H, W = kernels.shape[0], x.shape[0] + 2 * pad, x.shape[1] + 2 * pad
    x = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    out_h, out_w = (H - K) // step + 1, (W - K) // step + 1
    out = np.zeros((out_h, out_w, kernels.shape[-1])) + bias
    for i in range(K):
        for j in range(K):
            out += x[i : i + step * (out_h - 1) + 1 : step, j : j + step * (out_w - 1) + 1 : step] @ kernels[i, j]
    return out


def with_keras_ops(x, kernels, bias, padding=0, stride=1):
    padded = keras.ops.pad(x[None], ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    return keras.ops.convert_to_numpy(keras.ops.conv(padded, kernels, strides=stride)[0] + bias)


def test_conv2d_accepts_correct_answers(capsys):
    for answer in [SOLUTION["conv2d"], with_einsum, by_kernel_offsets, with_keras_ops]:
        accepts(check.conv2d, answer, capsys)


# -- Task 2 · output_size -----------------------------------------------------------------------------
SIZE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "no floor (a float)": (lambda n, k, p, s: (n + 2 * p - k) / s + 1, "should be an int"),
    "floor as a float": (lambda n, k, p, s: math.floor((n + 2 * p - k) / s) + 1.0, "should be an int"),
    "padding once": (lambda n, k, p, s: (n + p - k) // s + 1, "n + 2p"),
    "padding forgotten": (lambda n, k, p, s: (n - k) // s + 1, "pad the input first"),
    "forgets + 1": (lambda n, k, p, s: (n + 2 * p - k) // s, "add 1"),
    "rounds up": (lambda n, k, p, s: math.ceil((n + 2 * p - k) / s) + 1, "round down: a window"),
    "rounds to nearest": (lambda n, k, p, s: round((n + 2 * p - k) / s) + 1, "not to the nearest"),
    "split floor (n // s first)": (lambda n, k, p, s: n // s + (2 * p - k) // s + 1, "floor once, after adding"),
    "split floor (k // s apart)": (lambda n, k, p, s: (n + 2 * p) // s - k // s + 1, "floor once, after subtracting"),
    "stride ignored": (lambda n, k, p, s: n + 2 * p - k + 1, "divide by the stride"),
    "a string": (lambda n, k, p, s: str((n + 2 * p - k) // s + 1), "should be an int"),
}


@pytest.mark.parametrize("mistake", list(SIZE_MISTAKES))
def test_output_size_rejects(mistake):
    answer, *fragments = SIZE_MISTAKES[mistake]
    rejects(check.output_size, answer, "Task 2", *fragments)


def test_output_size_accepts_correct_answers(capsys):
    for answer in [
        SOLUTION["output_size"],
        lambda n, k, p, s: math.floor((n + 2 * p - k) / s) + 1,
        lambda size, kernel, padding, stride: np.int64((size + 2 * padding - kernel) // stride + 1),
        lambda n, k, p, s: len(range(0, n + 2 * p - k + 1, s)),  # the window's start positions, counted
        lambda n, k, p=0, s=1: int(np.floor((n - k + 2 * p) / s)) + 1,
    ]:
        accepts(check.output_size, answer, capsys)


# -- Task 2 · parameter counts (with output_size) ----------------------------------------------------------------
PARAM_MISTAKES = {
    "conv_params": {
        "stub": (stub, "not written yet"),
        "returns None": (lambda k, c_in, c_out: None, "returned None"),
        "no bias": (lambda k, c_in, c_out: k * k * c_in * c_out, "also has a bias"),
        "one bias in all": (lambda k, c_in, c_out: k * k * c_in * c_out + 1, "not one in all"),
        "a bias per input channel": (lambda k, c_in, c_out: k * k * c_in * c_out + c_in, "not per input channel"),
        "channels added": (lambda k, c_in, c_out: k * k * (c_in + c_out) + c_out, "multiply"),
        "a bias counted as a channel": (lambda k, c_in, c_out: (k * k * c_in + 1) * (c_out + 1), "plus c_out biases"),
        "k instead of k²": (lambda k, c_in, c_out: k * c_in * c_out + c_out, "K·K weights"),
        "forgets c_in": (lambda k, c_in, c_out: k * k * c_out + c_out, "spans all c_in"),
        "a float": (lambda k, c_in, c_out: float(k * k * c_in * c_out + c_out), "should be an int"),
    },
    "dense_params": {
        "stub": (stub, "not written yet"),
        "returns None": (lambda n_in, n_out: None, "returned None"),
        "no bias": (lambda n_in, n_out: n_in * n_out, "also has a bias"),
        "one bias in all": (lambda n_in, n_out: n_in * n_out + 1, "not one in all"),
        "a bias per input": (lambda n_in, n_out: n_in * n_out + n_in, "not per input"),
        "a bias counted as a unit": (lambda n_in, n_out: (n_in + 1) * (n_out + 1), "plus n_out biases"),
        "adds instead of multiplying": (lambda n_in, n_out: n_in + n_out, "multiply"),
        "a float": (lambda n_in, n_out: n_in * n_out + n_out + 0.0, "should be an int"),
        "a string": (lambda n_in, n_out: f"{n_in * n_out + n_out}", "should be an int"),
        "a bool": (lambda n_in, n_out: True, "should be an int"),
    },
}


@pytest.mark.parametrize("task, mistake", [(t, m) for t, ms in PARAM_MISTAKES.items() for m in ms])
def test_parameter_checks_reject(task, mistake):
    answer, fragment = PARAM_MISTAKES[task][mistake]
    rejects(getattr(check, task), answer, fragment)


def conv_layer_count(k, c_in, c_out):
    layer = keras.layers.Conv2D(c_out, k)
    layer.build((None, None, None, c_in))
    return layer.count_params()


def test_parameter_checks_accept_correct_answers(capsys):
    for answer in [
        SOLUTION["conv_params"],
        lambda k, c_in, c_out: (k**2 * c_in + 1) * c_out,
        lambda kernel, channels_in, channels_out: np.int64(kernel * kernel * channels_in * channels_out + channels_out),
        conv_layer_count,
    ]:
        accepts(check.conv_params, answer, capsys)
    for answer in [
        SOLUTION["dense_params"],
        lambda n_in, n_out: (n_in + 1) * n_out,
        lambda inputs, units: int(np.prod([inputs, units]) + units),
        lambda n_in, n_out, bias=True: n_out * (n_in + bias),
    ]:
        accepts(check.dense_params, answer, capsys)


# -- Task 3 · im2col ------------------------------------------------------------------------------
def im2col_with(
    order="hwc", rows_first="i", pads=None, step=None, transpose=False, keep_3d=False, flip=False, size=None
):
    """A loop im2col with one of the usual mistakes switched on."""

    def answer(x, K, padding=0, stride=1):
        x = np.pad(x, pads(padding) if pads else ((padding, padding), (padding, padding), (0, 0)))
        side = size or (lambda n: (n - K) // stride + 1)
        oh, ow = side(x.shape[0]), side(x.shape[1])
        move = step or stride
        rows = []
        positions = [(i, j) for i in range(oh) for j in range(ow)]
        if rows_first == "j":
            positions = [(i, j) for j in range(ow) for i in range(oh)]
        for i, j in positions:
            window = x[i * move : i * move + K, j * move : j * move + K]
            if flip:
                window = window[::-1, ::-1]
            window = {"hwc": window, "chw": window.transpose(2, 0, 1), "whc": window.transpose(1, 0, 2)}[order]
            rows.append(window.reshape(-1))
        out = np.array(rows)
        if keep_3d:
            return out.reshape(oh, ow, -1)
        return out.T if transpose else out

    return answer


IM2COL_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda x, K, padding=0, stride=1: None, "returned None"),
    "windows flattened channels first": (im2col_with(order="chw"), "Conv2D", "(row, column, channel)"),
    "windows flattened column by column": (im2col_with(order="whc"), "Conv2D", "not column by column"),
    "positions taken column by column": (im2col_with(rows_first="j"), "Conv2D", "go along an output row first"),
    "2p zeros on one side": (im2col_with(pads=lambda p: ((2 * p, 0), (2 * p, 0), (0, 0))), "not 2p on one side"),
    "padding forgotten": (im2col_with(pads=lambda p: ((0, 0), (0, 0), (0, 0))), "shape", "pad"),
    "stride ignored when moving the window": (im2col_with(step=1), "step the window by the stride"),
    "transposed matrix (K·K·C, H'·W')": (im2col_with(transpose=True), "transpose your matrix"),
    "three axes (H', W', K·K·C)": (im2col_with(keep_3d=True), "reshape to two axes"),
    "windows flipped": (im2col_with(flip=True), "no flipping"),
    "channels padded too": (im2col_with(pads=lambda p: ((p, p), (p, p), (p, p))), "shape"),
    "one position too many (ceil)": (im2col_with(size=lambda n: -(-(n - 3) // 2) + 1), "Task 3"),
}


@pytest.mark.parametrize("mistake", list(IM2COL_MISTAKES))
def test_im2col_rejects(mistake):
    answer, *fragments = IM2COL_MISTAKES[mistake]
    rejects(check.im2col, answer, "Task 3", *fragments)


def im2col_sliding(x, K, padding=0, stride=1):
    x = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(x, (K, K), axis=(0, 1))[::stride, ::stride]
    return windows.transpose(0, 1, 3, 4, 2).reshape(windows.shape[0] * windows.shape[1], -1)


def im2col_keras_ops(image, kernel_size, pad=0, step=1):  # other argument names, keras.ops
    padded = keras.ops.pad(image[None], ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    patches = keras.ops.image.extract_patches(padded, kernel_size, strides=step, padding="valid")[0]
    return keras.ops.convert_to_numpy(keras.ops.reshape(patches, (-1, patches.shape[-1])))


def im2col_by_offsets(x, K, padding=0, stride=1):  # one column block per kernel offset (a, b)
    x = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    oh, ow, C = (x.shape[0] - K) // stride + 1, (x.shape[1] - K) // stride + 1, x.shape[2]
    out = np.zeros((oh * ow, K, K, C), dtype=x.dtype)
    for a in range(K):
        for b in range(K):
            out[:, a, b] = x[a : a + stride * (oh - 1) + 1 : stride, b : b + stride * (ow - 1) + 1 : stride].reshape(
                -1, C
            )
    return out.reshape(oh * ow, -1)


def test_im2col_accepts_correct_answers(capsys):
    for answer in [SOLUTION["im2col"], im2col_with(), im2col_sliding, im2col_keras_ops, im2col_by_offsets]:
        accepts(check.im2col, answer, capsys)


# -- Task 4 · padding_for ------------------------------------------------------------------------
def search_from(first):
    def answer(n, k, s, target):
        p = first
        while (n + 2 * p - k) // s + 1 < target:
            p += 1
        return p if (n + 2 * p - k) // s + 1 == target else None

    return answer


def largest(n, k, s, target):
    found = [p for p in range(0, 200) if n + 2 * p >= k and (n + 2 * p - k) // s + 1 == target]
    return found[-1] if found else None


PADDING_MISTAKES = {
    "stub": (stub, "not written yet"),
    "always (k − 1) // 2": (lambda n, k, s, target: (k - 1) // 2, "padding_for(n=28, k=4", "return None"),
    "closed form as a float": (lambda n, k, s, target: ((target - 1) * s + k - n) / 2, "should be an int"),
    "closed form, floored, never None": (
        lambda n, k, s, target: ((target - 1) * s + k - n) // 2,
        "k=4",
        "None",
        "when no p ≥ 0 works",
    ),
    "closed form, negative allowed": (
        lambda n, k, s, target: (lambda p: p if ((n + 2 * p - k) // s + 1 == target) else None)(
            -(-((target - 1) * s + k - n) // 2)
        ),
        "target=20",
        "negative padding",
    ),
    "largest padding": (largest, "padding_for(n=11, k=3, s=3, target=5)", "the smallest padding"),
    "padding on one side only": (lambda n, k, s, target: (target - 1) * s + k - n, "n + 2p"),
    "0 instead of None": (lambda n, k, s, target: search_from(0)(n, k, s, target) or 0, "k=4", "return None"),
    "search from p = 1": (search_from(1), "padding_for(n=12, k=1, s=3, target=4)", "search from p = 0"),
    "the output size instead of the padding": (lambda n, k, s, target: target, "padding_for(n=28, k=3"),
    "k − 1 (the total padding of 'same')": (lambda n, k, s, target: k - 1, "padding_for(n=28, k=3, s=1, target=28)"),
    "a string": (lambda n, k, s, target: "1", "should be an int"),
    "raises for the impossible cases": (
        lambda n, k, s, target: SOLUTION["padding_for"](n, k, s, target) // 1,
        "raised TypeError",
    ),
}


@pytest.mark.parametrize("mistake", list(PADDING_MISTAKES))
def test_padding_for_rejects(mistake):
    answer, *fragments = PADDING_MISTAKES[mistake]
    rejects(check.padding_for, answer, "Task 4", *fragments)


def padding_closed_form(n, k, s, target):  # solve for p, round up, then confirm
    p = max(0, -(-((target - 1) * s + k - n) // 2), -(-(k - n) // 2))
    return p if (n + 2 * p - k) // s + 1 == target else None


def padding_numpy(size, kernel, stride, wanted):
    p = np.arange(0, size + kernel + wanted * stride)
    sizes = np.where(size + 2 * p >= kernel, (size + 2 * p - kernel) // stride + 1, 0)
    hits = np.flatnonzero(sizes == wanted)
    return int(p[hits[0]]) if hits.size else None


def padding_by_range(n, k, s, target):
    for p in range(max(0, k - n), k + (target + 1) * s):
        if (n + 2 * p - k) // s + 1 == target and n + 2 * p >= k:
            return np.int64(p)
    return None


def test_padding_for_accepts_correct_answers(capsys):
    for answer in [SOLUTION["padding_for"], padding_closed_form, padding_numpy, padding_by_range, search_from(0)]:
        accepts(check.padding_for, answer, capsys)


# -- Task 5 · pool2d ----------------------------------------------------------------------------------
def pool_with(
    stride_one=False,
    across_channels=False,
    keep_partial=False,
    reduce=None,
    start=None,
    mixed=False,
    step_is_size=False,
    window_is_stride=False,
):
    def answer(x, size, mode="max", stride=None):
        H, W, C = x.shape
        stride = stride or size
        if window_is_stride:
            size = stride
        step = 1 if stride_one else size if step_is_size else stride
        last = 1 if keep_partial else size
        if mixed:  # windows taken from the wrong reshape
            x = x[: H // size * size, : W // size * size].reshape(H // size, W // size, size, size, C)
            return x.max(axis=(2, 3)) if mode == "max" else x.mean(axis=(2, 3))
        rows, cols = range(0, H - last + 1, step), range(0, W - last + 1, step)
        out = np.empty((len(rows), len(cols), C))
        for a, i in enumerate(rows):
            for b, j in enumerate(cols):
                window = x[i : i + size, j : j + size]
                axes = None if across_channels else (0, 1)
                if reduce:
                    out[a, b] = reduce(window, mode)
                elif start is not None and mode == "max":
                    out[a, b] = np.maximum(start, window.max(axis=(0, 1)))
                else:
                    out[a, b] = window.max(axis=axes) if mode == "max" else window.mean(axis=axes)
        return out

    return answer


def old_pool2d(x, size, mode="max"):  # the earlier task's answer: no stride
    return pool_with()(x, size, mode)


POOL_MISTAKES = {
    "stub": (stub, "not written yet"),
    "overlapping windows (stride 1)": (pool_with(stride_one=True), "stride=None means stride = size"),
    "partial windows kept": (pool_with(keep_partial=True), "does not fit is dropped"),
    "pools across channels": (pool_with(across_channels=True), "channels stay apart"),
    "mean for max": (pool_with(reduce=lambda w, mode: w.mean(axis=(0, 1))), "takes the maximum"),
    "max for average": (pool_with(reduce=lambda w, mode: w.max(axis=(0, 1))), "takes the mean"),
    "max of |x|": (pool_with(reduce=lambda w, mode: np.abs(w).max(axis=(0, 1))), "not of their absolute values"),
    "max initialised at 0": (pool_with(start=0.0), "not 0"),
    "sum for average": (
        pool_with(reduce=lambda w, mode: w.max(axis=(0, 1)) if mode == "max" else w.sum(axis=(0, 1))),
        "divides the window's sum",
    ),
    "windows from the wrong reshape": (pool_with(mixed=True), "reshape to (H // size, size, W // size, size, C)"),
    "channels dropped": (
        lambda x, size, mode="max", stride=None: SOLUTION["pool2d"](x, size, mode, stride)[..., 0],
        "output shape",
        "channels stay apart",
    ),
    "returns None": (lambda x, size, mode="max", stride=None: None, "returned None"),
    "no stride parameter (the old task's answer)": (old_pool2d, "stride=2", "fourth parameter `stride=None`"),
    "stride ignored (window moves by size)": (pool_with(step_is_size=True), "stride=2", "not by `size`"),
    "stride used as the window size": (pool_with(window_is_stride=True), "stride=2", "only its step"),
    "stride None not handled": (
        lambda x, size, mode="max", stride=None: (
            SOLUTION["pool2d"](x, size, mode, stride) if stride else SOLUTION["pool2d"](x, size, mode, 1)
        ),
        "size=2, mode='max')",
        "stride=None means stride = size",
    ),
}


@pytest.mark.parametrize("mistake", list(POOL_MISTAKES))
def test_pool2d_rejects(mistake):
    answer, *fragments = POOL_MISTAKES[mistake]
    rejects(check.pool2d, answer, "Task 5", *fragments)


def pool_keras_ops(x, size, mode="max", stride=None):
    pool = keras.ops.max_pool if mode == "max" else keras.ops.average_pool
    return keras.ops.convert_to_numpy(pool(x[None], size, stride or size)[0])


def pool_strided_slices(x, pool_size, mode="max", step=None):  # the pool_size² shifted grids, combined
    step = step or pool_size
    rows, cols = (x.shape[0] - pool_size) // step + 1, (x.shape[1] - pool_size) // step + 1
    grids = [
        x[i : i + step * (rows - 1) + 1 : step, j : j + step * (cols - 1) + 1 : step]
        for i in range(pool_size)
        for j in range(pool_size)
    ]
    return np.max(grids, axis=0) if mode == "max" else np.mean(grids, axis=0)


def pool_sliding_windows(x, size, mode="max", stride=None):
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(0, 1))[
        :: stride or size, :: stride or size
    ]
    return windows.max(axis=(-2, -1)) if mode == "max" else windows.mean(axis=(-2, -1))


def test_pool2d_accepts_correct_answers(capsys):
    for answer in [SOLUTION["pool2d"], pool_with(), pool_keras_ops, pool_strided_slices, pool_sliding_windows]:
        accepts(check.pool2d, answer, capsys)


# -- Task 6 · the exam drill -------------------------------------------------------------------------
DRILL_MISTAKES = {
    "nothing set": ((None, None, None), "still None"),
    "a float": ((32.0, 2432, 16), "wrong type"),
    "rounded up": ((33, 2432, 16), "round down"),
    "padding forgotten": ((30, 2432, 16), "pad the input first"),
    "padding once": ((31, 2432, 16), "n + 2p"),
    "stride ignored": ((64, 2432, 16), "divide by the stride"),
    "no biases": ((32, 2400, 16), "add the 32 biases"),
    "ignores input channels": ((32, 832, 16), "spans the 3 input channels"),
    "a bias per input channel": ((32, 2403, 16), "one bias per filter"),
    "5 weights per channel": ((32, 512, 16), "25 weights per input channel"),
    "pooling with stride 1": ((32, 2432, 31), "windows do not overlap"),
    "pooling not applied": ((32, 2432, 32), "halves the side"),
    "pooling applied twice": ((32, 2432, 8), "halves the side once"),
}


@pytest.mark.parametrize("mistake", list(DRILL_MISTAKES))
def test_drill_rejects(mistake):
    values, fragment = DRILL_MISTAKES[mistake]
    rejects(lambda v: check.drill(*v), values, "Task 6", fragment)


def test_drill_accepts_correct_answers(capsys):
    for values in [
        (SOLUTION["out_size"], SOLUTION["n_params"], SOLUTION["pooled_size"]),
        (np.int64(32), 2432, 16),
        ((64 + 4 - 5) // 2 + 1, (5 * 5 * 3 + 1) * 32, 32 // 2),
        (SOLUTION["output_size"](64, 5, 2, 2), SOLUTION["conv_params"](5, 3, 32), SOLUTION["output_size"](32, 2, 0, 2)),
    ]:
        accepts(lambda v: check.drill(*v), values, capsys)


# -- Task 7 · receptive_field -------------------------------------------------------------------
def field_with(jump_of=lambda strides_below, own: strides_below, grow=lambda k: k - 1, start=1):
    """r = start + Σ grow(kᵢ) · jumpᵢ, the jump computed from the strides below (and the layer's own)."""

    def answer(stack):
        r, below = start, 1
        for k, s in stack:
            r += grow(k) * jump_of(below, s)
            below *= s
        return r

    return answer


def strides_above(stack):
    return 1 + sum((k - 1) * int(np.prod([s for _, s in stack[i + 1 :]])) for i, (k, _) in enumerate(stack))


FIELD_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda stack: None, "returned None"),
    "strides ignored": (field_with(jump_of=lambda below, own: 1), "multiply by the strides"),
    "own stride included": (field_with(jump_of=lambda below, own: below * own), "own stride does not widen"),
    "strides of the layers above": (strides_above, "not those above"),
    "k instead of k − 1, no start": (field_with(grow=lambda k: k, start=0), "on top of the 1 pixel"),
    "forgets the 1 to start from": (field_with(start=0), "start from 1"),
    "product of the kernel sizes": (lambda stack: int(np.prod([k for k, _ in stack])), "not multiply"),
    "sum of the kernel sizes": (lambda stack: sum(k for k, _ in stack), "each adds k − 1"),
    "strides added": (
        lambda stack: 1 + sum((k - 1) * (1 + sum(s for _, s in stack[:i]) - i) for i, (k, _) in enumerate(stack)),
        "do not add them",
    ),
    "a float": (lambda stack: float(SOLUTION["receptive_field"](stack)), "should be an int"),
    "only the last layer": (lambda stack: stack[-1][0], "receptive_field("),
    "the output size of a 28-pixel input instead": (
        lambda stack: 28 - sum(k - 1 for k, _ in stack),
        "receptive_field(",
    ),
}


@pytest.mark.parametrize("mistake", list(FIELD_MISTAKES))
def test_receptive_field_rejects(mistake):
    answer, *fragments = FIELD_MISTAKES[mistake]
    rejects(check.receptive_field, answer, "Task 7", *fragments)


def field_by_probe(stack):  # the nonzero gradient of one output pixel, measured with Keras on a 1-D signal
    import tensorflow as tf

    n = sum(k for k, _ in stack) * int(np.prod([s for _, s in stack])) + 1
    x = tf.Variable(np.ones((1, n, 1), "float32"))
    with tf.GradientTape() as tape:
        y = x
        for k, s in stack:
            y = keras.ops.conv(y, np.ones((k, 1, 1), "float32"), strides=s)
        picked = y[0, 0, 0]
    return int(np.count_nonzero(tape.gradient(picked, x).numpy()))


def field_recursive(layers_):  # from the top: the field of the rest, mapped through the first layer
    if not layers_:
        return 1
    (k, s), rest = layers_[0], layers_[1:]
    return s * (field_recursive(rest) - 1) + k


def field_closed_form(stack):
    jumps = np.cumprod([1] + [s for _, s in stack[:-1]])
    return np.int64(1 + sum((k - 1) * j for (k, _), j in zip(stack, jumps, strict=True)))


def test_receptive_field_accepts_correct_answers(capsys):
    for answer in [SOLUTION["receptive_field"], field_with(), field_by_probe, field_recursive, field_closed_form]:
        accepts(check.receptive_field, answer, capsys)

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


# -- Tasks 3 and 4 · parameter counts ----------------------------------------------------------------
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


# -- Task 5 · pool2d ----------------------------------------------------------------------------------
def pool_with(stride_one=False, across_channels=False, keep_partial=False, reduce=None, start=None, mixed=False):
    def answer(x, size, mode="max"):
        H, W, C = x.shape
        step = 1 if stride_one else size
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


POOL_MISTAKES = {
    "stub": (stub, "not written yet"),
    "overlapping windows (stride 1)": (pool_with(stride_one=True), "windows do not overlap"),
    "partial windows kept": (pool_with(keep_partial=True), "do not fill one are dropped"),
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
    "channels dropped": (lambda x, size, mode="max": SOLUTION["pool2d"](x, size, mode)[..., 0], "output shape"),
    "returns None": (lambda x, size, mode="max": None, "returned None"),
}


@pytest.mark.parametrize("mistake", list(POOL_MISTAKES))
def test_pool2d_rejects(mistake):
    answer, *fragments = POOL_MISTAKES[mistake]
    rejects(check.pool2d, answer, "Task 5", *fragments)


def pool_keras_ops(x, size, mode="max"):
    pool = keras.ops.max_pool if mode == "max" else keras.ops.average_pool
    return keras.ops.convert_to_numpy(pool(x[None], size, size)[0])


def pool_strided_slices(x, pool_size, mode="max"):  # the size² shifted grids, combined
    H, W = x.shape[0] // pool_size * pool_size, x.shape[1] // pool_size * pool_size
    grids = [x[i:H:pool_size, j:W:pool_size] for i in range(pool_size) for j in range(pool_size)]
    return np.max(grids, axis=0) if mode == "max" else np.mean(grids, axis=0)


def test_pool2d_accepts_correct_answers(capsys):
    for answer in [SOLUTION["pool2d"], pool_with(), pool_keras_ops, pool_strided_slices]:
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

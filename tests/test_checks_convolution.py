"""Unit 01's checks reject the stub and typical wrong answers and accept correct ones."""

import numpy as np
import pytest

from cnn_course.checks import CheckFailed
from cnn_course.checks import convolution as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("01_convolution")


def conv_with(flip=False, use_bias=True, one_side=False, first_channel=False, size=lambda n, k, s: (n - k) // s + 1):
    def answer(x, kernels, bias, padding=0, stride=1):
        K = kernels.shape[0]
        k = kernels[::-1, ::-1] if flip else kernels
        pads = (
            ((2 * padding, 0), (2 * padding, 0), (0, 0))
            if one_side
            else ((padding, padding), (padding, padding), (0, 0))
        )
        x = np.pad(x, pads)
        if first_channel:
            x, k = x[..., :1], k[:, :, :1]
        out_h, out_w = size(x.shape[0], K, stride), size(x.shape[1], K, stride)
        out = np.zeros((out_h, out_w, kernels.shape[-1]))
        for i in range(out_h):
            for j in range(out_w):
                window = x[i * stride : i * stride + K, j * stride : j * stride + K, :]
                out[i, j] = np.tensordot(window, k, axes=3) + (bias if use_bias else 0)
        return out

    return answer


CONV_MISTAKES = {
    "stub": (stub, "not written yet"),
    "kernel flipped (true convolution)": (conv_with(flip=True), "do not flip the kernel"),
    "no bias": (conv_with(use_bias=False), "add the bias"),
    "padding on one side only": (conv_with(one_side=True), "every side"),
    "first input channel only": (conv_with(first_channel=True), "all input channels"),
    "one output too many (ceil)": (conv_with(size=lambda n, k, s: -(-(n - k) // s) + 1), "⌊(n + 2p − k)/s⌋ + 1"),
    "returns None": (lambda *a, **k: None, "returned None"),
}


@pytest.mark.parametrize("mistake", list(CONV_MISTAKES))
def test_conv2d_rejects(mistake):
    answer, fragment = CONV_MISTAKES[mistake]
    rejects(check.conv2d, answer, "Task 1", fragment)


def test_conv2d_accepts_correct_answers(capsys):
    accepts(check.conv2d, SOLUTION["conv2d"], capsys)

    def with_einsum(x, kernels, bias, padding=0, stride=1):
        K, M = kernels.shape[0], kernels.shape[-1]
        x = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
        windows = np.lib.stride_tricks.sliding_window_view(x, (K, K), axis=(0, 1))[
            ::stride, ::stride
        ]  # H', W', C, K, K
        return np.einsum("hwcij,ijcm->hwm", windows, kernels) + bias.reshape(1, 1, M)

    accepts(check.conv2d, with_einsum, capsys)


SIZE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "no floor": (lambda n, k, p, s: (n + 2 * p - k) / s + 1, "should be an int"),
    "padding once": (lambda n, k, p, s: (n + p - k) // s + 1, "n + 2p"),
    "forgets + 1": (lambda n, k, p, s: (n + 2 * p - k) // s, "add 1"),
    "rounds up": (lambda n, k, p, s: -(-(n + 2 * p - k) // s) + 1, "⌊(n + 2p − k)/s⌋ + 1"),
}


@pytest.mark.parametrize("mistake", list(SIZE_MISTAKES))
def test_output_size_rejects(mistake):
    answer, fragment = SIZE_MISTAKES[mistake]
    rejects(check.output_size, answer, "Task 2", fragment)


PARAM_MISTAKES = {
    "conv_params": {
        "stub": (stub, "not written yet"),
        "no bias": (lambda k, c_in, c_out: k * k * c_in * c_out, "also has a bias"),
        "k instead of k²": (lambda k, c_in, c_out: k * c_in * c_out + c_out, "K·K weights"),
        "forgets c_in": (lambda k, c_in, c_out: k * k * c_out + c_out, "spans all C_in"),
        "a float": (lambda k, c_in, c_out: float(k * k * c_in * c_out + c_out), "should be an int"),
    },
    "dense_params": {
        "stub": (stub, "not written yet"),
        "no bias": (lambda n_in, n_out: n_in * n_out, "also has a bias"),
        "adds instead of multiplying": (lambda n_in, n_out: n_in + n_out, "multiply"),
    },
}


@pytest.mark.parametrize("task, mistake", [(t, m) for t, ms in PARAM_MISTAKES.items() for m in ms])
def test_parameter_checks_reject(task, mistake):
    answer, fragment = PARAM_MISTAKES[task][mistake]
    rejects(getattr(check, task), answer, fragment)


def test_size_and_parameter_checks_accept_correct_answers(capsys):
    import math

    accepts(check.output_size, SOLUTION["output_size"], capsys)
    accepts(check.output_size, lambda n, k, p, s: math.floor((n + 2 * p - k) / s) + 1, capsys)
    accepts(check.conv_params, SOLUTION["conv_params"], capsys)
    accepts(check.conv_params, lambda k, c_in, c_out: (k**2 * c_in + 1) * c_out, capsys)
    accepts(check.dense_params, SOLUTION["dense_params"], capsys)
    accepts(check.dense_params, lambda n_in, n_out: (n_in + 1) * n_out, capsys)


def pool_with(stride_one=False, across_channels=False, pad_remainder=False, mean_for_max=False):
    def answer(x, size, mode="max"):
        H, W, C = x.shape
        step = 1 if stride_one else size
        if pad_remainder:
            x = np.pad(x, ((0, -H % size), (0, -W % size), (0, 0)), constant_values=-np.inf if mode == "max" else 0)
            H, W = x.shape[:2]
        rows = range(0, H - size + 1, step)
        cols = range(0, W - size + 1, step)
        reduce = np.mean if (mode == "average" or mean_for_max) else np.max
        out = np.empty((len(rows), len(cols), C))
        for a, i in enumerate(rows):
            for b, j in enumerate(cols):
                window = x[i : i + size, j : j + size]
                out[a, b] = reduce(window) if across_channels else reduce(window, axis=(0, 1))
        return out

    return answer


POOL_MISTAKES = {
    "stub": (stub, "not written yet"),
    "overlapping windows (stride 1)": (pool_with(stride_one=True), "windows do not overlap"),
    "pools across channels": (pool_with(across_channels=True), "channels stay apart"),
    "pads the remainder instead of dropping it": (pool_with(pad_remainder=True), "dropped"),
    "mean for max": (pool_with(mean_for_max=True), "values"),
}


@pytest.mark.parametrize("mistake", list(POOL_MISTAKES))
def test_pool2d_rejects(mistake):
    answer, fragment = POOL_MISTAKES[mistake]
    rejects(check.pool2d, answer, "Task 5", fragment)


def test_pool2d_accepts_correct_answers(capsys):
    accepts(check.pool2d, SOLUTION["pool2d"], capsys)
    accepts(check.pool2d, pool_with(), capsys)  # explicit loops


DRILL_MISTAKES = {
    "nothing set": ((None, None, None), "still None"),
    "rounded up": ((33, 2432, 16), "rounds down"),
    "no biases": ((32, 2400, 16), "add the 32 biases"),
    "ignores input channels": ((32, 832, 16), "n_params"),
    "pooling not halved": ((32, 2432, 32), "halves"),
    "a float": ((32.0, 2432, 16), "wrong type"),
}


@pytest.mark.parametrize("mistake", list(DRILL_MISTAKES))
def test_drill_rejects(mistake):
    values, fragment = DRILL_MISTAKES[mistake]
    with pytest.raises(CheckFailed, match="Task 6") as info:
        check.drill(*values)
    assert fragment in str(info.value)


def test_drill_accepts_correct_answers(capsys):
    check.drill(SOLUTION["out_size"], SOLUTION["n_params"], SOLUTION["pooled_size"])
    check.drill(np.int64(32), 2432, 16)
    assert capsys.readouterr().out.count("✓ Task 6") == 2

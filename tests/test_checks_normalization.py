"""Unit 10's checks reject the stub and typical wrong answers, each for its own reason, and accept correct ones."""

import keras
import numpy as np
import pytest

from cnn_course.checks import normalization as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("10_normalization")
BN, LN, IN = (0, 1, 2), (1, 2, 3), (1, 2)


def norm_with(axes, ddof=0, eps_inside=True, affine=True, swap=False, gamma_axis_first=False, **slips):
    """A normalisation over `axes` with one of the usual mistakes switched on."""

    def answer(x, gamma, beta, eps=1e-3):
        eps = slips.get("eps", eps)
        mean = x.mean(axis=axes, keepdims=slips.get("keepdims", True))
        var = x.var(axis=axes, keepdims=slips.get("keepdims", True), ddof=ddof)
        if slips.get("in_place"):
            x -= mean
            mean = 0
        normalised = (x - mean) / (np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps)
        if not affine:
            return normalised
        if swap:
            gamma, beta = beta, gamma
        if gamma_axis_first:
            gamma, beta = gamma[:, None, None], beta[:, None, None]
        return gamma * normalised + beta

    return answer


def common_mistakes(axes):
    return {
        "stub": (stub, "not written yet"),
        "sample variance": (norm_with(axes, ddof=1), "population variance"),
        "ε outside the square root": (norm_with(axes, eps_inside=False), "inside the square root"),
        "a fixed ε": (norm_with(axes, eps=1e-3), "use the `eps` argument"),
        "no γ and β": (norm_with(axes, affine=False), "apply γ and β"),
        "γ and β swapped": (norm_with(axes, swap=True), "γ multiplies"),
        "x changed in place": (norm_with(axes, in_place=True), "changed its arguments", "not in place"),
    }


MISTAKES = {
    "batch_norm": common_mistakes(BN)
    | {
        "returns None": (lambda x, g, b, eps=1e-3: None, "returned None"),
        "positions only (InstanceNorm's axes)": (norm_with(IN), "that is InstanceNorm"),
        "axis 0 only": (norm_with((0,)), "axes (N);"),
        "over every axis at once": (norm_with((0, 1, 2, 3)), "axes (N, H, W, C)"),
        "γ broadcast on the wrong axis": (norm_with(BN, gamma_axis_first=True), "broadcast over the last axis"),
        "returns a list of the first sample": (lambda x, g, b, e=1e-3: norm_with(BN)(x, g, b, e).tolist()[0], "shape"),
    },
    "layer_norm": common_mistakes(LN)
    | {
        "over C only (Keras's default axis)": (norm_with((3,)), "that is LayerNormalization()"),
        "over the batch too": (norm_with((0, 1, 2, 3)), "axes (N, H, W, C)"),
        "BatchNorm's axes": (norm_with(BN), "that is BatchNorm"),
        "no keepdims": (norm_with(LN, keepdims=False), "keepdims=True"),
    },
    "instance_norm": common_mistakes(IN)
    | {
        "BatchNorm's axes": (norm_with(BN), "that is BatchNorm"),
        "LayerNorm's axes": (norm_with(LN), "that is LayerNorm"),
        "over H only": (norm_with((1,)), "axes (H);"),
        "no keepdims": (norm_with(IN, keepdims=False), "keepdims=True"),
    },
}


@pytest.mark.parametrize("task, mistake", [(task, m) for task, ms in MISTAKES.items() for m in ms])
def test_normalisation_checks_reject(task, mistake):
    answer, *fragments = MISTAKES[task][mistake]
    rejects(getattr(check, task), answer, *fragments)


def moments_with_keras(axes):
    def answer(x, gamma, beta, eps=1e-3):
        mean, var = keras.ops.moments(x, axes=axes, keepdims=True)
        return keras.ops.convert_to_numpy(gamma * (x - mean) * keras.ops.rsqrt(var + eps) + beta)

    return answer


def explicit_sums(x, gamma, beta, eps=1e-3):  # BatchNorm without np.var and keepdims: reshape and sums by hand
    flat = x.reshape(-1, x.shape[-1]).astype("float64")
    mean = flat.sum(axis=0) / flat.shape[0]
    var = ((flat - mean) ** 2).sum(axis=0) / flat.shape[0]
    return (gamma * (flat - mean) / np.sqrt(var + eps) + beta).reshape(x.shape)


def per_sample_loop(x, gamma, beta, epsilon=1e-3):  # LayerNorm one sample at a time, another name for eps
    return np.stack([gamma * (s - s.mean()) / np.sqrt(s.var() + epsilon) + beta for s in x])


def channels_first(x, gamma, beta, eps=1e-3, verbose=False):  # InstanceNorm in NCHW, and a harmless extra argument
    y = np.transpose(x, (0, 3, 1, 2))
    y = (y - y.mean(axis=(2, 3), keepdims=True)) / np.sqrt(y.var(axis=(2, 3), keepdims=True) + eps)
    return np.transpose(y, (0, 2, 3, 1)) * gamma + beta


CORRECT = {
    "batch_norm": [
        explicit_sums,
        moments_with_keras([0, 1, 2]),
        lambda x, gamma, beta, eps=1e-3: gamma * (x - x.mean((0, 1, 2))) / np.sqrt(x.var((0, 1, 2)) + eps) + beta,
    ],
    "layer_norm": [
        per_sample_loop,
        moments_with_keras([1, 2, 3]),
        lambda x, g, b, eps=1e-3: SOLUTION["group_norm"](x, 1, g, b, eps),
    ],
    "instance_norm": [
        channels_first,
        moments_with_keras([1, 2]),
        lambda x, g, b, eps=1e-3: SOLUTION["group_norm"](x, x.shape[-1], g, b, eps),
    ],
}


@pytest.mark.parametrize("task", list(CORRECT))
def test_normalisation_checks_accept_correct_answers(task, capsys):
    for answer in [SOLUTION[task], *CORRECT[task]]:
        accepts(getattr(check, task), answer, capsys)


# -- Task 4 · group_norm -------------------------------------------------------------------------
def group_with(axes=(1, 2, 4), strided=False, size_for_count=False, fixed=None, per_group=False, **slips):
    def answer(x, groups, gamma, beta, eps=1e-3):
        n, h, w, c = x.shape
        groups = fixed or (c // groups if size_for_count else groups)
        grouped = x.reshape(n, h, w, c // groups, groups) if strided else x.reshape(n, h, w, groups, c // groups)
        mean = grouped.mean(axis=axes, keepdims=slips.get("keepdims", True))
        var = grouped.var(axis=axes, keepdims=True, ddof=slips.get("ddof", 0))
        normalised = (grouped - mean) / (np.sqrt(var) + eps if slips.get("eps_outside") else np.sqrt(var + eps))
        if per_group:
            return (normalised * gamma[:groups, None] + beta[:groups, None]).reshape(x.shape)
        return gamma * normalised.reshape(x.shape) + beta

    return answer


def group_in_place(x, groups, gamma, beta, eps=1e-3):
    n, h, w, c = x.shape
    grouped = x.reshape(n, h, w, groups, c // groups)  # a view of x: -= writes into the caller's array
    grouped -= grouped.mean(axis=(1, 2, 4), keepdims=True)
    return gamma * (grouped / np.sqrt(grouped.var(axis=(1, 2, 4), keepdims=True) + eps)).reshape(x.shape) + beta


GROUP_MISTAKES = {
    "stub": (stub, "not written yet"),
    "the whole batch per group": (group_with((0, 1, 2, 4)), "the whole batch"),
    "each channel on its own": (group_with((1, 2)), "that is InstanceNorm"),
    "all channels of a sample": (group_with((1, 2, 3, 4)), "that is LayerNorm"),
    "strided groups (channels c, c + G, …)": (group_with((1, 2, 3), strided=True), "consecutive channels"),
    "groups read as channels per group": (group_with(size_for_count=True), "not the number of channels in each"),
    "a fixed 3 groups": (group_with(fixed=3), "groups=2", "your answer makes 3 groups where `groups` is 2"),
    "sample variance": (group_with(ddof=1), "population variance"),
    "ε outside the square root": (group_with(eps_outside=True), "inside the square root"),
    "γ and β per group": (group_with(per_group=True), "not one per group"),
    "no keepdims": (group_with(keepdims=False), "keepdims=True"),
    "x changed in place": (group_in_place, "changed its arguments"),
}


@pytest.mark.parametrize("mistake", list(GROUP_MISTAKES))
def test_group_norm_rejects(mistake):
    answer, *fragments = GROUP_MISTAKES[mistake]
    rejects(check.group_norm, answer, "Task 4", *fragments)


def group_loop(x, groups, gamma, beta, eps=1e-3):  # one slice of channels at a time
    parts = []
    for part in np.split(x, groups, axis=-1):
        mean = part.mean(axis=(1, 2, 3), keepdims=True)
        parts.append((part - mean) / np.sqrt(part.var(axis=(1, 2, 3), keepdims=True) + eps))
    return gamma * np.concatenate(parts, axis=-1) + beta


def group_channels_first(x, groups, gamma, beta, eps=1e-3):  # the GroupNorm paper's NCHW code, in NumPy
    n, h, w, c = x.shape
    y = np.transpose(x, (0, 3, 1, 2)).reshape(n, groups, -1)
    y = (y - y.mean(axis=2, keepdims=True)) / np.sqrt(y.var(axis=2, keepdims=True) + eps)
    return np.transpose(y.reshape(n, c, h, w), (0, 2, 3, 1)) * gamma + beta


def group_keras_ops(x, num_groups, gamma, beta, eps=1e-3):
    grouped = keras.ops.reshape(x, (*x.shape[:3], num_groups, -1))
    mean, var = keras.ops.moments(grouped, axes=[1, 2, 4], keepdims=True)
    normalised = keras.ops.reshape((grouped - mean) / keras.ops.sqrt(var + eps), x.shape)
    return np.asarray(normalised * gamma + beta)


def test_group_norm_accepts_correct_answers(capsys):
    for answer in [SOLUTION["group_norm"], group_loop, group_channels_first, group_keras_ops]:
        accepts(check.group_norm, answer, capsys)


# -- Task 5 · batch_norm_inference --------------------------------------------------------------------
def inference_with(mean=None, scale=None, affine=True, forget_beta=False):
    def answer(x, moving_mean, moving_variance, gamma, beta, eps=1e-3):
        m = mean(x, moving_mean, moving_variance) if mean else moving_mean
        s = scale(x, moving_mean, moving_variance, eps) if scale else np.sqrt(moving_variance + eps)
        if not affine:
            return (x - m) / s
        return gamma * (x - m) / s + (0 if forget_beta else beta)

    return answer


def inference_in_place(x, moving_mean, moving_variance, gamma, beta, eps=1e-3):
    x -= moving_mean
    return gamma * x / np.sqrt(moving_variance + eps) + beta


def swapped_statistics(x, moving_variance, moving_mean, gamma, beta, eps=1e-3):
    with np.errstate(invalid="ignore"):  # the square root of a negative mean
        return gamma * (x - moving_mean) / np.sqrt(moving_variance + eps) + beta


INFERENCE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "batch statistics": (
        inference_with(mean=lambda x, m, v: x.mean((0, 1, 2)), scale=lambda x, m, v, e: np.sqrt(x.var((0, 1, 2)) + e)),
        "not the batch's own",
    ),
    "ε outside the square root": (inference_with(scale=lambda x, m, v, e: np.sqrt(v) + e), "inside the square root"),
    "no ε": (inference_with(scale=lambda x, m, v, e: np.sqrt(v)), "add ε"),
    "moving_variance used as the std": (inference_with(scale=lambda x, m, v, e: v + e), "divide by its square root"),
    "mean and variance swapped": (swapped_statistics, "mean and variance swapped"),
    "no γ and β": (inference_with(affine=False), "apply γ and β"),
    "β forgotten": (inference_with(forget_beta=True), "add β"),
    "x changed in place": (inference_in_place, "changed its arguments"),
    "returns the batch mean's shape": (lambda x, m, v, g, b, eps=1e-3: g * m / np.sqrt(v + eps) + b, "output shape"),
    "returns None": (lambda *args: None, "returned None"),
}


@pytest.mark.parametrize("mistake", list(INFERENCE_MISTAKES))
def test_batch_norm_inference_rejects(mistake):
    answer, *fragments = INFERENCE_MISTAKES[mistake]
    rejects(check.batch_norm_inference, answer, "Task 5", *fragments)


def folded(x, moving_mean, moving_variance, gamma, beta, eps=1e-3):  # a scale and a shift, as BN is fused at export
    scale = gamma / np.sqrt(moving_variance + eps)
    return x * scale + (beta - moving_mean * scale)


def test_batch_norm_inference_accepts_correct_answers(capsys):
    with_ops = lambda x, mu, var, g, b, eps=1e-3: np.asarray(g * (x - mu) * keras.ops.rsqrt(var + eps) + b)  # noqa: E731
    renamed = lambda inputs, mean, variance, scale, offset, epsilon=0.001: (  # noqa: E731
        np.divide(inputs - mean, np.sqrt(variance + epsilon)) * scale + offset
    )
    for answer in [SOLUTION["batch_norm_inference"], folded, with_ops, renamed]:
        accepts(check.batch_norm_inference, answer, capsys)


# -- Task 6 · statistics_count -----------------------------------------------------------------------
RIGHT = {"batch": 64, "layer": 32, "instance": 2048, "group": 512}
COUNT_MISTAKES = {
    "nothing set": (None, "still None"),
    "a list": ([64, 32, 2048, 512], "wrong type"),
    "a key missing": ({k: v for k, v in RIGHT.items() if k != "group"}, "keys"),
    "a float": (RIGHT | {"batch": 64.0}, "whole number"),
    "values pooled instead of statistics (BN)": (RIGHT | {"batch": 32 * 14 * 14}, "counts['batch']", "pools"),
    "BatchNorm per sample": (RIGHT | {"batch": 32}, "not per sample"),
    "values pooled instead of statistics (LN)": (RIGHT | {"layer": 14 * 14 * 64}, "counts['layer']", "pools"),
    "LayerNorm per channel": (RIGHT | {"layer": 64}, "not per channel"),
    "InstanceNorm per channel only": (RIGHT | {"instance": 64}, "N · C"),
    "InstanceNorm's pooled values": (RIGHT | {"instance": 14 * 14}, "counts['instance']", "pools"),
    "GroupNorm counted per group only": (RIGHT | {"group": 16}, "N · G"),
    "GroupNorm with C / G": (RIGHT | {"group": 32 * 4}, "not N · C / G"),
}


@pytest.mark.parametrize("mistake", list(COUNT_MISTAKES))
def test_statistics_count_rejects(mistake):
    counts, *fragments = COUNT_MISTAKES[mistake]
    rejects(check.statistics_count, counts, "Task 6", *fragments)


def test_statistics_count_accepts_correct_answers(capsys):
    n, c, g = 32, 64, 16
    for counts in [
        SOLUTION["counts"],
        {"group": np.int64(512), "instance": 32 * 64, "layer": 32, "batch": 64},
        {"batch": c, "layer": n, "instance": n * c, "group": n * g},
        dict(zip(["batch", "layer", "instance", "group"], map(int, np.array([64, 32, 2048, 512])), strict=True)),
    ]:
        accepts(check.statistics_count, counts, capsys)


# -- the yardstick: the NumPy variants the hints rely on agree with Keras's layers ------------------------
def test_the_right_variant_is_what_keras_computes():
    from keras import layers

    x, gamma, beta = check._batch((3, 5, 7, 6), seed=1)
    for groups in (1, 2, 3, 6):
        keras_values = check._keras(layers.GroupNormalization(groups, epsilon=1e-5), x, [gamma, beta])
        numpy_values = check._variant(x, gamma, beta, 1e-5, (1, 2, 4), groups=groups)
        np.testing.assert_allclose(numpy_values, keras_values, atol=1e-4)

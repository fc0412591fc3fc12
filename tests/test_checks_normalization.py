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


def four_axes_layer_norm(x, gamma, beta, eps=1e-3):
    n, h, w, c = x.shape
    return norm_with(LN)(x, gamma, beta, eps)


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
        "assumes four axes (n, h, w, c = x.shape)": (four_axes_layer_norm, "(5, 7)", "any number of axes"),
        "every axis but the last (positions only)": (
            lambda x, g, b, eps=1e-3: norm_with(tuple(range(1, x.ndim - 1)) or (1,))(x, g, b, eps),
            "that is InstanceNorm",
        ),
        "the last axis only": (
            lambda x, g, b, eps=1e-3: norm_with((x.ndim - 1,))(x, g, b, eps),
            "that is LayerNormalization()",
        ),
        "axes (1, 2, 3) when there are more": (
            lambda x, g, b, eps=1e-3: norm_with((1, 2, 3) if x.ndim > 4 else tuple(range(1, x.ndim)))(x, g, b, eps),
            "(2, 3, 4, 5, 6)",
            "the 4-D axes (1, 2, 3)",
        ),
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


def flattened_layer_norm(x, gamma, beta, eps=1e-3):  # LayerNorm on each sample's values as one row
    rows = x.reshape(len(x), -1)
    mean, std = rows.mean(axis=1, keepdims=True), np.sqrt(rows.var(axis=1, keepdims=True) + eps)
    return gamma * ((rows - mean) / std).reshape(x.shape) + beta


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
        lambda x, gamma, beta, eps=1e-3: moments_with_keras(list(range(1, x.ndim)))(x, gamma, beta, eps),
        lambda x, g, b, eps=1e-3: (
            SOLUTION["group_norm"](x, 1, g, b, eps) if x.ndim > 2 else per_sample_loop(x, g, b, eps)
        ),
        flattened_layer_norm,
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


def group_4d_axes(x, groups, gamma, beta, eps=1e-3, axis=-1):  # generalises the reshape, but keeps the 4-D axes
    grouped = x.reshape(*x.shape[:-1], groups, x.shape[-1] // groups)
    mean, var = grouped.mean(axis=(1, 2, 4), keepdims=True), grouped.var(axis=(1, 2, 4), keepdims=True)
    return gamma * ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape) + beta


def group_sample_variance_any_rank(x, groups, gamma, beta, eps=1e-3, axis=-1):
    grouped = x.reshape(len(x), -1, groups, x.shape[-1] // groups)
    mean, var = grouped.mean(axis=(1, 3), keepdims=True), grouped.var(axis=(1, 3), keepdims=True, ddof=1)
    return gamma * ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape) + beta


def group_whole_sample_any_rank(x, groups, gamma, beta, eps=1e-3, axis=-1):  # right on images, LayerNorm elsewhere
    if x.ndim == 4:
        return SOLUTION["group_norm"](x, groups, gamma, beta, eps)
    return SOLUTION["group_norm"](x, 1, gamma, beta, eps)


def no_axis_argument(x, groups, gamma, beta, eps=1e-3):
    return SOLUTION["group_norm"](x, groups, gamma, beta, eps)


def axis_ignored(x, groups, gamma, beta, eps=1e-3, axis=-1):
    return SOLUTION["group_norm"](x, groups, gamma, beta, eps)


def not_moved_back(x, groups, gamma, beta, eps=1e-3, axis=-1):
    return SOLUTION["group_norm"](np.moveaxis(x, axis, -1), groups, gamma, beta, eps)


def affine_after_moving_back(x, groups, gamma, beta, eps=1e-3, axis=-1):
    c = x.shape[axis]
    normalised = SOLUTION["group_norm"](x, groups, np.ones(c), np.zeros(c), eps, axis=axis)
    return gamma * normalised + beta


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
    "assumes four axes (n, h, w, c = x.shape)": (group_with(), "(3, 8, 6)", "any number of axes"),
    "generalised reshape, 4-D axes (1, 2, 4)": (group_4d_axes, "(3, 8, 6)", "any number of axes"),
    "sample variance, any rank": (group_sample_variance_any_rank, "population variance"),
    "one group whenever x is not 4-D": (
        group_whole_sample_any_rank,
        "(3, 8, 6)",
        "that is LayerNorm; GroupNorm uses positions",
    ),
    "no axis argument (channels last only)": (no_axis_argument, "axis=1", "add the keyword argument axis=-1"),
    "axis accepted but ignored": (axis_ignored, "channels-first", "with axis=1 they are not the last axis"),
    "channels not moved back": (not_moved_back, "output shape", "np.moveaxis(y, -1, axis)"),
    "γ and β after moving back": (affine_after_moving_back, "apply γ and β along the channel axis"),
}


@pytest.mark.parametrize("mistake", list(GROUP_MISTAKES))
def test_group_norm_rejects(mistake):
    answer, *fragments = GROUP_MISTAKES[mistake]
    rejects(check.group_norm, answer, "Task 4", *fragments)


def group_loop(x, groups, gamma, beta, eps=1e-3, axis=-1):  # one slice of channels at a time, in place of axis
    parts = []
    for part in np.split(x, groups, axis=axis):
        axes = tuple(range(1, x.ndim))
        mean = part.mean(axis=axes, keepdims=True)
        parts.append((part - mean) / np.sqrt(part.var(axis=axes, keepdims=True) + eps))
    along = [1] * x.ndim
    along[axis] = -1
    return gamma.reshape(along) * np.concatenate(parts, axis=axis) + beta.reshape(along)


def group_channels_first(x, groups, gamma, beta, eps=1e-3, axis=-1):  # the GroupNorm paper's NCHW code, in NumPy
    y = np.moveaxis(x, axis, 1)
    flat = y.reshape(len(x), groups, -1)
    flat = (flat - flat.mean(axis=2, keepdims=True)) / np.sqrt(flat.var(axis=2, keepdims=True) + eps)
    along = (1, -1) + (1,) * (x.ndim - 2)
    return np.moveaxis(flat.reshape(y.shape) * gamma.reshape(along) + beta.reshape(along), 1, axis)


def group_keras_ops(x, num_groups, gamma, beta, eps=1e-3, axis=-1):
    last = keras.ops.moveaxis(x, axis, -1)
    grouped = keras.ops.reshape(last, (*last.shape[:-1], num_groups, -1))
    axes = [*range(1, x.ndim - 1), x.ndim]
    mean, var = keras.ops.moments(grouped, axes=axes, keepdims=True)
    normalised = keras.ops.reshape((grouped - mean) / keras.ops.sqrt(var + eps), last.shape)
    return np.asarray(keras.ops.moveaxis(normalised * gamma + beta, -1, axis))


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


# -- Task 7 · BatchNorm (a layer with state) ------------------------------------------------------------
def stateful_with(**slips):
    """The task's layer with one of the usual mistakes switched on (the check's own replay of them)."""

    class Answer(check._ReferenceBatchNorm):
        def __init__(self, channels, momentum=0.99, eps=1e-3):
            super().__init__(channels, momentum, eps, **slips)

    return Answer


class SharedState:
    """Statistics kept on the class and changed in place: every layer shares them."""

    moving_mean = np.zeros(3)
    moving_variance = np.ones(3)

    def __init__(self, channels, momentum=0.99, eps=1e-3):
        type(self).moving_mean = np.zeros(channels)
        type(self).moving_variance = np.ones(channels)
        self.momentum, self.eps = momentum, eps
        self.gamma, self.beta = np.ones(channels), np.zeros(channels)

    def __call__(self, x, training=False):
        if training:
            mean, var = x.mean(axis=tuple(range(x.ndim - 1))), x.var(axis=tuple(range(x.ndim - 1)))
            self.moving_mean *= self.momentum
            self.moving_mean += (1 - self.momentum) * mean
            self.moving_variance *= self.momentum
            self.moving_variance += (1 - self.momentum) * var
        else:
            mean, var = self.moving_mean, self.moving_variance
        return self.gamma * (x - mean) / np.sqrt(var + self.eps) + self.beta


class IgnoresMomentum(check._ReferenceBatchNorm):
    def __init__(self, channels, momentum=0.99, eps=1e-3):
        super().__init__(channels, 0.99, eps)


class FixedEps(check._ReferenceBatchNorm):
    def __init__(self, channels, momentum=0.99, eps=1e-3):
        super().__init__(channels, momentum, 1e-3)


class StartsAtZeroVariance(check._ReferenceBatchNorm):
    def __init__(self, channels, momentum=0.99, eps=1e-3):
        super().__init__(channels, momentum, eps)
        self.moving_variance = np.zeros(channels)


class NoState:
    def __init__(self, channels, momentum=0.99, eps=1e-3):
        self.gamma, self.beta, self.eps = np.ones(channels), np.zeros(channels), eps

    def __call__(self, x, training=False):
        axes = tuple(range(x.ndim - 1))
        return self.gamma * (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + self.eps) + self.beta


class InPlace(check._ReferenceBatchNorm):
    def __init__(self, channels, momentum=0.99, eps=1e-3):
        super().__init__(channels, momentum, eps)

    def __call__(self, x, training=False):
        y = super().__call__(x, training)
        x -= x.mean()
        return y


STATEFUL_MISTAKES = {
    "stub": (stub, "not written yet"),
    "training by default": (stateful_with(training_default=True), "the default is inference"),
    "momentum the other way round": (stateful_with(momentum_swapped=True), "momentum keeps the old"),
    "sample variance": (stateful_with(ddof=1), "population variance"),
    "updates at inference too": (stateful_with(update_at_inference=True), "only in training"),
    "moving variance never updated": (stateful_with(no_variance_update=True), "update the moving variance too"),
    "training normalises with the moving statistics": (
        stateful_with(normalise_with_moving=True),
        "batch's own statistics",
    ),
    "inference with the batch statistics": (stateful_with(always_batch=True), "not the batch's"),
    "statistics shared through the class": (SharedState, "not on the class"),
    "momentum argument ignored": (IgnoresMomentum, "momentum=0.9"),
    "a fixed ε": (FixedEps, "eps=1e-05"),
    "moving variance starts at 0": (StartsAtZeroVariance, "moving_variance before any call"),
    "no moving statistics at all": (NoState, "set self.moving_mean in __init__"),
    "x changed in place": (InPlace, "changed x"),
}


@pytest.mark.parametrize("mistake", list(STATEFUL_MISTAKES))
def test_batch_norm_layer_rejects(mistake):
    answer, *fragments = STATEFUL_MISTAKES[mistake]
    rejects(check.batch_norm_layer, answer, "Task 7", *fragments)


class WithKerasOps:
    """Statistics with keras.ops.moments, statistics as a dict, the update as a lerp."""

    def __init__(self, channels, momentum=0.99, eps=1e-3):
        self.settings = dict(momentum=momentum, eps=eps)
        self.gamma, self.beta = np.ones(channels, "float32"), np.zeros(channels, "float32")
        self.moving_mean, self.moving_variance = np.zeros(channels, "float32"), np.ones(channels, "float32")

    def __call__(self, x, training=False):
        if training:
            mean, var = (np.asarray(v) for v in keras.ops.moments(x, axes=list(range(x.ndim - 1))))
            step = 1 - self.settings["momentum"]
            self.moving_mean = self.moving_mean + step * (mean - self.moving_mean)
            self.moving_variance = self.moving_variance + step * (var - self.moving_variance)
        else:
            mean, var = self.moving_mean, self.moving_variance
        return self.gamma * (x - mean) / np.sqrt(var + self.settings["eps"]) + self.beta


class ScaleAndShift(check._ReferenceBatchNorm):
    """Inference folded into one scale and one shift, as at export."""

    def __init__(self, channels, momentum=0.99, eps=1e-3):
        super().__init__(channels, momentum, eps)

    def __call__(self, x, training=False):
        if training:
            return super().__call__(x, True)
        scale = self.gamma / np.sqrt(self.moving_variance + self.eps)
        return x * scale + (self.beta - self.moving_mean * scale)


def test_batch_norm_layer_accepts_correct_answers(capsys):
    for answer in [SOLUTION["BatchNorm"], stateful_with(), WithKerasOps, ScaleAndShift]:
        accepts(check.batch_norm_layer, answer, capsys)


def test_the_reference_layer_is_what_keras_computes():
    from keras import layers

    xs = check._sequence(0)
    reference = check._ReferenceBatchNorm(6, 0.8, 1e-3)
    bn = layers.BatchNormalization(momentum=0.8)
    for x, flag in zip(xs, [True, False, True, True, False], strict=True):
        np.testing.assert_allclose(reference(x, flag), bn(x, training=flag), atol=1e-4)
    np.testing.assert_allclose(reference.moving_variance, bn.moving_variance, atol=1e-5)


# -- Task 8 · batch_norm_nchw -----------------------------------------------------------------------------
def nchw_with(axes=(0, 2, 3), gamma_shape=(1, -1, 1, 1), ddof=0, keepdims=True, **slips):
    def answer(x, gamma, beta, eps=1e-3):
        eps = slips.get("eps", eps)
        mean = x.mean(axis=axes, keepdims=keepdims)
        var = x.var(axis=axes, keepdims=keepdims, ddof=ddof)
        g, b = (gamma, beta) if gamma_shape is None else (gamma.reshape(gamma_shape), beta.reshape(gamma_shape))
        if slips.get("swap"):
            g, b = b, g
        return g * (x - mean) / np.sqrt(var + eps) + b

    return answer


def nchw_in_place(x, gamma, beta, eps=1e-3):
    x -= x.mean(axis=(0, 2, 3), keepdims=True)
    return gamma[:, None, None] * x / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + eps) + beta[:, None, None]


NCHW_MISTAKES = {
    "stub": (stub, "not written yet"),
    "NHWC habit: axes (0, 1, 2)": (nchw_with(axes=(0, 1, 2), gamma_shape=None), "γ as (1, C, 1, 1)"),
    "right axes, γ along the last axis": (nchw_with(gamma_shape=None), "reshape them to (1, C, 1, 1)"),
    "NHWC axes, γ reshaped": (nchw_with(axes=(0, 1, 2)), "the channel is axis 1"),
    "InstanceNorm's axes": (nchw_with(axes=(2, 3)), "that is InstanceNorm"),
    "sample variance": (nchw_with(ddof=1), "population variance"),
    "no keepdims": (nchw_with(keepdims=False), "(1, C, 1, 1)"),
    "a fixed ε": (nchw_with(eps=1e-3), "eps=1e-05"),
    "γ and β swapped": (nchw_with(swap=True), "values"),
    "x changed in place": (nchw_in_place, "changed its arguments"),
    "returns NHWC": (
        lambda x, g, b, eps=1e-3: np.transpose(nchw_with()(x, g, b, eps), (0, 2, 3, 1)),
        "output shape",
    ),
    "returns None": (lambda *a, **kw: None, "returned None"),
}


@pytest.mark.parametrize("mistake", list(NCHW_MISTAKES))
def test_batch_norm_nchw_rejects(mistake):
    answer, *fragments = NCHW_MISTAKES[mistake]
    rejects(check.batch_norm_nchw, answer, "Task 8", *fragments)


def nchw_by_transposing(x, gamma, beta, eps=1e-3):  # to NHWC, Task 1's function, and back
    nhwc = np.transpose(x, (0, 2, 3, 1))
    return np.transpose(SOLUTION["batch_norm"](nhwc, gamma, beta, eps), (0, 3, 1, 2))


def nchw_per_channel_loop(x, gamma, beta, eps=1e-3):
    out = np.empty_like(x)
    for c in range(x.shape[1]):
        channel = x[:, c]
        out[:, c] = gamma[c] * (channel - channel.mean()) / np.sqrt(channel.var() + eps) + beta[c]
    return out


def nchw_with_keras_ops(x, gamma, beta, eps=1e-3):
    mean, var = keras.ops.moments(x, axes=[0, 2, 3], keepdims=True)
    return np.asarray((x - mean) * keras.ops.rsqrt(var + eps) * gamma[:, None, None] + beta[:, None, None])


def test_batch_norm_nchw_accepts_correct_answers(capsys):
    for answer in [SOLUTION["batch_norm_nchw"], nchw_by_transposing, nchw_per_channel_loop, nchw_with_keras_ops]:
        accepts(check.batch_norm_nchw, answer, capsys)


# -- Task 9 · batch_norm_backward ------------------------------------------------------------------------------
def backward_with(dx="right", dgamma="right", dbeta="right", order=("dx", "dgamma", "dbeta")):
    def answer(dy, x, gamma, eps=1e-3):
        axes = (0, 1, 2)
        m = x.size // x.shape[-1]
        std = np.sqrt(x.var(axis=axes) + eps)
        xhat = (x - x.mean(axis=axes)) / std
        grads = {
            "dbeta": {"right": dy.sum(axis=axes), "mean": dy.mean(axis=axes)}[dbeta],
            "dgamma": {
                "right": (dy * xhat).sum(axis=axes),
                "x": (dy * x).sum(axis=axes),
                "mean": (dy * xhat).mean(axis=axes),
            }[dgamma],
        }
        right = gamma / (m * std) * (m * dy - dy.sum(axis=axes) - xhat * (dy * xhat).sum(axis=axes))
        grads["dx"] = {
            "right": right,
            "fixed statistics": dy * gamma / std,
            "no variance term": gamma / std * (dy - dy.mean(axis=axes)),
            "no mean term": gamma / std * (dy - xhat * (dy * xhat).mean(axis=axes)),
            "no γ": right / gamma,
            "per sample": gamma / std * (dy - dy.mean(axis=(1, 2), keepdims=True)),
        }[dx]
        return tuple(grads[name] for name in order)

    return answer


BACKWARD_MISTAKES = {
    "stub": (stub, "not written yet"),
    "μ and σ² held fixed": (backward_with(dx="fixed statistics"), "held fixed"),
    "no variance term": (backward_with(dx="no variance term"), "add the variance's"),
    "no mean term": (backward_with(dx="no mean term"), "add the mean's"),
    "γ forgotten in dx": (backward_with(dx="no γ"), "multiply by γ"),
    "sums per sample": (backward_with(dx="per sample"), "m = N·H·W"),
    "dγ from x, not x̂": (backward_with(dgamma="x"), "x̂ normalised, not x"),
    "dγ as a mean": (backward_with(dgamma="mean"), "not a mean"),
    "dβ as a mean": (backward_with(dbeta="mean"), "a sum, not a mean"),
    "dγ and dβ swapped": (backward_with(order=("dx", "dbeta", "dgamma")), "swapped"),
    "dx last": (backward_with(order=("dgamma", "dbeta", "dx")), "dx shape"),
    "returns dx only": (lambda dy, x, gamma, eps=1e-3: backward_with()(dy, x, gamma, eps)[0], "three arrays"),
    "dγ with the sample axes kept": (
        lambda dy, x, g, eps=1e-3: tuple(
            v if i == 0 else v[None, None, None] for i, v in enumerate(backward_with()(dy, x, g, eps))
        ),
        "shape (C,)",
    ),
}


@pytest.mark.parametrize("mistake", list(BACKWARD_MISTAKES))
def test_batch_norm_backward_rejects(mistake):
    answer, *fragments = BACKWARD_MISTAKES[mistake]
    rejects(check.batch_norm_backward, answer, "Task 9", *fragments)


def backward_by_steps(dy, x, gamma, eps=1e-3):  # the chain rule through the computational graph, one node at a time
    axes = (0, 1, 2)
    m = x.size // x.shape[-1]
    mu = x.mean(axis=axes)
    centred = x - mu
    var = (centred**2).mean(axis=axes)
    inv = 1 / np.sqrt(var + eps)
    xhat = centred * inv
    dxhat = dy * gamma
    dvar = (dxhat * centred).sum(axis=axes) * -0.5 * inv**3
    dmu = -(dxhat * inv).sum(axis=axes) + dvar * (-2 * centred).mean(axis=axes)
    dx = dxhat * inv + dvar * 2 * centred / m + dmu / m
    return [dx, (dy * xhat).sum(axis=axes), dy.sum(axis=axes)]


def backward_with_tape(dy, x, gamma, eps=1e-3):  # autodiff through Task 1's formula, with TensorFlow
    import tensorflow as tf

    x, gamma, beta = tf.Variable(x), tf.Variable(gamma), tf.Variable(np.zeros_like(gamma))
    with tf.GradientTape() as tape:
        mean, var = tf.nn.moments(x, axes=[0, 1, 2])
        y = gamma * (x - mean) / tf.sqrt(var + eps) + beta
    return tuple(g.numpy() for g in tape.gradient(y, [x, gamma, beta], output_gradients=dy))


def backward_float64(dy, x, gamma, eps=1e-3):
    return SOLUTION["batch_norm_backward"](dy.astype("float64"), x.astype("float64"), gamma.astype("float64"), eps)


def test_batch_norm_backward_accepts_correct_answers(capsys):
    for answer in [SOLUTION["batch_norm_backward"], backward_by_steps, backward_with_tape, backward_float64]:
        accepts(check.batch_norm_backward, answer, capsys)

"""Unit 10's checks reject the stub and typical wrong answers and accept correct ones."""

import numpy as np
import pytest

from cnn_course.checks import CheckFailed
from cnn_course.checks import normalization as check
from tests.conftest import accepts, solution, stub

SOLUTION = solution("10_normalization")


def norm_with(axes, ddof=0, eps_inside=True, affine=True, swap=False, gamma_axis_first=False):
    """A normalisation over `axes` with one of the usual mistakes switched on."""

    def answer(x, gamma, beta, eps=1e-3):
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True, ddof=ddof)
        normalised = (x - mean) / (np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps)
        if not affine:
            return normalised
        if swap:
            gamma, beta = beta, gamma
        if gamma_axis_first:
            gamma, beta = gamma[:, None, None], beta[:, None, None]
        return gamma * normalised + beta

    return answer


BN, LN, IN = (0, 1, 2), (1, 2, 3), (1, 2)
MISTAKES = {
    "batch_norm": [
        ("stub", stub, "not written yet"),
        ("returns None", lambda x, g, b, eps=1e-3: None, "returned None"),
        ("per sample (InstanceNorm's axes)", norm_with(IN), "that is InstanceNorm"),
        ("over every axis at once", norm_with((0, 1, 2, 3)), "axes (N, H, W, C)"),
        ("sample variance", norm_with(BN, ddof=1), "population variance"),
        ("ε outside the square root", norm_with(BN, eps_inside=False), "inside the square root"),
        ("no γ and β", norm_with(BN, affine=False), "apply γ and β"),
        ("γ and β swapped", norm_with(BN, swap=True), "γ multiplies"),
        ("γ broadcast on the wrong axis", norm_with(BN, gamma_axis_first=True), "broadcast over the last axis"),
        ("returns a list", lambda x, g, b, eps=1e-3: norm_with(BN)(x, g, b, eps).tolist()[0], "output shape"),
    ],
    "layer_norm": [
        ("stub", stub, "not written yet"),
        ("over C only (Keras's default axis)", norm_with((3,)), "LayerNormalization() default"),
        ("over the batch too", norm_with((0, 1, 2, 3)), "axes (N, H, W, C)"),
        ("BatchNorm's axes", norm_with(BN), "that is BatchNorm"),
        ("sample variance", norm_with(LN, ddof=1), "population variance"),
        ("ε outside the square root", norm_with(LN, eps_inside=False), "inside the square root"),
    ],
    "instance_norm": [
        ("stub", stub, "not written yet"),
        ("BatchNorm's axes", norm_with(BN), "that is BatchNorm"),
        ("LayerNorm's axes", norm_with(LN), "that is LayerNorm"),
        ("sample variance", norm_with(IN, ddof=1), "population variance"),
        ("ε outside the square root", norm_with(IN, eps_inside=False), "inside the square root"),
        ("no γ and β", norm_with(IN, affine=False), "apply γ and β"),
    ],
}


@pytest.mark.parametrize("task, mistake", [(task, m[0]) for task, ms in MISTAKES.items() for m in ms])
def test_normalisation_checks_reject(task, mistake):
    _, answer, fragment = next(m for m in MISTAKES[task] if m[0] == mistake)
    with pytest.raises(CheckFailed) as info:
        getattr(check, task)(answer)
    assert fragment in str(info.value), str(info.value)


def test_normalisation_checks_accept_correct_answers(capsys):
    for task in ("batch_norm", "layer_norm", "instance_norm", "group_norm", "batch_norm_inference"):
        accepts(getattr(check, task), SOLUTION[task], capsys)

    def explicit_sums(x, gamma, beta, eps=1e-3):  # no np.var, no keepdims: reshape and sums by hand
        n, h, w, c = x.shape
        flat = x.reshape(-1, c)
        mean = flat.sum(axis=0) / flat.shape[0]
        var = ((flat - mean) ** 2).sum(axis=0) / flat.shape[0]
        return (gamma * (flat - mean) / np.sqrt(var + eps) + beta).reshape(n, h, w, c)

    def via_std(x, gamma, beta, eps=1e-3):
        mean = x.mean(axis=(1, 2), keepdims=True)
        std = np.sqrt(x.std(axis=(1, 2), keepdims=True) ** 2 + eps)
        return gamma * (x - mean) / std + beta

    accepts(check.batch_norm, explicit_sums, capsys)
    accepts(check.instance_norm, via_std, capsys)
    accepts(check.layer_norm, lambda x, g, b, eps=1e-3: SOLUTION["group_norm"](x, 1, g, b, eps), capsys)
    accepts(check.instance_norm, lambda x, g, b, eps=1e-3: SOLUTION["group_norm"](x, x.shape[-1], g, b, eps), capsys)


def group_with(axes=(1, 2, 4), transpose_groups=False):
    def answer(x, groups, gamma, beta, eps=1e-3):
        n, h, w, c = x.shape
        grouped = (
            x.reshape(n, h, w, c // groups, groups) if transpose_groups else x.reshape(n, h, w, groups, c // groups)
        )
        mean = grouped.mean(axis=axes, keepdims=True)
        var = grouped.var(axis=axes, keepdims=True)
        return gamma * ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape) + beta

    return answer


GROUP_MISTAKES = {
    "stub": (stub, "not written yet"),
    "the whole batch per group": (group_with((0, 1, 2, 4)), "the whole batch"),
    "each channel on its own": (group_with((1, 2)), "that is InstanceNorm"),
    "all channels of a sample": (group_with((1, 2, 3, 4)), "that is LayerNorm"),
    "interleaved groups (channels c, c + G, …)": (group_with((1, 2, 3), transpose_groups=True), "expected"),
}


@pytest.mark.parametrize("mistake", list(GROUP_MISTAKES))
def test_group_norm_rejects(mistake):
    answer, fragment = GROUP_MISTAKES[mistake]
    with pytest.raises(CheckFailed, match="Task 4") as info:
        check.group_norm(answer)
    assert fragment in str(info.value)


def inference_with(use_batch=False, eps_inside=True, forget_beta=False):
    def answer(x, moving_mean, moving_variance, gamma, beta, eps=1e-3):
        mean, var = (x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))) if use_batch else (moving_mean, moving_variance)
        scale = np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps
        return gamma * (x - mean) / scale + (0 if forget_beta else beta)

    return answer


INFERENCE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "batch statistics at inference": (inference_with(use_batch=True), "not the batch's own"),
    "ε outside the square root": (inference_with(eps_inside=False), "inside the square root"),
    "β forgotten": (inference_with(forget_beta=True), "+ β"),
}


@pytest.mark.parametrize("mistake", list(INFERENCE_MISTAKES))
def test_batch_norm_inference_rejects(mistake):
    answer, fragment = INFERENCE_MISTAKES[mistake]
    with pytest.raises(CheckFailed, match="Task 5") as info:
        check.batch_norm_inference(answer)
    assert fragment in str(info.value)


RIGHT = {"batch": 64, "layer": 32, "instance": 2048, "group": 512}
COUNT_MISTAKES = {
    "nothing set": (None, "still None"),
    "a list": ([64, 32, 2048, 512], "wrong type"),
    "values pooled instead of statistics (BN)": (RIGHT | {"batch": 32 * 14 * 14}, "pools (N·H·W)"),
    "values pooled instead of statistics (LN)": (RIGHT | {"layer": 14 * 14 * 64}, "pools (H·W·C)"),
    "InstanceNorm per channel only": (RIGHT | {"instance": 64}, "counts['instance']"),
    "GroupNorm counted per group only": (RIGHT | {"group": 16}, "counts['group']"),
    "a key missing": ({k: v for k, v in RIGHT.items() if k != "group"}, "keys"),
    "a float": (RIGHT | {"batch": 64.0}, "counts['batch']"),
}


@pytest.mark.parametrize("mistake", list(COUNT_MISTAKES))
def test_statistics_count_rejects(mistake):
    counts, fragment = COUNT_MISTAKES[mistake]
    with pytest.raises(CheckFailed, match="Task 6") as info:
        check.statistics_count(counts)
    assert fragment in str(info.value)


def test_statistics_count_accepts_correct_answers(capsys):
    check.statistics_count(SOLUTION["counts"])
    check.statistics_count({"group": np.int64(512), "instance": 32 * 64, "layer": 32, "batch": 64})
    assert capsys.readouterr().out.count("✓ Task 6") == 2

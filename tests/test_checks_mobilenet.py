"""Unit 08's checks: each rejects the stub and the typical wrong answers, and accepts
the solution (run from solutions/08_mobilenet.ipynb) and other correct ways to write it
(Conv2D(groups=C) for the depthwise conv, the spellings of ReLU6, nested models,
SeparableConv2D, Keras's explicit padding, other names).

Each wrong answer names the words its rejection must contain, so that a wrong
answer is rejected for its own mistake, not by accident. Most keep the shapes and
the parameter count right: only the outputs give them away.
"""

import math
import types

import keras
import numpy as np
import pytest
from keras import layers, ops

from cnn_course.checks import CheckFailed
from cnn_course.checks import mobilenet as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("08_mobilenet")


# -- Tasks 1–3 · the cost formulas ------------------------------------------------------
COST_MISTAKES = {
    "standard_conv_cost": {
        "stub": (stub, "not written yet"),
        "returns None": (lambda H, W, K, C, M: None, "returned None"),
        "a string": (lambda H, W, K, C, M: f"{H * W * K * K * C * M}", "whole number"),
        "K only once": (lambda H, W, K, C, M: H * W * K * C * M, "factor K appears twice"),
        "forgets C": (lambda H, W, K, C, M: H * W * K * K * M, "multiply by C"),
        "forgets M": (lambda H, W, K, C, M: H * W * K * K * C, "multiply by M"),
        "one pixel only": (lambda H, W, K, C, M: K * K * C * M, "multiply by H·W"),
        "the parameter count": (lambda H, W, K, C, M: K * K * C * M + M, "counts the weights"),
        "valid padding's output size": (
            lambda H, W, K, C, M: (H - K + 1) * (W - K + 1) * K * K * C * M,
            "'same' padding keeps all H·W",
        ),
        "a multiply and an add counted apart": (lambda H, W, K, C, M: 2 * H * W * K * K * C * M, "not a multiply"),
        "biases counted": (lambda H, W, K, C, M: H * W * M * (K * K * C + 1), "biases are not counted"),
        "adds instead of multiplying": (lambda H, W, K, C, M: H * W + K * K + C * M, "count the products"),
    },
    "depthwise_conv_cost": {
        "stub": (stub, "not written yet"),
        "returns None": (lambda H, W, C, K: None, "returned None"),
        "a float with a fraction": (lambda H, W, C, K: H * W * C * K * K / 2.5, "whole number"),
        "K only once": (lambda H, W, C, K: H * W * C * K, "factor K appears twice"),
        "no kernel factor": (lambda H, W, C, K: H * W * C, "multiply by K·K"),
        "forgets C": (lambda H, W, C, K: H * W * K * K, "multiply by C"),
        "counted like a standard conv with C outputs": (lambda H, W, C, K: H * W * C * C * K * K, "reads one channel"),
        "one pixel only": (lambda H, W, C, K: C * K * K, "multiply by H·W"),
        "valid padding's output size": (
            lambda H, W, C, K: (H - K + 1) * (W - K + 1) * C * K * K,
            "'same' padding keeps all H·W",
        ),
        "a multiply and an add counted apart": (lambda H, W, C, K: 2 * H * W * C * K * K, "not a multiply"),
        "biases counted": (lambda H, W, C, K: H * W * C * (K * K + 1), "biases are not counted"),
    },
    "pointwise_conv_cost": {
        "stub": (stub, "not written yet"),
        "returns None": (lambda H, W, C, M: None, "returned None"),
        "a string": (lambda H, W, C, M: str(H * W * C * M), "whole number"),
        "forgets C": (lambda H, W, C, M: H * W * M, "multiply by C"),
        "forgets M": (lambda H, W, C, M: H * W * C, "multiply by M"),
        "one pixel only": (lambda H, W, C, M: C * M, "multiply by H·W"),
        "C + M": (lambda H, W, C, M: H * W * (C + M), "not C + M"),
        "includes a 3×3 kernel": (lambda H, W, C, M: H * W * C * M * 9, "no K×K factor"),
        "a multiply and an add counted apart": (lambda H, W, C, M: 2 * H * W * C * M, "not a multiply"),
        "biases counted": (lambda H, W, C, M: H * W * M * (C + 1), "biases are not counted"),
        "adds instead of multiplying": (lambda H, W, C, M: H + W + C + M, "count the products"),
    },
}


@pytest.mark.parametrize("task, mistake", [(t, m) for t, ms in COST_MISTAKES.items() for m in ms])
def test_cost_checks_reject(task, mistake):
    answer, fragment = COST_MISTAKES[task][mistake]
    rejects(getattr(check, task), answer, fragment)


def test_cost_checks_accept_correct_answers(capsys):
    for task in COST_MISTAKES:
        accepts(getattr(check, task), SOLUTION[task], capsys)
    accepts(check.standard_conv_cost, lambda H, W, K, C, M: math.prod([H, W, K, K, C, M]), capsys)
    accepts(check.standard_conv_cost, lambda H, W, K, C, M: float(H * W * C * M * K**2), capsys)
    accepts(check.standard_conv_cost, lambda H, W, K, C, M: np.int64(H) * W * (K * K * C) * M, capsys)
    accepts(check.depthwise_conv_cost, lambda H, W, C, K: K**2 * H * W * C, capsys)
    accepts(check.depthwise_conv_cost, lambda H, W, C, K: np.prod([H, W, C, K, K]), capsys)
    accepts(check.depthwise_conv_cost, lambda H, W, C, K: float(H * W) * C * K * K, capsys)
    accepts(check.pointwise_conv_cost, lambda H, W, C, M: (H * W) * (C * M), capsys)
    accepts(check.pointwise_conv_cost, lambda H, W, C, M: sum(C * M for _ in range(H * W)), capsys)
    accepts(check.pointwise_conv_cost, lambda H, W, C, M: np.float64(H * W * C) * M, capsys)


# -- Task 4 · separable_conv -------------------------------------------------------------------
def pair(
    first="dw",
    multiplier=1,
    pointwise=True,
    pw_first=False,
    pw_stride=False,
    between=None,
    after=None,
    padding="same",
    pad=None,
    dilation=1,
):
    def answer(x, filters, strides=1):
        def depthwise(t):
            stride = 1 if pw_stride else strides
            t = layers.ZeroPadding2D(pad)(t) if pad and strides == 2 else t
            valid = "valid" if pad and strides == 2 else padding
            if first == "conv":
                return layers.Conv2D(t.shape[-1], 3, strides=stride, padding=valid)(t)
            return layers.DepthwiseConv2D(
                3, strides=stride, padding=valid, depth_multiplier=multiplier, dilation_rate=dilation
            )(t)

        def point(t):
            return layers.Conv2D(filters, 1, strides=strides if pw_stride else 1)(t)

        if pw_first:
            return depthwise(point(x))
        x = depthwise(x)
        if between:
            x = between()(x)
        x = point(x) if pointwise else x
        return after()(x) if after else x

    return answer


PAIR_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns the layer, not its output": (lambda x, f, strides=1: layers.Conv2D(f, 1), "Keras tensor"),
    "Conv2D with C filters instead of a depthwise conv": (pair(first="conv"), "not a Conv2D that mixes channels"),
    "depth_multiplier 2": (pair(multiplier=2), "depth_multiplier=1"),
    "pointwise conv missing": (pair(pointwise=False), "maps them to `filters`"),
    "pointwise before depthwise": (pair(pw_first=True), "depthwise first"),
    "stride on the pointwise conv": (pair(pw_stride=True), "the stride belongs to the depthwise conv"),
    "ReLU between the two": (pair(between=layers.ReLU), "no ReLU here"),
    "BN between the two": (pair(between=layers.BatchNormalization), "no BatchNormalization here"),
    "ReLU6 at the end": (pair(after=lambda: layers.ReLU(6.0)), "no ReLU6 here"),
    "valid padding": (pair(padding="valid"), "output shape"),
    "valid padding compensated by one pixel all round": (pair(pad=1), "bottom and right only"),
    "a stray dilation": (pair(dilation=2), "not dilated"),
}


@pytest.mark.parametrize("mistake", list(PAIR_MISTAKES))
def test_separable_conv_rejects(mistake):
    answer, fragment = PAIR_MISTAKES[mistake]
    rejects(check.separable_conv, answer, "Task 4", fragment)


def test_separable_conv_accepts_correct_answers(capsys):
    accepts(check.separable_conv, SOLUTION["separable_conv"], capsys)
    accepts(check.separable_conv, pair(), capsys)
    accepts(check.separable_conv, pair(pad=((0, 1), (0, 1))), capsys)  # keras.applications' explicit padding
    accepts(
        check.separable_conv,
        lambda x, f, strides=1: layers.SeparableConv2D(f, 3, strides=strides, padding="same", name="sep")(x),
        capsys,
    )

    def grouped(x, filters, strides=1):
        c = x.shape[-1]
        x = layers.Conv2D(c, (3, 3), strides=strides, padding="same", groups=c, use_bias=False)(x)
        return layers.Conv2D(filters, (1, 1), use_bias=False)(x)

    accepts(check.separable_conv, grouped, capsys)

    accepts(
        check.separable_conv,
        lambda x, f, strides=1: keras.Sequential(
            [layers.DepthwiseConv2D(3, strides, "same"), layers.Conv2D(f, 1)], name="pair"
        )(x),
        capsys,
    )


# -- Task 5 · mobilenet_block ------------------------------------------------------------------
def block(
    conv_instead=False,
    multiplier=1,
    pointwise=True,
    pw_first=False,
    pw_stride=False,
    dw_act=True,
    pw_act=True,
    bias=False,
    center=True,
    bn_axis=-1,
    relu=lambda: layers.ReLU(6.0),
    relu_first=False,
    pad=None,
    dilation=1,
):
    def answer(x, filters, strides=1, name="block"):
        def depthwise(t):
            stride = 1 if pw_stride else strides
            t = layers.ZeroPadding2D(pad)(t) if pad and stride == 2 else t
            padding = "valid" if pad and stride == 2 else "same"
            if conv_instead:
                return layers.Conv2D(t.shape[-1], 3, strides=stride, padding=padding, use_bias=bias)(t)
            return layers.DepthwiseConv2D(
                3, stride, padding, depth_multiplier=multiplier, use_bias=bias, dilation_rate=dilation
            )(t)

        def point(t):
            return layers.Conv2D(filters, 1, strides=strides if pw_stride else 1, use_bias=bias)(t)

        def bn_act(t, act=True):
            norm = layers.BatchNormalization(axis=bn_axis, center=center)
            if relu_first:
                return norm(relu()(t)) if act else norm(t)
            return relu()(norm(t)) if act else norm(t)

        if pw_first:
            return bn_act(depthwise(bn_act(point(x))))
        x = bn_act(depthwise(x), dw_act)
        return bn_act(point(x), pw_act) if pointwise else x

    return answer


BLOCK_MISTAKES = {
    "stub": (stub, "not written yet"),
    "Conv2D with C filters instead of a depthwise conv": (block(conv_instead=True), "not a Conv2D that mixes"),
    "depth_multiplier 2": (block(multiplier=2), "depth_multiplier=1"),
    "pointwise conv missing": (block(pointwise=False), "maps them to `filters`"),
    "pointwise before depthwise": (block(pw_first=True), "depthwise first"),
    "stride on the pointwise conv": (block(pw_stride=True), "the stride belongs to the depthwise conv"),
    "no activation after the depthwise conv": (block(dw_act=False), "a ReLU6 follows each batch normalisation"),
    "no activation after the pointwise conv": (block(pw_act=False), "missing ReLU6"),
    "ReLU instead of ReLU6": (block(relu=layers.ReLU), "clips at 6"),
    "Activation('relu') instead of ReLU6": (block(relu=lambda: layers.Activation("relu")), "clips at 6"),
    "convolutions with bias": (block(bias=True), "use_bias=False"),
    "bias with BN(center=False) instead of no bias": (block(bias=True, center=False), "use_bias=False"),
    "BN over axis 1": (block(bn_axis=1), "axis=-1"),
    "ReLU6 before BN": (block(relu_first=True), "batch normalisation comes before the activation"),
    "valid padding compensated by one pixel all round": (block(pad=1), "bottom and right only"),
    "a stray dilation": (block(dilation=2), "not dilated"),
    "sigmoid instead of ReLU6": (block(relu=lambda: layers.Activation("sigmoid")), "a ReLU6 follows"),
}


@pytest.mark.parametrize("mistake", list(BLOCK_MISTAKES))
def test_mobilenet_block_rejects(mistake):
    answer, fragment = BLOCK_MISTAKES[mistake]
    rejects(check.mobilenet_block, answer, "Task 5", fragment)


def grouped_block(x, filters, strides=1, name="block"):
    """Conv2D(groups=C) as the depthwise conv, keras.ops.relu6 as the activation."""
    c = x.shape[-1]
    x = layers.Conv2D(c, 3, strides=strides, padding="same", groups=c, use_bias=False, name=f"{name}_g")(x)
    x = ops.relu6(layers.BatchNormalization()(x))
    return ops.relu6(layers.BatchNormalization()(layers.Conv2D(filters, 1, use_bias=False)(x)))


def nested_block(x, filters, strides=1, name="block"):
    """Each half as a keras.Sequential, Activation('relu6')."""
    half = lambda conv, part: keras.Sequential(  # noqa: E731
        [conv, layers.BatchNormalization(), layers.Activation("relu6")], name=f"{name}_{part}"
    )
    x = half(layers.DepthwiseConv2D((3, 3), (strides, strides), "same", use_bias=False), "dw")(x)
    return half(layers.Conv2D(filters, (1, 1), padding="same", use_bias=False), "pw")(x)


def test_mobilenet_block_accepts_correct_answers(capsys):
    accepts(check.mobilenet_block, SOLUTION["mobilenet_block"], capsys)
    accepts(check.mobilenet_block, block(relu=lambda: layers.ReLU(max_value=6)), capsys)
    accepts(check.mobilenet_block, block(pad=((0, 1), (0, 1))), capsys)  # keras.applications' explicit padding
    accepts(check.mobilenet_block, grouped_block, capsys)
    accepts(check.mobilenet_block, nested_block, capsys)


# -- Task 6 · mobilenet_v1 -------------------------------------------------------------------
mobilenet_block = SOLUTION["mobilenet_block"]  # what the answers below call, as a learner's notebook does


def v1_with(
    stem_alpha=True,
    block_alpha=True,
    head_alpha=False,
    table=None,
    rounding=int,
    stem_relu=lambda: layers.ReLU(6.0),
    stem_bias=False,
    stem_stride=2,
    softmax=True,
    pool=layers.GlobalAveragePooling2D,
):
    rows = table or check.TABLE

    def answer(alpha=1.0, input_shape=(224, 224, 3), n_class=1000):
        inputs = keras.Input(input_shape)
        x = layers.Conv2D(
            rounding(32 * (alpha if stem_alpha else 1)), 3, stem_stride, padding="same", use_bias=stem_bias
        )(inputs)
        x = stem_relu()(layers.BatchNormalization()(x))
        for i, (filters, strides) in enumerate(rows):
            x = mobilenet_block(x, rounding(filters * (alpha if block_alpha else 1)), strides, name=f"b{i}")
        x = layers.Dropout(1e-3)(pool()(x))
        classes = int(n_class * alpha) if head_alpha else n_class
        return keras.Model(inputs, layers.Dense(classes, activation="softmax" if softmax else None)(x))

    return answer


def with_block(answer, block_function):
    """The same answer in a namespace whose mobilenet_block is another one (as a learner's notebook)."""
    names = {**answer.__globals__, "mobilenet_block": block_function}
    return types.FunctionType(answer.__code__, names, closure=answer.__closure__, argdefs=answer.__defaults__)


def keras_mobilenet(alpha=1.0, input_shape=(224, 224, 3), n_class=1000):
    return keras.applications.MobileNet(weights=None, alpha=alpha, input_shape=input_shape, classes=n_class)


V1_MISTAKES = {
    "stub": (stub, "not written yet"),
    "keras.applications.MobileNet": (keras_mobilenet, "no answer here"),
    "keras.applications.MobileNet's trunk under a Dense head": (
        lambda alpha=1.0, input_shape=(224, 224, 3), n_class=1000: keras.Sequential(
            [
                keras.applications.MobileNet(
                    weights=None, alpha=alpha, input_shape=input_shape, include_top=False, pooling="avg"
                ),
                layers.Dense(n_class, activation="softmax"),
            ]
        ),
        "no answer here",
    ),
    "α not applied to the first conv": (v1_with(stem_alpha=False), "α scales the first conv too"),
    "α not applied to the blocks": (v1_with(block_alpha=False), "α scales every pointwise conv"),
    "round() instead of int()": (v1_with(rounding=round), "int rounds down"),
    "α applied to the classifier too": (v1_with(head_alpha=True), "α does not apply to it"),
    "the table's stride typo copied": (v1_with(table=[*check.TABLE[:-1], (1024, 2)]), "has stride 1"),
    "one block missing": (v1_with(table=check.TABLE[1:]), "one call per row"),
    "ReLU instead of ReLU6 throughout": (
        with_block(v1_with(stem_relu=layers.ReLU), block(relu=layers.ReLU)),
        "clips at 6",
    ),
    "ReLU instead of ReLU6 after the first conv only": (v1_with(stem_relu=layers.ReLU), "clips at 6"),
    "ReLU instead of ReLU6 in the blocks": (with_block(v1_with(), block(relu=layers.ReLU)), "clips at 6"),
    "first conv with bias": (v1_with(stem_bias=True), "use_bias=False"),
    "first conv with stride 1": (v1_with(stem_stride=1), "stride 2"),
    "no softmax": (v1_with(softmax=False), "end with a softmax"),
    "global max pooling": (v1_with(pool=layers.GlobalMaxPooling2D), "global average pooling"),
    "blocks without activation after the depthwise conv": (
        with_block(v1_with(), block(dw_act=False)),
        "a ReLU6 follows each batch normalisation",
    ),
}


@pytest.mark.parametrize("mistake", list(V1_MISTAKES))
def test_mobilenet_v1_rejects(mistake):
    answer, fragment = V1_MISTAKES[mistake]
    rejects(check.mobilenet_v1, answer, "Task 6", fragment)


def test_mobilenet_v1_accepts_correct_answers(capsys):
    accepts(check.mobilenet_v1, SOLUTION["mobilenet_v1"], capsys)
    accepts(check.mobilenet_v1, v1_with(rounding=math.floor), capsys)
    accepts(
        check.mobilenet_v1, with_block(v1_with(stem_relu=lambda: layers.Activation("relu6")), grouped_block), capsys
    )
    accepts(check.mobilenet_v1, with_block(v1_with(), nested_block), capsys)


# -- Task 7 · the P86 drill ---------------------------------------------------------------------
H, W, C, M, K = 28, 28, 256, 512, 3
RIGHT = (H * W * C * K * K, H * W * C * M, 1 / M + 1 / K**2)
DRILL_MISTAKES = {
    "nothing set": ((None, None, None), "still None"),
    "(い) and (う) swapped": ((RIGHT[1], RIGHT[0], RIGHT[2]), "you swapped them"),
    "K once in (い)": ((H * W * C * K, RIGHT[1], RIGHT[2]), "H·W·C·D_K·D_K"),
    "standard cost for (い)": ((H * W * C * K * K * M, RIGHT[1], RIGHT[2]), "(い)"),
    "(う) without C": ((RIGHT[0], H * W * M, RIGHT[2]), "(う)"),
    "(う) with a 3×3 kernel": ((RIGHT[0], 9 * RIGHT[1], RIGHT[2]), "H·W·C·M"),
    "saving upside down": ((RIGHT[0], RIGHT[1], 1 / RIGHT[2]), "a number below 1"),
    "saving as 1/K² only": ((RIGHT[0], RIGHT[1], 1 / K**2), "1/M + 1/D_K²"),
    "saving as a percentage": ((RIGHT[0], RIGHT[1], 100 * RIGHT[2]), "a number below 1"),
    "(い) as a string": (("1806336", RIGHT[1], RIGHT[2]), "wrong type"),
    "(い) with a fraction": ((RIGHT[0] + 0.5, RIGHT[1], RIGHT[2]), "whole number"),
}


@pytest.mark.parametrize("mistake", list(DRILL_MISTAKES))
def test_p86_drill_rejects(mistake):
    values, fragment = DRILL_MISTAKES[mistake]
    with pytest.raises(CheckFailed, match="Task 7") as info:
        check.p86_drill(*values)
    assert fragment in str(info.value)


def test_p86_drill_accepts_correct_answers(capsys):
    check.p86_drill(SOLUTION["depthwise_madds"], SOLUTION["pointwise_madds"], SOLUTION["saving"])
    check.p86_drill(float(RIGHT[0]), RIGHT[1], 1 / 512 + 1 / 9)
    check.p86_drill(np.int64(RIGHT[0]), np.float64(RIGHT[1]), np.float32(RIGHT[2]))
    check.p86_drill(RIGHT[0], RIGHT[1], (RIGHT[0] + RIGHT[1]) / (H * W * K * K * C * M))
    assert capsys.readouterr().out.count("✓ Task 7") == 4


def test_the_current_task_1_checks_the_three_costs_in_one_call(capsys):
    check.standard_conv_cost(
        SOLUTION["standard_conv_cost"], SOLUTION["depthwise_conv_cost"], SOLUTION["pointwise_conv_cost"]
    )
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == [
        "✓ Task 1 · standard_conv_cost",
        "✓ Task 1 · depthwise_conv_cost",
        "✓ Task 1 · pointwise_conv_cost",
    ]
    for depthwise, pointwise, fragment in [
        (stub, SOLUTION["pointwise_conv_cost"], "depthwise_conv_cost"),
        (SOLUTION["depthwise_conv_cost"], lambda H, W, C, M: H * W * M, "multiply by C"),
        (lambda H, W, C, K: H * W * C * K, SOLUTION["pointwise_conv_cost"], "the factor K appears twice"),
    ]:
        with pytest.raises(CheckFailed, match="Task 1") as info:
            check.standard_conv_cost(SOLUTION["standard_conv_cost"], depthwise, pointwise)
        assert fragment in str(info.value)


# -- Task 2 · separable_ratio -------------------------------------------------------------------
RATIO_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda K, C, M, d=1: None, "returned None"),
    "returns a string": (lambda K, C, M, d=1: f"{d / M + d / K**2:.4f}", "should be a number"),
    "returns a tuple of the two terms": (lambda K, C, M, d=1: (d / M, d / K**2), "should be a number"),
}
for number, (slip, advice) in enumerate(check.RATIO_SLIPS):
    RATIO_MISTAKES[f"slip {number}: {advice[:40]}"] = (
        lambda K, C, M, d=1, slip=slip: slip(K, C, M, d),
        advice,
    )


@pytest.mark.parametrize("mistake", list(RATIO_MISTAKES))
def test_separable_ratio_rejects(mistake):
    answer, fragment = RATIO_MISTAKES[mistake]
    rejects(check.separable_ratio, answer, "Task 2", fragment)


def test_separable_ratio_accepts_correct_answers(capsys):
    from fractions import Fraction

    accepts(check.separable_ratio, SOLUTION["separable_ratio"], capsys)
    accepts(check.separable_ratio, lambda K, C, M, d=1: d / M + d / K**2, capsys)
    accepts(check.separable_ratio, lambda K, C, M, d=1: Fraction(d, M) + Fraction(d, K * K), capsys)
    accepts(check.separable_ratio, lambda K, C, M, d=1: np.float32(d * (K * K + M)) / np.float32(M * K * K), capsys)

    def from_costs(K, C, M, d=1, H=7, W=5):
        return (H * W * C * d * K * K + H * W * C * d * M) / (H * W * K * K * C * M)

    accepts(check.separable_ratio, from_costs, capsys)


def test_the_ratio_agrees_with_the_cost_table_of_keras_layers():
    from cnn_course.costs import count_macs

    for K, C, M, d in [(3, 5, 7, 2), (5, 3, 4, 3)]:
        inputs = keras.Input((6, 9, C))
        maps = layers.DepthwiseConv2D(K, padding="same", depth_multiplier=d)(inputs)
        separable = count_macs(keras.Model(inputs, layers.Conv2D(M, 1)(maps)))
        standard = count_macs(keras.Model(inputs, layers.Conv2D(M, K, padding="same")(inputs)))
        assert math.isclose(separable / standard, d / M + d / K**2)


# -- Task 3 · mobilenet_budget -----------------------------------------------------------------
def budget_with(**slip):
    return lambda budget, n_class=1000: check._best(budget, n_class, **slip)


def greedy_budget(budget, n_class=1000):
    for alpha in check.ALPHAS:
        for resolution in check.RESOLUTIONS:
            if check.v1_macs(alpha, resolution, n_class) <= budget:
                return alpha, resolution
    return None


BUDGET_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None always": (lambda budget, n_class=1000: None, "return None only when no pair fits"),
    "classifier not counted": (
        budget_with(macs=lambda a, r, n: check.v1_macs(a, r, n, classifier=False)),
        "count the classifier too",
    ),
    "classifier of 1000 classes always": (
        budget_with(macs=lambda a, r, n: check.v1_macs(a, r, 1000)),
        "use n_class",
    ),
    "strictly below the budget": (budget_with(strict=True), "<=, not <"),
    "the cheapest that fits": (budget_with(pick=min), "not the fewest"),
    "the table's stride typo": (
        budget_with(macs=lambda a, r, n: check.v1_macs(a, r, n, table=[*check.TABLE[:-1], (1024, 2)])),
        "the last block has stride 1",
    ),
    "stem without its stride": (
        budget_with(macs=lambda a, r, n: check.v1_macs(a, r, n, stem_stride=1)),
        "the first convolution has stride 2",
    ),
    "α² ρ² scaling of the full network": (
        budget_with(macs=lambda a, r, n: int(check.v1_macs(1.0, 224, n) * a * a * (r / 224) ** 2)),
        "only approximate",
    ),
    "the widest α that fits, then the largest resolution": (greedy_budget, "the widest α that fits is not always best"),
    "(resolution, alpha)": (
        lambda b, n_class=1000: (lambda p: p and p[::-1])(check._best(b, n_class)),
        "in this order",
    ),
    "a string": (lambda b, n_class=1000: str(check._best(b, n_class)), "a pair of numbers"),
    "a pair when nothing fits": (lambda b, n_class=1000: check._best(b, n_class) or (0.25, 128), "return None"),
}


@pytest.mark.parametrize("mistake", list(BUDGET_MISTAKES))
def test_mobilenet_budget_rejects(mistake):
    answer, fragment = BUDGET_MISTAKES[mistake]
    rejects(check.mobilenet_budget, answer, "Task 3", fragment)


def test_mobilenet_budget_accepts_correct_answers(capsys):
    accepts(check.mobilenet_budget, SOLUTION["mobilenet_budget"], capsys)

    def sorted_search(budget, n_class=1000):
        pairs = sorted(
            ((a, r) for a in (0.25, 0.5, 0.75, 1.0) for r in (128, 160, 192, 224)),
            key=lambda p: check.v1_macs(*p, n_class),
            reverse=True,
        )
        return next((p for p in pairs if check.v1_macs(*p, n_class) <= budget), None)

    accepts(check.mobilenet_budget, sorted_search, capsys)
    accepts(
        check.mobilenet_budget, lambda b, n_class=1000: (lambda p: p and list(p))(sorted_search(b, n_class)), capsys
    )
    accepts(
        check.mobilenet_budget,
        lambda b, n_class=1000: (lambda p: p and (np.float64(p[0]), np.int64(p[1])))(sorted_search(b, n_class)),
        capsys,
    )

    def with_numpy(budget, n_class=1000):  # all 16 counts in one array, the best by argmax
        grid = [(a, r) for a in (1.0, 0.75, 0.5, 0.25) for r in (224, 192, 160, 128)]
        costs = np.array([check.v1_macs(a, r, n_class) for a, r in grid], dtype=np.int64)
        fits = np.where(costs <= budget, costs, -1)
        return grid[int(np.argmax(fits))] if fits.max() >= 0 else None

    accepts(check.mobilenet_budget, with_numpy, capsys)


def test_the_budget_counts_equal_the_cost_table_of_the_task_5_network():
    from cnn_course.costs import count_macs

    for alpha, resolution, n_class in [(0.25, 128, 10), (0.5, 160, 7)]:
        built = SOLUTION["mobilenet_v1"](alpha=alpha, input_shape=(resolution, resolution, 3), n_class=n_class)
        assert count_macs(built) == check.v1_macs(alpha, resolution, n_class)


# -- Task 4 · separable_conv with a depth multiplier --------------------------------------------
def pair_d(multiplier="d", split=False, first="dw", pw_stride=False, pw_first=False, between=None, swap=False, **kw):
    """The current Task 4's pair; the defaults are right, each keyword makes one change."""

    def answer(x, filters, strides=1, depth_multiplier=1):
        d = depth_multiplier if multiplier == "d" else multiplier
        s = strides
        if swap:
            d, s = strides, depth_multiplier
        stride = 1 if pw_stride else s

        def depthwise(t):
            if first == "conv":
                return layers.Conv2D(t.shape[-1] * d, 3, strides=stride, padding=kw.get("padding", "same"))(t)
            if split:
                maps = [layers.DepthwiseConv2D(3, strides=stride, padding="same")(t) for _ in range(d)]
                return layers.Concatenate()(maps) if d > 1 else maps[0]
            return layers.DepthwiseConv2D(
                3,
                strides=stride,
                padding=kw.get("padding", "same"),
                depth_multiplier=d,
                dilation_rate=kw.get("dilation", 1),
            )(t)

        def point(t):
            return layers.Conv2D(filters * kw.get("pw_factor", 1), 1, strides=s if pw_stride else 1)(t)

        if pw_first:
            return depthwise(point(x))
        y = depthwise(x)
        y = between()(y) if between else y
        return point(y)

    return answer


PAIR_D_MISTAKES = {
    "stub": (lambda x, filters, strides=1, depth_multiplier=1: stub(), "not written yet"),
    "depth_multiplier ignored": (pair_d(multiplier=1), "depth_multiplier=2"),
    "d depthwise convs concatenated": (pair_d(split=True), "each channel's outputs side by side"),
    "Conv2D with C·d filters": (pair_d(first="conv"), "not a Conv2D that mixes channels"),
    "d applied to the pointwise conv": (pair_d(multiplier=1, pw_factor=2), "`filters` pointwise filters"),
    "stride on the pointwise conv": (pair_d(pw_stride=True), "the stride belongs to the depthwise conv"),
    "pointwise before depthwise": (pair_d(pw_first=True), "depthwise first"),
    "ReLU between the two": (pair_d(between=layers.ReLU), "no ReLU here"),
    "BN between the two": (pair_d(between=layers.BatchNormalization), "no BatchNormalization here"),
    "stride and multiplier swapped": (pair_d(swap=True), "depth_multiplier=2"),
    "valid padding": (pair_d(padding="valid"), "output shape"),
    "a stray dilation": (pair_d(dilation=2), "not dilated"),
}


@pytest.mark.parametrize("mistake", list(PAIR_D_MISTAKES))
def test_separable_conv_with_a_depth_multiplier_rejects(mistake):
    answer, fragment = PAIR_D_MISTAKES[mistake]
    rejects(check.separable_conv, answer, "Task 4", fragment)


def test_separable_conv_with_a_depth_multiplier_accepts_correct_answers(capsys):
    accepts(check.separable_conv, SOLUTION["separable_conv"], capsys)
    accepts(check.separable_conv, pair_d(), capsys)
    accepts(
        check.separable_conv,
        lambda x, f, strides=1, depth_multiplier=1: layers.SeparableConv2D(
            f, 3, strides=strides, padding="same", depth_multiplier=depth_multiplier
        )(x),
        capsys,
    )

    def grouped(x, filters, strides=1, depth_multiplier=1):  # channel c's maps are c·d … c·d + d − 1, as Keras's
        c = x.shape[-1]
        x = layers.Conv2D(c * depth_multiplier, 3, strides=strides, padding="same", groups=c, use_bias=False)(x)
        return layers.Conv2D(filters, 1, use_bias=False)(x)

    accepts(check.separable_conv, grouped, capsys)
    accepts(
        check.separable_conv,
        lambda x, f, strides=1, depth_multiplier=1: keras.Sequential(
            [layers.DepthwiseConv2D(3, strides, "same", depth_multiplier=depth_multiplier), layers.Conv2D(f, 1)]
        )(x),
        capsys,
    )


def test_the_current_task_5_checks_the_block_and_the_network(capsys):
    check.mobilenet_block(SOLUTION["mobilenet_block"], SOLUTION["mobilenet_v1"])
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == ["✓ Task 5 · mobilenet_block", "✓ Task 5 · mobilenet_v1"]
    wrong_v1 = V1_MISTAKES[next(iter(k for k in V1_MISTAKES if k != "stub"))][0]
    with pytest.raises(CheckFailed, match="Task 5 · mobilenet_v1"):
        check.mobilenet_block(SOLUTION["mobilenet_block"], wrong_v1)


# -- Task 6 · inverted_residual_stage ------------------------------------------------------------
def stage_with(
    linear=True,
    shortcut="rule",
    stride_on="first",
    expand_from="input",
    expand_when="t != 1",
    relu=lambda: layers.ReLU(6.0),
    project_bn=True,
    use_bias=False,
    spelling="layers",
):
    """An inverted residual stage; the defaults are right, each keyword makes one change."""

    def answer(x, t, c, n, s, name="stage"):
        for i in range(n):
            first, last = i == 0, i == n - 1
            stride = s if (stride_on == "first" and first or stride_on == "last" and last or stride_on == "all") else 1
            channels = x.shape[-1]
            y = x
            expand = {"t != 1": t != 1, "always": True, "never": False}[expand_when]
            if expand:
                width = t * (channels if expand_from == "input" else c)
                y = relu()(layers.BatchNormalization()(layers.Conv2D(width, 1, use_bias=use_bias)(y)))
            y = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=use_bias)(y)
            y = relu()(layers.BatchNormalization()(y))
            y = layers.Conv2D(c, 1, use_bias=use_bias)(y)
            y = layers.BatchNormalization()(y) if project_bn else y
            y = y if linear else relu()(y)
            join = {
                "rule": stride == 1 and channels == c,
                "never": False,
                "same channels": channels == c,
                "stride 1": stride == 1,
            }[shortcut]
            if join:
                y = x + y if spelling == "plus" else layers.Add()([x, y])
            x = y
        return x

    return answer


def nested_stage(x, t, c, n, s, name="stage"):
    """Each block's body a Sequential model; ReLU6 spelled as ReLU(max_value=6); the join with ops.add."""
    for i in range(n):
        stride = s if i == 0 else 1
        channels = x.shape[-1]
        parts = []
        if t != 1:
            parts += [layers.Conv2D(t * channels, 1, use_bias=False), layers.BatchNormalization(), layers.ReLU(6)]
        parts += [layers.DepthwiseConv2D(3, stride, "same", use_bias=False), layers.BatchNormalization()]
        parts += [layers.ReLU(max_value=6), layers.Conv2D(c, 1, use_bias=False), layers.BatchNormalization()]
        y = keras.Sequential(parts, name=f"{name}_{i}")(x)
        x = ops.add(x, y) if stride == 1 and channels == c else y
    return x


STAGE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda x, t, c, n, s, name="stage": None, "returned None"),
    "ReLU6 after the projection": (stage_with(linear=False), "linear bottleneck"),
    "no shortcut at all": (stage_with(shortcut="never"), "add the block's input"),
    "a shortcut whenever the channels match": (stage_with(shortcut="same channels"), "the input joins only blocks"),
    "a shortcut whenever the stride is 1": (stage_with(shortcut="stride 1"), "the input joins only blocks"),
    "stride on the last block": (stage_with(stride_on="last"), "the first block has the stride s"),
    "stride on every block": (stage_with(stride_on="all"), "the first block alone has stride s"),
    "expansion to t·c": (stage_with(expand_from="c"), "t·C_in filters"),
    "an expansion conv with t = 1": (stage_with(expand_when="always"), "with t = 1 there is no expansion conv"),
    "no expansion conv at all": (stage_with(expand_when="never"), "with t ≠ 1 every block starts"),
    "plain ReLU": (stage_with(relu=layers.ReLU), "ReLU6"),
    "no BN after the projection": (stage_with(project_bn=False), "batch normalisation follows each convolution"),
    "convolutions with bias": (stage_with(use_bias=True), "use_bias=False"),
}


@pytest.mark.parametrize("mistake", list(STAGE_MISTAKES))
def test_inverted_residual_stage_rejects(mistake):
    answer, fragment = STAGE_MISTAKES[mistake]
    rejects(check.inverted_residual_stage, answer, "Task 6", fragment)


def test_inverted_residual_stage_accepts_correct_answers(capsys):
    accepts(check.inverted_residual_stage, SOLUTION["inverted_residual_stage"], capsys)
    accepts(check.inverted_residual_stage, stage_with(spelling="plus"), capsys)  # x + y
    accepts(check.inverted_residual_stage, stage_with(relu=lambda: layers.Activation("relu6")), capsys)
    accepts(check.inverted_residual_stage, nested_stage, capsys)

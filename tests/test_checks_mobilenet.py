"""Unit 08's checks reject the stub and typical wrong answers and accept correct ones."""

import keras
import pytest
from keras import layers

from cnn_course.checks import CheckFailed
from cnn_course.checks import mobilenet as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("08_mobilenet")


# -- Tasks 1–3 · the cost formulas ------------------------------------------------------
COST_MISTAKES = {
    "standard_conv_cost": {
        "stub": (stub, "not written yet"),
        "K only once": (lambda H, W, K, C, M: H * W * K * C * M, "factor K appears twice"),
        "forgets C": (lambda H, W, K, C, M: H * W * K * K * M, "multiply by C"),
        "forgets M": (lambda H, W, K, C, M: H * W * K * K * C, "multiply by M"),
        "one pixel only": (lambda H, W, K, C, M: K * K * C * M, "multiply by H·W"),
        "adds instead of multiplying": (lambda H, W, K, C, M: H * W + K * K + C * M, "expected"),
        "a string": (lambda H, W, K, C, M: f"{H * W * K * K * C * M}", "whole number"),
    },
    "depthwise_conv_cost": {
        "stub": (stub, "not written yet"),
        "K only once": (lambda H, W, C, K: H * W * C * K, "factor K appears twice"),
        "forgets C": (lambda H, W, C, K: H * W * K * K, "multiply by C"),
        "counts it like a standard conv with C outputs": (
            lambda H, W, C, K: H * W * C * C * K * K,
            "reads one channel",
        ),
        "returns None": (lambda H, W, C, K: None, "returned None"),
    },
    "pointwise_conv_cost": {
        "stub": (stub, "not written yet"),
        "forgets C": (lambda H, W, C, M: H * W * M, "multiply by C"),
        "forgets M": (lambda H, W, C, M: H * W * C, "multiply by M"),
        "one pixel only": (lambda H, W, C, M: C * M, "multiply by H·W"),
        "includes a 3×3 kernel": (lambda H, W, C, M: H * W * C * M * 9, "expected"),
    },
}


@pytest.mark.parametrize("task, mistake", [(t, m) for t, ms in COST_MISTAKES.items() for m in ms])
def test_cost_checks_reject(task, mistake):
    answer, fragment = COST_MISTAKES[task][mistake]
    rejects(getattr(check, task), answer, fragment)


def test_cost_checks_accept_correct_answers(capsys):
    import math

    for task in COST_MISTAKES:
        accepts(getattr(check, task), SOLUTION[task], capsys)
    accepts(check.standard_conv_cost, lambda H, W, K, C, M: math.prod([H, W, K, K, C, M]), capsys)
    accepts(check.standard_conv_cost, lambda H, W, K, C, M: float(H * W * C * M * K**2), capsys)
    accepts(check.depthwise_conv_cost, lambda H, W, C, K: K**2 * H * W * C, capsys)
    accepts(check.pointwise_conv_cost, lambda H, W, C, M: (H * W) * (C * M), capsys)


# -- Task 4 · separable_conv -------------------------------------------------------------------
def pair(first="dw", multiplier=1, pointwise=True, pw_first=False, pw_stride=False, between=None, padding="same"):
    def answer(x, filters, strides=1):
        def depthwise(t):
            stride = 1 if pw_stride else strides
            if first == "conv":
                return layers.Conv2D(t.shape[-1], 3, strides=stride, padding=padding)(t)
            return layers.DepthwiseConv2D(3, strides=stride, padding=padding, depth_multiplier=multiplier)(t)

        def point(t):
            return layers.Conv2D(filters, 1, strides=strides if pw_stride else 1)(t)

        if pw_first:
            return depthwise(point(x))
        x = depthwise(x)
        if between:
            x = between(x)
        return point(x) if pointwise else x

    return answer


PAIR_MISTAKES = {
    "stub": (stub, "not written yet"),
    "Conv2D with C filters instead of a depthwise conv": (pair(first="conv"), "use DepthwiseConv2D"),
    "depth_multiplier 2": (pair(multiplier=2), "depth_multiplier=1"),
    "pointwise conv missing": (pair(pointwise=False), "add the 1×1 pointwise conv"),
    "pointwise before depthwise": (pair(pw_first=True), "depthwise first"),
    "stride on the pointwise conv": (pair(pw_stride=True), "stride belongs to the depthwise conv"),
    "ReLU between the two": (pair(between=layers.ReLU()), "item 1"),
    "valid padding": (pair(padding="valid"), "output shape"),
}


@pytest.mark.parametrize("mistake", list(PAIR_MISTAKES))
def test_separable_conv_rejects(mistake):
    answer, fragment = PAIR_MISTAKES[mistake]
    rejects(check.separable_conv, answer, "Task 4", fragment)


def test_separable_conv_accepts_correct_answers(capsys):
    accepts(check.separable_conv, SOLUTION["separable_conv"], capsys)
    accepts(
        check.separable_conv,
        lambda x, f, strides=1: layers.SeparableConv2D(f, 3, strides=strides, padding="same")(x),
        capsys,
    )

    def keras_padding(x, filters, strides=1):  # keras.applications pads explicitly before a strided depthwise conv
        if strides == 2:
            x = layers.ZeroPadding2D(((0, 1), (0, 1)))(x)
        x = layers.DepthwiseConv2D(3, strides=strides, padding="same" if strides == 1 else "valid", use_bias=False)(x)
        return layers.Conv2D(filters, 1, use_bias=False)(x)

    accepts(check.separable_conv, keras_padding, capsys)


# -- Task 5 · mobilenet_block ------------------------------------------------------------------
def block(
    conv_instead=False,
    multiplier=1,
    pointwise=True,
    pw_first=False,
    pw_stride=False,
    middle=True,
    bias=False,
    relu=layers.ReLU,
):
    def answer(x, filters, strides=1, name="block"):
        def depthwise(t):
            stride = 1 if pw_stride else strides
            if conv_instead:
                return layers.Conv2D(t.shape[-1], 3, strides=stride, padding="same", use_bias=bias)(t)
            return layers.DepthwiseConv2D(
                3, strides=stride, padding="same", depth_multiplier=multiplier, use_bias=bias
            )(t)

        def point(t):
            return layers.Conv2D(filters, 1, strides=strides if pw_stride else 1, use_bias=bias)(t)

        def bn_relu(t):
            return relu()(layers.BatchNormalization()(t))

        if pw_first:
            return bn_relu(depthwise(bn_relu(point(x))))
        x = depthwise(x)
        if middle:
            x = bn_relu(x)
        return bn_relu(point(x)) if pointwise else x

    return answer


BLOCK_MISTAKES = {
    "stub": (stub, "not written yet"),
    "Conv2D with C filters instead of a depthwise conv": (block(conv_instead=True), "use DepthwiseConv2D"),
    "depth_multiplier 2": (block(multiplier=2), "depth_multiplier=1"),
    "pointwise conv missing": (block(pointwise=False), "maps the C channels to `filters`"),
    "pointwise before depthwise": (block(pw_first=True), "depthwise first"),
    "stride on the pointwise conv": (block(pw_stride=True), "stride belongs to the depthwise conv"),
    "no BN-ReLU between the two": (block(middle=False), "BN and ReLU after the depthwise conv"),
    "convolutions with bias": (block(bias=True), "no biases"),
    "sigmoid instead of ReLU": (block(relu=lambda: layers.Activation("sigmoid")), "item 2"),
}


@pytest.mark.parametrize("mistake", list(BLOCK_MISTAKES))
def test_mobilenet_block_rejects(mistake):
    answer, fragment = BLOCK_MISTAKES[mistake]
    rejects(check.mobilenet_block, answer, "Task 5", fragment)


def test_mobilenet_block_accepts_correct_answers(capsys):
    accepts(check.mobilenet_block, SOLUTION["mobilenet_block"], capsys)
    accepts(check.mobilenet_block, block(relu=lambda: layers.ReLU(6.0)), capsys)  # ReLU6, as Keras's MobileNet
    accepts(check.mobilenet_block, block(relu=lambda: layers.Activation("relu")), capsys)


# -- Task 6 · mobilenet_v1 -------------------------------------------------------------------
def mobilenet_with(stem_alpha=True, block_alpha=True, head_alpha=False, config=None, dense_head=True):
    table = config or SOLUTION["MOBILENET_V1"]
    make_block = SOLUTION["mobilenet_block"]

    def answer(alpha=1.0, input_shape=(224, 224, 3), n_class=1000):
        inputs = keras.Input(input_shape)
        x = layers.Conv2D(int(32 * (alpha if stem_alpha else 1)), 3, strides=2, padding="same", use_bias=False)(inputs)
        x = layers.ReLU()(layers.BatchNormalization()(x))
        for i, (filters, strides) in enumerate(table):
            x = make_block(x, int(filters * (alpha if block_alpha else 1)), strides, name=f"b{i}")
        x = layers.GlobalAveragePooling2D(keepdims=not dense_head)(x)
        classes = int(n_class * alpha) if head_alpha else n_class
        if dense_head:
            return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x))
        x = layers.Conv2D(classes, 1)(layers.Dropout(1e-3)(x))
        return keras.Model(inputs, layers.Softmax()(layers.Reshape((classes,))(x)))

    return answer


V1_MISTAKES = {
    "stub": (stub, "not written yet"),
    "α not applied to the first conv": (mobilenet_with(stem_alpha=False), "int(32·α) filters"),
    "α not applied to the blocks": (
        mobilenet_with(block_alpha=False),
        "α scales the first conv and every pointwise conv",
    ),
    "α applied to the classifier too": (mobilenet_with(head_alpha=True), "α does not apply to it"),
    "the table's stride typo copied": (
        mobilenet_with(
            config=[(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 5, (1024, 2), (1024, 2)]
        ),
        "multiply-adds",
    ),
    "one block missing": (
        mobilenet_with(
            config=[(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 4, (1024, 2), (1024, 1)]
        ),
        "parameters",
    ),
}


@pytest.mark.parametrize("mistake", list(V1_MISTAKES))
def test_mobilenet_v1_rejects(mistake):
    answer, fragment = V1_MISTAKES[mistake]
    rejects(check.mobilenet_v1, answer, "Task 6", fragment)


def test_mobilenet_v1_accepts_correct_answers(capsys):
    accepts(check.mobilenet_v1, SOLUTION["mobilenet_v1"], capsys)
    accepts(check.mobilenet_v1, mobilenet_with(dense_head=False), capsys)  # Keras's 1×1 conv classifier


# -- Task 7 · the P86 drill ---------------------------------------------------------------------
H, W, C, M, K = 28, 28, 256, 512, 3
RIGHT = (H * W * C * K * K, H * W * C * M, 1 / M + 1 / K**2)
DRILL_MISTAKES = {
    "nothing set": ((None, None, None), "still None"),
    "(い) and (う) swapped": ((RIGHT[1], RIGHT[0], RIGHT[2]), "you swapped them"),
    "K once in (い)": ((H * W * C * K, RIGHT[1], RIGHT[2]), "H·W·C·D_K·D_K"),
    "standard cost for (い)": ((H * W * C * K * K * M, RIGHT[1], RIGHT[2]), "(い)"),
    "saving upside down": ((RIGHT[0], RIGHT[1], 1 / RIGHT[2]), "a number below 1"),
    "saving as 1/K² only": ((RIGHT[0], RIGHT[1], 1 / K**2), "1/M + 1/D_K²"),
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
    assert capsys.readouterr().out.count("✓ Task 7") == 2

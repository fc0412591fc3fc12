"""Unit 07's checks: each rejects the stub and the typical wrong answers, and accepts
the solution (run from solutions/07_resnet.ipynb) and other correct ways to write it.

Each wrong answer names the words its rejection must contain, so that a wrong
answer is rejected for its own mistake, not by accident.
"""

import keras
import pytest
from keras import layers

from cnn_course.checks import resnet as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("07_resnet")


# -- one configurable block builder, right by default --------------------------------
def conv_bn(x, filters, kernel, stride=1, use_bias=True, bn=True, padding="same"):
    x = layers.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=use_bias)(x)
    return layers.BatchNormalization()(x) if bn else x


def shortcut_with(always=False, never=False, kernel=1, bn=True, strided=True, stride_only_by_channels=False):
    def answer(x, channels, stride=1, name="shortcut"):
        same = x.shape[-1] == channels and (stride == 1 or stride_only_by_channels)
        if never or (same and not always):
            return x
        return conv_bn(x, channels, kernel, stride if strided else 1, bn=bn)

    return answer


def block_with(
    kind="basic",
    residual=True,
    relu_before_add=False,
    relu_after_add=True,
    add_before_bn=False,
    stride_at=0,
    expansion=4,
    padding="same",
    use_bias=True,
    join="add",
    shortcut_first=True,
    relu=lambda: layers.Activation("relu"),
    **shortcut_options,
):
    """A residual block; `stride_at` is the index of the strided conv in the branch."""

    def answer(x, filters, stride=1, name="block"):
        if kind == "basic":
            plan = [(filters, 3), (filters, 3)]
        else:
            plan = [(filters, 1), (filters, 3), (expansion * filters, 1)]
        c_out = plan[-1][0]
        s = shortcut_with(**shortcut_options)(x, c_out, stride) if shortcut_first else None
        y = x
        for i, (f, k) in enumerate(plan):
            last = i == len(plan) - 1
            y = layers.Conv2D(f, k, strides=stride if i == stride_at else 1, padding=padding, use_bias=use_bias)(y)
            if last and add_before_bn:
                break
            y = layers.BatchNormalization()(y)
            if not last or relu_before_add:
                y = relu()(y)
        if s is None:
            s = shortcut_with(**shortcut_options)(x, c_out, stride)
        if residual:
            if join == "add":
                y = layers.Add()([s, y])
            elif join == "+":
                y = y + s
            else:
                y = layers.Concatenate()([s, y])
        if add_before_bn:
            y = layers.BatchNormalization()(y)
        if relu_after_add:
            y = relu()(y)
        return y

    return answer


# -- Task 1 · shortcut ------------------------------------------------------------------
SHORTCUT_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda x, channels, stride=1, name="s": None, "returned None"),
    "projection always": (shortcut_with(always=True), "a projection where the identity suffices"),
    "identity always": (shortcut_with(never=True), "must be projected"),
    "3×3 projection": (shortcut_with(kernel=3), "a projection is a 1×1 Conv2D"),
    "projection without BN": (shortcut_with(bn=False), "these are missing: ['BatchNormalization']"),
    "projection without the stride": (shortcut_with(strided=False), "strides=stride"),
    "identity when only the stride changes": (shortcut_with(stride_only_by_channels=True), "must be projected"),
    "max pooling then 1×1 conv": (
        lambda x, c, s=1, name="s": (
            x if x.shape[-1] == c and s == 1 else conv_bn(layers.MaxPooling2D(1, strides=s)(x), c, 1)
        ),
        "a projection is a 1×1 Conv2D",
    ),
}


@pytest.mark.parametrize("mistake", list(SHORTCUT_MISTAKES))
def test_shortcut_rejects(mistake):
    answer, fragment = SHORTCUT_MISTAKES[mistake]
    rejects(check.shortcut, answer, "Task 1", fragment)


def test_shortcut_accepts_correct_answers(capsys):
    accepts(check.shortcut, SOLUTION["shortcut"], capsys)
    accepts(check.shortcut, shortcut_with(), capsys)  # no names, padding "same"

    def with_identity_layer(x, channels, stride=1):
        if x.shape[-1] != channels or stride > 1:
            return layers.BatchNormalization()(layers.Conv2D(channels, 1, strides=stride, use_bias=False)(x))
        return layers.Identity()(x)

    accepts(check.shortcut, with_identity_layer, capsys)


# -- Task 2 · basic_block -----------------------------------------------------------------
BASIC_MISTAKES = {
    "stub": (stub, "not written yet"),
    "plain block: no addition": (block_with(residual=False), "there is no addition"),
    "ReLU before the addition, none after": (
        block_with(relu_before_add=True, relu_after_add=False),
        "the ReLU comes before the addition",
    ),
    "ReLU before and after the addition": (
        block_with(relu_before_add=True),
        "a ReLU at the end of the residual branch",
    ),
    "no ReLU after the addition": (block_with(relu_after_add=False), "nothing after the addition"),
    "addition before the last BN": (block_with(add_before_bn=True), "the addition comes before batch normalisation"),
    "no projection when the shape changes": (block_with(never=True), "project"),
    "projection always": (block_with(always=True), "a projection where the identity suffices"),
    "stride on the second conv": (block_with(stride_at=1), "the stride goes on the first convolution"),
    "concatenates instead of adding": (block_with(join="concat"), "DenseNet"),
    "projection without BN": (block_with(bn=False), "the shortcut"),
    "valid padding": (block_with(padding="valid"), "padding='same'"),
    "returns the layer, not its output": (lambda x, f, s=1, name="b": layers.Add(), "Keras tensor"),
}


@pytest.mark.parametrize("mistake", list(BASIC_MISTAKES))
def test_basic_block_rejects(mistake):
    answer, fragment = BASIC_MISTAKES[mistake]
    rejects(check.basic_block, answer, "Task 2", fragment)


def test_basic_block_accepts_correct_answers(capsys):
    accepts(check.basic_block, SOLUTION["basic_block"], capsys)
    accepts(check.basic_block, block_with(), capsys)  # unnamed layers, Add([shortcut, branch])
    # `+`, ReLU layers, no conv bias, the shortcut built after the branch
    accepts(check.basic_block, block_with(join="+", use_bias=False, shortcut_first=False, relu=layers.ReLU), capsys)


def test_a_plain_block_that_keeps_the_shape_is_still_rejected():
    # with stride 1 and equal channels a plain block builds and has the right output shape
    message = rejects(check.basic_block, block_with(residual=False), "Task 2")
    assert "16, stride=1" in message and "plain chain of layers" in message


# -- Task 3 · bottleneck_block ------------------------------------------------------------
BOTTLENECK_MISTAKES = {
    "stub": (stub, "not written yet"),
    "plain block": (block_with("bottleneck", residual=False), "there is no addition"),
    "channels not ×4": (block_with("bottleneck", expansion=1), "expands to 4·filters"),
    "stride on the last 1×1 conv": (block_with("bottleneck", stride_at=2), "the stride goes on the first convolution"),
    "ReLU before the addition": (
        block_with("bottleneck", relu_before_add=True, relu_after_add=False),
        "the ReLU comes before the addition",
    ),
    "addition before the last BN": (
        block_with("bottleneck", add_before_bn=True),
        "the addition comes before batch normalisation",
    ),
    "projection always": (block_with("bottleneck", always=True), "a projection where the identity suffices"),
    "no projection when only the stride changes": (block_with("bottleneck", stride_only_by_channels=True), "project"),
    "no projection at all": (block_with("bottleneck", never=True), "project"),
    "3×3 projection": (block_with("bottleneck", kernel=3), "1×1 conv with the block's stride"),
}


@pytest.mark.parametrize("mistake", list(BOTTLENECK_MISTAKES))
def test_bottleneck_block_rejects(mistake):
    answer, fragment = BOTTLENECK_MISTAKES[mistake]
    rejects(check.bottleneck_block, answer, "Task 3", fragment)


def test_bottleneck_block_accepts_correct_answers(capsys):
    accepts(check.bottleneck_block, SOLUTION["bottleneck_block"], capsys)
    accepts(check.bottleneck_block, block_with("bottleneck"), capsys)  # v1: stride on the first 1×1
    accepts(check.bottleneck_block, block_with("bottleneck", stride_at=1), capsys)  # v1.5: stride on the 3×3
    accepts(check.bottleneck_block, block_with("bottleneck", join="+", use_bias=False, relu=layers.ReLU), capsys)


# -- Task 4 · resnet (ResNet-50 from a configuration) -----------------------------------------
def resnet_with(
    block=None,
    stem_kernel=7,
    max_pool=True,
    stride_on_last_block=False,
    head=layers.GlobalAveragePooling2D,
    fixed_classes=None,
    use_bias=True,
):
    def answer(config, n_class=1000, input_shape=(224, 224, 3)):
        make_block = block or block_with("bottleneck", use_bias=use_bias)
        inputs = keras.Input(input_shape)
        x = layers.Conv2D(64, stem_kernel, strides=2, padding="same", use_bias=use_bias)(inputs)
        x = layers.ReLU()(layers.BatchNormalization()(x))
        if max_pool:
            x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        for filters, blocks, stride in config:
            for i in range(blocks):
                strided = i == (blocks - 1 if stride_on_last_block else 0)
                x = make_block(x, filters, stride if strided else 1)
        x = head()(x)
        return keras.Model(inputs, layers.Dense(fixed_classes or n_class, activation="softmax")(x))

    return answer


RESNET_MISTAKES = {
    "stub": (stub, "not written yet"),
    "stride on the last block of each stage": (
        resnet_with(stride_on_last_block=True),
        "the other blocks of the stage keep stride 1",
    ),
    "no max pooling in the stem": (resnet_with(max_pool=False), "the stem"),
    "3×3 stem": (resnet_with(stem_kernel=3), "the stem"),
    "global max pooling in the head": (resnet_with(head=layers.GlobalMaxPooling2D), "global average pooling"),
    "bottleneck without the ×4": (resnet_with(block=block_with("bottleneck", expansion=1)), "4·filters"),
    "ten classes hard-coded": (resnet_with(fixed_classes=1000), "use n_class"),
}


@pytest.mark.parametrize("mistake", list(RESNET_MISTAKES))
def test_resnet_rejects(mistake):
    answer, fragment = RESNET_MISTAKES[mistake]
    rejects(check.resnet50, answer, "Task 4", fragment)


def test_resnet_accepts_correct_answers(capsys):
    accepts(check.resnet50, SOLUTION["resnet"], capsys)  # Keras's explicit padding, conv biases
    # padding "same" in the stem, no conv biases, v1.5 blocks
    accepts(
        check.resnet50, resnet_with(block=block_with("bottleneck", stride_at=1, use_bias=False), use_bias=False), capsys
    )


# -- Task 5 · small_resnet ------------------------------------------------------------------------
def small_with(block=None, stem_stride=2, stride_everywhere=False, head=layers.GlobalAveragePooling2D, classes=None):
    def answer(n_class=10):
        make_block = block or block_with()
        inputs = keras.Input((28, 28, 1))
        x = layers.ReLU()(
            layers.BatchNormalization()(layers.Conv2D(16, 3, strides=stem_stride, padding="same")(inputs))
        )
        for filters, stride in [(16, 1), (32, 2), (64, 2)]:
            for i in range(2):
                x = make_block(x, filters, stride if (i == 0 or stride_everywhere) else 1)
        x = head()(x)
        return keras.Model(inputs, layers.Dense(classes or n_class, activation="softmax")(x))

    return answer


SMALL_MISTAKES = {
    "stub": (stub, "not written yet"),
    "plain network": (small_with(block=block_with(residual=False)), "there are no additions"),
    "stride in every block": (small_with(stride_everywhere=True), "the other blocks of the stage keep stride 1"),
    "stem with stride 1": (small_with(stem_stride=1), "the stem"),
    "flatten instead of GAP": (small_with(head=layers.Flatten), "global average pooling"),
    "bottleneck blocks": (small_with(block=block_with("bottleneck")), "check the channels"),
    "ten classes hard-coded": (small_with(classes=10), "n_class units"),
}


@pytest.mark.parametrize("mistake", list(SMALL_MISTAKES))
def test_small_resnet_rejects(mistake):
    answer, fragment = SMALL_MISTAKES[mistake]
    rejects(check.small_resnet, answer, "Task 5", fragment)


def test_small_resnet_accepts_correct_answers(capsys):
    accepts(check.small_resnet, SOLUTION["small_resnet"], capsys)
    accepts(check.small_resnet, small_with(block=block_with(join="+", use_bias=False)), capsys)


# -- Task 6 · bottleneck_block_params -------------------------------------------------------------
def params_with(bias=True, bn_per_channel=4, projection="auto", expansion=4):
    def answer(c_in, filters, stride=1):
        def conv_bn_count(k, c, c_out):
            return k * k * c * c_out + bias * c_out + bn_per_channel * c_out

        c_out = expansion * filters
        total = conv_bn_count(1, c_in, filters) + conv_bn_count(3, filters, filters) + conv_bn_count(1, filters, c_out)
        project = (c_in != c_out or stride != 1) if projection == "auto" else projection
        return total + project * conv_bn_count(1, c_in, c_out)

    return answer


PARAMS_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda *a: None, "returned None"),
    "forgets the biases": (params_with(bias=False), "count the biases"),
    "counts 2 per BN channel": (params_with(bn_per_channel=2), "4 numbers per channel"),
    "forgets batch normalisation": (params_with(bn_per_channel=0), "a BN layer with 4 numbers per channel"),
    "projection always": (params_with(projection=True), "a projection only when the shapes differ"),
    "projection never": (params_with(projection=False), "add the projection's 1×1 conv and BN"),
    "no ×4 expansion": (params_with(expansion=1), "expands to 4·filters"),
    "returns a float": (lambda *a: float(params_with()(*a)), "wrong type"),
}


@pytest.mark.parametrize("mistake", list(PARAMS_MISTAKES))
def test_bottleneck_block_params_rejects(mistake):
    answer, fragment = PARAMS_MISTAKES[mistake]
    rejects(check.bottleneck_block_params, answer, "Task 6", fragment)


def test_bottleneck_block_params_accepts_correct_answers(capsys):
    accepts(check.bottleneck_block_params, SOLUTION["bottleneck_block_params"], capsys)

    def closed_form(c_in, filters, stride=1):
        f, c_out = filters, 4 * filters
        weights = c_in * f + 9 * f * f + f * c_out
        per_channel = 5 * (f + f + c_out)  # a bias and 4 BN numbers per output channel
        projection = c_in * c_out + 5 * c_out if (c_in != c_out or stride != 1) else 0
        return weights + per_channel + projection

    accepts(check.bottleneck_block_params, closed_form, capsys)


def test_the_checks_formulas_agree_with_keras():
    for c_in, filters, stride in [(64, 16, 1), (32, 16, 2), (64, 64, 1)]:
        inputs = keras.Input((8, 8, c_in))
        model = keras.Model(inputs, SOLUTION["bottleneck_block"](inputs, filters, stride))
        assert model.count_params() == check.bottleneck_params(c_in, filters, stride)
        model = keras.Model(inputs, SOLUTION["basic_block"](inputs, filters, stride))
        assert model.count_params() == check.basic_params(c_in, filters, stride)
    assert SOLUTION["small_resnet"](10).count_params() == check.resnet_params(check.SMALL, "basic", 10, 1, (3, 16))

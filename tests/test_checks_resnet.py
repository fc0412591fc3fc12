"""Unit 07's checks: each rejects the stub and the typical wrong answers, and accepts
the solution (run from solutions/07_resnet.ipynb) and other correct ways to write it
(nested models, keras.ops, equivalent layers, other names, harmless extra arguments).

Each wrong answer names the words its rejection must contain, so that a wrong
answer is rejected for its own mistake, not by accident. Most keep the shapes and
the parameter count right: only the outputs can tell them apart.
"""

import keras
import pytest
from keras import layers, ops

from cnn_course.checks import resnet as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("07_resnet")


# -- one configurable shortcut and block, right by default --------------------------------
def shortcut_with(
    always=False,
    never=False,
    kernel=1,
    bn=True,
    strided=True,
    stride_only_by_channels=False,
    pool_first=False,
    relu_after=False,
    bn_first=False,
    bn_axis=-1,
    use_bias=True,
    center=True,
    **conv_args,
):
    def answer(x, channels, stride=1, name="shortcut"):
        same = x.shape[-1] == channels and (stride == 1 or stride_only_by_channels)
        if never or (same and not always):
            return x
        norm = layers.BatchNormalization(axis=bn_axis, center=center)
        if bn_first:
            x = norm(x)
        if pool_first and stride > 1:  # ResNet-D's shortcut: average pooling, then a 1×1 conv
            x = layers.AveragePooling2D(stride, padding="same")(x)
        s = 1 if pool_first or not strided else stride
        x = layers.Conv2D(channels, kernel, strides=s, padding="same", use_bias=use_bias, **conv_args)(x)
        if bn and not bn_first:
            x = norm(x)
        return layers.ReLU()(x) if relu_after else x

    return answer


def block_with(
    kind="basic",
    residual=True,
    relu_before_add=False,
    relu_after_add=True,
    mid_relu=True,
    add_before_bn=False,
    stride_at=0,
    expansion=4,
    padding="same",
    use_bias=True,
    center=True,
    bn_axis=-1,
    dilation=1,
    join="add",
    skip_from_first_conv=False,
    shortcut_first=True,
    nested=False,
    relu=lambda: layers.Activation("relu"),
    **shortcut_options,
):
    """A residual block; `stride_at` is the index of the strided conv in the branch."""

    def answer(x, filters, stride=1, name="block"):
        plan = (
            [(filters, 3), (filters, 3)] if kind == "basic" else [(filters, 1), (filters, 3), (expansion * filters, 1)]
        )
        c_out = plan[-1][0]
        options = {"use_bias": use_bias, "center": center, "bn_axis": bn_axis, **shortcut_options}
        s = shortcut_with(**options)(x, c_out, stride) if shortcut_first else None
        parts, first = [], None
        for i, (f, k) in enumerate(plan):
            last = i == len(plan) - 1
            pad = "valid" if padding == "valid" and k == 3 else "same"
            rate = dilation if k == 3 and last == (kind == "basic") else 1
            conv = layers.Conv2D(f, k, strides=stride if i == stride_at else 1, padding=pad, use_bias=use_bias)
            parts.append(layers.Conv2D(f, k, padding=pad, dilation_rate=rate, use_bias=use_bias) if rate > 1 else conv)
            if pad == "valid":
                parts.append(layers.ZeroPadding2D(1))  # "compensates" the valid conv, after it
            if last and add_before_bn:
                break
            parts.append(layers.BatchNormalization(axis=bn_axis, center=center))
            if (not last and mid_relu) or (last and relu_before_add):
                parts.append(relu())
        if nested:
            y = keras.Sequential(parts)(x)
        else:
            y = x
            for part in parts:
                y = part(y)
                first = y if first is None else first
        if s is None:
            s = shortcut_with(**options)(x, c_out, stride)
        if skip_from_first_conv and (skip_from_first_conv != "identity" or s is x):
            s = first
        if residual:
            y = {
                "add": lambda: layers.Add()([s, y]),
                "+": lambda: y + s,
                "ops": lambda: ops.add(s, y),
                "concat": lambda: layers.Concatenate()([s, y]),
            }[join]()
        if add_before_bn:
            y = layers.BatchNormalization()(y)
        return relu()(y) if relu_after_add else y

    return answer


# -- Task 1 · shortcut ------------------------------------------------------------------
SHORTCUT_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda x, channels, stride=1, name="s": None, "returned None"),
    "projection always": (shortcut_with(always=True), "a projection where the identity suffices"),
    "identity always": (shortcut_with(never=True), "must be projected"),
    "identity when only the stride changes": (shortcut_with(stride_only_by_channels=True), "must be projected"),
    "3×3 projection": (shortcut_with(kernel=3), "check the kernel sizes"),
    "projection without BN": (shortcut_with(bn=False), "missing BatchNormalization"),
    "projection without the stride": (shortcut_with(strided=False), "strides=stride"),
    "average pooling, then the 1×1 conv": (shortcut_with(pool_first=True), "no pooling here"),
    "a ReLU after the projection": (shortcut_with(relu_after=True), "a ReLU too many"),
    "BN before the conv": (shortcut_with(bn_first=True), "batch normalisation follows the convolution"),
    "BN over axis 1": (shortcut_with(bn_axis=1), "axis=-1"),
    "bias with BN(center=False) instead of no bias": (shortcut_with(center=False), "keep BN's β"),
    "a stray dilation": (shortcut_with(kernel=3, dilation_rate=2, strided=False), "not dilated"),
}


@pytest.mark.parametrize("mistake", list(SHORTCUT_MISTAKES))
def test_shortcut_rejects(mistake):
    answer, fragment = SHORTCUT_MISTAKES[mistake]
    rejects(check.shortcut, answer, "Task 1", fragment)


def test_shortcut_accepts_correct_answers(capsys):
    accepts(check.shortcut, SOLUTION["shortcut"], capsys)
    accepts(check.shortcut, shortcut_with(use_bias=False, kernel_initializer="he_normal"), capsys)

    def with_identity_layer(x, channels, stride=1):
        if x.shape[-1] != channels or stride > 1:
            return keras.Sequential(
                [layers.Conv2D(channels, (1, 1), strides=(stride, stride)), layers.BatchNormalization()]
            )(x)
        return layers.Identity()(x)

    accepts(check.shortcut, with_identity_layer, capsys)

    def subsampled(x, channels, stride=1, name="s"):  # taking every stride-th pixel, then a 1×1 conv: the same
        if x.shape[-1] == channels and stride == 1:
            return x
        x = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
        return layers.BatchNormalization(name=f"{name}_norm")(layers.Conv2D(channels, 1, name=f"{name}_proj")(x))

    accepts(check.shortcut, subsampled, capsys)


# -- Task 2 · basic_block -----------------------------------------------------------------
BASIC_MISTAKES = {
    "stub": (stub, "not written yet"),
    "plain block: no addition": (block_with(residual=False), "there is no addition"),
    "ReLU before the addition, none after": (
        block_with(relu_before_add=True, relu_after_add=False),
        "your ReLU comes before the add",
    ),
    "ReLU before and after the addition": (block_with(relu_before_add=True), "your ReLU comes before the add"),
    "no ReLU after the addition": (block_with(relu_after_add=False), "a ReLU is missing"),
    "no ReLU between the convolutions": (block_with(mid_relu=False), "a ReLU is missing"),
    "addition before the last BN": (block_with(add_before_bn=True), "output of the branch's last BN"),
    "no projection when the shape changes": (block_with(never=True), "needs a projection"),
    "projection always": (block_with(always=True), "a projection where the identity suffices"),
    "stride on the second conv": (block_with(stride_at=1), "the stride goes on the first conv"),
    "concatenates instead of adding": (block_with(join="concat"), "DenseNet"),
    "shortcut from the first conv's output": (block_with(skip_from_first_conv=True), "starts from the block's input"),
    "average pooling, then the projection": (block_with(pool_first=True), "no pooling here"),
    "BN over axis 1": (block_with(bn_axis=1), "axis=-1"),
    "bias with BN(center=False) instead of no bias": (block_with(center=False), "keep BN's β"),
    "valid padding, zero padding after the conv": (block_with(padding="valid"), "padding='same'"),
    "a stray dilation on the second conv": (block_with(dilation=2), "not dilated"),
    "returns the layer, not its output": (lambda x, f, s=1, name="b": layers.Add(), "Keras tensor"),
}


@pytest.mark.parametrize("mistake", list(BASIC_MISTAKES))
def test_basic_block_rejects(mistake):
    answer, fragment = BASIC_MISTAKES[mistake]
    rejects(check.basic_block, answer, "Task 2", fragment)


def test_basic_block_accepts_correct_answers(capsys):
    accepts(check.basic_block, SOLUTION["basic_block"], capsys)
    accepts(check.basic_block, block_with(), capsys)  # unnamed layers, Activation("relu"), Add([shortcut, branch])
    # `+`, ReLU layers, no conv bias, the shortcut built after the branch
    accepts(check.basic_block, block_with(join="+", use_bias=False, shortcut_first=False, relu=layers.ReLU), capsys)
    # the branch as a keras.Sequential, keras.ops.add, a ReLU as keras.ops.relu
    accepts(check.basic_block, block_with(nested=True, join="ops", relu=layers.ReLU), capsys)
    accepts(check.basic_block, block_with(relu=lambda: ops.relu, kernel_initializer="he_normal"), capsys)


# -- Task 3 · bottleneck_block ------------------------------------------------------------
def bottleneck(**options):
    return block_with("bottleneck", **options)


BOTTLENECK_MISTAKES = {
    "stub": (stub, "not written yet"),
    "plain block": (bottleneck(residual=False), "there is no addition"),
    "channels not ×4": (bottleneck(expansion=1), "expands to 4·filters"),
    "stride on the last 1×1 conv": (bottleneck(stride_at=2), "never on the last 1×1"),
    "ReLU before the addition": (bottleneck(relu_before_add=True, relu_after_add=False), "your ReLU comes before"),
    "no ReLU after the middle BN": (bottleneck(mid_relu=False), "a ReLU is missing"),
    "no ReLU after the addition": (bottleneck(relu_after_add=False), "a ReLU is missing"),
    "addition before the last BN": (bottleneck(add_before_bn=True), "output of the branch's last BN"),
    "projection always": (bottleneck(always=True), "a projection where the identity suffices"),
    "no projection when only the stride changes": (bottleneck(stride_only_by_channels=True), "needs a projection"),
    "average pooling, then the projection": (bottleneck(pool_first=True), "no pooling here"),
    "concatenates instead of adding": (bottleneck(join="concat"), "DenseNet"),
    "BN over axis 1": (bottleneck(bn_axis=1), "axis=-1"),
    "bias with BN(center=False) instead of no bias": (bottleneck(center=False), "keep BN's β"),
    "valid padding, zero padding after the 3×3 conv": (bottleneck(padding="valid"), "padding='same'"),
    "a stray dilation on the 3×3 conv": (bottleneck(dilation=2, stride_at=0), "not dilated"),
}


@pytest.mark.parametrize("mistake", list(BOTTLENECK_MISTAKES))
def test_bottleneck_block_rejects(mistake):
    answer, fragment = BOTTLENECK_MISTAKES[mistake]
    rejects(check.bottleneck_block, answer, "Task 3", fragment)


def test_bottleneck_block_accepts_correct_answers(capsys):
    accepts(check.bottleneck_block, SOLUTION["bottleneck_block"], capsys)
    accepts(check.bottleneck_block, bottleneck(), capsys)  # v1: stride on the first 1×1
    accepts(check.bottleneck_block, bottleneck(stride_at=1, join="+", shortcut_first=False), capsys)  # v1.5
    accepts(check.bottleneck_block, bottleneck(nested=True, join="ops", use_bias=False, relu=layers.ReLU), capsys)
    accepts(check.bottleneck_block, bottleneck(relu=lambda: ops.relu, kernel_initializer="zeros"), capsys)


# -- Task 4 · resnet (ResNet-50 from a configuration) -----------------------------------------
def resnet_with(
    block=None,
    stem_kernel=7,
    stem_pool=layers.MaxPooling2D,
    stem_relu=True,
    stride_on_last_block=False,
    head=layers.GlobalAveragePooling2D,
    fixed_classes=None,
    use_bias=True,
    softmax=True,
):
    def answer(config, n_class=1000, input_shape=(224, 224, 3)):
        make_block = block or bottleneck(use_bias=use_bias)
        inputs = keras.Input(input_shape)
        x = layers.Conv2D(64, stem_kernel, strides=2, padding="same", use_bias=use_bias)(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x) if stem_relu else x
        if stem_pool:
            x = stem_pool(3, strides=2, padding="same")(x)
        for filters, blocks, stride in config:
            for i in range(blocks):
                strided = i == (blocks - 1 if stride_on_last_block else 0)
                x = make_block(x, filters, stride if strided else 1)
        x = layers.Dense(fixed_classes or n_class, activation="softmax" if softmax is True else None)(head()(x))
        return keras.Model(inputs, layers.Softmax()(x) if softmax == "layer" else x)

    return answer


RESNET_MISTAKES = {
    "stub": (stub, "not written yet"),
    "keras.applications.ResNet50": (
        lambda config, n_class=1000, input_shape=(224, 224, 3): keras.applications.ResNet50(
            weights=None, classes=n_class, input_shape=input_shape
        ),
        "keras.applications builds this model",
    ),
    "the check's own reference": (
        lambda config, n_class=1000, input_shape=(224, 224, 3): check.reference(
            "resnet", (config, n_class), input_shape, (False, False, False)
        ),
        "own reference",
    ),
    "stride on the last block of each stage": (resnet_with(stride_on_last_block=True), "only the first block"),
    "no max pooling in the stem": (resnet_with(stem_pool=None), "3×3 max pooling"),
    "average pooling in the stem": (resnet_with(stem_pool=layers.AveragePooling2D), "3×3 max pooling"),
    "no ReLU in the stem": (resnet_with(stem_relu=False), "a ReLU is missing"),
    "3×3 stem": (resnet_with(stem_kernel=3), "stem 7×7"),
    "global max pooling in the head": (resnet_with(head=layers.GlobalMaxPooling2D), "not max pooling"),
    "flatten in the head": (resnet_with(head=layers.Flatten), "not Flatten"),
    "no softmax": (resnet_with(softmax=False), "end with a softmax"),
    "bottleneck without the ×4": (resnet_with(block=bottleneck(expansion=1)), "4·filters"),
    "ReLU before the additions": (resnet_with(block=bottleneck(relu_before_add=True)), "a ReLU too many"),
    "classes hard-coded": (resnet_with(fixed_classes=1000), "use n_class"),
}


@pytest.mark.parametrize("mistake", list(RESNET_MISTAKES))
def test_resnet_rejects(mistake):
    answer, fragment = RESNET_MISTAKES[mistake]
    rejects(check.resnet50, answer, "Task 4", fragment)


def nested_block(x, filters, stride=1, name="block"):
    """The bottleneck block as a sub-model, called on x."""
    inputs = keras.Input(x.shape[1:])
    return keras.Model(inputs, bottleneck(nested=True)(inputs, filters, stride))(x)


def test_resnet_accepts_correct_answers(capsys):
    accepts(check.resnet50, SOLUTION["resnet"], capsys)  # Keras's explicit padding, conv biases
    # padding "same" in the stem, no conv biases, v1.5 blocks, the shortcut built after the branch
    v15 = bottleneck(stride_at=1, use_bias=False, shortcut_first=False, join="+")
    accepts(check.resnet50, resnet_with(block=v15, use_bias=False), capsys)
    accepts(check.resnet50, resnet_with(block=nested_block), capsys)  # blocks as nested models
    # keras.ops for the ReLUs and the additions, the mean for GAP, a Softmax layer after the Dense layer
    blocks = bottleneck(join="ops", relu=lambda: ops.relu)
    accepts(
        check.resnet50, resnet_with(block=blocks, head=lambda: lambda x: ops.mean(x, (1, 2)), softmax="layer"), capsys
    )


# -- Task 5 · small_resnet ------------------------------------------------------------------------
def small_with(
    block=None, stem_stride=2, stem_bn=True, stride_everywhere=False, head=layers.GlobalAveragePooling2D, classes=None
):
    def answer(n_class=10):
        make_block = block or block_with()
        inputs = keras.Input((28, 28, 1))
        x = layers.Conv2D(16, 3, strides=stem_stride, padding="same")(inputs)
        x = layers.ReLU()(layers.BatchNormalization()(x) if stem_bn else x)
        for filters, stride in [(16, 1), (32, 2), (64, 2)]:
            for i in range(2):
                x = make_block(x, filters, stride if (i == 0 or stride_everywhere) else 1)
        x = head()(x)
        return keras.Model(inputs, layers.Dense(classes or n_class, activation="softmax")(x))

    return answer


SMALL_MISTAKES = {
    "stub": (stub, "not written yet"),
    "plain network": (small_with(block=block_with(residual=False)), "there is no addition"),
    "stride in every block": (small_with(stride_everywhere=True), "only the first block of a stage"),
    "stem with stride 1": (small_with(stem_stride=1), "the stride goes on"),
    "no BN in the stem": (small_with(stem_bn=False), "a BatchNormalization layer follows each convolution"),
    "flatten instead of GAP": (small_with(head=layers.Flatten), "not Flatten"),
    "global max pooling": (small_with(head=layers.GlobalMaxPooling2D), "not max pooling"),
    "bottleneck blocks": (small_with(block=bottleneck()), "layer with weights"),
    "ten classes hard-coded": (small_with(classes=10), "use n_class"),
    "ReLU before the additions": (small_with(block=block_with(relu_before_add=True)), "your ReLU comes before"),
    "shortcuts from the first conv": (small_with(block=block_with(skip_from_first_conv="identity")), "block's input"),
    "concatenating blocks": (small_with(block=block_with(join="concat")), "DenseNet"),
}


@pytest.mark.parametrize("mistake", list(SMALL_MISTAKES))
def test_small_resnet_rejects(mistake):
    answer, fragment = SMALL_MISTAKES[mistake]
    rejects(check.small_resnet, answer, "Task 5", fragment)


def test_small_resnet_accepts_correct_answers(capsys):
    accepts(check.small_resnet, SOLUTION["small_resnet"], capsys)
    accepts(check.small_resnet, small_with(block=block_with(join="+", use_bias=False)), capsys)
    accepts(check.small_resnet, small_with(block=block_with(nested=True, join="ops", relu=layers.ReLU)), capsys)
    accepts(check.small_resnet, small_with(head=lambda: lambda x: ops.mean(x, axis=(1, 2))), capsys)


# -- Task 6 · bottleneck_block_params -------------------------------------------------------------
def params_with(bias=True, bn_per_channel=4, projection="auto", expansion=4, projection_bn=True):
    def answer(c_in, filters, stride=1):
        def conv_bn_count(k, c, c_out, bn=True):
            return k * k * c * c_out + bias * c_out + bn * bn_per_channel * c_out

        c_out = expansion * filters
        total = conv_bn_count(1, c_in, filters) + conv_bn_count(3, filters, filters) + conv_bn_count(1, filters, c_out)
        if projection == "auto":
            project = c_in != c_out or stride != 1
        elif projection == "channels":
            project = c_in != c_out
        else:
            project = projection
        return total + project * conv_bn_count(1, c_in, c_out, projection_bn)

    return answer


PARAMS_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda *a: None, "returned None"),
    "forgets the biases": (params_with(bias=False), "count the biases"),
    "counts 2 per BN channel": (params_with(bn_per_channel=2), "4 numbers per channel"),
    "forgets batch normalisation": (params_with(bn_per_channel=0), "a BN layer with 4 numbers per channel"),
    "projection always": (params_with(projection=True), "a projection only when the shapes differ"),
    "projection never": (params_with(projection=False), "add the projection's 1×1 conv and BN"),
    "projection only when the channels change": (params_with(projection="channels"), "add the projection's"),
    "no ×4 expansion": (params_with(expansion=1), "expands to 4·filters"),
    "projection without its BN": (params_with(projection_bn=False), "bottleneck_block_params(64, 64, stride=1)"),
    "returns a float": (lambda *a: float(params_with()(*a)), "wrong type"),
    "returns a string": (lambda *a: str(params_with()(*a)), "wrong type"),
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
    accepts(check.bottleneck_block_params, params_with(), capsys)
    accepts(check.bottleneck_block_params, lambda *a: __import__("numpy").int64(params_with()(*a)), capsys)


def test_the_checks_formulas_agree_with_keras():
    for c_in, filters, stride in [(64, 16, 1), (32, 16, 2), (64, 64, 1)]:
        inputs = keras.Input((8, 8, c_in))
        model = keras.Model(inputs, SOLUTION["bottleneck_block"](inputs, filters, stride))
        assert model.count_params() == check.bottleneck_params(c_in, filters, stride)
        model = keras.Model(inputs, SOLUTION["basic_block"](inputs, filters, stride))
        assert model.count_params() == check.basic_params(c_in, filters, stride)
    assert SOLUTION["small_resnet"](10).count_params() == check.resnet_params(check.SMALL, "basic", 10, 1, (3, 16))


def test_the_current_task_1_checks_the_shortcut_and_the_basic_block(capsys):
    check.shortcut(SOLUTION["shortcut"], SOLUTION["basic_block"])
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == ["✓ Task 1 · shortcut", "✓ Task 1 · basic_block"]
    wrong = BASIC_MISTAKES[next(k for k in BASIC_MISTAKES if k != "stub")][0]
    rejects(lambda answer: check.shortcut(SOLUTION["shortcut"], answer), wrong, "Task 1 · basic_block")


# -- Task 2 · shortcut_a (option A) ----------------------------------------------------------------
def option_a_with(subsample="pick", pad="after", fill="zeros", identity_if_channels=False):
    """Option A; the defaults are right, each keyword makes one change."""

    def answer(x, channels, stride=1, name="shortcut_a"):
        c_in = x.shape[-1]
        if identity_if_channels and c_in == channels:
            return x
        if stride != 1:
            if subsample == "pick":
                x = layers.MaxPooling2D(1, strides=stride)(x)
            elif subsample == "max":
                x = layers.MaxPooling2D(2, strides=stride, padding="same")(x)
            elif subsample == "avg":
                x = layers.AveragePooling2D(2, strides=stride, padding="same")(x)
            elif subsample == "offset":
                x = layers.Lambda(lambda t: t[:, 1::2, 1::2, :])(layers.ZeroPadding2D(((0, 1), (0, 1)))(x))
            elif subsample == "conv":
                x = layers.Conv2D(c_in, 1, strides=stride)(x)
        extra = channels - c_in
        if not extra:
            return x
        if fill == "tile":
            return ops.concatenate([x, ops.tile(x, (1, 1, 1, extra // c_in + 1))[..., :extra]], axis=-1)
        if fill == "ones":
            return ops.concatenate([x, ops.ones_like(x[..., :1]) * ops.ones((extra,))], axis=-1)
        if fill == "conv":
            return layers.Conv2D(channels, 1)(x)
        widths = {"after": (0, extra), "before": (extra, 0), "both": (extra // 2, extra - extra // 2)}[pad]
        return ops.pad(x, [[0, 0], [0, 0], [0, 0], list(widths)])

    return answer


SHORTCUT_A_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda x, channels, stride=1, name="s": None, "returned None"),
    "zeros before x's channels": (option_a_with(pad="before"), "x's channels come first"),
    "zeros on both sides": (option_a_with(pad="both"), "not on both sides"),
    "2×2 max pooling": (option_a_with(subsample="max"), "no max pooling"),
    "2×2 average pooling": (option_a_with(subsample="avg"), "no average pooling"),
    "every second pixel from the second": (option_a_with(subsample="offset"), "from the first"),
    "a strided 1×1 conv": (option_a_with(subsample="conv"), "option A has no weights"),
    "a 1×1 conv for the channels (option B)": (option_a_with(fill="conv"), "option A has no weights"),
    "x's channels repeated": (option_a_with(fill="tile"), "not copies of x's channels"),
    "ones for the new channels": (option_a_with(fill="ones"), "the new channels are zeros"),
    "no subsampling": (option_a_with(identity_if_channels=True), "keep every stride-th row and column"),
    "the shortcut of Task 1 (a projection)": (SOLUTION["shortcut"], "option A has no weights"),
}


@pytest.mark.parametrize("mistake", list(SHORTCUT_A_MISTAKES))
def test_shortcut_a_rejects(mistake):
    answer, fragment = SHORTCUT_A_MISTAKES[mistake]
    rejects(check.shortcut_a, answer, "Task 2", fragment)


def test_shortcut_a_accepts_correct_answers(capsys):
    accepts(check.shortcut_a, SOLUTION["shortcut_a"], capsys)
    accepts(check.shortcut_a, option_a_with(), capsys)

    def sliced(x, channels, stride=1, name="a"):  # slicing and a concatenation of zeros
        y = x[:, ::stride, ::stride, :] if stride != 1 else x
        extra = channels - x.shape[-1]
        return ops.concatenate([y, ops.zeros_like(y[..., :1]) * ops.zeros((extra,))], axis=-1) if extra else y

    accepts(check.shortcut_a, sliced, capsys)

    def zero_padding_3d(x, channels, stride=1, name="a"):
        y = layers.AveragePooling2D(1, strides=stride)(x) if stride != 1 else x
        extra = channels - x.shape[-1]
        if not extra:
            return y
        y = layers.ZeroPadding3D(((0, 0), (0, 0), (0, extra)))(layers.Reshape((*y.shape[1:], 1))(y))
        return layers.Reshape(tuple(y.shape[1:4]))(y)

    accepts(check.shortcut_a, zero_padding_3d, capsys)


# -- Task 3 · bottleneck_block, version 2 (full pre-activation) ------------------------------------
def preact_with(
    v1="solution",
    preact=True,
    project_from="pre",
    project_bn=False,
    last_bn=False,
    relu_after_add=False,
    stride_at="3x3",
    identity="rule",
    mid_relu=True,
    use_bias=True,
    spelling="layers",
):
    """The current Task 3's block; the defaults are right, each keyword changes version 2 once."""

    def answer(x, filters, stride=1, name="block", version=1):
        if version == 1:
            return SOLUTION["bottleneck_block"](x, filters, stride, name=name, version=1)
        relu = (lambda: ops.relu) if spelling == "ops" else (lambda: layers.ReLU())
        pre = relu()(layers.BatchNormalization()(x)) if preact else x
        same = x.shape[-1] == 4 * filters and stride == 1
        if identity == "always_project":
            same = False
        if same:
            s = x
        else:
            s = layers.Conv2D(4 * filters, 1, strides=stride, use_bias=use_bias)(pre if project_from == "pre" else x)
            s = layers.BatchNormalization()(s) if project_bn else s
        s1, s3 = (stride, 1) if stride_at == "1x1" else (1, stride)
        y = layers.Conv2D(filters, 1, strides=s1, use_bias=use_bias)(pre)
        y = layers.BatchNormalization()(y)
        y = relu()(y) if mid_relu else y
        y = layers.Conv2D(filters, 3, strides=s3, padding="same", use_bias=use_bias)(y)
        y = relu()(layers.BatchNormalization()(y))
        y = layers.Conv2D(4 * filters, 1, use_bias=use_bias)(y)
        y = layers.BatchNormalization()(y) if last_bn else y
        out = s + y if spelling == "ops" else layers.Add()([s, y])
        return layers.ReLU()(out) if relu_after_add else out

    return answer


PREACT_MISTAKES = {
    "no pre-activation (v1 without the final ReLU)": (preact_with(preact=False), "BN → ReLU come before"),
    "projection of x, not of the pre-activated x": (preact_with(project_from="x"), "read the pre-activated x"),
    "BN after the projection": (preact_with(project_bn=True), "no BN"),
    "BN after the last 1×1 conv": (preact_with(last_bn=True), "no BN"),
    "ReLU after the addition": (preact_with(relu_after_add=True), "no ReLU after the addition"),
    "stride on the first 1×1 conv": (preact_with(stride_at="1x1"), "the stride goes on the 3×3 conv"),
    "every shortcut projected": (preact_with(identity="always_project"), "a projection where the identity suffices"),
    "no ReLU after the first BN of the branch": (preact_with(mid_relu=False), "a ReLU is missing"),
    "version 2 ignored (v1 both times)": (
        lambda x, filters, stride=1, name="block", version=1: SOLUTION["bottleneck_block"](
            x, filters, stride, name=name
        ),
        "BN → ReLU come before",
    ),
    "version 1 broken (the v2 block both times)": (
        lambda x, filters, stride=1, name="block", version=1: preact_with()(x, filters, stride, name, version=2),
        "version=1",
    ),
}


@pytest.mark.parametrize("mistake", list(PREACT_MISTAKES))
def test_bottleneck_block_version_2_rejects(mistake):
    answer, fragment = PREACT_MISTAKES[mistake]
    rejects(check.bottleneck_block, answer, "Task 3", fragment)


def test_bottleneck_block_version_2_accepts_correct_answers(capsys):
    accepts(check.bottleneck_block, preact_with(), capsys)
    accepts(check.bottleneck_block, preact_with(use_bias=False, spelling="ops"), capsys)  # keras.ops, no biases

    def nested(x, filters, stride=1, name="block", version=1):  # the v2 branch as a Sequential model
        if version == 1:
            return SOLUTION["bottleneck_block"](x, filters, stride, name=name)
        pre = layers.Activation("relu")(layers.BatchNormalization()(x))
        branch = keras.Sequential(
            [
                layers.Conv2D(filters, 1),
                layers.BatchNormalization(),
                layers.ReLU(),
                layers.Conv2D(filters, 3, strides=stride, padding="same"),
                layers.BatchNormalization(),
                layers.ReLU(),
                layers.Conv2D(4 * filters, 1),
            ]
        )(pre)
        same = x.shape[-1] == 4 * filters and stride == 1
        return layers.Add()([branch, x if same else layers.Conv2D(4 * filters, 1, strides=stride)(pre)])

    accepts(check.bottleneck_block, nested, capsys)
    accepts(check.bottleneck_block, SOLUTION["bottleneck_block"], capsys)  # no bias before a BN, named layers


# -- Task 4 · resnet, version 2 --------------------------------------------------------------------
def resnet_v2_with(
    stem_bn=False,
    post=True,
    block=None,
    pool=True,
    v1=None,
    stem_kernel=7,
    stride_on_last_block=False,
    head=layers.GlobalAveragePooling2D,
    softmax=True,
    fixed_classes=None,
):
    """The current Task 4's network; the defaults are right, each keyword changes version 2 once."""

    def answer(config, n_class=1000, input_shape=(224, 224, 3), version=1):
        if version == 1:
            return (v1 or SOLUTION["resnet"])(config, n_class, input_shape)
        make_block = block or SOLUTION["bottleneck_block"]
        inputs = keras.Input(input_shape)
        x = layers.Conv2D(64, stem_kernel, strides=2, padding="same")(inputs)
        if stem_bn:
            x = layers.ReLU()(layers.BatchNormalization()(x))
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x) if pool else x
        for stage, (filters, blocks, stride) in enumerate(config):
            for i in range(blocks):
                strided = i == (blocks - 1 if stride_on_last_block else 0)
                x = make_block(x, filters, stride if strided else 1, version=2, name=f"b{stage}_{i}")
        if post:
            x = layers.ReLU()(layers.BatchNormalization()(x))
        x = head()(x)
        x = layers.Dense(fixed_classes or n_class, activation="softmax" if softmax else None)(x)
        return keras.Model(inputs, x)

    return answer


def relu_after_add_v2(x, filters, stride=1, name="block", version=1):
    return layers.ReLU()(preact_with()(x, filters, stride, name, version))


RESNET_V2_MISTAKES = {
    "BN and ReLU kept in the stem": (resnet_v2_with(stem_bn=True), "the v2 stem is the 7×7 conv and the max pool"),
    "no BN → ReLU before the pooling": (resnet_v2_with(post=False), "ends with BN → ReLU"),
    "v1 blocks in version 2": (
        resnet_v2_with(block=lambda x, f, s, version=2, name="b": SOLUTION["bottleneck_block"](x, f, s, name=name)),
        "BN → ReLU come before",
    ),
    "no max pooling in the stem": (resnet_v2_with(pool=False), "3×3 max pooling"),
    "version 2 ignored": (
        lambda config, n_class=1000, input_shape=(224, 224, 3), version=1: SOLUTION["resnet"](
            config, n_class, input_shape
        ),
        "no BN",
    ),
    "version 1 with the stride on the last block": (
        resnet_v2_with(v1=resnet_with(stride_on_last_block=True)),
        "only the first block",
    ),
    "the stride on the last block of each stage": (resnet_v2_with(stride_on_last_block=True), "only the first block"),
    "a ReLU after every addition": (resnet_v2_with(block=relu_after_add_v2), "no ReLU after the addition"),
    "a 3×3 stem": (resnet_v2_with(stem_kernel=3), "stem 7×7"),
    "global max pooling in the head": (resnet_v2_with(head=layers.GlobalMaxPooling2D), "not max pooling"),
    "no softmax": (resnet_v2_with(softmax=False), "end with a softmax"),
    "classes hard-coded": (resnet_v2_with(fixed_classes=1000), "use n_class"),
}


@pytest.mark.parametrize("mistake", list(RESNET_V2_MISTAKES))
def test_resnet_version_2_rejects(mistake):
    answer, fragment = RESNET_V2_MISTAKES[mistake]
    rejects(check.resnet50, answer, "Task 4", fragment)


def test_resnet_version_2_accepts_correct_answers(capsys):
    accepts(check.resnet50, resnet_v2_with(), capsys)  # padding "same" in the stem
    accepts(check.resnet50, resnet_v2_with(block=preact_with(use_bias=False, spelling="ops")), capsys)

    def nested_v2(x, filters, stride=1, name="block", version=2):  # each v2 block a sub-model
        inputs = keras.Input(x.shape[1:])
        return keras.Model(inputs, preact_with()(inputs, filters, stride, version=2))(x)

    mean = lambda: lambda x: ops.mean(x, (1, 2))  # noqa: E731
    accepts(check.resnet50, resnet_v2_with(block=nested_v2, head=mean), capsys)  # sub-models, keras.ops for GAP
    # the solution (Keras's explicit padding in both versions) is accepted by test_resnet_accepts_correct_answers


# -- Task 6 · bottleneck_block_params, version 2 ---------------------------------------------------
def preact_params_with(**slips):
    def answer(c_in, filters, stride=1, version=1):
        if version == 1:
            return SOLUTION["bottleneck_block_params"](c_in, filters, stride)
        return check.preact_params(c_in, filters, stride, **slips)

    return answer


def v2_with_extra(extra):
    def answer(c_in, filters, stride=1, version=1):
        if version == 1:
            return SOLUTION["bottleneck_block_params"](c_in, filters, stride)
        projection = c_in != 4 * filters or stride != 1
        return check.preact_params(c_in, filters, stride) + extra(c_in, filters, projection)

    return answer


PREACT_PARAMS_MISTAKES = {
    "stub": (lambda c_in, filters, stride=1, version=1: stub(), "not written yet"),
    "version ignored (v1 both times)": (
        lambda c_in, filters, stride=1, version=1: SOLUTION["bottleneck_block_params"](c_in, filters, stride),
        "version=2 is the pre-activation block",
    ),
    "no biases": (preact_params_with(bias=False), "count the biases"),
    "no BN on the input": (preact_params_with(first_bn=False), "starts with a BN on its input"),
    "projection always": (preact_params_with(projection=True), "a projection only when the shapes differ"),
    "projection never": (preact_params_with(projection=False), "a projection only when the shapes differ"),
    "BN after the projection": (v2_with_extra(lambda c, f, p: p * 4 * 4 * f), "nor after its projection"),
    "BN after the last conv": (v2_with_extra(lambda c, f, p: 4 * 4 * f), "no BN after the v2 block's last 1×1 conv"),
    "BN after both": (v2_with_extra(lambda c, f, p: (1 + p) * 4 * 4 * f), "no BN after the v2 block's last 1×1"),
    "2 numbers per BN channel": (preact_params_with(bn_per_channel=2), "4 numbers per channel"),
    "a float": (lambda *a, **k: float(preact_params_with()(*a, **k)), "wrong type"),
    "version 1 broken": (
        lambda c_in, filters, stride=1, version=1: check.preact_params(c_in, filters, stride),
        "bottleneck_block_params(",
    ),
}


@pytest.mark.parametrize("mistake", list(PREACT_PARAMS_MISTAKES))
def test_bottleneck_block_params_version_2_rejects(mistake):
    answer, fragment = PREACT_PARAMS_MISTAKES[mistake]
    rejects(check.bottleneck_block_params, answer, "Task 6", fragment)


def test_bottleneck_block_params_version_2_accepts_correct_answers(capsys):
    accepts(check.bottleneck_block_params, preact_params_with(), capsys)

    def closed_form(c_in, filters, stride=1, version=1):
        f, c_out = filters, 4 * filters
        convs = c_in * f + 9 * f * f + f * c_out + f + f + c_out  # weights and biases
        project = c_in != c_out or stride != 1
        if version == 2:
            return 4 * c_in + convs + 8 * f + project * (c_in * c_out + c_out)
        return convs + 4 * (2 * f + c_out) + project * (c_in * c_out + 5 * c_out)

    accepts(check.bottleneck_block_params, closed_form, capsys)
    accepts(check.bottleneck_block_params, lambda *a, **k: __import__("numpy").int64(closed_form(*a, **k)), capsys)

    def from_keras(c_in, filters, stride=1, version=1):  # build the block (a bias on every conv) and ask Keras
        inputs = keras.Input((4, 4, c_in))
        if version == 2:
            return keras.Model(inputs, preact_with()(inputs, filters, stride, version=2)).count_params()
        return keras.Model(inputs, bottleneck()(inputs, filters, stride)).count_params()

    accepts(check.bottleneck_block_params, from_keras, capsys)


def test_the_v2_formula_agrees_with_keras():
    for c_in, filters, stride in [(64, 16, 1), (32, 16, 2), (64, 16, 2), (5, 3, 1)]:
        inputs = keras.Input((8, 8, c_in))
        model = keras.Model(inputs, preact_with()(inputs, filters, stride, version=2))  # a bias on every conv
        assert model.count_params() == check.preact_params(c_in, filters, stride)

"""Unit 05's checks: each rejects the stub and the typical wrong answers, and accepts
the solution (run from solutions/05_vgg.ipynb) and other correct ways to write it
(nested models, keras.ops, equivalent layers, other names, harmless extra arguments).

Each wrong answer names the words its rejection must contain, so that a wrong
answer is rejected for its own mistake, not by accident. Most block and model
mistakes keep the shapes and the parameter count right: only the comparison of
outputs catches them.
"""

import keras
import numpy as np
import pytest
from keras import layers, ops

from cnn_course.checks import vgg as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("05_vgg")
VGG16_CONFIG = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]


# -- Task 1 · vgg_block ------------------------------------------------------------------
def block_with(
    kernel=3,
    activation="relu",
    relu_layer=None,
    relu_first=False,
    padding="same",
    pool=layers.MaxPooling2D,
    pool_size=2,
    pool_strides=2,
    pool_padding="valid",
    pool_every_conv=False,
    convs=lambda n: n,
    fixed_filters=None,
    batch_norm=False,
    **conv_args,
):
    def answer(x, filters, n_convs, name="block"):
        def pooling(t):
            return t if pool is None else pool(pool_size, strides=pool_strides, padding=pool_padding)(t)

        for _ in range(convs(n_convs)):
            if relu_first:
                x = layers.ReLU()(x)
            fused = None if relu_layer or relu_first or batch_norm else activation
            x = layers.Conv2D(fixed_filters or filters, kernel, padding=padding, activation=fused, **conv_args)(x)
            if batch_norm:
                x = layers.ReLU()(layers.BatchNormalization()(x))
            if relu_layer:
                x = relu_layer()(x)
            if pool_every_conv:
                x = pooling(x)
        return x if pool_every_conv else pooling(x)

    return answer


def ops_block(x, filters, n_convs, name="block"):
    """keras.ops spellings: ops.relu after a linear conv, ops.max_pool for the pooling."""
    for i in range(n_convs):
        x = ops.relu(layers.Conv2D(filters, (3, 3), strides=(1, 1), padding="same", name=f"{name}_c{i}")(x))
    return ops.max_pool(x, pool_size=2, strides=2, padding="valid")


def sequential_block(x, filters, n_convs, name="block"):
    """A nested keras.Sequential, with separate Activation layers and a harmless initializer."""
    stack = []
    for _ in range(n_convs):
        stack += [layers.Conv2D(filters, 3, padding="same", kernel_initializer="he_normal"), layers.Activation("relu")]
    return keras.Sequential([*stack, layers.MaxPool2D()], name=f"{name}_seq")(x)


def padded_block(x, filters, n_convs, name="block"):
    """'same' padding spelled out: pad by one pixel, then a 'valid' convolution."""
    for _ in range(n_convs):
        x = layers.Conv2D(filters, 3, padding="valid", activation="relu")(layers.ZeroPadding2D(1)(x))
    return layers.MaxPooling2D(pool_size=(2, 2))(x)


vgg_block = ops_block  # the learner's block, as a notebook defines it


BLOCK_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda x, filters, n_convs, name="block": None, "returned None"),
    "returns the layer, not its output": (
        lambda x, filters, n_convs, name="block": layers.MaxPooling2D(2),
        "Keras tensor",
    ),
    "average pooling": (block_with(pool=layers.AveragePooling2D), "max pooling, not average pooling"),
    "no ReLU": (block_with(activation=None), "followed by a ReLU"),
    "ReLU before the convolution": (block_with(relu_first=True), "not preceded"),
    "a stray dilation": (block_with(dilation_rate=2), "not dilated"),
    "3×3 pooling, 'same' (same shape)": (block_with(pool_size=3, pool_padding="same"), "2×2 max pooling with stride 2"),
    "pooling with stride 1": (block_with(pool_strides=1), "stride 2"),
    "padding 'valid', compensated by padding the input once": (
        lambda x, filters, n_convs, name="block": block_with(padding="valid")(
            layers.ZeroPadding2D(n_convs)(x), filters, n_convs
        ),
        "not the input once",
    ),
    "padding 'valid' shrinks the maps": (block_with(padding="valid"), "padding='same'"),
    "pooling after every conv": (block_with(pool_every_conv=True), "not after every conv"),
    "5×5 kernels": (block_with(kernel=5), "3×3 kernels only"),
    "filters fixed at 64": (block_with(fixed_filters=64), "`filters` output channels"),
    "no pooling": (block_with(pool=None), "end the block with 2×2 max pooling"),
    "one convolution too few": (block_with(convs=lambda n: n - 1), "range(n_convs)"),
    "one convolution too many": (block_with(convs=lambda n: n + 1), "range(n_convs)"),
    "convolutions without bias": (block_with(use_bias=False), "keep their bias"),
    "batch normalisation added": (block_with(batch_norm=True), "no batch normalisation"),
}


@pytest.mark.parametrize("mistake", list(BLOCK_MISTAKES))
def test_vgg_block_rejects(mistake):
    answer, fragment = BLOCK_MISTAKES[mistake]
    rejects(check.vgg_block, answer, "Task 1", fragment)


def test_vgg_block_accepts_correct_answers(capsys):
    accepts(check.vgg_block, SOLUTION["vgg_block"], capsys)
    accepts(check.vgg_block, block_with(relu_layer=layers.ReLU), capsys)  # a separate ReLU layer
    accepts(check.vgg_block, block_with(relu_layer=lambda: layers.Activation("relu")), capsys)
    accepts(check.vgg_block, block_with(pool_strides=None, bias_initializer="ones"), capsys)  # default strides
    accepts(check.vgg_block, ops_block, capsys)
    accepts(check.vgg_block, padded_block, capsys)
    accepts(check.vgg_block, sequential_block, capsys)


# -- Task 2 · vgg16 ----------------------------------------------------------------------
def vgg16_with(
    config=VGG16_CONFIG,
    block=None,
    head=(4096, 4096),
    classes=None,
    flatten=layers.Flatten,
    softmax=True,
    fc_relu=True,
    dropout=0.0,
    fixed_input=None,
):
    vgg_block = block or SOLUTION["vgg_block"]  # the name the check counts calls of

    def answer(input_shape=(224, 224, 3), n_classes=1000):
        inputs = keras.Input(fixed_input or input_shape)
        x = inputs
        for i, (filters, n_convs) in enumerate(config, start=1):
            x = vgg_block(x, filters, n_convs, name=f"b{i}")
        x = flatten()(x)
        for units in head:
            x = layers.Dense(units, activation="relu" if fc_relu else None)(x)
            if dropout:
                x = layers.Dropout(dropout)(x)
        x = layers.Dense(classes or n_classes)(x)
        if softmax:
            x = layers.Softmax()(x)
        return keras.Model(inputs, x)

    return answer


def keras_applications(input_shape=(224, 224, 3), n_classes=1000):
    return keras.applications.VGG16(weights=None, input_shape=input_shape, classes=n_classes)


def ops_vgg16(input_shape=(224, 224, 3), n_classes=1000):
    """keras.ops spellings in the block and the head, and other names; the block is a global, as in a notebook."""
    x = inputs = keras.Input(input_shape, name="image")
    for i, (filters, n_convs) in enumerate(VGG16_CONFIG):
        x = vgg_block(x, filters, n_convs, name=f"stage{i}")
    x = ops.reshape(x, (-1, int(np.prod(x.shape[1:]))))
    for j, units in enumerate((4096, 4096)):
        x = ops.relu(layers.Dense(units, name=f"hidden{units}_{j}")(x))
    return keras.Model(inputs, ops.softmax(layers.Dense(n_classes)(x)))


VGG16_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns keras.applications.VGG16": (keras_applications, "calls of your `vgg_block`"),
    "returns keras.applications.VGG19": (
        lambda input_shape=(224, 224, 3), n_classes=1000: keras.applications.VGG19(
            weights=None, input_shape=input_shape, classes=n_classes
        ),
        "does not count for `vgg16`",
    ),
    "average pooling": (vgg16_with(block=block_with(pool=layers.AveragePooling2D)), "max pooling, not average"),
    "ReLU before the convolutions": (vgg16_with(block=block_with(relu_first=True)), "not preceded"),
    "a stray dilation": (vgg16_with(block=block_with(dilation_rate=2)), "not dilated"),
    "fc layers without ReLU": (vgg16_with(fc_relu=False), "fc1 and fc2 are each followed by a ReLU"),
    "no softmax": (vgg16_with(softmax=False), "end with a softmax"),
    "global average pooling instead of Flatten": (vgg16_with(flatten=layers.GlobalAveragePooling2D), "GAP came later"),
    "batch normalisation added": (vgg16_with(block=block_with(batch_norm=True)), "no batch normalisation"),
    "VGG13's configuration": (vgg16_with(config=[(f, 2) for f, _ in VGG16_CONFIG]), "2, 2, 3, 3, 3 convolutions"),
    "fc layers of 1024 units": (vgg16_with(head=(1024, 1024)), "Dense 4096 → ReLU → Dense 4096"),
    "1000 classes hard-coded": (vgg16_with(classes=1000), "n_classes units"),
    "input shape hard-coded": (vgg16_with(fixed_input=(32, 32, 3)), "input shape"),
    "pooling after every conv": (vgg16_with(block=block_with(pool_every_conv=True)), "one pooling per block"),
    "returns the output tensor, not a model": (lambda s, n: vgg16_with()(s, n).output, "keras.Model"),
}


@pytest.mark.parametrize("mistake", list(VGG16_MISTAKES))
def test_vgg16_rejects(mistake):
    answer, fragment = VGG16_MISTAKES[mistake]
    rejects(check.vgg16, answer, "Task 2", fragment)


def test_vgg16_accepts_correct_answers(capsys):
    accepts(check.vgg16, SOLUTION["vgg16"], capsys)
    accepts(check.vgg16, ops_vgg16, capsys)
    accepts(check.vgg16, vgg16_with(block=sequential_block, dropout=0.5), capsys)  # dropout holds no weights
    accepts(check.vgg16, vgg16_with(block=block_with(relu_layer=layers.ReLU, pool_strides=None)), capsys)


# -- receptive_field, conv_stack_weights, small_vgg: Tasks 3, 4 and 6 before #15 --------------------
# Their checks stay for learners' copies of earlier releases; the current notebook has other tasks there.
def formula_field(n_layers, k=3):
    return 1 + n_layers * (k - 1)


def simulated(n_layers, k=3):
    """Another correct answer: grow the input until n 'valid' k×k convolutions leave one output."""
    size = 1
    while size - n_layers * (k - 1) < 1:
        size += 1
    return size


def recursive(n_layers, k=3):
    return 1 if n_layers == 0 else recursive(n_layers - 1, k) + k - 1


RF_MISTAKES = {
    "stub": (stub, "not written yet"),
    "n·k": (lambda n, k=3: n * k, "each layer adds k − 1, not k"),
    "off by one: n·(k − 1)": (lambda n, k=3: n * (k - 1), "off by one"),
    "one layer too many": (lambda n, k=3: k + n * (k - 1), "one layer too many"),
    "2n + 1 for every k": (lambda n, k=3: 2 * n + 1, "holds for k = 3 only"),
    "k to the power n": (lambda n, k=3: k**n, "do not multiply"),
    "returns a float": (lambda n, k=3: 1.0 + n * (k - 1), "whole number"),
    "k defaults to 5": (lambda n, k=5: 1 + n * (k - 1), "default to 3"),
    "adds k − 1 once: n + k − 1": (lambda n, k=3: n + k - 1, "every layer adds k − 1"),
    "grows as if each layer had stride 2": (lambda n, k=3: 1 + (k - 1) * (2**n - 1), "no pooling or stride"),
    "returns a string": (lambda n, k=3: str(1 + n * (k - 1)), "whole number"),
    "k as a required argument": (lambda n, k: 1 + n * (k - 1), "raised TypeError"),
}


@pytest.mark.parametrize("mistake", list(RF_MISTAKES))
def test_receptive_field_rejects(mistake):
    answer, fragment = RF_MISTAKES[mistake]
    rejects(check.receptive_field, answer, "Task 3", fragment)


def test_receptive_field_accepts_correct_answers(capsys):
    accepts(check.receptive_field, formula_field, capsys)
    accepts(check.receptive_field, simulated, capsys)
    accepts(check.receptive_field, recursive, capsys)
    accepts(check.receptive_field, lambda n_layers, k=3, **extra: np.int64(sum([k - 1] * n_layers, 1)), capsys)


def test_the_checks_receptive_field_agrees_with_a_probe():
    # the check's expectation, against the gradient of the centre output of stacked ones-kernels
    import tensorflow as tf

    for n, k in [(1, 3), (2, 3), (3, 3), (2, 5)]:
        size = 2 * n * k + 1
        inputs = keras.Input((size, size, 1))
        x = inputs
        for _ in range(n):
            x = layers.Conv2D(1, k, padding="same", use_bias=False, kernel_initializer="ones")(x)
        model = keras.Model(inputs, x)
        image = tf.zeros((1, size, size, 1))
        with tf.GradientTape() as tape:
            tape.watch(image)
            centre = model(image)[0, size // 2, size // 2, 0]
        rows = np.flatnonzero(np.abs(tape.gradient(centre, image)[0, :, size // 2, 0].numpy()) > 0)
        assert rows.size == check.stacked_receptive_field(n, k)


def counted_by_keras(n_layers, k, c):
    layer = layers.Conv2D(c, k, use_bias=False)
    layer.build((None, k, k, c))
    return n_layers * layer.count_params()


WEIGHT_MISTAKES = {
    "stub": (stub, "not written yet"),
    "counts the biases": (lambda n, k, c: n * (k * k * c * c + c), "leave out the biases"),
    "one input channel": (lambda n, k, c: n * k * k * c, "all c input channels"),
    "k instead of k·k": (lambda n, k, c: n * k * c * c, "k·k weights"),
    "(n·k)²": (lambda n, k, c: (n * k) ** 2 * c * c, "not (n·k)²"),
    "one layer only": (lambda n, k, c: k * k * c * c, "multiply one layer's weights by n"),
    "returns a float": (lambda n, k, c: float(n * k * k * c * c), "whole number"),
    "channels added, not multiplied": (lambda n, k, c: n * k * k * 2 * c, "not k·k·(c + c)"),
    "arguments in the order (k, n, c)": (lambda k, n, c: n * k * k * c * c, "order (n_layers, k, c)"),
    "returns a string": (lambda n, k, c: str(n * k * k * c * c), "whole number"),
    "(k·k·c)² per layer": (lambda n, k, c: n * (k * k * c) ** 2, "not (k·k·c)²"),
}


@pytest.mark.parametrize("mistake", list(WEIGHT_MISTAKES))
def test_conv_stack_weights_rejects(mistake):
    answer, fragment = WEIGHT_MISTAKES[mistake]
    rejects(check.conv_stack_weights, answer, "Task 4", fragment)


def test_conv_stack_weights_accepts_correct_answers(capsys):
    accepts(check.conv_stack_weights, lambda n_layers, k, c: n_layers * k * k * c * c, capsys)
    accepts(check.conv_stack_weights, counted_by_keras, capsys)
    accepts(check.conv_stack_weights, lambda n_layers, k, c: n_layers * (k * c) ** 2, capsys)
    accepts(check.conv_stack_weights, lambda n, k, c: np.int64(sum(k * k * c * c for _ in range(n))), capsys)


# -- Task 5 · drill ----------------------------------------------------------------------------
C = 256
RIGHT = {
    "block5_shape": (7, 7, 512),
    "fc1_params": 7 * 7 * 512 * 4096 + 4096,
    "conv_layers": 13,
    "weights_saved": 49 * C * C - 27 * C * C,
}


def drill_with(**changes):
    return {**RIGHT, **changes}


def run_drill(answers):
    return check.drill(**answers)


DRILL_MISTAKES = {
    "all None": ({name: None for name in RIGHT}, "is still None"),
    "block5 shape as a list": (drill_with(block5_shape=[7, 7, 512]), "wrong type"),
    "four poolings": (drill_with(block5_shape=(14, 14, 512)), "five blocks"),
    "256 channels in block 5": (drill_with(block5_shape=(7, 7, 256)), "512 filters"),
    "fc1 without biases": (drill_with(fc1_params=7 * 7 * 512 * 4096), "biases"),
    "fc1 reads 512 values": (drill_with(fc1_params=512 * 4096 + 4096), "flattened 7×7×512"),
    "16 conv layers": (drill_with(conv_layers=16), "13 conv + 3 fully connected"),
    "counts the poolings": (drill_with(conv_layers=21), "pooling layers have no weights"),
    "12 conv layers": (drill_with(conv_layers=12), "2 + 2 + 3 + 3 + 3"),
    "forgets a channel factor": (drill_with(weights_saved=(49 - 27) * C), "channels enter squared"),
    "counts the biases": (drill_with(weights_saved=(49 - 27) * C * C - 2 * C), "leave out the biases"),
    "one 3×3 conv only": (drill_with(weights_saved=(49 - 9) * C * C), "three 3×3 layers"),
    "fc1_params as a float": (drill_with(fc1_params=float(RIGHT["fc1_params"])), "wrong type"),
}


@pytest.mark.parametrize("mistake", list(DRILL_MISTAKES))
def test_drill_rejects(mistake):
    answers, fragment = DRILL_MISTAKES[mistake]
    rejects(run_drill, answers, "Task 5", fragment)


def test_drill_accepts_correct_answers(capsys):
    accepts(run_drill, {name: SOLUTION[name] for name in RIGHT}, capsys)
    accepts(run_drill, RIGHT, capsys)
    as_numpy = drill_with(block5_shape=tuple(np.array([7, 7, 512])), fc1_params=np.int64(RIGHT["fc1_params"]))
    accepts(run_drill, as_numpy, capsys)  # NumPy integers are whole numbers too
    by_formula = drill_with(block5_shape=(224 // 32, 224 // 32, 512), weights_saved=(7 * 7 - 3 * 3 * 3) * 256**2)
    accepts(run_drill, by_formula, capsys)


# -- small_vgg (Task 6 before #15; its check stays for earlier copies) ---------------------------------
def small_with(
    blocks=((16, 2), (32, 2)),
    block=None,
    flatten=layers.Flatten,
    fc=64,
    fc_activation="relu",
    classes=None,
    output="softmax",
    input_shape=(28, 28, 1),
    dropout=0.0,
):
    vgg_block = block or SOLUTION["vgg_block"]

    def answer(n_classes=10):
        inputs = keras.Input(input_shape)
        x = inputs
        for i, (filters, n_convs) in enumerate(blocks, start=1):
            x = vgg_block(x, filters, n_convs, name=f"b{i}")
        x = flatten()(x)
        if fc:
            x = layers.Dense(fc, activation=fc_activation)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
        return keras.Model(inputs, layers.Dense(classes or n_classes, activation=output)(x))

    return answer


def inline_small_vgg(n_classes=10):
    """Correct layers, but written without the learner's vgg_block."""
    return keras.Sequential(
        [keras.Input((28, 28, 1))]
        + [layers.Conv2D(16, 3, padding="same", activation="relu") for _ in range(2)]
        + [layers.MaxPooling2D()]
        + [layers.Conv2D(32, 3, padding="same", activation="relu") for _ in range(2)]
        + [layers.MaxPooling2D(), layers.Flatten(), layers.Dense(64, activation="relu")]
        + [layers.Dense(n_classes, activation="softmax")]
    )


def ops_small_vgg(n_classes=10):
    x = inputs = keras.Input((28, 28, 1))
    x = vgg_block(vgg_block(x, 16, 2, name="one"), 32, 2, name="two")
    x = layers.Activation("relu")(layers.Dense(64)(layers.Flatten()(x)))
    return keras.Model(inputs, layers.Softmax(axis=-1)(layers.Dense(n_classes, use_bias=True)(x)))


SMALL_MISTAKES = {
    "stub": (stub, "not written yet"),
    "written without vgg_block": (inline_small_vgg, "calls of your `vgg_block`"),
    "three blocks": (small_with(blocks=((16, 2), (32, 2), (64, 2))), "2 VGG blocks: call your `vgg_block` once"),
    "average pooling": (small_with(block=block_with(pool=layers.AveragePooling2D)), "max pooling, not average"),
    "no ReLU in the blocks": (small_with(block=block_with(activation=None)), "followed by a ReLU"),
    "ReLU before the convolutions": (small_with(block=block_with(relu_first=True)), "not preceded"),
    "a stray dilation": (small_with(block=block_with(dilation_rate=2)), "not dilated"),
    "no ReLU in the head": (small_with(fc_activation=None), "each followed by a ReLU"),
    "sigmoid instead of softmax": (small_with(output="sigmoid"), "end with a softmax"),
    "no softmax": (small_with(output=None), "end with a softmax"),
    "batch normalisation added": (small_with(block=block_with(batch_norm=True)), "no batch normalisation"),
    "pooling after every conv": (small_with(block=block_with(pool_every_conv=True)), "one pooling per block"),
    "padding 'valid'": (small_with(block=block_with(padding="valid")), "padding='same'"),
    "32 then 64 filters": (small_with(blocks=((32, 2), (64, 2))), "16 filters"),
    "global average pooling": (small_with(flatten=layers.GlobalAveragePooling2D), "GAP came later"),
    "fc of 128 units": (small_with(fc=128), "Dense 64 → ReLU"),
    "10 classes hard-coded": (small_with(classes=10), "n_classes units"),
    "32×32 input": (small_with(input_shape=(32, 32, 1)), "input shape"),
}


@pytest.mark.parametrize("mistake", list(SMALL_MISTAKES))
def test_small_vgg_rejects(mistake):
    answer, fragment = SMALL_MISTAKES[mistake]
    rejects(check.small_vgg, answer, "Task 6", fragment)


def test_small_vgg_accepts_correct_answers(capsys):
    accepts(check.small_vgg, small_with(), capsys)
    accepts(check.small_vgg, small_with(block=block_with(relu_layer=layers.ReLU), dropout=0.5), capsys)
    accepts(check.small_vgg, small_with(block=ops_block), capsys)
    accepts(check.small_vgg, ops_small_vgg, capsys)


def test_the_check_counts_calls_of_the_learners_own_block_without_changing_it():
    answer = vgg16_with(config=[(3, 1)] * 5, head=(8,))
    spied, calls = check._counting(answer, "vgg_block")
    assert spied((32, 32, 3), 3).count_params() == answer((32, 32, 3), 3).count_params()
    assert len(calls) == 5
    assert answer.__closure__[answer.__code__.co_freevars.index("vgg_block")].cell_contents is SOLUTION["vgg_block"]


# -- Task 3 · field_span -------------------------------------------------------------------------
def span_by_jump(stack, index):
    """Forwards: the product of the strides so far, the padding moved back in input pixels, the field."""
    jump, offset, field = 1, 0, 1
    for kernel, stride, padding in stack:
        offset += padding * jump
        field += (kernel - 1) * jump
        jump *= stride
    first = index * jump - offset
    return first, first + field - 1


def span_with_numpy(stack, index):
    if not stack:
        return np.int64(index), np.int64(index)
    k, s, p = np.array(stack).T
    before = np.concatenate([[1], np.cumprod(s)[:-1]])
    first = index * np.prod(s) - np.sum(p * before)
    return first, first + np.sum((k - 1) * before)


def span_recursive(stack, index):
    if not stack:
        return index, index
    *rest, (k, s, p) = stack
    first, _ = span_recursive(rest, index * s - p)
    _, last = span_recursive(rest, index * s - p + k - 1)
    return [first, last]


def variant(position):
    return lambda stack, index: check.span_variants(stack, index)[position][0]


SPAN_MISTAKES = {
    "stub": (stub, "not written yet"),
    "padding ignored": (variant(0), "count the padding"),
    "padding not scaled by the strides before": (variant(1), "in its own input's pixels"),
    "padding scaled by the layer's own stride": (variant(2), "not by its own"),
    "padding added, not subtracted": (variant(3), "not forward"),
    "returns (first, size)": (variant(4), "not the first and the size"),
    "last pixel one too far": (variant(5), "off by one"),
    "index ignored": (variant(6), "the span moves with the output"),
    "the recurrence from the input": (variant(7), "walk the list reversed"),
    "centred on index × jump": (variant(8), "not centred"),
    "returns floats": (
        lambda stack, index: tuple(float(v) for v in check.span_by_following(stack, index)),
        "two whole",
    ),
    "returns the size only": (lambda stack, index: check._jump_offset_field(stack)[2], "two whole numbers"),
    "(last, first)": (lambda stack, index: check.span_by_following(stack, index)[::-1], "follow output i back"),
}


@pytest.mark.parametrize("mistake", list(SPAN_MISTAKES))
def test_field_span_rejects(mistake):
    answer, fragment = SPAN_MISTAKES[mistake]
    rejects(check.field_span, answer, "Task 3", fragment)


def test_field_span_accepts_correct_answers(capsys):
    accepts(check.field_span, SOLUTION["field_span"], capsys)
    for answer in (span_by_jump, span_with_numpy, span_recursive, check.span_by_following):
        accepts(check.field_span, answer, capsys)


def test_the_checks_span_agrees_with_a_keras_gradient():
    # input pixels with a non-zero gradient for one output of zero-padded convolutions (ones kernels)
    import tensorflow as tf

    for stack, index in [(((3, 1, 1), (2, 2, 0), (3, 2, 1)), 2), (((5, 1, 2), (3, 3, 1), (3, 1, 1)), 3)]:
        size = 40
        inputs = keras.Input((size, 1, 1))
        x = inputs
        for k, s, p in stack:
            x = layers.ZeroPadding2D(((p, p), (0, 0)))(x)
            x = layers.Conv2D(1, (k, 1), strides=(s, 1), use_bias=False, kernel_initializer="ones")(x)
        model = keras.Model(inputs, x)
        image = tf.ones((1, size, 1, 1))
        with tf.GradientTape() as tape:
            tape.watch(image)
            out = model(image)[0, index, 0, 0]
        rows = np.flatnonzero(np.abs(tape.gradient(out, image)[0, :, 0, 0].numpy()) > 0)
        first, last = check.span_by_following(stack, index)
        assert (rows[0], rows[-1]) == (max(first, 0), min(last, size - 1)) and first >= 0
    assert check.span_by_following(check.VGG16_STACK, 0) == (-90, 121)  # 212 pixels, 90 of them padding


# -- Task 4 · vgg_params ------------------------------------------------------------------------
def params_built_by_keras(config, input_shape=(224, 224, 3), n_classes=1000, fc_units=(4096, 4096)):
    """Another correct answer: Keras counts each layer, built on its input shape."""
    return check.params_by_keras(tuple(map(tuple, config)), tuple(input_shape), n_classes, tuple(fc_units))


def params_per_layer(config, input_shape=(224, 224, 3), n_classes=1000, fc_units=(4096, 4096)):
    """A list of (inputs, outputs, weights per pair) per layer, summed at the end; NumPy integers."""
    h, w, c = input_shape
    counts = []
    for filters, n in config:
        counts += [(c if i == 0 else filters, filters, 9) for i in range(n)]
        c = filters
        h, w = h // 2, w // 2
    sizes = [h * w * c, *fc_units, n_classes]
    counts += [(a, b, 1) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    return np.sum([area * a * b + b for a, b, area in counts], dtype=np.int64)


def params_with(**mistake):
    def answer(config, input_shape=(224, 224, 3), n_classes=1000, fc_units=(4096, 4096)):
        return check.params_by_formula(config, input_shape, n_classes, fc_units, **mistake)

    return answer


PARAMS_MISTAKES = {
    "stub": (stub, "not written yet"),
    "no biases": (params_with(bias=False), "biases"),
    "k instead of k·k": (params_with(kernel_area=3), "9 weights"),
    "every conv from filters to filters": (params_with(chain_channels=False), "block's first convolution reads"),
    "every block from the image's channels": (params_with(carry_blocks=False), "not the image's"),
    "one pooling too many": (params_with(halvings=6), "one pooling per block"),
    "no pooling counted": (params_with(halvings=0), "the poolings halve the map"),
    "always five poolings": (params_with(halvings=5), "not always 5"),
    "Flatten counted as C inputs (as GAP)": (params_with(flat_channels_only=True), "not C"),
    "no classifier layer": (params_with(last_layer=False), "add the classifier"),
    "3 input channels hard-coded": (
        lambda config, input_shape=(224, 224, 3), n_classes=1000, fc_units=(4096, 4096): check.params_by_formula(
            config, (*input_shape[:2], 3), n_classes, fc_units
        ),
        "input_shape[-1]",
    ),
    "1000 classes hard-coded": (
        lambda config, input_shape=(224, 224, 3), n_classes=1000, fc_units=(4096, 4096): check.params_by_formula(
            config, input_shape, 1000, fc_units
        ),
        "n_classes units",
    ),
    "fc_units ignored": (
        lambda config, input_shape=(224, 224, 3), n_classes=1000, fc_units=(4096, 4096): check.params_by_formula(
            config, input_shape, n_classes, (4096, 4096)
        ),
        "fc_units",
    ),
    "returns a float": (lambda *a, **k: float(params_per_layer(*a, **k)), "whole number"),
    "other defaults": (
        lambda config, input_shape=(32, 32, 3), n_classes=10, fc_units=(4096, 4096): params_per_layer(
            config, input_shape, n_classes, fc_units
        ),
        "the defaults are",
    ),
}


@pytest.mark.parametrize("mistake", list(PARAMS_MISTAKES))
def test_vgg_params_rejects(mistake):
    answer, fragment = PARAMS_MISTAKES[mistake]
    rejects(check.vgg_params, answer, "Task 4", fragment)


def test_vgg_params_accepts_correct_answers(capsys):
    accepts(check.vgg_params, SOLUTION["vgg_params"], capsys)
    accepts(check.vgg_params, params_built_by_keras, capsys)
    accepts(check.vgg_params, params_per_layer, capsys)
    accepts(check.vgg_params, params_with(), capsys)


@pytest.mark.parametrize(
    "config, input_shape, n_classes, fc_units",
    [(((5, 1), (7, 3), (9, 2)), (40, 24, 2), 3, (11, 13)), (((6, 2), (10, 1)), (21, 35, 3), 4, ())],
)
def test_the_checks_count_is_keras_count(config, input_shape, n_classes, fc_units):
    model = vgg16_with(config=config, head=fc_units)(input_shape, n_classes)
    assert model.count_params() == check.params_by_keras(config, input_shape, n_classes, fc_units)
    assert model.count_params() == check.params_by_formula(config, input_shape, n_classes, fc_units)


def test_the_checks_vgg16_count_is_keras_applications():
    small = keras.applications.VGG16(weights=None, input_shape=(32, 48, 3), classes=7)
    assert small.count_params() == check.params_by_keras(check.VGG16_CONFIG, (32, 48, 3), 7, check.VGG16_FC)


# -- Task 6 · fully_convolutional -------------------------------------------------------------------
def fcn_with(
    order="hwc",
    bias=True,
    first_activation=None,
    last_activation=None,
    padding="valid",
    fixed=False,
    feature=lambda layer: layer,
    pooling=True,
):
    """A fully convolutional copy, with one of the usual mistakes."""

    def answer(model):
        shape = model.inputs[0].shape[1:]
        inputs = keras.Input(tuple(shape) if fixed else (None, None, shape[-1]))
        x = inputs
        denses = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
        h, w, c = model.get_layer("flatten").input.shape[1:]
        for layer in model.layers[1:]:
            if isinstance(layer, layers.Conv2D) or pooling and isinstance(layer, layers.MaxPooling2D):
                x = feature(layer)(x)
        window = (h, w)
        for i, dense in enumerate(denses):
            kernel, b = dense.get_weights()
            if i == 0 and order == "chw":
                kernel = kernel.reshape(c, h, w, -1).transpose(1, 2, 0, 3)
            elif i == 0 and order == "whc":
                kernel = kernel.reshape(w, h, c, -1).transpose(1, 0, 2, 3)
            activation = dense.activation
            if i == 0 and first_activation is not None:
                activation = first_activation
            if i == len(denses) - 1 and last_activation is not None:
                activation = last_activation
            conv = layers.Conv2D(dense.units, window, padding=padding if i == 0 else "valid", activation=activation)
            x = conv(x)
            conv.set_weights([kernel.reshape(conv.kernel.shape), b if bias else np.zeros_like(b)])
            window = (1, 1)
        return keras.Model(inputs, x)

    return answer


def fcn_fresh_weights(model):
    """The right layers, but new random weights for the convolutions that replace the Dense layers."""
    inputs = keras.Input((None, None, model.inputs[0].shape[-1]))
    x = inputs
    h, w, _ = model.get_layer("flatten").input.shape[1:]
    window = (h, w)
    for layer in model.layers[1:]:
        if isinstance(layer, layers.Dense):
            x = layers.Conv2D(layer.units, window, activation=layer.activation, bias_initializer="ones")(x)
            window = (1, 1)
        elif not isinstance(layer, layers.Flatten):
            x = layer(x)
    return keras.Model(inputs, x)


def fcn_gap(model):
    """Global average pooling in place of the window convolution: runs on any size, computes something else."""
    inputs = keras.Input((None, None, model.inputs[0].shape[-1]))
    x = inputs
    for layer in model.layers[1:]:
        if isinstance(layer, layers.Flatten):
            x = layers.GlobalAveragePooling2D()(x)
            x = layers.Reshape((1, 1, -1))(x)
        elif isinstance(layer, layers.Dense):
            kernel, b = layer.get_weights()
            n_in = x.shape[-1]
            conv = layers.Conv2D(layer.units, 1, activation=layer.activation)
            x = conv(x)
            conv.set_weights([kernel[:n_in].reshape(1, 1, n_in, -1), b])
        else:
            x = layer(x)
    return keras.Model(inputs, x)


def fcn_sequential(model):
    """A keras.Sequential of the model's own layers and new convolutions, weights copied after building."""
    h, w, c = model.get_layer("flatten").input.shape[1:]
    features = [layer for layer in model.layers[1:] if isinstance(layer, (layers.Conv2D, layers.MaxPooling2D))]
    denses = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    convs = [
        layers.Conv2D(d.units, (h, w) if i == 0 else 1, activation=d.activation, name=f"dense_as_conv{i}")
        for i, d in enumerate(denses)
    ]
    net = keras.Sequential([keras.Input((None, None, model.inputs[0].shape[-1])), *features, *convs])
    for conv, dense in zip(convs, denses, strict=True):
        kernel, b = dense.get_weights()
        conv.set_weights([np.reshape(kernel, conv.kernel.shape), b])
    return net


def fcn_ops(model):
    """Linear convolutions, then keras.ops.relu / keras.ops.softmax; kernels via keras.ops.reshape."""
    inputs = keras.Input((None, None, model.inputs[0].shape[-1]))
    x = inputs
    shape = model.get_layer("flatten").input.shape[1:3]
    first = True
    for layer in model.layers[1:]:
        if isinstance(layer, layers.Dense):
            conv = layers.Conv2D(layer.units, tuple(shape) if first else (1, 1))
            x = conv(x)
            conv.kernel.assign(ops.reshape(layer.kernel, conv.kernel.shape))
            conv.bias.assign(layer.bias)
            last = layer is model.layers[-1]
            x = ops.softmax(x, axis=-1) if last else ops.relu(x)
            first = False
        elif not isinstance(layer, layers.Flatten):
            x = layer(x)
    return keras.Model(inputs, x)


def clone_of(layer):
    """A copy of a layer from its config, with its weights set once it is built."""
    twin = layer.__class__.from_config(layer.get_config())
    twin.build(layer.input.shape)
    twin.set_weights(layer.get_weights())
    return twin


FCN_MISTAKES = {
    "stub": (stub, "not written yet"),
    "kernel reshaped channels first (c, h, w)": (fcn_with(order="chw"), "channels fastest"),
    "kernel reshaped columns first (w, h)": (fcn_with(order="whc"), "rows come first"),
    "biases left at zero": (fcn_with(bias=False), "bias too"),
    "no ReLU after the first convolution": (fcn_with(first_activation="linear"), "keep each hidden layer's ReLU"),
    "no softmax at the end": (fcn_with(last_activation="linear"), "end with a softmax"),
    "softmax over a spatial axis": (fcn_with(last_activation=lambda z: ops.softmax(z, axis=1)), "last axis"),
    "padding 'same' in the window convolution": (fcn_with(padding="same"), "padding='valid'"),
    "input shape kept fixed": (fcn_with(fixed=True), "any height and width"),
    "new random weights": (fcn_fresh_weights, "copy each Dense layer's weights"),
    "global average pooling instead of the window": (fcn_gap, "averages the positions away"),
    "poolings left out": (fcn_with(pooling=False), "the poolings too"),
    "returns the classifier itself": (lambda model: model, "input shape"),
    "returns the output tensor": (lambda model: fcn_with()(model).outputs[0], "keras.Model"),
}


@pytest.mark.parametrize("mistake", list(FCN_MISTAKES))
def test_fully_convolutional_rejects(mistake):
    answer, fragment = FCN_MISTAKES[mistake]
    rejects(check.fully_convolutional, answer, "Task 6", fragment)


def test_fully_convolutional_accepts_correct_answers(capsys):
    accepts(check.fully_convolutional, SOLUTION["fully_convolutional"], capsys)
    for answer in (fcn_with(), fcn_sequential, fcn_ops, fcn_with(feature=clone_of)):
        accepts(check.fully_convolutional, answer, capsys)

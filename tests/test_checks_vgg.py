"""Unit 05's checks: each rejects the stub and the typical wrong answers, and accepts
the solution (run from solutions/05_vgg.ipynb) and other correct ways to write it.

Each wrong answer names the words its rejection must contain, so that a wrong
answer is rejected for its own mistake, not by accident.
"""

import keras
import numpy as np
import pytest
from keras import layers

from cnn_course.checks import vgg as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("05_vgg")
VGG16_CONFIG = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]


# -- Task 1 · vgg_block ------------------------------------------------------------------
def block_with(
    kernel=3,
    activation="relu",
    relu_layer=None,
    padding="same",
    pool=layers.MaxPooling2D,
    pool_strides=2,
    pool_every_conv=False,
    convs=lambda n: n,
    fixed_filters=None,
    use_bias=True,
    pool_padding="valid",
):
    def answer(x, filters, n_convs, name="block"):
        def pooling(t):
            return t if pool is None else pool(2, strides=pool_strides, padding=pool_padding)(t)

        for _ in range(convs(n_convs)):
            x = layers.Conv2D(
                fixed_filters or filters,
                kernel,
                padding=padding,
                activation=None if relu_layer else activation,
                use_bias=use_bias,
            )(x)
            if relu_layer:
                x = relu_layer()(x)
            if pool_every_conv:
                x = pooling(x)
        return x if pool_every_conv else pooling(x)

    return answer


BLOCK_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda x, filters, n_convs, name="block": None, "returned None"),
    "returns the layer, not its output": (
        lambda x, filters, n_convs, name="block": layers.MaxPooling2D(2),
        "Keras tensor",
    ),
    "pooling after every conv": (block_with(pool_every_conv=True), "not after every conv"),
    "no ReLU": (block_with(activation=None), "followed by a ReLU"),
    "5×5 kernels": (block_with(kernel=5), "3×3 kernels only"),
    "filters fixed at 64": (block_with(fixed_filters=64), "`filters` output channels"),
    "padding 'valid' shrinks the maps": (block_with(padding="valid"), "padding='same'"),
    "pooling with stride 1": (block_with(pool_strides=1), "stride 2"),
    "average pooling": (block_with(pool=layers.AveragePooling2D), "max pooling, not average pooling"),
    "no pooling": (block_with(pool=None), "these are missing"),
    "one convolution too few": (block_with(convs=lambda n: n - 1), "range(n_convs)"),
    "one convolution too many": (block_with(convs=lambda n: n + 1), "range(n_convs)"),
    "convolutions without bias": (block_with(use_bias=False), "keep their bias"),
}


@pytest.mark.parametrize("mistake", list(BLOCK_MISTAKES))
def test_vgg_block_rejects(mistake):
    answer, fragment = BLOCK_MISTAKES[mistake]
    rejects(check.vgg_block, answer, "Task 1", fragment)


def test_vgg_block_accepts_correct_answers(capsys):
    accepts(check.vgg_block, SOLUTION["vgg_block"], capsys)
    accepts(check.vgg_block, block_with(relu_layer=layers.ReLU), capsys)  # a separate ReLU layer
    accepts(check.vgg_block, block_with(relu_layer=lambda: layers.Activation("relu")), capsys)
    accepts(check.vgg_block, block_with(pool_strides=None), capsys)  # strides default to the pool size
    accepts(check.vgg_block, block_with(pool_padding="same"), capsys)  # even sizes: the same output


# -- Task 2 · vgg16 ----------------------------------------------------------------------
def vgg16_with(
    config=VGG16_CONFIG,
    block=None,
    head=(4096, 4096),
    classes=None,
    flatten=layers.Flatten,
    softmax=True,
    batch_norm=False,
    fc_relu=True,
    dropout=0.0,
    fixed_input=None,
):
    def answer(input_shape=(224, 224, 3), n_classes=1000):
        make_block = block or SOLUTION["vgg_block"]
        inputs = keras.Input(fixed_input or input_shape)
        x = inputs
        for i, (filters, n_convs) in enumerate(config, start=1):
            if batch_norm:
                for _ in range(n_convs):
                    x = layers.Conv2D(filters, 3, padding="same")(x)
                    x = layers.BatchNormalization()(x)
                    x = layers.ReLU()(x)
                x = layers.MaxPooling2D(2)(x)
            else:
                x = make_block(x, filters, n_convs, name=f"b{i}")
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


def torchvision_style(input_shape=(224, 224, 3), n_classes=1000):
    """Another correct formulation: a flat configuration list with "M" for max pooling, separate ReLU layers."""
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    inputs = keras.Input(input_shape)
    x = inputs
    for v in cfg:
        x = layers.MaxPooling2D()(x) if v == "M" else layers.ReLU()(layers.Conv2D(v, 3, padding="same")(x))
    x = layers.Flatten()(x)
    for _ in range(2):
        x = layers.ReLU()(layers.Dense(4096)(x))
    return keras.Model(inputs, layers.Activation("softmax")(layers.Dense(n_classes)(x)))


VGG16_MISTAKES = {
    "stub": (stub, "not written yet"),
    "pooling after every conv": (vgg16_with(block=block_with(pool_every_conv=True)), "after its last convolution"),
    "configuration in the wrong order": (vgg16_with(config=VGG16_CONFIG[::-1]), "configuration, in order"),
    "blocks of 3, 3, 3, 2, 2 convolutions": (
        vgg16_with(config=[(64, 3), (128, 3), (256, 3), (512, 2), (512, 2)]),
        "2, 2, 3, 3, 3 convolutions",
    ),
    "256 filters in block 4": (vgg16_with(config=[*VGG16_CONFIG[:3], (256, 3), (512, 3)]), "64, 128, 256, 512, 512"),
    "VGG13's configuration": (vgg16_with(config=[(f, 2) for f, _ in VGG16_CONFIG]), "configuration, in order"),
    "global average pooling instead of Flatten": (
        vgg16_with(flatten=layers.GlobalAveragePooling2D),
        "GAP came later",
    ),
    "no fc1, fc2": (vgg16_with(head=()), "Dense 4096 → ReLU → Dense 4096"),
    "only one fully connected layer of 4096": (vgg16_with(head=(4096,)), "Dense 4096 → ReLU → Dense 4096"),
    "fc layers of 1024 units": (vgg16_with(head=(1024, 1024)), "Dense 4096 → ReLU → Dense 4096"),
    "fc layers without ReLU": (vgg16_with(fc_relu=False), "followed by a ReLU"),
    "1000 classes hard-coded": (vgg16_with(classes=1000), "n_classes units"),
    "no softmax": (vgg16_with(softmax=False), "missing: ['Softmax']"),
    "batch normalisation added": (vgg16_with(batch_norm=True), "no batch normalisation"),
    "input shape hard-coded": (vgg16_with(fixed_input=(224, 224, 3)), "input_shape argument"),
    "5×5 kernels": (vgg16_with(block=block_with(kernel=5)), "3×3"),
    "returns the output tensor, not a model": (lambda s, n: vgg16_with()(s, n).output, "keras.Model"),
}


@pytest.mark.parametrize("mistake", list(VGG16_MISTAKES))
def test_vgg16_rejects(mistake):
    answer, fragment = VGG16_MISTAKES[mistake]
    rejects(check.vgg16, answer, "Task 2", fragment)


def test_vgg16_accepts_correct_answers(capsys):
    accepts(check.vgg16, SOLUTION["vgg16"], capsys)
    accepts(check.vgg16, torchvision_style, capsys)
    accepts(check.vgg16, vgg16_with(dropout=0.5), capsys)  # the paper's dropout holds no weights


# -- Task 3 · receptive_field --------------------------------------------------------------
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
}


@pytest.mark.parametrize("mistake", list(RF_MISTAKES))
def test_receptive_field_rejects(mistake):
    answer, fragment = RF_MISTAKES[mistake]
    rejects(check.receptive_field, answer, "Task 3", fragment)


def test_receptive_field_accepts_correct_answers(capsys):
    accepts(check.receptive_field, SOLUTION["receptive_field"], capsys)
    accepts(check.receptive_field, simulated, capsys)
    accepts(check.receptive_field, recursive, capsys)


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


# -- Task 4 · conv_stack_weights -------------------------------------------------------------
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
}


@pytest.mark.parametrize("mistake", list(WEIGHT_MISTAKES))
def test_conv_stack_weights_rejects(mistake):
    answer, fragment = WEIGHT_MISTAKES[mistake]
    rejects(check.conv_stack_weights, answer, "Task 4", fragment)


def test_conv_stack_weights_accepts_correct_answers(capsys):
    accepts(check.conv_stack_weights, SOLUTION["conv_stack_weights"], capsys)
    accepts(check.conv_stack_weights, counted_by_keras, capsys)


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


# -- Task 6 · small_vgg ----------------------------------------------------------------------------
def small_with(
    blocks=((16, 2), (32, 2)),
    block=None,
    flatten=layers.Flatten,
    fc=64,
    classes=None,
    softmax_layer=False,
    batch_norm=False,
    input_shape=(28, 28, 1),
    dropout=0.0,
):
    def answer(n_classes=10):
        make_block = block or SOLUTION["vgg_block"]
        inputs = keras.Input(input_shape)
        x = inputs
        for i, (filters, n_convs) in enumerate(blocks, start=1):
            if batch_norm:
                for _ in range(n_convs):
                    x = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(x)))
                x = layers.MaxPooling2D(2)(x)
            else:
                x = make_block(x, filters, n_convs, name=f"b{i}")
        x = flatten()(x)
        if fc:
            x = layers.Dense(fc, activation="relu")(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
        if softmax_layer:
            return keras.Model(inputs, layers.Softmax()(layers.Dense(classes or n_classes)(x)))
        return keras.Model(inputs, layers.Dense(classes or n_classes, activation="softmax")(x))

    return answer


SMALL_MISTAKES = {
    "stub": (stub, "not written yet"),
    "batch normalisation added": (small_with(batch_norm=True), "no batch normalisation"),
    "pooling after every conv": (small_with(block=block_with(pool_every_conv=True)), "not after every conv"),
    "padding 'valid'": (small_with(block=block_with(padding="valid")), "padding='same'"),
    "32 then 64 filters": (small_with(blocks=((32, 2), (64, 2))), "16 filters"),
    "three blocks": (small_with(blocks=((16, 2), (32, 2), (64, 2))), "two VGG blocks only"),
    "global average pooling": (small_with(flatten=layers.GlobalAveragePooling2D), "instead of global average"),
    "no hidden fc layer": (small_with(fc=0), "Dense 64 → ReLU"),
    "fc of 128 units": (small_with(fc=128), "Dense 64 → ReLU"),
    "10 classes hard-coded": (small_with(classes=10), "n_classes units"),
    "32×32 input": (small_with(input_shape=(32, 32, 1)), "keras.Input((28, 28, 1))"),
    "no ReLU": (small_with(block=block_with(activation=None)), "followed by a ReLU"),
}


@pytest.mark.parametrize("mistake", list(SMALL_MISTAKES))
def test_small_vgg_rejects(mistake):
    answer, fragment = SMALL_MISTAKES[mistake]
    rejects(check.small_vgg, answer, "Task 6", fragment)


def test_small_vgg_accepts_correct_answers(capsys):
    accepts(check.small_vgg, SOLUTION["small_vgg"], capsys)
    accepts(check.small_vgg, small_with(block=block_with(relu_layer=layers.ReLU), softmax_layer=True), capsys)
    accepts(check.small_vgg, small_with(dropout=0.5), capsys)


def test_the_checks_small_vgg_formula_agrees_with_keras():
    for n_classes in (10, 3):
        assert SOLUTION["small_vgg"](n_classes).count_params() == check.small_vgg_spec(n_classes)[1]

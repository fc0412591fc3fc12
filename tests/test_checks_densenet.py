"""Unit 09's checks: each rejects the stub and the typical wrong answers, and accepts
the solution (run from solutions/09_densenet.ipynb) and other correct ways to write it
(nested models, keras.ops, equivalent layers, other names, harmless extra arguments).

Each wrong answer names the words its rejection must contain, so that a wrong
answer is rejected for its own mistake, not by accident.
"""

import math

import keras
import numpy as np
import pytest
from keras import layers, ops

from cnn_course.checks import densenet as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("09_densenet")


# -- Task 1 · densenet_channels ----------------------------------------------------
def channels_with(rounding=int, compress=True, layers_of=lambda n: n, record_after_transition=False):
    def answer(c0, k, blocks, compression):
        out, c = [], c0
        for i, n in enumerate(blocks):
            c += layers_of(n) * k
            if i < len(blocks) - 1 and compress:
                reduced = rounding(c * compression)
                out.append(reduced if record_after_transition else c)
                c = reduced
            else:
                out.append(c)
        return out

    return answer


CHANNEL_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda *a: None, "returned None"),
    "no compression in the transitions": (channels_with(compress=False), "multiply by the compression"),
    "round() instead of int()": (channels_with(rounding=round), "rounds down"),
    "ceil instead of int()": (channels_with(rounding=math.ceil), "ceil gives one channel too many"),
    "(n - 1)·k per block": (channels_with(layers_of=lambda n: n - 1), "n·k"),
    "records the channels after the transition": (channels_with(record_after_transition=True), "expected"),
    "returns the total only": (
        lambda c0, k, blocks, theta: channels_with()(c0, k, blocks, theta)[-1],
        "list of whole numbers",
    ),
    "returns floats": (lambda *a: [float(c) for c in channels_with()(*a)], "list of whole numbers"),
    "returns a string": (lambda *a: str(channels_with()(*a)), "list of whole numbers"),
    "starts from 0 channels": (lambda c0, k, b, t: channels_with()(0, k, b, t), "expected"),
    "wrong argument order": (
        lambda k, c0, blocks, compression: channels_with()(c0, k, blocks, compression),
        "expected",
    ),
}


@pytest.mark.parametrize("mistake", list(CHANNEL_MISTAKES))
def test_densenet_channels_rejects(mistake):
    answer, fragment = CHANNEL_MISTAKES[mistake]
    rejects(check.densenet_channels, answer, "Task 1", fragment)


def test_densenet_channels_accepts_correct_answers(capsys):
    accepts(check.densenet_channels, SOLUTION["densenet_channels"], capsys)
    accepts(check.densenet_channels, channels_with(rounding=math.floor), capsys)

    def recursive(c0, k, blocks, compression):
        first = c0 + blocks[0] * k
        if len(blocks) == 1:
            return (first,)
        return (first, *recursive(int(first * compression), k, blocks[1:], compression))

    accepts(check.densenet_channels, recursive, capsys)
    accepts(check.densenet_channels, lambda *a: np.array(channels_with()(*a)), capsys)  # NumPy integers


# -- Task 2 · dense_block --------------------------------------------------------------
def block_with(
    relu_first=False,
    bottleneck=64,
    join="concat",
    fixed_k=None,
    layers_of=lambda n: n,
    padding="same",
    use_bias=True,
    keep_first_input=False,
    only_new=False,
    input_last=False,
    relu_layer=layers.ReLU,
    second_relu=True,
    bn_axis=-1,
    dilation=1,
    skip_from_bn=False,
    **conv_args,
):
    def answer(x, k, n_block, name="dense"):
        first = x
        for _ in range(layers_of(n_block)):
            main = first if keep_first_input else x
            norm = layers.BatchNormalization(axis=bn_axis)(x)
            main = norm if skip_from_bn else main
            y = layers.BatchNormalization(axis=bn_axis)(relu_layer()(x)) if relu_first else relu_layer()(norm)
            if bottleneck:
                y = layers.BatchNormalization(axis=bn_axis)(
                    layers.Conv2D(bottleneck, 1, use_bias=use_bias, **conv_args)(y)
                )
                y = relu_layer()(y) if second_relu else y
            y = layers.Conv2D(fixed_k or k, 3, padding=padding, use_bias=use_bias, dilation_rate=dilation, **conv_args)(
                y
            )
            if only_new:
                x = y
            elif join == "add":
                x = layers.Add()([main, y])
            else:
                x = keras.ops.concatenate([y, main] if input_last else [main, y], axis=-1)
        return x

    return answer


def fixed_names(x, k, n_block, name="dense"):
    for _ in range(n_block):
        y = layers.Conv2D(64, 1, name="conv1x1")(layers.ReLU()(layers.BatchNormalization()(x)))
        y = layers.Conv2D(k, 3, padding="same")(layers.ReLU()(layers.BatchNormalization()(y)))
        x = layers.Concatenate()([x, y])
    return x


BLOCK_MISTAKES = {
    "stub": (stub, "not written yet"),
    "adds instead of concatenating": (block_with(join="add"), "raised ValueError"),
    "ReLU before BN": (block_with(relu_first=True), "batch normalisation comes first"),
    "no 1×1 bottleneck": (block_with(bottleneck=0), "1×1 bottleneck"),
    "bottleneck with k filters": (block_with(bottleneck=6), "kernel size, stride and number of filters"),
    "growth rate fixed at 16": (block_with(fixed_k=16), "output shape"),
    "valid padding on the 3×3 conv": (block_with(padding="valid"), "padding='same'"),
    "returns only the new features": (block_with(only_new=True), "not only the new features"),
    "concatenates the block's first input every time": (block_with(keep_first_input=True), "output shape"),
    "one layer too few": (block_with(layers_of=lambda n: n - 1), "range(n_block)"),
    "convolutions without bias": (block_with(use_bias=False), "keep their bias"),
    "no ReLU after the second BN": (block_with(second_relu=False), "put a ReLU between"),
    "BN over axis 1 (height)": (block_with(bn_axis=1), "axis=-1"),
    "a stray dilation on the 3×3 conv": (block_with(dilation=2), "not dilated"),
    "new features first, input last": (block_with(input_last=True), "concatenates [its input, the new features]"),
    "concatenates the normalised input": (block_with(skip_from_bn=True), "concatenates [its input, the new features]"),
    "the same layer name in every layer": (fixed_names, "two layers share the name 'conv1x1'"),
    "no n_block parameter": (lambda x, k: x, "do not fit"),
    "returns None": (lambda x, k, n_block, name="dense": None, "returned None"),
    "returns the layer, not its output": (lambda x, k, n_block, name="dense": layers.Concatenate(), "Keras tensor"),
}


def test_adding_is_rejected_even_when_keras_accepts_the_shapes():
    # an Add whose branch returns the input's width builds fine in Keras; the channel count must catch it
    def add_block(x, k, n_block, name="dense"):
        for _ in range(n_block):
            x = layers.Add()(
                [
                    x,
                    layers.Conv2D(x.shape[-1], 3, padding="same")(
                        layers.Conv2D(64, 1)(layers.ReLU()(layers.BatchNormalization()(x)))
                    ),
                ]
            )
        return x

    rejects(check.dense_block, add_block, "concatenates, so channels grow by k")


@pytest.mark.parametrize("mistake", list(BLOCK_MISTAKES))
def test_dense_block_rejects(mistake):
    answer, fragment = BLOCK_MISTAKES[mistake]
    rejects(check.dense_block, answer, "Task 2", fragment)


def nested_block(x, k, n_block, name="dense"):
    """Each layer's branch as a keras.Sequential, joined with a Concatenate layer."""
    for i in range(n_block):
        branch = keras.Sequential(
            [
                layers.BatchNormalization(momentum=0.9),
                layers.Activation("relu"),
                layers.Conv2D(64, (1, 1), kernel_initializer="he_normal"),
                layers.BatchNormalization(epsilon=1e-3),
                layers.ReLU(),
                layers.Conv2D(k, (3, 3), strides=(1, 1), padding="same"),
            ],
            name=f"{name}_branch{i}",
        )
        x = layers.Concatenate(axis=3)([x, branch(x)])
    return x


def ops_block(x, k, n_block, name="dense"):
    """keras.ops for the activations and the join."""
    for _ in range(n_block):
        y = layers.Conv2D(64, 1)(ops.relu(layers.BatchNormalization()(x)))
        y = layers.Conv2D(k, 3, padding="same")(ops.relu(layers.BatchNormalization()(y)))
        x = ops.concatenate([x, y], axis=-1)
    return x


def test_dense_block_accepts_correct_answers(capsys):
    accepts(check.dense_block, SOLUTION["dense_block"], capsys)
    accepts(check.dense_block, block_with(), capsys)  # ReLU layers and keras.ops.concatenate
    accepts(check.dense_block, block_with(relu_layer=lambda: layers.Activation(keras.activations.relu)), capsys)
    accepts(check.dense_block, nested_block, capsys)
    accepts(check.dense_block, ops_block, capsys)


# -- Task 3 · transition_layer ---------------------------------------------------------
def transition_with(
    pool=layers.AveragePooling2D,
    rounding=int,
    kernel=1,
    strides=None,
    default=0.5,
    pool_first=False,
    pool_padding="valid",
    preact=False,
    **conv_args,
):
    def answer(x, compression=default, name="transition"):
        filters = rounding(x.shape[-1] * compression)
        conv = layers.Conv2D(filters, kernel, padding="same", **conv_args)
        pooling = (lambda t: t) if pool is None else pool(2, strides=strides, padding=pool_padding)
        x = layers.ReLU()(layers.BatchNormalization()(x)) if preact else x
        return conv(pooling(x)) if pool_first else pooling(conv(x))

    return answer


TRANSITION_MISTAKES = {
    "stub": (stub, "not written yet"),
    "max pooling": (transition_with(pool=layers.MaxPooling2D), "average pooling, not max pooling"),
    "keras.ops.max_pool": (lambda x, c=0.5: ops.max_pool(transition_with(pool=None)(x, c), 2, 2), "not max pooling"),
    "no pooling": (transition_with(pool=None), "2×2 average pooling (stride 2)"),
    "round() instead of int()": (transition_with(rounding=round), "rounds down"),
    "ceil instead of int()": (transition_with(rounding=math.ceil), "rounds down"),
    "3×3 conv": (transition_with(kernel=3), "convolution is 1×1"),
    "pooling with stride 1": (transition_with(strides=1), "output shape"),
    "pooling with padding='same'": (transition_with(pool_padding="same"), "output shape"),
    "compression defaults to 1": (transition_with(default=1.0), "default to 0.5"),
    "BN-ReLU first (DenseNet-BC's transition)": (transition_with(preact=True), "no BN → ReLU"),
    "a ReLU after the conv": (transition_with(activation="relu"), "no ReLU here"),
    "conv without bias": (transition_with(use_bias=False), "keep their bias"),
    "a strided conv instead of pooling": (
        lambda x, compression=0.5: layers.Conv2D(int(x.shape[-1] * compression), 1, strides=2)(x),
        "output shape",
    ),
}


@pytest.mark.parametrize("mistake", list(TRANSITION_MISTAKES))
def test_transition_layer_rejects(mistake):
    answer, fragment = TRANSITION_MISTAKES[mistake]
    rejects(check.transition_layer, answer, "Task 3", fragment)


def test_transition_layer_accepts_correct_answers(capsys):
    accepts(check.transition_layer, SOLUTION["transition_layer"], capsys)
    accepts(check.transition_layer, transition_with(rounding=math.floor, kernel_initializer="zeros"), capsys)
    # a 1×1 conv and average pooling are both linear, so pooling first gives the same output (for 4× fewer MACs)
    accepts(check.transition_layer, transition_with(pool_first=True), capsys)

    def with_ops(x, compression=0.5, name="t"):
        filters = math.floor(x.shape[-1] * compression)
        return ops.average_pool(layers.Conv2D(filters, (1, 1), name=f"{name}_c")(x), (2, 2), (2, 2))

    accepts(check.transition_layer, with_ops, capsys)

    def nested(x, compression=0.5, name="t"):
        filters = int(x.shape[-1] * compression)
        return keras.Sequential([layers.Conv2D(filters, 1), layers.AveragePooling2D((2, 2), (2, 2))], name=name)(x)

    accepts(check.transition_layer, nested, capsys)


# -- Task 4 · DenseNet(n_class) --------------------------------------------------------
def densenet_with(
    blocks=(1, 2, 4, 3),
    k=16,
    classes=None,
    softmax=True,
    head_units=512,
    head_bn=True,
    last_transition=False,
    transition=None,
    block=None,
    names=True,
    gap=None,
    relu_first=False,
):
    dense_block = block or SOLUTION["dense_block"]
    transition_layer = transition or SOLUTION["transition_layer"]

    def answer(n_class):
        inputs = keras.Input((28, 28, 1))
        x = inputs
        for i, n in enumerate(blocks, start=1):
            x = dense_block(x, k, n, **({"name": f"d{i}"} if names else {}))
            if i < len(blocks) or last_transition:
                x = transition_layer(x, 0.5, **({"name": f"t{i}"} if names else {}))
        x = gap(x) if gap else layers.GlobalAveragePooling2D()(x)
        if head_units:
            x = layers.Dense(head_units)(x)
            steps = [layers.BatchNormalization(), layers.ReLU()] if head_bn else [layers.ReLU()]
            for step in steps[::-1] if relu_first else steps:
                x = step(x)
        x = layers.Dense(classes or n_class)(x)
        if softmax:
            x = layers.Softmax()(x)
        return keras.Model(inputs, x)

    return answer


def max_pool_transition(x, compression=0.5, name="t"):
    return layers.MaxPooling2D(2)(layers.Conv2D(int(x.shape[-1] * compression), 1)(x))


DENSENET_MISTAKES = {
    "stub": (stub, "not written yet"),
    "ten classes hard-coded": (densenet_with(classes=10), "n_class units"),
    "no softmax": (densenet_with(softmax=False), "missing Softmax"),
    "blocks of 2, 2, 4, 3 layers": (densenet_with(blocks=(2, 2, 4, 3)), "layer with weights"),
    "growth rate 32": (densenet_with(k=32), "layer with weights"),
    "a transition after the last block": (densenet_with(last_transition=True), "layer with weights"),
    "no Dense 512 in the head": (densenet_with(head_units=0), "layer with weights"),
    "no batch normalisation in the head": (densenet_with(head_bn=False), "layer with weights"),
    "ReLU before BN in the head": (densenet_with(relu_first=True), "batch normalisation comes first"),
    "max pooling in the transitions": (densenet_with(transition=max_pool_transition), "not max pooling"),
    "every block named 'dense'": (densenet_with(names=False), "two layers share the name"),
    "returns the output tensor, not a model": (lambda n_class: densenet_with()(n_class).output, "keras.Model"),
    "keras.applications.DenseNet121": (
        lambda n_class: keras.applications.DenseNet121(weights=None, input_shape=(32, 32, 1), classes=n_class),
        "input shape",
    ),
    "the check's own reference": (
        lambda n_class: check.reference("DenseNet", (n_class,), (28, 28, 1)),
        "own reference",
    ),
}


@pytest.mark.parametrize("mistake", list(DENSENET_MISTAKES))
def test_densenet_rejects(mistake):
    answer, fragment = DENSENET_MISTAKES[mistake]
    rejects(check.densenet, answer, "Task 4", fragment)


def block_model(x, k, n_block, name="dense"):
    """The dense block as a sub-model, called on x."""
    inputs = keras.Input(x.shape[1:])
    return keras.Model(inputs, SOLUTION["dense_block"](inputs, k, n_block, name=name), name=f"{name}_model")(x)


def test_densenet_accepts_correct_answers(capsys):
    accepts(check.densenet, SOLUTION["DenseNet"], capsys)
    accepts(check.densenet, densenet_with(), capsys)  # a loop over the blocks, ReLU and Softmax layers
    accepts(check.densenet, densenet_with(gap=lambda x: ops.mean(x, axis=(1, 2))), capsys)
    accepts(check.densenet, densenet_with(block=block_model), capsys)
    accepts(check.densenet, densenet_with(block=nested_block, transition=transition_with(pool_first=True)), capsys)


# -- Task 5 · dense_block_params -------------------------------------------------------
def params_with(bias=True, bn_per_channel=4, grows=True, layers_of=lambda n: n):
    def answer(c0, k, n_block, bottleneck=64):
        total = 0
        for i in range(layers_of(n_block)):
            c = c0 + i * k if grows else c0
            total += bn_per_channel * c + c * bottleneck + bias * bottleneck + bn_per_channel * bottleneck
            total += 9 * bottleneck * k + bias * k
        return total

    return answer


PARAMS_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda *a: None, "returned None"),
    "forgets the biases": (params_with(bias=False), "count the biases"),
    "counts 2 per BN channel": (params_with(bn_per_channel=2), "Keras counts 4 numbers per channel"),
    "every layer sees c0 channels": (params_with(grows=False), "layer i sees c0 + i·k"),
    "one layer too few": (params_with(layers_of=lambda n: n - 1), "not n_block − 1"),
    "returns a float": (lambda *a: float(params_with()(*a)), "wrong type"),
    "returns a string": (lambda *a: str(params_with()(*a)), "wrong type"),
    "always a 64-filter bottleneck": (
        lambda c0, k, n_block, bottleneck=64: params_with()(c0, k, n_block),
        "dense_block_params(64, 32, 6, bottleneck=128)",
    ),
    "no bottleneck parameter": (lambda c0, k, n_block: params_with()(c0, k, n_block), "do not fit"),
}


@pytest.mark.parametrize("mistake", list(PARAMS_MISTAKES))
def test_dense_block_params_rejects(mistake):
    answer, fragment = PARAMS_MISTAKES[mistake]
    rejects(check.dense_block_params, answer, "Task 5", fragment)


def test_dense_block_params_accepts_correct_answers(capsys):
    accepts(check.dense_block_params, SOLUTION["dense_block_params"], capsys)

    def closed_form(c0, k, n_block, bottleneck=64):
        inputs = n_block * c0 + k * n_block * (n_block - 1) // 2  # Σ (c0 + i·k)
        per_layer = bottleneck + 4 * bottleneck + 9 * bottleneck * k + k
        return 4 * inputs + bottleneck * inputs + n_block * per_layer

    accepts(check.dense_block_params, closed_form, capsys)
    accepts(check.dense_block_params, lambda *a: np.int64(params_with()(*a)), capsys)
    accepts(check.dense_block_params, params_with(), capsys)


def test_the_checks_formula_agrees_with_keras():
    block = SOLUTION["dense_block"]
    for c0, k, n in [(1, 16, 1), (8, 16, 3), (24, 12, 5)]:
        inputs = keras.Input((8, 8, c0))
        assert keras.Model(inputs, block(inputs, k, n)).count_params() == check.seed_block_params(c0, k, n)


# -- Task 6 · densenet_bc ----------------------------------------------------------------
def bc_with(
    stem=lambda k: 2 * k,
    preact_transition=True,
    bottleneck=lambda k: 4 * k,
    growth=lambda k: k,
    use_bias=False,
    center=True,
    bn_axis=-1,
    final_bn=True,
    compress=True,
    rounding=int,
    padding="same",
    pool=layers.AveragePooling2D,
    softmax=True,
    bn_relu=None,
):
    def answer(blocks=(16, 16, 16), k=12, compression=0.5, n_class=10, input_shape=(32, 32, 3)):
        def norm_relu(t):
            return layers.ReLU()(layers.BatchNormalization(axis=bn_axis, center=center)(t))

        activate = bn_relu or norm_relu
        inputs = keras.Input(input_shape)
        x = layers.Conv2D(stem(k), 3, padding="same", use_bias=use_bias)(inputs)
        for b, n in enumerate(blocks):
            for _ in range(n):
                y = layers.Conv2D(bottleneck(k), 1, use_bias=use_bias)(activate(x))
                y = layers.Conv2D(growth(k), 3, padding=padding, use_bias=use_bias)(activate(y))
                x = layers.concatenate([x, y])
            if b < len(blocks) - 1:
                t = activate(x) if preact_transition else x
                filters = rounding(x.shape[-1] * (compression if compress else 1))
                x = pool(2)(layers.Conv2D(filters, 1, use_bias=use_bias)(t))
        if final_bn:
            x = activate(x)
        x = layers.Dense(n_class)(layers.GlobalAveragePooling2D()(x))
        return keras.Model(inputs, layers.Softmax()(x) if softmax else x)

    return answer


BC_MISTAKES = {
    "stub": (stub, "not written yet"),
    "stem with k filters": (bc_with(stem=lambda k: k), "the stem has 2k filters"),
    "transition without BN-ReLU": (bc_with(preact_transition=False), "transition starts with BN → ReLU"),
    "bottleneck of 64 filters": (bc_with(bottleneck=lambda k: 64), "bottleneck 1×1 conv has 4k filters"),
    "growth rate fixed at 12": (bc_with(growth=lambda k: 12), "each 3×3 conv in a block has k"),
    "convolutions with bias": (bc_with(use_bias=True), "no bias"),
    "bias with BN(center=False) instead of no bias": (bc_with(use_bias=True, center=False), "no bias"),
    "BN over axis 1": (bc_with(bn_axis=1), "axis=-1"),
    "no BN-ReLU before pooling": (bc_with(final_bn=False), "BN → ReLU before global average pooling"),
    "no compression": (bc_with(compress=False), "int(C·θ)"),
    "round() in the transition": (bc_with(rounding=round), "int(C·θ)"),
    "valid padding on the 3×3 convs": (bc_with(padding="valid"), "raised ValueError"),
    "max pooling in the transitions": (bc_with(pool=layers.MaxPooling2D), "not max pooling"),
    "no softmax": (bc_with(softmax=False), "missing Softmax"),
}


@pytest.mark.parametrize("mistake", list(BC_MISTAKES))
def test_densenet_bc_rejects(mistake):
    answer, fragment = BC_MISTAKES[mistake]
    rejects(check.densenet_bc, answer, "Task 6", fragment)


def test_densenet_bc_accepts_correct_answers(capsys):
    accepts(check.densenet_bc, SOLUTION["densenet_bc"], capsys)
    accepts(check.densenet_bc, bc_with(), capsys)  # helper function, layers.concatenate, Dense then Softmax
    accepts(check.densenet_bc, bc_with(bn_relu=lambda t: ops.relu(layers.BatchNormalization()(t))), capsys)
    nested = bc_with(bn_relu=lambda t: keras.Sequential([layers.BatchNormalization(), layers.Activation("relu")])(t))
    accepts(check.densenet_bc, nested, capsys)


# -- Task 7 · densenet_params ------------------------------------------------------------
def imagenet_with(**mistake):
    return lambda blocks, k=32, compression=0.5, n_class=1000: check.imagenet_params(
        blocks, k, compression, n_class, **mistake
    )


IMAGENET_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda *a, **kw: None, "returned None"),
    "counts 2 per BN channel": (imagenet_with(bn=2), "4 numbers per batch normalisation channel"),
    "no stem BN": (imagenet_with(stem_bn=False), "stem's 7×7 conv is followed by a BN"),
    "no transition BN": (imagenet_with(transition_bn=False), "transition starts with BN"),
    "no head BN": (imagenet_with(head_bn=False), "head starts with BN"),
    "convolutions with bias": (imagenet_with(bias=True), "no bias"),
    "the notes' 64-filter bottleneck": (imagenet_with(bottleneck=64), "4k filters"),
    "round() in the transitions": (imagenet_with(rounding=round), "rounds down"),
    "a 1-channel image": (imagenet_with(channels=1), "7·7·3·2k"),
    "layers do not read the earlier layers": (imagenet_with(grows=False), "every earlier layer"),
    "no classifier biases": (
        lambda blocks, k=32, compression=0.5, n_class=1000: (
            check.imagenet_params(blocks, k, compression, n_class) - n_class
        ),
        "n_class biases",
    ),
    "returns a float": (lambda *a, **kw: float(imagenet_with()(*a, **kw)), "use int()"),
    "ignores k (always 32)": (
        lambda blocks, k=32, compression=0.5, n_class=1000: check.imagenet_params(blocks, 32, compression, n_class),
        "k=3",
    ),
    "builds keras.applications.DenseNet121 whatever the blocks": (
        lambda blocks, k=32, compression=0.5, n_class=1000: 8_062_504,
        "DenseNet-169",
    ),
}


@pytest.mark.parametrize("mistake", list(IMAGENET_MISTAKES))
def test_densenet_params_rejects(mistake):
    answer, fragment = IMAGENET_MISTAKES[mistake]
    rejects(check.densenet_params, answer, "Task 7", fragment)


def test_densenet_params_accepts_correct_answers(capsys):
    accepts(check.densenet_params, SOLUTION["densenet_params"], capsys)
    accepts(check.densenet_params, imagenet_with(), capsys)
    accepts(check.densenet_params, lambda *a, **kw: np.int64(imagenet_with()(*a, **kw)), capsys)

    def per_part(blocks, k=32, compression=0.5, n_class=1000):
        def bn(c):
            return 4 * c

        def conv(size, c_in, c_out):
            return size * size * c_in * c_out

        channels, total = 2 * k, conv(7, 3, 2 * k) + bn(2 * k)
        for i, n in enumerate(blocks):
            reads = [channels + j * k for j in range(n)]
            total += sum(bn(c) + conv(1, c, 4 * k) + bn(4 * k) + conv(3, 4 * k, k) for c in reads)
            channels += n * k
            if i + 1 < len(blocks):
                total += bn(channels) + conv(1, channels, math.floor(channels * compression))
                channels = math.floor(channels * compression)
        return total + bn(channels) + (channels + 1) * n_class

    accepts(check.densenet_params, per_part, capsys)


def test_the_imagenet_formula_agrees_with_keras():
    assert (
        check.imagenet_params(check.IMAGENET_CONFIGS[121])
        == keras.applications.DenseNet121(weights=None).count_params()
    )
    blocks, k, theta, n_class = (2, 3, 1), 5, 0.75, 7
    body = check.densenet_spec(2 * k, k, blocks, theta, 4 * k, False, True)
    stem = check.chain(check.conv(7, 2 * k, strides=2, bias=False), check.bn())
    head = check.chain(check.bn(), check.relu(), check.gap(), check.dense(n_class))
    small = check.reference_model(check.chain(stem, body, head), (32, 32, 3))
    assert check.imagenet_params(blocks, k, theta, n_class) == small.count_params()


# -- Task 8 · dense_block_memory -----------------------------------------------------------
def memory_with(factor=1, extra_input=False, per_position=False, **mistake):
    def answer(c0, k, n_block, height, width, bottleneck=64):
        values = check.block_activations(c0, k, n_block, bottleneck, **mistake)
        area = 1 if per_position else height * width
        return factor * values * area + (c0 * height * width if extra_input else 0)

    return answer


MEMORY_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda *a, **kw: None, "returned None"),
    "no concatenations": (memory_with(per_layer=("bn", "relu", "conv")), "concatenations' outputs"),
    "no BN outputs": (memory_with(per_layer=("relu", "conv", "concat")), "BN and ReLU each make a new tensor"),
    "no ReLU outputs": (memory_with(per_layer=("bn", "conv", "concat")), "BN and ReLU each make a new tensor"),
    "no conv outputs": (memory_with(per_layer=("bn", "relu", "concat")), "convolutions' outputs"),
    "layers read c0 only": (memory_with(grows=0), "grow with each concatenation"),
    "bytes, not values": (memory_with(factor=4), "not bytes"),
    "counts the block's input": (memory_with(extra_input=True), "leave it out"),
    "per position only": (memory_with(per_position=True), "height · width"),
    "one layer too few": (
        lambda c0, k, n, h, w, bottleneck=64: check.block_activations(c0, k, n - 1, bottleneck) * h * w,
        "not n_block − 1",
    ),
    "returns a float": (lambda *a, **kw: float(memory_with()(*a, **kw)), "use int()"),
    "always a 64-filter bottleneck": (
        lambda c0, k, n, h, w, bottleneck=64: memory_with()(c0, k, n, h, w),
        "bottleneck=128",
    ),
}


@pytest.mark.parametrize("mistake", list(MEMORY_MISTAKES))
def test_dense_block_memory_rejects(mistake):
    answer, fragment = MEMORY_MISTAKES[mistake]
    rejects(check.dense_block_memory, answer, "Task 8", fragment)


def test_dense_block_memory_accepts_correct_answers(capsys):
    accepts(check.dense_block_memory, SOLUTION["dense_block_memory"], capsys)
    accepts(check.dense_block_memory, memory_with(), capsys)

    def closed_form(c0, k, n_block, height, width, bottleneck=64):
        reads = n_block * c0 + k * n_block * (n_block - 1) // 2  # Σ (c0 + i·k)
        return (3 * reads + n_block * (3 * bottleneck + 2 * k)) * height * width

    accepts(check.dense_block_memory, closed_form, capsys)
    accepts(check.dense_block_memory, lambda *a, **kw: np.int64(closed_form(*a, **kw)), capsys)


def test_the_memory_formula_agrees_with_the_built_block():
    for c0, k, n, b, h, w in [(3, 5, 4, 7, 9, 11), (1, 16, 2, 64, 6, 6)]:
        inputs = keras.Input((h, w, c0))
        x, outputs = inputs, []
        for _ in range(n):
            for layer in [
                layers.BatchNormalization(),
                layers.ReLU(),
                layers.Conv2D(b, 1),
                layers.BatchNormalization(),
                layers.ReLU(),
                layers.Conv2D(k, 3, padding="same"),
            ]:
                outputs.append(layer(outputs[-1] if outputs and len(outputs) % 7 else x))
            x = layers.Concatenate()([x, outputs[-1]])
            outputs.append(x)
        assert sum(int(np.prod(t.shape[1:])) for t in outputs) == check.block_activations(c0, k, n, b) * h * w


# -- Task 9 · new_features_block -------------------------------------------------------------
def new_features_with(
    keep_input=False,
    last_only=False,
    reads="all",
    relu_first=False,
    bottleneck=0,
    padding="same",
    use_bias=True,
    reverse=False,
    input_last=False,
    join=layers.Concatenate,
    bn_relu=None,
):
    def answer(x, k, n_block, name="up"):
        first, made = x, []
        for _ in range(n_block):
            if bn_relu is not None:
                y = bn_relu(x)
            elif relu_first:
                y = layers.BatchNormalization()(layers.ReLU()(x))
            else:
                y = layers.ReLU()(layers.BatchNormalization()(x))
            if bottleneck:
                y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(bottleneck, 1)(y)))
            y = layers.Conv2D(k, 3, padding=padding, use_bias=use_bias)(y)
            made.append(y)
            if reads == "all":
                x = join()([y, x] if input_last else [x, y])
            elif reads == "previous":
                x = y
            else:  # the block's input only
                x = first
        out = made[::-1] if reverse else made
        if last_only:
            return made[-1]
        if keep_input:
            return join()([first, *out])
        return join()(out)

    return answer


NEW_FEATURES_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns the input with the new maps": (new_features_with(keep_input=True), "not the block's input"),
    "returns the last layer's maps only": (new_features_with(last_only=True), "not only the last one"),
    "each layer reads the previous layer only": (new_features_with(reads="previous"), "layer with weights"),
    "each layer reads the block's input only": (new_features_with(reads="input"), "layer with weights"),
    "ReLU before BN": (new_features_with(relu_first=True), "batch normalisation comes first"),
    "a 1×1 bottleneck": (new_features_with(bottleneck=8), "no 1×1 bottleneck"),
    "valid padding": (new_features_with(padding="valid"), "raised ValueError"),
    "convolutions without bias": (new_features_with(use_bias=False), "keep their bias"),
    "new maps in reverse order": (new_features_with(reverse=True), "in the order the layers made them"),
    "each layer reads [new, input]": (new_features_with(input_last=True), "[x, y1, …, y(i−1)] in that order"),
    "adds the new maps": (new_features_with(join=layers.Add), "raised ValueError"),
    "returns a list of tensors": (lambda x, k, n, name="up": [x, x], "Keras tensor"),
    "the notes' dense block": (
        lambda x, k, n, name="up": SOLUTION["dense_block"](x, k, n, name=name),
        "not the block's input",
    ),
}


@pytest.mark.parametrize("mistake", list(NEW_FEATURES_MISTAKES))
def test_new_features_block_rejects(mistake):
    answer, fragment = NEW_FEATURES_MISTAKES[mistake]
    rejects(check.new_features_block, answer, "Task 9", fragment)


def test_new_features_block_accepts_correct_answers(capsys):
    accepts(check.new_features_block, SOLUTION["new_features_block"], capsys)
    accepts(check.new_features_block, new_features_with(), capsys)
    accepts(
        check.new_features_block, new_features_with(bn_relu=lambda t: ops.relu(layers.BatchNormalization()(t))), capsys
    )
    nested = new_features_with(
        bn_relu=lambda t: keras.Sequential([layers.BatchNormalization(), layers.Activation("relu")])(t)
    )
    accepts(check.new_features_block, nested, capsys)

    def with_ops(x, k, n_block, name="up"):
        made = []
        for _ in range(n_block):
            y = layers.Conv2D(k, 3, padding="same")(layers.ReLU()(layers.BatchNormalization()(x)))
            made.append(y)
            x = ops.concatenate([x, y], axis=-1)
        return ops.concatenate(made, axis=-1)

    accepts(check.new_features_block, with_ops, capsys)

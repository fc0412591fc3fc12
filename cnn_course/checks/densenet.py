"""Checks for unit 09 (DenseNet): the seed's blocks, its model, and the paper's DenseNet-BC.

Each check builds what the learner wrote on small inputs and compares it with
what the task's description implies: output shapes, the kinds of layers in
order, parameter counts from the per-layer formulas, and numerical properties
(a dense block hands its input on unchanged). No check carries a copy of the
solution's code.
"""

import math

import numpy as np

from cnn_course.checks import Task, is_whole_number, layer_kinds, probe_model

SEED_BOTTLENECK = 64
SEED_GROWTH = 16
SEED_BLOCKS = (1, 2, 4, 3)
SEED_HEAD_UNITS = 512

BN, RELU, CONCAT, GAP, SOFTMAX = "BatchNormalization", "ReLU", "Concatenate", "GlobalAveragePooling2D", "Softmax"


def conv(size, filters, stride=1):
    return f"Conv2D {size}×{size}/{stride}×{stride} →{filters}"


def avg_pool():
    return "AveragePooling2D 2×2/2×2"


def dense(units):
    return f"Dense →{units}"


# -- what the descriptions imply -------------------------------------------------
def channels_after_blocks(c0, k, blocks, compression, rounding=math.floor):
    """Channels after each dense block; a transition keeps floor(C·θ) between blocks."""
    channels, c = [], c0
    for i, n in enumerate(blocks):
        c += n * k
        channels.append(c)
        if i < len(blocks) - 1:
            c = int(rounding(c * compression))
    return channels


def seed_layer_kinds(k, bottleneck=SEED_BOTTLENECK):
    """One layer of the seed's dense block: BN → ReLU → 1×1 conv → BN → ReLU → 3×3 conv → concatenate."""
    return [BN, RELU, conv(1, bottleneck), BN, RELU, conv(3, k), CONCAT]


def seed_block_params(c0, k, n_block, bottleneck=SEED_BOTTLENECK, bias=True):
    """Parameters of the seed's dense block as Keras counts them (BN: γ, β, moving mean and variance)."""
    total = 0
    for i in range(n_block):
        c = c0 + i * k
        total += 4 * c + (c * bottleneck + bias * bottleneck) + 4 * bottleneck + (9 * bottleneck * k + bias * k)
    return total


def seed_densenet_spec(n_class):
    """Layer kinds and parameter count of the seed's DenseNet on 28×28×1 inputs."""
    kinds, params, c = [], 0, 1
    for i, n in enumerate(SEED_BLOCKS):
        kinds += n * seed_layer_kinds(SEED_GROWTH)
        params += seed_block_params(c, SEED_GROWTH, n)
        c += n * SEED_GROWTH
        if i < len(SEED_BLOCKS) - 1:
            reduced = math.floor(c * 0.5)
            kinds += [conv(1, reduced), avg_pool()]
            params += c * reduced + reduced
            c = reduced
    kinds += [GAP, dense(SEED_HEAD_UNITS), BN, RELU, dense(n_class), SOFTMAX]
    params += c * SEED_HEAD_UNITS + SEED_HEAD_UNITS + 4 * SEED_HEAD_UNITS + SEED_HEAD_UNITS * n_class + n_class
    return kinds, params


def densenet_bc_spec(blocks, k, compression, n_class, in_channels):
    """Layer kinds and parameter count of a CIFAR-style DenseNet-BC (no conv biases)."""
    stem = 2 * k
    kinds, params, c = [conv(3, stem)], 9 * in_channels * stem, stem
    for i, n in enumerate(blocks):
        for _ in range(n):
            kinds += [BN, RELU, conv(1, 4 * k), BN, RELU, conv(3, k), CONCAT]
            params += 4 * c + c * 4 * k + 4 * (4 * k) + 9 * 4 * k * k
            c += k
        if i < len(blocks) - 1:
            reduced = math.floor(c * compression)
            kinds += [BN, RELU, conv(1, reduced), avg_pool()]
            params += 4 * c + c * reduced
            c = reduced
    kinds += [BN, RELU, GAP, dense(n_class), SOFTMAX]
    params += 4 * c + c * n_class + n_class
    return kinds, params


# -- hints for the usual mistakes ------------------------------------------------
def _layer_hint(expected, got):
    if expected == CONCAT and got.startswith("Add"):
        return "a dense block concatenates its input with the new features (DenseNet); adding them is ResNet's way"
    if expected == BN and got == RELU:
        return "batch normalisation comes first: BN → ReLU → conv (the pre-activation order)"
    if expected == RELU and got.startswith("Conv2D"):
        return "put a ReLU between the batch normalisation and the convolution"
    if expected.startswith("Conv2D 1×1") and got.startswith("Conv2D 3×3"):
        return "each layer starts with the 1×1 bottleneck convolution before the 3×3 one"
    if expected.startswith("Conv2D") and got.startswith("Conv2D"):
        return "check this convolution's kernel size, stride and number of filters"
    if expected.startswith("AveragePooling2D") and got.startswith("MaxPooling2D"):
        return "the transition layer uses average pooling, not max pooling"
    if expected.startswith("AveragePooling2D"):
        return "the transition layer ends with 2×2 average pooling (stride 2)"
    if expected == SOFTMAX:
        return "the model should end with a softmax over the classes"
    return None


def _transition_hint(expected, got):
    if expected.startswith("Conv2D") and got.startswith("Conv2D"):
        return "the transition's convolution is 1×1 with stride 1: it only changes the number of channels"
    return _layer_hint(expected, got)


def _channel_hint(c0, k, blocks, compression, got):
    variants = [
        ("transitions must shrink the channels: multiply by the compression θ", (blocks, 1.0, math.floor)),
        ("int() rounds down (floor); round() gives one channel too many here", (blocks, compression, round)),
        (
            "ceil gives one channel too many here; the transition floors C·θ with int()",
            (blocks, compression, math.ceil),
        ),
        (
            "each of the n layers adds k channels, so a block adds n·k (not (n−1)·k)",
            ([n - 1 for n in blocks], compression, math.floor),
        ),
    ]
    for hint, (blocks_, theta, rounding) in variants:
        if list(got) == channels_after_blocks(c0, k, blocks_, theta, rounding):
            return hint
    return "a block adds n·k channels; a transition keeps int(C·θ) of them"


def _int_list(t, value, name):
    ok = isinstance(value, (list, tuple, np.ndarray)) and all(is_whole_number(v) for v in value)
    t.expect(ok, f"`{name}` should return a list of whole numbers", "a list such as [17, 40, 84, 90]", value)
    return [int(v) for v in value]


# -- the tasks -------------------------------------------------------------------
def densenet_channels(fn):
    """Task 1: channels after each dense block, for several configurations."""
    with Task(1, "densenet_channels") as t:
        t.function(fn, "densenet_channels")
        cases = [
            ("the seed's DenseNet", (1, 16, (1, 2, 4, 3), 0.5)),
            ("DenseNet-121", (64, 32, (6, 12, 24, 16), 0.5)),
            ("c0=3, k=8, blocks (2, 1, 3), θ=0.5", (3, 8, (2, 1, 3), 0.5)),
            ("c0=6, k=12, blocks (1, 2), θ=0.75", (6, 12, (1, 2), 0.75)),
        ]
        for label, args in cases:
            got = _int_list(t, t.call(fn, args), "densenet_channels")
            expected = channels_after_blocks(*args)
            t.equal(f"{label}: channels after each dense block", got, expected, _channel_hint(*args, got))


def dense_block(fn):
    """Task 2: the seed's dense block."""
    with Task(2, "dense_block") as t:
        t.function(fn, "dense_block")
        shape_hint = "keep height and width (padding='same' on the 3×3 conv) and join along channels with Concatenate"
        for c0, k, n in [(5, 6, 3), (3, 4, 1)]:
            what = f"dense_block(x, k={k}, n_block={n}) on an 8×8×{c0} input"
            model = probe_model(t, lambda x, k=k, n=n: fn(x, k, n), (8, 8, c0), what, hint=shape_hint)
            channels = model.outputs[0].shape[-1]
            hint = {
                k: "return the concatenation of the input and the new features, not only the new features",
                c0: "adding keeps the channel count: a dense block concatenates, so channels grow by k per layer",
                c0 + (n - 1) * k: "the block has n_block layers: loop `for i in range(n_block)`",
            }.get(channels, "after n_block layers the block has c0 + n_block·k channels")
            t.equal(f"{what}: output shape", tuple(model.outputs[0].shape[1:]), (8, 8, c0 + n * k), hint)
            t.sequence(f"{what}: layers in order", layer_kinds(model), n * seed_layer_kinds(k), _layer_hint)
            t.equal(
                f"{what}: parameters",
                model.count_params(),
                seed_block_params(c0, k, n),
                "the seed's convolutions keep their bias (Keras's default use_bias=True)",
            )
            x = np.random.default_rng(0).normal(size=(2, 8, 8, c0)).astype("float32")
            y = np.asarray(model(x, training=False))
            kept = np.allclose(y[..., :c0], x) or np.allclose(y[..., -c0:], x)
            t.expect(
                kept,
                f"{what}: the block's input should reach its output unchanged",
                "the input as the first (or last) channels of the output",
                "the input's values are not among the output's channels",
                "concatenate the input (`main`) as it came in, before any BN or ReLU",
            )


def transition_layer(fn):
    """Task 3: the seed's transition layer."""
    with Task(3, "transition_layer") as t:
        t.function(fn, "transition_layer")
        for c, compression in [(19, None), (18, 0.75), (40, 0.5)]:
            extra = () if compression is None else (compression,)  # None: rely on the default
            theta = 0.5 if compression is None else compression
            shown = "" if compression is None else f", compression={compression}"
            what = f"transition_layer(x{shown}) on an 8×8×{c} input"
            model = probe_model(t, lambda x, extra=extra: fn(x, *extra), (8, 8, c), what)
            reduced = math.floor(c * theta)
            got_c = model.outputs[0].shape[-1]
            hint = (
                "int() rounds down: int(C · compression) channels"
                if got_c in (round(c * theta), math.ceil(c * theta))
                else "the 2×2 average pooling halves height and width"
                if tuple(model.outputs[0].shape[1:3]) == (8, 8)
                else "a 1×1 conv to int(C · compression) channels, then 2×2 average pooling"
            )
            if compression is None:
                hint = "compression should default to 0.5; " + hint
            t.equal(f"{what}: output shape", tuple(model.outputs[0].shape[1:]), (4, 4, reduced), hint)
            expected, kinds = [conv(1, reduced), avg_pool()], layer_kinds(model)
            if kinds == expected[::-1]:  # pooling first: both steps are linear, so the output is the same
                kinds = expected
            t.sequence(f"{what}: layers in order", kinds, expected, _transition_hint)


def densenet(fn):
    """Task 4: the seed's DenseNet with its missing n_class fixed."""
    with Task(4, "DenseNet") as t:
        t.function(fn, "DenseNet")
        for n_class in (10, 3):
            what = f"DenseNet(n_class={n_class})"
            model = t.keras_model(t.call(fn, (n_class,), what=what), what)
            t.equal(
                f"{what}: input shape", tuple(model.inputs[0].shape[1:]), (28, 28, 1), "the seed's input is 28×28×1"
            )
            t.equal(
                f"{what}: output shape",
                tuple(model.outputs[0].shape[1:]),
                (n_class,),
                "the last Dense layer should have n_class units (use the argument, not a fixed 10)",
            )
            kinds, params = seed_densenet_spec(n_class)
            t.sequence(f"{what}: layers in order", layer_kinds(model), kinds, _layer_hint)
            t.equal(f"{what}: parameters", model.count_params(), params, "compare each block's settings with the seed")
        probabilities = np.asarray(model(np.zeros((2, 28, 28, 1), "float32"), training=False))
        t.close(f"{what}: each row of the output sums to 1", probabilities.sum(axis=1), np.ones(2), "end with softmax")


def dense_block_params(fn):
    """Task 5: the parameter count of the seed's dense block, as a formula."""
    with Task(5, "dense_block_params") as t:
        t.function(fn, "dense_block_params")
        for c0, k, n, b in [(1, 16, 1, 64), (8, 16, 2, 64), (20, 16, 4, 64), (64, 32, 6, 128), (3, 5, 3, 7)]:
            got = t.call(fn, (c0, k, n, b), what=f"dense_block_params({c0}, {k}, {n}, bottleneck={b})")
            t.value(got, "dense_block_params(...)", (int, np.integer))
            expected = seed_block_params(c0, k, n, b)
            hints = {
                seed_block_params(c0, k, n, b, bias=False): "count the biases of both convolutions",
                expected - sum(2 * (c0 + i * k) + 2 * b for i in range(n)): (
                    "Keras counts 4 numbers per channel of batch normalisation: γ, β and the moving mean and variance"
                ),
                sum(seed_block_params(c0, k, 1, b) for _ in range(n)): (
                    "layer i sees c0 + i·k input channels: the input grows with each concatenation"
                ),
                seed_block_params(c0, k, max(n - 1, 0), b): "the block has n_block layers, not n_block − 1",
            }
            t.equal(f"dense_block_params({c0}, {k}, {n}, bottleneck={b})", int(got), expected, hints.get(int(got)))


def densenet_bc(fn):
    """Task 6: the paper's CIFAR DenseNet-BC from a configuration."""
    with Task(6, "densenet_bc") as t:
        t.function(fn, "densenet_bc")
        for blocks, k, compression, n_class, shape in [
            ((2, 3), 4, 0.5, 5, (16, 16, 3)),
            ((16, 16, 16), 12, 0.5, 10, (32, 32, 3)),
        ]:
            config = dict(blocks=blocks, k=k, compression=compression, n_class=n_class, input_shape=shape)
            what = "densenet_bc(" + ", ".join(f"{key}={value}" for key, value in config.items()) + ")"
            model = t.keras_model(t.call(fn, kwargs=config, what=what), what)
            t.equal(
                f"{what}: output shape",
                tuple(model.outputs[0].shape[1:]),
                (n_class,),
                "end with Dense(n_class) and softmax",
            )
            kinds, params = densenet_bc_spec(blocks, k, compression, n_class, shape[-1])
            t.sequence(f"{what}: layers in order", layer_kinds(model), kinds, _bc_hint)
            t.equal(
                f"{what}: parameters",
                model.count_params(),
                params,
                "DenseNet-BC's convolutions have no bias (use_bias=False): batch normalisation follows each one",
            )
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        t.expect(
            abs(trainable - 0.8e6) < 0.05e6,
            "DenseNet-BC (L=100, k=12) should have about 0.8 M trainable parameters (the paper's Table 2)",
            "0.8 M",
            f"{trainable / 1e6:.2f} M",
        )


def _bc_hint(expected, got):
    if expected == BN and got.startswith("Conv2D 1×1"):
        return "DenseNet-BC's transition starts with BN → ReLU before its 1×1 convolution"
    if expected.startswith("Conv2D 3×3") and got.startswith("Conv2D") and expected.split("→")[1] != got.split("→")[-1]:
        return "the stem has 2k filters; each 3×3 conv in a block has k; the bottleneck has 4k"
    if expected == BN and got == GAP:
        return "finish with BN → ReLU before global average pooling"
    if expected.startswith("Conv2D 1×1") and got.startswith("Conv2D 1×1"):
        return "the bottleneck 1×1 conv has 4k filters; a transition keeps int(C·θ) channels"
    return _layer_hint(expected, got)

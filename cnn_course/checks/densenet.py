"""Checks for unit 09 (DenseNet): the seed's blocks, its model, and the paper's DenseNet-BC.

Blocks and models are compared with a reference built from the task's
specification (``cnn_course.checks.compare``): same random weights, same random
inputs, same outputs, in two or more configurations chosen so that coincidences
cannot hold (odd channel counts, non-square inputs). The hints below explain
the usual mistakes from the first step where the learner's graph differs.
Counting tasks compare with the formulas. No check carries a copy of the
solution's code.
"""

import functools
import math

import numpy as np

from cnn_course.checks import Task, is_whole_number, probe_model
from cnn_course.checks.compare import (
    avg_pool,
    bn,
    chain,
    compare_with_reference,
    concat_input,
    conv,
    dense,
    gap,
    reference_model,
    relu,
    softmax,
)
from cnn_course.i18n import _

SEED_BOTTLENECK = 64
SEED_GROWTH = 16
SEED_BLOCKS = (1, 2, 4, 3)
SEED_HEAD_UNITS = 512


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


def seed_block_params(c0, k, n_block, bottleneck=SEED_BOTTLENECK, bias=True):
    """Parameters of the seed's dense block as Keras counts them (BN: γ, β, moving mean and variance)."""
    total = 0
    for i in range(n_block):
        c = c0 + i * k
        total += 4 * c + (c * bottleneck + bias * bottleneck) + 4 * bottleneck + (9 * bottleneck * k + bias * k)
    return total


# -- the references, from the specifications ------------------------------------------
def dense_block_spec(k, n_block, bottleneck=SEED_BOTTLENECK, bias=True):
    """n_block layers BN → ReLU → 1×1 conv → BN → ReLU → 3×3 conv, each concatenated to its input."""
    layer = chain(bn(), relu(), conv(1, bottleneck, bias=bias), bn(), relu(), conv(3, k, bias=bias))
    return chain(*[concat_input(layer) for _layer in range(n_block)])


def transition_spec(channels, compression, preactivation=False, bias=True):
    """[BN → ReLU →] 1×1 conv to int(C·θ) channels → 2×2 average pooling."""
    parts = [bn(), relu()] if preactivation else []
    return chain(*parts, conv(1, int(channels * compression), bias=bias), avg_pool(2))


def densenet_spec(c0, k, blocks, compression, bottleneck, bias, preactivation):
    """Dense blocks with a transition after every block but the last."""
    parts = []
    for i, (n, c) in enumerate(zip(blocks, channels_after_blocks(c0, k, blocks, compression), strict=True)):
        parts.append(dense_block_spec(k, n, bottleneck, bias))
        if i < len(blocks) - 1:
            parts.append(transition_spec(c, compression, preactivation, bias))
    return chain(*parts)


@functools.cache
def reference(name, config, input_shape):
    """The reference model of a task in one configuration, built once per process."""
    if name == "dense_block":
        spec = dense_block_spec(*config)
    elif name == "transition_layer":
        spec = transition_spec(input_shape[-1], *config)
    elif name == "DenseNet":
        body = densenet_spec(1, SEED_GROWTH, SEED_BLOCKS, 0.5, SEED_BOTTLENECK, True, False)
        spec = chain(body, gap(), dense(SEED_HEAD_UNITS), bn(), relu(), dense(config[0]), softmax())
    else:  # densenet_bc
        blocks, k, compression, n_class = config
        body = densenet_spec(2 * k, k, blocks, compression, 4 * k, False, True)
        spec = chain(conv(3, 2 * k, bias=False), body, bn(), relu(), gap(), dense(n_class), softmax())
    return reference_model(spec, input_shape)


# -- hints for the usual mistakes, from the first step that differs ---------------------
def _conv_hint(e, g):
    if e.settings["bias"] != g.settings["bias"]:
        if e.settings["bias"]:
            return _("the seed's convolutions keep their bias (Keras's default use_bias=True)")
        return _("DenseNet-BC's convolutions have no bias (use_bias=False): batch normalisation follows each one")
    if e.settings["kernel"] == (1, 1) and g.settings["kernel"] == (3, 3):
        return _("each layer starts with the 1×1 bottleneck convolution before the 3×3 one")
    if e.settings["padding"] != g.settings["padding"]:
        return _("padding='same' keeps height and width, so the new features can be concatenated to the input")
    if "dilation" in g.settings:
        return _("the convolutions are not dilated: remove dilation_rate")
    return _("check this convolution's kernel size, stride and number of filters")


def _layer_hint(e, g):
    if e is None or g is None:
        return None
    kinds = (e.kind, g.kind)
    if kinds == ("Concatenate", "Add"):
        return _("a dense block concatenates its input with the new features (DenseNet); adding them is ResNet's way")
    if kinds == ("BatchNormalization", "ReLU"):
        return _("batch normalisation comes first: BN → ReLU → conv (the pre-activation order)")
    if kinds == ("BatchNormalization", "BatchNormalization"):
        return _("normalise over the channels: keep BatchNormalization's default axis=-1 and its other defaults")
    if e.kind == "ReLU" and g.kind != "ReLU":
        return _("put a ReLU between the batch normalisation and the convolution")
    if g.kind in ("ReLU", "ReLU6", "Softmax", "Sigmoid", "Tanh"):
        return _("the task has no {kind} here (check the layers' activation= arguments too)").format(kind=g.kind)
    if kinds == ("Conv2D", "Conv2D"):
        return _conv_hint(e, g)
    if kinds == ("AveragePooling", "MaxPooling"):
        return _("the transition layer uses average pooling, not max pooling")
    if e.kind == "AveragePooling":
        return _("the transition layer ends with 2×2 average pooling (stride 2)")
    if e.kind == "Softmax":
        return _("the model should end with a softmax over the classes")
    return None


def _transition_hint(e, g):
    if e is not None and g is not None and e.kind == "Conv2D":
        if g.kind == "BatchNormalization":
            return _("the notes' transition has no BN → ReLU before its convolution (DenseNet-BC's has)")
        if g.kind == "Conv2D" and (e.settings["kernel"], e.settings["strides"]) != (
            g.settings["kernel"],
            g.settings["strides"],
        ):
            return _("the transition's convolution is 1×1 with stride 1: it only changes the number of channels")
    return _layer_hint(e, g)


def _bc_hint(k):
    def hint(e, g):
        if e is None or g is None:
            return None
        if e.kind == "BatchNormalization" and g.kind == "Conv2D" and g.settings["kernel"] == (1, 1):
            return _("DenseNet-BC's transition starts with BN → ReLU before its 1×1 convolution")
        if e.kind == "BatchNormalization" and g.kind == "GlobalAveragePooling":
            return _("finish with BN → ReLU before global average pooling")
        if (e.kind, g.kind) == ("Conv2D", "Conv2D") and e.settings["filters"] != g.settings["filters"]:
            if e.settings["kernel"] == (3, 3):
                return _("the stem has 2k filters; each 3×3 conv in a block has k")
            if e.settings["filters"] == 4 * k:
                return _("the bottleneck 1×1 conv has 4k filters")
            return _("a transition's 1×1 conv keeps int(C·θ) channels")
        return _layer_hint(e, g)

    return hint


def _channel_hint(c0, k, blocks, compression, got):
    variants = [
        (_("transitions must shrink the channels: multiply by the compression θ"), (blocks, 1.0, math.floor)),
        (_("int() rounds down (floor); round() gives one channel too many here"), (blocks, compression, round)),
        (
            _("ceil gives one channel too many here; the transition floors C·θ with int()"),
            (blocks, compression, math.ceil),
        ),
        (
            _("each of the n layers adds k channels, so a block adds n·k (not (n−1)·k)"),
            ([n - 1 for n in blocks], compression, math.floor),
        ),
    ]
    for hint, (blocks_, theta, rounding) in variants:
        if list(got) == channels_after_blocks(c0, k, blocks_, theta, rounding):
            return hint
    return _("a block adds n·k channels; a transition keeps int(C·θ) of them")


def _int_list(t, value, name):
    ok = isinstance(value, (list, tuple, np.ndarray)) and all(is_whole_number(v) for v in value)
    t.expect(
        ok,
        _("`{name}` should return a list of whole numbers").format(name=name),
        _("a list such as [17, 40, 84, 90]"),
        value,
    )
    return [int(v) for v in value]


# -- the tasks -------------------------------------------------------------------
def densenet_channels(fn):
    """Task 1: channels after each dense block, for several configurations."""
    with Task(1, "densenet_channels") as t:
        t.function(fn, "densenet_channels")
        cases = [
            (_("the seed's DenseNet"), (1, 16, (1, 2, 4, 3), 0.5)),
            ("DenseNet-121", (64, 32, (6, 12, 24, 16), 0.5)),
            (_("c0=3, k=8, blocks (2, 1, 3), θ=0.5"), (3, 8, (2, 1, 3), 0.5)),
            (_("c0=6, k=12, blocks (1, 2), θ=0.75"), (6, 12, (1, 2), 0.75)),
        ]
        for label, args in cases:
            got = _int_list(t, t.call(fn, args), "densenet_channels")
            expected = channels_after_blocks(*args)
            t.equal(
                _("{label}: channels after each dense block").format(label=label),
                got,
                expected,
                _channel_hint(*args, got),
            )


def dense_block(fn):
    """Task 2: the seed's dense block."""
    with Task(2, "dense_block") as t:
        t.function(fn, "dense_block")
        for c0, k, n, size in [(5, 3, 2, (7, 9)), (6, 4, 3, (8, 5))]:
            call = f"dense_block(x, k={k}, n_block={n})"  # not a message
            what = _("{call} on a {shape} input").format(call=call, shape=f"{size[0]}×{size[1]}×{c0}")
            shape_hint = _(
                "keep height and width (padding='same' on the 3×3 conv) and join along channels with Concatenate"
            )
            shapes_only = lambda err, hint=shape_hint: hint if isinstance(err, ValueError) else None  # noqa: E731
            model = probe_model(t, lambda x, k=k, n=n: fn(x, k, n), (*size, c0), what, hint=shapes_only)
            channel_hints = {
                k: _("return the concatenation of the input and the new features, not only the new features"),
                c0: _("adding keeps the channel count: a dense block concatenates, so channels grow by k per layer"),
                c0 + (n - 1) * k: _("the block has n_block layers: loop `for i in range(n_block)`"),
            }
            compare_with_reference(
                t,
                model,
                reference("dense_block", (k, n), (*size, c0)),
                what,
                hint=_layer_hint,
                shape_hint=lambda got, hints=channel_hints, other=shape_hint: hints.get(got[-1], other),
                wiring_hint=_(
                    "each layer reads the block's latest tensor and concatenates [its input, the new features]"
                ),
            )


def transition_layer(fn):
    """Task 3: the seed's transition layer."""
    with Task(3, "transition_layer") as t:
        t.function(fn, "transition_layer")
        for c, compression, size in [(19, None, (7, 9)), (13, 0.75, (8, 6)), (7, 0.5, (5, 5))]:
            extra = () if compression is None else (compression,)  # None: rely on the default
            theta = 0.5 if compression is None else compression
            shown = "" if compression is None else f", compression={compression}"
            what = _("{call} on a {shape} input").format(
                call=f"transition_layer(x{shown})", shape=f"{size[0]}×{size[1]}×{c}"
            )
            model = probe_model(t, lambda x, extra=extra: fn(x, *extra), (*size, c), what)

            def shape_hint(got, c=c, theta=theta, default=compression is None):
                rounding = got[-1] in (round(c * theta), math.ceil(c * theta)) and got[-1] != int(c * theta)
                hint = (
                    _("int() rounds down: int(C · compression) channels")
                    if rounding
                    else _("a 1×1 conv to int(C · compression) channels, then 2×2 average pooling (stride 2)")
                )
                return _("compression should default to 0.5; {hint}").format(hint=hint) if default else hint

            compare_with_reference(
                t, model, reference("transition_layer", (theta,), (*size, c)), what, _transition_hint, shape_hint
            )


def densenet(fn):
    """Task 4: the seed's DenseNet with its missing n_class fixed."""
    with Task(4, "DenseNet") as t:
        t.function(fn, "DenseNet")
        for n_class in (10, 3):
            what = f"DenseNet(n_class={n_class})"
            model = t.keras_model(t.call(fn, (n_class,), what=what), what)
            compare_with_reference(
                t,
                model,
                reference("DenseNet", (n_class,), (28, 28, 1)),
                what,
                hint=_layer_hint,
                shape_hint=lambda got: _("the last Dense layer should have n_class units (use the argument, not 10)"),
                wiring_hint=_("use your dense_block and transition_layer in the order of the task"),
            )


def dense_block_params(fn):
    """Task 5: the parameter count of the seed's dense block, as a formula."""
    with Task(5, "dense_block_params") as t:
        t.function(fn, "dense_block_params")
        for c0, k, n, b in [(1, 16, 1, 64), (8, 16, 2, 64), (20, 16, 4, 64), (64, 32, 6, 128), (3, 5, 3, 7)]:
            what = f"dense_block_params({c0}, {k}, {n}, bottleneck={b})"  # not a message
            got = t.call(fn, (c0, k, n, b), what=what)
            t.value(got, "dense_block_params(...)", (int, np.integer))
            expected = seed_block_params(c0, k, n, b)
            hints = {
                seed_block_params(c0, k, n, b, bias=False): _("count the biases of both convolutions"),
                expected - sum(2 * (c0 + i * k) + 2 * b for i in range(n)): (
                    _(
                        "Keras counts 4 numbers per channel of batch normalisation:"
                        " γ, β and the moving mean and variance"
                    )
                ),
                sum(seed_block_params(c0, k, 1, b) for _layer in range(n)): (
                    _("layer i sees c0 + i·k input channels: the input grows with each concatenation")
                ),
                seed_block_params(c0, k, max(n - 1, 0), b): _("the block has n_block layers, not n_block − 1"),
            }
            t.equal(what, int(got), expected, hints.get(int(got)))


def densenet_bc(fn):
    """Task 6: the paper's CIFAR DenseNet-BC from a configuration."""
    with Task(6, "densenet_bc") as t:
        t.function(fn, "densenet_bc")
        for blocks, k, compression, n_class, shape in [
            ((2, 3), 4, 0.5, 5, (16, 12, 3)),
            ((1, 2, 1), 3, 0.75, 4, (15, 13, 2)),
        ]:
            config = dict(blocks=blocks, k=k, compression=compression, n_class=n_class, input_shape=shape)
            what = "densenet_bc(" + ", ".join(f"{key}={value}" for key, value in config.items()) + ")"
            model = t.keras_model(t.call(fn, kwargs=config, what=what), what)
            compare_with_reference(
                t,
                model,
                reference("densenet_bc", (blocks, k, compression, n_class), shape),
                what,
                hint=_bc_hint(k),
                shape_hint=lambda got: _("end with Dense(n_class) and softmax"),
            )
        model = t.keras_model(t.call(fn, what="densenet_bc()"), "densenet_bc()")
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        t.expect(
            abs(trainable - 0.8e6) < 0.05e6,
            _("densenet_bc(): DenseNet-BC (L=100, k=12) should have about 0.8 M trainable parameters (Table 2)"),
            "0.8 M",
            f"{trainable / 1e6:.2f} M",
            _("the defaults are blocks=(16, 16, 16), k=12, compression=0.5, n_class=10, input_shape=(32, 32, 3)"),
        )


# -- Tasks 7 to 9: counting the ImageNet networks, the memory of a block, FC-DenseNet's block ------
IMAGENET_CONFIGS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32), 264: (6, 12, 64, 48)}


def imagenet_params(
    blocks,
    k=32,
    compression=0.5,
    n_class=1000,
    bn=4,
    stem_bn=True,
    transition_bn=True,
    head_bn=True,
    bias=False,
    bottleneck=None,
    rounding=math.floor,
    channels=3,
    grows=True,
):
    """Parameters of the paper's ImageNet DenseNet-BC as Keras counts them (the keyword arguments make mistakes)."""
    b = 4 * k if bottleneck is None else bottleneck
    c = 2 * k
    total = 49 * channels * c + bias * c + (bn * c if stem_bn else 0)
    for i, n in enumerate(blocks):
        c_block = c
        for _layer in range(n):
            c_in = c if grows else c_block
            total += bn * c_in + c_in * b + bias * b + bn * b + 9 * b * k + bias * k
            c += k
        if i < len(blocks) - 1:
            out = int(rounding(c * compression))
            total += (bn * c if transition_bn else 0) + c * out + bias * out
            c = out
    return total + (bn * c if head_bn else 0) + c * n_class + n_class


def block_activations(c0, k, n_block, bottleneck=SEED_BOTTLENECK, per_layer=("bn", "relu", "conv", "concat"), grows=1):
    """Values per position in the outputs of the seed block's layers (the keyword arguments make mistakes).

    Per layer reading c channels: BN c, ReLU c, 1×1 conv b, BN b, ReLU b, 3×3 conv k, concatenation c + k.
    """
    total = 0
    for i in range(n_block):
        c = c0 + grows * i * k
        total += ("bn" in per_layer) * (c + bottleneck) + ("relu" in per_layer) * (c + bottleneck)
        total += ("conv" in per_layer) * (bottleneck + k) + ("concat" in per_layer) * (c + k)
    return total


def _imagenet_hint(args, got):
    blocks, k, compression, n_class = args
    variants = [
        (_("Keras counts 4 numbers per batch normalisation channel: γ, β, moving mean and variance"), dict(bn=2)),
        (_("the stem's 7×7 conv is followed by a BN (2k channels): count it"), dict(stem_bn=False)),
        (_("each transition starts with BN → ReLU: count its BN"), dict(transition_bn=False)),
        (_("the head starts with BN → ReLU before pooling: count its BN"), dict(head_bn=False)),
        (_("DenseNet-BC's convolutions have no bias (BN follows each one); the last Dense has one"), dict(bias=True)),
        (_("the bottleneck 1×1 conv has 4k filters, not the notes' 64"), dict(bottleneck=64)),
        (_("int() rounds down in the transitions"), dict(rounding=round)),
        (_("int() rounds down in the transitions"), dict(rounding=math.ceil)),
        (_("the image has 3 channels: the stem conv has 7·7·3·2k weights"), dict(channels=1)),
        (_("layer i of a block reads the block's input and the k channels of every earlier layer"), dict(grows=False)),
    ]
    for hint, mistake in variants:
        if got == imagenet_params(blocks, k, compression, n_class, **mistake):
            return hint
    if got == imagenet_params(blocks, k, compression, n_class) - n_class:
        return _("the classifier Dense has n_class biases")
    return _("stem (conv + BN), blocks, transitions (BN + conv), head (BN + Dense): count each in turn")


def densenet_params(fn):
    """Task 7: the parameters of the ImageNet DenseNet-BC from its configuration, by formula."""
    with Task(7, "densenet_params") as t:
        t.function(fn, "densenet_params")
        cases = [
            ("DenseNet-121", (IMAGENET_CONFIGS[121], 32, 0.5, 1000)),
            ("DenseNet-169", (IMAGENET_CONFIGS[169], 32, 0.5, 1000)),
            ("DenseNet-201", (IMAGENET_CONFIGS[201], 32, 0.5, 1000)),
            (_("blocks (2, 3, 1), k=3, θ=0.5, 7 classes"), ((2, 3, 1), 3, 0.5, 7)),
            (_("blocks (3, 2), k=12, θ=0.6, 10 classes"), ((3, 2), 12, 0.6, 10)),
        ]
        for label, args in cases:
            blocks, k, compression, n_class = args
            call = f"densenet_params({blocks}, k={k}, compression={compression}, n_class={n_class})"  # not a message
            what = f"{call} ({label})"
            got = t.call(fn, (blocks,), dict(k=k, compression=compression, n_class=n_class), what=what)
            t.value(got, what, (int, np.integer), _("count whole parameters: use int(), not a float"))
            t.equal(what, int(got), imagenet_params(*args), _imagenet_hint(args, int(got)))


def _memory_hint(c0, k, n, b, h, w, got):
    expected = block_activations(c0, k, n, b) * h * w
    variants = [
        (
            _("count the concatenations' outputs too: each is a new tensor of c + k channels"),
            dict(per_layer=("bn", "relu", "conv")),
        ),
        (_("BN and ReLU each make a new tensor: count both"), dict(per_layer=("bn", "conv", "concat"))),
        (_("BN and ReLU each make a new tensor: count both"), dict(per_layer=("relu", "conv", "concat"))),
        (_("count the convolutions' outputs too (b and k channels)"), dict(per_layer=("bn", "relu", "concat"))),
        (_("layer i reads c0 + i·k channels: the tensors grow with each concatenation"), dict(grows=0)),
    ]
    for hint, mistake in variants:
        if got == block_activations(c0, k, n, b, **mistake) * h * w:
            return hint
    if got == 4 * expected:
        return _("return the number of values, not bytes (float32 has 4 bytes per value)")
    if got == expected + c0 * h * w:
        return _("the block's input is not one of its layers' outputs: leave it out")
    if got == block_activations(c0, k, n, b):
        return _("every value is per position: multiply by height · width")
    if got == block_activations(c0, k, n - 1, b) * h * w:
        return _("the block has n_block layers, not n_block − 1")
    return _("per layer reading c channels: BN c, ReLU c, conv b, BN b, ReLU b, conv k, concatenation c + k")


def dense_block_memory(fn):
    """Task 8: the values a forward pass of the seed's dense block keeps, by formula."""
    with Task(8, "dense_block_memory") as t:
        t.function(fn, "dense_block_memory")
        for c0, k, n, b, h, w in [
            (1, 16, 1, 64, 28, 28),
            (64, 32, 6, 128, 56, 56),
            (3, 5, 4, 7, 9, 11),
            (10, 2, 3, 6, 5, 4),
        ]:
            what = f"dense_block_memory({c0}, {k}, {n}, {h}, {w}, bottleneck={b})"  # not a message
            got = t.call(fn, (c0, k, n, h, w), dict(bottleneck=b), what=what)
            t.value(got, what, (int, np.integer), _("count whole values: use int(), not a float"))
            expected = block_activations(c0, k, n, b) * h * w
            t.equal(what, int(got), expected, _memory_hint(c0, k, n, b, h, w, int(got)))


def new_features_spec(k, n_block, bias=True):
    """FC-DenseNet's block: each layer BN → ReLU → 3×3 conv reads [x, y1, …]; the result is [y1, …, yn]."""
    from keras import layers

    def apply(x):
        new = []
        for _layer in range(n_block):
            y = chain(bn(), relu(), conv(3, k, bias=bias))(x)
            new.append(y)
            x = layers.Concatenate()([x, y])
        return new[0] if n_block == 1 else layers.Concatenate()(new)

    return apply


@functools.cache
def new_features_reference(k, n_block, input_shape):
    return reference_model(new_features_spec(k, n_block), input_shape)


def _new_features_hint(e, g):
    if e is not None and g is not None and (e.kind, g.kind) == ("Conv2D", "Conv2D"):
        if e.settings["kernel"] == (3, 3) and g.settings["kernel"] == (1, 1):
            return _("FC-DenseNet's layer has no 1×1 bottleneck: BN → ReLU → 3×3 conv")
    return _layer_hint(e, g)


def new_features_block(fn):
    """Task 9: FC-DenseNet's dense block, which returns only the features its layers make."""
    with Task(9, "new_features_block") as t:
        t.function(fn, "new_features_block")
        for c0, k, n, size in [(5, 3, 3, (7, 9)), (4, 6, 2, (6, 5)), (3, 2, 4, (5, 7))]:
            call = f"new_features_block(x, k={k}, n_block={n})"  # not a message
            what = _("{call} on a {shape} input").format(call=call, shape=f"{size[0]}×{size[1]}×{c0}")
            model = probe_model(t, lambda x, k=k, n=n: fn(x, k, n), (*size, c0), what)
            channel_hints = {
                c0 + n * k: _("return only the new maps [y1, …, yn], not the block's input with them"),
                k: _("return all n_block new maps, concatenated, not only the last one"),
                (n - 1) * k: _("the block has n_block layers: each adds k new maps"),
            }
            compare_with_reference(
                t,
                model,
                new_features_reference(k, n, (*size, c0)),
                what,
                hint=_new_features_hint,
                shape_hint=lambda got, hints=channel_hints: hints.get(
                    got[-1], _("n_block·k channels at the input's height and width (padding='same')")
                ),
                wiring_hint=_(
                    "layer i reads the concatenation [x, y1, …, y(i−1)] in that order; "
                    "the result is [y1, …, yn] in the order the layers made them"
                ),
            )

"""Checks for unit 08 (MobileNet): the three cost formulas, the separable pair, the block, MobileNet v1.

Costs are compared with the cost table of real Keras layers, in configurations
where the usual wrong formulas give other numbers. The pair, the block and
MobileNet v1 are compared with a reference built from the task's specification
(``cnn_course.checks.compare``) with the same random weights and inputs, in two
configurations (odd channels, non-square inputs, strides 1 and 2, α ≠ 1); the
hints explain the usual mistakes from the first step where the graphs differ.
"""

import functools
import math

import numpy as np

from cnn_course.checks import Task, is_whole_number, probe_model
from cnn_course.checks.compare import (
    bn,
    chain,
    compare_with_reference,
    conv,
    dense,
    depthwise,
    gap,
    reference_model,
    relu6,
    softmax,
    steps,
)

COST_GRID = [(7, 9, 3, 4, 6), (14, 14, 1, 8, 3), (5, 12, 5, 3, 10), (28, 28, 3, 32, 64)]  # H, W, K, C, M
TABLE = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 5, (1024, 2), (1024, 1)]
INPUT_SCALE = 8.0  # random inputs wide enough that a ReLU6 clips where a ReLU would not


# -- Tasks 1–3 · the cost formulas ------------------------------------------------------
def _keras_macs(layer, shape):
    import keras

    from cnn_course.costs import count_macs

    inputs = keras.Input(shape)
    return count_macs(keras.Model(inputs, layer(inputs)))


def _number(t, value, what):
    """An int, a NumPy integer or a float with an integer value, as an int."""
    whole = is_whole_number(value)
    whole = whole or isinstance(value, (float, np.floating)) and float(value).is_integer()
    t.expect(whole, f"{what} should be a whole number", "an int such as 903168", value)
    return int(value)


def _cost_task(number, name, fn, arguments, layer, hints):
    from keras import layers

    hints = hints + [
        (lambda H, W, K, C, M, r: r // (H * W), "that is the cost of one output pixel: multiply by H·W"),
        (lambda H, W, K, C, M, r: r // (H * W) * (H - K + 1) * (W - K + 1), "'same' padding keeps all H·W outputs"),
        (lambda H, W, K, C, M, r: 2 * r, "count one multiply-add per product, not a multiply and an add"),
        (lambda H, W, K, C, M, r: r + H * W * M, "biases are not counted"),
    ]
    with Task(number, name) as t:
        t.function(fn, name)
        for H, W, K, C, M in COST_GRID:
            args = arguments(H, W, K, C, M)
            shown = f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})"
            got = _number(t, t.call(fn, tuple(args.values()), what=shown), shown)
            expected = _keras_macs(layer(layers, K, M), (H, W, C))
            wrong = [hint for formula, hint in hints if formula(H, W, K, C, M, expected) == got]
            hint = (wrong + ["count the products for one output, times the number of outputs"])[0]
            t.equal(f"{shown}: multiply-adds", got, expected, hint)


def standard_conv_cost(fn):
    """Task 1: H·W·K·K·C·M."""
    _cost_task(
        1,
        "standard_conv_cost",
        fn,
        lambda H, W, K, C, M: dict(H=H, W=W, K=K, C=C, M=M),
        lambda layers, K, M: layers.Conv2D(M, K, padding="same"),
        [
            (lambda H, W, K, C, M, r: H * W * K * C * M, "the kernel is K×K: the factor K appears twice"),
            (lambda H, W, K, C, M, r: H * W * K * K * M, "each output reads all C input channels: multiply by C"),
            (lambda H, W, K, C, M, r: H * W * K * K * C, "there are M output channels: multiply by M"),
            (lambda H, W, K, C, M, r: K * K * C * M + M, "that counts the weights, not the multiply-adds"),
        ],
    )


def depthwise_conv_cost(fn):
    """Task 2: H·W·C·K·K."""
    _cost_task(
        2,
        "depthwise_conv_cost",
        fn,
        lambda H, W, K, C, M: dict(H=H, W=W, C=C, K=K),
        lambda layers, K, M: layers.DepthwiseConv2D(K, padding="same"),
        [
            (lambda H, W, K, C, M, r: H * W * C * K, "the kernel is K×K: the factor K appears twice"),
            (lambda H, W, K, C, M, r: H * W * C, "each output reads a K×K window: multiply by K·K"),
            (lambda H, W, K, C, M, r: H * W * K * K, "one K×K filter for each of the C channels: multiply by C"),
            (lambda H, W, K, C, M, r: H * W * C * C * K * K, "a depthwise filter reads one channel, not all C"),
            (lambda H, W, K, C, M, r: r + H * W * C, "biases are not counted"),
        ],
    )


def pointwise_conv_cost(fn):
    """Task 3: H·W·C·M."""
    _cost_task(
        3,
        "pointwise_conv_cost",
        fn,
        lambda H, W, K, C, M: dict(H=H, W=W, C=C, M=M),
        lambda layers, K, M: layers.Conv2D(M, 1),
        [
            (lambda H, W, K, C, M, r: H * W * M, "each output reads all C channels at its pixel: multiply by C"),
            (lambda H, W, K, C, M, r: H * W * C, "there are M output channels: multiply by M"),
            (lambda H, W, K, C, M, r: H * W * (C + M), "each of the M outputs reads C inputs: C times M, not C + M"),
            (lambda H, W, K, C, M, r: 9 * H * W * C * M, "a pointwise conv is 1×1: no K×K factor"),
        ],
    )


# -- the references, from the specifications ------------------------------------------
def block_spec(filters, strides):
    """3×3 depthwise conv (the stride) → BN → ReLU6 → 1×1 conv → BN → ReLU6, no biases."""
    return chain(depthwise(3, strides, bias=False), bn(), relu6(), conv(1, filters, bias=False), bn(), relu6())


@functools.cache
def reference(name, config, input_shape):
    """The reference model of a task in one configuration, built once per process."""
    if name == "separable_conv":
        filters, strides, dw_bias, pw_bias = config
        spec = chain(depthwise(3, strides, bias=dw_bias), conv(1, filters, bias=pw_bias))
    elif name == "mobilenet_block":
        spec = block_spec(*config)
    else:  # mobilenet_v1
        alpha, n_class = config
        blocks = [block_spec(int(filters * alpha), strides) for filters, strides in TABLE]
        spec = chain(conv(3, int(32 * alpha), 2, bias=False), bn(), relu6(), *blocks, gap(), dense(n_class), softmax())
    return reference_model(spec, input_shape)


# -- hints for the usual mistakes, from the first step that differs ---------------------
EXTRA = ("ReLU", "ReLU6", "Softmax", "Sigmoid", "Tanh", "BatchNormalization")  # steps a task may not have
NO_BIAS = "no biases (use_bias=False): the batch normalisation after each conv has its own shift"


def _depthwise_hint(e, g):
    if g.settings.get("multiplier", 1) != 1:
        return "keep depth_multiplier=1: one filter per input channel"
    if "dilation" in g.settings:
        return "the depthwise conv is not dilated: remove dilation_rate"
    if e.settings["strides"] != g.settings["strides"]:
        if e.settings["strides"] == (1, 1):
            return "this depthwise conv has stride 1: check the strides against the task (and its table)"
        return "the stride belongs to the depthwise conv (the 1×1 pointwise conv keeps stride 1)"
    if e.settings["bias"] != g.settings["bias"]:
        return NO_BIAS
    return "a 3×3 depthwise conv with padding='same'"


def _conv_hint(e, g):
    if e.settings["bias"] != g.settings["bias"]:
        return NO_BIAS
    filters = g.settings.get("filters")
    if e.settings["kernel"] == (3, 3):
        if filters == 32 != e.settings["filters"]:
            return "α scales the first conv too: int(32·α) filters"
        return "the first conv: 3×3, int(32·α) filters (int rounds down), stride 2, padding='same'"
    if e.settings["strides"] != g.settings["strides"]:
        return "the stride belongs to the depthwise conv; the 1×1 pointwise conv has stride 1"
    if filters in {f for f, _ in TABLE} - {e.settings["filters"]}:
        return "α scales every pointwise conv: int(filters·α) filters"
    return "each block's 1×1 pointwise conv has int(filters·α) filters (int rounds down)"


def _hint(e, g):
    if g is None:
        return "end with a softmax over the classes: Dense(n_class, activation='softmax')" * (e.kind == "Softmax")
    if e is None:
        return f"the task has nothing more at the end: no {g.kind} here"
    kinds = (e.kind, g.kind)
    if g.kind == "Pad":
        return "padding='same' with stride 2 pads one pixel at the bottom and right only: use padding='same'"
    if kinds == ("DepthwiseConv2D", "Conv2D"):
        if g.settings["kernel"] == (1, 1):
            return "depthwise first (spatial filtering per channel), then the 1×1 pointwise conv (channel mixing)"
        return "a depthwise conv filters each channel alone: DepthwiseConv2D, not a Conv2D that mixes channels"
    if kinds == ("DepthwiseConv2D", "DepthwiseConv2D"):
        return _depthwise_hint(e, g)
    if kinds == ("Conv2D", "Conv2D"):
        return _conv_hint(e, g)
    if kinds == ("BatchNormalization", "BatchNormalization"):
        if not g.settings.get("center", True):
            return "keep BN's shift (center=True) and drop the conv's bias instead (use_bias=False)"
        return "normalise over the channels: keep BatchNormalization's default axis=-1 and its other defaults"
    if kinds == ("ReLU6", "ReLU"):
        return "MobileNet's activation is ReLU6 (layers.ReLU(6.0)), which clips at 6; a plain ReLU does not"
    if e.kind == "BatchNormalization" and g.kind in ("ReLU6", "ReLU"):
        return "batch normalisation comes before the activation: conv → BN → ReLU6"
    if e.kind == "ReLU6":
        return "a ReLU6 follows each batch normalisation, after the depthwise and after the pointwise conv"
    if e.kind == "BatchNormalization":
        return "batch normalisation follows each convolution"
    if kinds == ("Conv2D", "Dense") or kinds == ("Dense", "Conv2D"):
        return "the classifier is one Dense(n_class) layer after global average pooling"
    if g.kind in EXTRA:
        return f"the task has no {g.kind} here (check the layers' activation= arguments too)"
    if e.kind == "GlobalAveragePooling":
        return "global average pooling comes after the last block"
    return None


def _shape_hint(channels):
    return lambda got: (
        "a depthwise conv keeps the C channels: the 1×1 pointwise conv maps them to `filters`"
        if got[-1] == channels
        else "padding='same', the stride on the depthwise conv, `filters` pointwise filters"
    )


def _first_bias(model, kind, kernel):
    """The use_bias of the learner's first step of a kind (and kernel), True if none."""
    found = [s for s in steps(model) if s.kind == kind and s.settings["kernel"] == kernel]
    return found[0].settings["bias"] if found else True


# -- the tasks -------------------------------------------------------------------
def separable_conv(fn):
    """Task 4: a 3×3 depthwise conv then a 1×1 pointwise conv (SeparableConv2D accepted, biases free)."""
    with Task(4, "separable_conv") as t:
        t.function(fn, "separable_conv")
        for c, filters, strides, size in [(5, 7, 1, (7, 9)), (3, 4, 2, (8, 6))]:
            what = f"separable_conv(x, filters={filters}, strides={strides}) on a {size[0]}×{size[1]}×{c} input"
            model = probe_model(t, lambda x, f=filters, s=strides: fn(x, f, s), (*size, c), what)
            biases = _first_bias(model, "DepthwiseConv2D", (3, 3)), _first_bias(model, "Conv2D", (1, 1))
            ref = reference("separable_conv", (filters, strides, *biases), (*size, c))
            compare_with_reference(t, model, ref, what, _hint, _shape_hint(c), input_scale=INPUT_SCALE)


def mobilenet_block(fn):
    """Task 5: depthwise conv → BN → ReLU6 → pointwise conv → BN → ReLU6, without biases."""
    with Task(5, "mobilenet_block") as t:
        t.function(fn, "mobilenet_block")
        for c, filters, strides, size in [(5, 3, 1, (7, 9)), (7, 5, 2, (8, 6))]:
            what = f"mobilenet_block(x, filters={filters}, strides={strides}) on a {size[0]}×{size[1]}×{c} input"
            model = probe_model(t, lambda x, f=filters, s=strides: fn(x, f, s), (*size, c), what)
            ref = reference("mobilenet_block", (filters, strides), (*size, c))
            compare_with_reference(t, model, ref, what, _hint, _shape_hint(c), input_scale=INPUT_SCALE)


def _counting_block_calls(t, fn, kwargs, what):
    """Call ``fn`` while counting the calls of the ``mobilenet_block`` it sees (its module's or notebook's)."""
    names = getattr(fn, "__globals__", {})
    block = names.get("mobilenet_block")
    calls = []
    if callable(block):
        names["mobilenet_block"] = lambda *a, **k: calls.append(1) or block(*a, **k)
    try:
        model = t.keras_model(t.call(fn, kwargs=kwargs, what=what), what)
    finally:
        if callable(block):
            names["mobilenet_block"] = block
    t.expect(
        len(calls) == len(TABLE),
        f"{what}: calls of your mobilenet_block (Task 5)",
        f"{len(TABLE)}, one per row of MOBILENET_V1",
        len(calls),
        "build the network from your own mobilenet_block, one call per row of the table"
        if calls or not callable(block)
        else "keras.applications.MobileNet is no answer here: build the network from your own mobilenet_block",
    )
    return model


def mobilenet_v1(fn):
    """Task 6: MobileNet v1 from the table, built from the learner's blocks, with a width multiplier."""
    with Task(6, "mobilenet_v1") as t:
        t.function(fn, "mobilenet_v1")
        for alpha, shape, n_class in [(0.3, (64, 40, 3), 7), (0.55, (48, 80, 1), 5)]:
            what = f"mobilenet_v1(alpha={alpha}, input_shape={shape}, n_class={n_class})"
            model = _counting_block_calls(t, fn, dict(alpha=alpha, input_shape=shape, n_class=n_class), what)
            ref = reference("mobilenet_v1", (alpha, n_class), shape)
            classes = lambda got: "the classifier has n_class units (α does not apply to it)"  # noqa: E731
            compare_with_reference(t, model, ref, what, _hint, classes, input_scale=INPUT_SCALE, fit_statistics=True)


def p86_drill(depthwise_madds, pointwise_madds, saving):
    """Task 7: the notes' P86 question with numbers: H = W = 28, C = 256, M = 512, D_K = 3."""
    H, W, C, M, K = 28, 28, 256, 512, 3
    numbers = (int, float, np.integer, np.floating)
    with Task(7, "P86 drill") as t:
        i = _number(t, t.value(depthwise_madds, "depthwise_madds", numbers), "depthwise_madds")
        u = _number(t, t.value(pointwise_madds, "pointwise_madds", numbers), "pointwise_madds")
        t.value(saving, "saving", numbers)
        swapped = "you swapped them: (い) is the depthwise cost, (う) the pointwise one"
        t.equal(
            "(い) depthwise multiply-adds", i, H * W * C * K * K, swapped if i == H * W * C * M else "H·W·C·D_K·D_K"
        )
        t.equal("(う) pointwise multiply-adds", u, H * W * C * M, "H·W·C·M")
        expected = (H * W * C * K * K + H * W * C * M) / (H * W * K * K * C * M)
        hint = "separable / standard, a number below 1: 1/M + 1/D_K²" if saving > 1 else "1/M + 1/D_K²"
        t.expect(
            math.isclose(float(saving), expected, rel_tol=1e-6),
            "saving: (depthwise + pointwise) / standard",
            round(expected, 6),
            saving,
            hint,
        )

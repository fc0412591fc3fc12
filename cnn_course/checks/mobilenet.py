"""Checks for unit 08 (MobileNet): the three cost formulas, the separable pair, the block, MobileNet v1.

Costs are compared with the cost table of real Keras layers built inside the
check; the separable convolution is recomputed in NumPy from the learner's own
weights; the block is compared by its layers in order and its parameter count;
MobileNet v1 by its weight sizes and multiply-adds against
``keras.applications.MobileNet(weights=None)``.
"""

import math

import numpy as np

from cnn_course.checks import Task, is_whole_number, layer_kinds, probe_model

BN, RELU = "BatchNormalization", "ReLU"
COST_GRID = [(7, 9, 3, 4, 6), (14, 14, 1, 8, 3), (5, 12, 5, 3, 10), (28, 28, 3, 32, 64)]  # H, W, K, C, M


def dw(stride, multiplier=1):
    return f"DepthwiseConv2D 3×3/{stride}×{stride}" + ("" if multiplier == 1 else f" ×{multiplier}")


def pw(filters, stride=1):
    return f"Conv2D 1×1/{stride}×{stride} →{filters}"


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

    with Task(number, name) as t:
        t.function(fn, name)
        for H, W, K, C, M in COST_GRID:
            args = arguments(H, W, K, C, M)
            shown = f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})"
            got = _number(t, t.call(fn, tuple(args.values()), what=shown), shown)
            expected = _keras_macs(layer(layers, K, M), (H, W, C))
            wrong = {hint_value(H, W, K, C, M): hint for hint_value, hint in hints}
            t.equal(
                f"{shown}: multiply-adds",
                got,
                expected,
                wrong.get(got, "count the products for one output, times the number of outputs"),
            )


def standard_conv_cost(fn):
    """Task 1: H·W·K·K·C·M."""
    _cost_task(
        1,
        "standard_conv_cost",
        fn,
        lambda H, W, K, C, M: dict(H=H, W=W, K=K, C=C, M=M),
        lambda layers, K, M: layers.Conv2D(M, K, padding="same"),
        [
            (lambda H, W, K, C, M: H * W * K * C * M, "the kernel is K×K: the factor K appears twice"),
            (lambda H, W, K, C, M: H * W * K * K * M, "each output reads all C input channels: multiply by C"),
            (lambda H, W, K, C, M: H * W * K * K * C, "there are M output channels: multiply by M"),
            (lambda H, W, K, C, M: K * K * C * M, "that is the cost of one output pixel: multiply by H·W"),
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
            (lambda H, W, K, C, M: H * W * C * K, "the kernel is K×K: the factor K appears twice"),
            (lambda H, W, K, C, M: H * W * K * K, "there is one K×K filter for each of the C channels: multiply by C"),
            (lambda H, W, K, C, M: H * W * C * C * K * K, "a depthwise filter reads one channel, not all C"),
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
            (lambda H, W, K, C, M: H * W * M, "each output reads all C channels at its pixel: multiply by C"),
            (lambda H, W, K, C, M: H * W * C, "there are M output channels: multiply by M"),
            (lambda H, W, K, C, M: C * M, "that is the cost of one pixel: multiply by H·W"),
        ],
    )


# -- the separable pair and the block ------------------------------------------------
def _strip_padding(kinds):
    """Keras's MobileNet pads explicitly before a strided depthwise conv; that is equivalent to 'same'."""
    return [k for k in kinds if k != "ZeroPadding2D"]


def _pair_hint(expected, got):
    if expected.startswith("DepthwiseConv2D") and got.startswith("Conv2D 3×3"):
        return (
            "a depthwise conv filters each channel alone: use DepthwiseConv2D, not a Conv2D with C filters"
            " (that one mixes channels and costs C times more)"
        )
    if expected.startswith("DepthwiseConv2D") and got.startswith("DepthwiseConv2D") and "×2" in got.split("/")[-1]:
        return "keep depth_multiplier=1: one filter per input channel"
    if expected.startswith("DepthwiseConv2D") and got.startswith("Conv2D 1×1"):
        return "depthwise first (spatial filtering per channel), then the 1×1 pointwise conv (channel mixing)"
    if expected.startswith("DepthwiseConv2D") and got.startswith("DepthwiseConv2D 3×3"):
        return "the stride belongs to the depthwise conv (the 1×1 pointwise conv keeps stride 1)"
    if expected.startswith("DepthwiseConv2D"):
        return "the block starts with a 3×3 DepthwiseConv2D, which carries the stride"
    if expected.startswith("Conv2D 1×1") and got.startswith("Conv2D 1×1"):
        return (
            "the stride belongs to the depthwise conv; the pointwise conv has stride 1"
            " (a strided 1×1 conv throws away 3 of 4 outputs it computed)"
        )
    if expected in (BN, RELU) and got.startswith("Conv2D 1×1"):
        return "MobileNet puts BN and ReLU after the depthwise conv, before the pointwise one"
    if expected == BN and got == RELU:
        return "batch normalisation comes before the ReLU"
    return None


def _random_weights(model, seed=0):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype("float32") * 0.5 for w in model.get_weights()])


def _same_pad(size, stride, k=3):
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def _separable_reference(x, depthwise_kernel, depthwise_bias, pointwise_kernel, pointwise_bias, stride):
    """Depthwise (same padding, TensorFlow's split) then pointwise, in NumPy."""
    n, H, W, C = x.shape
    (top, bottom), (left, right) = _same_pad(H, stride), _same_pad(W, stride)
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    out_h, out_w = math.ceil(H / stride), math.ceil(W / stride)
    depth = np.zeros((n, out_h, out_w, C), dtype="float64")
    for i in range(out_h):
        for j in range(out_w):
            window = padded[:, i * stride : i * stride + 3, j * stride : j * stride + 3, :]
            depth[:, i, j, :] = (window * depthwise_kernel[..., 0]).sum(axis=(1, 2))
    depth += depthwise_bias
    return depth @ pointwise_kernel.reshape(C, -1) + pointwise_bias


def separable_conv(fn):
    """Task 4: a 3×3 depthwise conv then a 1×1 pointwise conv (SeparableConv2D accepted)."""
    from keras import layers

    with Task(4, "separable_conv") as t:
        t.function(fn, "separable_conv")
        C, filters = 4, 6
        for stride in (1, 2):
            what = f"separable_conv(x, filters={filters}, strides={stride}) on an 8×8×{C} input"
            model = probe_model(t, lambda x, s=stride: fn(x, filters, s), (8, 8, C), what)
            out = 8 // stride
            hint = {C: "a depthwise conv keeps the C channels: add the 1×1 pointwise conv that maps them to `filters`"}
            t.equal(
                f"{what}: output shape",
                tuple(model.outputs[0].shape[1:]),
                (out, out, filters),
                hint.get(model.outputs[0].shape[-1], "use padding='same' and put the stride on the depthwise conv"),
            )
            kinds = _strip_padding(layer_kinds(model))
            if kinds != [f"SeparableConv2D 3×3/{stride}×{stride} →{filters}"]:
                t.sequence(f"{what}: layers in order", kinds, [dw(stride), pw(filters)], _pair_hint)
            _random_weights(model)
            dk = db = pk = pb = None
            for layer in model.layers:
                if isinstance(layer, layers.SeparableConv2D):
                    dk, pk = np.asarray(layer.depthwise_kernel), np.asarray(layer.pointwise_kernel)
                    pb = np.asarray(layer.bias) if layer.use_bias else 0.0
                elif isinstance(layer, layers.DepthwiseConv2D):
                    dk, db = np.asarray(layer.kernel), np.asarray(layer.bias) if layer.use_bias else 0.0
                elif isinstance(layer, layers.Conv2D):
                    pk, pb = np.asarray(layer.kernel), np.asarray(layer.bias) if layer.use_bias else 0.0
            x = np.random.default_rng(1).normal(size=(2, 8, 8, C)).astype("float32")
            expected = _separable_reference(x, dk, 0.0 if db is None else db, pk, pb, stride)
            t.close(
                f"{what}: output for given weights",
                np.asarray(model(x, training=False)),
                expected,
                "depthwise then pointwise, nothing in between (no activation)",
                atol=1e-3,
            )


def _block_kinds(stride, filters):
    return [dw(stride), BN, RELU, pw(filters), BN, RELU]


def mobilenet_block(fn):
    """Task 5: depthwise conv → BN → ReLU → pointwise conv → BN → ReLU, without biases."""
    with Task(5, "mobilenet_block") as t:
        t.function(fn, "mobilenet_block")
        C, filters = 4, 6
        for stride in (1, 2):
            what = f"mobilenet_block(x, filters={filters}, strides={stride}) on an 8×8×{C} input"
            model = probe_model(t, lambda x, s=stride: fn(x, filters, s), (8, 8, C), what)
            out = 8 // stride
            hint = {C: "the 1×1 pointwise conv maps the C channels to `filters`"}
            t.equal(
                f"{what}: output shape",
                tuple(model.outputs[0].shape[1:]),
                (out, out, filters),
                hint.get(model.outputs[0].shape[-1], "padding='same', stride on the depthwise conv"),
            )
            kinds = ["ReLU" if k == "ReLU(max=6.0)" else k for k in _strip_padding(layer_kinds(model))]
            t.sequence(f"{what}: layers in order", kinds, _block_kinds(stride, filters), _pair_hint)
            params = 9 * C + 4 * C + C * filters + 4 * filters
            t.equal(
                f"{what}: parameters",
                model.count_params(),
                params,
                "no biases: each conv is followed by batch normalisation, which has its own shift (use_bias=False)",
            )


def mobilenet_v1(fn):
    """Task 6: MobileNet v1 from the configuration, compared with keras.applications.MobileNet."""
    import keras

    from cnn_course.costs import count_macs

    with Task(6, "mobilenet_v1") as t:
        t.function(fn, "mobilenet_v1")
        for alpha, size, n_class in [(1.0, 96, 1000), (0.5, 64, 10), (0.75, 64, 7)]:
            what = f"mobilenet_v1(alpha={alpha}, input_shape=({size}, {size}, 3), n_class={n_class})"
            model = t.keras_model(
                t.call(fn, kwargs=dict(alpha=alpha, input_shape=(size, size, 3), n_class=n_class), what=what), what
            )
            reference = keras.applications.MobileNet(
                weights=None, alpha=alpha, input_shape=(size, size, 3), classes=n_class
            )
            t.equal(
                f"{what}: output shape",
                tuple(model.outputs[0].shape[1:]),
                (n_class,),
                "the classifier has n_class units (α does not apply to it)",
            )
            first = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
            t.equal(
                f"{what}: filters of the first (standard) convolution",
                first.filters,
                int(32 * alpha),
                "the first 3×3 conv has int(32·α) filters: α scales it too",
            )
            ours = sorted(int(np.prod(w.shape)) for w in model.weights)
            theirs = sorted(int(np.prod(w.shape)) for w in reference.weights)
            t.equal(
                f"{what}: parameters",
                sum(ours),
                sum(theirs),
                "α scales the first conv and every pointwise conv (int(filters·α)); depthwise convs keep their"
                " input's channels; convs have no bias",
            )
            t.equal(
                f"{what}: sizes of all weight tensors",
                ours,
                theirs,
                "compare your layers with the table, block by block",
            )
            t.equal(
                f"{what}: multiply-adds",
                count_macs(model),
                count_macs(reference),
                "check the strides: they sit on the depthwise convs listed in the table",
            )


def p86_drill(depthwise_madds, pointwise_madds, saving):
    """Task 7: the notes' P86 question with numbers: H = W = 28, C = 256, M = 512, D_K = 3."""
    H, W, C, M, K = 28, 28, 256, 512, 3
    with Task(7, "P86 drill") as t:
        i = _number(
            t, t.value(depthwise_madds, "depthwise_madds", (int, float, np.integer, np.floating)), "depthwise_madds"
        )
        u = _number(
            t, t.value(pointwise_madds, "pointwise_madds", (int, float, np.integer, np.floating)), "pointwise_madds"
        )
        t.value(saving, "saving", (int, float, np.integer, np.floating))
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

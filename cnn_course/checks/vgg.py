"""Checks for unit 05 (VGG): the VGG block, VGG16, receptive fields, weight counts, a drill, a small VGG.

The block is checked on small inputs against what the task's description implies
(output shape, layer kinds in order, parameter count from the per-layer formula);
VGG16 against ``keras.applications.VGG16(weights=None)`` built on the same small
input: layer kinds, parameter count and every weight tensor's shape, in order.
Receptive fields come from the output-size formula, weight counts from built
``Conv2D`` layers. The small VGG for the digits is checked against its description
(layer kinds, parameters per layer, a softmax output). No check carries a copy of
the solution's code.
"""

import functools

import numpy as np

from cnn_course.checks import Task, is_whole_number, layer_kinds, probe_model

RELU, FLATTEN, SOFTMAX = "ReLU", "Flatten", "Softmax"
VGG16_CONV_LAYERS = (2, 2, 3, 3, 3)  # 3×3 convolutions per block: 13 in all
VGG16_FC_LAYERS = 3  # fc1, fc2, predictions


def conv(size, filters, stride=1):
    return f"Conv2D {size}×{size}/{stride}×{stride} →{filters}"


def max_pool(stride=2):
    return f"MaxPooling2D 2×2/{stride}×{stride}"


def block_kinds(filters, n_convs):
    """A VGG block: n × (3×3 conv, ReLU), then one 2×2 max pool with stride 2."""
    return n_convs * [conv(3, filters), RELU] + [max_pool()]


def block_params(c_in, filters, n_convs):
    """Weights and biases of a VGG block: 3·3·C_in·F + F for the first conv, 3·3·F·F + F for the others."""
    return (9 * c_in * filters + filters) + (n_convs - 1) * (9 * filters * filters + filters)


def _int(t, value, what):
    t.expect(
        is_whole_number(value),
        f"{what} should be a whole number (int)",
        "an int",
        value,
        "use integer arithmetic: + − × and // (not /)",
    )
    return int(value)


# -- Task 1 · vgg_block ----------------------------------------------------------
def _pools(kinds):
    return sum(k.startswith(("MaxPooling2D", "AveragePooling2D")) for k in kinds)


def _block_hint(expected, got, got_kinds=None):
    """A hint for the first difference; `got_kinds`, the whole list, tells pooling too often from too few convs."""
    if expected.startswith("Conv2D") and got.startswith("MaxPooling2D") and got_kinds is not None:
        if _pools(got_kinds) == 1:
            return "the block has n_convs convolutions before its pooling: loop `for i in range(n_convs)`"
    if expected == RELU and got.startswith("Conv2D"):
        return "every convolution is followed by a ReLU: Conv2D(..., activation='relu') or a ReLU layer"
    if expected == RELU and got.startswith("MaxPooling2D"):
        return "the last convolution also needs its ReLU, before the pooling"
    if expected.startswith("Conv2D") and got.startswith("MaxPooling2D"):
        return "VGG pools once per block, after the last of its n_convs convolutions, not after every conv"
    if expected.startswith("MaxPooling2D") and got.startswith("Conv2D"):
        return "the block has n_convs convolutions: loop `for i in range(n_convs)`"
    if expected.startswith("Conv2D") and got.startswith("Conv2D"):
        return "VGG uses 3×3 kernels only (stride 1) with `filters` output channels"
    if expected.startswith("MaxPooling2D") and got.startswith("MaxPooling2D"):
        return "2×2 max pooling with stride 2: MaxPooling2D(2, strides=2) halves height and width"
    if expected.startswith("MaxPooling2D") and got.startswith("AveragePooling2D"):
        return "VGG uses max pooling, not average pooling"
    return None


def _block_shape_hint(size, filters, n_convs, got):
    got_size = got[0] if got else None
    hints = {
        (size - 2 * n_convs) // 2: "use padding='same' on the convolutions: only the pooling changes the size",
        size - 1: "the pooling needs stride 2 (MaxPooling2D(2, strides=2)): stride 1 only trims one row and column",
        size: "end the block with 2×2 max pooling, which halves height and width",
    }
    if got_size in hints:
        return hints[got_size]
    if got and got[-1] != filters:
        return "every convolution of the block has `filters` output channels"
    return "n × (3×3 conv 'same' + ReLU), then 2×2 max pooling with stride 2"


def vgg_block(fn):
    """Task 1: n_convs × (3×3 conv, 'same', ReLU) then 2×2 max pooling with stride 2."""
    with Task(1, "vgg_block") as t:
        t.function(fn, "vgg_block")
        for case, ((size, c_in), filters, n_convs) in enumerate([((8, 3), 4, 2), ((12, 2), 5, 3), ((6, 4), 3, 1)]):
            what = f"vgg_block(x, filters={filters}, n_convs={n_convs}) on a {size}×{size}×{c_in} input"
            model = probe_model(
                t,
                lambda x, f=filters, n=n_convs, i=case: fn(x, f, n, name=f"probe{i}"),
                (size, size, c_in),
                what,
            )
            kinds = layer_kinds(model)
            t.sequence(
                f"{what}: layers in order",
                kinds,
                block_kinds(filters, n_convs),
                lambda e, g, kinds=kinds: _block_hint(e, g, kinds),
            )
            got = tuple(model.outputs[0].shape[1:])
            expected = (size // 2, size // 2, filters)
            t.equal(f"{what}: output shape", got, expected, _block_shape_hint(size, filters, n_convs, got))
            t.equal(
                f"{what}: parameters",
                model.count_params(),
                block_params(c_in, filters, n_convs),
                "VGG's convolutions keep their bias (Keras's default use_bias=True)",
            )


# -- Task 2 · vgg16 --------------------------------------------------------------
@functools.lru_cache(maxsize=2)
def _keras_vgg16(input_shape, n_classes):
    """keras.applications.VGG16 without weights on a small input: (layer kinds, parameters, weight shapes)."""
    import keras

    reference = keras.applications.VGG16(weights=None, input_shape=input_shape, classes=n_classes)
    return layer_kinds(reference), reference.count_params(), [tuple(w.shape) for w in reference.weights]


def _vgg16_hint(expected, got):
    if got == "BatchNormalization":
        return "VGG16 has no batch normalisation (the paper predates it)"
    if expected == FLATTEN and got.startswith("GlobalAveragePooling2D"):
        return "VGG16 flattens the last feature map (Flatten) before its fully connected layers; GAP came later"
    if expected.startswith("Dense") and got.startswith("Dense"):
        return "the head is Dense 4096 → ReLU → Dense 4096 → ReLU → Dense n_classes → softmax"
    if expected.startswith("Dense") and got == SOFTMAX:
        return "VGG16 has three fully connected layers: 4096, 4096 and n_classes"
    if expected == SOFTMAX:
        return "the model should end with a softmax over the classes"
    if expected == RELU and got.startswith("Dense"):
        return "fc1 and fc2 are each followed by a ReLU: Dense(4096, activation='relu')"
    if RELU in (expected, got):
        return _block_hint(expected, got)
    if expected.startswith(("Conv2D", "MaxPooling2D")) or got.startswith(("Conv2D", "MaxPooling2D")):
        if expected.startswith("Conv2D") and got.startswith("MaxPooling2D"):
            lead = "a pooling came too early: pool once per block, after its last convolution. "
        else:
            lead = ""
        return lead + (
            "VGG16's configuration, in order: 2, 2, 3, 3, 3 convolutions (3×3, stride 1) "
            "with 64, 128, 256, 512, 512 filters, each block ending in 2×2/2 max pooling"
        )
    return None


def vgg16(fn):
    """Task 2: VGG16 equals keras.applications.VGG16(weights=None) on the same input and classes."""
    with Task(2, "vgg16") as t:
        t.function(fn, "vgg16")
        for input_shape, n_classes in [((32, 32, 3), 10), ((32, 32, 1), 4)]:
            what = f"vgg16(input_shape={input_shape}, n_classes={n_classes})"
            built = t.call(
                fn,
                (input_shape, n_classes),
                what=what,
                hint="a 32×32 input survives VGG16's five poolings exactly: does each block pool only once, "
                "after its last convolution?",
            )
            model = t.keras_model(built, what)
            kinds, params, shapes = _keras_vgg16(input_shape, n_classes)
            t.equal(
                f"{what}: input shape",
                tuple(model.inputs[0].shape[1:]),
                input_shape,
                "use the input_shape argument for keras.Input",
            )
            t.equal(
                f"{what}: output shape",
                tuple(model.outputs[0].shape[1:]),
                (n_classes,),
                "the last Dense layer should have n_classes units (use the argument, not a fixed 1000)",
            )
            t.sequence(
                f"{what}: layers in order, against keras.applications.VGG16", layer_kinds(model), kinds, _vgg16_hint
            )
            t.equal(
                f"{what}: parameters, against keras.applications.VGG16",
                model.count_params(),
                params,
                "every convolution and dense layer keeps its bias",
            )
            t.sequence(
                f"{what}: weight shapes in order, against keras.applications.VGG16",
                [tuple(w.shape) for w in model.weights],
                shapes,
            )


# -- Task 3 · receptive_field ----------------------------------------------------------
def _output_size(size, k):
    """A stride-1 'valid' convolution: n − k + 1 outputs per side (unit 01)."""
    return size - k + 1


def stacked_receptive_field(n_layers, k):
    """The smallest input that n stride-1 k×k 'valid' convolutions reduce to a single output."""
    size = 1
    while True:
        out = size
        for _ in range(n_layers):
            out = _output_size(out, k)
        if out >= 1:
            return size
        size += 1


def receptive_field(fn):
    """Task 3: receptive field of n stacked stride-1 k×k convolutions, 1 + n(k − 1)."""
    with Task(3, "receptive_field") as t:
        t.function(fn, "receptive_field")
        for n, k in [(1, 3), (2, 3), (3, 3), (5, 3), (2, 5), (3, 7), (4, 2), (0, 3)]:
            what = f"receptive_field({n}, k={k})"
            got = _int(t, t.call(fn, (n,), {"k": k}, what=what), what)
            expected = stacked_receptive_field(n, k)
            hints = {
                n * k: "the windows of neighbouring layers overlap: each layer adds k − 1, not k",
                n * (k - 1): "off by one: a single output already sees 1 pixel; each layer adds k − 1 to it",
                k + n * (k - 1): "one layer too many: start from 1 pixel, then add k − 1 per layer",
                2 * n + 1: "2n + 1 holds for k = 3 only: each layer adds k − 1",
                k**n: "layers add to the receptive field (k − 1 each); they do not multiply it",
            }
            hint = hints.get(got, "each stride-1 k×k layer widens the field by k − 1 around a single pixel")
            t.equal(what, got, expected, hint)
        got = _int(t, t.call(fn, (2,), what="receptive_field(2)"), "receptive_field(2)")
        t.equal("receptive_field(2) with the default k", got, stacked_receptive_field(2, 3), "k should default to 3")


# -- Task 4 · conv_stack_weights --------------------------------------------------------
def _keras_weights(k, c):
    from keras import layers

    layer = layers.Conv2D(c, k, use_bias=False)
    layer.build((None, 2 * k, 2 * k, c))
    return layer.count_params()


def conv_stack_weights(fn):
    """Task 4: weights (no biases) of n stacked k×k convolutions from c to c channels."""
    with Task(4, "conv_stack_weights") as t:
        t.function(fn, "conv_stack_weights")
        for n, k, c in [(2, 3, 64), (1, 5, 64), (3, 3, 256), (1, 7, 256), (2, 3, 1), (4, 3, 7), (1, 1, 32)]:
            what = f"conv_stack_weights({n}, k={k}, c={c})"
            got = _int(t, t.call(fn, (n, k, c), what=what), what)
            expected = n * _keras_weights(k, c)
            hints = {
                n * (k * k * c * c + c): "the task counts weights only: leave out the biases",
                n * k * k * c: "each kernel spans all c input channels and there are c of them: k·k·c·c per layer",
                n * k * c * c: "a k×k kernel has k·k weights per input and output channel",
                (n * k) ** 2 * c * c: "n layers add their weights: n · k·k·c·c, not (n·k)²·c²",
                k * k * c * c: "there are n layers: multiply one layer's weights by n",
            }
            t.equal(what, got, expected, hints.get(got, "one k×k conv from c to c channels has k·k·c·c weights"))


# -- Task 5 · exam drill ----------------------------------------------------------------
def drill(block5_shape, fc1_params, conv_layers, weights_saved):
    """Task 5: VGG16 at 224×224×3 by hand, and the weights three 3×3 convs save against one 7×7."""
    with Task(5, "exam drill") as t:
        t.value(block5_shape, "block5_shape", tuple)
        for value, name in [(fc1_params, "fc1_params"), (conv_layers, "conv_layers"), (weights_saved, "weights_saved")]:
            t.value(value, name, (int, np.integer))
        side = 224 // 2 ** len(VGG16_CONV_LAYERS)  # five 2×2/2 poolings; 'same' convs keep the size
        t.equal(
            "block5_shape",
            tuple(int(v) for v in block5_shape),
            (side, side, 512),
            {
                (224 // 2**4, 224 // 2**4, 512): "there are five blocks, each halving the size: 224 / 2⁵",
                (side, side, 256): "blocks 4 and 5 both have 512 filters",
            }.get(tuple(block5_shape), "224 halved by each of the five poolings, 512 channels"),
        )
        flat = side * side * 512
        t.equal(
            "fc1_params",
            int(fc1_params),
            flat * 4096 + 4096,
            {
                flat * 4096: "add fc1's 4096 biases",
                512 * 4096 + 4096: "fc1 reads the flattened 7×7×512 map, not 512 pooled values",
            }.get(
                int(fc1_params), "fc1 connects every value of the flattened block5 output to 4096 units, plus biases"
            ),
        )
        with_fc = sum(VGG16_CONV_LAYERS) + VGG16_FC_LAYERS
        t.equal(
            "conv_layers",
            int(conv_layers),
            sum(VGG16_CONV_LAYERS),
            {
                with_fc: "16 counts the layers with weights: 13 conv + 3 fully connected",
                with_fc + len(VGG16_CONV_LAYERS): "pooling layers have no weights",
            }.get(int(conv_layers), "count the 3×3 convolutions of the five blocks: 2 + 2 + 3 + 3 + 3"),
        )
        c = 256
        t.equal(
            "weights_saved",
            int(weights_saved),
            _keras_weights(7, c) - 3 * _keras_weights(3, c),
            {
                (49 - 27) * c: "count k·k·c·c weights per layer: the channels enter squared",
                (49 - 27) * c * c - 2 * c: "weights only: leave out the biases",
                (49 - 9) * c * c: "the stack has three 3×3 layers",
            }.get(int(weights_saved), "one 7×7 conv has 49·c² weights, three 3×3 convs 3·9·c²"),
        )


# -- Task 6 · small_vgg -------------------------------------------------------------------
SMALL_VGG_BLOCKS = ((16, 2), (32, 2))  # (filters, convolutions) per block
SMALL_VGG_FC = 64
SMALL_VGG_INPUT = (28, 28, 1)


def small_vgg_spec(n_classes):
    """Layer kinds and parameters of the small VGG that Task 6 describes."""
    kinds, params, c, side = [], 0, SMALL_VGG_INPUT[-1], SMALL_VGG_INPUT[0]
    for filters, n_convs in SMALL_VGG_BLOCKS:
        kinds += block_kinds(filters, n_convs)
        params += block_params(c, filters, n_convs)
        c, side = filters, side // 2
    flat = side * side * c
    kinds += [FLATTEN, f"Dense →{SMALL_VGG_FC}", RELU, f"Dense →{n_classes}", SOFTMAX]
    params += (flat * SMALL_VGG_FC + SMALL_VGG_FC) + (SMALL_VGG_FC * n_classes + n_classes)
    return kinds, params


def _small_vgg_hint(expected, got):
    if got == "BatchNormalization":
        return "no batch normalisation here, as in the paper and the notes (the walkthrough adds it to compare)"
    if expected == FLATTEN and got.startswith("GlobalAveragePooling2D"):
        return "flatten the last feature map, as VGG does, instead of global average pooling"
    if expected.startswith("Dense") and got.startswith("Dense"):
        return f"the head is Dense {SMALL_VGG_FC} → ReLU → Dense n_classes → softmax"
    if expected == SOFTMAX:
        return "the model should end with a softmax over the classes"
    if expected == FLATTEN and got.startswith("Conv2D"):
        return "two VGG blocks only: Flatten comes right after the 32-filter block"
    if expected.startswith("Conv2D") and got.startswith("Conv2D"):
        return "two VGG blocks: 2 × 3×3 conv with 16 filters, pool; 2 × 3×3 conv with 32 filters, pool"
    hint = _block_hint(expected, got)
    if hint:
        return hint
    if expected.startswith(("Conv2D", "MaxPooling2D")):
        return "two VGG blocks: 2 × 3×3 conv with 16 filters, pool; 2 × 3×3 conv with 32 filters, pool"
    return None


def small_vgg(fn):
    """Task 6: two VGG blocks (16, 32 filters, two convs each), Flatten, Dense 64, softmax; no BN."""
    with Task(6, "small_vgg") as t:
        t.function(fn, "small_vgg")
        for n_classes in (10, 4):
            what = f"small_vgg(n_classes={n_classes})"
            model = t.keras_model(t.call(fn, (n_classes,), what=what), what)
            kinds, params = small_vgg_spec(n_classes)
            t.equal(
                f"{what}: input shape",
                tuple(model.inputs[0].shape[1:]),
                SMALL_VGG_INPUT,
                "the digits are 28×28 images with one channel: keras.Input((28, 28, 1))",
            )
            t.equal(
                f"{what}: output shape",
                tuple(model.outputs[0].shape[1:]),
                (n_classes,),
                "the last Dense layer should have n_classes units",
            )
            t.sequence(f"{what}: layers in order", layer_kinds(model), kinds, _small_vgg_hint)
            t.equal(
                f"{what}: parameters",
                model.count_params(),
                params,
                "use padding='same' on the convolutions: the Flatten should see a 7×7×32 map",
            )
            x = np.random.default_rng(0).random((2, *SMALL_VGG_INPUT), dtype="float32")
            probabilities = np.asarray(model(x, training=False))
            t.close(
                f"{what}: the outputs of one image sum to 1",
                probabilities.sum(axis=-1),
                np.ones(2),
                "end with a softmax",
            )

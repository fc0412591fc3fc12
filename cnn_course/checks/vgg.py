"""Checks for unit 05 (VGG): the VGG block, VGG16, receptive fields, weight counts, a drill, a small VGG.

The block and the models are compared with a reference built from the task's
specification (``cnn_course.checks.compare``): same random weights, same random
inputs, same outputs, in two configurations chosen so that coincidences cannot
hold (odd channel counts, non-square inputs). The models must be built from the
learner's own ``vgg_block``: the check counts its calls, so returning
``keras.applications.VGG16`` does not pass. Receptive fields come from the
output-size formula, weight counts from built ``Conv2D`` layers. No check
carries a copy of the solution's code.
"""

import functools
import types

import numpy as np

from cnn_course.checks import Task, is_whole_number, probe_model
from cnn_course.checks.compare import (
    chain,
    compare_with_reference,
    conv,
    dense,
    flatten,
    max_pool,
    reference_model,
    relu,
    softmax,
    steps,
)

VGG16_CONFIG = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))  # (filters, 3×3 convolutions) per block
VGG16_CONV_LAYERS = tuple(n for _, n in VGG16_CONFIG)  # 13 in all
VGG16_FC = (4096, 4096)  # fc1, fc2; then the predictions
SMALL_VGG_BLOCKS = ((16, 2), (32, 2))
SMALL_VGG_FC = (64,)
SMALL_VGG_INPUT = (28, 28, 1)
VGG16_ORDER = (
    "VGG16's configuration, in order: 2, 2, 3, 3, 3 convolutions (3×3, stride 1) "
    "with 64, 128, 256, 512, 512 filters, each block ending in 2×2/2 max pooling"
)


# -- the references, from the specifications ----------------------------------------
def block_spec(filters, n_convs):
    """n_convs × (3×3 conv 'same' → ReLU), then 2×2 max pooling with stride 2."""
    return chain(*[chain(conv(3, filters), relu()) for _ in range(n_convs)], max_pool(2, 2))


def vgg_spec(blocks, fc, n_classes):
    """VGG blocks, Flatten, Dense + ReLU per fc layer, Dense n_classes, softmax."""
    head = [chain(dense(units), relu()) for units in fc]
    return chain(*[block_spec(f, n) for f, n in blocks], flatten(), *head, dense(n_classes), softmax())


@functools.cache
def reference(config, input_shape):
    """The reference model of a configuration, built once per process."""
    spec = block_spec(*config[1:]) if config[0] == "block" else vgg_spec(*config[1:])
    return reference_model(spec, input_shape)


# -- hints for the usual mistakes, from the first step that differs ---------------------
def _conv_hint(e, g, filters_hint):
    if e.settings["bias"] != g.settings["bias"]:
        return "VGG's convolutions keep their bias (Keras's default use_bias=True)"
    if "dilation" in g.settings:
        return "VGG's convolutions are not dilated: remove dilation_rate"
    if (e.settings["kernel"], e.settings["strides"]) != (g.settings["kernel"], g.settings["strides"]):
        return "VGG uses 3×3 kernels only (stride 1)"
    if e.settings["padding"] != g.settings["padding"]:
        return "use padding='same' on the convolutions: only the pooling changes the size"
    return filters_hint


def hinter(got_steps, filters_hint="every convolution of the block has `filters` output channels", head=None):
    """A hint for the first differing step; `got_steps` (the learner's whole graph) tells some mistakes apart."""
    got_kinds = {s.kind for s in got_steps}
    blocks = "each block has n_convs convolutions (loop `for i in range(n_convs)`), then one pooling"

    def hint(e, g):
        if "BatchNormalization" in got_kinds:
            return "VGG has no batch normalisation (the paper predates it)"
        if e is None or g is None:
            step = e or g
            if step.kind == "Softmax":
                return "the model should end with a softmax over the classes"
            return blocks if step.kind == "Conv2D" else head if step.kind == "Dense" else None
        kinds = (e.kind, g.kind)
        if g.kind == "Pad":
            return "pad inside every convolution (padding='same'), not the input once: the borders differ"
        if kinds == ("MaxPooling", "AveragePooling"):
            return "VGG uses max pooling, not average pooling"
        if kinds == ("MaxPooling", "MaxPooling"):
            return "2×2 max pooling with stride 2: MaxPooling2D(2, strides=2) halves height and width"
        if kinds == ("Conv2D", "ReLU"):
            return "each convolution is followed by its ReLU, not preceded by it"
        if kinds == ("ReLU", "Dense"):
            return "fc1 and fc2 are each followed by a ReLU: Dense(4096, activation='relu')"
        if e.kind == "ReLU":
            return "every convolution is followed by a ReLU: Conv2D(..., activation='relu') or a ReLU layer"
        if kinds == ("Conv2D", "MaxPooling"):
            return "VGG pools once per block, after the last of its n_convs convolutions, not after every conv"
        if kinds == ("Conv2D", "Conv2D"):
            return _conv_hint(e, g, filters_hint)
        if e.kind in ("Flatten", "Dense") and got_kinds & {"GlobalAveragePooling", "GlobalMaxPooling"}:
            return "VGG flattens the last feature map (Flatten) before its fully connected layers; GAP came later"
        if kinds == ("Dense", "Dense") and e.shapes()[0] != g.shapes()[0] and e.settings == g.settings:
            return "fc1 reads the flattened last map: padding='same' on every conv and one pooling per block"
        if kinds == ("Dense", "Dense") or e.kind == "Dense":
            return head
        if e.kind == "Softmax":
            return "the model should end with a softmax over the classes"
        if g.kind in ("ReLU", "Softmax", "Sigmoid", "Tanh"):
            return f"the task has no {g.kind} here (check the layers' activation= arguments too)"
        return None

    return hint


# -- the learner's own vgg_block, counted ------------------------------------------------
def _counting(fn, name):
    """``(fn', calls)``: ``fn`` with the function it knows as ``name`` (a global or a closure variable) counted.

    ``fn`` itself and the learner's namespace are left as they were: ``fn'`` is a copy.
    """
    calls = []
    if not isinstance(fn, types.FunctionType):
        return fn, calls
    free = fn.__code__.co_freevars
    cells = list(fn.__closure__ or ())
    inner = cells[free.index(name)].cell_contents if name in free else fn.__globals__.get(name)
    if not callable(inner):
        return fn, calls

    def counted(*args, **kwargs):
        calls.append(args)
        return inner(*args, **kwargs)

    namespace = fn.__globals__ if name in free else {**fn.__globals__, name: counted}
    if name in free:
        cells[free.index(name)] = types.CellType(counted)
    spied = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, tuple(cells) or None)
    spied.__kwdefaults__ = fn.__kwdefaults__
    return spied, calls


def model_from_blocks(t, fn, args, what, n_blocks, task_name):
    """Call the learner's model function; its blocks must come from their ``vgg_block`` (Task 1)."""
    spied, calls = _counting(fn, "vgg_block")
    model = t.keras_model(t.call(spied, args, what=what, hint=_call_hint), what)
    t.expect(
        len(calls) == n_blocks,
        f"{what}: calls of your `vgg_block` (Task 1) while building the model",
        n_blocks,
        len(calls),
        f"the model has {n_blocks} VGG blocks: call your `vgg_block` once for each"
        if calls
        else f"build each of the {n_blocks} blocks with your `vgg_block`, as the task says "
        f"(a model from keras.applications or written without it does not count for `{task_name}`)",
    )
    return model


def _call_hint(err):
    if "negative" in str(err).lower() or "dimension" in str(err).lower():
        return "only the poolings shrink the maps: padding='same' on every conv, one pooling per block"
    return None


def compare_model(t, model, config, input_shape, what, filters_hint, head):
    n_classes = config[-1]
    compare_with_reference(
        t,
        model,
        reference(config, input_shape),
        what,
        hint=hinter(steps(model), filters_hint, head),
        shape_hint=lambda got: (
            f"the last Dense layer should have n_classes units ({n_classes} here)" if got != (n_classes,) else None
        ),
        training=False,  # no batch normalisation: training mode only adds the learner's harmless dropout
    )


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
def _block_shape_hint(size, filters, n_convs):
    def hint(got):
        h, w = size
        hints = {
            ((h - 2 * n_convs) // 2, (w - 2 * n_convs) // 2): "use padding='same' on the convolutions: "
            "only the pooling changes the size",
            (h - 1, w - 1): "the pooling needs stride 2 (MaxPooling2D(2, strides=2)): stride 1 only trims one row",
            (h, w): "end the block with 2×2 max pooling, which halves height and width",
            (h // 2**n_convs, w // 2**n_convs): "VGG pools once per block, after the last of its n_convs "
            "convolutions, not after every conv",
        }
        if tuple(got[:2]) in hints:
            return hints[tuple(got[:2])]
        if got[-1] != filters:
            return "every convolution of the block has `filters` output channels"
        return "n × (3×3 conv 'same' + ReLU), then 2×2 max pooling with stride 2"

    return hint


def vgg_block(fn):
    """Task 1: n_convs × (3×3 conv, 'same', ReLU) then 2×2 max pooling with stride 2."""
    with Task(1, "vgg_block") as t:
        t.function(fn, "vgg_block")
        for case, (size, c_in, filters, n_convs) in enumerate([((8, 6), 5, 3, 2), ((6, 10), 3, 7, 3)]):
            what = f"vgg_block(x, filters={filters}, n_convs={n_convs}) on a {size[0]}×{size[1]}×{c_in} input"
            build = lambda x, f=filters, n=n_convs, i=case: fn(x, f, n, name=f"probe{i}")  # noqa: E731
            model = probe_model(t, build, (*size, c_in), what)
            compare_with_reference(
                t,
                model,
                reference(("block", filters, n_convs), (*size, c_in)),
                what,
                hint=hinter(steps(model)),
                shape_hint=_block_shape_hint(size, filters, n_convs),
                training=False,
            )


# -- Task 2 · vgg16 --------------------------------------------------------------
def vgg16(fn):
    """Task 2: VGG16 from its configuration, built with the learner's vgg_block."""
    with Task(2, "vgg16") as t:
        t.function(fn, "vgg16")
        for input_shape, n_classes in [((32, 64, 3), 7), ((64, 32, 1), 5)]:
            what = f"vgg16(input_shape={input_shape}, n_classes={n_classes})"
            model = model_from_blocks(t, fn, (input_shape, n_classes), what, len(VGG16_CONFIG), "vgg16")
            head = "the head is Dense 4096 → ReLU → Dense 4096 → ReLU → Dense n_classes → softmax"
            compare_model(t, model, ("vgg", VGG16_CONFIG, VGG16_FC, n_classes), input_shape, what, VGG16_ORDER, head)


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
                n + k - 1: "every layer adds k − 1 pixels, not just the first one",
                1 + (k - 1) * (2**n - 1): "there is no pooling or stride: each layer adds the same k − 1",
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
                n * k * k * 2 * c: "input and output channels multiply: k·k·c·c, not k·k·(c + c)",
                k * n * n * c * c: "the arguments come in the order (n_layers, k, c)",
                n * (k * k * c) ** 2: "the channels enter once each: k·k·c·c, not (k·k·c)²",
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
        with_fc = sum(VGG16_CONV_LAYERS) + len(VGG16_FC) + 1  # fc1, fc2, predictions
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
def small_vgg(fn):
    """Task 6: two VGG blocks (16, 32 filters, two convs each), Flatten, Dense 64, softmax; no BN."""
    with Task(6, "small_vgg") as t:
        t.function(fn, "small_vgg")
        for n_classes in (10, 3):
            what = f"small_vgg(n_classes={n_classes})"
            model = model_from_blocks(t, fn, (n_classes,), what, len(SMALL_VGG_BLOCKS), "small_vgg")
            blocks = "two VGG blocks: 2 × 3×3 conv with 16 filters, pool; 2 × 3×3 conv with 32 filters, pool"
            head = "the head is Dense 64 → ReLU → Dense n_classes → softmax"
            config = ("vgg", SMALL_VGG_BLOCKS, SMALL_VGG_FC, n_classes)
            compare_model(t, model, config, SMALL_VGG_INPUT, what, blocks, head)

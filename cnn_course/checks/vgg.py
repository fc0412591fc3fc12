"""Checks for unit 05 (VGG): the VGG block, VGG16, which input pixels one output sees (padding included), a
VGG's parameters from its configuration, a drill, VGG's classifier as convolutions.

The block and the models are compared with a reference built from the task's
specification (``cnn_course.checks.compare``): same random weights, same random
inputs, same outputs, in two configurations chosen so that coincidences cannot
hold (odd channel counts, non-square inputs). The models must be built from the
learner's own ``vgg_block``: the check counts its calls, so returning
``keras.applications.VGG16`` does not pass. The span of input pixels one
output reads comes from following that output back through the layers,
parameter counts from built Keras layers; the fully convolutional model is
compared with the given classifier applied to every window of its last map.
No check carries a copy of the solution's code.

``receptive_field``, ``conv_stack_weights`` and ``small_vgg`` were Tasks 3, 4 and 6
until the exercise was reworked (#15); their checks stay, unchanged, for
learners' copies of earlier releases.
"""

import functools
import types

import numpy as np

from cnn_course.checks import Task, first_line, is_whole_number, probe_model
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
from cnn_course.i18n import N_, _

VGG16_CONFIG = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))  # (filters, 3×3 convolutions) per block
VGG16_CONV_LAYERS = tuple(n for _filters, n in VGG16_CONFIG)  # 13 in all
VGG16_FC = (4096, 4096)  # fc1, fc2; then the predictions
SMALL_VGG_BLOCKS = ((16, 2), (32, 2))
SMALL_VGG_FC = (64,)
SMALL_VGG_INPUT = (28, 28, 1)
VGG16_ORDER = N_(
    "VGG16's configuration, in order: 2, 2, 3, 3, 3 convolutions (3×3, stride 1) "
    "with 64, 128, 256, 512, 512 filters, each block ending in 2×2/2 max pooling"
)


# -- the references, from the specifications ----------------------------------------
def block_spec(filters, n_convs):
    """n_convs × (3×3 conv 'same' → ReLU), then 2×2 max pooling with stride 2."""
    return chain(*[chain(conv(3, filters), relu()) for _conv in range(n_convs)], max_pool(2, 2))


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
        return _("VGG's convolutions keep their bias (Keras's default use_bias=True)")
    if "dilation" in g.settings:
        return _("VGG's convolutions are not dilated: remove dilation_rate")
    if (e.settings["kernel"], e.settings["strides"]) != (g.settings["kernel"], g.settings["strides"]):
        return _("VGG uses 3×3 kernels only (stride 1)")
    if e.settings["padding"] != g.settings["padding"]:
        return _("use padding='same' on the convolutions: only the pooling changes the size")
    return filters_hint


FILTERS_HINT = N_("every convolution of the block has `filters` output channels")


def hinter(got_steps, filters_hint=None, head=None):
    """A hint for the first differing step; `got_steps` (the learner's whole graph) tells some mistakes apart.

    `filters_hint` (translated) for a convolution with other filters than the reference's, `head` for the Dense layers.
    """
    got_kinds = {s.kind for s in got_steps}
    filters_hint = filters_hint or _(FILTERS_HINT)
    blocks = _("each block has n_convs convolutions (loop `for i in range(n_convs)`), then one pooling")

    def hint(e, g):
        if "BatchNormalization" in got_kinds:
            return _("VGG has no batch normalisation (the paper predates it)")
        if e is None or g is None:
            step = e or g
            if step.kind == "Softmax":
                return _("the model should end with a softmax over the classes")
            return blocks if step.kind == "Conv2D" else head if step.kind == "Dense" else None
        kinds = (e.kind, g.kind)
        if g.kind == "Pad":
            return _("pad inside every convolution (padding='same'), not the input once: the borders differ")
        if kinds == ("MaxPooling", "AveragePooling"):
            return _("VGG uses max pooling, not average pooling")
        if kinds == ("MaxPooling", "MaxPooling"):
            return _("2×2 max pooling with stride 2: MaxPooling2D(2, strides=2) halves height and width")
        if kinds == ("Conv2D", "ReLU"):
            return _("each convolution is followed by its ReLU, not preceded by it")
        if kinds == ("ReLU", "Dense"):
            return _("fc1 and fc2 are each followed by a ReLU: Dense(4096, activation='relu')")
        if e.kind == "ReLU":
            return _("every convolution is followed by a ReLU: Conv2D(..., activation='relu') or a ReLU layer")
        if kinds == ("Conv2D", "MaxPooling"):
            return _("VGG pools once per block, after the last of its n_convs convolutions, not after every conv")
        if kinds == ("Conv2D", "Conv2D"):
            return _conv_hint(e, g, filters_hint)
        if e.kind in ("Flatten", "Dense") and got_kinds & {"GlobalAveragePooling", "GlobalMaxPooling"}:
            return _("VGG flattens the last feature map (Flatten) before its fully connected layers; GAP came later")
        if kinds == ("Dense", "Dense") and e.shapes()[0] != g.shapes()[0] and e.settings == g.settings:
            return _("fc1 reads the flattened last map: padding='same' on every conv and one pooling per block")
        if kinds == ("Dense", "Dense") or e.kind == "Dense":
            return head
        if e.kind == "Softmax":
            return _("the model should end with a softmax over the classes")
        if g.kind in ("ReLU", "Softmax", "Sigmoid", "Tanh"):
            return _("the task has no {layer} here (check the layers' activation= arguments too)").format(layer=g.kind)
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
    if calls:
        hint = _("the model has {count} VGG blocks: call your `vgg_block` once for each").format(count=n_blocks)
    else:
        hint = _(
            "build each of the {count} blocks with your `vgg_block`, as the task says "
            "(a model from keras.applications or written without it does not count for `{task}`)"
        ).format(count=n_blocks, task=task_name)
    t.expect(
        len(calls) == n_blocks,
        _("{what}: calls of your `vgg_block` (Task 1) while building the model").format(what=what),
        n_blocks,
        len(calls),
        hint,
    )
    return model


def _call_hint(err):
    if "negative" in str(err).lower() or "dimension" in str(err).lower():
        return _("only the poolings shrink the maps: padding='same' on every conv, one pooling per block")
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
            _("the last Dense layer should have n_classes units ({count} here)").format(count=n_classes)
            if got != (n_classes,)
            else None
        ),
        training=False,  # no batch normalisation: training mode only adds the learner's harmless dropout
    )


def _int(t, value, what):
    t.expect(
        is_whole_number(value),
        _("{what} should be a whole number (int)").format(what=what),
        _("an int"),
        value,
        _("use integer arithmetic: + − × and // (not /)"),
    )
    return int(value)


# -- Task 1 · vgg_block ----------------------------------------------------------
def _block_shape_hint(size, filters, n_convs):
    def hint(got):
        h, w = size
        hints = {
            ((h - 2 * n_convs) // 2, (w - 2 * n_convs) // 2): _(
                "use padding='same' on the convolutions: only the pooling changes the size"
            ),
            (h - 1, w - 1): _("the pooling needs stride 2 (MaxPooling2D(2, strides=2)): stride 1 only trims one row"),
            (h, w): _("end the block with 2×2 max pooling, which halves height and width"),
            (h // 2**n_convs, w // 2**n_convs): _(
                "VGG pools once per block, after the last of its n_convs convolutions, not after every conv"
            ),
        }
        if tuple(got[:2]) in hints:
            return hints[tuple(got[:2])]
        if got[-1] != filters:
            return _(FILTERS_HINT)
        return _("n × (3×3 conv 'same' + ReLU), then 2×2 max pooling with stride 2")

    return hint


def vgg_block(fn):
    """Task 1: n_convs × (3×3 conv, 'same', ReLU) then 2×2 max pooling with stride 2."""
    with Task(1, "vgg_block") as t:
        t.function(fn, "vgg_block")
        for case, (size, c_in, filters, n_convs) in enumerate([((8, 6), 5, 3, 2), ((6, 10), 3, 7, 3)]):
            what = _(
                "vgg_block(x, filters={filters}, n_convs={n_convs}) on a {height}×{width}×{channels} input"
            ).format(filters=filters, n_convs=n_convs, height=size[0], width=size[1], channels=c_in)
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
            what = f"vgg16(input_shape={input_shape}, n_classes={n_classes})"  # not a message
            model = model_from_blocks(t, fn, (input_shape, n_classes), what, len(VGG16_CONFIG), "vgg16")
            head = _("the head is Dense 4096 → ReLU → Dense 4096 → ReLU → Dense n_classes → softmax")
            config = ("vgg", VGG16_CONFIG, VGG16_FC, n_classes)
            compare_model(t, model, config, input_shape, what, _(VGG16_ORDER), head)


# -- Task 3 · receptive_field ----------------------------------------------------------
def _output_size(size, k):
    """A stride-1 'valid' convolution: n − k + 1 outputs per side (unit 01)."""
    return size - k + 1


def stacked_receptive_field(n_layers, k):
    """The smallest input that n stride-1 k×k 'valid' convolutions reduce to a single output."""
    size = 1
    while True:
        out = size
        for _layer in range(n_layers):
            out = _output_size(out, k)
        if out >= 1:
            return size
        size += 1


def receptive_field(fn):
    """Task 3: receptive field of n stacked stride-1 k×k convolutions, 1 + n(k − 1)."""
    with Task(3, "receptive_field") as t:
        t.function(fn, "receptive_field")
        for n, k in [(1, 3), (2, 3), (3, 3), (5, 3), (2, 5), (3, 7), (4, 2), (0, 3)]:
            what = f"receptive_field({n}, k={k})"  # not a message
            got = _int(t, t.call(fn, (n,), {"k": k}, what=what), what)
            expected = stacked_receptive_field(n, k)
            hints = {
                n * k: _("the windows of neighbouring layers overlap: each layer adds k − 1, not k"),
                n * (k - 1): _("off by one: a single output already sees 1 pixel; each layer adds k − 1 to it"),
                k + n * (k - 1): _("one layer too many: start from 1 pixel, then add k − 1 per layer"),
                2 * n + 1: _("2n + 1 holds for k = 3 only: each layer adds k − 1"),
                k**n: _("layers add to the receptive field (k − 1 each); they do not multiply it"),
                n + k - 1: _("every layer adds k − 1 pixels, not just the first one"),
                1 + (k - 1) * (2**n - 1): _("there is no pooling or stride: each layer adds the same k − 1"),
            }
            hint = hints.get(got, _("each stride-1 k×k layer widens the field by k − 1 around a single pixel"))
            t.equal(what, got, expected, hint)
        got = _int(t, t.call(fn, (2,), what="receptive_field(2)"), "receptive_field(2)")
        t.equal(
            _("receptive_field(2) with the default k"),
            got,
            stacked_receptive_field(2, 3),
            _("k should default to 3"),
        )


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
            what = f"conv_stack_weights({n}, k={k}, c={c})"  # not a message
            got = _int(t, t.call(fn, (n, k, c), what=what), what)
            expected = n * _keras_weights(k, c)
            hints = {
                n * (k * k * c * c + c): _("the task counts weights only: leave out the biases"),
                n * k * k * c: _("each kernel spans all c input channels and there are c of them: k·k·c·c per layer"),
                n * k * c * c: _("a k×k kernel has k·k weights per input and output channel"),
                (n * k) ** 2 * c * c: _("n layers add their weights: n · k·k·c·c, not (n·k)²·c²"),
                k * k * c * c: _("there are n layers: multiply one layer's weights by n"),
                n * k * k * 2 * c: _("input and output channels multiply: k·k·c·c, not k·k·(c + c)"),
                k * n * n * c * c: _("the arguments come in the order (n_layers, k, c)"),
                n * (k * k * c) ** 2: _("the channels enter once each: k·k·c·c, not (k·k·c)²"),
            }
            t.equal(what, got, expected, hints.get(got, _("one k×k conv from c to c channels has k·k·c·c weights")))


# -- Task 5 · exam drill ----------------------------------------------------------------
def drill(block5_shape, fc1_params, conv_layers, weights_saved):
    """Task 5: VGG16 at 224×224×3 by hand, and the weights three 3×3 convs save against one 7×7."""
    with Task(5, _("exam drill")) as t:
        t.value(block5_shape, "block5_shape", tuple)
        for value, name in [(fc1_params, "fc1_params"), (conv_layers, "conv_layers"), (weights_saved, "weights_saved")]:
            t.value(value, name, (int, np.integer))
        side = 224 // 2 ** len(VGG16_CONV_LAYERS)  # five 2×2/2 poolings; 'same' convs keep the size
        t.equal(
            "block5_shape",
            tuple(int(v) for v in block5_shape),
            (side, side, 512),
            {
                (224 // 2**4, 224 // 2**4, 512): _("there are five blocks, each halving the size: 224 / 2⁵"),
                (side, side, 256): _("blocks 4 and 5 both have 512 filters"),
            }.get(tuple(block5_shape), _("224 halved by each of the five poolings, 512 channels")),
        )
        flat = side * side * 512
        t.equal(
            "fc1_params",
            int(fc1_params),
            flat * 4096 + 4096,
            {
                flat * 4096: _("add fc1's 4096 biases"),
                512 * 4096 + 4096: _("fc1 reads the flattened 7×7×512 map, not 512 pooled values"),
            }.get(
                int(fc1_params),
                _("fc1 connects every value of the flattened block5 output to 4096 units, plus biases"),
            ),
        )
        with_fc = sum(VGG16_CONV_LAYERS) + len(VGG16_FC) + 1  # fc1, fc2, predictions
        t.equal(
            "conv_layers",
            int(conv_layers),
            sum(VGG16_CONV_LAYERS),
            {
                with_fc: _("16 counts the layers with weights: 13 conv + 3 fully connected"),
                with_fc + len(VGG16_CONV_LAYERS): _("pooling layers have no weights"),
            }.get(int(conv_layers), _("count the 3×3 convolutions of the five blocks: 2 + 2 + 3 + 3 + 3")),
        )
        c = 256
        t.equal(
            "weights_saved",
            int(weights_saved),
            _keras_weights(7, c) - 3 * _keras_weights(3, c),
            {
                (49 - 27) * c: _("count k·k·c·c weights per layer: the channels enter squared"),
                (49 - 27) * c * c - 2 * c: _("weights only: leave out the biases"),
                (49 - 9) * c * c: _("the stack has three 3×3 layers"),
            }.get(int(weights_saved), _("one 7×7 conv has 49·c² weights, three 3×3 convs 3·9·c²")),
        )


# -- Task 6 · small_vgg -------------------------------------------------------------------
def small_vgg(fn):
    """Task 6: two VGG blocks (16, 32 filters, two convs each), Flatten, Dense 64, softmax; no BN."""
    with Task(6, "small_vgg") as t:
        t.function(fn, "small_vgg")
        for n_classes in (10, 3):
            what = f"small_vgg(n_classes={n_classes})"
            model = model_from_blocks(t, fn, (n_classes,), what, len(SMALL_VGG_BLOCKS), "small_vgg")
            blocks = _("two VGG blocks: 2 × 3×3 conv with 16 filters, pool; 2 × 3×3 conv with 32 filters, pool")
            head = _("the head is Dense 64 → ReLU → Dense n_classes → softmax")
            config = ("vgg", SMALL_VGG_BLOCKS, SMALL_VGG_FC, n_classes)
            compare_model(t, model, config, SMALL_VGG_INPUT, what, blocks, head)


# -- Task 3 (since #15) · field_span: which input pixels one output sees, padding included --------
VGG16_STACK = tuple(
    t for _filters, n in VGG16_CONFIG for t in [(3, 1, 1)] * n + [(2, 2, 0)]
)  # block1_conv1 … block5_pool


def span_by_following(stack, index):
    """Follow output `index` of the last layer back to the input: outputs lo … hi of a (kernel, stride, padding)
    layer read its input positions lo·s − p … hi·s − p + k − 1 (below 0 or past the end: its zero padding)."""
    lo = hi = index
    for k, s, p in reversed(stack):
        lo, hi = lo * s - p, hi * s - p + k - 1
    return lo, hi


def _jump_offset_field(stack, own_stride=False):
    """(product of strides, Σ padding × strides before, receptive field) of a stack."""
    jump, offset, field = 1, 0, 1
    for k, s, p in stack:
        offset += p * jump * (s if own_stride else 1)
        field += (k - 1) * jump
        jump *= s
    return jump, offset, field


def span_variants(stack, index):
    """The usual wrong answers for `field_span(stack, index)`, with the hint each one calls for."""
    jump, offset, field = _jump_offset_field(stack)
    own = _jump_offset_field(stack, own_stride=True)[1]
    start = index * jump - offset
    lo = hi = index
    for k, s, p in stack:  # the recurrence run over the list from the input
        lo, hi = lo * s - p, hi * s - p + k - 1
    unscaled = index * jump - sum(p for *_ks, p in stack)
    return [
        (
            span_by_following([(k, s, 0) for k, s, _p in stack], index),
            _(
                "count the padding: output 0 of a 'same' "
                "convolution reads p pixels before the image, so every padded layer moves the span back"
            ),
        ),
        (
            (unscaled, unscaled + field - 1),
            _("a layer's padding is in its own input's pixels: multiply it by the strides of the layers before it"),
        ),
        (
            (index * jump - own, index * jump - own + field - 1),
            _("multiply a layer's padding by the strides before it, not by its own"),
        ),
        (
            (index * jump + offset, index * jump + offset + field - 1),
            _("padding moves the span back (towards negative positions), not forward"),
        ),
        ((start, field), _("return the first and the last pixel, not the first and the size")),
        ((start, start + field), _("off by one: the last pixel is first + receptive field − 1")),
        (
            span_by_following(stack, 0),
            _("the span moves with the output: output i starts i × (product of all strides) further"),
        ),
        ((lo, hi), _("follow the output back from the last layer to the first: walk the list reversed")),
        (
            (index * jump - (field - 1) // 2, index * jump + (field - 1) // 2),
            _(
                "the window is not centred on "
                "i × jump: a 2×2 pooling's window starts at its own pixel, and only padding moves it back"
            ),
        ),
    ]


SPAN_CASES = (  # the first tells the usual mistakes apart: each gives its own wrong span
    (((3, 1, 1), (2, 2, 0), (3, 2, 1)), 2),
    (((3, 1, 1), (3, 1, 1)), 0),
    (((2, 2, 0), (3, 1, 1)), 1),
    (((7, 2, 3), (3, 2, 1), (3, 1, 1), (3, 1, 1)), 4),
    (((5, 1, 0), (3, 3, 1)), 2),
    ((), 5),
    (VGG16_STACK, 0),
    (VGG16_STACK, 3),
)


def _span_hint(stack, index, got):
    right = span_by_following(stack, index)
    for value, hint in span_variants(stack, index):
        if value == got and value != right:
            return hint
    return _("follow output i back, last layer first: lo, hi → lo·s − p, hi·s − p + k − 1")


def field_span(fn):
    """Task 3: the first and last input pixel that output `index` of a (kernel, stride, padding) stack reads."""
    with Task(3, "field_span") as t:
        t.function(fn, "field_span")
        for stack, index in SPAN_CASES:
            shown = _("VGG16's 18 layers up to block5_pool") if stack == VGG16_STACK else str(list(stack))
            what = f"field_span({shown}, {index})"  # not a message
            got = t.call(fn, ([tuple(layer) for layer in stack], index), what=what)
            ok = isinstance(got, (tuple, list)) and len(got) == 2 and all(is_whole_number(v) for v in got)
            t.expect(
                ok,
                _("{what} should return two whole numbers").format(what=what),
                "(first, last)",  # not a message
                got,
                _(
                    "return a tuple of two ints: the first and the last input pixel (padding pixels are below 0 "
                    "or past the end)"
                ),
            )
            got = (int(got[0]), int(got[1]))
            t.equal(what, got, span_by_following(stack, index), _span_hint(stack, index, got))


# -- Task 4 (since #15) · vgg_params: a VGG variant's parameters from its configuration ----------
def params_by_formula(
    config,
    input_shape,
    n_classes,
    fc_units,
    bias=True,
    kernel_area=9,
    chain_channels=True,
    carry_blocks=True,
    halvings=None,
    flat_channels_only=False,
    last_layer=True,
):
    """Parameters of a VGG from its configuration (3×3 'same' convs, one 2×2/2 pooling per block, Flatten,
    Dense fc_units with ReLU, Dense n_classes), and the usual ways to get the count wrong."""
    h, w, c_in = input_shape
    channels, total = c_in, 0
    for filters, n_convs in config:
        for i in range(n_convs):
            if i > 0 or not chain_channels:
                source = filters
            else:
                source = channels if carry_blocks else c_in
            total += kernel_area * source * filters + (filters if bias else 0)
        channels = filters
    n = len(config) if halvings is None else halvings
    flat = channels if flat_channels_only else (h // 2**n) * (w // 2**n) * channels
    for units in list(fc_units) + ([n_classes] if last_layer else []):
        total += flat * units + (units if bias else 0)
        flat = units
    return total


@functools.cache
def _conv_params(c_in, filters):
    """Parameters of a 3×3 Conv2D from c_in to filters channels, counted by Keras on a built layer."""
    from keras import layers

    layer = layers.Conv2D(filters, 3, padding="same")
    layer.build((None, 3, 3, c_in))  # the weights do not depend on the height and width
    return layer.count_params()


def params_by_keras(config, input_shape, n_classes, fc_units):
    """The same count from Keras's layers: each convolution built once per channel pair; the Dense layers'
    flat × units kernel and units biases (no model: VGG's 100 M-weight fc1 is never filled)."""
    h, w, channels = input_shape
    total = 0
    for filters, n_convs in config:
        for _conv in range(n_convs):
            total += _conv_params(channels, filters)
            channels = filters
        h, w = h // 2, w // 2
    flat = h * w * channels
    for units in (*fc_units, n_classes):
        total += flat * units + units
        flat = units
    return total


PARAM_CASES = (
    (((64, 1), (128, 1), (256, 2), (512, 2), (512, 2)), (224, 224, 3), 10, (4096, 4096)),  # VGG11, 10 classes
    (((16, 2), (32, 2)), (28, 28, 1), 10, (64,)),  # the walkthrough's small VGG
    (((5, 1), (7, 3), (9, 2)), (40, 24, 2), 3, (11, 13)),
    (((6, 2), (10, 1)), (20, 36, 3), 4, ()),
    (((64, 2), (128, 2), (256, 4), (512, 4), (512, 4)), (224, 224, 3), 1000, (4096, 4096)),  # VGG19
)


def _params_hint(case, got):
    config, shape, n_classes, fc = case
    count = functools.partial(params_by_formula, config, shape, n_classes, fc)
    h, w, _channels = shape
    variants = {
        count(bias=False): _("every convolution and every Dense layer has biases: one per output channel or unit"),
        count(kernel_area=3): _("a 3×3 kernel has 9 weights per input and output channel, not 3"),
        count(chain_channels=False): _(
            "a block's first convolution reads the previous block's channels "
            "(the input's for block 1); only the later ones go from `filters` to `filters`"
        ),
        count(carry_blocks=False): _(
            "each block's first convolution reads the previous block's output channels, not the image's"
        ),
        count(halvings=len(config) + 1): _("one pooling per block: the last map is H / 2ⁿ × W / 2ⁿ for n blocks"),
        count(halvings=len(config) - 1): _("one pooling per block, the last block's too: H / 2ⁿ × W / 2ⁿ for n blocks"),
        count(halvings=0): _("the poolings halve the map: Flatten reads (H / 2ⁿ)·(W / 2ⁿ)·C values for n blocks"),
        count(halvings=5): _("the number of poolings is the number of blocks of this configuration, not always 5"),
        count(flat_channels_only=True): _(
            "Flatten keeps every position of the last map: (H / 2ⁿ)·(W / 2ⁿ)·C inputs to the first Dense layer, not C"
        ),
        count(last_layer=False): _("add the classifier, Dense(n_classes), after the fc_units layers"),
        params_by_formula(config, (h, w, 3), n_classes, fc): _("the first convolution reads input_shape[-1] channels"),
        params_by_formula(config, shape, 1000, fc): _("the classifier has n_classes units"),
        params_by_formula(config, shape, n_classes, (4096, 4096)): _("the hidden Dense layers are fc_units"),
    }
    variants.pop(params_by_keras(config, shape, n_classes, fc), None)
    return variants.get(
        got, _("add the layers one by one: 9·C_in·C_out + C_out per conv, n_in·n_out + n_out per Dense")
    )


def vgg_params(fn):
    """Task 4: the parameter count of a VGG from its configuration, input shape, classes and fc layers."""
    with Task(4, "vgg_params") as t:
        t.function(fn, "vgg_params")
        for case in PARAM_CASES:
            config, shape, n_classes, fc = case
            blocks = [tuple(b) for b in config]
            what = f"vgg_params({blocks}, input_shape={shape}, n_classes={n_classes}, fc_units={fc})"  # not a message
            args = ([tuple(b) for b in config],)
            got = _int(t, t.call(fn, args, {"input_shape": shape, "n_classes": n_classes, "fc_units": fc}, what), what)
            t.equal(what, got, params_by_keras(config, shape, n_classes, fc), _params_hint(case, got))
        got = _int(t, t.call(fn, ([tuple(b) for b in VGG16_CONFIG],), what="vgg_params(VGG16_CONFIG)"), "it")
        expected = params_by_keras(VGG16_CONFIG, (224, 224, 3), 1000, VGG16_FC)
        t.equal(
            _("vgg_params(VGG16_CONFIG) with the defaults"),
            got,
            expected,
            _("the defaults are input_shape=(224, 224, 3), n_classes=1000, fc_units=(4096, 4096)"),
        )


# -- Task 6 (since #15) · fully_convolutional: the classifier as convolutions ----------------------
FCN_CASES = (
    # input shape, VGG blocks (filters, convs), hidden Dense units, classes: non-square last maps (3×5, 8×4)
    ((12, 20, 2), ((4, 1), (6, 2)), (7,), 4),
    ((16, 8, 1), ((3, 2),), (5, 6), 3),
)


def classifier_model(input_shape, blocks, hidden, n_classes, seed=0):
    """A VGG-style classifier with random weights (mixed signs, non-zero biases), layers in model.layers order."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, name="image")
    x = inputs
    for b, (filters, n_convs) in enumerate(blocks, start=1):
        for i in range(1, n_convs + 1):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"block{b}_conv{i}")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{b}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    for j, units in enumerate(hidden, start=1):
        x = layers.Dense(units, activation="relu", name=f"fc{j}")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs, outputs, name="classifier")
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.weights:
            kernel, bias = layer.weights
            fan_in = int(np.prod(kernel.shape[:-1]))
            kernel.assign(rng.normal(0, 1.5 / np.sqrt(fan_in), kernel.shape).astype("float32"))
            bias.assign(rng.normal(0, 0.3, bias.shape).astype("float32"))
    return model


def _softmax(z, axis=-1):
    z = np.exp(z - z.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


def dense_head(windows, denses, order="hwc", bias=True, first_relu=True, softmax=True):
    """The Dense layers applied to flattened h×w×c windows (N, h, w, c) of the last map, and usual mistakes."""
    n, h, w, c = windows.shape
    if order == "chw":  # flattened channels first, as PyTorch's NCHW layout does
        v = windows.transpose(0, 3, 1, 2).reshape(n, -1)
    elif order == "whc":  # columns before rows
        v = windows.transpose(0, 2, 1, 3).reshape(n, -1)
    else:
        v = windows.reshape(n, -1)
    for i, (kernel, b) in enumerate(denses):
        v = v @ kernel + (b if bias else 0)
        last = i == len(denses) - 1
        if last:
            v = _softmax(v) if softmax else v
        elif first_relu or i > 0:
            v = np.maximum(v, 0)
    return v


def dense_map(features, denses, h, w, **variant):
    """The classifier applied to every h×w window of a feature map (N, H, W, c): a map (N, H−h+1, W−w+1, classes)."""
    n, rows, cols, _channels = features.shape
    out = np.stack(
        [
            np.stack([dense_head(features[:, i : i + h, j : j + w], denses, **variant) for j in range(cols - w + 1)], 1)
            for i in range(rows - h + 1)
        ],
        1,
    )
    return out


def _fcn_hint(got, features, denses, h, w, kinds=()):
    """What the learner's output on the model's own input size matches, among the usual mistakes."""
    if kinds & {"GlobalAveragePooling", "GlobalMaxPooling"}:
        return _(
            "the first Dense layer gives every position of the h×w map its own weights: a Conv2D(units, (h, w)) "
            "keeps them, a global pooling averages the positions away"
        )
    variants = [
        (
            {"order": "chw"},
            _(
                "Flatten reads the map row by row with the channels fastest: reshape the kernel to "
                "(h, w, c, units) directly, not (c, h, w, units)"
            ),
        ),
        ({"order": "whc"}, _("rows come first: reshape the kernel to (h, w, c, units), not (w, h, c, units)")),
        ({"bias": False}, _("copy each Dense layer's bias too: set_weights([kernel reshaped, bias])")),
        ({"first_relu": False}, _("keep each hidden layer's ReLU: Conv2D(units, (h, w), activation='relu')")),
        ({"softmax": False}, _("end with a softmax over the classes (the channel axis, the last one)")),
    ]
    for variant, hint in variants:
        if got.shape[-1] == denses[-1][1].shape[0] and np.allclose(
            got.reshape(len(got), -1), dense_head(features, denses, **variant), atol=1e-4
        ):
            return hint
    if np.allclose(got, 1.0, atol=1e-5):
        return _("the softmax runs over the classes, the last axis: a softmax over a 1×1 axis gives 1 everywhere")
    return _(
        "copy each Dense layer's weights into its convolution: kernel.reshape(h, w, c, units) for the first, "
        "(1, 1, n_in, units) for the others, and the biases"
    )


def _fcn_shape_hint(got_shape, expected_shape, h, w):
    if len(got_shape) == 2:
        return _("the result should be a map (N, rows, cols, classes): replace Flatten and every Dense by convolutions")
    if tuple(got_shape[1:3]) == (h, w) and expected_shape[1:3] == (1, 1):
        return _("the first convolution's kernel covers the whole h×w map with padding='valid', leaving one position")
    if len(got_shape) == 4 and got_shape[1] * got_shape[2] > expected_shape[1] * expected_shape[2]:
        return _("the map comes out too large: apply every layer before Flatten, the poolings too, in order")
    return _("Conv2D(units, (h, w), padding='valid') for the first Dense layer, 1×1 convolutions for the others")


def fully_convolutional(fn):
    """Task 6: Flatten + Dense layers as an h×w convolution and 1×1 convolutions, with the same weights."""
    import keras
    from keras import layers

    with Task(6, "fully_convolutional") as t:
        t.function(fn, "fully_convolutional")
        for case, (shape, blocks, hidden, n_classes) in enumerate(FCN_CASES):
            model = classifier_model(shape, blocks, hidden, n_classes, seed=case)
            h, w, c = model.get_layer("flatten").input.shape[1:]
            denses = [
                tuple(np.asarray(v, dtype="float64") for v in layer.weights)
                for layer in model.layers
                if isinstance(layer, layers.Dense)
            ]
            what = _("fully_convolutional(model) for a {image} classifier ({last} last map)").format(
                image="×".join(map(str, shape)), last=f"{h}×{w}×{c}"
            )
            result = t.keras_model(t.call(fn, (model,), what=what), what)
            t.equal(
                _("{what}: input shape").format(what=what),
                tuple(result.inputs[0].shape[1:]),
                (None, None, shape[2]),
                _("keras.Input((None, None, {channels})): the convolutions take images of any height and width").format(
                    channels=shape[2]
                ),
            )
            rng = np.random.default_rng(10 + case)
            stride = 2 ** len(blocks)
            inputs = keras.Input((None, None, shape[2]))
            x = inputs
            for layer in model.layers[1:]:
                if isinstance(layer, layers.Flatten):
                    break
                x = layer(x)
            base = keras.Model(inputs, x)
            for own_size, size in [(True, shape[:2]), (False, (shape[0] + 2 * stride, shape[1] + 3 * stride))]:
                label = _("an image of the model's own size") if own_size else _("a larger image")
                shown = f"{size[0]}×{size[1]}"
                images = rng.uniform(-1, 1, (3, *size, shape[2])).astype("float32")
                features = np.asarray(base(images), dtype="float64")
                expected = dense_map(features, denses, h, w)
                if own_size:
                    assert np.allclose(expected[:, 0, 0], np.asarray(model(images)), atol=1e-5)
                try:
                    got = np.asarray(result(images), dtype="float64")
                except Exception as err:
                    t.fail(
                        _("{what}: on {image} ({size}) it raised {error}").format(
                            what=what, image=label, size=shown, error=type(err).__name__
                        ),
                        got=first_line(err),
                        hint=_fcn_shape_hint((0,), expected.shape, h, w),
                    )
                if got.shape != expected.shape:
                    t.fail(
                        _("{what}: output shape on {image} ({size})").format(what=what, image=label, size=shown),
                        expected.shape,
                        got.shape,
                        _fcn_shape_hint(got.shape, expected.shape, h, w),
                    )
                window = features[:, :h, :w]
                hint = _fcn_hint(got[:, :1, :1], window, denses, h, w, {s.kind for s in steps(result)})
                t.close(
                    _("{what}: outputs on {image} ({size})").format(what=what, image=label, size=shown),
                    got,
                    expected,
                    hint,
                    atol=1e-4,
                )

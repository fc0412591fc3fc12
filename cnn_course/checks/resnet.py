"""Checks for unit 07 (ResNet): the shortcuts (options B and A), the basic and bottleneck blocks (v1 and the
full pre-activation v2), ResNet-50 and its v2, a small ResNet and the parameter drill.

Blocks and models are compared with a reference built from the task's
specification (``cnn_course.checks.compare``): same random weights, same random
inputs, same outputs, in inference and training mode, in several configurations
chosen so that coincidences cannot hold (odd channel counts, non-square inputs,
stride 1 and 2, identity and projection shortcuts). Branches are read in an
order that does not depend on how the learner wrote them (``canonical_steps``).
What the task leaves free is read from the learner's model first: conv biases
(compared as zero, since BN follows each conv), the bottleneck's stride on the
1×1 (v1) or the 3×3 conv (v1.5), and the stem's padding (``padding="same"`` or
Keras's ``ZeroPadding2D``). The hints explain the first step that differs.
The parameter drill compares with the formula. No check carries a copy of the
solution's code.

Older copies of the exercise keep working: ``shortcut``, ``basic_block``,
``bottleneck_block``, ``resnet50`` and ``bottleneck_block_params`` check what
that exercise asked (v1 only) unless the learner's function has the ``version``
parameter of the current one; ``shortcut`` with a second answer checks the basic
block in the same task, as the current Task 1 asks.
"""

import functools

import numpy as np

from cnn_course.checks import CheckFailed, Task, probe_model, refuse_applications
from cnn_course.checks.compare import (
    add,
    bn,
    canonical_steps,
    chain,
    compare_with_reference,
    conv,
    dense,
    first_difference,
    gap,
    max_pool,
    reference_model,
    relu,
    softmax,
    zero_pad,
)
from cnn_course.i18n import N_, _

RESNET50 = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))
SMALL = ((16, 2, 1), (32, 2, 2), (64, 2, 2))  # the digits' ResNet of Task 5
JOIN_HINT = N_(
    "the two inputs of the addition must have the same shape: when the stride or the number of channels "
    "changes, the shortcut needs a projection (1×1 conv with the block's stride, then BN); and padding='same' "
    "on the 3×3 convs keeps the branch's size"
)
RELU_TOO_MANY = N_(
    "a ReLU too many (is it before the add?): the branch ends with BN, the shortcut has none; only the sum has one"
)
WIRING_HINT = N_(
    "the layers match the task, but not their wiring: the shortcut starts from the block's input x "
    "(x itself or its projection), and the addition joins it with the branch's last BN"
)


# -- what the descriptions imply -----------------------------------------------------
def conv_bn_params(k, c_in, c_out, bias=True):
    """A k×k convolution (with or without bias) and a BN layer, as count_params() counts them."""
    return k * k * c_in * c_out + bias * c_out + 4 * c_out


def needs_projection(c_in, c_out, stride):
    return c_in != c_out or stride != 1


def basic_params(c_in, filters, stride, bias=True):
    total = conv_bn_params(3, c_in, filters, bias) + conv_bn_params(3, filters, filters, bias)
    return total + needs_projection(c_in, filters, stride) * conv_bn_params(1, c_in, filters, bias)


def bottleneck_params(c_in, filters, stride, bias=True, expansion=4, projection=None):
    """Parameters of a bottleneck block; `projection` None means "when the shapes differ"."""
    c_out = expansion * filters
    total = conv_bn_params(1, c_in, filters, bias) + conv_bn_params(3, filters, filters, bias)
    total += conv_bn_params(1, filters, c_out, bias)
    if projection is None:
        projection = needs_projection(c_in, c_out, stride)
    return total + projection * conv_bn_params(1, c_in, c_out, bias)


def resnet_params(config, block, n_class, in_channels, stem, bias=True):
    """Parameters of a ResNet from (filters, blocks, stride) per stage; `stem` is (kernel, filters)."""
    kernel, c = stem
    total = conv_bn_params(kernel, in_channels, c, bias)
    for filters, blocks, stride in config:
        for i in range(blocks):
            s = stride if i == 0 else 1
            if block == "basic":
                total += basic_params(c, filters, s, bias)
                c = filters
            else:
                total += bottleneck_params(c, filters, s, bias)
                c = 4 * filters
    return total + c * n_class + n_class


# -- the references, from the specifications -------------------------------------------
def shortcut_spec(c_in, channels, stride):
    """The identity when the shape is kept, else 1×1 conv with the stride → BN."""
    return chain(conv(1, channels, stride), bn()) if needs_projection(c_in, channels, stride) else chain()


def basic_spec(c_in, filters, stride):
    branch = chain(conv(3, filters, stride), bn(), relu(), conv(3, filters), bn())
    return chain(add(branch, shortcut_spec(c_in, filters, stride)), relu())


def bottleneck_spec(c_in, filters, stride, v15=False):
    """The stride on the first 1×1 conv (v1) or on the 3×3 conv (v1.5)."""
    s1, s3 = (1, stride) if v15 else (stride, 1)
    branch = chain(conv(1, filters, s1), bn(), relu(), conv(3, filters, s3), bn(), relu(), conv(1, 4 * filters), bn())
    return chain(add(branch, shortcut_spec(c_in, 4 * filters, stride)), relu())


def preact_spec(c_in, filters, stride):
    """Full pre-activation bottleneck (v2): BN → ReLU on x, then 1×1 → BN → ReLU → 3×3 (stride) → BN → ReLU → 1×1
    to 4·filters; plus x itself, or a 1×1 projection (stride) of the pre-activated x; no ReLU after the sum."""

    def apply(x):
        from keras import layers

        pre = chain(bn(), relu())(x)
        branch = chain(conv(1, filters), bn(), relu(), conv(3, filters, stride), bn(), relu(), conv(1, 4 * filters))(
            pre
        )
        if needs_projection(c_in, 4 * filters, stride):
            return layers.Add()([branch, conv(1, 4 * filters, stride)(pre)])
        return layers.Add()([branch, x])

    return apply


def network_v2_spec(stem, config, n_class):
    """Stem (conv and pool only), stages of v2 bottlenecks, then BN → ReLU → GAP → Dense → softmax."""
    parts, c = [stem], 64
    for filters, blocks, stride in config:
        for i in range(blocks):
            parts.append(preact_spec(c, filters, stride if i == 0 else 1))
            c = 4 * filters
    return chain(*parts, bn(), relu(), gap(), dense(n_class), softmax())


def network_spec(stem, config, block, c, n_class, v15=False):
    """Stem, stages of blocks (only the first of a stage strided), then GAP → Dense → softmax."""
    parts = [stem]
    for filters, blocks, stride in config:
        for i in range(blocks):
            s = stride if i == 0 else 1
            if block == "basic":
                parts.append(basic_spec(c, filters, s))
                c = filters
            else:
                parts.append(bottleneck_spec(c, filters, s, v15))
                c = 4 * filters
    return chain(*parts, gap(), dense(n_class), softmax())


def imagenet_stem(keras_conv_padding=False, keras_pool_padding=False, preact=False):
    """7×7/2 conv with 64 filters → BN → ReLU → 3×3/2 max pooling, padded either way the task allows.

    `preact`: the v2 network's stem, conv and pool only (the first block's pre-activation follows).
    """
    first = chain(zero_pad(3), conv(7, 64, 2, "valid")) if keras_conv_padding else conv(7, 64, 2)
    pool = chain(zero_pad(1), max_pool(3, 2)) if keras_pool_padding else max_pool(3, 2, "same")
    return chain(first, pool) if preact else chain(first, bn(), relu(), pool)


@functools.cache
def reference(name, config, input_shape, choices=()):
    """The reference model of a task in one configuration, built once per process."""
    from keras import layers

    if name == "shortcut":
        spec = chain(shortcut_spec(input_shape[-1], *config), lambda x: layers.Identity()(x))  # Keras 3.10
    elif name == "basic_block":
        spec = basic_spec(input_shape[-1], *config)
    elif name == "bottleneck_block":
        spec = bottleneck_spec(input_shape[-1], *config, *choices[:1])
    elif name == "preact_block":
        spec = preact_spec(input_shape[-1], *config)
    elif name == "resnet_v2":
        _v15, *paddings = choices
        spec = network_v2_spec(imagenet_stem(*paddings, preact=True), config[0], config[1])
    elif name == "resnet":
        v15, *paddings = choices
        spec = network_spec(imagenet_stem(*paddings), config[0], "bottleneck", 64, config[1], v15)
    else:  # small_resnet
        stem = chain(conv(3, 16, 2), bn(), relu())
        spec = network_spec(stem, SMALL, "basic", 16, config[0])
    return reference_model(spec, input_shape)


def read(model):
    """The model's steps in canonical order, with the conv biases left out (and set to 0).

    BN follows every convolution, so the task leaves the bias free: the comparison
    runs with zero biases on both sides.
    """
    found = canonical_steps(model)
    for step in found:
        if step.kind == "Conv2D":
            step.settings.pop("bias", None)
            for role, variable, _shape in step.weights:
                if role == "bias":
                    variable.assign(np.zeros(variable.shape, variable.dtype))
            step.weights = [w for w in step.weights if w[0] != "bias"]
    return found


def _choices(model, bottleneck=True, stem=False):
    """What the task leaves free, as the learner chose it: v1.5 stride, Keras's stem padding."""
    found = canonical_steps(model)
    v15 = bottleneck and any(
        s.kind == "Conv2D" and s.settings["kernel"] == (3, 3) and s.settings["strides"] != (1, 1) for s in found
    )
    if not stem:
        return (v15,)
    pool = next((i for i, s in enumerate(found) if s.kind == "MaxPooling"), 0)
    return v15, bool(found) and found[0].kind == "Pad", pool > 0 and found[pool - 1].kind == "Pad"


# -- hints for the usual mistakes, from the first step that differs ---------------------
def _conv_hint(e, g):
    es, gs = e.settings, g.settings
    if es["kernel"] == (3, 3) and gs["kernel"] == (1, 1) and gs["strides"] != (1, 1):
        return _("a projection too many: only the first block of a stage has the stride (the others keep the shape)")
    if "dilation" in gs:
        return _("the convolutions are not dilated: remove dilation_rate")
    if es["kernel"] != gs["kernel"]:
        return _(
            "check the kernel sizes: stem 7×7 (digits 3×3); basic 3×3, 3×3; bottleneck 1×1, 3×3, 1×1; projection 1×1"
        )
    if es["strides"] != gs["strides"]:
        return _(
            "the stride goes on the first conv of the branch (bottleneck: on the first 1×1 or on the 3×3, "
            "never on the last 1×1), and on the projection's 1×1 conv; only the first block of a stage has it"
        )
    if es["padding"] != gs["padding"]:
        return _("padding='same' on the 3×3 convolutions keeps height and width")
    if es.get("filters") != gs.get("filters"):
        return _("check the number of filters: the bottleneck's last 1×1 conv expands to 4·filters")
    return None


def _step_hint(e, g):
    if e is None and g is not None and g.kind in ("Conv2D", "BatchNormalization"):
        return _(
            "a projection where the identity suffices: input and output have the same shape, so the shortcut "
            "is x itself (the paper's option B); projecting every shortcut (option C) adds parameters"
        )
    if e is None or g is None:
        if e is not None and e.kind == "ReLU":
            return _(
                "a ReLU is missing: one after each BN inside the branch (but the last), and one after the addition"
            )
        if e is not None and e.kind == "Softmax":
            return _("end with a softmax over the classes")
        if e is not None and e.kind == "Conv2D":
            return _("the shape changes here: the shortcut needs a projection (1×1 conv with the stride, then BN)")
        if g is not None and g.kind == "ReLU":
            return _(RELU_TOO_MANY)
        return None
    kinds = (e.kind, g.kind)
    if kinds == ("Add", "Concatenate"):
        return _("a residual block adds (layers.Add or +); concatenating is DenseNet's way (unit 09)")
    if kinds == ("Add", "ReLU"):
        return _("your ReLU comes before the add: the branch ends with BN, and the ReLU follows the addition")
    if kinds == ("BatchNormalization", "Add"):
        return _("add the shortcut to the output of the branch's last BN, not to the convolution's output")
    if kinds == ("Conv2D", "BatchNormalization"):
        return _("batch normalisation follows the convolution: conv → BN")
    if kinds == ("BatchNormalization", "Conv2D"):
        return _("a BatchNormalization layer follows each convolution")
    if kinds == ("BatchNormalization", "ReLU"):
        return _("batch normalisation comes right after each convolution, before the ReLU")
    if kinds == ("BatchNormalization", "BatchNormalization"):
        if g.settings.get("center") is False:
            return _("keep BN's β (center=True): without a conv bias it is the layer's only shift")
        return _("normalise over the channels: keep BatchNormalization's default axis=-1 and its other defaults")
    if e.kind == "ReLU" and g.kind != "ReLU":
        return _("a ReLU is missing: one after each BN inside the branch (but the last), and one after the addition")
    if g.kind == "Pad":
        return _("padding='same' on the convolutions instead of zero padding added elsewhere")
    if kinds == ("Conv2D", "Conv2D"):
        return _conv_hint(e, g)
    if g.kind in ("AveragePooling", "MaxPooling") and e.kind == "Conv2D":
        return _("no pooling here: the projection's 1×1 conv itself has strides=stride")
    if kinds == ("MaxPooling", "AveragePooling"):
        return _("the stem ends with 3×3 max pooling, stride 2")
    if kinds == ("GlobalAveragePooling", "GlobalMaxPooling"):
        return _("the head uses global average pooling, not max pooling")
    if e.kind == "MaxPooling":
        return _("the stem ends with 3×3 max pooling, stride 2")
    if kinds == ("Dense", "Dense"):
        return _("global average pooling before the Dense layer (not Flatten), and n_class units")
    if e.kind == "GlobalAveragePooling":
        return _("the head is global average pooling, then one Dense layer with softmax")
    if e.kind == "Softmax":
        return _("end with a softmax over the classes")
    if g.kind == "ReLU":
        return _(RELU_TOO_MANY)
    return None


def _compare(t, model, ref, what, shape_hint):
    """The engine's comparison; when it fails on a model without the addition, say that first."""
    try:
        compare_with_reference(t, model, ref, what, _step_hint, shape_hint, _(WIRING_HINT), read=read)
    except CheckFailed:
        joins = {s.kind for s in canonical_steps(model)} & {"Add", "Concatenate"}
        if not joins and any(s.kind == "Add" for s in canonical_steps(ref)):
            t.fail(
                _("{what}: there is no addition").format(what=what),
                _("F(x) + x: the branch's output added to the shortcut (layers.Add() or +)"),
                _("a plain chain of layers"),
                _("a residual block adds its input (the shortcut) to its branch's output; without it, it is plain"),
            )
        if joins == {"Concatenate"}:
            t.fail(
                _("{what}: the shortcut is joined with Concatenate").format(what=what),
                _("Add (or +): H(x) = F(x) + x"),
                "Concatenate",
                _("a residual block adds; concatenating is DenseNet's way (unit 09)"),
            )
        raise


STAGES_ADVICE = N_("build the stem, the stages and the head yourself, from your blocks of the earlier tasks")


# -- the tasks -------------------------------------------------------------------------
def _output_apart_from_input(build):
    """`build`, with an Identity layer (skipped by the comparison) after an output that is the input itself.

    ``return x`` is the right identity shortcut, but Keras 3.10 builds no model whose
    output is its input ("`inputs` not connected to `outputs`"); Keras 3.15 does.
    """

    def wrapped(x):
        from keras import layers

        output = build(x)
        return layers.Identity()(output) if output is x else output

    return wrapped


def _on_input(call, size, channels):
    """What a block is checked as: its call on an input of this size."""
    return _("{call} on a {height}×{width}×{channels} input").format(
        call=call, height=size[0], width=size[1], channels=channels
    )


def _size(size, stride):
    return tuple(-(-s // stride) for s in size)


def shortcut(fn, basic_block=None):
    """Task 1: the identity when the shapes match, else a 1×1 projection with the stride, then BN.

    With ``basic_block`` too (the current exercise), the basic block is checked in the same task.
    """
    _shortcut(fn)
    if basic_block is not None:
        _basic_block(1, basic_block)


def _shortcut(fn):
    with Task(1, "shortcut") as t:
        t.function(fn, "shortcut")
        configs = [(5, 5, 1, (7, 9)), (5, 7, 1, (6, 5)), (7, 7, 2, (7, 9)), (3, 8, 2, (9, 6))]
        for c_in, channels, stride, size in configs:
            call = f"shortcut(x, channels={channels}, stride={stride})"  # not a message
            what = _on_input(call, size, c_in)
            build = _output_apart_from_input(lambda x, c=channels, s=stride: fn(x, c, s))
            model = probe_model(t, build, (*size, c_in), what)

            def shape_hint(got, c_in=c_in, size=size, channels=channels, model=model):
                if got == (*size, c_in) and not any(s.kind == "Conv2D" for s in canonical_steps(model)):
                    return _("when the shape changes, the shortcut must be projected to it")
                if got[-1] != channels:
                    return _("the projection has `channels` filters")
                return _("the projection's 1×1 conv has the block's stride: strides=stride")

            _compare(t, model, reference("shortcut", (channels, stride), (*size, c_in)), what, shape_hint)


def _block_shape_hint(filters, stride, size, expansion):
    def hint(got):
        if got[-1] != expansion * filters:
            return (
                _("the last 1×1 conv expands to 4·filters channels") if expansion == 4 else _("use `filters` filters")
            )
        if got[:2] != _size(size, stride):
            return _("padding='same' on the 3×3 convs; the stride on one conv of the branch and on the projection")
        return None

    return hint


def _check_block(t, fn, name, configs, expansion, shown=""):
    for c_in, filters, stride, size in configs:
        call = f"{name}(x, filters={filters}, stride={stride}{shown})"  # not a message
        what = _on_input(call, size, c_in)
        model = probe_model(t, lambda x, f=filters, s=stride: fn(x, f, s), (*size, c_in), what, hint=_(JOIN_HINT))
        choices = _choices(model) if expansion == 4 else ()
        ref = reference(name, (filters, stride), (*size, c_in), choices)
        _compare(t, model, ref, what, _block_shape_hint(filters, stride, size, expansion))


def basic_block(fn):
    """An older exercise's Task 2: the basic residual block (v1); the current one checks it in Task 1."""
    _basic_block(2, fn)


def _basic_block(number, fn):
    with Task(number, "basic_block") as t:
        t.function(fn, "basic_block")
        configs = [(5, 5, 1, (7, 9)), (4, 7, 1, (5, 7)), (6, 6, 2, (8, 7)), (5, 7, 2, (9, 6))]
        _check_block(t, fn, "basic_block", configs, 1)


def bottleneck_block(fn):
    """Task 3: the bottleneck residual block; the stride on the first 1×1 conv (v1) or on the 3×3 conv (v1.5).

    With a ``version`` parameter (the current exercise), version=2 is the full pre-activation block, checked too.
    """
    with Task(3, "bottleneck_block") as t:
        t.function(fn, "bottleneck_block")
        current = _takes(fn, "version")
        configs = [(12, 3, 1, (7, 9)), (5, 3, 1, (6, 7)), (12, 3, 2, (9, 6)), (6, 2, 2, (7, 8))]
        block = (lambda x, f, s, **k: fn(x, f, s, version=1, **k)) if current else fn
        if current:
            _check_block(t, block, "bottleneck_block", configs[::2], 4, ", version=1")
        else:
            _check_block(t, block, "bottleneck_block", configs, 4)
        if current:
            _check_preact(t, fn, [(12, 3, 1, (7, 9)), (5, 3, 1, (6, 7)), (6, 2, 2, (7, 8))])


def _takes(fn, parameter):
    """Whether the learner's function has a parameter of this name (the current version of a task)."""
    import inspect

    try:
        return parameter in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _preact_hint(e, g):
    """Hints for the full pre-activation (v2) block and network, then the v1 ones."""
    if e is not None and g is not None:
        kinds = (e.kind, g.kind)
        if kinds == ("BatchNormalization", "Conv2D") and g.settings["strides"] != (1, 1):
            return _("only the first block of a stage has the stride (on its 3×3 conv and its projection)")
        if kinds == ("BatchNormalization", "ReLU"):
            return _(
                "no ReLU after the addition in the v2 block: the sum goes on unchanged (the next block's BN follows)"
            )
        if kinds == ("BatchNormalization", "Conv2D"):
            return _("full pre-activation: BN → ReLU come before each convolution (the block starts with them on x)")
        if kinds == ("Conv2D", "BatchNormalization"):
            if g.shapes()[0][1][-1] == e.shapes()[0][1][2]:  # a BN on the channels this conv reads
                return _(
                    "a BN → ReLU too many: the v2 stem is the 7×7 conv and the max pool alone (each block has its own)"
                )
            return _("in the v2 block the branch ends with its last 1×1 conv and the projection is a conv alone: no BN")
        if kinds == ("Conv2D", "Conv2D") and e.settings["strides"] != g.settings["strides"]:
            return _("in the v2 block the stride goes on the 3×3 conv (and on the projection), not on the first 1×1")
        if kinds == ("Add", "ReLU") or kinds == ("Conv2D", "ReLU"):
            return _(
                "no ReLU after the addition in the v2 block: the sum goes on unchanged (the next block's BN follows)"
            )
    if g is not None and g.kind == "ReLU" and (e is None or e.kind in ("Add", "GlobalAveragePooling")):
        return _("no ReLU after the addition in the v2 block: the sum goes on unchanged (the next block's BN follows)")
    if e is None and g is not None and g.kind == "BatchNormalization":
        return _("in the v2 block the branch ends with its last 1×1 conv and the projection is a conv alone: no BN")
    if e is not None and e.kind == "BatchNormalization" and (g is None or g.kind in ("GlobalAveragePooling", "Add")):
        return _("the v2 network ends with BN → ReLU after the last block, before global average pooling")
    return _step_hint(e, g)


PREACT_WIRING = N_(
    "the layers match, but not their wiring: the branch and a projection read the pre-activated x (after the "
    "first BN → ReLU); an identity shortcut is x itself, before them"
)


def _check_preact(t, fn, configs):
    for c_in, filters, stride, size in configs:
        call = f"bottleneck_block(x, filters={filters}, stride={stride}, version=2)"  # not a message
        what = _on_input(call, size, c_in)
        build = lambda x, f=filters, s=stride: fn(x, f, s, version=2)  # noqa: E731
        model = probe_model(t, build, (*size, c_in), what, hint=_(JOIN_HINT))
        ref = reference("preact_block", (filters, stride), (*size, c_in))
        compare_with_reference(
            t,
            model,
            ref,
            what,
            _preact_hint,
            _block_shape_hint(filters, stride, size, 4),
            _(PREACT_WIRING),
            read=read,
        )


def _network_shape_hint(n_class):
    return lambda got: _("use n_class for the last Dense layer") if got != (n_class,) else None


def _same_steps(t, model, ref, what):
    """Shapes, then the steps one by one (for ResNet-50, whose outputs would take too long to compare)."""
    for label, got, expected in [
        (_("{what}: input shape").format(what=what), model.inputs, ref.inputs),
        (_("{what}: output shape").format(what=what), model.outputs, ref.outputs),
    ]:
        t.equal(label, tuple(got[0].shape[1:]), tuple(expected[0].shape[1:]), _("keep the defaults"))
    found = first_difference(read(ref), read(model))
    if found:
        i, e, g = found
        t.fail(
            _("{what}: step {number}").format(what=what, number=i + 1),
            e or _("nothing"),
            g or _("nothing"),
            _step_hint(e, g) or _("compare with the task"),
        )
    t.passed += 1


def resnet50(fn):
    """Task 4: ResNet from a configuration: two small ones compared by their outputs, then ResNet-50's steps.

    With a ``version`` parameter (the current exercise), two small v2 networks are compared too.
    """
    with Task(4, "resnet") as t:
        t.function(fn, "resnet")
        refuse_applications(t, fn, "resnet", _(STAGES_ADVICE))
        if _takes(fn, "version"):
            for config, n_class, shape in [(((3, 1, 1), (5, 2, 2)), 5, (36, 42, 3)), (((2, 1, 2),), 3, (37, 44, 1))]:
                what = f"resnet({config}, n_class={n_class}, input_shape={shape}, version=2)"  # not a message
                kwargs = {"config": config, "n_class": n_class, "input_shape": shape, "version": 2}
                model = t.keras_model(t.call(fn, kwargs=kwargs, what=what, hint=_(JOIN_HINT)), what)
                ref = reference("resnet_v2", (config, n_class), shape, _choices(model, stem=True))
                compare_with_reference(
                    t, model, ref, what, _preact_hint, _network_shape_hint(n_class), _(PREACT_WIRING), read=read
                )
        v1_configs = [
            (((3, 1, 1), (5, 2, 2)), 5, (40, 56, 3)),
            (((2, 2, 1), (3, 1, 2), (2, 1, 2)), 3, (37, 44, 1)),
            (RESNET50, 1000, None),
        ]
        for config, n_class, shape in v1_configs[1:] if _takes(fn, "version") else v1_configs:
            kwargs = {"config": config} if shape is None else {"config": config, "n_class": n_class}
            kwargs.update({} if shape is None else {"input_shape": shape})
            if shape is None:
                what = "resnet(RESNET50)"
            else:
                what = f"resnet({config}, n_class={n_class}, input_shape={shape})"  # not a message
            model = t.keras_model(t.call(fn, kwargs=kwargs, what=what, hint=_(JOIN_HINT)), what)
            ref = reference("resnet", (config, n_class), shape or (224, 224, 3), _choices(model, stem=True))
            if shape is None:
                _same_steps(t, model, ref, what)
            else:
                _compare(t, model, ref, what, _network_shape_hint(n_class))


def small_resnet(fn):
    """Task 5: a small ResNet of basic blocks for the 28×28×1 digits."""
    with Task(5, "small_resnet") as t:
        t.function(fn, "small_resnet")
        refuse_applications(t, fn, "small_resnet", _(STAGES_ADVICE))
        for n_class in (10, 3):
            what = f"small_resnet(n_class={n_class})"
            model = t.keras_model(t.call(fn, (n_class,), what=what, hint=_(JOIN_HINT)), what)
            _compare(t, model, reference("small_resnet", (n_class,), (28, 28, 1)), what, _network_shape_hint(n_class))


def preact_params(c_in, filters, stride, bias=True, first_bn=True, projection=None, bn_per_channel=4):
    """Parameters of a full pre-activation (v2) bottleneck block; the keywords make the usual slips."""
    c_out = 4 * filters
    total = first_bn * bn_per_channel * c_in + (c_in * filters + bias * filters) + bn_per_channel * filters
    total += (9 * filters * filters + bias * filters) + bn_per_channel * filters + (filters * c_out + bias * c_out)
    if projection is None:
        projection = needs_projection(c_in, c_out, stride)
    return total + projection * (c_in * c_out + bias * c_out)


def _check_preact_params(t, fn):
    configs = [(256, 64, 1), (64, 64, 1), (256, 128, 2), (64, 16, 2), (1024, 512, 2), (5, 3, 1)]
    for c_in, filters, stride in configs:
        what = f"bottleneck_block_params({c_in}, {filters}, stride={stride}, version=2)"  # not a message
        got = t.call(fn, (c_in, filters, stride), {"version": 2}, what=what)
        t.value(got, what, (int, np.integer))
        expected = preact_params(c_in, filters, stride)
        projection = needs_projection(c_in, 4 * filters, stride)
        no_last_bn = _(
            "no BN after the v2 block's last 1×1 conv, nor after its projection: the next block's BN follows"
        )
        hints = {
            bottleneck_params(c_in, filters, stride): _("version=2 is the pre-activation block: count its own layers"),
            preact_params(c_in, filters, stride, bias=False): _("count the biases of the convolutions"),
            preact_params(c_in, filters, stride, first_bn=False): _(
                "the v2 block starts with a BN on its input: 4·c_in numbers"
            ),
            preact_params(c_in, filters, stride, projection=not projection): _(
                "a projection only when the shapes differ (channels ≠ 4·filters or stride ≠ 1)"
            ),
            preact_params(c_in, filters, stride) + 4 * 4 * filters: no_last_bn,
            preact_params(c_in, filters, stride) + (1 + projection) * 4 * 4 * filters: no_last_bn,
            preact_params(c_in, filters, stride, bn_per_channel=2): _(
                "Keras counts 4 numbers per channel of batch normalisation: γ, β and the moving mean and variance"
            ),
        }
        hints.pop(expected, None)
        t.equal(what, int(got), expected, hints.get(int(got)))


def bottleneck_block_params(fn):
    """Task 6: the parameter count of a bottleneck block, as a formula; with ``version``, of the v2 block too."""
    with Task(6, "bottleneck_block_params") as t:
        t.function(fn, "bottleneck_block_params")
        if _takes(fn, "version"):
            _check_preact_params(t, fn)
            fn = functools.partial(fn, version=1)
        configs = [(256, 64, 1), (64, 64, 1), (256, 128, 2), (64, 16, 2), (512, 128, 1), (1024, 512, 2), (5, 3, 1)]
        for c_in, filters, stride in configs:
            what = f"bottleneck_block_params({c_in}, {filters}, stride={stride})"  # not a message
            got = t.call(fn, (c_in, filters, stride), what=what)
            t.value(got, what, (int, np.integer))
            expected = bottleneck_params(c_in, filters, stride)
            projection = needs_projection(c_in, 4 * filters, stride)
            if projection is False:
                projection_hint = _("a projection only when the shapes differ (channels ≠ 4·filters or stride ≠ 1)")
            else:
                projection_hint = _(
                    "the input has a different shape from the output here: add the projection's 1×1 conv and BN"
                )
            hints = {
                bottleneck_params(c_in, filters, stride, bias=False): _("count the biases of the convolutions"),
                expected - 2 * (filters + filters + 4 * filters + projection * 4 * filters): _(
                    "Keras counts 4 numbers per channel of batch normalisation: γ, β and the moving mean and variance"
                ),
                expected - 4 * (filters + filters + 4 * filters + projection * 4 * filters): _(
                    "each convolution is followed by a BN layer with 4 numbers per channel"
                ),
                bottleneck_params(c_in, filters, stride, projection=not projection): projection_hint,
                bottleneck_params(c_in, filters, stride, expansion=1): _("the last 1×1 conv expands to 4·filters"),
            }
            hints.pop(expected, None)
            t.equal(what, int(got), expected, hints.get(int(got)))


def _option_a(x, channels, stride):
    """NumPy: every stride-th row and column of x from the first, then zeros for the channels beyond x's."""
    y = x[:, ::stride, ::stride, :]
    return np.concatenate([y, np.zeros((*y.shape[:3], channels - y.shape[-1]), y.dtype)], axis=-1)


def _option_a_slips(x, channels, stride):
    """(output, hint) of the usual mistakes, for the hint that matches what came back."""
    c_in = x.shape[-1]
    pad = channels - c_in
    y = x[:, ::stride, ::stride, :]
    zeros = np.zeros((*y.shape[:3], pad), y.dtype)
    slips = [
        (np.concatenate([zeros, y], axis=-1), _("x's channels come first, the zeros after them")),
        (
            np.concatenate([zeros[..., : pad // 2], y, zeros[..., pad // 2 :]], axis=-1),
            _("x's channels come first, the zeros after them (not on both sides)"),
        ),
    ]
    if stride == 2:
        from keras import layers

        pools = [
            (layers.MaxPooling2D, _("no max pooling: keep every second pixel")),
            (layers.AveragePooling2D, _("no average pooling: keep every second pixel")),
        ]
        for pool, hint in pools:
            for padding in ("same", "valid"):
                pooled = np.asarray(pool(2, strides=2, padding=padding)(x))
                if pooled.shape[1:3] == y.shape[1:3]:
                    slips.append((np.concatenate([pooled, zeros], axis=-1), hint))
        shifted = x[:, 1::2, 1::2, :]
        if shifted.shape[1:3] == y.shape[1:3]:
            slips.append(
                (np.concatenate([shifted, zeros], axis=-1), _("keep the rows and columns 0, 2, 4, … (from the first)"))
            )
    if pad and c_in <= pad:
        repeat = np.concatenate([y, np.tile(y, (1, 1, 1, pad // c_in + 1))[..., :pad]], axis=-1)
        slips.append((repeat, _("the new channels are zeros, not copies of x's channels")))
    if pad:
        slips.append((np.concatenate([y, np.ones_like(zeros)], axis=-1), _("the new channels are zeros")))
    return slips


def shortcut_a(fn):
    """Task 2: the parameter-free shortcut (option A): subsample by the stride, pad the channels with zeros."""
    with Task(2, "shortcut_a") as t:
        t.function(fn, "shortcut_a")
        configs = [(5, 5, 1, (7, 9)), (3, 7, 2, (7, 9)), (4, 4, 2, (8, 6)), (5, 8, 1, (6, 5)), (2, 6, 2, (9, 6))]
        rng = np.random.default_rng(0)
        for c_in, channels, stride, size in configs:
            call = f"shortcut_a(x, channels={channels}, stride={stride})"  # not a message
            what = _on_input(call, size, c_in)
            build = _output_apart_from_input(lambda x, c=channels, s=stride: fn(x, c, s))
            model = probe_model(
                t,
                build,
                (*size, c_in),
                what,
                hint=lambda err: (
                    _("pad the channel axis (the last one) only, after x's channels")
                    if "pad" in str(err).lower()
                    else None
                ),
            )
            t.expect(
                model.count_params() == 0,
                _("{what}: parameters").format(what=what),
                0,
                model.count_params(),
                _("option A has no weights: no convolution, no BN; subsample and pad with zeros"),
            )
            x = rng.normal(size=(2, *size, c_in)).astype("float32")
            got = np.asarray(model(x, training=False))
            want = _option_a(x, channels, stride)
            if got.shape != want.shape:
                if got.shape[1:3] != want.shape[1:3]:
                    hint = _(
                        "subsample with the stride: keep every stride-th row and column "
                        "(MaxPooling2D(1, strides=stride))"
                    )
                else:
                    hint = _("pad the channels with zeros up to `channels`")
                t.fail(_("{what}: output shape").format(what=what), want.shape[1:], got.shape[1:], hint)
            hint = next(
                (
                    h
                    for out, h in _option_a_slips(x, channels, stride)
                    if out.shape == got.shape and np.allclose(out, got)
                ),
                _("every stride-th row and column of x from the first, then zeros for the channels beyond x's"),
            )
            t.close(_("{what}: output").format(what=what), got, want, hint)

"""Checks for unit 07 (ResNet): the shortcut, the basic and bottleneck blocks, ResNet-50 and a small ResNet.

Each check builds what the learner wrote on small inputs and reads its graph:
from the output back to the addition, then along both branches of the addition
back to the input. That gives the layers after the addition, the residual branch
and the shortcut, each in order, whatever order the learner created them in.
They are compared with what the task's description implies (layer kinds,
kernel sizes, strides, filters), with output shapes and with parameter counts
from the per-layer formulas; ResNet-50 is compared with
``keras.applications.ResNet50(weights=None)``. No check carries a copy of the
solution's code.
"""

import functools

import numpy as np

from cnn_course.checks import Task, describe, layer_kinds, probe_model

BN, RELU, ADD, GAP, SOFTMAX = "BatchNormalization", "ReLU", "Add", "GlobalAveragePooling2D", "Softmax"
IGNORED = {"InputLayer", "Dropout", "Identity", "ZeroPadding2D"}
RESNET50 = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))
SMALL = ((16, 2, 1), (32, 2, 2), (64, 2, 2))  # the digits' ResNet of Task 5
JOIN_HINT = (
    "the two inputs of the addition must have the same shape: when the stride or the number of channels "
    "changes, the shortcut needs a projection (1×1 conv with the block's stride, then BN); and padding='same' "
    "on the 3×3 convs keeps the branch's size"
)


def conv(size, filters, stride=1):
    return f"Conv2D {size}×{size}/{stride}×{stride} →{filters}"


def max_pool():
    return "MaxPooling2D 3×3/2×2"


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


def basic_branch(filters, stride):
    return [conv(3, filters, stride), BN, RELU, conv(3, filters), BN]


def bottleneck_branches(filters, stride):
    """The residual branch with the stride on the first 1×1 conv (v1) or on the 3×3 conv (v1.5)."""
    v1 = [conv(1, filters, stride), BN, RELU, conv(3, filters), BN, RELU, conv(1, 4 * filters), BN]
    v15 = [conv(1, filters), BN, RELU, conv(3, filters, stride), BN, RELU, conv(1, 4 * filters), BN]
    return [v1] if stride == 1 else [v1, v15]


def shortcut_kinds(c_in, c_out, stride):
    return [conv(1, c_out, stride), BN] if needs_projection(c_in, c_out, stride) else []


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


def add_shapes(config, size, block):
    """The output shape of every addition, stage by stage."""
    shapes = []
    for filters, blocks, stride in config:
        size = -(-size // stride)
        shapes += blocks * [(size, size, filters if block == "basic" else 4 * filters)]
    return shapes


# -- reading a learner's graph ------------------------------------------------------
def _inputs_of(op):
    found = op.input
    return list(found) if isinstance(found, (list, tuple)) else [found]


def _kinds(ops):
    return [k for op in ops for k in _layer_kinds_of(op)]


def _layer_kinds_of(op):
    return [k for k in describe(op) if k not in IGNORED]


def _producers(model):
    producers = {}
    for op in model.operations:
        try:
            producers[id(op.output)] = op
        except (AttributeError, ValueError):  # an operation called twice has no single output
            continue
    return producers


def _is_join(op):
    return type(op).__name__ in ("Add", "Concatenate", "Multiply", "Subtract", "Average", "Maximum") or (
        len([t for t in _inputs_of(op) if t is not None]) > 1
    )


def _walk_back(tensor, producers, stop):
    """Operations from `tensor` back to `stop` (a tensor) or to the first join, in forward order."""
    ops = []
    while tensor is not stop:
        op = producers.get(id(tensor))
        if op is None or type(op).__name__ == "InputLayer":
            break
        if _is_join(op):
            return ops[::-1], op
        ops.append(op)
        tensor = _inputs_of(op)[0]
    return ops[::-1], None


def block_parts(t, model, what):
    """(layers after the addition, residual branch, shortcut) of a one-block model, as kinds in order."""
    producers = _producers(model)
    after, join = _walk_back(model.outputs[0], producers, model.inputs[0])
    if join is None:
        t.fail(
            f"{what}: there is no addition",
            "F(x) + x: the branch's output added to the shortcut (layers.Add() or +)",
            "a plain chain of layers: " + " → ".join(_kinds(after)),
            "a residual block adds its input (the shortcut) to its branch's output; without it, it is a plain block",
        )
    kind = type(join).__name__
    if kind != "Add":
        t.fail(
            f"{what}: the shortcut is joined with {kind}",
            "Add (or +): H(x) = F(x) + x",
            kind,
            "a residual block adds; concatenating is DenseNet's way (unit 09)" if kind == "Concatenate" else None,
        )
    branches = []
    for tensor in _inputs_of(join):
        ops, inner = _walk_back(tensor, producers, model.inputs[0])
        if inner is not None:
            t.fail(
                f"{what}: more than one addition in one block",
                "one addition: F(x) + x",
                "an addition inside a branch",
                "add the shortcut once, at the end of the block",
            )
        branches.append(_kinds(ops))
    t.equal(f"{what}: inputs of the addition", len(branches), 2, "add exactly two tensors: the shortcut and F(x)")
    shortcut, branch = sorted(branches, key=lambda kinds: sum(k.startswith("Conv2D") for k in kinds))
    return _kinds(after), branch, shortcut


def _branch_hint(expected, got):
    if expected == BN and got == RELU:
        return "batch normalisation comes right after each convolution, before the ReLU"
    if expected.startswith("Conv2D") and got.startswith("Conv2D"):
        e_size, g_size = expected.split()[1].split("/")[0], got.split()[1].split("/")[0]
        if e_size != g_size:
            return "check the kernel sizes: the basic block is 3×3, 3×3; the bottleneck 1×1, 3×3, 1×1"
        if expected.split("/")[1].split()[0] != got.split("/")[1].split()[0]:
            return "the stride goes on the first convolution of the block (for the bottleneck: the 1×1 or the 3×3)"
        return "check the number of filters: the bottleneck's last 1×1 conv expands to 4·filters"
    return None


def check_residual_block(t, model, what, branches, shortcut):
    after, branch, got_shortcut = block_parts(t, model, what)
    if not after and branch and branch[-1] == RELU:
        t.fail(
            f"{what}: the ReLU comes before the addition",
            "… → BN, then Add, then ReLU",
            " → ".join(branch[-3:]) + " → Add",
            "in the original ResNet the branch ends with BN and the ReLU is applied to the sum F(x) + x",
        )
    if after == [RELU] and branch and branch[-1] == RELU:
        t.fail(
            f"{what}: a ReLU at the end of the residual branch",
            "… → BN, then Add, then ReLU",
            " → ".join(branch[-3:]) + " → Add → ReLU",
            "the branch ends with BN; only the sum F(x) + x goes through a ReLU",
        )
    if after and after[0] == BN:
        t.fail(
            f"{what}: the addition comes before batch normalisation",
            "conv → BN → Add → ReLU",
            "conv → Add → " + " → ".join(after),
            "add the shortcut to the output of the last BN, not to the convolution's output",
        )
    if not after:
        t.fail(
            f"{what}: nothing after the addition",
            "a ReLU on the sum: ReLU(F(x) + x)",
            "the sum itself",
            "in the original ResNet (v1) the block ends with a ReLU after the addition",
        )
    t.sequence(
        f"{what}: layers after the addition",
        after,
        [RELU],
        lambda e, g: "only a ReLU follows the addition: H(x) = ReLU(F(x) + x)",
    )
    expected_branch = next((b for b in branches if b == branch), branches[0])
    t.sequence(f"{what}: the residual branch F(x), in order", branch, expected_branch, _branch_hint)
    if got_shortcut and not shortcut:
        t.fail(
            f"{what}: a projection where the identity suffices",
            "the identity: the input itself, added as it is",
            " → ".join(got_shortcut),
            "input and output already have the same shape: use the identity (the paper's option B); "
            "a projection everywhere (option C) adds parameters and barely helps",
        )
    t.sequence(
        f"{what}: the shortcut",
        got_shortcut,
        shortcut,
        lambda e, g: "the projection is a 1×1 conv with the block's stride and the block's output channels, then BN",
    )


def _conv_biases(model):
    return sum(op.filters for op in model.operations if type(op).__name__ == "Conv2D" and op.use_bias)


def _params(t, what, model, without_bias):
    """count_params() equals the formula without biases plus the biases the model's convolutions have."""
    expected = without_bias + _conv_biases(model)
    t.equal(
        f"{what}: parameters",
        model.count_params(),
        expected,
        "a BatchNormalization follows each convolution (4 numbers per channel); no other layer has weights",
    )


# -- the tasks -------------------------------------------------------------------------
def _output_apart_from_input(build):
    """`build`, with an Identity layer (IGNORED) after an output that is the input itself.

    ``return x`` is the right identity shortcut, but Keras 3.10 builds no model whose
    output is its input ("`inputs` not connected to `outputs`"); later versions do.
    """

    def wrapped(x):
        from keras import layers

        output = build(x)
        return layers.Identity()(output) if output is x else output

    return wrapped


def shortcut(fn):
    """Task 1: the identity when the shapes match, else a 1×1 projection with the stride, then BN."""
    with Task(1, "shortcut") as t:
        t.function(fn, "shortcut")
        for c_in, channels, stride in [(16, 16, 1), (16, 32, 1), (16, 16, 2), (16, 64, 2)]:
            what = f"shortcut(x, channels={channels}, stride={stride}) on an 8×8×{c_in} input"
            build = _output_apart_from_input(lambda x, c=channels, s=stride: fn(x, c, s))
            model = probe_model(t, build, (8, 8, c_in), what)
            size = -(-8 // stride)
            got = tuple(model.outputs[0].shape[1:])
            kinds = [k for k in layer_kinds(model) if k not in IGNORED]
            hint = (
                "when the shape changes, the shortcut must be projected to it"
                if not kinds
                else "the projection's 1×1 conv has the block's stride: strides=stride"
                if got[:2] != (size, size)
                else "the projection has `channels` filters"
            )
            t.equal(f"{what}: output shape", got, (size, size, channels), hint)
            expected = shortcut_kinds(c_in, channels, stride)
            if not expected and kinds:
                t.fail(
                    f"{what}: a projection where the identity suffices",
                    "the input itself (return x)",
                    " → ".join(kinds),
                    "input and output have the same shape: use the identity (the paper's option B); "
                    "a projection everywhere (option C) adds parameters and barely helps",
                )
            t.sequence(
                f"{what}: layers",
                kinds,
                expected,
                lambda e, g: "a projection is a 1×1 Conv2D with the stride, then BatchNormalization",
            )
            if not expected:
                x = np.random.default_rng(0).normal(size=(2, 8, 8, c_in)).astype("float32")
                t.close(f"{what}: the identity returns its input", model(x, training=False), x)


def basic_block(fn):
    """Task 2: the basic residual block (v1)."""
    with Task(2, "basic_block") as t:
        t.function(fn, "basic_block")
        for c_in, filters, stride in [(16, 16, 1), (16, 32, 2), (16, 32, 1), (16, 16, 2)]:
            what = f"basic_block(x, filters={filters}, stride={stride}) on an 8×8×{c_in} input"
            model = probe_model(t, lambda x, f=filters, s=stride: fn(x, f, s), (8, 8, c_in), what, hint=JOIN_HINT)
            check_residual_block(t, model, what, [basic_branch(filters, stride)], shortcut_kinds(c_in, filters, stride))
            size = -(-8 // stride)
            t.equal(
                f"{what}: output shape",
                tuple(model.outputs[0].shape[1:]),
                (size, size, filters),
                "padding='same' on both 3×3 convs; the stride on the first one",
            )
            _params(t, what, model, basic_params(c_in, filters, stride, bias=False))


def bottleneck_block(fn):
    """Task 3: the bottleneck residual block; the stride on the first 1×1 conv (v1) or on the 3×3 conv (v1.5)."""
    with Task(3, "bottleneck_block") as t:
        t.function(fn, "bottleneck_block")
        for c_in, filters, stride in [(64, 16, 1), (64, 32, 2), (32, 16, 1), (64, 16, 2)]:
            what = f"bottleneck_block(x, filters={filters}, stride={stride}) on an 8×8×{c_in} input"
            model = probe_model(t, lambda x, f=filters, s=stride: fn(x, f, s), (8, 8, c_in), what, hint=JOIN_HINT)
            check_residual_block(
                t, model, what, bottleneck_branches(filters, stride), shortcut_kinds(c_in, 4 * filters, stride)
            )
            size = -(-8 // stride)
            got = tuple(model.outputs[0].shape[1:])
            t.equal(
                f"{what}: output shape",
                got,
                (size, size, 4 * filters),
                "the last 1×1 conv expands to 4·filters channels"
                if got[-1] == filters
                else "the stride goes on one conv",
            )
            _params(t, what, model, bottleneck_params(c_in, filters, stride, bias=False))


def _additions(model):
    return [op for op in model.operations if type(op).__name__ == "Add"]


def _check_network(t, model, what, config, block, size, stem, head_classes):
    """Shapes at every addition, the stem's layers and the head's layers."""
    kinds = [k for k in layer_kinds(model) if k not in IGNORED]
    t.sequence(
        f"{what}: the stem",
        kinds[: len(stem)],
        stem,
        lambda e, g: "the stem is " + " → ".join(stem),
    )
    adds = _additions(model)
    expected = add_shapes(config, size, block)
    if not adds:
        t.fail(
            f"{what}: there are no additions",
            f"{len(expected)} residual blocks, each ending with an addition",
            "a plain network",
            "build the stages from your residual blocks: each adds its shortcut",
        )
    got = [tuple(op.output.shape[1:]) for op in adds]

    def hint(e, g):
        if len(got) == 0:
            return "no additions at all: the blocks must be residual blocks"
        if g[2] != e[2]:
            return "check the channels of each stage (bottleneck outputs are 4·filters)"
        return (
            "each stage after the first starts with a block of stride 2 (it halves the size); "
            "the other blocks of the stage keep stride 1"
        )

    t.sequence(f"{what}: output shape of every addition, stage by stage", got, expected, hint)
    head = [GAP, f"Dense →{head_classes}", SOFTMAX]
    t.sequence(
        f"{what}: the head",
        kinds[-3:],
        head,
        lambda e, g: (
            "global average pooling, then one Dense layer with softmax"
            if "Flatten" in g or e == GAP
            else "end with Dense(n_class) and a softmax"
        ),
    )


def _resnet_model(t, fn, what, kwargs):
    return t.keras_model(t.call(fn, kwargs=kwargs, what=what, hint=JOIN_HINT), what)


@functools.cache
def _resnet50_reference():
    """Sorted kernel shapes of keras.applications.ResNet50, and its parameters without conv biases."""
    import keras

    reference = keras.applications.ResNet50(weights=None)
    kernels = sorted(tuple(w.shape) for w in reference.weights if len(w.shape) > 1)
    return kernels, reference.count_params() - _conv_biases(reference)


def resnet50(fn):
    """Task 4: ResNet-50 from a configuration, equal to keras.applications.ResNet50."""
    imagenet_stem = [conv(7, 64, 2), BN, RELU, max_pool()]
    with Task(4, "resnet") as t:
        t.function(fn, "resnet")
        what = "resnet(RESNET50)"
        model = _resnet_model(t, fn, what, {"config": RESNET50})
        t.equal(f"{what}: input shape", tuple(model.inputs[0].shape[1:]), (224, 224, 3), "input_shape=(224, 224, 3)")
        t.equal(f"{what}: output shape", tuple(model.outputs[0].shape[1:]), (1000,), "n_class=1000 by default")
        _check_network(t, model, what, RESNET50, "bottleneck", 56, imagenet_stem, 1000)
        expected, reference_params = _resnet50_reference()
        kernels = sorted(tuple(w.shape) for w in model.weights if len(w.shape) > 1)
        t.equal(
            f"{what}: the kernels' shapes (sorted) against keras.applications.ResNet50",
            kernels,
            expected,
            "compare each stage's filters and number of blocks with the configuration",
        )
        _params(t, what, model, reference_params)
        small = ((8, 1, 1), (16, 2, 2))
        what = f"resnet({small}, n_class=5, input_shape=(64, 64, 3))"
        model = _resnet_model(t, fn, what, {"config": small, "n_class": 5, "input_shape": (64, 64, 3)})
        t.equal(f"{what}: output shape", tuple(model.outputs[0].shape[1:]), (5,), "use n_class and input_shape")
        _check_network(t, model, what, small, "bottleneck", 16, imagenet_stem, 5)
        _params(t, what, model, resnet_params(small, "bottleneck", 5, 3, (7, 64), bias=False))


def small_resnet(fn):
    """Task 5: a small ResNet of basic blocks for the 28×28×1 digits."""
    stem = [conv(3, 16, 2), BN, RELU]
    with Task(5, "small_resnet") as t:
        t.function(fn, "small_resnet")
        for n_class in (10, 3):
            what = f"small_resnet(n_class={n_class})"
            model = t.keras_model(t.call(fn, (n_class,), what=what, hint=JOIN_HINT), what)
            t.equal(f"{what}: input shape", tuple(model.inputs[0].shape[1:]), (28, 28, 1), "the digits are 28×28×1")
            t.equal(
                f"{what}: output shape",
                tuple(model.outputs[0].shape[1:]),
                (n_class,),
                "the last Dense layer has n_class units (use the argument)",
            )
            _check_network(t, model, what, SMALL, "basic", 14, stem, n_class)
            _params(t, what, model, resnet_params(SMALL, "basic", n_class, 1, (3, 16), bias=False))
        probabilities = np.asarray(model(np.zeros((2, 28, 28, 1), "float32"), training=False))
        t.close(f"{what}: each row of the output sums to 1", probabilities.sum(axis=1), np.ones(2), "end with softmax")


def bottleneck_block_params(fn):
    """Task 6: the parameter count of a bottleneck block, as a formula."""
    with Task(6, "bottleneck_block_params") as t:
        t.function(fn, "bottleneck_block_params")
        for c_in, filters, stride in [
            (256, 64, 1),
            (64, 64, 1),
            (256, 128, 2),
            (512, 128, 1),
            (1024, 512, 2),
            (5, 3, 1),
        ]:
            what = f"bottleneck_block_params({c_in}, {filters}, stride={stride})"
            got = t.call(fn, (c_in, filters, stride), what=what)
            t.value(got, what, (int, np.integer))
            expected = bottleneck_params(c_in, filters, stride)
            projection = needs_projection(c_in, 4 * filters, stride)
            hints = {
                bottleneck_params(c_in, filters, stride, bias=False): "count the biases of the convolutions",
                expected - 2 * (filters + filters + 4 * filters + projection * 4 * filters): (
                    "Keras counts 4 numbers per channel of batch normalisation: γ, β and the moving mean and variance"
                ),
                expected - 4 * (filters + filters + 4 * filters + projection * 4 * filters): (
                    "each convolution is followed by a BN layer with 4 numbers per channel"
                ),
                bottleneck_params(c_in, filters, stride, projection=not projection): (
                    "a projection only when the shapes differ (channels ≠ 4·filters or stride ≠ 1)"
                    if projection is False
                    else "the input has a different shape from the output here: add the projection's 1×1 conv and BN"
                ),
                bottleneck_params(c_in, filters, stride, expansion=1): "the last 1×1 conv expands to 4·filters",
            }
            hints.pop(expected, None)
            t.equal(what, int(got), expected, hints.get(int(got)))

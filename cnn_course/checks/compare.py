"""Behaviour comparison: a learner's Keras model against a reference built from the task's specification.

The engine reads both graphs as a list of canonical steps (one vocabulary for
equivalent spellings: nested models are flattened, ``keras.ops`` calls and
equivalent layers map to the same step), gives the learner's weighted steps the
reference's random weights in that order, and compares the outputs on random
inputs, in inference and in training mode. The step lists only explain a
mismatch ("step 3: expected ReLU, got BatchNormalization"); the numbers decide.

A unit's check reads as: reference from the spec (``chain``, ``conv``, ``bn``,
``concat_input`` ...) + configurations + hints for known mistakes::

    reference = reference_model(chain(bn(), relu(), conv(3, k)), (7, 9, 5))
    compare_with_reference(t, learner_model, reference, what, hint=my_hint)
"""

import dataclasses
import math

import numpy as np

from cnn_course.i18n import _

SKIPPED = {"InputLayer", "Dropout", "SpatialDropout2D", "Identity"}
ACTIVATIONS = {"relu": "ReLU", "relu6": "ReLU6", "softmax": "Softmax", "sigmoid": "Sigmoid", "tanh": "Tanh"}
OP_ACTIVATIONS = {"Relu": "ReLU", "Relu6": "ReLU6", "Softmax": "Softmax", "Sigmoid": "Sigmoid", "Tanh": "Tanh"}
POOLS = {
    "MaxPooling2D": "MaxPooling",
    "AveragePooling2D": "AveragePooling",
    "MaxPool": "MaxPooling",
    "AveragePool": "AveragePooling",
}
GLOBAL_POOLS = {"GlobalAveragePooling2D": "GlobalAveragePooling", "GlobalMaxPooling2D": "GlobalMaxPooling"}
REDUCTIONS = {"Mean": "GlobalAveragePooling", "Max": "GlobalMaxPooling"}


@dataclasses.dataclass(eq=False)
class Step:
    """One canonical step of a graph: its kind, the settings that matter, and its weights.

    ``weights`` are ``(role, variable, canonical_shape)``; two steps are the same
    when kind and settings agree (``same``), whatever the layer's class or name.
    """

    kind: str
    settings: dict = dataclasses.field(default_factory=dict)
    name: str = ""
    weights: list = dataclasses.field(default_factory=list)

    def same(self, other):
        return other is not None and (self.kind, self.settings) == (other.kind, other.settings)

    def shapes(self):
        return [(role, shape) for role, _variable, shape in self.weights]

    def __str__(self):
        shown = [self.kind] + [_setting(k, v) for k, v in self.settings.items()]
        return " ".join(s for s in shown if s)


def _setting(key, value):
    if key in ("kernel", "pool"):
        return "×".join(str(v) for v in value)
    if key in ("filters", "units"):
        return f"→{value}"
    if key == "padding":
        return f"padding='{value}'"
    if key == "bias":
        return "" if value else _("no bias")
    if key == "strides":
        return "" if value == (1, 1) else _("stride {strides}").format(strides="×".join(map(str, value)))
    return f"{key}={value}"


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _dilation(layer):
    """``{"dilation": (d, d)}`` for a dilated depthwise convolution, else nothing."""
    dilation = _pair(layer.dilation_rate)
    return {} if dilation == (1, 1) else {"dilation": dilation}


def _fused(layer):
    name = getattr(getattr(layer, "activation", None), "__name__", "linear")
    return [] if name == "linear" else [Step(ACTIVATIONS.get(name, f"Activation({name})"), name=layer.name)]


def _conv_steps(layer):
    kernel = tuple(layer.kernel.shape)
    size = _pair(layer.kernel_size)
    padding = "valid" if size == (1, 1) else layer.padding  # a 1×1 kernel pads nothing either way
    settings = {"kernel": size, "strides": _pair(layer.strides), "padding": padding}
    dilation = _pair(layer.dilation_rate)
    if dilation != (1, 1):
        settings["dilation"] = dilation
    groups = getattr(layer, "groups", 1)
    if groups > 1 and kernel[2] == 1:  # one input channel per group: a depthwise convolution
        multiplier = layer.filters // groups
        canonical = kernel[:2] + (groups, multiplier)
        kind, settings["multiplier"] = "DepthwiseConv2D", multiplier
    else:
        canonical, kind = kernel, "Conv2D"
        settings["filters"] = layer.filters
        if groups > 1:
            settings["groups"] = groups
    settings["bias"] = layer.use_bias
    weights = [("kernel", layer.kernel, canonical)] + _bias(layer)
    return [Step(kind, settings, layer.name, weights)] + _fused(layer)


def _conv_transpose_steps(layer):
    """A Conv2DTranspose; an output padding of 0 is shown as none (the output shape tells them apart)."""
    settings = {"kernel": _pair(layer.kernel_size), "strides": _pair(layer.strides), "padding": layer.padding}
    extra = layer.output_padding
    if extra is not None and any(_pair(extra)):
        settings["output_padding"] = _pair(extra)
    settings.update(filters=layer.filters, bias=layer.use_bias)
    weights = [("kernel", layer.kernel, tuple(layer.kernel.shape))] + _bias(layer)
    return [Step("Conv2DTranspose", settings, layer.name, weights)] + _fused(layer)


def _conv1d_steps(layer):
    """A Conv1D: a kernel of size 1 pads and dilates nothing, whatever its settings say."""
    size = layer.kernel_size[0]
    settings = {"kernel": (size,), "padding": "valid"}
    if tuple(layer.strides) != (1,):
        settings["stride"] = layer.strides[0]
    if size > 1:
        settings["padding"] = layer.padding
        if layer.dilation_rate[0] != 1:
            settings["dilation"] = layer.dilation_rate[0]
    settings.update(filters=layer.filters, bias=layer.use_bias)
    weights = [("kernel", layer.kernel, tuple(layer.kernel.shape))] + _bias(layer)
    return [Step("Conv1D", settings, layer.name, weights)] + _fused(layer)


def _layer_steps(layer):
    """Canonical steps of one Keras layer (possibly none, or several for a fused activation)."""
    from keras import layers

    kind = type(layer).__name__
    if isinstance(layer, layers.DepthwiseConv2D):
        settings = {"kernel": _pair(layer.kernel_size), "strides": _pair(layer.strides), "padding": layer.padding}
        settings.update(_dilation(layer), multiplier=layer.depth_multiplier, bias=layer.use_bias)
        weights = [("kernel", layer.kernel, tuple(layer.kernel.shape))]
        weights += [("bias", layer.bias, tuple(layer.bias.shape))] if layer.use_bias else []
        return [Step("DepthwiseConv2D", settings, layer.name, weights)] + _fused(layer)
    if isinstance(layer, layers.SeparableConv2D):
        shared = {"strides": _pair(layer.strides), "padding": layer.padding}
        depthwise = {"kernel": _pair(layer.kernel_size), **shared, **_dilation(layer)}
        depthwise.update(multiplier=layer.depth_multiplier, bias=False)
        pointwise = {"kernel": (1, 1), "strides": (1, 1), "padding": "valid", "filters": layer.filters}
        pointwise["bias"] = layer.use_bias
        dw, pw = layer.depthwise_kernel, layer.pointwise_kernel
        return [
            Step("DepthwiseConv2D", depthwise, layer.name, [("kernel", dw, tuple(dw.shape))]),
            Step("Conv2D", pointwise, layer.name, [("kernel", pw, tuple(pw.shape))] + _bias(layer)),
        ] + _fused(layer)
    if isinstance(layer, layers.Conv2DTranspose):
        return _conv_transpose_steps(layer)
    if isinstance(layer, layers.Conv2D):
        return _conv_steps(layer)
    if isinstance(layer, layers.Conv1D):
        return _conv1d_steps(layer)
    if isinstance(layer, layers.Dense):
        weights = [("kernel", layer.kernel, tuple(layer.kernel.shape))] + _bias(layer)
        return [Step("Dense", {"units": layer.units, "bias": layer.use_bias}, layer.name, weights)] + _fused(layer)
    if isinstance(layer, layers.BatchNormalization):
        return [_batch_norm(layer)]
    if isinstance(layer, layers.Activation):
        return _fused(layer)
    if isinstance(layer, layers.ReLU):
        if layer.max_value == 6 and not layer.negative_slope and not layer.threshold:
            return [Step("ReLU6", name=layer.name)]
        plain = layer.max_value is None and not layer.negative_slope and not layer.threshold
        extra = {} if plain else {"max": layer.max_value, "slope": layer.negative_slope}
        return [Step("ReLU", extra, layer.name)]
    if kind in POOLS:
        pool = _pair(layer.pool_size)
        settings = {"pool": pool, "strides": _pair(layer.strides or pool), "padding": layer.padding}
        return [Step(POOLS[kind], settings, layer.name)]
    if kind in GLOBAL_POOLS:
        return [Step(GLOBAL_POOLS[kind], {"keepdims": layer.keepdims} if layer.keepdims else {}, layer.name)]
    if kind == "ZeroPadding2D":
        return [Step("Pad", {"amount": tuple(map(tuple, layer.padding))}, layer.name)]
    if kind == "ZeroPadding1D":
        return [Step("Pad", {"amount": tuple(layer.padding)}, layer.name)]
    if kind == "Softmax":
        return [Step("Softmax", name=layer.name)]
    if kind == "Concatenate":
        return [Step("Concatenate", {"axis": layer.axis} if layer.axis not in (-1, 3) else {}, layer.name)]
    return [Step(kind, name=layer.name, weights=[("weight", w, tuple(w.shape)) for w in layer.weights])]


def _bias(layer):
    return [("bias", layer.bias, tuple(layer.bias.shape))] if layer.use_bias else []


def _batch_norm(layer):
    settings = {}
    if layer.axis not in (-1, 3):
        settings["axis"] = layer.axis
    if not layer.center:
        settings["center"] = False
    if not layer.scale:
        settings["scale"] = False
    if not math.isclose(layer.epsilon, 1e-3):
        settings["epsilon"] = layer.epsilon
    weights = [("gamma", layer.gamma)] if layer.scale else []
    weights += [("beta", layer.beta)] if layer.center else []
    weights += [("mean", layer.moving_mean), ("variance", layer.moving_variance)]
    return Step("BatchNormalization", settings, layer.name, [(r, v, tuple(v.shape)) for r, v in weights])


def _op_steps(op):
    """Canonical steps of a ``keras.ops`` call recorded in a functional graph."""
    kind = type(op).__name__
    if kind in OP_ACTIVATIONS:
        return [Step(OP_ACTIVATIONS[kind], name=op.name)]
    if kind in POOLS:
        pool = _pair(op.pool_size)
        settings = {"pool": pool, "strides": _pair(op.strides or pool), "padding": op.padding.lower()}
        return [Step(POOLS[kind], settings, op.name)]
    axis = getattr(op, "axis", None)
    if kind in REDUCTIONS and axis is not None and sorted(a % 4 for a in _pair(axis)) == [1, 2]:
        return [Step(REDUCTIONS[kind], {"keepdims": True} if op.keepdims else {}, op.name)]
    if kind == "Pad":
        return [Step("Pad", {"amount": tuple(map(tuple, op.pad_width))[1:3]}, op.name)]
    if kind == "Concatenate":
        return [Step("Concatenate", {"axis": axis} if axis not in (-1, 3) else {}, op.name)]
    return [Step(kind, name=op.name)]


def steps(model):
    """The canonical steps of a model in order of computation, nested models flattened."""
    import keras

    found = []
    for op in getattr(model, "operations", None) or model.layers:
        if isinstance(op, keras.Model):
            found += steps(op)
        elif type(op).__name__ in SKIPPED:
            continue
        elif isinstance(op, keras.layers.Layer):
            found += _layer_steps(op)
        else:
            found += _op_steps(op)
    return found


COMMUTATIVE = {"Add", "Multiply", "Maximum", "Minimum", "Average"}


def _node_steps(op):
    import keras

    if type(op).__name__ in SKIPPED:
        return []
    return _layer_steps(op) if isinstance(op, keras.layers.Layer) else _op_steps(op)


def _flat_nodes(model, alias, nodes, seen):
    """Append the primitive nodes of `model` as ``(op, input ids, output ids)``, nested models expanded.

    Ids are those of the Keras tensors; ``alias`` maps a nested model's own tensors
    to the outer tensors they stand for.
    """
    import keras

    def visit(tensor):
        history = getattr(tensor, "_keras_history", None)
        op = history.operation if history else None
        if op is None or id(tensor) in alias or type(op).__name__ == "InputLayer":
            return
        node = op._inbound_nodes[history.node_index]
        if id(node) in seen:
            return
        seen.add(id(node))
        for x in node.input_tensors:
            visit(x)
        ins = [alias.get(id(x), id(x)) for x in node.input_tensors]
        if isinstance(op, keras.Model):
            alias.update({id(i): v for i, v in zip(op.inputs, ins, strict=True)})
            _flat_nodes(op, alias, nodes, seen)
            alias.update({id(o): alias.get(id(i), id(i)) for o, i in zip(node.output_tensors, op.outputs, strict=True)})
        else:
            nodes.append((op, ins, [id(x) for x in node.output_tensors]))

    for output in model.outputs:
        visit(output)
    return nodes


def canonical_steps(model):
    """The steps of a model with branches, in an order that does not depend on how it was written.

    ``steps`` follows Keras's order of operations, which changes with the order of
    an addition's inputs and with nesting. Here the graph is flattened (nested
    models expanded) and read back from the output; the inputs of a commutative
    join (``Add``) are visited longest branch first, then by structure: for a
    residual block, the residual branch, then the shortcut, then the addition.
    """
    import hashlib

    alias = {}
    nodes = _flat_nodes(model, alias, [], set())
    producer = {out: i for i, (_op, _ins, outs) in enumerate(nodes) for out in outs}
    node_steps = [_node_steps(op) for op, _ins, _outs in nodes]
    depth, key = [], []
    for i, (op, ins, _outs) in enumerate(nodes):  # nodes come in topological order
        before = [producer[v] for v in ins if v in producer]
        depth.append(len(node_steps[i]) + max((depth[j] for j in before), default=0))
        inner = [key[producer[v]] if v in producer else "input" for v in ins]
        kind = [(s.kind, sorted((k, str(v)) for k, v in s.settings.items() if k != "bias")) for s in node_steps[i]]
        shown = repr((kind, sorted(inner) if type(op).__name__ in COMMUTATIVE else inner))
        key.append(hashlib.sha1(shown.encode()).hexdigest())
    order, done = [], set()

    def visit(i):
        if i in done:
            return
        done.add(i)
        before = [producer[v] for v in nodes[i][1] if v in producer]
        if type(nodes[i][0]).__name__ in COMMUTATIVE:
            before.sort(key=lambda j: (-depth[j], key[j]))
        for j in before:
            visit(j)
        order.append(i)

    for output in model.outputs:
        if alias.get(id(output), id(output)) in producer:
            visit(producer[alias.get(id(output), id(output))])
    return [s for i in order for s in node_steps[i]]


def weighted(step_list):
    return [s for s in step_list if s.weights]


def first_difference(expected, got):
    """``(index, expected_step, got_step)`` at the first difference (None past an end), or None."""
    for i in range(max(len(expected), len(got))):
        e = expected[i] if i < len(expected) else None
        g = got[i] if i < len(got) else None
        if e is None or not e.same(g):
            return i, e, g
    return None


# -- random weights ----------------------------------------------------------------
def _random_value(role, shape, rng, fan_in=None):
    if role == "kernel":
        return rng.normal(0, 1 / math.sqrt(fan_in or max(1, int(np.prod(shape[:-1])))), shape)
    if role == "gamma":
        return rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)
    if role == "variance":
        return rng.uniform(0.5, 2.0, shape)
    return rng.normal(0, 0.5, shape)


def randomize(step_list, seed=0):
    """Set every weight of the steps at random: mixed signs, BN statistics away from their defaults."""
    rng = np.random.default_rng(seed)
    for step in weighted(step_list):
        fan_in = int(np.prod(step.weights[0][2][:2])) if step.kind == "DepthwiseConv2D" else None  # one channel
        for role, variable, shape in step.weights:
            value = _random_value(role, shape, rng, fan_in)
            variable.assign(value.reshape(variable.shape).astype(variable.dtype))


def statistics_from_data(reference, x, seed=0):
    """BN statistics near those of the data, in one training-mode pass: deep models keep their signal.

    Drawn at random, the statistics of a deep model's later BN layers no longer fit
    their inputs and inference mode hardly depends on the input. Here each moving
    mean is the batch mean shifted by up to a standard deviation, each moving
    variance 0.3 to 1 times the batch variance: inference mode widens the
    activations a little (a ReLU6 clips where a ReLU would not), not so much that
    rounding errors grow from layer to layer.
    """
    import keras

    norms = [layer for layer in reference.layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not norms:
        return
    rng = np.random.default_rng(seed + 2)
    seen = keras.Model(reference.inputs[0], [layer.input for layer in norms])(x, training=True)
    for layer, values in zip(norms, seen if len(norms) > 1 else [seen], strict=True):
        axes = tuple(range(len(values.shape) - 1))
        mean, std = np.mean(values, axis=axes), np.std(values, axis=axes) + 1e-3
        layer.moving_mean.assign((mean + rng.uniform(-1, 1, mean.shape) * std).astype("float32"))
        layer.moving_variance.assign((std**2 * rng.uniform(0.3, 1.0, std.shape)).astype("float32"))


def copy_weights(source, target):
    """Copy the weights of matched weighted steps (same kinds and canonical shapes, checked by the caller)."""
    for s, t in zip(source, target, strict=True):
        for (_role, v_from, _shape), (_role_to, v_to, _shape_to) in zip(s.weights, t.weights, strict=True):
            v_to.assign(np.reshape(np.asarray(v_from), v_to.shape))


# -- building a reference from a specification ---------------------------------------
def chain(*parts):
    """Steps applied one after another: ``chain(bn(), relu(), conv(3, 8))(x)``."""

    def apply(x):
        for part in parts:
            x = part(x)
        return x

    return apply


def _layer(make):
    return lambda x: make()(x)


def bn():
    from keras import layers

    return _layer(layers.BatchNormalization)


def relu():
    from keras import layers

    return _layer(layers.ReLU)


def relu6():
    from keras import layers

    return _layer(lambda: layers.ReLU(6.0))


def depthwise(size=3, strides=1, padding="same", bias=True):
    """A depthwise convolution, one filter per channel (depth multiplier 1)."""
    from keras import layers

    return _layer(lambda: layers.DepthwiseConv2D(size, strides=strides, padding=padding, use_bias=bias))


def softmax():
    from keras import layers

    return _layer(layers.Softmax)


def gap():
    from keras import layers

    return _layer(layers.GlobalAveragePooling2D)


def conv(size, filters, strides=1, padding="same", bias=True):
    from keras import layers

    return _layer(lambda: layers.Conv2D(filters, size, strides=strides, padding=padding, use_bias=bias))


def conv_transpose(size, filters, strides=1, padding="same", output_padding=None, bias=True):
    """A Conv2DTranspose (``output_padding`` None lets Keras choose, as its default does)."""
    from keras import layers

    def make():
        return layers.Conv2DTranspose(
            filters, size, strides=strides, padding=padding, output_padding=output_padding, use_bias=bias
        )

    return _layer(make)


def conv1d(size, filters, dilation=1, padding="causal", bias=True):
    """A Conv1D; padding "causal" pads (size − 1)·dilation zeros on the left only."""
    from keras import layers

    return _layer(lambda: layers.Conv1D(filters, size, dilation_rate=dilation, padding=padding, use_bias=bias))


def activation(name):
    """An activation by Keras's name ("tanh", "sigmoid", "relu" ...)."""
    from keras import layers

    return _layer(lambda: layers.Activation(name))


def multiply(*branches):
    """The product of what the branches make of the same input (a gate: ``multiply(chain(...), chain(...))``)."""
    from keras import layers

    return lambda x: layers.Multiply()([branch(x) for branch in branches])


def avg_pool(size=2, strides=None, padding="valid"):
    from keras import layers

    return _layer(lambda: layers.AveragePooling2D(size, strides=strides, padding=padding))


def max_pool(size=2, strides=None, padding="valid"):
    from keras import layers

    return _layer(lambda: layers.MaxPooling2D(size, strides=strides, padding=padding))


def flatten():
    from keras import layers

    return _layer(layers.Flatten)


def dense(units, bias=True):
    from keras import layers

    return _layer(lambda: layers.Dense(units, use_bias=bias))


def zero_pad(amount):
    from keras import layers

    return _layer(lambda: layers.ZeroPadding2D(amount))


def add(*branches):
    """The sum of what each branch makes of the input (``chain()`` is the identity): a residual join."""
    from keras import layers

    return lambda x: layers.Add()([branch(x) for branch in branches])


def concat(*branches):
    """What each branch makes of the same input, joined along channels in this order (an inception module)."""
    from keras import layers

    return lambda x: layers.Concatenate()([branch(x) for branch in branches])


def concat_input(*parts):
    """The input, then what ``parts`` make of it, joined along channels (a dense connection)."""
    from keras import layers

    return lambda x: layers.Concatenate()([x, chain(*parts)(x)])


def reference_model(spec, input_shape):
    """A model of a specification (``chain(...)``) on an input of the given shape (no batch axis)."""
    import keras

    inputs = keras.Input(input_shape)
    return keras.Model(inputs, spec(inputs), name="reference")


# -- the comparison --------------------------------------------------------------------
def _explain(expected, got, hint, wiring_hint):
    """The first differing step as evidence, and the task's hint for it."""
    found = first_difference(expected, got)
    if found is None:
        return None, wiring_hint or _("the layers match the task, but not how they are connected: check each input")
    i, e, g = found
    if g is None:
        where = _("step {number}: missing {step}").format(number=i + 1, step=e)
        advice = _("your model ends before {step}").format(step=e)
    elif e is None:
        where = _("step {number} (`{name}`): extra {step}").format(number=i + 1, name=g.name, step=g)
        advice = _("the task has nothing after step {number}").format(number=i)
    else:
        where = _("step {number} (`{name}`): expected {expected}, got {got}").format(
            number=i + 1, name=g.name, expected=e, got=g
        )
        advice = _("compare this step with the task")
    return where, (hint(e, g) if hint else None) or advice


def shape_orders(ref_w, got_w, limit=24):
    """The learner's weighted steps in each order that pairs them with the reference's by kind and shapes.

    Steps of the same kind and shapes are interchangeable: which of two equal
    convolutions a learner calls "filter" is a name, not a mistake. Yields nothing
    when the two lists do not pair up; stops after ``limit`` orders.
    """
    import itertools

    def key(s):
        return s.kind, tuple(s.shapes())

    if sorted(map(key, ref_w)) != sorted(map(key, got_w)):
        return
    groups = {}
    for s in got_w:
        groups.setdefault(key(s), []).append(s)
    choices = [list(itertools.permutations(g)) for g in groups.values()]
    for n, picked in enumerate(itertools.product(*choices)):
        if n >= limit:
            return
        queues = {k: list(p) for k, p in zip(groups, picked, strict=True)}
        yield [queues[key(s)].pop(0) for s in ref_w]


def first_leak(model, seed=0):
    """``(t0, t, count)``: input t0 is the first whose change moves an earlier output t; None if causal.

    Every input position is changed in turn (one batch), with weights and changes of mixed signs;
    ``count`` is how many positions leak.
    """
    randomize(steps(model), seed)
    length, channels = model.inputs[0].shape[1:]
    rng = np.random.default_rng(seed + 2)
    batch = np.repeat(rng.normal(size=(1, length, channels)), length + 1, axis=0)
    change = rng.uniform(0.5, 1.5, (length, channels)) * rng.choice([-1, 1], (length, channels))
    batch[np.arange(1, length + 1), np.arange(length)] += change
    y = np.asarray(model(batch.astype("float32")), dtype="float64").reshape(length + 1, length, -1)
    moved = np.abs(y[1:] - y[:1]).max(axis=-1) > 1e-5 * max(1.0, float(np.abs(y).max()))
    early = [np.nonzero(moved[t0, :t0])[0] for t0 in range(length)]
    leaking = [t0 for t0 in range(length) if early[t0].size]
    return (leaking[0], int(early[leaking[0]][0]), len(leaking)) if leaking else None


def output_mismatch(model, reference, x):
    """None if some pairing of the weighted steps (equal ones interchangeable) gives both the same outputs on x.

    Otherwise ``(index, expected, got)`` at the largest gap, for the first pairing (None, None, None without one).
    """
    ref_w = weighted(steps(reference))
    randomize(ref_w)
    want = np.asarray(reference(x), dtype="float64")
    found = (None, None, None)
    for n, order in enumerate(shape_orders(ref_w, weighted(steps(model)))):
        copy_weights(ref_w, order)
        have = np.asarray(model(x), dtype="float64")
        if np.allclose(have, want, rtol=1e-3, atol=1e-4 * max(1.0, float(np.abs(want).max()))):
            return None
        worst = np.unravel_index(np.argmax(np.abs(have - want)), want.shape)
        found = found if n else (tuple(map(int, worst)), float(want[worst]), float(have[worst]))
    return found


def _shares_layers(model, reference):
    import keras

    def ops(m):
        inner = getattr(m, "operations", None) or m.layers
        return [o for op in inner for o in (ops(op) if isinstance(op, keras.Model) else [op])]

    return model is reference or bool({id(op) for op in ops(model)} & {id(op) for op in ops(reference)})


def _silence_dropout(model):
    """Dropout is no step of a specification: set its rate to 0, so that training mode compares too."""
    import keras

    for op in getattr(model, "operations", None) or model.layers:
        if isinstance(op, keras.Model):
            _silence_dropout(op)
        elif type(op).__name__ in ("Dropout", "SpatialDropout2D"):
            op.rate = 0.0


def _shape(tensor):
    return tuple(tensor.shape[1:])


def compare_with_reference(
    t,
    model,
    reference,
    what,
    hint=None,
    shape_hint=None,
    wiring_hint=None,
    training=True,
    seed=0,
    input_scale=1.0,
    fit_statistics=False,
    read=steps,
):
    """The learner's model computes what the reference computes, with the same random weights.

    Checks in turn: not the reference itself; input and output shapes; weighted
    steps matching one to one; outputs on random inputs in inference (and
    training) mode. A failure names the first differing step as evidence and
    asks ``hint(expected_step, got_step)`` (or ``shape_hint(got_shape)``) for advice.
    ``read`` turns a model into steps (``canonical_steps`` for a graph with branches).
    ``input_scale`` widens the random inputs, e.g. so that a ReLU6 clips in inference mode;
    ``fit_statistics`` sets BN statistics near the data's (``statistics_from_data``), for deep models.
    """
    t.expect(
        not _shares_layers(model, reference),
        _("{what}: this is the check's own reference model").format(what=what),
        _("a model built from your own layers"),
        _("the reference"),
        _("build the model yourself, from the blocks of the earlier tasks"),
    )
    expected, got = read(reference), read(model)

    def fail(stage, e, g, advice=None):
        where, explained = _explain(expected, got, hint, wiring_hint)
        t.fail(f"{what}: {stage}", e, g, advice or explained, differs=where)

    if _shape(model.inputs[0]) != _shape(reference.inputs[0]):
        fail(
            _("input shape"),
            _shape(reference.inputs[0]),
            _shape(model.inputs[0]),
            _("use the input shape of the task"),
        )
    t.passed += 1
    if _shape(model.outputs[0]) != _shape(reference.outputs[0]):
        got_shape = _shape(model.outputs[0])
        fail(_("output shape"), _shape(reference.outputs[0]), got_shape, shape_hint and shape_hint(got_shape))
    t.passed += 1
    ref_w, got_w = weighted(expected), weighted(got)
    for i in range(max(len(ref_w), len(got_w))):
        e = ref_w[i] if i < len(ref_w) else None
        g = got_w[i] if i < len(got_w) else None
        if e is None or g is None or e.kind != g.kind or e.shapes() != g.shapes():
            shown = [f"{s} {[shape for _role, shape in s.shapes()]}" if s else _("nothing") for s in (e, g)]
            stage = _("layer with weights number {number} of {count}").format(number=i + 1, count=len(ref_w))
            fail(stage, *shown, hint and hint(e, g))
    t.passed += 1
    randomize(expected, seed)
    x = np.random.default_rng(seed + 1).normal(0, input_scale, size=(3, *_shape(reference.inputs[0])))
    x = x.astype("float32")
    if fit_statistics:
        statistics_from_data(reference, x, seed)
    copy_weights(ref_w, got_w)
    _silence_dropout(model)
    for mode in [False, True] if training else [False]:
        want = np.asarray(reference(x, training=mode), dtype="float64")
        have = np.asarray(model(x, training=mode), dtype="float64")
        scale = max(1.0, float(np.abs(want).max()))
        if not np.allclose(have, want, rtol=1e-3, atol=1e-4 * scale):
            worst = np.unravel_index(np.argmax(np.abs(have - want)), want.shape)
            index = tuple(map(int, worst))
            if mode:
                stage = _("outputs differ in training mode at index {index}").format(index=index)
            else:
                stage = _("outputs differ in inference mode at index {index}").format(index=index)
            fail(stage, float(want[worst]), float(have[worst]))
        t.passed += 1

"""Unit 06's checks: each rejects the stub and the typical wrong answers, and accepts
the solution (run from solutions/06_googlenet.ipynb) and other correct ways to write it
(nested models, keras.ops, equivalent layers, other names, harmless extra arguments).

Each wrong answer names the words its rejection must contain, so that a wrong
answer is rejected for its own mistake, not by accident.
"""

import math

import keras
import numpy as np
import pytest
from keras import layers, ops

from cnn_course.checks import googlenet as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("06_googlenet")


# -- Task 1 · inception_module -----------------------------------------------------------
def module_with(
    join="concat",
    order=(0, 1, 2, 3),
    reduce3=True,
    pool=layers.MaxPooling2D,
    pool_stride=1,
    pool_padding="same",
    projection="after",
    relu="fused",
    use_bias=True,
    axis=-1,
    padding3="same",
    k5=5,
    dilation3=1,
    swap_f3_f5=False,
    define_backwards=False,
    nested=False,
    relu_before_pool=False,
):
    """An inception module; the defaults are right, each keyword makes one change."""

    def answer(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, name="inception"):
        if swap_f3_f5:
            f3, f5 = f5, f3

        def conv(filters, size, **kwargs):
            fused = "relu" if relu == "fused" else None
            made = [layers.Conv2D(filters, size, padding="same", activation=fused, use_bias=use_bias, **kwargs)]
            if relu == "layer":
                made.append(layers.ReLU())
            if relu == "activation":
                made.append(layers.Activation("relu"))
            return made

        def apply(parts, t):
            if nested:
                return keras.Sequential(parts)(t)
            for part in parts:
                t = ops.relu(t) if part == "ops_relu" else part(t)
            return t

        def with_relu(parts):
            return parts + ["ops_relu"] if relu == "ops" else parts

        def branch(i):
            if i == 0:
                return apply(with_relu(conv(f1, 1)), x)
            if i == 1:
                reduce = with_relu(conv(f3_reduce, 1)) if reduce3 else []
                big = [layers.Conv2D(f3, 3, padding=padding3, dilation_rate=dilation3, use_bias=use_bias)]
                big += [] if relu in (None, "after_concat") else [layers.ReLU()]
                return apply(reduce + big, x)
            if i == 2:
                return apply(with_relu(conv(f5_reduce, 1)) + with_relu(conv(f5, k5)), x)
            if relu == "ops" and not nested:
                p = ops.max_pool(x, 3, strides=pool_stride, padding=pool_padding)
                return apply(with_relu(conv(pool_proj, 1)), p)
            pooling = [layers.ReLU()] if relu_before_pool else []
            pooling += [pool(3, strides=pool_stride, padding=pool_padding)]
            if projection == "none":
                return apply(pooling, x)
            if projection == "before":
                return apply(with_relu(conv(pool_proj, 1)) + pooling, x)
            return apply(pooling + with_relu(conv(pool_proj, 1)), x)

        built = {}
        for i in reversed(range(4)) if define_backwards else range(4):
            built[i] = branch(i)
        branches = [built[i] for i in order]
        if join == "add":
            y = layers.Add()(branches)
        elif join == "plus":
            y = branches[0] + branches[1] + branches[2] + branches[3]
        elif join == "ops":
            y = ops.concatenate(branches, axis=axis)
        else:
            y = layers.Concatenate(axis=axis)(branches)
        return layers.ReLU()(y) if relu == "after_concat" else y

    return answer


def no_relu_on_reductions(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, name="inception"):
    def conv(t, filters, size, activation="relu"):
        return layers.Conv2D(filters, size, padding="same", activation=activation)(t)

    b3 = conv(conv(x, f3_reduce, 1, None), f3, 3)
    b5 = conv(conv(x, f5_reduce, 1, None), f5, 5)
    pool = conv(layers.MaxPooling2D(3, strides=1, padding="same")(x), pool_proj, 1)
    return layers.Concatenate()([conv(x, f1, 1), b3, b5, pool])


MODULE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda x, *f, name="i": None, "returned None"),
    "returns the layer, not its output": (lambda x, *f, name="i": layers.Concatenate(), "Keras tensor"),
    "branches added (layers.Add)": (module_with(join="add"), "not by adding them"),
    "branches added (+)": (module_with(join="plus"), "not by adding them"),
    "3×3 and 5×5 branches swapped": (module_with(order=(0, 2, 1, 3)), "the table's order"),
    "pool branch before the 3×3 branch": (module_with(order=(0, 3, 1, 2)), "the table's order"),
    "1×1 branch last": (module_with(order=(1, 2, 3, 0)), "the table's order"),
    "projection before the max pool": (module_with(projection="before"), "pools first, then projects"),
    "average pool instead of max pool": (module_with(pool=layers.AveragePooling2D), "not average pooling"),
    "pool with stride 2": (module_with(pool_stride=2), "strides=1", "keeps height and width"),
    "pool with padding 'valid'": (module_with(pool_padding="valid"), "padding='same'", "keeps height and width"),
    "3×3 conv with padding 'valid'": (module_with(padding3="valid"), "keeps height and width"),
    "no ReLU at all": (module_with(relu=None), "every convolution is followed by a ReLU"),
    "no ReLU on the 1×1 reductions": (no_relu_on_reductions, "the 1×1 reductions too"),
    "ReLU after the concatenation only": (module_with(relu="after_concat"), "after the concatenation"),
    "a ReLU on x before the pool": (module_with(relu_before_pool=True), "the task has no ReLU here"),
    "3×3 conv reads x, not the reduction": (module_with(reduce3=False), "1×1 convolution is missing"),
    "f3 and f5 swapped": (module_with(swap_f3_f5=True), "has f3 (5) filters, not f5 (7)"),
    "5×5 conv replaced by a 3×3": (module_with(k5=3), "a 5×5 conv (f5 filters)"),
    "a dilated 3×3 conv": (module_with(dilation3=2), "not dilated"),
    "convolutions without bias": (module_with(use_bias=False), "use_bias=True"),
    "concatenated on the wrong axis": (module_with(axis=1), "axis=-1"),
    "pool without its 1×1 projection": (module_with(projection="none"), "1×1 projection to pool_proj"),
}


@pytest.mark.parametrize("mistake", list(MODULE_MISTAKES))
def test_inception_module_rejects(mistake):
    answer, *fragments = MODULE_MISTAKES[mistake]
    rejects(check.inception_module, answer, "Task 1", *fragments)


def test_inception_module_accepts_correct_answers(capsys):
    accepts(check.inception_module, SOLUTION["inception_module"], capsys)
    accepts(check.inception_module, module_with(relu="layer"), capsys)  # Conv2D, then a ReLU layer
    accepts(check.inception_module, module_with(relu="activation"), capsys)  # Activation("relu") layers
    accepts(check.inception_module, module_with(relu="ops", join="ops"), capsys)  # ops.relu, max_pool, concatenate
    accepts(check.inception_module, module_with(nested=True, relu="layer"), capsys)  # a Sequential per branch
    accepts(check.inception_module, module_with(define_backwards=True), capsys)  # branches built pool first

    def other_names(inputs, a, b, c, d, e, f, name="block", **unused):
        towers = [[(a, 1)], [(b, 1), (c, 3)], [(d, 1), (e, 5)]]
        outs = []
        for tower in towers:
            y = inputs
            for filters, size in tower:
                y = layers.Conv2D(filters, size, padding="same", activation="relu", name=f"{name}_{len(outs)}_{size}")(
                    y
                )
            outs.append(y)
        pooled = layers.MaxPool2D(pool_size=(3, 3), strides=(1, 1), padding="same")(inputs)
        outs.append(layers.Conv2D(f, (1, 1), activation="relu")(pooled))
        return layers.concatenate(outs, axis=3)

    accepts(check.inception_module, other_names, capsys)


# -- Task 2 · auxiliary_head ---------------------------------------------------------------
def aux_with(
    pool="avg",
    pool_size=5,
    pool_stride=3,
    pool_padding="valid",
    conv=True,
    conv_relu=True,
    flatten="flatten",
    hidden_relu=True,
    rate=0.7,
    dropout_at="between",
    output="softmax",
    fixed_sizes=False,
    fixed_units=False,
    fixed_classes=False,
    spelling="layers",
):
    """An auxiliary head; the defaults are right, each keyword makes one change."""

    def answer(x, n_class, filters=128, units=1024, name="aux"):
        if fixed_sizes:
            filters, units = 128, 1024
        units = 1024 if fixed_units else units
        n_class = 10 if fixed_classes else n_class
        if pool == "avg" and spelling == "ops":
            x = ops.average_pool(x, pool_size, strides=pool_stride, padding=pool_padding)
        else:
            kind = layers.AveragePooling2D if pool == "avg" else layers.MaxPooling2D
            x = kind(pool_size, strides=pool_stride, padding=pool_padding)(x)
        if conv:
            x = layers.Conv2D(filters, 1)(x)
            if conv_relu:
                x = ops.relu(x) if spelling == "ops" else layers.Activation("relu")(x)
        x = {
            "flatten": lambda: layers.Flatten()(x),
            "reshape": lambda: layers.Reshape((-1,))(x),
            "ops": lambda: ops.reshape(x, (-1, math.prod(x.shape[1:]))),
            "gap": lambda: layers.GlobalAveragePooling2D()(x),
        }[flatten]()
        x = layers.Dense(units, activation="relu" if hidden_relu else None)(x)
        if dropout_at == "between":
            x = layers.Dropout(rate)(x)
        x = layers.Dense(n_class)(x)
        if dropout_at == "after":
            x = layers.Dropout(rate)(x)
        if output == "sigmoid":
            return layers.Activation("sigmoid")(x)
        if output == "softmax":
            return ops.softmax(x) if spelling == "ops" else layers.Softmax()(x)
        return x

    return answer


def nested_aux(x, n_class, filters=128, units=1024, name="aux"):
    features = keras.Sequential([layers.AveragePooling2D(5, 3), layers.Conv2D(filters, 1, activation="relu")])
    classifier = keras.Sequential(
        [layers.Flatten(), layers.Dense(units, "relu"), layers.Dropout(rate=0.7), layers.Dense(n_class, "softmax")]
    )
    return classifier(features(x))


AUX_MISTAKES = {
    "stub": (stub, "not written yet"),
    "max pool": (aux_with(pool="max"), "not max pooling"),
    "pool with stride 1": (aux_with(pool_stride=1), "strides=3"),
    "pool with padding 'same'": (aux_with(pool_padding="same"), "padding 'valid'"),
    "3×3 pool (same shape on 14×14)": (aux_with(pool_size=3), "5×5 average pool", "outputs differ"),
    "global pooling instead of flatten": (aux_with(flatten="gap"), "global pooling keeps one value per channel"),
    "no 1×1 conv": (aux_with(conv=False), "a 1×1 convolution with `filters`"),
    "no ReLU on the 1×1 conv": (aux_with(conv_relu=False), "the 1×1 conv has a ReLU", "expected ReLU, got Flatten"),
    "no ReLU on the hidden layer": (
        aux_with(hidden_relu=False),
        "the hidden Dense layer has a ReLU",
        "expected ReLU, got Dense",
    ),
    "no softmax": (aux_with(output=None), "ends before Softmax"),
    "sigmoid instead of softmax": (aux_with(output="sigmoid"), "ends with a softmax"),
    "dropout 0.4": (aux_with(rate=0.4), "Dropout(0.7)"),
    "no dropout": (aux_with(dropout_at=None), "comes between the hidden Dense layer and the classifier"),
    "dropout after the classifier": (aux_with(dropout_at="after"), "comes between"),
    "ignores filters and units": (aux_with(fixed_sizes=True), "`filters` filters"),
    "ignores units": (aux_with(fixed_units=True), "Dense(units) for the hidden layer"),
    "ignores n_class": (aux_with(fixed_classes=True), "n_class units"),
}


@pytest.mark.parametrize("mistake", list(AUX_MISTAKES))
def test_auxiliary_head_rejects(mistake):
    answer, *fragments = AUX_MISTAKES[mistake]
    rejects(check.auxiliary_head, answer, "Task 2", *fragments)


def test_auxiliary_head_accepts_correct_answers(capsys):
    accepts(check.auxiliary_head, SOLUTION["auxiliary_head"], capsys)
    accepts(check.auxiliary_head, aux_with(flatten="reshape"), capsys)  # Activation layers, Reshape((-1,))
    accepts(check.auxiliary_head, aux_with(flatten="ops", spelling="ops"), capsys)  # keras.ops throughout
    accepts(check.auxiliary_head, nested_aux, capsys)  # two Sequential models


# -- Task 3 · inception_net ----------------------------------------------------------------
def net_with(
    loss_weights=lambda w: (1.0, w, w),
    compile_model=True,
    aux_at=(1, 2),
    outputs="main_first",
    modules=((16, 16, 24, 4, 8, 8), (24, 24, 32, 8, 16, 16), (32, 32, 48, 8, 16, 16)),
    loss="sparse_categorical_crossentropy",
    spelling="list",
    main_dropout=0.4,
    main_softmax=True,
    optimizer="adam",
    module=None,
    old=False,
):
    """A small inception network with two auxiliary heads; the defaults are right, each keyword makes one change.

    `old=True` makes the older exercise's version, `inception_net(n_class=10)` with one head after module 2.
    """
    inception_module, auxiliary_head = module or SOLUTION["inception_module"], SOLUTION["auxiliary_head"]
    if old:
        aux_at = (2,) if aux_at == (1, 2) else aux_at

    def build(n_class, aux_weight):
        inputs = keras.Input((28, 28, 1))
        x = layers.MaxPooling2D(2)(layers.Conv2D(32, 3, padding="same", activation="relu")(inputs))
        aux = []
        for i, filters in enumerate(modules, start=1):
            if i == 3:
                x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
            x = inception_module(x, *filters, name=f"m{i}")
            aux += [auxiliary_head(x, n_class, filters=32, units=128, name=f"aux{i}")] * aux_at.count(i)
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dropout(main_dropout)(x) if main_dropout else x
        main = layers.Dense(n_class, activation="softmax" if main_softmax else None, name="main")(x)
        if outputs == "main_only":
            model = keras.Model(inputs, main)
        elif outputs == "main_first":
            model = keras.Model(inputs, [main, *aux])
        elif outputs == "aux_first":
            model = keras.Model(inputs, [*aux, main])
        else:  # "aux_swapped"
            model = keras.Model(inputs, [main, *aux[::-1]])
        if not compile_model:
            return model
        weights = None if loss_weights is None else list(loss_weights(aux_weight))
        n = len(model.outputs)
        if spelling == "dict":
            model.compile(
                optimizer=optimizer,
                loss=dict.fromkeys(model.output_names, loss),
                loss_weights=dict(zip(model.output_names, weights, strict=True)),
            )
        elif spelling == "one loss":
            model.compile(optimizer=optimizer, loss=loss, loss_weights=weights)
        elif weights is None:
            model.compile(optimizer=optimizer, loss=[loss] * n)
        else:
            model.compile(optimizer=optimizer, loss=[loss] * n, loss_weights=weights)
        return model

    if old:
        return lambda n_class=10: build(n_class, 0.3)
    return lambda n_class=10, aux_weight=0.3: build(n_class, aux_weight)


def from_applications(n_class=10, aux_weight=0.3):
    return keras.applications.InceptionV3(weights=None, input_shape=(28, 28, 1), classes=n_class)


NET_MISTAKES = {
    "stub": (stub, "not written yet"),
    "keras.applications": (from_applications, "keras.applications builds this model"),
    "aux loss weights 1.0": (net_with(loss_weights=lambda w: (1.0, 1.0, 1.0)), "every output counts fully"),
    "no loss weights": (net_with(loss_weights=None), "every output counts fully"),
    "weights swapped": (net_with(loss_weights=lambda w: (w, 1.0, 1.0)), "swapped"),
    "a fixed 0.3, not aux_weight": (net_with(loss_weights=lambda w: (1.0, 0.3, 0.3)), "use the aux_weight argument"),
    "aux_weight on the first head only": (
        net_with(loss_weights=lambda w: (1.0, w, 1.0)),
        "both auxiliary losses are weighted by aux_weight",
    ),
    "aux_weight shared between the heads": (
        net_with(loss_weights=lambda w: (1.0, w / 2, w / 2)),
        "the whole aux_weight, not a share",
    ),
    "not compiled": (net_with(compile_model=False), "compile the model"),
    "no auxiliary output": (net_with(outputs="main_only"), "[main, aux1, aux2]"),
    "one auxiliary head (the older exercise's network)": (
        net_with(aux_at=(2,)),
        "number of outputs",
        "[main, aux1, aux2]",
    ),
    "outputs in the wrong order": (net_with(outputs="aux_first"), "main classifier is the first output"),
    "the two heads swapped": (net_with(outputs="aux_swapped"), "aux1 reads the first inception module's output"),
    "both heads after the second module": (net_with(aux_at=(2, 2)), "first inception module's output"),
    "second head after the last module": (net_with(aux_at=(1, 3)), "second inception module's output"),
    "wrong filters in a module": (
        net_with(modules=((16, 16, 24, 4, 8, 8), (24, 24, 32, 8, 16, 16), (32, 32, 64, 8, 16, 16))),
        "main output",
        "has 48 filters, not 64",
    ),
    "average pool in the modules": (
        net_with(module=module_with(pool=layers.AveragePooling2D)),
        "not average pooling",
    ),
    "no softmax on the main classifier": (net_with(main_softmax=False), "main output", "ends before Softmax"),
    "no dropout before the main classifier": (net_with(main_dropout=None), "Dropout(0.4)"),
    "mean squared error": (net_with(loss="mse"), "mse is not the loss of the task"),
    "from_logits=True on softmax outputs": (
        net_with(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
        "from_logits=False",
    ),
    "categorical crossentropy for integer labels": (
        net_with(loss="categorical_crossentropy"),
        "is not the loss of the task",
    ),
    "one loss for three weighted outputs": (net_with(spelling="one loss"), "one loss per output"),
}


@pytest.mark.parametrize("mistake", list(NET_MISTAKES))
def test_inception_net_rejects(mistake):
    answer, *fragments = NET_MISTAKES[mistake]
    rejects(check.inception_net, answer, "Task 3", *fragments)


def test_inception_net_accepts_correct_answers(capsys):
    accepts(check.inception_net, SOLUTION["inception_net"], capsys)
    accepts(check.inception_net, net_with(spelling="dict"), capsys)  # loss and loss_weights by output name
    loss = keras.losses.SparseCategoricalCrossentropy()
    accepts(check.inception_net, net_with(loss=loss, optimizer=keras.optimizers.SGD(0.01)), capsys)
    accepts(check.inception_net, net_with(module=module_with(nested=True, relu="layer")), capsys)  # nested branches
    accepts(check.inception_net, net_with(loss=keras.losses.sparse_categorical_crossentropy), capsys)


def test_inception_net_checks_an_older_copy_as_its_version_asked(capsys):
    """An older exercise's inception_net(n_class=10): one head after module 2, weights [1.0, 0.3]."""
    accepts(check.inception_net, net_with(old=True, loss_weights=lambda w: (1.0, 0.3)), capsys)
    rejects(check.inception_net, net_with(old=True, loss_weights=lambda w: (1.0, 1.0)), "Task 3", "every output counts")
    rejects(check.inception_net, net_with(old=True, aux_at=(3,)), "Task 3", "second inception module")


# -- Task 4 · inference_model --------------------------------------------------------------
def copied(m):
    clone = keras.models.clone_model(keras.Model(m.inputs, m.outputs[0]))
    clone.set_weights(keras.Model(m.inputs, m.outputs[0]).get_weights())
    return clone


INFERENCE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda m: None, "returned None"),
    "aux heads kept": (lambda m: m, "keep only the main output"),
    "the same model under a new name": (lambda m: keras.Model(m.inputs, m.outputs), "keep only the main output"),
    "an auxiliary output instead of the main one": (
        lambda m: keras.Model(m.inputs, m.outputs[-1]),
        "that is an auxiliary output",
    ),
    "a cloned network": (
        lambda m: keras.models.clone_model(keras.Model(m.inputs, m.outputs[0])),
        "not a new or cloned network",
    ),
    "a copy with the weights copied": (copied, "not a new or cloned network"),
    "a model from the config": (
        lambda m: keras.Model.from_config(keras.Model(m.inputs, m.outputs[0]).get_config()),
        "not a new or cloned network",
    ),
    "ends before the softmax": (
        lambda m: keras.Model(m.input, m.get_layer("main_logits").output),
        "before the main output's softmax",
    ),
    "ends at the pooled features": (
        lambda m: keras.Model(m.input, m.get_layer("main_logits").input),
        "the training model's first output",
    ),
    "returns the output tensor": (lambda m: m.outputs[0], "keras.Model"),
}


@pytest.mark.parametrize("mistake", list(INFERENCE_MISTAKES))
def test_inference_model_rejects(mistake):
    answer, *fragments = INFERENCE_MISTAKES[mistake]
    rejects(check.inference_model, answer, "Task 4", *fragments)


def test_inference_model_accepts_correct_answers(capsys):
    accepts(check.inference_model, SOLUTION["inference_model"], capsys)
    accepts(check.inference_model, lambda m: keras.Model(m.inputs, [m.outputs[0]]), capsys)  # a list of one output
    accepts(check.inference_model, lambda m: keras.Model(m.input, m.get_layer("main").output), capsys)  # by name
    accepts(check.inference_model, lambda m: keras.Model(inputs=m.input, outputs=m.output[0]), capsys)

    def wrapped(training_model):  # the training model called as a layer: its weights are shared
        inputs = keras.Input(training_model.input.shape[1:])
        return keras.Model(inputs, training_model(inputs)[0])

    accepts(check.inference_model, wrapped, capsys)


# -- Task 5 · branch_weights ---------------------------------------------------------------
def weights_with(**slips):
    """The right formula with one slip; a slip's value may depend on (c_in, k)."""

    def answer(c_in, k, filters, reduce=None):
        chosen = {key: value(c_in, k) if callable(value) else value for key, value in slips.items()}
        return check._branch_weights(c_in, k, filters, reduce, **chosen)

    return answer


def swapped_reduction(c_in, k, filters, reduce=None):
    if reduce is None:
        return k * k * c_in * filters
    return c_in * filters + k * k * reduce * filters


WEIGHTS_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda *a, **k: None, "returned None"),
    "forgets the reduction's own weights": (weights_with(own=False), "the 1×1 reduction's own weights"),
    "k×k conv reads c_in channels": (weights_with(reads=lambda c_in, k: c_in), "reads `reduce` channels"),
    "counts the biases": (weights_with(bias=True), "without the biases"),
    "k instead of k·k": (weights_with(kk=lambda c_in, k: k), "k·k weights per input channel"),
    "2k instead of k·k": (weights_with(kk=lambda c_in, k: 2 * k), "not 2k"),
    "reduction with `filters` filters": (swapped_reduction, "the 1×1 reduction has `reduce` filters"),
    "ignores reduce": (lambda c_in, k, filters, reduce=None: k * k * c_in * filters, "count its 1×1 conv"),
    "returns a float": (lambda *a, **k: float(check._branch_weights(*a, **k)), "whole number"),
    "returns a string": (lambda *a, **k: str(check._branch_weights(*a, **k)), "whole number"),
}


@pytest.mark.parametrize("mistake", list(WEIGHTS_MISTAKES))
def test_branch_weights_rejects(mistake):
    answer, fragment = WEIGHTS_MISTAKES[mistake]
    rejects(check.branch_weights, answer, "Task 5", fragment)


def test_branch_weights_accepts_correct_answers(capsys):
    accepts(check.branch_weights, SOLUTION["branch_weights"], capsys)

    def from_layers(c_in, k, filters, reduce=None):
        reads = c_in if reduce is None else reduce
        reduction = 0 if reduce is None else c_in * reduce
        return reduction + reads * filters * k**2

    accepts(check.branch_weights, from_layers, capsys)
    accepts(check.branch_weights, lambda c_in, k, f, reduce=None: np.int64(from_layers(c_in, k, f, reduce)), capsys)

    def from_shapes(c_in, k, filters, reduce=None, bias=False):  # a harmless extra argument
        shapes = [(k, k, c_in, filters)] if reduce is None else [(1, 1, c_in, reduce), (k, k, reduce, filters)]
        return sum(math.prod(s) for s in shapes)

    accepts(check.branch_weights, from_shapes, capsys)


# -- Task 6 · inception_macs ---------------------------------------------------------------
def macs_with(**slips):
    """The right count with one slip (see check._inception_macs)."""

    def answer(h, w, c_in, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, naive=False):
        return check._inception_macs(h, w, c_in, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, naive=naive, **slips)

    return answer


def macs_flag_ignored(h, w, c_in, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, naive=False):
    return check._inception_macs(h, w, c_in, f1, f3_reduce, f3, f5_reduce, f5, pool_proj)


def macs_flag_inverted(h, w, c_in, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, naive=False):
    return check._inception_macs(h, w, c_in, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, naive=not naive)


def macs_arguments_swapped(h, w, c_in, f1, f3, f3_reduce, f5, f5_reduce, pool_proj, naive=False):
    return check._inception_macs(h, w, c_in, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, naive=naive)


MACS_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda *a, **k: None, "returned None"),
    "one pixel's cost": (macs_with(no_area=True), "multiply by h·w"),
    "k instead of k·k": (macs_with(k_not_squared=True), "9 for 3×3, 25 for 5×5"),
    "biases counted": (macs_with(biases=True), "not the biases"),
    "max pool counted": (macs_with(pooling=True), "the max pool multiplies nothing"),
    "naive 3×3 and 5×5 read the reductions": (macs_with(naive_reads_reduce=True), "read all c_in channels"),
    "naive module with a pool projection": (macs_with(naive_projection=True), "has no 1×1 projection"),
    "reductions' own cost forgotten": (macs_with(no_reduction_cost=True), "the 1×1 reductions' own multiply-adds"),
    "3×3 and 5×5 read c_in after the reduction": (macs_with(reads_c_in=True), "reads f3_reduce channels"),
    "pool projection forgotten": (macs_with(no_projection=True), "count the pool projection"),
    "naive flag ignored": (macs_flag_ignored, "naive=True is the module without its 1×1 reductions"),
    "naive flag inverted": (macs_flag_inverted, "naive=True is the module without its 1×1 reductions"),
    "reduce and filters swapped": (macs_arguments_swapped, "take the arguments in order"),
    "returns a float with a fraction": (lambda *a, **k: macs_with()(*a, **k) / 3, "whole number"),
    "returns a string": (lambda *a, **k: str(macs_with()(*a, **k)), "whole number"),
}


@pytest.mark.parametrize("mistake", list(MACS_MISTAKES))
def test_inception_macs_rejects(mistake):
    answer, fragment = MACS_MISTAKES[mistake]
    rejects(check.inception_macs, answer, "Task 6", fragment)


def test_inception_macs_accepts_correct_answers(capsys):
    accepts(check.inception_macs, SOLUTION["inception_macs"], capsys)

    def from_branches(h, w, c_in, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, naive=False):
        weights = SOLUTION["branch_weights"]  # Task 5's function: a 1×1 conv of c_in → n has c_in·n weights
        if naive:
            total = weights(c_in, 1, f1) + weights(c_in, 3, f3) + weights(c_in, 5, f5)
        else:
            total = weights(c_in, 1, f1) + weights(c_in, 3, f3, f3_reduce) + weights(c_in, 5, f5, f5_reduce)
            total += weights(c_in, 1, pool_proj)
        return h * w * total

    accepts(check.inception_macs, from_branches, capsys)
    accepts(check.inception_macs, lambda *a, **k: np.int64(from_branches(*a, **k)), capsys)
    accepts(check.inception_macs, lambda *a, **k: float(from_branches(*a, **k)), capsys)  # 128049152.0 is whole

    def from_layers(h, w, c_in, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, naive=False):
        convs = [(1, c_in, f1), (3, c_in, f3), (5, c_in, f5)]
        if not naive:
            convs = [(1, c_in, f1), (1, c_in, f3_reduce), (3, f3_reduce, f3), (1, c_in, f5_reduce)]
            convs += [(5, f5_reduce, f5), (1, c_in, pool_proj)]
        return sum(h * w * k * k * c * n for k, c, n in convs)

    accepts(check.inception_macs, from_layers, capsys)


def test_inception_macs_agrees_with_the_cost_table_of_keras_layers():
    from cnn_course.costs import count_macs

    naive_module = module_with(projection="none")  # the naive module: no reductions, no pool projection
    for h, w, c_in, filters in check.MACS_CASES[3:]:
        inputs = keras.Input((h, w, c_in))
        reduced = keras.Model(inputs, SOLUTION["inception_module"](inputs, *filters, name="m"))
        assert count_macs(reduced) == check._inception_macs(h, w, c_in, *filters)
        f1, _, f3, _, f5, _ = filters
        naive = keras.Model(inputs, naive_module(inputs, f1, c_in, f3, c_in, f5, 1))
        reductions = h * w * c_in * c_in * 2  # the helper's two 1×1 convs of c_in → c_in are not in the naive module
        assert count_macs(naive) - reductions == check._inception_macs(h, w, c_in, *filters, naive=True)


# -- Task 7 · factorised_module ------------------------------------------------------------
def factorised_with(
    second=True,
    relu_between=True,
    first_filters="f5",
    k=3,
    padding="same",
    order=(0, 1, 2, 3),
    reduce=True,
    dilation=1,
    use_bias=True,
    pool=layers.MaxPooling2D,
    spelling="layers",
):
    """A factorised module; the defaults are right, each keyword makes one change."""

    def answer(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, name="factorised"):
        def conv(t, filters, size, relu=True, **kwargs):
            made = layers.Conv2D(filters, size, padding="same", use_bias=use_bias, **kwargs)
            if spelling == "ops":
                return ops.relu(made(t)) if relu else made(t)
            return layers.Activation("relu" if relu else "linear")(made(t))

        b1 = conv(x, f1, 1)
        b2 = conv(conv(x, f3_reduce, 1), f3, 3)
        b3 = conv(x, f5_reduce, 1) if reduce else x
        width = f5 if first_filters == "f5" else f5_reduce
        if k == 5:
            b3 = conv(b3, f5, 5)
        else:
            kwargs = {"dilation_rate": dilation} if dilation != 1 else {}
            b3 = layers.Conv2D(width, k, padding=padding, use_bias=use_bias, **kwargs)(b3)
            b3 = layers.ReLU()(b3) if relu_between or not second else b3
            if second:
                b3 = conv(b3, f5, 3)
        b4 = conv(pool(3, strides=1, padding="same")(x), pool_proj, 1)
        branches = [b1, b2, b3, b4]
        return layers.Concatenate()([branches[i] for i in order])

    return answer


def factorised_nested(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, name="factorised"):
    """Each branch a Sequential model."""

    def seq(*parts):
        return keras.Sequential([layers.Conv2D(f, k, padding="same", activation="relu") for f, k in parts])

    b4 = seq((pool_proj, 1))(layers.MaxPooling2D(3, strides=1, padding="same")(x))
    return layers.Concatenate()(
        [seq((f1, 1))(x), seq((f3_reduce, 1), (f3, 3))(x), seq((f5_reduce, 1), (f5, 3), (f5, 3))(x), b4]
    )


FACTORISED_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda x, *f, name="f": None, "returned None"),
    "the 5×5 conv kept": (factorised_with(k=5), "replace the 5×5 conv by two 3×3 convs"),
    "one 3×3 conv only": (factorised_with(second=False), "two 3×3 convs after its 1×1 reduction"),
    "no ReLU between the two 3×3 convs": (factorised_with(relu_between=False), "followed by a ReLU"),
    "first 3×3 conv with f5_reduce filters": (factorised_with(first_filters="reduce"), "filters, not"),
    "first 3×3 conv with padding 'valid'": (factorised_with(padding="valid"), "keeps height and width"),
    "first 3×3 conv dilated": (factorised_with(dilation=2), "not dilated"),
    "no 1×1 reduction before the 3×3 convs": (factorised_with(reduce=False), "1×1 convolution is missing"),
    "factorised branch before the 3×3 branch": (factorised_with(order=(0, 2, 1, 3)), "the table's order"),
    "pool branch first": (factorised_with(order=(3, 0, 1, 2)), "the table's order"),
    "average pool": (factorised_with(pool=layers.AveragePooling2D), "not average pooling"),
    "convolutions without bias": (factorised_with(use_bias=False), "use_bias=True"),
    "the original inception module": (SOLUTION["inception_module"], "replace the 5×5 conv by two 3×3 convs"),
}


@pytest.mark.parametrize("mistake", list(FACTORISED_MISTAKES))
def test_factorised_module_rejects(mistake):
    answer, fragment = FACTORISED_MISTAKES[mistake]
    rejects(check.factorised_module, answer, "Task 7", fragment)


def test_factorised_module_accepts_correct_answers(capsys):
    accepts(check.factorised_module, SOLUTION["factorised_module"], capsys)
    accepts(check.factorised_module, factorised_with(), capsys)  # Activation layers, no names
    accepts(check.factorised_module, factorised_with(spelling="ops"), capsys)  # keras.ops.relu
    accepts(check.factorised_module, factorised_nested, capsys)  # nested Sequential branches

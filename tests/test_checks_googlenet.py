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
    loss_weights=(1.0, 0.3),
    compile_model=True,
    aux_at=2,
    outputs="main_first",
    modules=((16, 16, 24, 4, 8, 8), (24, 24, 32, 8, 16, 16), (32, 32, 48, 8, 16, 16)),
    loss="sparse_categorical_crossentropy",
    spelling="list",
    main_dropout=0.4,
    main_softmax=True,
    optimizer="adam",
    module=None,
):
    """A small inception network; the defaults are right, each keyword makes one change."""
    inception_module, auxiliary_head = module or SOLUTION["inception_module"], SOLUTION["auxiliary_head"]

    def answer(n_class=10):
        inputs = keras.Input((28, 28, 1))
        x = layers.MaxPooling2D(2)(layers.Conv2D(32, 3, padding="same", activation="relu")(inputs))
        aux = None
        for i, filters in enumerate(modules, start=1):
            if i == 3:
                x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
            x = inception_module(x, *filters, name=f"m{i}")
            if i == aux_at:
                aux = auxiliary_head(x, n_class, filters=32, units=128, name="aux")
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dropout(main_dropout)(x) if main_dropout else x
        main = layers.Dense(n_class, activation="softmax" if main_softmax else None, name="main")(x)
        if outputs == "main_only":
            model = keras.Model(inputs, main)
        else:
            model = keras.Model(inputs, [main, aux] if outputs == "main_first" else [aux, main])
        if not compile_model:
            return model
        if spelling == "dict":
            model.compile(
                optimizer=optimizer,
                loss={"main": loss, "aux": loss},
                loss_weights={"aux": loss_weights[1], "main": loss_weights[0]},
            )
        elif spelling == "one loss":
            model.compile(optimizer=optimizer, loss=loss, loss_weights=list(loss_weights))
        elif loss_weights is None:
            model.compile(optimizer=optimizer, loss=[loss, loss])
        else:
            model.compile(optimizer=optimizer, loss=[loss, loss], loss_weights=list(loss_weights))
        return model

    return answer


def from_applications(n_class=10):
    return keras.applications.InceptionV3(weights=None, input_shape=(28, 28, 1), classes=n_class)


NET_MISTAKES = {
    "stub": (stub, "not written yet"),
    "keras.applications": (from_applications, "keras.applications builds this model"),
    "aux loss weight 1.0": (net_with(loss_weights=(1.0, 1.0)), "discounts the auxiliary loss to 0.3"),
    "no loss weights": (net_with(loss_weights=None), "discounts the auxiliary loss to 0.3"),
    "weights swapped": (net_with(loss_weights=(0.3, 1.0)), "swapped"),
    "aux weight 0.5": (net_with(loss_weights=(1.0, 0.5)), "loss_weights=[1.0, 0.3]"),
    "not compiled": (net_with(compile_model=False), "compile the model"),
    "no auxiliary output": (net_with(outputs="main_only"), "[main, aux]"),
    "outputs in the wrong order": (net_with(outputs="aux_first"), "main classifier is the first output"),
    "aux head after the last module": (net_with(aux_at=3), "second inception module"),
    "aux head after the first module": (net_with(aux_at=1), "second inception module"),
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
    "one loss for two weighted outputs": (net_with(spelling="one loss"), "one loss per output"),
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

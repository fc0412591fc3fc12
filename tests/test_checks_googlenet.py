"""Unit 06's checks: each rejects the stub and the typical wrong answers, and accepts
the solution (run from solutions/06_googlenet.ipynb) and other correct ways to write it.

Each wrong answer names the words its rejection must contain, so that a wrong
answer is rejected for its own mistake, not by accident.
"""

import keras
import numpy as np
import pytest
from keras import layers

from cnn_course.checks import googlenet as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("06_googlenet")


# -- Task 1 · inception_module -----------------------------------------------------------
def module_with(
    join="concat",
    order=(0, 1, 2, 3),
    reduce3=True,
    reduce5=True,
    pool_stride=1,
    pool=layers.MaxPooling2D,
    projection=True,
    relu="fused",
    use_bias=True,
    axis=-1,
    define_backwards=False,
):
    def answer(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, name="inception"):
        def conv(t, filters, size):
            fused = "relu" if relu == "fused" else None
            y = layers.Conv2D(filters, size, padding="same", activation=fused, use_bias=use_bias)(t)
            if relu == "layer":
                y = layers.ReLU()(y)
            elif relu == "ops":
                y = keras.ops.relu(y)
            return y

        def branch(i):
            if i == 0:
                return conv(x, f1, 1)
            if i == 1:
                return conv(conv(x, f3_reduce, 1) if reduce3 else x, f3, 3)
            if i == 2:
                return conv(conv(x, f5_reduce, 1) if reduce5 else x, f5, 5)
            p = pool(3, strides=pool_stride, padding="same")(x)
            return conv(p, pool_proj, 1) if projection else p

        built = {}
        for i in reversed(range(4)) if define_backwards else range(4):
            built[i] = branch(i)
        branches = [built[i] for i in order]
        if join == "add":
            return layers.Add()(branches)
        if join == "ops":
            return keras.ops.concatenate(branches, axis=axis)
        return layers.Concatenate(axis=axis)(branches)

    return answer


MODULE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda x, *f, name="i": None, "returned None"),
    "branches added instead of concatenated": (module_with(join="add"), "not added"),
    "no 1×1 reduction before the 3×3": (module_with(reduce3=False), "1×1 convolution is missing"),
    "no 1×1 reduction before the 5×5": (module_with(reduce5=False), "1×1 convolution is missing"),
    "pool with stride 2": (module_with(pool_stride=2), "strides=1"),
    "average pool instead of max pool": (module_with(pool=layers.AveragePooling2D), "max pooling"),
    "pool without its 1×1 projection": (module_with(projection=False), "1×1 projection to pool_proj"),
    "3×3 and 5×5 branches swapped": (module_with(order=(0, 2, 1, 3)), "the table's order"),
    "pool branch before the 3×3 branch": (module_with(order=(0, 3, 1, 2)), "the table's order"),
    "1×1 branch last": (module_with(order=(1, 2, 3, 0)), "the table's order"),
    "no ReLU": (module_with(relu=None), "followed by a ReLU"),
    "convolutions without bias": (module_with(use_bias=False), "use_bias=True"),
    "concatenated on the wrong axis": (module_with(axis=1), "Concatenate(axis=-1)"),
    "returns the layer, not its output": (lambda x, *f, name="i": layers.Concatenate(), "Keras tensor"),
}


def test_adding_is_rejected_even_when_keras_accepts_the_shapes():
    # with equal filter numbers the sum builds fine in Keras; the channel count must catch it
    def add_when_it_builds(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, name="inception"):
        join = "add" if f1 == f3 == f5 == pool_proj else "concat"
        return module_with(join=join)(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj)

    rejects(check.inception_module, add_when_it_builds, "Task 1", "output shape", "concatenate them along the channels")


@pytest.mark.parametrize("mistake", list(MODULE_MISTAKES))
def test_inception_module_rejects(mistake):
    answer, fragment = MODULE_MISTAKES[mistake]
    rejects(check.inception_module, answer, "Task 1", fragment)


def test_inception_module_accepts_correct_answers(capsys):
    accepts(check.inception_module, SOLUTION["inception_module"], capsys)
    accepts(check.inception_module, module_with(relu="layer"), capsys)  # Conv2D, then a ReLU layer
    accepts(check.inception_module, module_with(relu="ops", join="ops"), capsys)  # keras.ops everywhere
    accepts(check.inception_module, module_with(define_backwards=True), capsys)  # branches defined pool first


def test_channel_radii_restores_the_weights():
    inputs = keras.Input((9, 9, 3))
    model = keras.Model(inputs, SOLUTION["inception_module"](inputs, 2, 3, 4, 2, 3, 2))
    before = [w.copy() for w in model.get_weights()]
    assert check.channel_radii(model, 9) == [0] * 2 + [1] * 4 + [2] * 3 + [1] * 2
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


# -- Task 2 · auxiliary_head ---------------------------------------------------------------
def aux_with(
    pool=layers.AveragePooling2D,
    pool_stride=3,
    conv=True,
    flatten=layers.Flatten,
    rate=0.7,
    dropout_last=False,
    hidden_relu=True,
    softmax=True,
    fixed_sizes=False,
    split_activation=False,
):
    def answer(x, n_class, filters=128, units=1024, name="aux"):
        if fixed_sizes:
            filters, units = 128, 1024
        x = pool(5, strides=pool_stride)(x)
        if conv:
            x = layers.Conv2D(filters, 1, activation=None if split_activation else "relu")(x)
            if split_activation:
                x = layers.Activation("relu")(x)
        x = flatten()(x) if flatten is layers.Flatten else layers.Reshape((-1,))(x)
        x = layers.Dense(units, activation="relu" if hidden_relu else None)(x)
        if not dropout_last and rate:
            x = layers.Dropout(rate)(x)
        x = layers.Dense(n_class)(x)
        if dropout_last:
            x = layers.Dropout(rate)(x)
        return layers.Softmax()(x) if softmax else x

    return answer


AUX_MISTAKES = {
    "stub": (stub, "not written yet"),
    "pool with stride 1": (aux_with(pool_stride=1), "strides=3"),
    "max pool": (aux_with(pool=layers.MaxPooling2D), "not max pooling"),
    "no 1×1 conv": (aux_with(conv=False), "a 1×1 convolution with `filters`"),
    "dropout 0.4": (aux_with(rate=0.4), "Dropout(0.7)"),
    "no dropout": (aux_with(rate=0), "dropout (70 %)"),
    "dropout after the classifier": (aux_with(dropout_last=True), "dropout (70 %) comes between"),
    "no ReLU on the hidden layer": (aux_with(hidden_relu=False), "hidden Dense layer have a ReLU"),
    "no softmax": (aux_with(softmax=False), "Softmax"),
    "ignores filters and units": (aux_with(fixed_sizes=True), "`filters` filters"),
}


@pytest.mark.parametrize("mistake", list(AUX_MISTAKES))
def test_auxiliary_head_rejects(mistake):
    answer, fragment = AUX_MISTAKES[mistake]
    rejects(check.auxiliary_head, answer, "Task 2", fragment)


def test_auxiliary_head_accepts_correct_answers(capsys):
    accepts(check.auxiliary_head, SOLUTION["auxiliary_head"], capsys)
    accepts(check.auxiliary_head, aux_with(split_activation=True, flatten=layers.Reshape), capsys)


# -- Task 3 · inception_net ----------------------------------------------------------------
def net_with(
    loss_weights=(1.0, 0.3),
    compile_model=True,
    aux_at=2,
    outputs="main_first",
    modules=((16, 16, 24, 4, 8, 8), (24, 24, 32, 8, 16, 16), (32, 32, 48, 8, 16, 16)),
    loss="sparse_categorical_crossentropy",
    by_name=False,
):
    module, head = SOLUTION["inception_module"], SOLUTION["auxiliary_head"]

    def answer(n_class=10):
        inputs = keras.Input((28, 28, 1))
        x = layers.MaxPooling2D(2)(layers.Conv2D(32, 3, padding="same", activation="relu")(inputs))
        aux = None
        for i, filters in enumerate(modules, start=1):
            if i == 3:
                x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
            x = module(x, *filters, name=f"m{i}")
            if i == aux_at:
                aux = head(x, n_class, filters=32, units=128, name="aux")
        x = layers.Dropout(0.4)(layers.GlobalAveragePooling2D()(x))
        main = layers.Dense(n_class, activation="softmax", name="main")(x)
        if outputs == "main_only":
            model = keras.Model(inputs, main)
        else:
            model = keras.Model(inputs, [main, aux] if outputs == "main_first" else [aux, main])
        if compile_model:
            if by_name:
                model.compile(
                    optimizer="adam",
                    loss={"main": loss, "aux": loss},
                    loss_weights={"main": loss_weights[0], "aux": loss_weights[1]},
                )
            elif by_name is None:  # one loss for both outputs, with two weights
                model.compile(optimizer="adam", loss=loss, loss_weights=list(loss_weights))
            elif loss_weights is None:
                model.compile(optimizer="adam", loss=[loss, loss])
            else:
                model.compile(optimizer="adam", loss=[loss, loss], loss_weights=list(loss_weights))
        return model

    return answer


NET_MISTAKES = {
    "stub": (stub, "not written yet"),
    "aux loss weight 1.0": (net_with(loss_weights=(1.0, 1.0)), "discounts the auxiliary loss to 0.3"),
    "no loss weights": (net_with(loss_weights=None), "discounts the auxiliary loss to 0.3"),
    "weights swapped": (net_with(loss_weights=(0.3, 1.0)), "swapped"),
    "aux weight 0.5": (net_with(loss_weights=(1.0, 0.5)), "loss_weights=[1.0, 0.3]"),
    "not compiled": (net_with(compile_model=False), "compile the model"),
    "no auxiliary output": (net_with(outputs="main_only"), "[main, aux]"),
    "outputs in the wrong order": (net_with(outputs="aux_first"), "main classifier is the first output"),
    "aux head after the last module": (net_with(aux_at=3), "second inception module"),
    "wrong filters in a module": (
        net_with(modules=((16, 16, 24, 4, 8, 8), (24, 24, 32, 8, 16, 16), (32, 32, 64, 8, 16, 16))),
        "three inception modules",
    ),
    "mean squared error": (net_with(loss="mse"), "raised"),
    "one loss for two weighted outputs": (net_with(by_name=None), "one loss per output"),
}


@pytest.mark.parametrize("mistake", list(NET_MISTAKES))
def test_inception_net_rejects(mistake):
    answer, fragment = NET_MISTAKES[mistake]
    rejects(check.inception_net, answer, "Task 3", fragment)


def test_inception_net_accepts_correct_answers(capsys):
    accepts(check.inception_net, SOLUTION["inception_net"], capsys)
    accepts(check.inception_net, net_with(by_name=True), capsys)  # loss and loss_weights as dicts by output name


def test_the_checks_formulas_agree_with_keras():
    module = SOLUTION["inception_module"]
    for c_in, filters in [(192, (64, 96, 128, 16, 32, 32)), (7, (1, 2, 3, 4, 5, 6))]:
        inputs = keras.Input((6, 6, c_in))
        assert keras.Model(inputs, module(inputs, *filters)).count_params() == check.module_params(c_in, filters)
    inputs = keras.Input((14, 14, 512))
    assert keras.Model(inputs, SOLUTION["auxiliary_head"](inputs, 1000)).count_params() == check.aux_params(512, 1000)


# -- Task 4 · inference_model --------------------------------------------------------------
INFERENCE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "aux heads kept": (lambda m: m, "keep only the main output"),
    "the same model under a new name": (lambda m: keras.Model(m.inputs, m.outputs), "keep only the main output"),
    "an auxiliary output instead of the main one": (lambda m: keras.Model(m.inputs, m.outputs[-1]), "not an auxiliary"),
    "a cloned network": (
        lambda m: keras.models.clone_model(keras.Model(m.inputs, m.outputs[0])),
        "not a new or cloned network",
    ),
    "returns the output tensor": (lambda m: m.outputs[0], "keras.Model"),
}


@pytest.mark.parametrize("mistake", list(INFERENCE_MISTAKES))
def test_inference_model_rejects(mistake):
    answer, fragment = INFERENCE_MISTAKES[mistake]
    rejects(check.inference_model, answer, "Task 4", fragment)


def test_inference_model_accepts_correct_answers(capsys):
    accepts(check.inference_model, SOLUTION["inference_model"], capsys)
    accepts(check.inference_model, lambda m: keras.Model(m.inputs, [m.outputs[0]]), capsys)  # a list of one output
    accepts(check.inference_model, lambda m: keras.Model(m.input, m.get_layer("main").output), capsys)  # by name


# -- Task 5 · branch_weights ---------------------------------------------------------------
def weights_with(own=True, reads_reduced=True, bias=False, square=True):
    def answer(c_in, k, filters, reduce=None):
        kk = k * k if square else k
        if reduce is None:
            return kk * c_in * filters + bias * filters
        total = kk * (reduce if reads_reduced else c_in) * filters + bias * filters
        if own:
            total += c_in * reduce + bias * reduce
        return total

    return answer


WEIGHTS_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda *a, **k: None, "returned None"),
    "forgets the reduction's own weights": (weights_with(own=False), "the 1×1 reduction's own weights"),
    "k×k conv reads c_in channels": (weights_with(reads_reduced=False), "reads `reduce` channels"),
    "counts the biases": (weights_with(bias=True), "without the biases"),
    "k instead of k·k": (weights_with(square=False), "k·k weights"),
    "returns a float": (lambda *a, **k: float(weights_with()(*a, **k)), "wrong type"),
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

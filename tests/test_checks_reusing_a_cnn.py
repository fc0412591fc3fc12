"""Unit 04's checks: each rejects the stub and the typical wrong answers, and accepts
the solution (run from solutions/04_reusing_a_cnn.ipynb) and other correct ways to write it.

Each wrong answer names the words its rejection must contain, so that a wrong
answer is rejected for its own mistake, not by accident.
"""

import keras
import numpy as np
import pytest
from keras import layers

from cnn_course.checks import reusing_a_cnn as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("04_reusing_a_cnn")


# -- Task 1 · split_digits --------------------------------------------------------------
def split_with(boundary=5, relabel=lambda y: y - 5, swap=False, op="lt"):
    def answer(x, y):
        a = y < boundary if op == "lt" else y <= boundary
        parts = ((x[a], y[a]), (x[~a], relabel(y[~a])))
        return parts[::-1] if swap else parts

    return answer


SPLIT_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda x, y: None, "returned None"),
    "task B not relabelled": (split_with(relabel=lambda y: y), "relabel task B"),
    "5 goes to task A": (split_with(op="le"), "digit 5 belongs to task B"),
    "tasks swapped": (split_with(swap=True), "number of images"),
    "relabelled by 4": (split_with(relabel=lambda y: y - 4), "labels"),
    "one pair only": (lambda x, y: (x[y < 5], y[y < 5]), "two (x, y) pairs"),
    "images rescaled": (
        lambda x, y: ((x[y < 5] * 255, y[y < 5]), (x[y >= 5] * 255, y[y >= 5] - 5)),
        "unchanged",
    ),
}


@pytest.mark.parametrize("mistake", list(SPLIT_MISTAKES))
def test_split_digits_rejects(mistake):
    answer, fragment = SPLIT_MISTAKES[mistake]
    rejects(check.split_digits, answer, "Task 1", fragment)


def test_split_digits_accepts_correct_answers(capsys):
    accepts(check.split_digits, SOLUTION["split_digits"], capsys)
    accepts(check.split_digits, split_with(relabel=lambda y: y % 5), capsys)

    def by_index(x, y):  # a list of indices, reversed order, labels from np.where
        a = np.flatnonzero(y < 5)[::-1]
        b = np.flatnonzero(y >= 5)[::-1]
        return (x[a], y[a]), (x[b], np.where(y[b] >= 5, y[b] - 5, y[b]))

    accepts(check.split_digits, by_index, capsys)


# -- Task 2 · transfer_model --------------------------------------------------------------
def transfer_with(freeze=True, reuse_old_head=False, fresh_base=False, classes=None, stack=False):
    def answer(source, n_classes):
        base = source.get_layer("digits_base")
        if fresh_base:
            base = keras.models.clone_model(base)
        base.trainable = not freeze
        inputs = keras.Input((28, 28, 1))
        x = base(inputs)
        if reuse_old_head:
            head = source.get_layer("source_head")
            outputs = head(x)
            if stack:
                outputs = layers.Dense(n_classes, activation="softmax")(outputs)
        else:
            outputs = layers.Dense(classes or n_classes, activation="softmax")(x)
        return keras.Model(inputs, outputs)

    return answer


TRANSFER_MISTAKES = {
    "stub": (stub, "not written yet"),
    "base left trainable": (transfer_with(freeze=False), "base.trainable = False"),
    "head with 10 classes": (transfer_with(classes=10), "one unit per class"),
    "reuses the old classifier": (transfer_with(reuse_old_head=True), "source_head"),
    "new head stacked on the old classifier": (transfer_with(reuse_old_head=True, stack=True), "source_head"),
    "a fresh base (training from scratch)": (transfer_with(fresh_base=True), "training from scratch"),
    "returns the base only": (lambda source, n: source.get_layer("digits_base"), "output shape"),
    "returns the layer, not a model": (lambda source, n: layers.Dense(n), "keras.Model"),
}


@pytest.mark.parametrize("mistake", list(TRANSFER_MISTAKES))
def test_transfer_model_rejects(mistake):
    answer, fragment = TRANSFER_MISTAKES[mistake]
    rejects(check.transfer_model, answer, "Task 2", fragment)


def test_transfer_model_accepts_correct_answers(capsys):
    accepts(check.transfer_model, SOLUTION["transfer_model"], capsys)

    def sequential(source, n_classes):  # the base cut out of the source by output, then Sequential
        features = keras.Model(source.inputs, source.get_layer("source_head").input)
        features.trainable = False
        inputs = keras.Input((28, 28, 1))
        x = features(inputs, training=False)
        x = layers.Dense(n_classes)(x)
        return keras.Model(inputs, layers.Softmax()(x))

    accepts(check.transfer_model, sequential, capsys)


# -- Task 3 · unfreeze_top ----------------------------------------------------------------
def unfreeze_with(top=True, bn=False, count_all_layers=False, only_outer=False, no_refreeze=False):
    def answer(base, k):
        if only_outer:
            base.trainable = True
            return
        base.trainable = True
        if not no_refreeze:
            for layer in base.layers:
                layer.trainable = False
        if count_all_layers:
            chosen = base.layers[len(base.layers) - k :] if k else []
        else:
            convs = [layer for layer in base.layers if isinstance(layer, layers.Conv2D)]
            chosen = (convs[len(convs) - k :] if top else convs[:k]) if k else []
        for layer in chosen:
            layer.trainable = True
        if bn:
            for layer in base.layers[1:]:
                if isinstance(layer, layers.BatchNormalization) and any(
                    layer.name.split("_")[0] == c.name.split("_")[0] for c in chosen
                ):
                    layer.trainable = True

    return answer


UNFREEZE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "bottom k instead of top k": (unfreeze_with(top=False), "from the top"),
    "BN unfrozen too": (unfreeze_with(bn=True), "BatchNormalization"),
    "base.trainable = True only": (unfreeze_with(only_outer=True), "unfreezes everything"),
    "counts every layer, not convolutions": (unfreeze_with(count_all_layers=True), "layers with trainable weights"),
    "never freezes again": (unfreeze_with(no_refreeze=True), "layers with trainable weights"),
}


@pytest.mark.parametrize("mistake", list(UNFREEZE_MISTAKES))
def test_unfreeze_top_rejects(mistake):
    answer, fragment = UNFREEZE_MISTAKES[mistake]
    rejects(check.unfreeze_top, answer, "Task 3", fragment)


def test_unfreeze_top_accepts_correct_answers(capsys):
    accepts(check.unfreeze_top, SOLUTION["unfreeze_top"], capsys)

    def by_weights(base, k):  # walk the layers from the top, counting kernels
        base.trainable = True
        left = k
        for layer in reversed(base.layers):
            is_conv = "kernel" in [w.name for w in layer.weights] and not isinstance(layer, layers.Dense)
            layer.trainable = bool(is_conv and left > 0)
            left -= int(is_conv)

    accepts(check.unfreeze_top, by_weights, capsys)


# -- Task 4 · start_fine_tuning ----------------------------------------------------------
def unfreeze(base, k):
    SOLUTION["unfreeze_top"](base, k)


def fine_tune_with(lr_factor=0.1, recompile=True, compile_first=False, bottom=False, bn=False):
    def answer(model, base, k, scratch_lr):
        optimizer = keras.optimizers.Adam(scratch_lr * lr_factor)
        if compile_first:
            model.compile(optimizer, "sparse_categorical_crossentropy")
        if bottom or bn:
            unfreeze_with(top=not bottom, bn=bn)(base, k)
        else:
            unfreeze(base, k)
        if recompile and not compile_first:
            model.compile(optimizer, "sparse_categorical_crossentropy")

    return answer


FINE_TUNE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "no compile after changing trainable": (fine_tune_with(recompile=False), "compile(...) again"),
    "learning rate as large as from scratch": (fine_tune_with(lr_factor=1.0), "as large as from scratch"),
    "learning rate half of scratch": (fine_tune_with(lr_factor=0.5), "about ten times smaller"),
    "learning rate far too small": (fine_tune_with(lr_factor=1e-5), "barely move"),
    "bottom layers unfrozen": (fine_tune_with(bottom=True), "from the top"),
    "BN unfrozen with the top convolutions": (fine_tune_with(bn=True), "BatchNormalization"),
}


@pytest.mark.parametrize("mistake", list(FINE_TUNE_MISTAKES))
def test_start_fine_tuning_rejects(mistake):
    answer, fragment = FINE_TUNE_MISTAKES[mistake]
    rejects(check.start_fine_tuning, answer, "Task 4", fragment)


def test_start_fine_tuning_accepts_correct_answers(capsys):
    accepts(check.start_fine_tuning, SOLUTION["start_fine_tuning"], capsys)
    # compiling before changing `trainable` is fine in Keras 3 when no fit runs in between
    accepts(check.start_fine_tuning, fine_tune_with(compile_first=True), capsys)
    accepts(check.start_fine_tuning, fine_tune_with(lr_factor=0.01), capsys)


# -- Task 5 · trainable_split ------------------------------------------------------------
def split_answer(**kwargs):
    return lambda channels, n_classes, k: check.split_by_formula(channels, n_classes, k, **kwargs)


SPLIT_COUNT_MISTAKES = {
    "stub": (stub, "not written yet"),
    "BN γ, β trainable": (split_answer(bn_trainable=True), "γ and β are non-trainable"),
    "conv biases counted": (split_answer(bias=True), "no bias"),
    "bottom k counted": (split_answer(top=False), "not the bottom"),
    "3 input channels": (split_answer(in_channels=3), "1 channel"),
    "BN counted with 2 numbers": (
        lambda c, n, k: (check.split_by_formula(c, n, k)[0], check.split_by_formula(c, n, k)[1] - 2 * sum(c)),
        "4 numbers per BN channel",
    ),
    "returns floats": (lambda c, n, k: tuple(float(v) for v in check.split_by_formula(c, n, k)), "whole numbers"),
}


@pytest.mark.parametrize("mistake", list(SPLIT_COUNT_MISTAKES))
def test_trainable_split_rejects(mistake):
    answer, fragment = SPLIT_COUNT_MISTAKES[mistake]
    rejects(check.trainable_split, answer, "Task 5", fragment)


def test_trainable_split_accepts_correct_answers(capsys):
    accepts(check.trainable_split, SOLUTION["trainable_split"], capsys)

    def by_building(channels, n_classes, k):  # count on a real Keras model
        inputs = keras.Input((28, 28, 1))
        x, convs = inputs, []
        for c in channels:
            conv = layers.Conv2D(c, 3, padding="same", use_bias=False)
            convs.append(conv)
            x = layers.BatchNormalization(trainable=False)(conv(x))
        model = keras.Model(inputs, layers.Dense(n_classes)(layers.GlobalAveragePooling2D()(x)))
        for i, conv in enumerate(convs):
            conv.trainable = i >= len(convs) - k
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        return trainable, model.count_params() - trainable

    accepts(check.trainable_split, by_building, capsys)


def test_the_formula_matches_keras():
    base = check.conv_base((16, 32, 64))
    model = keras.Sequential([base, layers.Dense(5)])
    model.build((None, 28, 28, 1))
    base.trainable = False
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert (trainable, model.count_params() - trainable) == check.split_by_formula((16, 32, 64), 5, 0)

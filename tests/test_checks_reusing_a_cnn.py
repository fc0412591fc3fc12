"""Unit 04's checks: each rejects the stub and the typical wrong answers, and accepts
the solution (run from solutions/04_reusing_a_cnn.ipynb) and other correct ways to write it.

Each wrong answer names the words its rejection must contain, so that a wrong
answer is rejected for its own mistake, not by accident.
"""

import keras
import numpy as np
import pytest
from keras import layers, ops

from cnn_course.checks import reusing_a_cnn as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("04_reusing_a_cnn")


# -- split_digits: Task 1 before #15; its check stays for learners' copies of earlier releases --------
def split_with(boundary=5, relabel=lambda y: y - 5, swap=False, op="lt", shuffle_labels=False, relabel_a=None):
    def answer(x, y):
        a = y < boundary if op == "lt" else y <= boundary
        y_b = relabel(y[~a])
        if shuffle_labels:
            y_b = np.random.default_rng(0).permutation(y_b)
        parts = ((x[a], relabel_a(y[a]) if relabel_a else y[a]), (x[~a], y_b))
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
    "labels of B shuffled apart from their images": (split_with(shuffle_labels=True), "same mask"),
    "task A relabelled too": (split_with(relabel_a=lambda y: y + 5), "labels"),
    "task B one-hot": (split_with(relabel=lambda y: np.eye(5)[y - 5]), "number of labels"),
    "task B by y > 5": (lambda x, y: ((x[y < 5], y[y < 5]), (x[y > 5], y[y > 5] - 5)), "number of images"),
}


@pytest.mark.parametrize("mistake", list(SPLIT_MISTAKES))
def test_split_digits_rejects(mistake):
    answer, fragment = SPLIT_MISTAKES[mistake]
    rejects(check.split_digits, answer, "Task 1", fragment)


def test_split_digits_accepts_correct_answers(capsys):
    accepts(check.split_digits, split_with(), capsys)
    accepts(check.split_digits, split_with(relabel=lambda y: y % 5), capsys)

    def by_index(x, y):  # a list of indices, reversed order, labels from np.where
        a = np.flatnonzero(y < 5)[::-1]
        b = np.flatnonzero(y >= 5)[::-1]
        return (x[a], y[a]), (x[b], np.where(y[b] >= 5, y[b] - 5, y[b]))

    accepts(check.split_digits, by_index, capsys)

    def sorted_lists(x, y):  # lists, sorted by label
        order = np.argsort(y, kind="stable")
        a = [i for i in order if y[i] < 5]
        b = [i for i in order if y[i] >= 5]
        return [list(x[a]), [int(v) for v in y[a]]], [list(x[b]), [int(v) - 5 for v in y[b]]]

    accepts(check.split_digits, sorted_lists, capsys)


# -- Task 2 · transfer_model --------------------------------------------------------------
def transfer_with(
    freeze=True,
    reuse_old_head=False,
    fresh_base=False,
    clone_base=False,
    classes=None,
    stack=False,
    activation="softmax",
    hidden=None,
    convs_only=False,
):
    def answer(source, n_classes):
        base = source.get_layer("digits_base")
        if clone_base:
            base = keras.models.clone_model(base)
        if fresh_base:
            base = check.conv_base(tuple(layer.filters for layer in check._conv_layers(base)), name="fresh", seed=9)
        base.trainable = not freeze
        if convs_only:
            for layer in check._conv_layers(base):
                layer.trainable = False
        inputs = keras.Input((28, 28, 1))
        x = base(inputs)
        if reuse_old_head:
            outputs = source.get_layer("source_head")(x)
            if stack:
                outputs = layers.Dense(n_classes, activation="softmax")(outputs)
        else:
            if hidden:
                x = layers.Dense(hidden, activation="relu")(x)
            outputs = layers.Dense(classes or n_classes, activation=activation)(x)
        return keras.Model(inputs, outputs)

    return answer


TRANSFER_MISTAKES = {
    "stub": (stub, "not written yet"),
    "base left trainable": (transfer_with(freeze=False), "base.trainable = False"),
    "only the convolutions frozen": (transfer_with(freeze=False, convs_only=True), "freeze all of it"),
    "head with 10 classes": (transfer_with(classes=10), "one unit per class"),
    "reuses the old classifier": (transfer_with(reuse_old_head=True), "source_head"),
    "new head stacked on the old classifier": (transfer_with(reuse_old_head=True, stack=True), "source_head"),
    "a fresh base (training from scratch)": (transfer_with(fresh_base=True), "use the source's base itself"),
    "a cloned base": (transfer_with(clone_base=True), "clone_model"),
    "no softmax": (transfer_with(activation=None), "end with softmax"),
    "sigmoid head": (transfer_with(activation="sigmoid"), "straight into Dense"),
    "a hidden Dense layer": (transfer_with(hidden=16), "no hidden layer"),
    "returns the base only": (lambda source, n: source.get_layer("digits_base"), "output shape"),
    "returns the layer, not a model": (lambda source, n: layers.Dense(n), "keras.Model"),
}


@pytest.mark.parametrize("mistake", list(TRANSFER_MISTAKES))
def test_transfer_model_rejects(mistake):
    answer, fragment = TRANSFER_MISTAKES[mistake]
    rejects(check.transfer_model, answer, "Task 2", fragment)


def test_transfer_model_accepts_correct_answers(capsys):
    accepts(check.transfer_model, SOLUTION["transfer_model"], capsys)

    def cut_out(source, n_classes):  # the base cut out of the source by output, training=False, a Softmax layer
        features = keras.Model(source.inputs, source.get_layer("source_head").input)
        features.trainable = False
        inputs = keras.Input((28, 28, 1))
        x = features(inputs, training=False)
        x = layers.Dense(n_classes)(x)
        return keras.Model(inputs, layers.Softmax()(x))

    def sequential(source, n_classes):  # GAP already in the base: Sequential([base, Dense])
        base = source.get_layer("digits_base")
        base.trainable = False
        return keras.Sequential([keras.Input((28, 28, 1)), base, layers.Dense(n_classes, activation="softmax")])

    def with_ops(source, n_classes):  # frozen after building, keras.ops.softmax
        inputs = keras.Input(shape=(28, 28, 1))
        base = source.layers[1]
        model = keras.Model(inputs, ops.softmax(layers.Dense(units=n_classes, name="target_head")(base(inputs))))
        base.trainable = False
        return model

    for answer in (cut_out, sequential, with_ops):
        accepts(check.transfer_model, answer, capsys)


# -- Task 3 · unfreeze_top ----------------------------------------------------------------
def unfreeze_with(
    top=True, bn=False, count_all_layers=False, only_outer=False, no_refreeze=False, outer=True, extra=0, fixed=None
):
    def answer(base, k):
        k = fixed if fixed is not None else k + extra if k else 0
        if only_outer:
            base.trainable = True
            return
        base.trainable = outer
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
    "base.trainable left False": (unfreeze_with(outer=False), "base.trainable = True first"),
    "one convolution too many": (unfreeze_with(extra=1), "off-by-one"),
    "one convolution too few": (unfreeze_with(extra=-1), "off-by-one"),
    "k fixed at 2": (unfreeze_with(fixed=2), "layers with trainable weights"),
    "raises on k = 0": (lambda base, k: unfreeze_with()(base, k) if k else 1 / k, "ZeroDivisionError"),
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

    def freeze_then_flip(base, k):  # freeze layer by layer, then flip the top convolutions; returns the base
        base.trainable = True
        for layer in base.layers:
            layer.trainable = False
        convs = [layer for layer in base.layers if type(layer).__name__ == "Conv2D"]
        for layer in convs[::-1][:k]:
            layer.trainable = True
        return base

    def by_index(base, k):
        base.trainable = True
        indices = [i for i, layer in enumerate(base.layers) if isinstance(layer, layers.Conv2D)]
        top = set(indices[-k:]) if k > 0 else set()
        for i, layer in enumerate(base.layers):
            layer.trainable = i in top

    for answer in (freeze_then_flip, by_index):
        accepts(check.unfreeze_top, answer, capsys)


# -- Task 4 · start_fine_tuning ----------------------------------------------------------
def unfreeze(base, k):
    SOLUTION["unfreeze_top"](base, k)


def fine_tune_with(
    lr=lambda scratch: scratch / 10,
    optimizer=keras.optimizers.Adam,
    loss="sparse_categorical_crossentropy",
    recompile=True,
    compile_first=False,
    bottom=False,
    bn=False,
    whole_base=False,
    k_fixed=None,
):
    def answer(model, base, k, scratch_lr):
        opt = optimizer(lr(scratch_lr))
        if compile_first:
            model.compile(opt, loss)
        if whole_base:
            base.trainable = True
        elif bottom or bn:
            unfreeze_with(top=not bottom, bn=bn)(base, k)
        else:
            unfreeze(base, k if k_fixed is None else k_fixed)
        if recompile and not compile_first:
            model.compile(opt, loss)
        elif not recompile:
            model.optimizer.learning_rate.assign(lr(scratch_lr))

    return answer


FINE_TUNE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "no compile after changing trainable": (fine_tune_with(recompile=False), "compile(...) again"),
    "learning rate as large as from scratch": (fine_tune_with(lr=lambda s: s), "as large as from scratch"),
    "learning rate half of scratch": (fine_tune_with(lr=lambda s: s / 2), "scratch_lr / 10"),
    "learning rate a hundredth": (fine_tune_with(lr=lambda s: s / 100), "scratch_lr / 10"),
    "learning rate fixed at 1e-4": (fine_tune_with(lr=lambda s: 1e-4), "scratch_lr / 10"),
    "SGD": (fine_tune_with(optimizer=keras.optimizers.SGD), "Adam"),
    "RMSprop": (fine_tune_with(optimizer=keras.optimizers.RMSprop), "Adam"),
    "from_logits=True on softmax outputs": (
        fine_tune_with(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
        "from_logits must stay False",
    ),
    "categorical cross-entropy": (fine_tune_with(loss="categorical_crossentropy"), "sparse_categorical_crossentropy"),
    "mean squared error": (fine_tune_with(loss="mse"), "sparse_categorical_crossentropy"),
    "bottom layers unfrozen": (fine_tune_with(bottom=True), "from the top"),
    "BN unfrozen with the top convolutions": (fine_tune_with(bn=True), "BatchNormalization"),
    "the whole base unfrozen": (fine_tune_with(whole_base=True), "unfreezes everything"),
    "k fixed at 1": (fine_tune_with(k_fixed=1), "off-by-one"),
}


@pytest.mark.parametrize("mistake", list(FINE_TUNE_MISTAKES))
def test_start_fine_tuning_rejects(mistake):
    answer, fragment = FINE_TUNE_MISTAKES[mistake]
    rejects(check.start_fine_tuning, answer, "Task 4", fragment)


def test_start_fine_tuning_accepts_correct_answers(capsys):
    accepts(check.start_fine_tuning, SOLUTION["start_fine_tuning"], capsys)
    # compiling before changing `trainable` is fine in Keras 3 when no fit runs in between
    accepts(check.start_fine_tuning, fine_tune_with(compile_first=True), capsys)
    accepts(check.start_fine_tuning, fine_tune_with(loss=keras.losses.SparseCategoricalCrossentropy()), capsys)
    accepts(check.start_fine_tuning, fine_tune_with(loss=keras.losses.sparse_categorical_crossentropy), capsys)

    def keywords(model, base, k, scratch_lr):  # keywords, metrics, learning_rate= spelled out
        unfreeze(base, k)
        model.compile(
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
            optimizer=keras.optimizers.Adam(learning_rate=0.1 * scratch_lr),
            metrics=[keras.metrics.SparseCategoricalAccuracy()],
        )

    accepts(check.start_fine_tuning, keywords, capsys)


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
    "head without bias": (split_answer(head_bias=False), "has a bias"),
    "k + 1 convolutions": (lambda c, n, k: check.split_by_formula(c, n, k + 1), "not k + 1"),
    "order swapped": (lambda c, n, k: check.split_by_formula(c, n, k)[::-1], "in that order"),
    "head frozen": (
        lambda c, n, k: (
            check.split_by_formula(c, n, k)[0] - c[-1] * n - n,
            check.split_by_formula(c, n, k)[1] + c[-1] * n + n,
        ),
        "the new head is trainable",
    ),
    "the total only": (lambda c, n, k: sum(check.split_by_formula(c, n, k)), "two whole numbers"),
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

    def per_layer(channels, n_classes, k):  # a list of (count, trainable) per layer, summed at the end
        c_in, layers_ = 1, []
        for i, c in enumerate(channels):
            layers_ += [(9 * c_in * c, i >= len(channels) - k), (2 * c, False), (2 * c, False)]  # conv; γβ; mean/var
            c_in = c
        layers_.append((c_in * n_classes + n_classes, True))
        trainable = sum(n for n, is_trainable in layers_ if is_trainable)
        return trainable, sum(n for n, _ in layers_) - trainable

    def with_numpy(channels, n_classes, k):  # vectorised, returning NumPy integers in a list
        c = np.array(channels)
        convs = 9 * np.concatenate([[1], c[:-1]]) * c
        head = c[-1] * n_classes + n_classes
        trainable = convs[len(c) - k :].sum() + head
        return [trainable, convs.sum() + 4 * c.sum() + head - trainable]

    accepts(check.trainable_split, per_layer, capsys)
    accepts(check.trainable_split, with_numpy, capsys)


@pytest.mark.parametrize("k", [0, 1, 2])
def test_the_formula_matches_keras(k):
    assert check.split_by_keras((8, 6, 12, 9), 10, k) == check.split_by_formula((8, 6, 12, 9), 10, k)


# -- Task 1 · choose_k -------------------------------------------------------------------------
def choose_with(**mistake):
    return lambda accuracies: check.k_by_rule(accuracies, **mistake)


def choose_by_loop(accuracies):
    """Sorted ks, means by hand, a loop that stops at the first k over the bar; a NumPy integer back."""
    ks = sorted(accuracies)
    means = [sum(accuracies[k]) / len(accuracies[k]) for k in ks]
    top = max(means)
    best = ks[means.index(top)]
    bar = top - (max(accuracies[best]) - min(accuracies[best]))
    for k, mean in zip(ks, means, strict=True):
        if mean >= bar:
            return np.int64(k)


def choose_with_numpy(accuracies):
    ks = np.array(sorted(accuracies))
    table = [np.asarray(accuracies[k]) for k in ks]
    means = np.array([values.mean() for values in table])
    best = int(np.argmax(means))  # the first of equal means: the smallest k
    return int(ks[np.flatnonzero(means >= means[best] - np.ptp(table[best]))[0]])


def choose_with_statistics(accuracies):
    import statistics

    ranked = sorted(accuracies.items(), key=lambda item: (-statistics.fmean(item[1]), item[0]))
    best_values = ranked[0][1]
    bar = statistics.fmean(best_values) - (max(best_values) - min(best_values))
    return min(k for k, values in accuracies.items() if statistics.fmean(values) >= bar)


def sorts_in_place(accuracies):
    for values in accuracies.values():
        values.sort()
    return check.k_by_rule(accuracies)


CHOOSE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "the best mean, noise ignored": (choose_with(noise="none"), "not the best mean"),
    "the largest k within the noise": (choose_with(largest=True), "take the smallest k within the noise"),
    "each k against its own spread": (choose_with(own_noise=True), "one bar for every k"),
    "standard deviation as the spread": (choose_with(noise="std"), "not their standard deviation"),
    "each k's best run, not its mean": (choose_with(use="max"), "not its best run"),
    "strictly above the bar": (choose_with(strict=True), "(≥)"),
    "the first key in the dictionary's order": (choose_with(given_order=True), "the dictionary's order"),
    "returns the chosen k's mean accuracy": (
        lambda accuracies: float(np.mean(accuracies[check.k_by_rule(accuracies)])),
        "return the k itself",
    ),
    "returns every k within the noise": (
        lambda a: [k for k in sorted(a) if np.mean(a[k]) >= max(np.mean(v) for v in a.values()) - 0.1],
        "an int",
    ),
    "returns k as a float": (lambda accuracies: float(check.k_by_rule(accuracies)), "an int"),
    "sorts the accuracies in place": (sorts_in_place, "unchanged"),
}


@pytest.mark.parametrize("mistake", list(CHOOSE_MISTAKES))
def test_choose_k_rejects(mistake):
    answer, fragment = CHOOSE_MISTAKES[mistake]
    rejects(check.choose_k, answer, "Task 1", fragment)


def test_choose_k_accepts_correct_answers(capsys):
    accepts(check.choose_k, SOLUTION["choose_k"], capsys)
    for answer in (choose_by_loop, choose_with_numpy, choose_with_statistics, choose_with()):
        accepts(check.choose_k, answer, capsys)


def test_the_statements_example():
    assert SOLUTION["choose_k"]({0: [0.70, 0.74], 1: [0.78, 0.80], 2: [0.80, 0.86]}) == 1
    assert check.k_by_rule({0: [0.70, 0.74], 1: [0.78, 0.80], 2: [0.80, 0.86]}) == 1


# -- Task 6 · reuse_lower_blocks ------------------------------------------------------------------
def lower_with(
    cut="relu",
    offset=0,
    freeze=True,
    bn_trainable=False,
    pooling=layers.GlobalAveragePooling2D,
    activation="softmax",
    hidden=None,
    classes=None,
    fresh=False,
):
    def answer(source, n_blocks, n_classes):
        base = source.get_layer("digits_base")
        if fresh:
            base = check.conv_base(tuple(layer.filters for layer in check._conv_layers(base)), name="fresh", seed=7)
        n = n_blocks + offset
        name = "gap" if cut == "all" else f"block{n}_{cut}"
        lower = keras.Model(base.input, base.get_layer(name).output)
        lower.trainable = not freeze
        if bn_trainable:
            for layer in lower.layers:
                layer.trainable = isinstance(layer, layers.BatchNormalization)
        inputs = keras.Input((28, 28, 1))
        x = lower(inputs)
        if cut != "all":
            x = pooling()(x)
        if hidden:
            x = layers.Dense(hidden, activation="relu")(x)
        return keras.Model(inputs, layers.Dense(classes or n_classes, activation=activation)(x))

    return answer


def lower_layer_by_layer(source, n_blocks, n_classes):
    """The base's own layers called one by one up to the ReLU, each frozen; keras.ops for pooling and softmax."""
    base = source.get_layer("digits_base")
    inputs = keras.Input(shape=(28, 28, 1))
    x = inputs
    for layer in base.layers[1:]:
        layer.trainable = False
        x = layer(x)
        if layer.name == f"block{n_blocks}_relu":
            break
    head = layers.Dense(n_classes)
    return keras.Model(inputs, ops.softmax(head(ops.mean(x, axis=(1, 2)))))


def lower_sequential(source, n_blocks, n_classes):
    """A keras.Sequential of the cut base (frozen after building), GAP and the head."""
    base = source.layers[1]
    cut = keras.Model(base.inputs[0], base.get_layer(f"block{n_blocks}_relu").output)
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), cut, layers.GlobalAveragePooling2D(), layers.Dense(n_classes, activation="softmax")]
    )
    cut.trainable = False
    return model


def lower_from_the_source(source, n_blocks, n_classes):
    """The cut taken through the source model's nested base, a Softmax layer, training=False in the call."""
    base = source.get_layer("digits_base")
    base.trainable = False
    features = keras.Model(base.input, base.get_layer(f"block{n_blocks}_relu").output)
    inputs = keras.Input((28, 28, 1))
    x = layers.GlobalAveragePooling2D()(features(inputs, training=False))
    return keras.Model(inputs, layers.Softmax()(layers.Dense(n_classes)(x)))


LOWER_MISTAKES = {
    "stub": (stub, "not written yet"),
    "cut after the block's pooling": (lower_with(cut="pool"), "before block"),
    "cut before the ReLU": (lower_with(cut="bn"), "include block"),
    "one block too many": (lower_with(offset=1), "cut the base at"),
    "one block too few": (lower_with(offset=-1), "is missing"),
    "the whole base": (lower_with(cut="all"), "belong to the source task"),
    "not frozen": (lower_with(freeze=False), "freeze"),
    "BN layers left trainable": (lower_with(bn_trainable=True), "freeze the reused layers"),
    "a new base": (lower_with(fresh=True), "new base or a copy"),
    "Flatten instead of GAP": (lower_with(pooling=layers.Flatten), "not Flatten"),
    "global max pooling": (lower_with(pooling=layers.GlobalMaxPooling2D), "not max pooling"),
    "no softmax": (lower_with(activation=None), "end with softmax"),
    "a hidden Dense layer": (lower_with(hidden=8), "no hidden layer"),
    "5 classes hard-coded": (lower_with(classes=5), "one unit per class"),
    "returns the cut base only": (
        lambda source, n, c: keras.Model(
            source.get_layer("digits_base").input, source.get_layer("digits_base").get_layer(f"block{n}_relu").output
        ),
        "output shape",
    ),
}


@pytest.mark.parametrize("mistake", list(LOWER_MISTAKES))
def test_reuse_lower_blocks_rejects(mistake):
    answer, fragment = LOWER_MISTAKES[mistake]
    rejects(check.reuse_lower_blocks, answer, "Task 6", fragment)


def test_reuse_lower_blocks_accepts_correct_answers(capsys):
    accepts(check.reuse_lower_blocks, SOLUTION["reuse_lower_blocks"], capsys)
    for answer in (lower_with(), lower_layer_by_layer, lower_sequential, lower_from_the_source):
        accepts(check.reuse_lower_blocks, answer, capsys)

"""Unit 02's checks: each rejects the stub and the typical wrong answers, and accepts
the solution (run from solutions/02_cnn_in_practice.ipynb) and other correct ways to write it
(nested models, keras.ops, equivalent layers, other names, NumPy tricks).

Each wrong answer names the words its rejection must contain, so that a wrong
answer is rejected for its own mistake, not by accident.
"""

import keras
import numpy as np
import pytest
from keras import layers, ops

from cnn_course.checks import CheckFailed
from cnn_course.checks import cnn_in_practice as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("02_cnn_in_practice")


# -- Task 1 · build_cnn --------------------------------------------------------------------
def cnn_with(
    filters=(32, 64),
    kernel=3,
    padding="same",
    conv_strides=1,
    pool=layers.MaxPooling2D,
    pool_size=2,
    relu=(True, True),
    head="gap",
    hidden=None,
    classes=None,
    out_activation="softmax",
    then_softmax=False,
):
    def answer(n_class=10):
        inputs = keras.Input((28, 28, 1))
        x = inputs
        for f, r in zip(filters, relu, strict=True):
            x = layers.Conv2D(f, kernel, strides=conv_strides, padding=padding, activation="relu" if r else None)(x)
            if pool:
                x = pool(pool_size)(x)
        x = layers.GlobalAveragePooling2D()(x) if head == "gap" else layers.Flatten()(x)
        if hidden:
            x = layers.Dense(hidden, activation="relu")(x)
        x = layers.Dense(classes or n_class, activation=out_activation)(x)
        return keras.Model(inputs, layers.Softmax()(x) if then_softmax else x)

    return answer


CNN_MISTAKES = {
    "stub": (stub, "not written yet"),
    "average instead of max pooling": (cnn_with(pool=layers.AveragePooling2D), "not average pooling"),
    "no ReLU after the second conv": (cnn_with(relu=(True, False)), "followed by a ReLU"),
    "no softmax (logits)": (cnn_with(out_activation=None), "not logits"),
    "padding='valid' hidden by GAP": (cnn_with(padding="valid"), "padding='same'"),
    "Flatten instead of GAP": (cnn_with(head="flatten"), "not Flatten"),
    "ReLU on the output": (cnn_with(out_activation="relu", then_softmax=True), "no ReLU on the classifier"),
    "filters 64 then 32": (cnn_with(filters=(64, 32)), "32 filters in the first"),
    "5×5 kernels": (cnn_with(kernel=5), "3×3 kernels"),
    "strides on the conv, no pooling": (cnn_with(conv_strides=2, pool=None), "stride 1"),
    "an extra hidden Dense layer": (cnn_with(hidden=32), "one Dense layer only"),
    "3×3 pooling": (cnn_with(pool_size=3), "2×2 max pooling"),
    "10 classes fixed": (cnn_with(classes=10), "n_class units"),
    "returns None": (lambda n_class=10: None, "returned None"),
}


@pytest.mark.parametrize("mistake", list(CNN_MISTAKES))
def test_build_cnn_rejects(mistake):
    answer, fragment = CNN_MISTAKES[mistake]
    rejects(check.build_cnn, answer, "Task 1", fragment)


def sequential_cnn(n_class=10):
    """Sequential, ReLU and Softmax as layers, other names."""
    model = keras.Sequential([keras.Input((28, 28, 1))], name="digits")
    for f in (32, 64):
        model.add(layers.Conv2D(f, (3, 3), padding="same", name=f"conv{f}"))
        model.add(layers.ReLU())
        model.add(layers.MaxPooling2D(pool_size=(2, 2), strides=2))
    model.add(layers.GlobalAveragePooling2D())
    model.add(layers.Dense(n_class))
    model.add(layers.Softmax())
    return model


def nested_cnn(n_class=10):
    """Each block a nested keras.Sequential, Activation layers."""
    blocks = [
        keras.Sequential(
            [layers.Conv2D(f, 3, padding="same"), layers.Activation("relu"), layers.MaxPool2D()], name=f"block{i}"
        )
        for i, f in enumerate((32, 64))
    ]
    inputs = keras.Input((28, 28, 1))
    x = blocks[1](blocks[0](inputs))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Activation("softmax")(layers.Dense(n_class)(x)))


def ops_cnn(n_class=10):
    """keras.ops for ReLU, pooling, the global mean and the softmax."""
    inputs = keras.Input((28, 28, 1))
    x = inputs
    for f in (32, 64):
        x = ops.max_pool(ops.relu(layers.Conv2D(f, 3, padding="same")(x)), 2)
    x = ops.mean(x, axis=(1, 2))
    return keras.Model(inputs, ops.softmax(layers.Dense(n_class)(x)))


def test_build_cnn_accepts_correct_answers(capsys):
    accepts(check.build_cnn, SOLUTION["build_cnn"], capsys)
    for answer in (sequential_cnn, nested_cnn, ops_cnn):
        accepts(check.build_cnn, answer, capsys)


# -- Task 2 · make_augmentation ---------------------------------------------------------------
def augmentation_with(rotation=0.05, zoom=0.1, zoom_width=None, translation=(0.1, 0.1), extra=(), drop=()):
    def answer():
        parts = {
            "rotation": layers.RandomRotation(rotation),
            "zoom": layers.RandomZoom(zoom, zoom_width),
            "translation": layers.RandomTranslation(*translation),
        }
        return keras.Sequential([p for k, p in parts.items() if k not in drop] + [e() for e in extra])

    return answer


AUGMENT_MISTAKES = {
    "stub": (stub, "not written yet"),
    "rotation in degrees (18)": (augmentation_with(rotation=18), "not degrees or pixels"),
    "rotation 0.1 (36°)": (augmentation_with(rotation=0.1), "36°"),
    "rotation one way only": (augmentation_with(rotation=(0.0, 0.05)), "both ways"),
    "zoom in only": (augmentation_with(zoom=(-0.1, 0.0)), "both ways"),
    "zoom 20 %": (augmentation_with(zoom=0.2), "zooms in and out by up to 10 %"),
    "zoom width fixed": (augmentation_with(zoom_width=(0.0, 0.0)), "width"),
    "translation in pixels": (augmentation_with(translation=(3, 3)), "not degrees or pixels"),
    "translation along the height only": (augmentation_with(translation=(0.1, 0.0)), "both ways"),
    "translation 5 %": (augmentation_with(translation=(0.05, 0.05)), "of the height and of the width"),
    "no zoom": (augmentation_with(drop=("zoom",)), "contain a RandomZoom"),
    "a RandomFlip added": (augmentation_with(extra=(layers.RandomFlip,)), "mirrored"),
    "rotation twice": (augmentation_with(extra=(lambda: layers.RandomRotation(0.05),)), "once each"),
    "a list, not a layer": (
        lambda: [layers.RandomRotation(0.05), layers.RandomZoom(0.1), layers.RandomTranslation(0.1, 0.1)],
        "should return a Keras layer",
    ),
}


@pytest.mark.parametrize("mistake", list(AUGMENT_MISTAKES))
def test_make_augmentation_rejects(mistake):
    answer, fragment = AUGMENT_MISTAKES[mistake]
    rejects(check.make_augmentation, answer, "Task 2", fragment)


def test_make_augmentation_accepts_correct_answers(capsys):
    accepts(check.make_augmentation, SOLUTION["make_augmentation"], capsys)
    accepts(  # another order, explicit ranges, other fill modes
        check.make_augmentation,
        lambda: keras.Sequential(
            [
                layers.RandomTranslation((-0.1, 0.1), (-0.1, 0.1), fill_mode="constant"),
                layers.RandomZoom((-0.1, 0.1), width_factor=[-0.1, 0.1], fill_mode="nearest"),
                layers.RandomRotation([-0.05, 0.05]),
            ]
        ),
        capsys,
    )
    accepts(  # nested Sequential, 18/360 computed, names
        check.make_augmentation,
        lambda: keras.Sequential(
            [
                keras.Sequential([layers.RandomRotation(18 / 360, name="rotate")], name="geometry"),
                keras.Sequential([layers.RandomZoom(0.1), layers.RandomTranslation(0.1, 0.1)], name="scale_shift"),
            ]
        ),
        capsys,
    )

    def functional():
        inputs = keras.Input((28, 28, 1))
        x = layers.RandomZoom(0.1, fill_mode="constant")(layers.RandomRotation(0.05, seed=1)(inputs))
        return keras.Model(inputs, layers.RandomTranslation(height_factor=0.1, width_factor=0.1)(x))

    accepts(check.make_augmentation, functional, capsys)


# -- Task 3 · shift_images ------------------------------------------------------------------
def shift_slices(images, dx, dy):
    """Pad with zeros, then crop: another correct way."""
    h, w = images.shape[1:3]
    p = max(h, w, abs(dx), abs(dy))
    padded = np.pad(images, ((0, 0), (p, p), (p, p), (0, 0)))
    return padded[:, p - dy : p - dy + h, p - dx : p - dx + w].copy()


def shift_loops(images, dx, dy):
    out = np.zeros(images.shape, dtype=images.dtype)
    h, w = images.shape[1:3]
    for r in range(h):
        for c in range(w):
            if 0 <= r - dy < h and 0 <= c - dx < w:
                out[:, r, c, :] = images[:, r - dy, c - dx, :]
    return out


def shift_positive_only(images, dx, dy):
    """Slicing written for positive shifts only."""
    out = np.zeros_like(images)
    h, w = images.shape[1:3]
    out[:, dy:, dx:] = images[:, : h - dy, : w - dx]
    return out


SHIFT_MISTAKES = {
    "stub": (stub, "not written yet"),
    "np.roll wraps around": (lambda im, dx, dy: np.roll(im, (dy, dx), axis=(1, 2)), "wraps"),
    "both directions reversed": (lambda im, dx, dy: check._shift(im, -dx, -dy), "both shifts go the wrong way"),
    "dy reversed": (lambda im, dx, dy: check._shift(im, dx, -dy), "dy goes the wrong way"),
    "dx reversed": (lambda im, dx, dy: check._shift(im, -dx, dy), "dx goes the wrong way"),
    "dx and dy swapped": (lambda im, dx, dy: check._shift(im, dy, dx), "dx is horizontal"),
    "only the first channel": (check._first_channel_only, "shift every channel"),
    "shifts in place": (lambda im, dx, dy: np.copyto(im, check._shift(im, dx, dy)) or im, "changed in place"),
    "float64 result": (lambda im, dx, dy: check._shift(im, dx, dy).astype("float64"), "keep the dtype"),
    "drops the channel axis": (lambda im, dx, dy: check._shift(im, dx, dy)[..., 0], "keep their shape"),
    "a list": (lambda im, dx, dy: check._shift(im, dx, dy).tolist(), "NumPy array"),
    "slices for positive shifts only": (shift_positive_only, "negative shifts"),
}


@pytest.mark.parametrize("mistake", list(SHIFT_MISTAKES))
def test_shift_images_rejects(mistake):
    answer, fragment = SHIFT_MISTAKES[mistake]
    rejects(check.shift_images, answer, "Task 3", fragment)


def test_shift_images_accepts_correct_answers(capsys):
    from scipy import ndimage

    accepts(check.shift_images, SOLUTION["shift_images"], capsys)
    accepts(check.shift_images, lambda im, dx, dy: ndimage.shift(im, (0, dy, dx, 0), order=0, cval=0.0), capsys)
    accepts(check.shift_images, shift_slices, capsys)
    accepts(check.shift_images, shift_loops, capsys)


# -- Task 4 · accuracy_under_shift -------------------------------------------------------------
def evaluate_with(move=lambda im, s: check._shift(im, s, 0), axis=1, scale=1.0, per_image=False, error=False):
    def answer(model, images, labels, shifts):
        out = []
        for s in shifts:
            hits = np.asarray(model(move(images, s))).argmax(axis=axis) == labels
            value = hits.sum() if per_image else hits.mean() * scale
            out.append(float(1 - value if error else value))
        return out

    return answer


EVAL_MISTAKES = {
    "stub": (stub, "not written yet"),
    "forgets to shift": (evaluate_with(move=lambda im, s: im), "shift the images before predicting"),
    "shifts left": (evaluate_with(move=lambda im, s: check._shift(im, -s, 0)), "yours went left"),
    "shifts down (dy)": (evaluate_with(move=lambda im, s: check._shift(im, 0, s)), "not down"),
    "np.roll": (evaluate_with(move=lambda im, s: np.roll(im, s, axis=2)), "wraps around"),
    "percentages": (evaluate_with(scale=100), "not percentages"),
    "counts": (evaluate_with(per_image=True), "divide the count"),
    "error rate": (evaluate_with(error=True), "not the error rate"),
    "argmax over all values": (evaluate_with(axis=None), "argmax over the classes"),
    "argmax over the images": (evaluate_with(axis=0), "argmax over the classes"),
    "one number": (lambda model, images, labels, shifts: 1.0, "one accuracy per shift"),
    "accuracy of the last shift only": (
        lambda model, images, labels, shifts: evaluate_with()(model, images, labels, shifts[-1:]),
        "one accuracy per shift",
    ),
}


@pytest.mark.parametrize("mistake", list(EVAL_MISTAKES))
def test_accuracy_under_shift_rejects(mistake):
    answer, fragment = EVAL_MISTAKES[mistake]
    rejects(check.accuracy_under_shift, answer, "Task 4", fragment)


def test_accuracy_under_shift_accepts_correct_answers(capsys):
    accepts(check.accuracy_under_shift, SOLUTION["accuracy_under_shift"], capsys)

    def with_predict(model, images, labels, shifts):  # an array, model.predict, argmax(-1)
        return np.array(
            [np.mean(model.predict(check._shift(images, s, 0), verbose=0).argmax(-1) == labels) for s in shifts]
        )

    def with_evaluate(model, images, labels, shifts):  # a tuple, keras.metrics
        metric = keras.metrics.SparseCategoricalAccuracy()
        out = []
        for s in shifts:
            metric.reset_state()
            metric.update_state(labels, model(check._shift(images, s, 0)))
            out.append(float(metric.result()))
        return tuple(out)

    def counting(model, images, labels, shifts):  # NumPy floats in a list, counting by hand
        out = []
        for s in shifts:
            predicted = np.argmax(np.asarray(model(check._shift(images, s, 0))), axis=1)
            out.append(np.count_nonzero(predicted == labels) / len(labels))
        return out

    for answer in (with_predict, with_evaluate, counting):
        accepts(check.accuracy_under_shift, answer, capsys)


def test_evaluation_cases_tell_the_mistakes_apart():
    model, cases = check._evaluation_cases()
    for images, labels, shifts in cases:
        right = check._accuracies(model, images, labels, shifts)
        for wrong, hint in check._evaluation_mistakes(model, images, labels, shifts):
            assert not np.allclose(wrong, right), hint


# -- Task 5 · feature_maps ----------------------------------------------------------------------
def previous_layer(model, name, images):
    names = [layer.name for layer in model.layers]
    return np.asarray(keras.Model(model.input, model.layers[names.index(name) - 1].output)(images))


def fresh_copy(model, name, images):
    copy = keras.models.clone_model(model)
    return np.asarray(keras.Model(copy.input, copy.get_layer(name).output)(images))


FEATURE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "the model's output": (lambda model, name, images: np.asarray(model(images)), "final output"),
    "the layer's weights": (lambda model, name, images: model.get_layer(name).get_weights()[0], "layer's weights"),
    "the layer before": (previous_layer, "the layer before"),
    "the symbolic output": (lambda model, name, images: model.get_layer(name).output, "symbolic"),
    "a tensor, not NumPy": (
        lambda model, name, images: keras.Model(model.input, model.get_layer(name).output)(images),
        "NumPy array",
    ),
    "the layer called on the images": (
        lambda model, name, images: np.asarray(model.get_layer(name)(images)),
        "not the images",
    ),
    "a copy with fresh weights": (fresh_copy, "the model's own weights"),
    "always the first layer": (
        lambda model, name, images: np.asarray(keras.Model(model.input, model.layers[1].output)(images)),
        "Task 5",
    ),
    "the first image only": (
        lambda model, name, images: np.asarray(keras.Model(model.input, model.get_layer(name).output)(images[:1])),
        "shape",
    ),
}


@pytest.mark.parametrize("mistake", list(FEATURE_MISTAKES))
def test_feature_maps_rejects(mistake):
    answer, fragment = FEATURE_MISTAKES[mistake]
    rejects(check.feature_maps, answer, "Task 5", fragment)


def test_feature_maps_accepts_correct_answers(capsys):
    accepts(check.feature_maps, SOLUTION["feature_maps"], capsys)
    accepts(
        check.feature_maps,
        lambda model, name, images: keras.Model(model.inputs, model.get_layer(name).output).predict(images, verbose=0),
        capsys,
    )

    def by_loop(model, layer_name, images):  # run the layers one by one up to the named one
        x = images
        for layer in model.layers[1:]:
            x = layer(x)
            if layer.name == layer_name:
                return keras.ops.convert_to_numpy(x)

    accepts(check.feature_maps, by_loop, capsys)

    def batched(model, layer_name, images):
        extractor = keras.Model(inputs=model.inputs[0], outputs=[model.get_layer(name=layer_name).output])
        return np.concatenate([np.asarray(extractor(images[i : i + 1])) for i in range(len(images))])

    accepts(check.feature_maps, batched, capsys)


# -- Task 6 · cnn_params ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, fragment",
    [
        (None, "still None"),
        (9 * 32 + 9 * 32 * 64 + 640, "add the biases"),
        (320 + 18496 + 31370, "not 7×7×64"),
        (320 + 640 + 650, "span the 32 channels"),
        (19466.0, "wrong type"),
        (25 * 32 + 32 + 25 * 32 * 64 + 64 + 650, "not 5×5"),
        (320 + 18496 + 640, "has a bias too"),
        (288 + 18432 + 650, "one bias per filter"),
        (True, "wrong type"),
    ],
)
def test_cnn_params_rejects(value, fragment):
    with pytest.raises(CheckFailed, match="Task 6") as info:
        check.cnn_params(value)
    assert fragment in str(info.value)


def test_cnn_params_accepts(capsys):
    check.cnn_params(SOLUTION["cnn_params"])
    check.cnn_params(SOLUTION["build_cnn"]().count_params())
    check.cnn_params(np.int64(SOLUTION["cnn_params"]))
    check.cnn_params(3 * 3 * 1 * 32 + 32 + 3 * 3 * 32 * 64 + 64 + 64 * 10 + 10)  # by hand, layer by layer
    assert capsys.readouterr().out.count("✓ Task 6") == 4


# -- Task 7 · feature_change ----------------------------------------------------------------------
def change_with(denominator="before", reduce="per image", norm="l2", move=None, output=False, squared=False):
    """feature_change with one of the usual mistakes switched on."""

    def answer(model, layer_name, images, dx, dy):
        layer = model.outputs[0] if output else model.get_layer(layer_name).output
        features = keras.Model(model.input, layer)
        shifted = move(images, dx, dy) if move else SOLUTION["shift_images"](images, dx, dy)
        a = np.asarray(features(images)).reshape(len(images), -1)
        b = np.asarray(features(shifted)).reshape(len(images), -1)
        if reduce == "batch":
            return float(np.linalg.norm(b - a) / np.linalg.norm(a))
        size = (lambda v: np.abs(v).mean(axis=1)) if norm == "mean" else (lambda v: np.linalg.norm(v, axis=1))
        ratios = size(b - a) / {"before": size(a), "after": size(b), "none": 1.0}[denominator]
        ratios = ratios**2 if squared else ratios
        return ratios if reduce == "none" else float(np.mean(ratios))

    return answer


FEATURE_CHANGE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "returns None": (lambda *args: None, "returned None"),
    "divided by the shifted features' norm": (change_with(denominator="after"), "unshifted images' features"),
    "not divided": (change_with(denominator="none"), "the change relative to the features"),
    "one ratio of the whole batch": (change_with(reduce="batch"), "one ratio per image"),
    "mean absolute values instead of norms": (change_with(norm="mean"), "the Euclidean norm"),
    "squared norms": (change_with(squared=True), "not their squares"),
    "the model's output instead of the layer": (change_with(output=True), "not the model's output"),
    "np.roll instead of shift_images": (
        change_with(move=lambda im, dx, dy: np.roll(im, (dy, dx), axis=(1, 2))),
        "not np.roll",
    ),
    "dx and dy swapped": (
        change_with(move=lambda im, dx, dy: SOLUTION["shift_images"](im, dy, dx)),
        "dx=2, dy=0",
        "dx moves the content right",
    ),
    "shifts the wrong way": (
        change_with(move=lambda im, dx, dy: SOLUTION["shift_images"](im, -dx, -dy)),
        "positive dx moves the content right",
    ),
    "dy ignored": (change_with(move=lambda im, dx, dy: SOLUTION["shift_images"](im, dx, 0)), "dy=3", "shift by dy too"),
    "one number per image": (change_with(reduce="none"), "should be one number"),
    "a string": (lambda *args: "0.5", "should be a number"),
}


@pytest.mark.parametrize("mistake", list(FEATURE_CHANGE_MISTAKES))
def test_feature_change_rejects(mistake):
    answer, *fragments = FEATURE_CHANGE_MISTAKES[mistake]
    rejects(check.feature_change, answer, "Task 7", *fragments)


def change_by_image(model, name, images, dx, dy):  # one image at a time, keras.ops for the norms
    features = keras.Model(model.inputs[0], model.get_layer(name).output)
    shifted = SOLUTION["shift_images"](images, dx, dy)
    ratios = []
    for one, moved in zip(images, shifted, strict=True):
        a, b = features(one[None]), features(moved[None])
        ratios.append(
            keras.ops.convert_to_numpy(
                keras.ops.norm(keras.ops.reshape(b - a, (-1,))) / keras.ops.norm(keras.ops.reshape(a, (-1,)))
            )
        )
    return np.float32(np.mean(ratios))


def change_with_feature_maps(model, layer, images, right, down):  # Task 5's function, other names
    a = SOLUTION["feature_maps"](model, layer, images)
    b = SOLUTION["feature_maps"](model, layer, SOLUTION["shift_images"](images, right, down))
    axes = tuple(range(1, a.ndim))
    return np.mean(np.sqrt(((b - a) ** 2).sum(axis=axes)) / np.sqrt((a**2).sum(axis=axes)))


def change_einsum(model, layer_name, images, dx, dy):  # both batches through one call
    both = np.concatenate([images, SOLUTION["shift_images"](images, dx, dy)])
    features = np.asarray(keras.Model(model.input, model.get_layer(layer_name).output)(both)).reshape(len(both), -1)
    a, b = np.split(features, 2)
    return float(np.mean(np.sqrt(np.einsum("ij,ij->i", b - a, b - a) / np.einsum("ij,ij->i", a, a))))


def test_feature_change_accepts_correct_answers(capsys):
    for answer in [SOLUTION["feature_change"], change_with(), change_by_image, change_with_feature_maps, change_einsum]:
        accepts(check.feature_change, answer, capsys)

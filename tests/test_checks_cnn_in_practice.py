"""Unit 02's checks reject the stub and typical wrong answers and accept correct ones."""

import keras
import numpy as np
import pytest
from keras import layers

from cnn_course.checks import CheckFailed
from cnn_course.checks import cnn_in_practice as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("02_cnn_in_practice")


def cnn_with(filters=(32, 64), head="gap", pool=True, classes=None, softmax=True, kernel=3, relu=True):
    def answer(n_class=10):
        inputs = keras.Input((28, 28, 1))
        x = inputs
        for f in filters:
            x = layers.Conv2D(f, kernel, padding="same", activation="relu" if relu else None)(x)
            if pool:
                x = layers.MaxPooling2D(2)(x)
        x = layers.GlobalAveragePooling2D()(x) if head == "gap" else layers.Flatten()(x)
        return keras.Model(inputs, layers.Dense(classes or n_class, activation="softmax" if softmax else None)(x))

    return answer


CNN_MISTAKES = {
    "stub": (stub, "not written yet"),
    "flatten instead of GAP": (cnn_with(head="flatten"), "global average pooling"),
    "no pooling": (cnn_with(pool=False), "2×2 max pooling"),
    "10 classes fixed": (cnn_with(classes=10), "n_class units"),
    "no softmax": (cnn_with(softmax=False), "Softmax"),
    "filters 64 then 32": (cnn_with(filters=(64, 32)), "32 filters in the first"),
    "5×5 kernels": (cnn_with(kernel=5), "3×3 kernels"),
    "no ReLU": (cnn_with(relu=False), "followed by a ReLU"),
}


@pytest.mark.parametrize("mistake", list(CNN_MISTAKES))
def test_build_cnn_rejects(mistake):
    answer, fragment = CNN_MISTAKES[mistake]
    rejects(check.build_cnn, answer, "Task 1", fragment)


def test_build_cnn_accepts_correct_answers(capsys):
    accepts(check.build_cnn, SOLUTION["build_cnn"], capsys)

    def separate_layers(n_class=10):  # ReLU and Softmax as layers, Sequential-style stacking
        model = keras.Sequential([keras.Input((28, 28, 1))])
        for f in (32, 64):
            model.add(layers.Conv2D(f, 3, padding="same"))
            model.add(layers.ReLU())
            model.add(layers.MaxPooling2D())
        model.add(layers.GlobalAveragePooling2D())
        model.add(layers.Dense(n_class))
        model.add(layers.Softmax())
        return model

    accepts(check.build_cnn, separate_layers, capsys)


AUGMENT_MISTAKES = {
    "stub": (stub, "not written yet"),
    "rotation in degrees": (
        lambda: keras.Sequential(
            [layers.RandomRotation(18), layers.RandomZoom(0.1), layers.RandomTranslation(0.1, 0.1)]
        ),
        "fraction of a full turn",
    ),
    "no zoom": (
        lambda: keras.Sequential([layers.RandomRotation(0.05), layers.RandomTranslation(0.1, 0.1)]),
        "RandomZoom",
    ),
    "translation in pixels": (
        lambda: keras.Sequential([layers.RandomRotation(0.05), layers.RandomZoom(0.1), layers.RandomTranslation(3, 3)]),
        "fractions of the image size",
    ),
    "a flip added": (
        lambda: keras.Sequential(
            [
                layers.RandomRotation(0.05),
                layers.RandomZoom(0.1),
                layers.RandomTranslation(0.1, 0.1),
                layers.RandomFlip(),
            ]
        ),
        "exactly the three",
    ),
    "a function, not a layer": (lambda: lambda images, training=False: images, "should return a Keras layer"),
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
                layers.RandomZoom((-0.1, 0.1), fill_mode="nearest"),
                layers.RandomRotation((-0.05, 0.05)),
            ]
        ),
        capsys,
    )


def roll(images, dx, dy):
    return np.roll(np.roll(images, dx, axis=2), dy, axis=1)


SHIFT_MISTAKES = {
    "stub": (stub, "not written yet"),
    "np.roll wraps around": (roll, "wraps"),
    "wrong direction": (lambda images, dx, dy: check._shift(images, -dx, -dy), "wrong way"),
    "dx and dy swapped": (lambda images, dx, dy: check._shift(images, dy, dx), "dx is horizontal"),
    "shifts in place": (
        lambda images, dx, dy: np.copyto(images, check._shift(images, dx, dy)) or images,
        "changed in place",
    ),
}


@pytest.mark.parametrize("mistake", list(SHIFT_MISTAKES))
def test_shift_images_rejects(mistake):
    answer, fragment = SHIFT_MISTAKES[mistake]
    rejects(check.shift_images, answer, "Task 3", fragment)


def test_shift_images_accepts_correct_answers(capsys):
    from scipy import ndimage

    accepts(check.shift_images, SOLUTION["shift_images"], capsys)
    accepts(check.shift_images, lambda images, dx, dy: ndimage.shift(images, (0, dy, dx, 0), order=0, cval=0.0), capsys)


def no_shift(model, images, labels, shifts):
    accuracy = float((np.asarray(model(images)).argmax(axis=1) == labels).mean())
    return [accuracy] * len(shifts)


EVAL_MISTAKES = {
    "stub": (stub, "not written yet"),
    "forgets to shift": (no_shift, "shift the images before predicting"),
    "one number": (lambda model, images, labels, shifts: 1.0, "one accuracy per shift"),
    "wraps around": (
        lambda model, images, labels, shifts: [
            float((np.asarray(model(roll(images, s, 0))).argmax(1) == labels).mean()) for s in shifts
        ],
        "accuracies",
    ),
}


@pytest.mark.parametrize("mistake", list(EVAL_MISTAKES))
def test_accuracy_under_shift_rejects(mistake):
    answer, fragment = EVAL_MISTAKES[mistake]
    rejects(check.accuracy_under_shift, answer, "Task 4", fragment)


def test_accuracy_under_shift_accepts_correct_answers(capsys):
    accepts(check.accuracy_under_shift, SOLUTION["accuracy_under_shift"], capsys)

    def with_predict(model, images, labels, shifts):
        return np.array(
            [np.mean(model.predict(check._shift(images, s, 0), verbose=0).argmax(-1) == labels) for s in shifts]
        )

    accepts(check.accuracy_under_shift, with_predict, capsys)


FEATURE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "the model's output": (lambda model, name, images: np.asarray(model(images)), "final output"),
    "the layer's weights": (
        lambda model, name, images: model.get_layer(name).get_weights()[0],
        "shape of the feature maps",
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
        lambda model, name, images: keras.Model(model.inputs[0], model.get_layer(name).output).predict(
            images, verbose=0
        ),
        capsys,
    )


@pytest.mark.parametrize(
    "value, fragment",
    [
        (None, "still None"),
        (9 * 32 + 9 * 32 * 64 + 640, "add the biases"),
        (320 + 18496 + 31370, "not 7×7×64"),
        (320 + 640 + 650, "span the 32 channels"),
        (19466.0, "wrong type"),
    ],
)
def test_cnn_params_rejects(value, fragment):
    with pytest.raises(CheckFailed, match="Task 6") as info:
        check.cnn_params(value)
    assert fragment in str(info.value)


def test_cnn_params_accepts(capsys):
    check.cnn_params(SOLUTION["cnn_params"])
    check.cnn_params(SOLUTION["build_cnn"]().count_params())
    assert capsys.readouterr().out.count("✓ Task 6") == 2

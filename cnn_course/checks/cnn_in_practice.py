"""Checks for unit 02 (CNNs in practice): a CNN from a spec, augmentation, shifting, evaluation, feature maps.

Models are compared by their layers in order and their parameter counts;
augmentation by its layers' configurations and by its behaviour (identity at
inference, random in training); the image and evaluation functions by
references computed here on small arrays and a small model.
"""

import numpy as np

from cnn_course.checks import Task, layer_kinds

SPEC = [
    "Conv2D 3×3/1×1 →32",
    "ReLU",
    "MaxPooling2D 2×2/2×2",
    "Conv2D 3×3/1×1 →64",
    "ReLU",
    "MaxPooling2D 2×2/2×2",
    "GlobalAveragePooling2D",
]


def _spec_params(n_class):
    return (9 * 1 * 32 + 32) + (9 * 32 * 64 + 64) + (64 * n_class + n_class)


def _cnn_hint(expected, got):
    if expected.startswith("Conv2D") and got.startswith("Conv2D"):
        return "3×3 kernels, stride 1, padding='same'; 32 filters in the first convolution, 64 in the second"
    if expected == "ReLU":
        return "each convolution is followed by a ReLU (activation='relu' counts)"
    if expected.startswith("MaxPooling2D"):
        return "2×2 max pooling after each convolution"
    if expected == "GlobalAveragePooling2D":
        return "global average pooling, not Flatten, before the classifier"
    return None


def build_cnn(fn):
    """Task 1: the CNN of the specification, for any number of classes."""
    with Task(1, "build_cnn") as t:
        t.function(fn, "build_cnn")
        for n_class in (10, 4):
            what = f"build_cnn(n_class={n_class})"
            model = t.keras_model(t.call(fn, (n_class,), what=what), what)
            t.equal(
                f"{what}: input shape", tuple(model.inputs[0].shape[1:]), (28, 28, 1), "the input is a 28×28×1 digit"
            )
            t.equal(
                f"{what}: output shape",
                tuple(model.outputs[0].shape[1:]),
                (n_class,),
                "the last Dense layer has n_class units",
            )
            expected = SPEC + [f"Dense →{n_class}", "Softmax"]
            t.sequence(f"{what}: layers in order", layer_kinds(model), expected, _cnn_hint)
            t.equal(
                f"{what}: parameters",
                model.count_params(),
                _spec_params(n_class),
                "compare each layer with the specification",
            )
            probabilities = np.asarray(model(np.zeros((2, 28, 28, 1), "float32")))
            t.close(f"{what}: each output row sums to 1", probabilities.sum(axis=1), np.ones(2), "end with softmax")


def _range(value):
    """A factor as Keras accepts it (f or (low, high)) → (low, high)."""
    if isinstance(value, (tuple, list)):
        return tuple(float(v) for v in value)
    return (-float(value), float(value))


def make_augmentation(fn):
    """Task 2: rotation ±0.05 turn, zoom ±10 %, translation ±10 %; identity at inference."""
    from keras import layers

    with Task(2, "make_augmentation") as t:
        t.function(fn, "make_augmentation")
        augmentation = t.call(
            fn,
            (),
            what="make_augmentation()",
            hint="RandomRotation takes a fraction of a full turn (0.05 = 18°); zoom and translation take fractions"
            " of the image size (0.1 = 10 %)",
        )
        t.expect(
            isinstance(augmentation, layers.Layer),
            "make_augmentation() should return a Keras layer, e.g. a keras.Sequential of the three",
            "a layer",
            type(augmentation).__name__,
        )
        parts = getattr(augmentation, "layers", [augmentation])
        found = {type(layer).__name__: layer.get_config() for layer in parts}
        for kind in ("RandomRotation", "RandomZoom", "RandomTranslation"):
            t.expect(
                kind in found,
                f"the augmentation should contain a {kind} layer",
                kind,
                sorted(found) or type(augmentation).__name__,
            )
        t.expect(
            len(parts) == 3,
            "exactly the three augmentation layers",
            3,
            len(parts),
            "rotation, zoom and translation only",
        )
        checks = [
            (
                "RandomRotation",
                "factor",
                (-0.05, 0.05),
                "RandomRotation's factor is a fraction of a full turn: ±18° is 0.05",
            ),
            ("RandomZoom", "height_factor", (-0.1, 0.1), "RandomZoom(0.1) zooms by up to ±10 %"),
            (
                "RandomTranslation",
                "height_factor",
                (-0.1, 0.1),
                "RandomTranslation(0.1, 0.1): ±10 % of the height and width",
            ),
            (
                "RandomTranslation",
                "width_factor",
                (-0.1, 0.1),
                "RandomTranslation(0.1, 0.1): ±10 % of the height and width",
            ),
        ]
        for kind, key, expected, hint in checks:
            got = _range(found[kind][key])
            t.expect(np.allclose(got, expected), f"{kind} {key}", expected, got, hint)
        images = np.random.default_rng(0).uniform(size=(4, 28, 28, 1)).astype("float32")
        t.expect(
            np.array_equal(np.asarray(augmentation(images, training=False)), images),
            "at inference (training=False) the augmentation should return the images unchanged",
            "the same images",
            "changed images",
            "use Keras's Random… layers: they are active only in training",
        )
        t.expect(
            not np.allclose(np.asarray(augmentation(images, training=True)), images),
            "in training the augmentation should change the images",
            "changed images",
            "the same images",
        )


def _shift(images, dx, dy):
    out = np.zeros_like(images)
    h, w = images.shape[1:3]
    src = images[:, max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    out[:, max(0, dy) : max(0, dy) + src.shape[1], max(0, dx) : max(0, dx) + src.shape[2]] = src
    return out


def shift_images(fn):
    """Task 3: move images right by dx and down by dy, zeros coming in, nothing wrapping around."""
    rng = np.random.default_rng(2)
    images = rng.uniform(0.1, 1.0, size=(3, 6, 7, 1)).astype("float32")
    with Task(3, "shift_images") as t:
        t.function(fn, "shift_images")
        for dx, dy in [(0, 0), (2, 0), (0, 1), (-3, 0), (1, -2), (7, 0)]:
            what = f"shift_images(images, dx={dx}, dy={dy}) on 3 images of 6×7×1"
            argument = images.copy()
            got = np.asarray(t.call(fn, (argument, dx, dy), what=what))
            expected = _shift(images, dx, dy)
            t.equal(f"{what}: shape", got.shape, expected.shape, "the shifted images keep their size")
            hint = "positive dx moves the image right, positive dy down; the uncovered edge is zero"
            if np.allclose(got, np.roll(np.roll(images, dx, axis=2), dy, axis=1)):
                hint = "np.roll wraps the pixels that leave one edge around to the other; fill with zeros instead"
            elif np.allclose(got, _shift(images, -dx, -dy)):
                hint = "the shift goes the wrong way: positive dx moves the image right"
            elif np.allclose(got, _shift(images, dy, dx)):
                hint = "dx is horizontal (along the width, axis 2), dy vertical (axis 1)"
            t.close(f"{what}: pixels", got, expected, hint)
            t.expect(
                np.array_equal(argument, images),
                f"{what} should leave its input unchanged",
                "a new array, the input as it was",
                "the input was changed in place",
                "start from np.zeros_like(images) and copy the shifted content into it",
            )


def _probe_model():
    import keras
    from keras import layers

    keras.utils.set_random_seed(3)
    inputs = keras.Input((8, 8, 1))
    x = layers.Conv2D(4, 3, activation="relu")(inputs)
    outputs = layers.Dense(3, activation="softmax")(layers.Flatten()(x))
    return keras.Model(inputs, outputs)


def accuracy_under_shift(fn):
    """Task 4: accuracy of a model on images shifted right by each shift."""
    rng = np.random.default_rng(4)
    model = _probe_model()
    images = np.zeros((100, 8, 8, 1), "float32")
    images[:, 1:7, 1:7] = rng.uniform(size=(100, 6, 6, 1))  # shifts of 2 and 3 push the content past the edge
    labels = np.asarray(model(images)).argmax(axis=1)  # the model is right on the unshifted images
    shifts = [0, 1, 2, 3]
    with Task(4, "accuracy_under_shift") as t:
        t.function(fn, "accuracy_under_shift")
        got = t.call(
            fn, (model, images, labels, shifts), what="accuracy_under_shift(model, images, labels, shifts=[0, 1, 2, 3])"
        )
        t.expect(
            isinstance(got, (list, tuple, np.ndarray)) and len(got) == len(shifts),
            "one accuracy per shift",
            f"a list of {len(shifts)} numbers",
            got,
            "return a list: [accuracy at shift 0, accuracy at shift 1, ...]",
        )
        expected = [float((np.asarray(model(_shift(images, s, 0))).argmax(axis=1) == labels).mean()) for s in shifts]
        hint = "for each shift: shift the images right, predict, and count the predictions equal to the labels"
        if np.allclose(got, [expected[0]] * len(shifts)):
            hint = "shift the images before predicting: the accuracies should change with the shift"
        t.close("accuracies", np.asarray(got, dtype="float64"), expected, hint, atol=1e-6)


def feature_maps(fn):
    """Task 5: the output of a named layer for some images."""
    import keras

    model = _probe_model()
    images = np.random.default_rng(5).uniform(size=(2, 8, 8, 1)).astype("float32")
    name = model.layers[1].name
    with Task(5, "feature_maps") as t:
        t.function(fn, "feature_maps")
        got = np.asarray(t.call(fn, (model, name, images), what=f"feature_maps(model, {name!r}, images)"))
        expected = np.asarray(keras.Model(model.inputs[0], model.get_layer(name).output)(images))
        hint = "build keras.Model(model.input, model.get_layer(layer_name).output) and call it on the images"
        if got.shape == np.asarray(model(images)).shape:
            hint = "that is the model's final output; take the named layer's output instead"
        t.equal("shape of the feature maps", got.shape, expected.shape, hint)
        t.close("values of the feature maps", got, expected, hint)


def cnn_params(value):
    """Task 6: the parameters of the Task 1 network for 10 classes, by hand."""
    with Task(6, "cnn_params") as t:
        t.value(value, "cnn_params", (int, np.integer))
        hints = {
            9 * 32 + 9 * 32 * 64 + 64 * 10: "add the biases: one per filter and per output unit",
            _spec_params(10) - 650 + 64 * 7 * 7 * 10 + 10: "global average pooling leaves 64 values, not 7×7×64",
            9 * 1 * 32 + 32 + 9 * 64 + 64 + 650: "the second convolution's kernels span the 32 channels of the first",
        }
        t.equal(
            "cnn_params",
            int(value),
            _spec_params(10),
            hints.get(int(value), "conv: 3·3·C_in·C_out + C_out; dense: 64·10 + 10; pooling: 0"),
        )

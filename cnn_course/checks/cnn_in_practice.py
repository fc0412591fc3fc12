"""Checks for unit 02 (CNNs in practice): a CNN from a spec, augmentation, shifting, evaluation, features, changes.

The CNN is compared with a reference built from the task's specification
(``cnn_course.checks.compare``): same random weights, same random inputs, same
outputs, for two class counts. Augmentation layers are random, so their
configuration is read (each layer found wherever it is nested) and their
behaviour tested (identity at inference, random in training). The image and
evaluation functions run on several configurations chosen so that the usual
mistakes give other values than the references computed here; a hint is chosen
when one mistake explains every configuration. No check carries a copy of the
solution's code.
"""

import functools

import numpy as np

from cnn_course.checks import Task
from cnn_course.checks.compare import (
    chain,
    compare_with_reference,
    conv,
    dense,
    gap,
    max_pool,
    reference_model,
    relu,
    softmax,
    steps,
)
from cnn_course.i18n import N_, _

INPUT_SHAPE = (28, 28, 1)
FILTERS = (32, 64)
KERNEL = 3
SOFTMAX_HINT = N_("end with softmax: Dense(n_class, activation='softmax') gives probabilities, not logits")


# -- Task 1 · build_cnn ----------------------------------------------------------------
@functools.cache
def cnn_reference(n_class):
    """The specification: (3×3 conv 'same' → ReLU → 2×2 max pooling) for 32 then 64 filters, GAP, Dense, softmax."""
    blocks = [chain(conv(KERNEL, f), relu(), max_pool(2)) for f in FILTERS]
    return reference_model(chain(*blocks, gap(), dense(n_class), softmax()), INPUT_SHAPE)


def _cnn_hint(kinds):
    """Advice for the first step that differs; ``kinds`` are the learner's step kinds."""

    def hint(e, g):
        if e is None:
            return _("the task ends with Dense(n_class) and its softmax: remove what comes after")
        if g is None:
            return _(SOFTMAX_HINT) if e.kind == "Softmax" else _("end with Dense(n_class) and softmax")
        if (e.kind, g.kind) == ("Conv2D", "Conv2D"):
            if e.settings["kernel"] != g.settings["kernel"]:
                return _("3×3 kernels in both convolutions")
            if e.settings["filters"] != g.settings["filters"]:
                return _("32 filters in the first convolution, 64 in the second")
            if e.settings["strides"] != g.settings["strides"]:
                return _("the convolutions have stride 1: the 2×2 max pooling after each one halves the size")
            if e.settings["padding"] != g.settings["padding"]:
                return _("padding='same' in both convolutions (global pooling hides the smaller maps, not the values)")
        if (e.kind, g.kind) == ("Dense", "Dense"):
            if "Flatten" in kinds and "GlobalAveragePooling" not in kinds:
                return _("global average pooling, not Flatten: the Dense layer sees 64 features, not 7×7×64")
            if kinds.count("Dense") > 1:
                return _("one Dense layer only: Dense(n_class) right after global average pooling")
        if e.kind == "ReLU":
            return _("each convolution is followed by a ReLU (activation='relu' counts)")
        if (e.kind, g.kind) == ("MaxPooling", "AveragePooling"):
            return _("max pooling, not average pooling, after each convolution")
        if e.kind == "MaxPooling":
            return _("2×2 max pooling (stride 2) after each convolution's ReLU")
        if e.kind == "GlobalAveragePooling":
            return _("global average pooling, not Flatten, before the classifier")
        if e.kind == "Softmax" and g.kind == "ReLU":
            return _("no ReLU on the classifier: Dense(n_class) is followed by softmax only")
        if e.kind == "Softmax":
            return _(SOFTMAX_HINT)
        return None

    return hint


def build_cnn(fn):
    """Task 1: the CNN of the specification, for two numbers of classes."""
    with Task(1, "build_cnn") as t:
        t.function(fn, "build_cnn")
        for n_class in (10, 7):
            what = f"build_cnn(n_class={n_class})"
            model = t.keras_model(t.call(fn, (n_class,), what=what), what)
            compare_with_reference(
                t,
                model,
                cnn_reference(n_class),
                what,
                hint=_cnn_hint([s.kind for s in steps(model)]),
                shape_hint=lambda got: _("the last Dense layer has n_class units (use the argument, not 10)"),
            )


# -- Task 2 · make_augmentation -----------------------------------------------------------
AUGMENTATIONS = {  # the layer, its factors as (low, high), and the statement's ranges
    "RandomRotation": {"factor": (-0.05, 0.05)},
    "RandomZoom": {"height_factor": (-0.1, 0.1), "width_factor": (-0.1, 0.1)},
    "RandomTranslation": {"height_factor": (-0.1, 0.1), "width_factor": (-0.1, 0.1)},
}


def _range(value):
    """A factor as Keras accepts it (f or (low, high)) → (low, high)."""
    if isinstance(value, (tuple, list)):
        return tuple(float(v) for v in value)
    return (-float(value), float(value))


def _parts(layer):
    """The layers inside a (possibly nested) Sequential or model, or the layer itself."""
    inner = getattr(layer, "layers", None)
    if inner is None:
        return [layer]
    return [p for sub in inner if type(sub).__name__ != "InputLayer" for p in _parts(sub)]


def _factor_hint(kind, key, got):
    low, high = got
    if kind == "RandomRotation":
        if max(abs(low), abs(high)) >= 1:
            return _("RandomRotation's factor is a fraction of a full turn, not degrees: 18° = 18/360 = 0.05")
        if np.isclose(high, 0.1) or np.isclose(low, -0.1):
            return _("0.1 of a turn is 36°; ±18° is 0.05")
    if kind == "RandomTranslation" and max(abs(low), abs(high)) >= 1:
        return _("RandomTranslation takes fractions of the image size, not pixels: ±10 % is 0.1")
    if np.isclose(low, 0) or np.isclose(high, 0):
        return _("{kind} should go both ways: a single number f means (−f, f)").format(kind=kind)
    if kind == "RandomTranslation":
        return _("RandomTranslation(0.1, 0.1): ±10 % of the height and of the width")
    if kind == "RandomZoom":
        return _("RandomZoom(0.1) zooms in and out by up to 10 % (the width follows the height when not given)")
    return _("RandomRotation(0.05): up to ±0.05 of a full turn, ±18°")


def _construction_hint(err):
    if "factor" in str(err):
        return _("Keras takes fractions, not degrees or pixels: RandomRotation(0.05) is ±18°, 0.1 is ±10 % of the size")
    return None


def make_augmentation(fn):
    """Task 2: rotation ±0.05 turn, zoom ±10 %, translation ±10 % in both axes; identity at inference."""
    from keras import layers

    with Task(2, "make_augmentation") as t:
        t.function(fn, "make_augmentation")
        augmentation = t.call(fn, (), what="make_augmentation()", hint=_construction_hint)
        t.expect(
            isinstance(augmentation, layers.Layer),
            _("make_augmentation() should return a Keras layer"),
            _("keras.Sequential([...the three layers...])"),
            type(augmentation).__name__,
            _("wrap the layers in keras.Sequential([...]): a Python function or list is no layer"),
        )
        parts = _parts(augmentation)
        kinds = [type(p).__name__ for p in parts]
        for kind in AUGMENTATIONS:
            t.expect(
                kind in kinds,
                _("the augmentation should contain a {kind} layer").format(kind=kind),
                kind,
                kinds or type(augmentation).__name__,
                _("three Keras layers: RandomRotation, RandomZoom and RandomTranslation"),
            )
        extra = [k for k in kinds if k not in AUGMENTATIONS or kinds.count(k) > 1]
        advice = _("rotation, zoom and translation only, once each")
        if "RandomFlip" in extra:
            advice = _(
                "no RandomFlip: a mirrored 2, 5 or 7 is no longer the same digit; "
                "rotation, zoom and translation only, once each"
            )
        t.expect(
            not extra,
            _("exactly the three augmentation layers, one of each"),
            sorted(AUGMENTATIONS),
            kinds,
            advice,
        )
        for part in parts:
            kind, config = type(part).__name__, part.get_config()
            for key, expected in AUGMENTATIONS[kind].items():
                value = config[key]
                if value is None:  # RandomZoom's width follows its height
                    value = config["height_factor"]
                got = _range(value)
                t.expect(
                    np.allclose(got, expected),
                    _("{kind}'s {key}").format(kind=kind, key=key),
                    expected,
                    got,
                    _factor_hint(kind, key, got),
                )
        images = np.random.default_rng(0).uniform(size=(4, 28, 28, 1)).astype("float32")
        t.expect(
            np.array_equal(np.asarray(augmentation(images, training=False)), images),
            _("at inference (training=False) the augmentation should return the images unchanged"),
            _("the same images"),
            _("changed images"),
            _("use Keras's Random… layers: they are active only in training"),
        )
        t.expect(
            not np.allclose(np.asarray(augmentation(images, training=True)), images),
            _("in training (training=True) the augmentation should change the images"),
            _("changed images"),
            _("the same images"),
        )


# -- Task 3 · shift_images -----------------------------------------------------------------
def _shift(images, dx, dy):
    """Move the content dx right and dy down; zeros come in, nothing wraps around."""
    out = np.zeros_like(images)
    h, w = images.shape[1:3]
    if abs(dx) >= w or abs(dy) >= h:
        return out
    rows = slice(max(0, dy), h + min(0, dy)), slice(max(0, -dy), h - max(0, dy))
    cols = slice(max(0, dx), w + min(0, dx)), slice(max(0, -dx), w - max(0, dx))
    out[:, rows[0], cols[0]] = images[:, rows[1], cols[1]]
    return out


def _first_channel_only(images, dx, dy):
    out = np.zeros_like(images)
    out[..., :1] = _shift(images[..., :1], dx, dy)
    return out


SHIFT_MISTAKES = [  # a wrong shift, and the hint when it explains every configuration
    (lambda im, dx, dy: np.roll(im, (dy, dx), axis=(1, 2)), N_("np.roll wraps the pixels that leave one edge around")),
    (lambda im, dx, dy: _shift(im, -dx, -dy), N_("both shifts go the wrong way: positive dx moves right, dy down")),
    (
        lambda im, dx, dy: _shift(im, dx, -dy),
        N_("dy goes the wrong way: positive dy moves the content down (rows +dy)"),
    ),
    (lambda im, dx, dy: _shift(im, -dx, dy), N_("dx goes the wrong way: positive dx moves the content right")),
    (lambda im, dx, dy: _shift(im, dy, dx), N_("dx is horizontal (along the width, axis 2), dy vertical (axis 1)")),
    (_first_channel_only, N_("shift every channel, not only the first: index images[:, rows, cols] with all channels")),
]
SHIFT_CASES = [  # images (n, H, W, C), dx, dy: both signs, both axes, dx ≠ dy, shifts past half the size
    ((3, 6, 7, 1), 2, 0),
    ((3, 6, 7, 1), 0, 1),
    ((3, 6, 7, 1), -3, 0),
    ((3, 6, 7, 1), 0, -2),
    ((2, 5, 8, 3), 1, -2),
    ((2, 5, 8, 3), -2, 3),
    ((2, 5, 8, 3), 0, 0),
    ((2, 5, 8, 3), 5, 1),
    ((2, 5, 8, 3), -1, -4),
]


def _shift_hint(results):
    """The mistake that explains every result, if one does."""
    for mistake, hint in SHIFT_MISTAKES:
        if all(got.shape == image.shape and np.allclose(got, mistake(image, dx, dy)) for image, dx, dy, got in results):
            return _(hint)
    return _("positive dx moves the content right, positive dy down; the uncovered edge is zero")


def _shift_what(images, dx, dy):
    """What a check calls: the call and the images it shifts."""
    n, h, w, c = images.shape
    return _("shift_images(images, dx={dx}, dy={dy}) on {count} images of {height}×{width}×{channels}").format(
        dx=dx, dy=dy, count=n, height=h, width=w, channels=c
    )


def _slicing_hint(err):
    if "broadcast" in str(err):
        return _("the source and target slices differ in size: write them for negative shifts and large shifts too")
    return None


def shift_images(fn):
    """Task 3: move images right by dx and down by dy, zeros coming in, nothing wrapping around."""
    rng = np.random.default_rng(2)
    with Task(3, "shift_images") as t:
        t.function(fn, "shift_images")
        results = []
        for shape, dx, dy in SHIFT_CASES:
            images = (rng.uniform(0.1, 1.0, size=shape) * rng.choice([-1, 1], size=shape)).astype("float32")
            what = _shift_what(images, dx, dy)
            argument = images.copy()
            got = t.call(fn, (argument, dx, dy), what=what, hint=_slicing_hint)
            t.expect(
                np.array_equal(argument, images),
                _("{what} should leave its input unchanged").format(what=what),
                _("a new array, the input as it was"),
                _("the input was changed in place"),
                _("start from np.zeros_like(images) and copy the shifted content into it"),
            )
            t.expect(
                isinstance(got, np.ndarray),
                _("{what} should return a NumPy array").format(what=what),
                "np.ndarray",
                type(got).__name__,
            )
            t.equal(
                _("{what}: shape").format(what=what),
                got.shape,
                images.shape,
                _("the shifted images keep their shape (n, H, W, C)"),
            )
            t.equal(f"{what}: dtype", str(got.dtype), str(images.dtype), _("keep the dtype: start from np.zeros_like"))
            results.append((images, dx, dy, got))
        hint = _shift_hint(results)
        for images, dx, dy, got in results:
            t.close(_("{what}: pixels").format(what=_shift_what(images, dx, dy)), got, _shift(images, dx, dy), hint)


# -- Task 4 · accuracy_under_shift ------------------------------------------------------------
@functools.cache
def _probe_classifier():
    """A small, position-sensitive classifier of 8×9 images into 3 classes."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(3)
    inputs = keras.Input((8, 9, 1))
    x = layers.Conv2D(4, 3, activation="relu")(inputs)
    outputs = layers.Dense(3, activation="softmax")(layers.Flatten()(x))
    return keras.Model(inputs, outputs)


def _accuracies(model, images, labels, shifts, move=lambda im, s: _shift(im, s, 0), axis=1):
    return [float((np.asarray(model(move(images, s))).argmax(axis=axis) == labels).mean()) for s in shifts]


def _evaluation_cases():
    """(images, labels, shifts): labels right for about 70 % of the unshifted images, shifts of both signs."""
    model = _probe_classifier()
    cases = []
    for seed, n, shifts in [(4, 60, [0, 1, 2, 3]), (5, 45, [3, -1, 0, -3])]:
        rng = np.random.default_rng(seed)
        images = rng.uniform(-1, 1, size=(n, 8, 9, 1)).astype("float32")
        labels = np.asarray(model(images)).argmax(axis=1)
        wrong = rng.uniform(size=n) < 0.3
        labels[wrong] = (labels[wrong] + 1) % 3
        cases.append((images, labels, shifts))
    return model, cases


def _evaluation_mistakes(model, images, labels, shifts):
    right = _accuracies(model, images, labels, shifts)
    return [
        (_accuracies(model, images, labels, [0] * len(shifts)), _("shift the images before predicting")),
        (
            _accuracies(model, images, labels, [-s for s in shifts]),
            _("shift right: positive shifts move the content right (dx = shift); yours went left"),
        ),
        (
            _accuracies(model, images, labels, shifts, lambda im, s: _shift(im, 0, s)),
            _("shift along the width (dx = shift, dy = 0), not down"),
        ),
        (
            _accuracies(model, images, labels, shifts, lambda im, s: np.roll(im, s, axis=2)),
            _("use your shift_images (zeros come in), not np.roll, which wraps around"),
        ),
        ([100 * a for a in right], _("return fractions between 0 and 1, not percentages")),
        (
            [a * len(labels) for a in right],
            _("the fraction predicted correctly: divide the count by the number of images"),
        ),
        ([1 - a for a in right], _("the fraction predicted correctly, not the error rate")),
        (_accuracies(model, images, labels, shifts, axis=None), _("argmax over the classes: .argmax(axis=1)")),
    ]


def accuracy_under_shift(fn):
    """Task 4: accuracy of a model on images shifted right by each shift."""
    model, cases = _evaluation_cases()
    with Task(4, "accuracy_under_shift") as t:
        t.function(fn, "accuracy_under_shift")
        for images, labels, shifts in cases:
            what = _("accuracy_under_shift(model, {count} images, labels, shifts={shifts})").format(
                count=len(images), shifts=shifts
            )
            got = t.call(
                fn,
                (model, images, labels, list(shifts)),
                what=what,
                hint=lambda err: (
                    _("argmax over the classes (axis=1), one prediction per image") if "broadcast" in str(err) else None
                ),
            )
            ok = isinstance(got, (list, tuple, np.ndarray)) and np.ndim(got) == 1 and len(got) == len(shifts)
            t.expect(
                ok,
                _("{what}: one accuracy per shift").format(what=what),
                _("a list of {count} numbers").format(count=len(shifts)),
                got,
            )
            try:
                got = np.asarray(got, dtype="float64")
            except (TypeError, ValueError):
                t.fail(_("{what}: the accuracies should be numbers").format(what=what), got=got)
            expected = _accuracies(model, images, labels, shifts)
            hint = _("for each shift: shift the images right, predict, count the predictions equal to the labels")
            for wrong, mistake_hint in _evaluation_mistakes(model, images, labels, shifts):
                if np.allclose(got, wrong, atol=1e-6):
                    hint = mistake_hint
                    break
            t.close(_("{what}: accuracies").format(what=what), got, expected, hint, atol=1e-6)


# -- Task 5 · feature_maps --------------------------------------------------------------------
@functools.cache
def _probe_network():
    """conv1 → relu1 → a nested block2 (conv, ReLU) → pool → GAP → classifier, on 9×11×2 images."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(5)
    inputs = keras.Input((9, 11, 2), name="image")
    x = layers.Conv2D(4, 3, padding="same", name="conv1")(inputs)
    x = layers.ReLU(name="relu1")(x)
    block = keras.Sequential([layers.Conv2D(5, 3, name="block2_conv"), layers.ReLU(name="block2_relu")], name="block2")
    x = layers.MaxPooling2D(2, name="pool2")(block(x))
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, layers.Dense(3, activation="softmax", name="classifier")(x))


def _outputs_of(model, name, images):
    import keras

    return np.asarray(keras.Model(model.inputs[0], model.get_layer(name).output)(images))


def _feature_hint(model, name, images, got):
    """The mistake that explains what came back, if one does."""
    names = [layer.name for layer in model.layers]
    layer, before = model.get_layer(name), model.layers[names.index(name) - 1]
    candidates = [
        (lambda: model(images), _("that is the model's final output; end the new model at the named layer")),
        (
            lambda: _outputs_of(model, before.name, images),
            _("that is the output of the layer before ({name})").format(name=repr(before.name)),
        ),
        (
            lambda: layer(images),
            _("the layer's output inside the model: its input is the previous layer's output, not the images"),
        ),
    ]
    for compute, hint in candidates:
        try:
            value = np.asarray(compute())
        except Exception:  # the layer alone does not fit the images
            continue
        if value.shape == got.shape and np.allclose(value, got, atol=1e-5):
            return hint
    if any(got.shape == tuple(w.shape) for w in layer.weights):
        return _("those are the layer's weights; the task asks for its output on the images")
    return _("keras.Model(model.input, model.get_layer(layer_name).output) on the images, with the model's own weights")


def feature_maps(fn):
    """Task 5: the output of a named layer for some images, as a NumPy array."""
    import keras

    model = _probe_network()
    with Task(5, "feature_maps") as t:
        t.function(fn, "feature_maps")
        for name, n in [("block2", 3), ("relu1", 2), ("conv1", 2)]:
            images = np.random.default_rng(len(name)).normal(size=(n, 9, 11, 2)).astype("float32")
            what = _("feature_maps(model, {name}, {count} images)").format(name=repr(name), count=n)
            alone = _("the layer alone expects the previous layer's output, not the images: end a keras.Model at it")
            got = t.call(
                fn, (model, name, images), what=what, hint=lambda err, h=alone: h if "shape" in str(err) else None
            )
            t.expect(
                not isinstance(got, keras.KerasTensor),
                _("{what} returned a symbolic Keras tensor").format(what=what),
                _("the values for these images, as a NumPy array"),
                _("a KerasTensor (a layer's .output)"),
                _("layer.output only describes the graph: build keras.Model(model.input, layer.output) and call it"),
            )
            t.expect(
                isinstance(got, np.ndarray),
                _("{what} should return a NumPy array").format(what=what),
                "np.ndarray",
                type(got).__name__,
                _("convert the model's output with np.asarray(...) (or keras.ops.convert_to_numpy)"),
            )
            expected = _outputs_of(model, name, images)
            if got.shape != expected.shape or not np.allclose(got, expected, atol=1e-5):
                hint = _feature_hint(model, name, images, got)
                t.equal(_("{what}: shape").format(what=what), got.shape, expected.shape, hint)
                t.close(_("{what}: values").format(what=what), got, expected, hint)
            t.passed += 1


# -- Task 6 · cnn_params ---------------------------------------------------------------------------
def spec_params(n_class=10, kernel=KERNEL, filters=FILTERS, channels=INPUT_SHAPE[-1], bias=True, gap_features=True):
    """Parameters of the Task 1 network by the per-layer formulas (pooling has none)."""
    total, c_in = 0, channels
    for f in filters:
        total += kernel * kernel * c_in * f + bias * f
        c_in = f
    features = c_in if gap_features else c_in * (INPUT_SHAPE[0] // 4) * (INPUT_SHAPE[1] // 4)
    return total + features * n_class + bias * n_class


def cnn_params(value):
    """Task 6: the parameters of the Task 1 network for 10 classes, by hand."""
    with Task(6, "cnn_params") as t:
        t.value(value, "cnn_params", (int, np.integer))
        expected = spec_params()
        hints = {
            spec_params(bias=False): _("add the biases: one per filter and one per output unit"),
            spec_params(gap_features=False): _("global average pooling leaves 64 values, not 7×7×64"),
            spec_params(kernel=5): _("the kernels are 3×3, not 5×5"),
            expected - KERNEL * KERNEL * (FILTERS[0] - 1) * FILTERS[1]: _(
                "the second convolution's kernels span the 32 channels of the first"
            ),
            expected - 10: _("the Dense layer has a bias too: 64·10 + 10"),
            expected - 96: _("each convolution has one bias per filter: 32 and 64"),
        }
        t.equal(
            "cnn_params",
            int(value),
            expected,
            hints.get(int(value), _("conv: 3·3·C_in·C_out + C_out; dense: 64·10 + 10; pooling: 0")),
        )


# -- Task 7 · feature_change --------------------------------------------------------------------
@functools.cache
def _two_heads():
    """A small CNN with both heads on one trunk: 'gap' (global average pooling) and 'flatten', on 12×14×1 images."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(7)
    inputs = keras.Input((12, 14, 1), name="image")
    x = layers.Conv2D(6, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv2")(x)
    features = layers.GlobalAveragePooling2D(name="gap")(x)
    flat = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(3, activation="softmax", name="classifier")(features)
    return keras.Model(inputs, [outputs, flat], name="two_heads")


def _norms(values):
    return np.linalg.norm(values.reshape(len(values), -1), axis=1)


def _change_variants(model, name, images, dx, dy):
    """The right number first, then (value, hint) of the usual mistakes."""
    a = _outputs_of(model, name, images)
    b = _outputs_of(model, name, _shift(images, dx, dy))
    last = np.asarray(model(images)[0])
    last_shifted = np.asarray(model(_shift(images, dx, dy))[0])
    right = float(np.mean(_norms(b - a) / _norms(a)))

    def moved(move):
        shifted = _outputs_of(model, name, move(images))
        return float(np.mean(_norms(shifted - a) / _norms(a)))

    return right, [
        (float(np.mean(_norms(b - a) / _norms(b))), _("divide by the norm of the unshifted images' features, ‖A_i‖")),
        (float(np.mean(_norms(b - a))), _("divide each image's change by ‖A_i‖: the change relative to the features")),
        (
            float(np.linalg.norm(b - a) / np.linalg.norm(a)),
            _("one ratio per image, then their mean: not one ratio of the whole batch"),
        ),
        (
            float(np.mean(np.abs(b - a).reshape(len(a), -1).sum(1) / np.abs(a).reshape(len(a), -1).sum(1))),
            _("the Euclidean norm of each image's values (square root of the sum of squares), not absolute values"),
        ),
        (float(np.mean(_norms(b - a) ** 2 / _norms(a) ** 2)), _("the norms themselves, not their squares")),
        (
            float(np.mean(_norms(last_shifted - last) / _norms(last))),
            _("the features of the named layer, not the model's output"),
        ),
        (
            moved(lambda im: np.roll(im, (dy, dx), axis=(1, 2))),
            _("shift with your shift_images (zeros come in), not np.roll"),
        ),
        (moved(lambda im: _shift(im, dy, dx)), _("dx moves the content right (along the width), dy down")),
        (moved(lambda im: _shift(im, -dx, -dy)), _("positive dx moves the content right, positive dy down")),
        (moved(lambda im: _shift(im, dx, 0)), _("shift by dy too")),
    ]


FEATURE_CHANGE_CASES = [("gap", 2, 0, 5), ("flatten", 2, 0, 5), ("gap", -1, 3, 4), ("flatten", 3, -2, 4)]


def feature_change(fn):
    """Task 7: mean over images of ‖f(shifted) − f(x)‖ / ‖f(x)‖ for a named layer, against the check's own."""
    model = _two_heads()
    rng = np.random.default_rng(8)
    with Task(7, "feature_change") as t:
        t.function(fn, "feature_change")
        for name, dx, dy, n in FEATURE_CHANGE_CASES:
            images = rng.uniform(0, 1, size=(n, 12, 14, 1)).astype("float32")
            what = _("feature_change(model, {name}, {count} images of 12×14×1, dx={dx}, dy={dy})").format(
                name=repr(name), count=n, dx=dx, dy=dy
            )
            got = t.call(fn, (model, name, images.copy(), dx, dy), what=what)
            if np.ndim(got) != 0:
                t.fail(
                    _("{what} should be one number").format(what=what),
                    _("a float"),
                    _("an array of shape {shape}").format(shape=np.shape(got)),
                    _("return the mean over the images of the per-image ratios: one float"),
                )
            if isinstance(got, (str, bytes, bool)) or not np.issubdtype(np.asarray(got).dtype, np.number):
                t.fail(
                    _("{what} should be a number").format(what=what),
                    _("a float"),
                    type(got).__name__,
                    _("return float(...) of the mean"),
                )
            got = float(got)
            right, variants = _change_variants(model, name, images, dx, dy)
            hint = next((h for value, h in variants if np.isclose(got, value, rtol=1e-4, atol=1e-7)), None)
            hint = hint or _("the mean over the images of ‖B_i − A_i‖ / ‖A_i‖")
            t.expect(np.isclose(got, right, rtol=1e-4, atol=1e-6), what, round(right, 6), round(got, 6), hint)

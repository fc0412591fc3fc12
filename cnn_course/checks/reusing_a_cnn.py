"""Checks for unit 04 (reusing a CNN): two digit tasks, a frozen base, unfreezing the top, fine-tuning.

Each check builds its own small models and data, runs what the learner wrote on
them and compares behaviour with what the task's description implies: which
weights are trainable (from ``trainable_weights``), which weights move in a
training step, that BatchNormalization keeps its moving statistics, and
parameter counts from the per-layer formulas. No check carries a copy of the
solution's code.
"""

import numpy as np

from cnn_course.checks import Task, is_whole_number

IMAGE_SHAPE = (28, 28, 1)
BASE_NAME = "digits_base"
HEAD_NAME = "source_head"


# -- small models the checks run the learner's code on ------------------------------
def conv_base(channels=(4, 6, 8), name=BASE_NAME, seed=0):
    """A digits base like the walkthrough's: blocks of 3×3 conv (no bias) → BN → ReLU, pooling, GAP."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(IMAGE_SHAPE, name="image")
    x = inputs
    for i, c in enumerate(channels, start=1):
        x = layers.Conv2D(c, 3, padding="same", use_bias=False, name=f"block{i}_conv")(x)
        x = layers.BatchNormalization(momentum=0.5, name=f"block{i}_bn")(x)
        x = layers.Activation("relu", name=f"block{i}_relu")(x)
        if i < len(channels):
            x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    base = keras.Model(inputs, x, name=name)
    rng = np.random.default_rng(seed)
    for layer in base.layers:  # distinctive, non-default BN statistics, as after training
        if isinstance(layer, layers.BatchNormalization):
            c = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.1, c).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, c).astype("float32"))
    return base


def source_model(channels=(4, 6, 8), n_classes=5, seed=0):
    """Input → digits_base (a nested model) → Dense(n_classes, softmax) named 'source_head'."""
    import keras
    from keras import layers

    base = conv_base(channels, seed=seed)
    inputs = keras.Input(IMAGE_SHAPE, name="image")
    outputs = layers.Dense(n_classes, activation="softmax", name=HEAD_NAME)(base(inputs))
    return keras.Model(inputs, outputs, name="source")


def _all_layers(model):
    """Every layer of a model, nested models opened."""
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        found.extend(_all_layers(layer))
    return found


def _variable_ids(variables):
    return {id(v) for v in variables}


def _size(variables):
    return int(sum(int(np.prod(v.shape)) for v in variables))


def _images(n, seed=1):
    return np.random.default_rng(seed).uniform(0, 1, (n, *IMAGE_SHAPE)).astype("float32")


def _conv_layers(base):
    from keras import layers

    return [layer for layer in base.layers if isinstance(layer, layers.Conv2D)]


def _bn_layers(base):
    from keras import layers

    return [layer for layer in base.layers if isinstance(layer, layers.BatchNormalization)]


# -- Task 1 · split_digits ------------------------------------------------------------
def split_digits(fn):
    """Task 1: digits 0–4 (labels kept) and digits 5–9 relabelled 0–4."""
    with Task(1, "split_digits") as t:
        t.function(fn, "split_digits")
        rng = np.random.default_rng(0)
        y = np.concatenate([np.arange(10), rng.integers(0, 10, 30)]).astype("int64")
        x = rng.uniform(0, 1, (len(y), 4, 4, 1)).astype("float32")
        label_of = {x[i].tobytes(): int(y[i]) for i in range(len(y))}
        result = t.call(fn, (x, y), what="split_digits(x, y)")
        ok = isinstance(result, (tuple, list)) and len(result) == 2 and all(len(part) == 2 for part in result)
        t.expect(ok, "split_digits should return two (x, y) pairs", "((x_a, y_a), (x_b, y_b))", result)
        for part, (name, low, shift) in zip(
            result, [("task A (digits 0–4)", 0, 0), ("task B (digits 5–9)", 5, 5)], strict=True
        ):
            xs, ys = np.asarray(part[0]), np.asarray(part[1]).reshape(-1)
            count = int(np.sum((y >= low) & (y < low + 5)))
            hint = (
                "digit 5 belongs to task B: task A is y < 5, task B is y >= 5"
                if len(ys) == count + int(np.sum(y == 5)) or len(ys) == count - int(np.sum(y == 5))
                else "task A keeps the images with y < 5, task B those with y >= 5"
            )
            t.equal(f"{name}: number of images", len(xs), count, hint)
            t.equal(f"{name}: number of labels", len(ys), count, "return the labels of the same images")
            original = [label_of.get(img.tobytes()) for img in xs]
            t.expect(
                None not in original,
                f"{name}: the images should be the input images, unchanged",
                got="images that are not among the inputs",
                hint="select rows with a boolean mask, e.g. x[y < 5]; do not rescale or reshape them",
            )
            t.expect(
                all(low <= o < low + 5 for o in original),
                f"{name}: every image should show one of the digits {low}–{low + 4}",
                f"digits {low}–{low + 4}",
                sorted(set(original)),
            )
            expected = [o - shift for o in original]
            hint = (
                "relabel task B's digits 5–9 as classes 0–4 (y − 5): a new 5-unit head predicts classes 0–4"
                if shift and list(ys) == original
                else "each label should be the digit (minus 5 in task B), for the same image"
            )
            t.equal(f"{name}: labels", [int(v) for v in ys], expected, hint)


# -- Task 2 · transfer_model ------------------------------------------------------------
def transfer_model(fn):
    """Task 2: the source's trained base, frozen and in inference mode, under a new head."""
    from keras import layers

    with Task(2, "transfer_model") as t:
        t.function(fn, "transfer_model")
        for channels, n_classes in [((4, 6, 8), 5), ((3, 5, 7), 3)]:
            source = source_model(channels, n_classes=5)
            base, old_head = source.get_layer(BASE_NAME), source.get_layer(HEAD_NAME)
            what = f"transfer_model(source, n_classes={n_classes})"
            model = t.keras_model(t.call(fn, (source, n_classes), what=what), what)
            t.equal(f"{what}: input shape", tuple(model.inputs[0].shape[1:]), IMAGE_SHAPE, "the input is 28×28×1")
            inside = _all_layers(model)
            t.expect(
                all(layer is not old_head for layer in inside),
                f"{what}: the source's classifier 'source_head' should not be part of the new model",
                "the base's features → a new Dense layer",
                "a model that contains 'source_head'",
                "the old classifier answers task A's question; take the features before it (the base's output)",
            )
            t.equal(
                f"{what}: output shape",
                tuple(model.outputs[0].shape[1:]),
                (n_classes,),
                "the new head has one unit per class of the new task: Dense(n_classes)",
            )
            reused = _variable_ids(base.weights) <= _variable_ids(model.weights)
            t.expect(
                reused,
                f"{what}: the new model should reuse the trained base (the same layers, the same weights)",
                "source.get_layer('digits_base') inside the new model",
                "new convolution layers",
                "a freshly built base starts from random weights: that is training from scratch",
            )
            trainable = _size(model.trainable_weights)
            head = channels[-1] * n_classes + n_classes
            t.equal(
                f"{what}: trainable parameters (only the new head's kernel and bias)",
                trainable,
                head,
                "freeze the base before training: base.trainable = False"
                if trainable > head
                else "the new Dense head should be trainable",
            )
            t.expect(
                any(isinstance(layer, layers.Dense) and layer is not old_head for layer in inside),
                f"{what}: a new Dense layer should be the head",
                "layers.Dense(n_classes, activation='softmax')",
                [type(layer).__name__ for layer in inside],
            )
            x = _images(4)
            p = np.asarray(model(x, training=False))
            t.close(f"{what}: each row of the output sums to 1", p.sum(axis=1), np.ones(4), "end with softmax")


# -- Task 3 · unfreeze_top ----------------------------------------------------------------
def _trainable_names(base):
    ids = _variable_ids(base.trainable_weights)
    return [layer.name for layer in base.layers if layer.weights and _variable_ids(layer.weights) & ids]


def _unfreeze_hint(expected, got, convs):
    names = [c.name for c in convs]
    if set(names) <= set(got) and len(expected) < len(names):
        return "unfreeze only the top k convolutions; base.trainable = True alone unfreezes everything"
    if any(n.endswith("_bn") for n in got):
        return "keep every BatchNormalization layer frozen (trainable = False), even in the unfrozen blocks"
    if got and expected and got == names[: len(expected)]:
        return "unfreeze from the top (the layers nearest the output), not from the bottom"
    if not got and expected:
        return "nothing is trainable: set trainable = True on the top k Conv2D layers (and base.trainable = True)"
    return "count only the Conv2D layers: base.layers also holds ReLU, pooling and BN layers"


def unfreeze_top(fn):
    """Task 3: exactly the top k convolutions trainable; BN and everything below frozen."""
    with Task(3, "unfreeze_top") as t:
        t.function(fn, "unfreeze_top")
        base = conv_base((4, 6, 8, 10))
        convs = _conv_layers(base)
        for k in (1, 2, 4, 0):
            base.trainable = False
            what = f"unfreeze_top(base, k={k}) on a frozen base with 4 conv blocks"
            try:
                fn(base, k)
            except NotImplementedError:
                t.fail(f"{what}: not written yet", hint="replace `raise NotImplementedError()` with your code")
            except Exception as err:
                t.fail(f"{what} raised {type(err).__name__}", got=str(err).strip().splitlines()[0] if str(err) else "")
            expected = [c.name for c in convs[len(convs) - k :]] if k else []
            got = _trainable_names(base)
            t.equal(f"{what}: layers with trainable weights", got, expected, _unfreeze_hint(expected, got, convs))
        base.trainable = False
        fn(base, 3)
        fn(base, 1)
        got = _trainable_names(base)
        t.equal(
            "unfreeze_top(base, 3) then unfreeze_top(base, 1): layers with trainable weights",
            got,
            [convs[-1].name],
            "set trainable = False explicitly on every layer that should stay frozen",
        )


# -- Task 4 · start_fine_tuning --------------------------------------------------------------
def _learning_rate(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    return float(np.asarray(optimizer.learning_rate))


def start_fine_tuning(fn):
    """Task 4: unfreeze the top k convolutions and compile again, with a small learning rate."""
    import keras
    from keras import layers

    with Task(4, "start_fine_tuning") as t:
        t.function(fn, "start_fine_tuning")
        for k, scratch_lr in [(1, 1e-3), (2, 1e-2)]:
            base = conv_base((4, 6, 8), seed=k)
            inputs = keras.Input(IMAGE_SHAPE)
            outputs = layers.Dense(3, activation="softmax", name="new_head")(base(inputs, training=False))
            model = keras.Model(inputs, outputs)
            base.trainable = False
            model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
            x, y = _images(8, seed=k), np.arange(8) % 3
            model.fit(x, y, epochs=1, batch_size=8, verbose=0)  # stage 1 has run: Keras has built its train step
            stage1_optimizer = model.optimizer
            what = f"start_fine_tuning(model, base, k={k}, scratch_lr={scratch_lr:g})"
            try:
                fn(model, base, k, scratch_lr)
            except NotImplementedError:
                t.fail(f"{what}: not written yet", hint="replace `raise NotImplementedError()` with your code")
            except Exception as err:
                t.fail(f"{what} raised {type(err).__name__}", got=str(err).strip().splitlines()[0] if str(err) else "")
            t.expect(
                model.optimizer is not stage1_optimizer,
                f"{what}: the model should be compiled again",
                "model.compile(...) with a new optimizer",
                "the optimizer of stage 1",
                "Keras builds its training step at the first fit; a change of `trainable` after that takes "
                "effect only when you call model.compile(...) again",
            )
            lr = _learning_rate(model)
            t.expect(lr is not None, f"{what}: the model should be compiled", hint="call model.compile(...) again")
            t.expect(
                lr < scratch_lr,
                f"{what}: the fine-tuning learning rate",
                f"well below scratch_lr = {scratch_lr:g} (about a tenth)",
                f"{lr:g}",
                "a learning rate as large as from scratch makes big steps that wreck the pretrained features; "
                "fine-tune with about a tenth of it",
            )
            t.expect(
                scratch_lr / 1000 <= lr <= scratch_lr / 3,
                f"{what}: the fine-tuning learning rate",
                f"between scratch_lr/1000 and scratch_lr/3, e.g. {scratch_lr / 10:g}",
                f"{lr:g}",
                "about ten times smaller than from scratch; much smaller and the layers barely move",
            )
            convs, bns = _conv_layers(base), _bn_layers(base)
            before = {layer.name: [keras.ops.convert_to_numpy(w) for w in layer.weights] for layer in convs + bns}
            head_before = keras.ops.convert_to_numpy(model.get_layer("new_head").kernel)
            try:
                model.fit(x, y, epochs=1, batch_size=8, verbose=0)
            except Exception as err:
                t.fail(
                    f"{what}: model.fit failed after your function",
                    got=str(err).strip().splitlines()[0] if str(err) else type(err).__name__,
                    hint="compile with a loss, e.g. model.compile(optimizer, 'sparse_categorical_crossentropy')",
                )
            moved = [
                layer.name
                for layer in convs + bns
                if any(
                    not np.allclose(a, keras.ops.convert_to_numpy(b))
                    for a, b in zip(before[layer.name], layer.weights, strict=True)
                )
            ]
            expected = [c.name for c in convs[len(convs) - k :]]
            if not moved:
                hint = (
                    "Keras builds its training step at the first fit; a change of `trainable` after that takes "
                    "effect only when you call model.compile(...) again"
                )
            else:
                hint = _unfreeze_hint(expected, moved, convs)
            t.equal(f"{what}: layers whose weights change in one training step", moved, expected, hint)
            t.expect(
                not np.allclose(head_before, keras.ops.convert_to_numpy(model.get_layer("new_head").kernel)),
                f"{what}: the head should keep training",
                hint="leave the head trainable while fine-tuning",
            )


# -- Task 5 · trainable_split --------------------------------------------------------------
def split_by_formula(channels, n_classes, k, in_channels=1, bn_trainable=False, bias=False, top=True):
    """(trainable, non-trainable) parameters of the conv-BN base with the top k convs unfrozen, plus a head."""
    trainable, frozen, c_in = 0, 0, in_channels
    n = len(channels)
    for i, c in enumerate(channels):
        unfrozen = i >= n - k if top else i < k
        conv = 9 * c_in * c + (c if bias else 0)
        trainable, frozen = (trainable + conv, frozen) if unfrozen else (trainable, frozen + conv)
        bn_train = 2 * c if bn_trainable and unfrozen else 0
        trainable, frozen = trainable + bn_train, frozen + 4 * c - bn_train
        c_in = c
    return trainable + c_in * n_classes + n_classes, frozen


def trainable_split(fn):
    """Task 5: trainable and non-trainable parameters, by formula."""
    with Task(5, "trainable_split") as t:
        t.function(fn, "trainable_split")
        for channels, n_classes, k in [((16, 32, 64), 5, 0), ((16, 32, 64), 5, 1), ((8, 16, 32, 64), 10, 2)]:
            what = f"trainable_split({channels}, n_classes={n_classes}, k={k})"
            got = t.call(fn, (channels, n_classes, k), what=what)
            ok = isinstance(got, (tuple, list)) and len(got) == 2 and all(is_whole_number(v) for v in got)
            t.expect(ok, f"{what} should return two whole numbers", "(trainable, non_trainable)", got)
            got = (int(got[0]), int(got[1]))
            expected = split_by_formula(channels, n_classes, k)
            variants = {
                split_by_formula(channels, n_classes, k, bn_trainable=True): (
                    "the BN layers stay frozen: their γ and β are non-trainable too"
                ),
                split_by_formula(channels, n_classes, k, bias=True): "the convolutions have no bias (use_bias=False)",
                split_by_formula(channels, n_classes, k, top=False): "unfreeze the top k convolutions, not the bottom",
                split_by_formula(channels, n_classes, k, in_channels=3): "the images have 1 channel, not 3",
                (expected[0], expected[1] - 2 * sum(channels)): (
                    "Keras counts 4 numbers per BN channel: γ, β, moving mean and moving variance"
                ),
                (
                    expected[0] - channels[-1] * n_classes - n_classes,
                    expected[1] + channels[-1] * n_classes + n_classes,
                ): ("the new head is trainable"),
            }
            hint = variants.get(got, "a 3×3 conv from C_in to C_out channels has 9·C_in·C_out weights; BN has 4·C")
            t.equal(f"{what}: (trainable, non_trainable)", got, expected, hint)

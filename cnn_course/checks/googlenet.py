"""Checks for unit 06 (GoogLeNet): the inception module, the auxiliary head, the multi-output model.

Each check builds what the learner wrote on small inputs and compares it with
what the task's description implies: output shapes, the layers it contains,
parameter counts from the per-layer formulas, and numerical properties (which
branch each output channel comes from, how the total loss weighs each output,
which weights an inference model shares). No check carries a copy of the
solution's code.
"""

import warnings
from collections import Counter

import numpy as np

from cnn_course.checks import Task, layer_kinds, probe_model

AUX_WEIGHT = 0.3
RELU, CONCAT, SOFTMAX, FLATTEN, DROPOUT = "ReLU", "Concatenate", "Softmax", "Flatten", "Dropout"
BRANCHES = ("1×1", "3×3", "5×5", "pool")

# The small inception network of Task 3 (28×28×1 digits): filters of its three inception modules,
# in the table's order (#1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj).
STEM_FILTERS = 32
SMALL_MODULES = ((16, 16, 24, 4, 8, 8), (24, 24, 32, 8, 16, 16), (32, 32, 48, 8, 16, 16))
SMALL_AUX = {"filters": 32, "units": 128}


def conv(size, filters):
    return f"Conv2D {size}×{size}/1×1 →{filters}"


MAX_POOL_3_STRIDE_1 = "MaxPooling2D 3×3/1×1"


# -- what the descriptions imply ----------------------------------------------------
def conv_params(size, c_in, filters, bias=True):
    return size * size * c_in * filters + bias * filters


def module_channels(filters):
    f1, _, f3, _, f5, pool_proj = filters
    return f1 + f3 + f5 + pool_proj


def module_params(c_in, filters, bias=True):
    """Parameters of an inception module with `c_in` input channels."""
    f1, f3r, f3, f5r, f5, pool_proj = filters
    return (
        conv_params(1, c_in, f1, bias)
        + conv_params(1, c_in, f3r, bias)
        + conv_params(3, f3r, f3, bias)
        + conv_params(1, c_in, f5r, bias)
        + conv_params(5, f5r, f5, bias)
        + conv_params(1, c_in, pool_proj, bias)
    )


def module_kinds(filters):
    """The layers of a module as a multiset: the order of the branches in the code is free."""
    f1, f3r, f3, f5r, f5, pool_proj = filters
    convs = [conv(1, f1), conv(1, f3r), conv(3, f3), conv(1, f5r), conv(5, f5), conv(1, pool_proj)]
    return Counter(convs + [MAX_POOL_3_STRIDE_1, CONCAT] + [RELU] * 6)


def module_radii(filters):
    """How far each output channel sees from its pixel: 0 (1×1), 1 (3×3 and pool), 2 (5×5), in order."""
    f1, _, f3, _, f5, pool_proj = filters
    return [0] * f1 + [1] * f3 + [2] * f5 + [1] * pool_proj


def aux_params(c_in, n_class, filters=128, units=1024, pooled=4 * 4):
    """Parameters of the auxiliary head on a 14×14 map (pooled to 4×4)."""
    return conv_params(1, c_in, filters) + pooled * filters * units + units + units * n_class + n_class


def aux_kinds(n_class, filters=128, units=1024):
    return [
        "AveragePooling2D 5×5/3×3",
        conv(1, filters),
        RELU,
        FLATTEN,
        f"Dense →{units}",
        RELU,
        DROPOUT,
        f"Dense →{n_class}",
        SOFTMAX,
    ]


def small_net_params(n_class):
    """(parameters of the main path, parameters of the path to the auxiliary output) of Task 3's network."""
    stem = conv_params(3, 1, STEM_FILTERS)
    c, trunk = STEM_FILTERS, stem
    for filters in SMALL_MODULES[:2]:
        trunk += module_params(c, filters)
        c = module_channels(filters)
    aux_path = trunk + aux_params(c, n_class, **SMALL_AUX)
    main_path = trunk + module_params(c, SMALL_MODULES[2])
    c = module_channels(SMALL_MODULES[2])
    return main_path + c * n_class + n_class, aux_path


def branch_weights_formula(c_in, k, filters, reduce=None):
    """Kernel weights (no biases) of a k×k conv branch, with an optional 1×1 reduction in front."""
    if reduce is None:
        return k * k * c_in * filters
    return c_in * reduce + k * k * reduce * filters


# -- probes --------------------------------------------------------------------------
def channel_radii(model, size):
    """Per output channel, the largest distance (in pixels) at which a change of the centre pixel is seen.

    All weights are made positive (a copy is restored afterwards) and the input is positive, so every ReLU
    passes its input and a max pool reacts to the raised centre pixel: the result is exact, not statistical.
    """
    saved = model.get_weights()
    try:
        model.set_weights([np.abs(w) for w in saved])
        channels = model.inputs[0].shape[-1]
        x = np.random.default_rng(0).uniform(0.1, 1.0, size=(1, size, size, channels)).astype("float32")
        bumped = x.copy()
        centre = size // 2
        bumped[0, centre, centre, :] += 5.0
        diff = np.abs(np.asarray(model(bumped, training=False)) - np.asarray(model(x, training=False)))[0]
    finally:
        model.set_weights(saved)
    radii = []
    rows, cols = np.indices(diff.shape[:2])
    distance = np.maximum(np.abs(rows - centre), np.abs(cols - centre))
    for c in range(diff.shape[-1]):
        changed = diff[..., c] > 1e-6
        radii.append(int(distance[changed].max()) if changed.any() else -1)
    return radii


def _branch_at(filters, channel):
    f1, _, f3, _, f5, _ = filters
    bounds = np.cumsum([f1, f3, f5])
    return BRANCHES[int(np.searchsorted(bounds, channel, side="right"))]


def _module_hint(expected, got):
    missing, extra = expected - got, got - expected
    f_text = "; ".join(f"missing {k!r} ×{n}" for k, n in missing.items())
    e_text = "; ".join(f"unexpected {k!r} ×{n}" for k, n in extra.items())
    if "Add" in extra or (CONCAT in missing and not extra.get(CONCAT)):
        return "join the four branches with layers.Concatenate(axis=-1), not by adding them"
    if MAX_POOL_3_STRIDE_1 in missing:
        pools = [k for k in extra if "Pooling2D" in k]
        if any(k.startswith("MaxPooling2D") for k in pools):
            return "the pool branch uses a 3×3 max pool with strides=1 (and padding='same'), so the map keeps its size"
        if pools:
            return "the pool branch uses max pooling (MaxPooling2D), 3×3, strides=1"
        return "the fourth branch starts with a 3×3 max pool (strides=1, padding='same')"
    if RELU in missing and not [k for k in missing if k != RELU]:
        return "every convolution is followed by a ReLU (activation='relu')"
    conv_missing = [k for k in missing if k.startswith("Conv2D 1×1")]
    if conv_missing and not [k for k in extra if k.startswith("Conv2D")]:
        return (
            "a 1×1 convolution is missing: the 3×3 and 5×5 convs each need their 1×1 reduction in front, "
            "and the pooled map its 1×1 projection to pool_proj channels"
        )
    return f"compare your branches with the description ({f_text or 'nothing missing'}; {e_text or 'nothing extra'})"


# -- the tasks ---------------------------------------------------------------------
def inception_module(fn):
    """Task 1: the inception module."""
    with Task(1, "inception_module") as t:
        t.function(fn, "inception_module")
        hint = (
            "every branch keeps height and width (padding='same'; the max pool has strides=1), "
            "and the four branches are joined with layers.Concatenate(axis=-1), not added"
        )
        for size, c_in, filters in [(9, 12, (4, 6, 5, 3, 7, 2)), (6, 10, (3, 3, 3, 3, 3, 3))]:
            what = f"inception_module(x, {', '.join(map(str, filters))}) on a {size}×{size}×{c_in} input"
            model = probe_model(t, lambda x, f=filters: fn(x, *f), (size, size, c_in), what, hint=hint)
            f1, _, f3, _, f5, pool_proj = filters
            channels = model.outputs[0].shape[-1]
            shape_hint = {
                f1: "adding the branches keeps one branch's width: concatenate them along the channels",
                f1 + f3 + f5 + c_in: "the pooled map needs its 1×1 projection to pool_proj channels",
            }.get(channels, "the output has f1 + f3 + f5 + pool_proj channels: concatenate the four branches")
            if tuple(model.outputs[0].shape[1:3]) != (size, size):
                shape_hint = hint
            t.equal(
                f"{what}: output shape",
                tuple(model.outputs[0].shape[1:]),
                (size, size, module_channels(filters)),
                shape_hint,
            )
            expected, got = module_kinds(filters), Counter(layer_kinds(model))
            t.expect(
                got == expected,
                f"{what}: the layers of the module",
                sorted(expected.elements()),
                sorted(got.elements()),
                _module_hint(expected, got),
            )
            params = model.count_params()
            t.equal(
                f"{what}: parameters",
                params,
                module_params(c_in, filters),
                "keep Keras's default use_bias=True"
                if params == module_params(c_in, filters, bias=False)
                else "compare each convolution's kernel size, input and filters with the description",
            )
            radii = channel_radii(model, size)
            expected_radii = module_radii(filters)
            wrong = [c for c, (r, e) in enumerate(zip(radii, expected_radii, strict=True)) if r != e]
            if wrong:
                c = wrong[0]
                t.fail(
                    f"{what}: output channel {c} does not come from the {_branch_at(filters, c)} branch",
                    f"channels in the order 1×1 ({f1}), 3×3 ({f3}), 5×5 ({f5}), pool ({pool_proj})",
                    f"channel {c} sees {radii[c]} pixel(s) around its position; "
                    f"the {_branch_at(filters, c)} branch sees {expected_radii[c]}",
                    "concatenate the branches in the table's order: [1×1, 3×3, 5×5, pool projection]",
                )
            t.passed += 1


def auxiliary_head(fn):
    """Task 2: the auxiliary classifier."""
    with Task(2, "auxiliary_head") as t:
        t.function(fn, "auxiliary_head")
        for c_in, n_class, sizes in [(20, 10, {}), (8, 3, {"filters": 16, "units": 32})]:
            shown = "".join(f", {k}={v}" for k, v in sizes.items())
            what = f"auxiliary_head(x, {n_class}{shown}) on a 14×14×{c_in} input"
            model = probe_model(t, lambda x, n=n_class, s=sizes: fn(x, n, **s), (14, 14, c_in), what)
            t.equal(
                f"{what}: output shape",
                tuple(model.outputs[0].shape[1:]),
                (n_class,),
                "flatten the 4×4 map, then two Dense layers; the last has n_class units",
            )
            kinds = ["Flatten" if k == "Reshape" else k for k in layer_kinds(model, skip=("InputLayer",))]
            t.sequence(f"{what}: layers in order", kinds, aux_kinds(n_class, **sizes), _aux_hint)
            rates = [layer.rate for layer in model.layers if type(layer).__name__ == "Dropout"]
            t.equal(
                f"{what}: dropout rate",
                rates,
                [0.7],
                "the paper drops 70 % of the outputs of the 1,024-unit layer: Dropout(0.7)",
            )
            t.equal(
                f"{what}: parameters",
                model.count_params(),
                aux_params(c_in, n_class, **sizes),
                "use the arguments `filters` and `units` for the 1×1 conv and the hidden Dense layer",
            )
        p = np.asarray(model(np.ones((2, 14, 14, c_in), "float32"), training=False))
        t.close(f"{what}: each row of the output sums to 1", p.sum(axis=1), np.ones(2), "end with softmax")


def _aux_hint(expected, got):
    if expected.startswith("AveragePooling2D"):
        if got.startswith("AveragePooling2D"):
            return "a 5×5 average pool with strides=3 (14×14 → 4×4), padding 'valid'"
        if got.startswith("MaxPooling2D"):
            return "the auxiliary head starts with average pooling, not max pooling"
        if got.startswith("GlobalAveragePooling2D"):
            return "a 5×5 average pool with stride 3 keeps a 4×4 map; global average pooling would keep 1×1"
        return "start with layers.AveragePooling2D(5, strides=3)"
    if expected.startswith("Conv2D"):
        return f"after the pool, a 1×1 convolution with `filters` filters and ReLU (expected {expected})"
    if expected == FLATTEN:
        return "flatten the 4×4×filters map into a vector before the Dense layer (layers.Flatten())"
    if expected == RELU:
        return "both the 1×1 conv and the hidden Dense layer have a ReLU"
    if expected == DROPOUT:
        return "dropout (70 %) comes between the hidden Dense layer and the classifier"
    if expected.startswith("Dense"):
        return f"check the units of this Dense layer (expected {expected})"
    if expected == SOFTMAX:
        return "the classifier ends with a softmax"
    return None


def _loss_weights(model, n_class):
    """The weights w of total loss = Σ w_i · crossentropy(output_i), solved from several label sets."""
    import keras

    x = np.random.default_rng(1).uniform(0.0, 1.0, size=(24, 28, 28, 1)).astype("float32")
    predictions = [np.asarray(p) for p in model.predict(x, batch_size=24, verbose=0)]
    rng = np.random.default_rng(2)
    label_sets = [p.argmax(axis=1) for p in predictions] + [rng.integers(0, n_class, size=len(x))]
    rows, totals = [], []
    for y in label_sets:
        result = model.evaluate(x, [y] * len(predictions), batch_size=len(x), verbose=0, return_dict=True)
        totals.append(float(result["loss"]))
        rows.append([float(np.mean(keras.losses.sparse_categorical_crossentropy(y, p))) for p in predictions])
    a, b = np.array(rows), np.array(totals)
    weights, *_ = np.linalg.lstsq(a, b, rcond=None)
    residual = float(np.max(np.abs(a @ weights - b)))
    return weights, residual


def inception_net(fn):
    """Task 3: the small inception network with its auxiliary output, compiled with loss weights."""
    import keras

    with Task(3, "inception_net") as t:
        t.function(fn, "inception_net")
        for n_class in (10, 4):
            what = f"inception_net(n_class={n_class})"
            model = t.keras_model(t.call(fn, (n_class,), what=what), what)
            t.equal(f"{what}: input shape", tuple(model.inputs[0].shape[1:]), (28, 28, 1), "the digits are 28×28×1")
            t.equal(
                f"{what}: number of outputs",
                len(model.outputs),
                2,
                "return keras.Model(inputs, [main, aux]): the main classifier first, the auxiliary head second",
            )
            shapes = [tuple(o.shape[1:]) for o in model.outputs]
            t.equal(f"{what}: output shapes", shapes, [(n_class,), (n_class,)], "both classifiers have n_class units")
            main_params, aux_path_params = small_net_params(n_class)
            got_main = keras.Model(model.inputs, model.outputs[0]).count_params()
            got_aux = keras.Model(model.inputs, model.outputs[1]).count_params()
            if (got_main, got_aux) == (aux_path_params, main_params):
                t.fail(
                    f"{what}: the outputs are in the wrong order",
                    "[main, aux]",
                    "[aux, main]",
                    "the main classifier is the first output",
                )
            t.equal(
                f"{what}: parameters on the path to the main output",
                got_main,
                main_params,
                "compare the stem, the three inception modules and the classifier with the description",
            )
            t.equal(
                f"{what}: parameters on the path to the auxiliary output",
                got_aux,
                aux_path_params,
                "attach auxiliary_head(x, n_class, filters=32, units=128) to the second inception module's output "
                "(14×14), before the max pool",
            )
        t.expect(
            getattr(model, "optimizer", None) is not None,
            f"{what}: the model should be compiled",
            "model.compile(optimizer=..., loss=..., loss_weights=...)",
            "not compiled",
            "compile the model before returning it",
        )
        try:
            weights, residual = _loss_weights(model, n_class)
        except Exception as err:  # a compile that cannot evaluate the two outputs
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            t.fail(
                f"{what}: evaluating the compiled model on both outputs raised {type(err).__name__}",
                got=first,
                hint="give one loss per output, e.g. loss=['sparse_categorical_crossentropy'] * 2",
            )
        t.expect(
            residual < 1e-3,
            f"{what}: the total loss should be a weighted sum of each output's crossentropy",
            "loss = w_main · CE(main) + w_aux · CE(aux)",
            f"a gap of {residual:.3g} to the best such sum",
            "use sparse_categorical_crossentropy for both outputs (integer labels)",
        )
        got = [round(float(w), 3) for w in weights]
        hint = "the main loss has weight 1 and the auxiliary loss 0.3: loss_weights=[1.0, 0.3]"
        if np.allclose(got, [1.0, 1.0], atol=0.01):
            hint = "without loss_weights every output counts fully; the paper discounts the auxiliary loss to 0.3"
        elif np.allclose(got, [AUX_WEIGHT, 1.0], atol=0.01):
            hint = "the weights are swapped: the first output (main) gets 1.0, the auxiliary one 0.3"
        t.expect(
            np.allclose(got, [1.0, AUX_WEIGHT], atol=0.01),
            f"{what}: loss weights found by evaluating the compiled model",
            [1.0, AUX_WEIGHT],
            got,
            hint,
        )


def _training_fixture(n_aux):
    """A tiny multi-output model: outputs [main, aux1, ...], the aux heads on an intermediate map."""
    import keras
    from keras import layers

    inputs = keras.Input((10, 10, 2))
    x = layers.Conv2D(6, 3, padding="same", activation="relu")(inputs)
    aux = []
    for i in range(n_aux):
        h = layers.GlobalAveragePooling2D()(layers.Conv2D(4, 1, activation="relu")(x))
        aux.append(layers.Dense(5, activation="softmax", name=f"aux{i + 1}")(h))
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    main = layers.Dense(5, activation="softmax", name="main")(layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, [main, *aux]), keras.Model(inputs, main)


def inference_model(fn):
    """Task 4: the inference model without the auxiliary heads."""
    with Task(4, "inference_model") as t:
        t.function(fn, "inference_model")
        x = np.random.default_rng(0).uniform(size=(3, 10, 10, 2)).astype("float32")
        for n_aux in (1, 2):
            training, main_only = _training_fixture(n_aux)
            names = ", ".join(["main"] + [f"aux{i + 1}" for i in range(n_aux)])
            what = f"inference_model(a training model with outputs [{names}])"
            model = t.keras_model(t.call(fn, (training,), what=what), what)
            t.equal(
                f"{what}: number of outputs",
                len(model.outputs),
                1,
                "keep only the main output: keras.Model(model.inputs, model.outputs[0])",
            )
            shared = {id(w) for w in training.weights}
            t.expect(
                all(id(w) in shared for w in model.weights),
                f"{what}: the inference model should use the trained layers",
                "the training model's own weights",
                "new weights",
                "build it from the training model's tensors (its inputs and main output), not a new or cloned network",
            )
            t.equal(
                f"{what}: parameters",
                model.count_params(),
                main_only.count_params(),
                "the auxiliary heads are dropped: take the main output (the first), not an auxiliary one",
            )
            with warnings.catch_warnings():  # a model built on `inputs` (a list) warns when called on one array
                warnings.simplefilter("ignore")
                got = model(x, training=False)
                expected = np.asarray(training(x, training=False)[0])
            got = np.asarray(got[0] if isinstance(got, (list, tuple)) else got)
            t.close(f"{what}: predictions equal the training model's main output", got, expected)


def branch_weights(fn):
    """Task 5: the 1×1-savings drill."""
    with Task(5, "branch_weights") as t:
        t.function(fn, "branch_weights")
        cases = [(192, 3, 128, 96), (192, 3, 128, None), (192, 5, 32, 16), (192, 5, 32, None), (480, 5, 48, 16)]
        cases += [(832, 3, 384, 192), (7, 5, 3, 2)]
        for c_in, k, filters, reduce in cases:
            what = f"branch_weights({c_in}, {k}, {filters}, reduce={reduce})"
            got = t.call(fn, (c_in, k, filters), {"reduce": reduce}, what=what)
            t.value(got, what, (int, np.integer), "return a whole number of weights")
            expected = branch_weights_formula(c_in, k, filters, reduce)
            hints = {
                k * k * (reduce or 0) * filters: "count the 1×1 reduction's own weights too: c_in · reduce",
                k * k * c_in * filters + c_in * (reduce or 0): (
                    "after the reduction the k×k conv reads `reduce` channels, not c_in"
                ),
                expected + filters + (reduce or 0): "count kernel weights only, without the biases",
                expected + filters: "count kernel weights only, without the biases",
            }
            if reduce is not None:
                hints[c_in * reduce + k * reduce * filters] = "a k×k kernel has k·k weights per input channel"
            t.equal(what, int(got), expected, hints.get(int(got)))

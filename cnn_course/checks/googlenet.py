"""Checks for unit 06 (GoogLeNet): the inception module, the auxiliary head, the multi-output model,
the inference model, the cost drills and the factorised (Inception-v3) module.

Blocks and models (each output of the network) are compared with a reference
built from the task's specification (``cnn_course.checks.compare``, graphs read
with ``canonical_steps``, which keeps a concatenation's order) in two
configurations where coincidences cannot hold (distinct filter numbers,
non-square inputs). Task 3's training set-up is read from its compiled loss;
Task 4's model must compute the main output with the training model's weights.

Task 3 has two versions. The current one, ``inception_net(n_class=10, aux_weight=0.3)``, has two
auxiliary heads (after the first and the second module) weighted by ``aux_weight``; a learner's
copy of an older exercise, ``inception_net(n_class=10)`` (one head, after the second module,
weight 0.3), is still checked against the version it was written for: the function's parameters
say which.
"""

import functools
import inspect
import re
import warnings

import numpy as np

from cnn_course.checks import Task, is_whole_number, probe_model, refuse_applications
from cnn_course.checks.compare import (
    avg_pool,
    canonical_steps,
    chain,
    compare_with_reference,
    concat,
    conv,
    dense,
    flatten,
    gap,
    max_pool,
    reference_model,
    relu,
    softmax,
    weighted,
)
from cnn_course.i18n import N_, _

ARGUMENTS = ("f1", "f3_reduce", "f3", "f5_reduce", "f5", "pool_proj")
AUX_WEIGHT = 0.3
# The small network of Task 3 (28×28×1 digits): its three modules' filters in the table's order.
SMALL_MODULES = ((16, 16, 24, 4, 8, 8), (24, 24, 32, 8, 16, 16), (32, 32, 48, 8, 16, 16))
SMALL_AUX = (32, 128)  # filters, units


# -- the references, from the specifications ------------------------------------------
def module_spec(f1, f3_reduce, f3, f5_reduce, f5, pool_proj):
    """Four branches on the same input, concatenated in this order; a ReLU after every convolution."""
    return concat(
        chain(conv(1, f1), relu()),
        chain(conv(1, f3_reduce), relu(), conv(3, f3), relu()),
        chain(conv(1, f5_reduce), relu(), conv(5, f5), relu()),
        chain(max_pool(3, 1, "same"), conv(1, pool_proj), relu()),
    )


def factorised_spec(f1, f3_reduce, f3, f5_reduce, f5, pool_proj):
    """The inception module with its 5×5 conv replaced by two 3×3 convs of f5 filters (Inception-v3)."""
    return concat(
        chain(conv(1, f1), relu()),
        chain(conv(1, f3_reduce), relu(), conv(3, f3), relu()),
        chain(conv(1, f5_reduce), relu(), conv(3, f5), relu(), conv(3, f5), relu()),
        chain(max_pool(3, 1, "same"), conv(1, pool_proj), relu()),
    )


def aux_spec(n_class, filters=128, units=1024):
    """5×5/3 average pool → 1×1 conv + ReLU → flatten → Dense + ReLU → (dropout) → Dense + softmax."""
    return chain(avg_pool(5, 3), conv(1, filters), relu(), flatten(), dense(units), relu(), dense(n_class), softmax())


@functools.cache
def reference(name, config, input_shape):
    """The reference model of a task in one configuration, built once per process.

    For the network, ``output`` 0 is the main classifier and k ≥ 1 an auxiliary head on the k-th
    module's output.
    """
    import keras

    if name == "inception_module":
        return reference_model(module_spec(*config), input_shape)
    if name == "auxiliary_head":
        return reference_model(aux_spec(*config), input_shape)
    if name == "factorised_module":
        return reference_model(factorised_spec(*config), input_shape)
    n_class, output = config
    inputs = keras.Input(input_shape)
    stem = chain(conv(3, 32), relu(), max_pool(2), *[module_spec(*f) for f in SMALL_MODULES[: output or 2]])
    x = stem(inputs)
    if output:
        return keras.Model(inputs, aux_spec(n_class, *SMALL_AUX)(x), name="reference")
    head = chain(max_pool(3, 2, "same"), module_spec(*SMALL_MODULES[2]), gap(), dense(n_class), softmax())
    return keras.Model(inputs, head(x), name="reference")


# -- hints for the usual mistakes, from the first step that differs ---------------------
def _key(step):
    return step.kind, str(step), tuple(step.shapes())


def _module_hint(got_steps, ref_steps, filters=None, factorised=False):
    """The hint for an inception module (or a network of them), from the learner's and the reference's steps.

    `factorised`: the module of Task 7, whose third branch has two 3×3 convs where the original has a 5×5.
    """
    reordered = sorted(map(_key, weighted(got_steps))) == sorted(map(_key, weighted(ref_steps)))
    kinds = [s.kind for s in got_steps]
    joined = kinds.index("Concatenate") if "Concatenate" in kinds else len(kinds)

    def name(n):
        shown = [a for a, f in zip(ARGUMENTS, filters or (), strict=False) if f == n]
        return f"{shown[0]} ({n})" if len(shown) == 1 else str(n)

    def hint(e, g):
        if e is None or g is None:
            return None
        if factorised and e.kind == "Conv2D" and e.settings["kernel"] == (3, 3):
            if g.kind != "Conv2D" or g.settings["kernel"] == (1, 1):
                return _("the third branch has two 3×3 convs after its 1×1 reduction (a ReLU after each)")
            if g.settings["kernel"] == (5, 5):
                return _("replace the 5×5 conv by two 3×3 convs with f5 filters each: they see the same 5×5 window")
        if e.kind == g.kind == "Conv2D" and reordered and not e.same(g):
            return _("concatenate the branches in the table's order: [1×1, 3×3, 5×5, pool projection]")
        if e.kind == "ReLU":
            if "ReLU" in kinds[joined:]:
                return _(
                    "apply the ReLU in each branch, after each convolution: a ReLU after the concatenation "
                    "leaves the 1×1 reductions without theirs"
                )
            return _("every convolution is followed by a ReLU, the 1×1 reductions too (activation='relu')")
        if g.kind == "ReLU":
            return _("the task has no ReLU here: a ReLU follows each convolution, nothing else")
        if (e.kind, g.kind) == ("MaxPooling", "AveragePooling"):
            return _("the pool branch uses max pooling (MaxPooling2D), not average pooling")
        if (e.kind, g.kind) == ("MaxPooling", "Conv2D"):
            return _("the pool branch pools first, then projects: 3×3 max pool (strides=1), then the 1×1 conv")
        if e.kind == "MaxPooling":
            return _("the pool branch starts with a 3×3 max pool with strides=1 and padding='same'")
        if (e.kind, g.kind) != ("Conv2D", "Conv2D"):
            return None
        if e.settings["bias"] != g.settings["bias"]:
            return _("keep Keras's default use_bias=True on every convolution")
        if "dilation" in g.settings:
            return _("the convolutions are not dilated: remove dilation_rate")
        if e.settings["kernel"] == (1, 1) and g.settings["kernel"] != (1, 1):
            return _("a 1×1 convolution is missing: the 3×3 and 5×5 convs read their 1×1 reduction's output, not x")
        if e.settings["kernel"] != g.settings["kernel"]:
            if factorised:
                return _("1×1 reductions, then a 3×3 conv (f3) in branch 2 and two 3×3 convs (f5 each) in branch 3")
            return _("1×1 reductions, then a 3×3 conv (f3 filters) in branch 2 and a 5×5 conv (f5 filters) in branch 3")
        if e.settings["filters"] != g.settings["filters"]:
            return _(
                "this convolution has {expected} filters, not {got}: "
                "take the arguments in order (f1, f3_reduce, f3, f5_reduce, f5, pool_proj)"
            ).format(expected=name(e.settings["filters"]), got=name(g.settings["filters"]))
        return None

    return hint


def _module_build_hint(err):
    """A hint for a module that Keras cannot build: the branches' shapes do not fit the join."""
    text = str(err)
    if "incompatible shapes" in text or "broadcast" in text:  # not a message
        return _("join the four branches with layers.Concatenate(axis=-1), not by adding them: their channels differ")
    sizes = set(re.findall(r"\(None, (\d+), (\d+), \d+\)", text))
    if "Concatenate" in text or "same shape except" in text:  # not a message
        if len(sizes) > 1 or "first element" in text:  # not a message
            return _(
                "every branch keeps height and width: padding='same' on the 3×3 and 5×5 convs "
                "and on the max pool, whose strides=1"
            )
        return _("concatenate along the channels: axis=-1")
    return None


def _aux_hint(e, g):
    if e is None or g is None:
        return None
    kinds = (e.kind, g.kind)
    if kinds == ("AveragePooling", "MaxPooling"):
        return _("the auxiliary head starts with average pooling, not max pooling")
    if kinds == ("AveragePooling", "AveragePooling"):
        return _("a 5×5 average pool with strides=3 and padding='valid' (14×14 → 4×4)")
    if e.kind == "Conv2D":
        return _("after the pool, a 1×1 convolution with `filters` filters and ReLU")
    if kinds == ("Dense", "Dense"):
        (_role, e_kernel), (_role, g_kernel) = e.shapes()[0], g.shapes()[0]
        if e_kernel[1] != g_kernel[1]:
            return _("Dense(units) for the hidden layer, Dense(n_class) for the classifier: use the arguments")
        if g_kernel[0] < e_kernel[0]:
            return _("flatten the pooled map (layers.Flatten()): global pooling keeps one value per channel")
        return _("a 5×5 average pool with strides=3, padding 'valid' (14×14 → 4×4), then Flatten")
    if e.kind == "ReLU":
        if g.kind != "Dense":
            return _("the 1×1 conv has a ReLU too (both the 1×1 conv and the hidden Dense layer have one)")
        return _("the hidden Dense layer has a ReLU too (both the 1×1 conv and the hidden Dense layer have one)")
    return _main_hint(e, g)


def _main_hint(e, g):
    if e is None or g is None:
        return None
    if e.kind == "GlobalAveragePooling" or (e.kind, g.kind) == ("Dense", "Dense") and e.shapes() != g.shapes():
        return _("the main classifier: GlobalAveragePooling2D, Dropout(0.4), Dense(n_class) with softmax")
    if e.kind == "Softmax" or g.kind in ("Sigmoid", "ReLU"):
        return _("the classifier ends with a softmax (activation='softmax')")
    return None


def _operations(model):
    """The model's layers and operations in order of computation, nested models expanded."""
    import keras

    found = []
    for op in getattr(model, "operations", None) or model.layers:
        found += _operations(op) if isinstance(op, keras.Model) else [op]
    return found


def _dropout_rates(model):
    return [float(op.rate) for op in _operations(model) if type(op).__name__ == "Dropout"]


# -- the tasks -------------------------------------------------------------------
def _check_module(t, fn, name, factorised, wiring_hint):
    """Compare an inception module's outputs with the reference on two non-square inputs (Tasks 1 and 7)."""
    t.function(fn, name)
    for size, c_in, filters in [((7, 9), 6, (3, 4, 5, 2, 7, 1)), ((8, 5), 4, (5, 2, 3, 6, 1, 7))]:
        what = _("{call} on a {height}×{width}×{channels} input").format(
            call=f"{name}(x, {', '.join(map(str, filters))})", height=size[0], width=size[1], channels=c_in
        )
        build = lambda x, f=filters: fn(x, *f, name="probe")  # noqa: E731
        model = probe_model(t, build, (*size, c_in), what, hint=_module_build_hint)
        ref = reference(name, filters, (*size, c_in))
        f1, _f3_reduce, f3, _f5_reduce, f5, pool_proj = filters

        def shape_hint(got, c_in=c_in, total=f1 + f3 + f5):
            if got[-1] == total + c_in:
                return _("the pooled map needs its 1×1 projection to pool_proj channels")
            return _("the output has f1 + f3 + f5 + pool_proj channels: concatenate the four branches")

        compare_with_reference(
            t,
            model,
            ref,
            what,
            hint=_module_hint(canonical_steps(model), canonical_steps(ref), filters, factorised=factorised),
            shape_hint=shape_hint,
            wiring_hint=wiring_hint,
            training=False,
            read=canonical_steps,
        )


def inception_module(fn):
    """Task 1: the inception module."""
    with Task(1, "inception_module") as t:
        _check_module(
            t,
            fn,
            "inception_module",
            False,
            _("each branch reads x; the 3×3 and 5×5 convs read their own 1×1 reduction"),
        )


def auxiliary_head(fn):
    """Task 2: the auxiliary classifier."""
    with Task(2, "auxiliary_head") as t:
        t.function(fn, "auxiliary_head")
        for size, c_in, n_class, filters, units in [((14, 14), 7, 10, 5, 9), ((13, 16), 5, 3, 6, 11)]:
            call = f"auxiliary_head(x, {n_class}, filters={filters}, units={units})"  # not a message
            what = _("{call} on {height}×{width}×{channels}").format(
                call=call, height=size[0], width=size[1], channels=c_in
            )
            build = lambda x, a=(n_class, filters, units): fn(x, a[0], filters=a[1], units=a[2], name="aux")  # noqa: E731
            model = probe_model(t, build, (*size, c_in), what)
            rates = _dropout_rates(model)  # read before the comparison silences them
            where = [type(op).__name__ for op in _operations(model) if type(op).__name__ in ("Dropout", "Dense")]
            compare_with_reference(
                t,
                model,
                reference("auxiliary_head", (n_class, filters, units), (*size, c_in)),
                what,
                hint=_aux_hint,
                shape_hint=lambda got: _("the classifier is a Dense layer with n_class units, then softmax"),
            )
            t.expect(
                len(rates) == 1 and where == ["Dense", "Dropout", "Dense"],
                _("{what}: one Dropout between the hidden Dense layer and the classifier").format(what=what),
                "Dense(units) → Dropout → Dense(n_class)",  # not a message
                " → ".join(where),
                _("dropout (70 %) comes between the hidden Dense layer and the classifier"),
            )
            t.expect(
                np.isclose(rates[0], 0.7),
                _("{what}: dropout rate").format(what=what),
                0.7,
                rates[0],
                _("the paper drops 70 % of the hidden layer's outputs: Dropout(0.7)"),
            )


def _loss_weights(model, n_class):
    """The weights w of total loss = Σ w_i · crossentropy(output_i) and the fit's gap, from several label sets."""
    import keras

    x = np.random.default_rng(1).normal(size=(16, 28, 28, 1)).astype("float32")
    predictions = [np.asarray(p) for p in model(x, training=False)]
    rng = np.random.default_rng(2)
    label_sets = [p.argmax(axis=1) for p in predictions] + [rng.integers(0, n_class, size=len(x)) for _set in range(3)]
    rows, totals = [], []
    with warnings.catch_warnings():  # Keras warns about from_logits=True on softmax outputs: the hint says it
        warnings.simplefilter("ignore")
        for y in label_sets:
            totals.append(float(model.compute_loss(x, [y] * len(predictions), predictions)))
            rows.append([float(np.mean(keras.losses.sparse_categorical_crossentropy(y, p))) for p in predictions])
    weights, *_rest = np.linalg.lstsq(np.array(rows), np.array(totals), rcond=None)
    return [round(float(w), 3) for w in weights], float(np.max(np.abs(np.array(rows) @ weights - totals)))


def _loss_hint(model):
    """Why the compiled loss is no weighted sum of sparse crossentropies, from what was compiled; or None."""
    losses = model.loss if isinstance(model.loss, (list, tuple, dict)) else [model.loss]
    for loss in losses.values() if isinstance(losses, dict) else losses:
        config = loss.get_config() if hasattr(loss, "get_config") else {}
        if config.get("from_logits"):
            return _("the outputs are softmax probabilities: keep from_logits=False (the default)")
        name = str(config.get("name") or getattr(loss, "__name__", loss))
        if "sparse_categorical" not in name:
            return _(
                "{name} is not the loss of the task: sparse_categorical_crossentropy for each output (integer labels)"
            ).format(name=name)
    return None


def _compare_outputs(t, model, n_class, what, heads):
    """Each output against the reference's: the main classifier first, then the auxiliary heads in order.

    `heads` lists, per auxiliary output, the inception module whose output it reads (1 or 2).
    """
    import keras

    subs = [keras.Model(model.inputs[0], out) for out in model.outputs]
    refs = [reference("inception_net", (n_class, i), (28, 28, 1)) for i in (0, *heads)]
    got, want = [canonical_steps(m) for m in subs], [canonical_steps(r) for r in refs]
    got_keys = [list(map(_key, weighted(s))) for s in got]
    want_keys = [list(map(_key, weighted(s))) for s in want]
    names = ["main"] + (["aux"] if len(heads) == 1 else [f"aux{i}" for i in range(1, len(heads) + 1)])
    if got_keys != want_keys and sorted(map(str, got_keys)) == sorted(map(str, want_keys)):
        order = [names[want_keys.index(k)] for k in got_keys]
        if order[0] != "main":
            hint = _("the main classifier is the first output")
        else:
            hint = _("aux1 reads the first inception module's output, aux2 the second's")
        t.fail(
            _("{what}: the outputs are in the wrong order").format(what=what),
            f"[{', '.join(names)}]",
            f"[{', '.join(order)}]",
            hint,
        )
    t.passed += 1
    labels = [_("main output")] + [_("auxiliary output {name}").format(name=n) for n in names[1:]]
    for i, (sub, ref, label) in enumerate(zip(subs, refs, labels, strict=True)):
        hint = _module_hint(got[i], want[i])
        if i and len(weighted(got[i])) != len(weighted(want[i])):
            if heads[i - 1] == 2:
                attach = _(
                    "attach auxiliary_head(x, n_class, filters=32, units=128) to the second inception module's "
                    "output (14×14), before the max pool"
                )
            else:
                attach = _(
                    "attach auxiliary_head(x, n_class, filters=32, units=128) to the first inception module's "
                    "output (14×14), before the max pool"
                )
            hint = lambda e, g, attach=attach: attach  # noqa: E731
        compare_with_reference(
            t,
            sub,
            ref,
            _("{what}, {output} (outputs[{index}])").format(what=what, output=label, index=i),
            hint=lambda e, g, h=hint, i=i: h(e, g) or (_main_hint if i == 0 else _aux_hint)(e, g),
            shape_hint=lambda got: _("every classifier has n_class units"),
            wiring_hint=_("compare the stem, the three inception modules and the classifier with the description"),
            training=False,
            read=canonical_steps,
        )


def _takes(fn, parameter):
    """Whether the learner's function has a parameter of this name (the current version of a task)."""
    try:
        return parameter in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def inception_net(fn):
    """Task 3: the small inception network with two auxiliary outputs, compiled with loss weights.

    An older copy's ``inception_net(n_class=10)`` (no ``aux_weight``) is checked as that version asked:
    one auxiliary head after the second module, weight 0.3.
    """
    with Task(3, "inception_net") as t:
        t.function(fn, "inception_net")
        refuse_applications(
            t, fn, "inception_net", _("build the network yourself, from your inception_module and auxiliary_head")
        )
        current = _takes(fn, "aux_weight")
        heads = (1, 2) if current else (2,)
        for n_class, aux_weight in [(10, 0.3), (3, 0.45)] if current else [(10, AUX_WEIGHT), (3, AUX_WEIGHT)]:
            if current:
                what = f"inception_net(n_class={n_class}, aux_weight={aux_weight})"  # not a message
            else:
                what = f"inception_net({n_class})"
            kwargs = {"aux_weight": aux_weight} if current else {}
            model = t.keras_model(t.call(fn, (n_class,), kwargs, what=what), what)
            expected_names = "[main, aux1, aux2]" if current else "[main, aux]"  # not a message
            t.equal(
                _("{what}: number of outputs").format(what=what),
                len(model.outputs),
                1 + len(heads),
                _("return keras.Model(inputs, {outputs}): the main classifier first, then the auxiliary heads").format(
                    outputs=expected_names
                ),
            )
            rates = sorted(_dropout_rates(model))  # read before the comparison silences them
            _compare_outputs(t, model, n_class, what, heads)
            t.equal(
                _("{what}: dropout rates").format(what=what),
                [round(r, 3) for r in rates],
                [0.4] + [0.7] * len(heads),
                _("Dropout(0.4) before the main classifier, Dropout(0.7) in each auxiliary head"),
            )
            t.expect(
                getattr(model, "optimizer", None) is not None,
                _("{what}: the model should be compiled").format(what=what),
                "model.compile(optimizer=..., loss=..., loss_weights=...)",  # not a message
                _("not compiled"),
                _("compile the model before returning it"),
            )
            try:
                weights, gap = _loss_weights(model, n_class)
            except Exception as err:  # a compile that cannot evaluate the outputs
                t.fail(
                    _("{what}: evaluating the compiled loss on every output raised {error}").format(
                        what=what, error=type(err).__name__
                    ),
                    got=str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__,
                    hint=_loss_hint(model)
                    or _(
                        "give one loss per output, e.g. loss=['sparse_categorical_crossentropy'] * 3, "
                        "and one weight per output"
                    ),
                )
            t.expect(
                gap < 1e-3,
                _("{what}: the total loss should be a weighted sum of each output's crossentropy").format(what=what),
                "loss = w_main · CE(main) + Σ w_aux · CE(aux)",  # not a message
                _("a gap of {gap} to the best such sum").format(gap=f"{gap:.3g}"),
                _loss_hint(model) or _("use sparse_categorical_crossentropy for every output (integer labels)"),
            )
            expected = [1.0] + [aux_weight] * len(heads)
            found = tuple(round(w, 2) for w in weights)
            hints = {
                tuple([1.0] * len(expected)): _(
                    "without loss_weights every output counts fully; the auxiliary losses are discounted to {weight}"
                ).format(weight=aux_weight),
                tuple([aux_weight] + [1.0] * len(heads)): _(
                    "the weights are swapped: the first output (main) gets 1.0"
                ),
            }
            if current and aux_weight != AUX_WEIGHT:
                hints[tuple([1.0] + [AUX_WEIGHT] * len(heads))] = _("use the aux_weight argument, not a fixed 0.3")
            if current:
                half = round(aux_weight / 2, 2)
                hints[(1.0, half, half)] = _("each auxiliary output gets the whole aux_weight, not a share of it")
                hints[(1.0, aux_weight, 1.0)] = _("both auxiliary losses are weighted by aux_weight")
                hints[(1.0, 1.0, aux_weight)] = _("both auxiliary losses are weighted by aux_weight")
            t.expect(
                np.allclose(weights, expected, atol=0.01),
                _("{what}: loss weights found by evaluating the compiled loss").format(what=what),
                expected,
                weights,
                hints.get(
                    found,
                    _("the main loss weighs 1.0, each auxiliary {weight}: loss_weights={weights}").format(
                        weight=aux_weight, weights=expected
                    ),
                ),
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
    x = layers.GlobalAveragePooling2D()(layers.Conv2D(8, 3, padding="same", activation="relu")(x))
    main = layers.Softmax(name="main")(layers.Dense(5, name="main_logits")(x))
    return keras.Model(inputs, [main, *aux])


def inference_model(fn):
    """Task 4: the inference model without the auxiliary heads."""
    with Task(4, "inference_model") as t:
        t.function(fn, "inference_model")
        rng = np.random.default_rng(0)
        x = rng.normal(size=(3, 10, 10, 2)).astype("float32")
        for n_aux in (1, 2):
            training = _training_fixture(n_aux)
            names = ", ".join(["main"] + [f"aux{i + 1}" for i in range(n_aux)])
            what = _("inference_model(a training model with outputs [{names}])").format(names=names)
            model = t.keras_model(t.call(fn, (training,), what=what), what)
            t.equal(
                _("{what}: number of outputs").format(what=what),
                len(model.outputs),
                1,
                _("keep only the main output: keras.Model(model.input, model.outputs[0])"),
            )
            shared = {id(w) for w in training.weights}
            t.expect(
                bool(model.weights) and all(id(w) in shared for w in model.weights),
                _("{what}: the inference model should use the trained layers").format(what=what),
                _("the training model's own weights"),
                _("new weights"),
                _(
                    "build it from the training model's tensors (its input and main output), "
                    "not a new or cloned network"
                ),
            )
            for w in training.weights:  # new weights after the call: a copy of the old ones no longer agrees
                w.assign(rng.normal(0, 0.5, w.shape).astype(w.dtype))
            with warnings.catch_warnings():  # a model built on `inputs` (a list) warns when called on one array
                warnings.simplefilter("ignore")
                got = model(x, training=False)
                outputs = [np.asarray(o) for o in training(x, training=False)]
            got = np.asarray(got[0] if isinstance(got, (list, tuple)) else got)
            hint = _("the inference model ends at the training model's first output, the main classifier")
            if got.shape == outputs[0].shape and any(np.allclose(got, o, atol=1e-5) for o in outputs[1:]):
                hint = _("that is an auxiliary output: take the main output, the first one (outputs[0])")
            elif got.shape == outputs[0].shape and not np.allclose(got.sum(axis=-1), 1, atol=1e-4):
                hint = _("your model ends before the main output's softmax: end at outputs[0] itself")
            t.close(
                _("{what}: predictions equal the training model's main output").format(what=what),
                got,
                outputs[0],
                hint,
            )


def _branch_weights(c_in, k, filters, reduce=None, bias=False, own=True, reads=None, kk=None):
    """Weights of a k×k conv branch with an optional 1×1 reduction; the keywords make the usual slips."""
    kk = k * k if kk is None else kk
    if reduce is None:
        return kk * c_in * filters + bias * filters
    return own * (c_in * reduce + bias * reduce) + kk * (reads or reduce) * filters + bias * filters


def branch_weights(fn):
    """Task 5: the 1×1-savings drill."""
    with Task(5, "branch_weights") as t:
        t.function(fn, "branch_weights")
        cases = [(192, 5, 32, None), (192, 5, 32, 16), (192, 3, 128, 96), (480, 5, 48, 16), (832, 3, 384, 192)]
        cases += [(7, 5, 3, 2), (11, 3, 5, None), (13, 7, 3, 5)]
        for c_in, k, filters, reduce in cases:
            what = f"branch_weights({c_in}, {k}, {filters}, reduce={reduce})"  # not a message
            got = t.call(fn, (c_in, k, filters), {"reduce": reduce}, what=what)
            t.expect(
                is_whole_number(got),
                _("{what} should be a whole number").format(what=what),
                _("an int such as 15872"),
                got,
                _("return an int: a count of weights (use * and +, not /)"),
            )
            expected = _branch_weights(c_in, k, filters, reduce)
            slips = [
                ({"own": False}, _("count the 1×1 reduction's own weights too: c_in · reduce")),
                ({"reads": c_in}, _("after the reduction the k×k conv reads `reduce` channels, not c_in")),
                ({"bias": True}, _("count kernel weights only, without the biases")),
                ({"kk": k}, _("a k×k kernel has k·k weights per input channel and filter")),
                ({"kk": 2 * k}, _("a k×k kernel has k·k weights (k squared), not 2k")),
            ]
            hints = {_branch_weights(c_in, k, filters, reduce, **slip): hint for slip, hint in slips}
            if reduce is not None:
                swapped = c_in * filters + k * k * reduce * filters
                hints[swapped] = _("the 1×1 reduction has `reduce` filters: c_in · reduce weights")
                hints[k * k * c_in * filters] = _("with a reduction, count its 1×1 conv and the k×k conv on its output")
            hints.pop(expected, None)
            t.equal(what, int(got), expected, hints.get(int(got)))


def _inception_macs(h, w, c_in, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, naive=False, **slips):
    """Multiply-adds of an inception module's convolutions; the keywords make the usual slips."""
    hw = 1 if slips.get("no_area") else h * w
    k3, k5 = (3, 5) if slips.get("k_not_squared") else (9, 25)
    bias = (f1 + f3 + f5 + (0 if naive else f3_reduce + f5_reduce + pool_proj)) if slips.get("biases") else 0
    pooling = 9 * c_in if slips.get("pooling") else 0
    if naive:
        reads3, reads5 = (f3_reduce, f5_reduce) if slips.get("naive_reads_reduce") else (c_in, c_in)
        projection = c_in * pool_proj if slips.get("naive_projection") else 0
        return hw * (c_in * f1 + k3 * reads3 * f3 + k5 * reads5 * f5 + projection + bias + pooling)
    own = 0 if slips.get("no_reduction_cost") else c_in * (f3_reduce + f5_reduce)
    reads3, reads5 = (c_in, c_in) if slips.get("reads_c_in") else (f3_reduce, f5_reduce)
    projection = 0 if slips.get("no_projection") else c_in * pool_proj
    return hw * (c_in * f1 + own + k3 * reads3 * f3 + k5 * reads5 * f5 + projection + bias + pooling)


MACS_CASES = [  # h, w, c_in, (f1, f3_reduce, f3, f5_reduce, f5, pool_proj): 4e, 3a, 5b and two small odd ones
    (14, 14, 528, (256, 160, 320, 32, 128, 128)),
    (28, 28, 192, (64, 96, 128, 16, 32, 32)),
    (7, 7, 832, (384, 192, 384, 48, 128, 128)),
    (5, 9, 7, (2, 3, 4, 5, 6, 11)),
    (6, 4, 13, (3, 2, 7, 1, 5, 4)),
]
MACS_SLIPS = [
    ({"no_area": True}, N_("that is the cost of one pixel: multiply by h·w")),
    ({"k_not_squared": True}, N_("a k×k kernel reads k·k pixels of each input channel: 9 for 3×3, 25 for 5×5")),
    ({"biases": True}, N_("count the products of the convolutions only, not the biases")),
    ({"pooling": True}, N_("the max pool multiplies nothing: it costs no multiply-adds")),
    ({"naive_reads_reduce": True}, N_("without reductions the 3×3 and 5×5 convs read all c_in channels")),
    ({"naive_projection": True}, N_("the naive module's pool branch has no 1×1 projection: it passes c_in channels")),
    (
        {"no_reduction_cost": True},
        N_("count the 1×1 reductions' own multiply-adds: h·w·c_in·f3_reduce and ·f5_reduce"),
    ),
    ({"reads_c_in": True}, N_("after its reduction, the 3×3 conv reads f3_reduce channels and the 5×5 f5_reduce")),
    ({"no_projection": True}, N_("count the pool projection: a 1×1 conv from c_in to pool_proj channels")),
]


def inception_macs(fn):
    """Task 6: the multiply-adds of an inception module, with and without its 1×1 reductions."""
    with Task(6, "inception_macs") as t:
        t.function(fn, "inception_macs")
        for h, w, c_in, filters in MACS_CASES:
            for naive in (False, True):
                shown = ", ".join(map(str, filters))
                what = f"inception_macs({h}, {w}, {c_in}, {shown}, naive={naive})"  # not a message
                got = t.call(fn, (h, w, c_in, *filters), {"naive": naive}, what=what)
                whole = is_whole_number(got) or isinstance(got, (float, np.floating)) and float(got).is_integer()
                t.expect(
                    whole and not isinstance(got, str),
                    _("{what} should be a whole number").format(what=what),
                    _("an int such as 71,049,216"),
                    got,
                    _("return an int: a count of multiply-adds (use * and +, not /)"),
                )
                expected = _inception_macs(h, w, c_in, *filters, naive=naive)
                hints = {}
                for slip, hint in MACS_SLIPS:
                    hints.setdefault(_inception_macs(h, w, c_in, *filters, naive=naive, **slip), _(hint))
                other = _inception_macs(h, w, c_in, *filters, naive=not naive)
                hints.setdefault(
                    other,
                    _(
                        "naive=True is the module without its 1×1 reductions and pool projection; "
                        "naive=False the one with them"
                    ),
                )
                swapped = list(filters)
                swapped[1], swapped[2] = swapped[2], swapped[1]
                swapped[3], swapped[4] = swapped[4], swapped[3]
                hints.setdefault(
                    _inception_macs(h, w, c_in, *swapped, naive=naive),
                    _("take the arguments in order: f1, f3_reduce, f3, f5_reduce, f5, pool_proj"),
                )
                hints.pop(expected, None)
                t.equal(what, int(got), expected, hints.get(int(got), _("sum the four branches' convolutions")))


def factorised_module(fn):
    """Task 7: the inception module with its 5×5 conv factorised into two 3×3 convs (Inception-v3)."""
    with Task(7, "factorised_module") as t:
        _check_module(
            t,
            fn,
            "factorised_module",
            True,
            _("each branch reads x; in branch 3 the second 3×3 conv reads the first one's output"),
        )

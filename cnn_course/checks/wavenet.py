"""Checks for unit 11 (WaveNet): receptive field, μ-law, a causal dilated stack, the gated block, a causality test.

The stack and the block are compared with references built from the task's
specification (``cnn_course.checks.compare``): same random weights of mixed
signs, same outputs, in two configurations (odd channel counts, several
dilations and lengths), after a causality probe at every position. A mismatch
is explained by the known mistake that computes what the learner's code does.
Formulas are checked on cases where the usual wrong formulas give other values.
"""

import numpy as np

from cnn_course.checks import Task, first_line, is_whole_number, probe_model
from cnn_course.checks.compare import (
    activation,
    chain,
    compare_with_reference,
    conv1d,
    first_leak,
    output_mismatch,
    randomize,
    reference_model,
    relu,
    shape_orders,
    steps,
    weighted,
)
from cnn_course.i18n import N_, _


def _values_hint(got, variants, fallback):
    """The hint of the first wrong variant that gives exactly the learner's values, else `fallback`."""
    with np.errstate(all="ignore"):
        for hint, values in variants.items():
            if np.shape(got) == np.shape(values) and np.allclose(got, values, atol=1e-6, equal_nan=True):
                return hint
    return fallback


# -- Task 1 · the receptive field ------------------------------------------------------------------
def receptive_field(fn):
    """Task 1: 1 + Σ (kᵢ − 1)·dᵢ, one kernel size for all layers or one per layer, on telling stacks."""
    with Task(1, "receptive_field") as t:
        t.function(fn, "receptive_field")
        for k, dilations in [(2, [1, 2, 4, 8]), (3, [1, 2, 4, 8, 16]), (4, [1, 3, 9]), (5, [2])]:
            what = f"receptive_field(kernel_size={k}, dilations={dilations})"  # not a message
            got = t.call(fn, (k, list(dilations)), what=what)
            t.expect(is_whole_number(got), _("{what} should be an int").format(what=what), _("an int"), got)
            expected = 1 + (k - 1) * sum(dilations)
            hints = {
                expected - 1: _("count the output's own input too: 1 + (k − 1)·Σd"),
                expected + 1: _("one too many: 1 + (k − 1)·Σd"),
                1 + k * sum(dilations): _("each layer adds (k − 1)·d past samples, not k·d"),
                k * int(np.prod(dilations)): _("the dilations add up; they do not multiply"),
                1 + (k - 1) * max(dilations): _("every layer widens the field, not only the most dilated one"),
                1 + sum(dilations): _("the kernel size matters: each layer adds (k − 1)·d samples"),
                1 + (k - 1) * len(dilations): _("the dilations matter: each layer adds (k − 1)·d samples, not k − 1"),
            }
            t.equal(what, int(got), expected, hints.get(int(got), "1 + (k − 1)·Σd"))
        for sizes, dilations in [([2, 3, 2], [1, 2, 4]), ([3, 2, 5, 2], [1, 4, 2, 8]), ([4], [3])]:
            what = f"receptive_field(kernel_size={sizes}, dilations={dilations})"  # not a message
            got = t.call(fn, (list(sizes), list(dilations)), what=what, hint=_sizes_hint)
            t.expect(is_whole_number(got), _("{what} should be an int").format(what=what), _("an int"), got)
            expected = 1 + sum((k - 1) * d for k, d in zip(sizes, dilations, strict=True))
            hints = {
                1 + (sizes[0] - 1) * sum(dilations): _("use each layer's own kernel size: 1 + Σ (kᵢ − 1)·dᵢ"),
                1 + (sizes[-1] - 1) * sum(dilations): _("use each layer's own kernel size: 1 + Σ (kᵢ − 1)·dᵢ"),
                1 + sum(k * d for k, d in zip(sizes, dilations, strict=True)): _(
                    "each layer adds (kᵢ − 1)·dᵢ, not kᵢ·dᵢ"
                ),
                1 + (sum(sizes) - len(sizes)) * sum(dilations): _("pair each kernel size with its own dilation"),
            }
            t.equal(what, int(got), expected, hints.get(int(got), _("1 + Σ (kᵢ − 1)·dᵢ over the layers")))


def _stack_sizes_hint(err):
    if isinstance(err, TypeError) or "kernel_size" in str(err):
        return _("kernel_size may be a list, one size per layer: give each Conv1D its own")
    return None


def _sizes_hint(err):
    if isinstance(err, TypeError):
        return _("kernel_size may be a list, one size per layer: 1 + Σ (kᵢ − 1)·dᵢ")
    return None


# -- Tasks 2 and 3 · μ-law ---------------------------------------------------------------------------
SAMPLES = np.r_[-1.0, -0.5, -0.01, -1e-4, 0.0, 1e-4, 0.01, 0.5, 1.0, np.random.default_rng(0).uniform(-1, 1, 200)]


def _encode(x, mu, rounding=np.rint, log_of=None):
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(log_of or mu)
    return rounding((y + 1) / 2 * mu)


def _decode(q, mu, minus_one=1.0):
    y = 2 * np.asarray(q, dtype="float64") / mu - 1
    return np.sign(y) * ((1 + mu) ** np.abs(y) - minus_one) / mu


def mu_law_encode(fn):
    """Task 2: samples in [-1, 1] → integer classes 0 … μ."""
    with Task(2, "mu_law_encode") as t:
        t.function(fn, "mu_law_encode")
        for mu in (255, 15, 7):
            what = f"mu_law_encode(x, mu={mu})"  # not a message
            got = np.asarray(t.call(fn, (SAMPLES.copy(), mu), what=what))
            t.equal(
                _("{what}: shape").format(what=what),
                got.shape,
                SAMPLES.shape,
                _("encode every sample: one class per value"),
            )
            integer = np.issubdtype(got.dtype, np.integer)
            t.expect(
                integer,
                _("{what}: integer classes").format(what=what),
                _("integers 0 … mu"),
                got.dtype,
                _("round, then .astype(int)"),
            )
            variants = {
                _("use the `mu` argument, not a fixed 255"): _encode(SAMPLES, 255),
                _("keep the sign: negative samples map to classes below μ/2"): _encode(np.abs(SAMPLES), mu),
                _("round to the nearest class (np.rint), do not truncate"): _encode(SAMPLES, mu, np.floor),
                _("divide by ln(1 + μ) (np.log1p(mu)), not ln(μ)"): _encode(SAMPLES, mu, log_of=mu - 1),
            }
            hint = _("sign(x)·ln(1 + μ|x|)/ln(1 + μ), then round((y + 1)/2 · μ)")
            if got.min() < 0 or got.max() > mu:  # outside 0 … μ
                hint = _("scale (y + 1)/2 by μ, not μ + 1: the classes are 0 … μ")
                hint = _("shift y into [0, 1] with (y + 1)/2 before scaling by μ") if got.min() < 0 else hint
                hint = _("use ln(1 + μ|x|) (np.log1p): ln(μ|x|) is −∞ at x = 0") if got.min() < -mu else hint
            hint = _values_hint(got, variants, hint)
            t.equal(
                _("{what}: classes").format(what=what), got.tolist(), _encode(SAMPLES, mu).astype(int).tolist(), hint
            )


def mu_law_decode(fn):
    """Task 3: integer classes 0 … μ → samples in [-1, 1]."""
    with Task(3, "mu_law_decode") as t:
        t.function(fn, "mu_law_decode")
        for mu in (255, 15, 7):
            q, y = np.arange(mu + 1), 2 * np.arange(mu + 1) / mu - 1
            what = f"mu_law_decode(q, mu={mu})"  # not a message
            got = np.asarray(t.call(fn, (q.copy(), mu), what=what), dtype="float64")
            variants = {
                _("keep the sign of y = 2q/μ − 1: classes below μ/2 are negative samples"): np.abs(_decode(q, mu)),
                _("use the `mu` argument, not a fixed 255"): _decode(q, 255),
                _("map the classes to [-1, 1] first: y = 2q/μ − 1"): _decode(q / 2 + mu / 2, mu),
                _("subtract 1 before dividing: ((1 + μ)^|y| − 1)/μ"): _decode(q, mu, minus_one=0.0),
                _("raise 1 + μ to the power |y|: (1 + μ)^|y|, not e^|y|"): np.sign(y) * np.expm1(np.abs(y)) / mu,
                _("use μ, not μ + 1: y = 2q/μ − 1 and (1 + μ)^|y|"): _decode(q, mu + 1),
                _("classes below μ/2 are negative samples: y = 2q/μ − 1, not 1 − 2q/μ"): -_decode(q, mu),
            }
            hint = _values_hint(got, variants, _("y = 2q/μ − 1, then sign(y)·((1 + μ)^|y| − 1)/μ"))
            t.close(_("{what}: values").format(what=what), got, _decode(q, mu), hint, atol=1e-6)


# -- causality: every input position changed in turn, no earlier output may move --------------------------
def _expect_causal(t, model, what, seed=0):
    leak = first_leak(model, seed)
    if leak is not None:
        t0, out, count = leak
        hint = (
            _("use padding='causal' (zeros on the left only): 'same' centres the kernel and reads the future")
            if count > 1
            else _("only input {t0} leaks: look for a slice, shift or pad that reaches ahead").format(t0=t0)
        )
        t.fail(
            _("{what} is not causal").format(what=what),
            _("output {out} reads inputs 0 … {out} only").format(out=out),
            _("it reads input {t0}").format(t0=t0),
            hint,
        )
    t.passed += 1


# -- Task 4 · a causal dilated stack ---------------------------------------------------------------
def _stack_hint(dilations, model):
    used = [s.settings.get("dilation", 1) for s in steps(model) if s.kind == "Conv1D"]

    def hint(e, g):
        if e is None or g is None:
            return None
        if e.kind == "Conv1D" and g.kind == "Conv1D":
            if used != list(dilations):
                if used == list(dilations)[::-1]:
                    return _("one Conv1D per dilation, in the order given")
                if set(used) == {1}:
                    return _("set dilation_rate: each Conv1D uses its dilation from the list")
                return _("dilation_rate is the value from the list {dilations}, not a multiple of it").format(
                    dilations=list(dilations)
                )
            if e.settings["padding"] != g.settings["padding"]:
                return _("use padding='causal', or (kernel_size − 1)·d zeros on the left before a 'valid' conv")
            if e.settings.get("kernel") != g.settings.get("kernel"):
                return _("each Conv1D has its layer's kernel size (one int for all, or the list's entry for its layer)")
            return _("use the arguments: `filters` filters of size `kernel_size`")
        if e.kind == "ReLU":
            if g.kind == "Conv1D":
                return _("each convolution is followed by a ReLU")
            return _("each convolution is followed by a ReLU, not {kind}").format(kind=g.kind)
        if e.kind == "Conv1D" and g.kind == "ReLU":
            return _("the convolution comes first, then its ReLU")
        return None

    return hint


def causal_dilated_stack(fn):
    """Task 4: Conv1D layers with causal padding, the given dilations (and kernel sizes) in order, each with a ReLU."""
    with Task(4, "causal_dilated_stack") as t:
        t.function(fn, "causal_dilated_stack")
        for filters, k, dilations, shape in [
            (3, 2, [1, 2, 4, 8], (37, 2)),
            (5, 3, [1, 3, 2], (29, 3)),
            (4, [3, 2, 4], [1, 4, 2], (31, 2)),
        ]:
            what = (
                f"causal_dilated_stack(x, filters={filters}, kernel_size={k}, dilations={dilations})"  # not a message
            )
            sizes = k if isinstance(k, list) else [k] * len(dilations)
            build = lambda x, f=filters, k=k, d=dilations: fn(x, f, k if isinstance(k, int) else list(k), list(d))  # noqa: E731
            model = probe_model(t, build, shape, what, hint=_stack_sizes_hint)
            got = tuple(model.outputs[0].shape[1:])
            hint = _("use `filters` filters") if got[0] == shape[0] else _("causal padding keeps the length")
            t.equal(_("{what}: output shape").format(what=what), got, (shape[0], filters), hint)
            _expect_causal(t, model, what)
            spec = chain(*[chain(conv1d(size, filters, d), relu()) for size, d in zip(sizes, dilations, strict=True)])
            reference = reference_model(spec, shape)
            compare_with_reference(t, model, reference, what, hint=_stack_hint(dilations, model), training=False)


# -- Task 5 · the WaveNet block --------------------------------------------------------------------
def _block_spec(c, s, d, acts=("tanh", "sigmoid"), join="multiply", padding="causal", residual="after", skip="z"):
    """The block's [residual, skip] joined along channels; the keyword arguments make the known mistakes."""
    from keras import layers

    def apply(x):
        branches = [chain(conv1d(2, c, d, padding), activation(a))(x) for a in acts]
        z = layers.Multiply()(branches) if join == "multiply" else layers.Add()(branches)
        out = layers.Add()([x, conv1d(1, c)(z)]) if residual == "after" else conv1d(1, c)(layers.Add()([x, z]))
        return layers.Concatenate()([out, conv1d(1, s)(z if skip == "z" else out)])

    return apply


BLOCK_MISTAKES = {
    N_("the gate is sigmoid(W_g ∗ x): tanh(filter) ⊙ sigmoid(gate)"): dict(acts=("tanh", "tanh")),
    N_("the filter goes through tanh: tanh(filter) ⊙ sigmoid(gate)"): dict(acts=("sigmoid", "sigmoid")),
    N_("the gated activation multiplies tanh(filter) and sigmoid(gate); it does not add them"): dict(join="add"),
    N_("apply the 1×1 conv to z first, then add the result to the block's input"): dict(residual="before"),
    N_("the skip output is a 1×1 conv of z, not of the residual sum"): dict(skip="residual"),
    N_("WaveNet's gate is a sigmoid, not a ReLU: tanh(filter) ⊙ sigmoid(gate)"): dict(acts=("tanh", "relu")),
}


def _weighted_layers(found):
    """'2 × Conv1D 2 →5, Conv1D 1 →3': the layers with weights, counted (kernel size →filters)."""
    names = sorted(
        f"{s.kind} {s.settings['kernel'][0]} →{s.settings['filters']}" if s.kind == "Conv1D" else s.kind for s in found
    )
    return ", ".join(f"{names.count(n)} × {n}" if names.count(n) > 1 else n for n in dict.fromkeys(names))


def _block_layers_hint(got_w):
    sizes = [s.settings["kernel"][0] for s in got_w if s.kind == "Conv1D"]
    if sizes.count(2) == 1:
        return _("the filter and the gate are two separate Conv1D, each with its own weights, not one conv for both")
    return _("two Conv1D of kernel 2 (filter, gate), and a 1×1 Conv1D each for the residual and the skip output")


def _block_mistake(model, c, s, d, x):
    """The hint of the known mistake whose block computes what the learner's does."""
    mistakes = {_(hint): change for hint, change in BLOCK_MISTAKES.items()}
    dilated = _("dilation_rate is `dilation` ({d}), not {e}")
    mistakes |= {dilated.format(d=d, e=e): dict(d=e) for e in (1, 2 * d)}
    for hint, change in mistakes.items():
        mistaken = reference_model(_block_spec(**{"c": c, "s": s, "d": d} | change), x.shape[1:])
        if output_mismatch(model, mistaken, x) is None:
            return hint
    return _("compare each step with the task: filter, gate, z, residual, skip")


def _block_model(t, fn, c, s, d, length, what):
    import keras
    from keras import layers

    inputs = keras.Input((length, c))
    result = t.call(fn, (inputs, c, s, d), what=what)
    pair = isinstance(result, (tuple, list)) and len(result) == 2
    t.expect(
        pair,
        _("{what} should return two tensors").format(what=what),
        _("(residual, skip)"),
        type(result).__name__,
        _("return residual, skip"),
    )
    residual, skip = (t.keras_tensor(r, what) for r in result)
    t.equal(
        _("{what}: residual output shape").format(what=what),
        tuple(residual.shape[1:]),
        (length, c),
        _("x + a 1×1 conv of z"),
    )
    t.equal(
        _("{what}: skip output shape").format(what=what),
        tuple(skip.shape[1:]),
        (length, s),
        _("a 1×1 conv of z to skip_channels"),
    )
    try:
        return keras.Model(inputs, layers.Concatenate()([residual, skip]))
    except Exception as err:
        t.fail(
            _("{what}: no model from x to its outputs").format(what=what),
            got=first_line(err),
            hint=_("build on x, not a new Input"),
        )


def wavenet_block(fn):
    """Task 5: gated dilated causal conv; residual = input + 1×1 conv; skip = 1×1 conv."""
    with Task(5, "wavenet_block") as t:
        t.function(fn, "wavenet_block")
        for c, s, d, length in [(5, 3, 3, 23), (3, 7, 2, 17)]:
            call = f"wavenet_block(x, residual_channels={c}, skip_channels={s}, dilation={d})"  # not a message
            what = _("{call} on length {length}").format(call=call, length=length)
            model = _block_model(t, fn, c, s, d, length, what)
            reference = reference_model(_block_spec(c, s, d), (length, c))
            ref_w, got_w = weighted(steps(reference)), weighted(steps(model))
            paired = next(shape_orders(ref_w, got_w), None) is not None
            shown = [_weighted_layers(w) for w in (ref_w, got_w)]
            t.expect(paired, _("{what}: the layers with weights").format(what=what), *shown, _block_layers_hint(got_w))
            _expect_causal(t, model, what)
            x = np.random.default_rng(1).normal(size=(3, length, c)).astype("float32")
            mismatch = output_mismatch(model, reference, x)
            if mismatch is not None:
                index, want, have = mismatch
                differ = _("{what}: outputs differ at index {index}").format(what=what, index=index)
                t.fail(differ, want, have, _block_mistake(model, c, s, d, x))
            t.passed += 1


# -- Task 6 · a causality test ---------------------------------------------------------------------
CLASSES = 16  # the class models read classes 0 … 15


def _causality_cases(length=24):
    import keras
    from keras import layers, ops

    def stack(padding, dilations=(1, 2, 4), then=None):
        x = inputs = keras.Input((length, 2))
        for d in dilations:
            x = layers.Conv1D(3, 2, dilation_rate=d, padding=padding, activation="tanh")(x)
        return keras.Model(inputs, then(x) if then else x)

    def peeks(out, at, n=1):
        """Causal, except that outputs out … out + n − 1 also read inputs at … at + n − 1."""
        inputs = keras.Input((length, 2))
        ahead = ops.pad(inputs[:, at : at + n, :], ((0, 0), (out, length - out - n), (0, 0)))
        return keras.Model(inputs, layers.Conv1D(3, 2, padding="causal")(inputs) + layers.Dense(3)(ahead))

    def classes(padding):
        """Integer classes (batch, length) → Embedding → dilated Conv1D stack, as WaveNet reads its input."""
        inputs = keras.Input((length,), dtype="int32")
        x = layers.Embedding(CLASSES, 3)(inputs)
        for d in (1, 2, 4):
            x = layers.Conv1D(3, 2, dilation_rate=d, padding=padding, activation="tanh")(x)
        return keras.Model(inputs, x)

    last, same = length - 1, layers.Conv1D(2, 3, padding="same")
    alone = _("a model whose output {out} alone also reads input {at}")
    return [
        (_("a causal dilated stack"), stack("causal"), True),
        (_("a stack with padding='same'"), stack("same"), False),
        (_("a causal stack followed by a 'same' conv"), stack("causal", then=same), False),
        (_("a model whose output t also reads input t + 5"), peeks(0, 5, length - 5), False),
        (alone.format(out=9, at=15), peeks(9, 15), False),
        (alone.format(out=0, at=1), peeks(0, 1), False),
        (alone.format(out=last - 1, at=last), peeks(last - 1, last), False),
        (_("a single causal convolution"), stack("causal", dilations=(1,)), True),
        (_("a WaveNet-like model reading classes, causal"), classes("causal"), True),
        (_("a WaveNet-like model reading classes, padding='same'"), classes("same"), False),
    ]


def _classes_hint(reads_classes):
    def hint(err):
        if reads_classes:
            return _(
                "this model reads integer classes of shape (batch, length), 0 … 15 (model.input.dtype is int32): "
                "change a position by giving it another class"
            )
        return None

    return hint


def is_causal(fn):
    """Task 6: the learner's causality test tells causal models from models that peek ahead, anywhere.

    The models read float inputs (batch, length, channels) or, like WaveNet, integer classes (batch, length).
    """
    with Task(6, "is_causal") as t:
        t.function(fn, "is_causal")
        for i, (label, model, causal) in enumerate(_causality_cases()):
            randomize(steps(model), seed=i)
            reads_classes = "int" in str(model.inputs[0].dtype)
            what = f"is_causal({label}, length=24)"  # not a message
            got = t.call(fn, (model, 24), what=what, hint=_classes_hint(reads_classes))
            t.expect(
                isinstance(got, (bool, np.bool_)),
                _("is_causal({label}) returns a bool").format(label=label),
                _("True or False"),
                got,
            )
            hint = (
                _("a causal model's outputs after the changed position do change; compare only the outputs before it")
                if causal
                else _("change the input at every position t0 (1 … length − 1) and compare the outputs before t0")
            )
            t.equal(f"is_causal({label})", bool(got), causal, hint)


# -- Task 7 · receptive fields by hand ------------------------------------------------------------------
CYCLE = [2**i for i in range(10)]  # 1, 2, …, 512


def _field(k, dilations):
    return 1 + (k - 1) * sum(dilations)


FIELD_QUESTIONS = {
    "one_cycle": _field(2, CYCLE),  # 1024
    "three_cycles": _field(2, CYCLE * 3),  # 3070
    "kernel_3": _field(3, [1, 2, 4, 8] * 2),  # 61
    "with_input_conv": _field(2, [1] + CYCLE * 2),  # 2048
    "cycles_for_one_second": -(-(16000 - 1) // 1023),  # 16
}


def _field_hints(key, got):
    hints = {
        "one_cycle": {1023: _("count the output's own sample too: 1 + 1023"), 1025: "1 + (2 − 1)·(1 + 2 + … + 512)"},
        "three_cycles": {
            3 * 1024: _("the cycles share their samples: 1 + 3·1023, not 3·1024"),
            3069: _("count the output's own sample too"),
            1024**3: _("the cycles add up, they do not multiply"),
        },
        "kernel_3": {
            31: _("each layer adds (k − 1)·d = 2·d with k = 3, and 1, 2, 4, 8 comes twice: 1 + 2·30"),
            91: _("each layer adds (k − 1)·d, not k·d"),
            60: _("count the output's own sample too"),
        },
        "with_input_conv": {2047: _("the input convolution (k = 2, d = 1) adds one sample"), 2049: "1 + 1 + 2·1023"},
        "cycles_for_one_second": {
            15: _("15 cycles see 1 + 15·1023 = 15,346 samples, fewer than 16,000"),
            17: _("16 cycles already see 1 + 16·1023 = 16,369 ≥ 16,000"),
        },
    }
    return hints[key].get(got, _("R = 1 + Σ (k − 1)·d over all the layers"))


def receptive_fields(fields):
    """Task 7: receptive fields of WaveNet's dilation schedules, worked out by hand."""
    with Task(7, "receptive_fields") as t:
        t.value(fields, "fields", dict)
        t.equal(_("the keys of `fields`"), sorted(fields), sorted(FIELD_QUESTIONS), _("keep the five keys of the task"))
        for key, expected in FIELD_QUESTIONS.items():
            got = fields[key]
            t.expect(
                is_whole_number(got),
                _("fields[{key}] should be a whole number").format(key=repr(key)),
                _("an int"),
                got,
                _("write an int"),
            )
            t.equal(f"fields[{key!r}]", int(got), expected, _field_hints(key, int(got)))


# -- Task 8 · teacher forcing with a receptive field of context ------------------------------------------
def training_pair_reference(classes, start, crop, field, context=True, shift=1, trim=True):
    """(inputs, targets) as the task specifies them (the keyword arguments make the usual mistakes)."""
    extra = field - 1 if context else 0
    inputs = classes[start : start + extra + crop]
    first = start + shift + (extra if trim else 0)
    targets = classes[first : first + (crop if trim else extra + crop)]
    return inputs, targets


def _pair_hint(classes, start, crop, field, got_inputs, got_targets):
    variants = [
        (_("targets are the inputs shifted by one sample: output i predicts sample i + 1"), dict(shift=0)),
        (_("targets are one sample ahead, not two"), dict(shift=2)),
        (
            _("give field − 1 samples of context before the crop, so that every counted output sees a full field"),
            dict(context=False),
        ),
        (_("count only the last `crop` outputs: the first field − 1 see the zero padding"), dict(trim=False)),
    ]
    for hint, mistake in variants:
        inputs, targets = training_pair_reference(classes, start, crop, field, **mistake)
        if np.array_equal(got_inputs, inputs) and np.array_equal(got_targets, targets):
            return hint
    return _(
        "inputs: classes[start : start + field − 1 + crop]; targets: the `crop` samples after the last field − 1 inputs"
    )


def training_pair(fn):
    """Task 8: the inputs and targets of one teacher-forced training crop, with a receptive field of context."""
    with Task(8, "training_pair") as t:
        t.function(fn, "training_pair")
        classes = np.random.default_rng(8).integers(0, 256, 200)
        for start, crop, field in [(0, 10, 4), (17, 32, 16), (50, 5, 1), (3, 40, 9)]:
            what = f"training_pair(classes, start={start}, crop={crop}, receptive_field={field})"  # not a message
            result = t.call(fn, (classes.copy(), start, crop, field), what=what)
            ok = isinstance(result, (tuple, list)) and len(result) == 2
            t.expect(
                ok,
                _("{what} should return two arrays").format(what=what),
                _("(inputs, targets)"),
                type(result).__name__,
            )
            got_inputs, got_targets = (t.array(part, what).astype("int64") for part in result)
            inputs, targets = training_pair_reference(classes, start, crop, field)
            hint = None
            if not (np.array_equal(got_inputs, inputs) and np.array_equal(got_targets, targets)):
                hint = _pair_hint(classes, start, crop, field, got_inputs, got_targets)
            t.equal(_("{what}: length of inputs").format(what=what), len(got_inputs), len(inputs), hint)
            t.equal(_("{what}: length of targets").format(what=what), len(got_targets), len(targets), hint)
            same_inputs, same_targets = np.array_equal(got_inputs, inputs), np.array_equal(got_targets, targets)
            t.expect(same_inputs, _("{what}: inputs").format(what=what), inputs[:8], got_inputs[:8], hint)
            t.expect(same_targets, _("{what}: targets").format(what=what), targets[:8], got_targets[:8], hint)


# -- Task 9 · cached generation for a stack of any kernel size --------------------------------------------
def _stack_model(channels, kernel_size, dilations, filters):
    return reference_model(
        chain(*[chain(conv1d(kernel_size, filters, d), relu()) for d in dilations]), (None, channels)
    )


def _cached_hint(got, want, weights, x, dilations):
    """A hint from the usual mistakes of a cached step, found by replaying them."""

    def run(taps_reversed=False, short=False, no_relu=False):
        queues = [
            [np.zeros(kernel.shape[1])] * ((kernel.shape[0] - 1) * d)
            for (kernel, _bias), d in zip(weights, dilations, strict=True)
        ]
        out = []
        for x_t in x.astype("float64"):
            h = x_t
            for (kernel, bias), d, queue in zip(weights, dilations, queues, strict=True):
                k = kernel.shape[0]
                reads = [queue[j * d] for j in range(k - 1)] + [h]  # inputs at t − (k − 1)·d, …, t − d, t
                if taps_reversed:
                    reads = reads[::-1]
                if short:  # the kernel-2 habit: one past input, d steps back
                    y = queue[-d] @ kernel[-2] + h @ kernel[-1] + bias
                else:
                    y = sum(r @ kernel[j] for j, r in enumerate(reads)) + bias
                queue.append(h)
                queue.pop(0)
                h = y if no_relu else np.maximum(y, 0)
            out.append(h)
        return np.stack(out)

    for hint, mistake in [
        (
            _("kernel[j] multiplies the input (k − 1 − j)·d steps back: kernel[k − 1] reads the current one"),
            "taps_reversed",
        ),
        (_("keep (k − 1)·d past inputs per layer: with k > 2 a layer also reads t − 2d, t − 3d, …"), "short"),
        (_("each layer ends with a ReLU"), "no_relu"),
    ]:
        if np.allclose(got, run(**{mistake: True}), atol=1e-4):
            return hint
    if np.allclose(got[1:], want[:-1], atol=1e-4):
        return _("return the output at the time of the input just given (a causal layer reads the current input too)")
    return _(
        "per layer: a queue of its last (k − 1)·d inputs; output = Σⱼ kernel[j] · input at t − (k − 1 − j)·d + bias"
    )


def cached_stack_step(fn):
    """Task 9: generation one step at a time with per-layer queues, equal to the parallel causal stack."""
    with Task(9, "cached_stack_step") as t:
        t.function(fn, "cached_stack_step")
        for seed, (channels, kernel_size, dilations, filters, length) in enumerate(
            [(3, 3, [1, 2, 4], 5, 30), (2, 2, [1, 2, 4, 8], 3, 40), (4, 4, [2, 3], 3, 25)]
        ):
            model = _stack_model(channels, kernel_size, dilations, filters)
            randomize(steps(model), seed)
            weights = [[np.asarray(w) for w in layer.weights] for layer in model.layers if layer.weights]
            x = np.random.default_rng(seed + 1).normal(size=(length, channels)).astype("float32")
            want = np.asarray(model(x[None]), dtype="float64")[0]
            call = f"cached_stack_step(weights, dilations={dilations})"  # not a message
            what = _("{call} (kernel size {kernel_size}, {channels} channels)").format(
                call=call, kernel_size=kernel_size, channels=channels
            )
            step = t.call(fn, ([[w.copy() for w in pair] for pair in weights], list(dilations)), what=what)
            t.expect(
                callable(step),
                _("{what} should return a function").format(what=what),
                _("a function step(x_t)"),
                type(step).__name__,
            )
            got = []
            for i in range(length):
                y = t.call(
                    step,
                    (x[i].copy(),),
                    what=_("{what}: step {number} of {count}").format(what=what, number=i + 1, count=length),
                )
                got.append(np.ravel(t.array(y, _("{what}: step {number}").format(what=what, number=i + 1))))
            got = np.stack(got) if len({g.shape for g in got}) == 1 else None
            t.expect(
                got is not None and got.shape == want.shape,
                _("{what}: outputs").format(what=what),
                want.shape,
                None if got is None else got.shape,
                _("each step returns the last layer's output vector, shape (filters,)"),
            )
            ok = np.allclose(got, want, atol=1e-4, rtol=1e-3)
            hint = None if ok else _cached_hint(got, want, weights, x, dilations)
            t.close(
                _("{what}: the outputs of {count} steps against one parallel pass").format(what=what, count=length),
                got,
                want,
                hint,
                atol=1e-4,
                rtol=1e-3,
            )
            again = t.call(fn, ([[w.copy() for w in pair] for pair in weights], list(dilations)), what=what)
            second = _("a second {what}: step 1").format(what=what)
            first = np.ravel(np.asarray(t.call(again, (x[0].copy(),), what=second)))
            t.close(
                _("a second {what}, step 1: starts from empty queues").format(what=what),
                first,
                want[0],
                _(
                    "keep the queues inside cached_stack_step (one set per call),"
                    " so that each step function starts afresh"
                ),
                atol=1e-4,
                rtol=1e-3,
            )

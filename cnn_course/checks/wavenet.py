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


def _values_hint(got, variants, fallback):
    """The hint of the first wrong variant that gives exactly the learner's values, else `fallback`."""
    with np.errstate(all="ignore"):
        for hint, values in variants.items():
            if np.shape(got) == np.shape(values) and np.allclose(got, values, atol=1e-6, equal_nan=True):
                return hint
    return fallback


# -- Task 1 · the receptive field ------------------------------------------------------------------
def receptive_field(fn):
    """Task 1: 1 + (k − 1)·Σd, for stacks on which the usual wrong formulas give other numbers."""
    with Task(1, "receptive_field") as t:
        t.function(fn, "receptive_field")
        for k, dilations in [(2, [1, 2, 4, 8]), (3, [1, 2, 4, 8, 16]), (4, [1, 3, 9]), (5, [2])]:
            what = f"receptive_field(kernel_size={k}, dilations={dilations})"
            got = t.call(fn, (k, list(dilations)), what=what)
            t.expect(is_whole_number(got), f"{what} should be an int", "an int", got)
            expected = 1 + (k - 1) * sum(dilations)
            hints = {
                expected - 1: "count the output's own input too: 1 + (k − 1)·Σd",
                expected + 1: "one too many: 1 + (k − 1)·Σd",
                1 + k * sum(dilations): "each layer adds (k − 1)·d past samples, not k·d",
                k * int(np.prod(dilations)): "the dilations add up; they do not multiply",
                1 + (k - 1) * max(dilations): "every layer widens the field, not only the most dilated one",
                1 + sum(dilations): "the kernel size matters: each layer adds (k − 1)·d samples",
                1 + (k - 1) * len(dilations): "the dilations matter: each layer adds (k − 1)·d samples, not k − 1",
            }
            t.equal(what, int(got), expected, hints.get(int(got), "1 + (k − 1)·Σd"))


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
            what = f"mu_law_encode(x, mu={mu})"
            got = np.asarray(t.call(fn, (SAMPLES.copy(), mu), what=what))
            t.equal(f"{what}: shape", got.shape, SAMPLES.shape, "encode every sample: one class per value")
            integer = np.issubdtype(got.dtype, np.integer)
            t.expect(integer, f"{what}: integer classes", "integers 0 … mu", got.dtype, "round, then .astype(int)")
            variants = {
                "use the `mu` argument, not a fixed 255": _encode(SAMPLES, 255),
                "keep the sign: negative samples map to classes below μ/2": _encode(np.abs(SAMPLES), mu),
                "round to the nearest class (np.rint), do not truncate": _encode(SAMPLES, mu, np.floor),
                "divide by ln(1 + μ) (np.log1p(mu)), not ln(μ)": _encode(SAMPLES, mu, log_of=mu - 1),
            }
            hint = "sign(x)·ln(1 + μ|x|)/ln(1 + μ), then round((y + 1)/2 · μ)"
            if got.min() < 0 or got.max() > mu:  # outside 0 … μ
                hint = "scale (y + 1)/2 by μ, not μ + 1: the classes are 0 … μ"
                hint = "shift y into [0, 1] with (y + 1)/2 before scaling by μ" if got.min() < 0 else hint
                hint = "use ln(1 + μ|x|) (np.log1p): ln(μ|x|) is −∞ at x = 0" if got.min() < -mu else hint
            hint = _values_hint(got, variants, hint)
            t.equal(f"{what}: classes", got.tolist(), _encode(SAMPLES, mu).astype(int).tolist(), hint)


def mu_law_decode(fn):
    """Task 3: integer classes 0 … μ → samples in [-1, 1]."""
    with Task(3, "mu_law_decode") as t:
        t.function(fn, "mu_law_decode")
        for mu in (255, 15, 7):
            q, y = np.arange(mu + 1), 2 * np.arange(mu + 1) / mu - 1
            what = f"mu_law_decode(q, mu={mu})"
            got = np.asarray(t.call(fn, (q.copy(), mu), what=what), dtype="float64")
            variants = {
                "keep the sign of y = 2q/μ − 1: classes below μ/2 are negative samples": np.abs(_decode(q, mu)),
                "use the `mu` argument, not a fixed 255": _decode(q, 255),
                "map the classes to [-1, 1] first: y = 2q/μ − 1": _decode(q / 2 + mu / 2, mu),
                "subtract 1 before dividing: ((1 + μ)^|y| − 1)/μ": _decode(q, mu, minus_one=0.0),
                "raise 1 + μ to the power |y|: (1 + μ)^|y|, not e^|y|": np.sign(y) * np.expm1(np.abs(y)) / mu,
                "use μ, not μ + 1: y = 2q/μ − 1 and (1 + μ)^|y|": _decode(q, mu + 1),
                "classes below μ/2 are negative samples: y = 2q/μ − 1, not 1 − 2q/μ": -_decode(q, mu),
            }
            hint = _values_hint(got, variants, "y = 2q/μ − 1, then sign(y)·((1 + μ)^|y| − 1)/μ")
            t.close(f"{what}: values", got, _decode(q, mu), hint, atol=1e-6)


# -- causality: every input position changed in turn, no earlier output may move --------------------------
def _expect_causal(t, model, what, seed=0):
    leak = first_leak(model, seed)
    if leak is not None:
        t0, out, count = leak
        hint = (
            "use padding='causal' (zeros on the left only): 'same' centres the kernel and reads the future"
            if count > 1
            else f"only input {t0} leaks: look for a slice, shift or pad that reaches ahead"
        )
        t.fail(f"{what} is not causal", f"output {out} reads inputs 0 … {out} only", f"it reads input {t0}", hint)
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
                    return "one Conv1D per dilation, in the order given"
                if set(used) == {1}:
                    return "set dilation_rate: each Conv1D uses its dilation from the list"
                return f"dilation_rate is the value from the list {list(dilations)}, not a multiple of it"
            if e.settings["padding"] != g.settings["padding"]:
                return "use padding='causal', or (kernel_size − 1)·d zeros on the left before a 'valid' conv"
            return "use the arguments: `filters` filters of size `kernel_size`"
        if e.kind == "ReLU":
            return "each convolution is followed by a ReLU" + ("" if g.kind == "Conv1D" else f", not {g.kind}")
        if e.kind == "Conv1D" and g.kind == "ReLU":
            return "the convolution comes first, then its ReLU"
        return None

    return hint


def causal_dilated_stack(fn):
    """Task 4: Conv1D layers with causal padding, the given dilations in order, each followed by ReLU."""
    with Task(4, "causal_dilated_stack") as t:
        t.function(fn, "causal_dilated_stack")
        for filters, k, dilations, shape in [(3, 2, [1, 2, 4, 8], (37, 2)), (5, 3, [1, 3, 2], (29, 3))]:
            what = f"causal_dilated_stack(x, filters={filters}, kernel_size={k}, dilations={dilations})"
            build = lambda x, f=filters, k=k, d=dilations: fn(x, f, k, list(d))  # noqa: E731
            model = probe_model(t, build, shape, what)
            got = tuple(model.outputs[0].shape[1:])
            hint = "use `filters` filters" if got[0] == shape[0] else "causal padding keeps the length"
            t.equal(f"{what}: output shape", got, (shape[0], filters), hint)
            _expect_causal(t, model, what)
            spec = chain(*[chain(conv1d(k, filters, d), relu()) for d in dilations])
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
    "the gate is sigmoid(W_g ∗ x): tanh(filter) ⊙ sigmoid(gate)": dict(acts=("tanh", "tanh")),
    "the filter goes through tanh: tanh(filter) ⊙ sigmoid(gate)": dict(acts=("sigmoid", "sigmoid")),
    "the gated activation multiplies tanh(filter) and sigmoid(gate); it does not add them": dict(join="add"),
    "apply the 1×1 conv to z first, then add the result to the block's input": dict(residual="before"),
    "the skip output is a 1×1 conv of z, not of the residual sum": dict(skip="residual"),
    "WaveNet's gate is a sigmoid, not a ReLU: tanh(filter) ⊙ sigmoid(gate)": dict(acts=("tanh", "relu")),
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
        return "the filter and the gate are two separate Conv1D, each with its own weights, not one conv for both"
    return "two Conv1D of kernel 2 (filter, gate), and a 1×1 Conv1D each for the residual and the skip output"


def _block_mistake(model, c, s, d, x):
    """The hint of the known mistake whose block computes what the learner's does."""
    mistakes = BLOCK_MISTAKES | {f"dilation_rate is `dilation` ({d}), not {e}": dict(d=e) for e in (1, 2 * d)}
    for hint, change in mistakes.items():
        mistaken = reference_model(_block_spec(**{"c": c, "s": s, "d": d} | change), x.shape[1:])
        if output_mismatch(model, mistaken, x) is None:
            return hint
    return "compare each step with the task: filter, gate, z, residual, skip"


def _block_model(t, fn, c, s, d, length, what):
    import keras
    from keras import layers

    inputs = keras.Input((length, c))
    result = t.call(fn, (inputs, c, s, d), what=what)
    pair = isinstance(result, (tuple, list)) and len(result) == 2
    t.expect(
        pair, f"{what} should return two tensors", "(residual, skip)", type(result).__name__, "return residual, skip"
    )
    residual, skip = (t.keras_tensor(r, what) for r in result)
    t.equal(f"{what}: residual output shape", tuple(residual.shape[1:]), (length, c), "x + a 1×1 conv of z")
    t.equal(f"{what}: skip output shape", tuple(skip.shape[1:]), (length, s), "a 1×1 conv of z to skip_channels")
    try:
        return keras.Model(inputs, layers.Concatenate()([residual, skip]))
    except Exception as err:
        t.fail(f"{what}: no model from x to its outputs", got=first_line(err), hint="build on x, not a new Input")


def wavenet_block(fn):
    """Task 5: gated dilated causal conv; residual = input + 1×1 conv; skip = 1×1 conv."""
    with Task(5, "wavenet_block") as t:
        t.function(fn, "wavenet_block")
        for c, s, d, length in [(5, 3, 3, 23), (3, 7, 2, 17)]:
            what = f"wavenet_block(x, residual_channels={c}, skip_channels={s}, dilation={d}) on length {length}"
            model = _block_model(t, fn, c, s, d, length, what)
            reference = reference_model(_block_spec(c, s, d), (length, c))
            ref_w, got_w = weighted(steps(reference)), weighted(steps(model))
            paired = next(shape_orders(ref_w, got_w), None) is not None
            shown = [_weighted_layers(w) for w in (ref_w, got_w)]
            t.expect(paired, f"{what}: the layers with weights", *shown, _block_layers_hint(got_w))
            _expect_causal(t, model, what)
            x = np.random.default_rng(1).normal(size=(3, length, c)).astype("float32")
            mismatch = output_mismatch(model, reference, x)
            if mismatch is not None:
                index, want, have = mismatch
                t.fail(f"{what}: outputs differ at index {index}", want, have, _block_mistake(model, c, s, d, x))
            t.passed += 1


# -- Task 6 · a causality test ---------------------------------------------------------------------
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

    last, same = length - 1, layers.Conv1D(2, 3, padding="same")
    return [
        ("a causal dilated stack", stack("causal"), True),
        ("a stack with padding='same'", stack("same"), False),
        ("a causal stack followed by a 'same' conv", stack("causal", then=same), False),
        ("a model whose output t also reads input t + 5", peeks(0, 5, length - 5), False),
        ("a model whose output 9 alone also reads input 15", peeks(9, 15), False),
        ("a model whose output 0 alone also reads input 1", peeks(0, 1), False),
        (f"a model whose output {last - 1} alone also reads input {last}", peeks(last - 1, last), False),
        ("a single causal convolution", stack("causal", dilations=(1,)), True),
    ]


def is_causal(fn):
    """Task 6: the learner's causality test tells causal models from models that peek ahead, anywhere."""
    with Task(6, "is_causal") as t:
        t.function(fn, "is_causal")
        for i, (label, model, causal) in enumerate(_causality_cases()):
            randomize(steps(model), seed=i)
            got = t.call(fn, (model, 24), what=f"is_causal({label}, length=24)")
            t.expect(isinstance(got, (bool, np.bool_)), f"is_causal({label}) returns a bool", "True or False", got)
            hint = (
                "a causal model's outputs after the changed position do change; compare only the outputs before it"
                if causal
                else "change the input at every position t0 (1 … length − 1) and compare the outputs before t0"
            )
            t.equal(f"is_causal({label})", bool(got), causal, hint)

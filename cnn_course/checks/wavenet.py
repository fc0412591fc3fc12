"""Checks for unit 11 (WaveNet): receptive field, μ-law, a causal dilated stack, the gated block, a causality test.

Receptive fields and causality are measured, not assumed: the check gives the
learner's layers positive weights, feeds positive inputs, and reads which inputs
each output depends on from the gradient (``tf.GradientTape``). μ-law values are
compared with the companding formula of the WaveNet paper; the block's residual
path is tested by zeroing its 1×1 convolutions.
"""

import numpy as np

from cnn_course.checks import Task, is_whole_number, layer_kinds, probe_model

LENGTH = 40


# -- measuring dependencies ---------------------------------------------------------------
def _positive_weights(model, seed=0):
    """Kernels uniform in [0.1, 1], biases 0: every path counts, nothing cancels."""
    rng = np.random.default_rng(seed)
    new = []
    for w in model.get_weights():
        new.append(rng.uniform(0.1, 1.0, size=w.shape).astype("float32") if w.ndim > 1 else np.zeros_like(w))
    model.set_weights(new)


def dependency_rows(model, rows, output_index=None, length=LENGTH, seed=0):
    """For each output time in `rows`: the input times its first channel depends on (nonzero gradient)."""
    import tensorflow as tf

    channels = model.inputs[0].shape[-1]
    x = tf.constant(np.random.default_rng(seed).uniform(0.1, 1.0, size=(1, length, channels)).astype("float32"))
    found = []
    for t in rows:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = model(x)
            y = y[output_index] if output_index is not None else y
            target = y[0, t, 0]
        gradient = tape.gradient(target, x)
        found.append(set(np.nonzero(np.abs(np.asarray(gradient)[0]).sum(axis=-1) > 0)[0].tolist()))
    return found


def _receptive_field_probe(kernel_size, dilations):
    import keras
    from keras import layers

    inputs = keras.Input((None, 1))
    x = inputs
    for d in dilations:
        x = layers.Conv1D(1, kernel_size, dilation_rate=d, padding="causal")(x)
    model = keras.Model(inputs, x)
    _positive_weights(model)
    length = 1 + (kernel_size - 1) * sum(dilations) + 5
    return len(dependency_rows(model, [length - 1], length=length)[0])


def receptive_field(fn):
    """Task 1: 1 + (k − 1)·Σd, compared with a probe of a built stack."""
    with Task(1, "receptive_field") as t:
        t.function(fn, "receptive_field")
        for k, dilations in [(2, [1, 2, 4, 8]), (3, [1, 2, 4, 8]), (2, [1, 2, 4, 8] * 2), (4, [1, 1, 1]), (2, [1])]:
            what = f"receptive_field(kernel_size={k}, dilations={dilations})"
            got = t.call(fn, (k, dilations), what=what)
            t.expect(
                is_whole_number(got),
                f"{what} should be an int",
                "an int",
                got,
            )
            expected = _receptive_field_probe(k, dilations)
            hints = {
                expected - 1: "count the output's own input too: 1 + (k − 1)·Σd",
                1 + k * sum(dilations): "each layer adds (k − 1)·d past samples, not k·d",
                int(np.prod(dilations)) * k: "the dilations add up; they do not multiply",
            }
            t.equal(f"{what}, probed in a built stack", int(got), expected, hints.get(int(got), "1 + (k − 1)·Σd"))


# -- μ-law ---------------------------------------------------------------------------------------
def _encode(x, mu):
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    return np.rint((y + 1) / 2 * mu).astype("int64")


def _decode(q, mu):
    y = 2 * np.asarray(q, dtype="float64") / mu - 1
    return np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu


SAMPLES = np.concatenate(
    [[-1.0, -0.5, -0.01, -1e-4, 0.0, 1e-4, 0.01, 0.5, 1.0], np.random.default_rng(0).uniform(-1, 1, 200)]
)


def mu_law_encode(fn):
    """Task 2: samples in [-1, 1] → integer classes 0 … μ."""
    with Task(2, "mu_law_encode") as t:
        t.function(fn, "mu_law_encode")
        for mu in (255, 15):
            what = f"mu_law_encode(x, mu={mu})"
            got = np.asarray(t.call(fn, (SAMPLES.copy(), mu), what=what))
            t.equal(f"{what}: shape", got.shape, SAMPLES.shape, "encode every sample: one class per value")
            t.expect(
                np.issubdtype(got.dtype, np.integer),
                f"{what} should return integer classes",
                "integers 0 … mu (e.g. .astype(int))",
                got.dtype,
                "the classes index a softmax: round, then convert to integers",
            )
            expected = _encode(SAMPLES, mu)
            hint = "sign(x)·ln(1 + μ|x|)/ln(1 + μ), then round((y + 1)/2 · μ)"
            if np.array_equal(got, _encode(SAMPLES, 255)) and mu != 255:
                hint = "use the `mu` argument, not a fixed 255"
            elif np.array_equal(got, _encode(np.abs(SAMPLES), mu)):
                hint = "keep the sign: sign(x)·ln(1 + μ|x|)/ln(1 + μ) — negative samples map to classes below μ/2"
            elif np.array_equal(
                got, np.floor((np.sign(SAMPLES) * np.log1p(mu * np.abs(SAMPLES)) / np.log1p(mu) + 1) / 2 * mu)
            ):
                hint = "round to the nearest class (np.rint), do not truncate"
            t.equal(f"{what}: classes", got.tolist(), expected.tolist(), hint)


def mu_law_decode(fn):
    """Task 3: integer classes 0 … μ → samples in [-1, 1]."""
    with Task(3, "mu_law_decode") as t:
        t.function(fn, "mu_law_decode")
        for mu in (255, 15):
            classes = np.arange(mu + 1)
            what = f"mu_law_decode(q, mu={mu})"
            got = np.asarray(t.call(fn, (classes.copy(), mu), what=what), dtype="float64")
            expected = _decode(classes, mu)
            hint = "y = 2q/μ − 1, then sign(y)·((1 + μ)^|y| − 1)/μ"
            if np.allclose(np.abs(got), np.abs(expected), atol=1e-6) and not np.allclose(got, expected, atol=1e-6):
                hint = "keep the sign of y = 2q/μ − 1: classes below μ/2 are negative samples"
            elif mu != 255 and got.shape == expected.shape and np.allclose(got, _decode(classes, 255), atol=1e-6):
                hint = "use the `mu` argument, not a fixed 255"
            t.close(f"{what}: values", got, expected, hint, atol=1e-6)
        x = SAMPLES.copy()
        round_trip = np.asarray(t.call(fn, (_encode(x, 255), 255)), dtype="float64")
        t.expect(
            np.abs(round_trip - x).max() < 0.03,
            "decode(encode(x)) should come back close to x",
            "an error below one μ-law step (under 0.03)",
            f"largest error {np.abs(round_trip - x).max():.3f}",
            "decode must invert encode: same μ, same mapping of classes to [-1, 1]",
        )


# -- the stack and the block --------------------------------------------------------------------
def _causal_and_reach(t, model, what, reach, hint, output_index=None):
    """No output reads the future, and the last output reads exactly the inputs `reach` (times)."""
    rows = dependency_rows(model, [5, LENGTH - 1], output_index)
    future = sorted(s for s in rows[0] if s > 5)
    t.expect(
        not future,
        f"{what}: output 5 should not depend on later inputs",
        "inputs 0 … 5 only",
        f"it also reads inputs {future}",
        "use padding='causal' (zeros on the left only); 'same' centres the kernel and reads the future",
    )
    t.equal(f"{what}: the inputs the last output (time {LENGTH - 1}) reads", sorted(rows[1]), sorted(reach), hint)


def causal_dilated_stack(fn):
    """Task 4: Conv1D layers with causal padding, the given dilations in order, ReLU."""
    with Task(4, "causal_dilated_stack") as t:
        t.function(fn, "causal_dilated_stack")
        for k, dilations in [(2, [1, 2, 4, 8]), (3, [1, 2, 4])]:
            what = f"causal_dilated_stack(x, filters=4, kernel_size={k}, dilations={dilations})"
            model = probe_model(t, lambda x, k=k, d=dilations: fn(x, 4, k, d), (LENGTH, 2), what)
            t.equal(
                f"{what}: output shape",
                tuple(model.outputs[0].shape[1:]),
                (LENGTH, 4),
                "causal padding keeps the length",
            )
            kinds = [kind for kind in layer_kinds(model) if kind != "ZeroPadding1D"]
            expected = []
            for d in dilations:
                expected += [f"Conv1D {k}/1{f' d{d}' if d != 1 else ''} →4", "ReLU"]
            t.sequence(
                f"{what}: layers in order",
                kinds,
                expected,
                lambda e, g: (
                    "one Conv1D per dilation, in the order given, each followed by ReLU"
                    if e.startswith("Conv1D")
                    else "each convolution is followed by a ReLU"
                ),
            )
            _positive_weights(model)
            field = 1 + (k - 1) * sum(dilations)
            reach = range(LENGTH - field, LENGTH)
            _causal_and_reach(
                t, model, what, reach, f"a receptive field of {field} samples: check kernel size and dilations"
            )


def wavenet_block(fn):
    """Task 5: gated dilated causal conv; residual = input + 1×1 conv; skip = 1×1 conv."""
    import keras

    with Task(5, "wavenet_block") as t:
        t.function(fn, "wavenet_block")
        channels, skip_channels, dilation = 6, 5, 4
        what = f"wavenet_block(x, residual_channels={channels}, skip_channels={skip_channels}, dilation={dilation})"
        inputs = keras.Input((LENGTH, channels))
        result = t.call(fn, (inputs, channels, skip_channels, dilation), what=what)
        t.expect(
            isinstance(result, (tuple, list)) and len(result) == 2,
            f"{what} should return two tensors",
            "(residual output, skip output)",
            type(result).__name__,
            "return residual, skip",
        )
        residual, skip = (t.keras_tensor(r, what) for r in result)
        model = keras.Model(inputs, [residual, skip])
        t.equal(
            f"{what}: residual output shape",
            tuple(residual.shape[1:]),
            (LENGTH, channels),
            "the residual output has the input's shape",
        )
        t.equal(
            f"{what}: skip output shape",
            tuple(skip.shape[1:]),
            (LENGTH, skip_channels),
            "the skip path is a 1×1 conv to skip_channels",
        )
        kinds = layer_kinds(model)
        t.expect(
            "Tanh" in kinds and "Sigmoid" in kinds and "Multiply" in kinds and "ReLU" not in kinds,
            f"{what}: the gated activation",
            "tanh(filter) ⊙ sigmoid(gate)",
            f"layers {sorted(set(kinds))}",
            "WaveNet's gate is tanh(W_f ∗ x) · σ(W_g ∗ x): tanh and sigmoid multiplied, no ReLU",
        )
        _positive_weights(model)
        _causal_and_reach(
            t,
            model,
            f"{what}, skip output",
            [LENGTH - 1 - dilation, LENGTH - 1],
            f"a kernel-2 convolution with dilation {dilation} reads the samples t − {dilation} and t",
            output_index=1,
        )
        weights = model.get_weights()
        pointwise = [
            layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D) and layer.kernel_size == (1,)
        ]
        for layer in pointwise:
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
        x = np.random.default_rng(0).normal(size=(1, LENGTH, channels)).astype("float32")
        residual_out, skip_out = (np.asarray(o) for o in model(x))
        t.expect(
            np.allclose(residual_out, x, atol=1e-6) and np.allclose(skip_out, 0, atol=1e-6),
            f"{what}: with its 1×1 convolutions set to zero, the residual output should equal the input",
            "residual = x + conv1x1(z)",
            "something else",
            "apply the 1×1 conv to the gated activation z first, then add the result to the block's input",
        )
        model.set_weights(weights)


def is_causal(fn):
    """Task 6: the learner's causality test tells causal models from models that peek ahead."""
    import keras
    from keras import layers

    def stack(padding, dilations=(1, 2, 4), then=None):
        inputs = keras.Input((None, 2))
        x = inputs
        for d in dilations:
            x = layers.Conv1D(3, 2, dilation_rate=d, padding=padding, activation="tanh")(x)
        return keras.Model(inputs, then(x) if then else x)

    def peeks_late():
        """Causal everywhere except that output t also reads input t + 5."""
        inputs = keras.Input((24, 2))
        ahead = keras.ops.pad(inputs[:, 5:, :], ((0, 0), (0, 5), (0, 0)))
        return keras.Model(inputs, layers.Conv1D(3, 2, padding="causal")(inputs) + layers.Dense(3)(ahead))

    cases = [
        ("a causal dilated stack", stack("causal"), True),
        ("a stack with padding='same'", stack("same"), False),
        (
            "a causal stack followed by a 'same' conv",
            stack("causal", then=layers.Conv1D(2, 3, padding="same")),
            False,
        ),
        ("a model whose output t also reads input t + 5", peeks_late(), False),
        (
            "a single causal convolution",
            stack("causal", dilations=(1,)),
            True,
        ),
    ]
    with Task(6, "is_causal") as t:
        t.function(fn, "is_causal")
        for label, model, causal in cases:
            got = t.call(fn, (model, 24), what=f"is_causal({label}, length=24)")
            t.expect(
                isinstance(got, (bool, np.bool_)), f"is_causal should return True or False for {label}", "a bool", got
            )
            hint = (
                "a causal model's outputs after the changed position do change; compare only the outputs before it"
                if causal
                else "change the input at every position t0 (not just one) and compare the outputs before t0"
            )
            t.equal(f"is_causal({label})", bool(got), causal, hint)

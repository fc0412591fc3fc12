"""Unit 11's checks reject the stub and typical wrong answers, each for its own reason, and accept correct ones."""

import math

import keras
import numpy as np
import pytest
from keras import layers, ops

from cnn_course.checks import wavenet as check
from cnn_course.checks.compare import (
    activation,
    chain,
    conv1d,
    first_leak,
    multiply,
    output_mismatch,
    reference_model,
    shape_orders,
    steps,
)
from cnn_course.checks.compare import weighted as weighted_steps
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("11_wavenet")


# -- the engine's additions for this unit -------------------------------------------------------
def test_conv1d_steps_see_through_a_kernel_of_size_one():
    inputs = keras.Input((9, 3))
    x = layers.Conv1D(4, 1, dilation_rate=3, padding="causal")(inputs)
    x = layers.ZeroPadding1D((2, 0))(x)
    x = layers.Conv1D(5, 3, dilation_rate=2, padding="valid", activation="tanh")(x)
    found = steps(keras.Model(inputs, x))
    assert [str(s) for s in found] == [
        "Conv1D 1 padding='valid' →4",
        "Pad amount=(2, 0)",
        "Conv1D 3 padding='valid' dilation=2 →5",
        "Tanh",
    ]
    assert [s.shapes() for s in weighted_steps(found)][1] == [("kernel", (3, 4, 5)), ("bias", (5,))]


def test_gate_builders_and_shape_orders_pair_equal_layers_both_ways():
    spec = multiply(chain(conv1d(2, 3, 2), activation("tanh")), chain(conv1d(2, 3, 2), activation("sigmoid")))
    reference = reference_model(chain(spec, conv1d(1, 5)), (11, 3))
    kinds = [s.kind for s in steps(reference)]
    assert sorted(kinds) == sorted(["Conv1D", "Tanh", "Conv1D", "Sigmoid", "Multiply", "Conv1D"])
    assert kinds[-2:] == ["Multiply", "Conv1D"]
    ref_w = weighted_steps(steps(reference))
    orders = list(shape_orders(ref_w, ref_w[::-1]))
    assert len(orders) == 2 and all(order[2] is ref_w[2] for order in orders)
    assert not list(shape_orders(ref_w, ref_w[:2]))


def test_first_leak_finds_a_leak_at_one_position_and_counts_many():
    assert first_leak(reference_model(chain(conv1d(2, 3, 4), conv1d(3, 2, 2)), (19, 3))) is None
    same = reference_model(conv1d(3, 2, 2, padding="same"), (19, 3))
    assert first_leak(same)[2] > 10
    inputs = keras.Input((19, 2))
    ahead = ops.pad(ops.mean(inputs[:, 15:16], axis=-1, keepdims=True), ((0, 0), (6, 12), (0, 0)))
    once = keras.Model(inputs, layers.Conv1D(3, 2, padding="causal")(inputs) + ahead)
    assert first_leak(once) == (15, 6, 1)


def test_output_mismatch_lets_equal_layers_swap_roles():
    def gate(first, second):
        return multiply(chain(conv1d(2, 3, 2), activation(first)), chain(conv1d(2, 3, 2), activation(second)))

    x = np.random.default_rng(0).normal(size=(2, 13, 3)).astype("float32")
    reference = reference_model(gate("tanh", "sigmoid"), (13, 3))
    assert output_mismatch(reference_model(gate("sigmoid", "tanh"), (13, 3)), reference, x) is None
    index, expected, got = output_mismatch(reference_model(gate("tanh", "tanh"), (13, 3)), reference, x)
    assert len(index) == 3 and expected != got


# -- Task 1 · receptive_field ----------------------------------------------------------------
def per_layer(formula):
    """`formula(sizes, dilations)` with an int kernel size spread over the layers first."""

    def answer(kernel_size, dilations):
        sizes = [kernel_size] * len(dilations) if np.ndim(kernel_size) == 0 else kernel_size
        return formula(list(sizes), list(dilations))

    return answer


FIELD_MISTAKES = {
    "stub": (stub, "not written yet"),
    "off by one": (lambda k, d: (k - 1) * sum(d), "count the output's own input"),
    "one too many": (lambda k, d: 2 + (k - 1) * sum(d), "one too many"),
    "k instead of k − 1": (lambda k, d: 1 + k * sum(d), "not k·d"),
    "dilations multiplied": (lambda k, d: k * math.prod(d), "do not multiply"),
    "largest dilation only": (lambda k, d: 1 + (k - 1) * max(d), "not only the most dilated"),
    "kernel size ignored": (lambda k, d: 1 + sum(d), "the kernel size matters"),
    "dilations ignored": (lambda k, d: 1 + (k - 1) * len(d), "the dilations matter"),
    "a float": (lambda k, d: 1.0 + (k - 1) * sum(d), "should be an int"),
    "a string": (lambda k, d: str(1 + (k - 1) * sum(d)), "should be an int"),
    "no return": (lambda k, d: None, "returned None"),
    "one kernel size only (the walkthrough's formula)": (
        lambda k, d: 1 + (k - 1) * sum(d),
        "[2, 3, 2]",
        "kernel_size may be a list",
    ),
    "the first kernel size for every layer": (
        per_layer(lambda ks, ds: 1 + (ks[0] - 1) * sum(ds)),
        "each layer's own kernel size",
    ),
    "kᵢ·dᵢ per layer": (per_layer(lambda ks, ds: 1 + sum(k * d for k, d in zip(ks, ds, strict=True))), "not k"),
    "sizes and dilations summed apart": (
        lambda k, ds: 1 + (k - 1) * sum(ds) if isinstance(k, int) else 1 + (sum(k) - len(k)) * sum(ds),
        "pair each kernel size with its own dilation",
    ),
}


@pytest.mark.parametrize("mistake", list(FIELD_MISTAKES))
def test_receptive_field_rejects(mistake):
    answer, *fragments = FIELD_MISTAKES[mistake]
    rejects(check.receptive_field, answer, "Task 1", *fragments)


def test_receptive_field_accepts_correct_answers(capsys):
    accepts(check.receptive_field, SOLUTION["receptive_field"], capsys)
    accepts(
        check.receptive_field,
        per_layer(lambda ks, ds: sum((k - 1) * d for k, d in zip(ks, ds, strict=True)) + 1),
        capsys,
    )
    accepts(check.receptive_field, per_layer(lambda ks, ds: int(np.dot(np.subtract(ks, 1), ds)) + 1), capsys)
    accepts(
        check.receptive_field,
        lambda kernel_size, dilations: np.int64(1 + np.sum((np.asarray(kernel_size) - 1) * np.asarray(dilations))),
        capsys,
    )

    def layer_by_layer(kernel_size, dilations):  # the field grows layer by layer
        field = 1
        for i, d in enumerate(dilations):
            k = kernel_size if isinstance(kernel_size, int) else kernel_size[i]
            field += (k - 1) * d
        return field

    accepts(check.receptive_field, layer_by_layer, capsys)


# -- Tasks 2 and 3 · μ-law ----------------------------------------------------------------------
def encode_with(sign=True, fixed_mu=None, rounding=np.rint, as_int=True, log=np.log1p, denominator=None, shift=True):
    def answer(x, mu=255):
        m = fixed_mu or mu
        with np.errstate(all="ignore"):  # ln(0) = −∞ for the log-instead-of-log1p mistake
            magnitude = log(m * np.abs(x)) / (denominator(m) if denominator else np.log1p(m))
            y = np.sign(x) * magnitude if sign else magnitude
            q = rounding((y + 1) / 2 * m if shift else y * m)
            return q.astype(int) if as_int else q

    return answer


ENCODE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "no sign": (encode_with(sign=False), "keep the sign"),
    "μ fixed at 255": (encode_with(fixed_mu=255), "use the `mu` argument"),
    "truncated instead of rounded": (encode_with(rounding=np.floor), "round to the nearest class"),
    "astype(int) only": (encode_with(rounding=lambda v: v), "round to the nearest class"),
    "floats, not classes": (encode_with(as_int=False), "integer classes"),
    "returns y in [-1, 1]": (lambda x, mu=255: np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu), "integer classes"),
    "log instead of log1p": (encode_with(log=np.log), "np.log1p"),
    "divided by ln μ": (encode_with(denominator=np.log), "not ln(μ)"),
    "scaled by μ + 1": (lambda x, mu=255: encode_with()(x, mu) + (encode_with()(x, mu) > mu // 2), "not μ + 1"),
    "y not shifted into [0, 1]": (encode_with(shift=False), "shift y into [0, 1]"),
    "one class short": (lambda x, mu=255: encode_with()(x, mu)[:-1], "one class per value"),
}


@pytest.mark.parametrize("mistake", list(ENCODE_MISTAKES))
def test_mu_law_encode_rejects(mistake):
    answer, fragment = ENCODE_MISTAKES[mistake]
    rejects(check.mu_law_encode, answer, "Task 2", fragment)


def decode_with(sign=True, fixed_mu=None, no_rescale=False, minus_one=1, base=None, mu_shift=0, flip=False):
    def answer(q, mu=255):
        m = (fixed_mu or mu) + mu_shift
        y = np.asarray(q) / m if no_rescale else 2 * np.asarray(q) / m - 1
        y = -y if flip else y
        magnitude = ((base or (1 + m)) ** np.abs(y) - minus_one) / m
        return np.sign(y) * magnitude if sign else magnitude

    return answer


DECODE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "no sign": (decode_with(sign=False), "keep the sign"),
    "μ fixed at 255": (decode_with(fixed_mu=255), "use the `mu` argument"),
    "classes not mapped to [-1, 1]": (decode_with(no_rescale=True), "map the classes to [-1, 1] first"),
    "no − 1": (decode_with(minus_one=0), "subtract 1 before dividing"),
    "e^|y| instead of (1 + μ)^|y|": (decode_with(base=math.e), "not e^|y|"),
    "μ + 1 instead of μ": (decode_with(mu_shift=1), "use μ, not μ + 1"),
    "1 − 2q/μ": (decode_with(flip=True), "not 1 − 2q/μ"),
    "returns the classes": (lambda q, mu=255: np.asarray(q, dtype=float), "values differ"),
    "one value short": (lambda q, mu=255: decode_with()(q, mu)[1:], "shape"),
    "no return": (lambda q, mu=255: None, "returned None"),
}


@pytest.mark.parametrize("mistake", list(DECODE_MISTAKES))
def test_mu_law_decode_rejects(mistake):
    answer, fragment = DECODE_MISTAKES[mistake]
    rejects(check.mu_law_decode, answer, "Task 3", fragment)


def test_mu_law_accepts_correct_answers(capsys):
    accepts(check.mu_law_encode, SOLUTION["mu_law_encode"], capsys)
    accepts(check.mu_law_decode, SOLUTION["mu_law_decode"], capsys)
    accepts(  # np.log(1 + ·) instead of np.log1p, floor(v + 0.5) instead of rint, int32
        check.mu_law_encode,
        lambda x, mu=255: np.floor(
            (np.sign(x) * np.log(1 + mu * np.abs(x)) / np.log(1 + mu) + 1) / 2 * mu + 0.5
        ).astype(np.int32),
        capsys,
    )
    accepts(  # a list of Python ints
        check.mu_law_encode,
        lambda x, mu=255: [
            int(round((math.copysign(math.log1p(mu * abs(v)), v) / math.log1p(mu) + 1) / 2 * mu)) for v in x
        ],
        capsys,
    )
    accepts(
        check.mu_law_decode,
        lambda q, mu=255: np.sign(2 * q / mu - 1) * np.expm1(np.abs(2 * q / mu - 1) * np.log1p(mu)) / mu,
        capsys,
    )
    accepts(check.mu_law_decode, lambda q, mu=255: [decode_with()(v, mu) for v in q], capsys)

    def encode_with_ops(x, mu=255):  # keras.ops, round half to even like np.rint, int64
        y = ops.sign(x) * ops.log1p(mu * ops.abs(x)) / ops.log1p(ops.cast(mu, "float64"))
        return ops.convert_to_numpy(ops.round((y + 1) / 2 * mu)).astype(np.int64)

    def decode_with_where(q, mu=255):  # the two halves separately, np.power
        y = np.asarray(q) * 2.0 / mu - 1.0
        magnitude = (np.power(1.0 + mu, np.abs(y)) - 1.0) / mu
        return np.where(y < 0, -magnitude, magnitude)

    accepts(check.mu_law_encode, encode_with_ops, capsys)
    accepts(check.mu_law_decode, decode_with_where, capsys)


# -- Task 4 · causal_dilated_stack --------------------------------------------------------------
def sizes_of(kernel_size, dilations):
    return [kernel_size] * len(dilations) if isinstance(kernel_size, int) else list(kernel_size)


def stack_with(
    padding="causal", order=lambda d: d, scale=1, fixed=None, act="relu", left_pad=None, filters=None, sizes=sizes_of
):
    def answer(x, n_filters, kernel_size, dilations, name="stack"):
        for k, d in zip(sizes(kernel_size, dilations), order(list(dilations)), strict=True):
            d = fixed or d * scale
            if left_pad:
                x = layers.ZeroPadding1D((left_pad(k, d), 0))(x)
            x = layers.Conv1D(filters or n_filters, k, dilation_rate=d, padding="valid" if left_pad else padding)(x)
            if act == "before":
                continue
            x = layers.Activation(act)(x) if act else x
        return x

    return answer


def relu_before(x, filters, kernel_size, dilations, name="stack"):
    for k, d in zip(sizes_of(kernel_size, dilations), dilations, strict=True):
        x = layers.Conv1D(filters, k, dilation_rate=d, padding="causal")(layers.ReLU()(x))
    return x


def one_size_only(x, filters, kernel_size, dilations, name="stack"):  # the walkthrough's stacks: one int for all
    for d in dilations:
        x = layers.ReLU()(layers.Conv1D(filters, kernel_size, dilation_rate=d, padding="causal")(x))
    return x


def leaks_once(x, filters, kernel_size, dilations, name="stack"):
    y = stack_with()(x, filters, kernel_size, dilations)
    ahead = ops.mean(x[:, 20:21, :], axis=-1, keepdims=True)  # output 7 also reads input 20
    return y + ops.pad(ahead, ((0, 0), (7, y.shape[1] - 8), (0, 0)))


STACK_MISTAKES = {
    "stub": (stub, "not written yet"),
    "same padding": (stack_with(padding="same"), "padding='causal'"),
    "valid padding": (stack_with(padding="valid"), "keeps the length"),
    "left padding without the dilation": (stack_with(left_pad=lambda k, d: k - 1), "keeps the length"),
    "dilations in reverse order": (stack_with(order=lambda d: d[::-1]), "in the order given"),
    "no dilation": (stack_with(fixed=1), "set dilation_rate"),
    "dilation doubled": (stack_with(scale=2), "not a multiple of it"),
    "no ReLU": (stack_with(act=None), "followed by a ReLU"),
    "tanh instead of ReLU": (stack_with(act="tanh"), "not Tanh"),
    "ReLU before the convolution": (relu_before, "the convolution comes first"),
    "fixed number of filters": (stack_with(filters=4), "use `filters` filters"),
    "a leak at one position only": (leaks_once, "only input 20 leaks"),
    "returns a model": (lambda x, *a, **k: keras.Model(x, stack_with()(x, *a)), "should return a Keras tensor"),
    "one kernel size for all layers only": (one_size_only, "kernel_size may be a list"),
    "the first kernel size for every layer": (
        stack_with(sizes=lambda k, d: [sizes_of(k, d)[0]] * len(d)),
        "its layer's kernel size",
    ),
    "kernel sizes in reverse order": (stack_with(sizes=lambda k, d: sizes_of(k, d)[::-1]), "its layer's kernel size"),
}


@pytest.mark.parametrize("mistake", list(STACK_MISTAKES))
def test_causal_dilated_stack_rejects(mistake):
    answer, fragment = STACK_MISTAKES[mistake]
    rejects(check.causal_dilated_stack, answer, "Task 4", fragment)


def test_causal_dilated_stack_accepts_correct_answers(capsys):
    accepts(check.causal_dilated_stack, SOLUTION["causal_dilated_stack"], capsys)
    accepts(check.causal_dilated_stack, stack_with(left_pad=lambda k, d: (k - 1) * d), capsys)  # zeros, then "valid"

    def fused_relu(x, filters, kernel_size, dilations, name="stack"):
        for i, d in enumerate(dilations):
            k = kernel_size if isinstance(kernel_size, int) else kernel_size[i]
            x = layers.Conv1D(filters, k, padding="causal", dilation_rate=d, activation="relu", name=f"c{i}")(x)
        return x

    def nested(x, filters, kernel_size, dilations, name="stack"):
        return keras.Sequential(
            [
                layers.Conv1D(filters, k, padding="causal", dilation_rate=d) if i % 2 == 0 else layers.ReLU()
                for k, d in zip(np.broadcast_to(kernel_size, len(dilations)).tolist(), dilations, strict=True)
                for i in range(2)
            ]
        )(x)

    def with_ops(x, filters, kernel_size, dilations, name="stack"):
        for k, d in zip(sizes_of(kernel_size, dilations), dilations, strict=True):
            x = ops.relu(layers.Conv1D(filters, k, padding="causal", dilation_rate=d)(x))
        return x

    for answer in (fused_relu, nested, with_ops):
        accepts(check.causal_dilated_stack, answer, capsys)


# -- Task 5 · wavenet_block ---------------------------------------------------------------------
def block_with(acts=("tanh", "sigmoid"), join="multiply", residual="after", skip="z", padding="causal", dilation=None):
    def answer(x, residual_channels, skip_channels, d, name="block"):
        d = dilation(d) if dilation else d
        f = layers.Conv1D(residual_channels, 2, dilation_rate=d, padding=padding)(x)
        g = layers.Conv1D(residual_channels, 2, dilation_rate=d, padding=padding)(x)
        f, g = layers.Activation(acts[0])(f), layers.Activation(acts[1])(g)
        z = layers.Multiply()([f, g]) if join == "multiply" else layers.Add()([f, g])
        if residual == "after":
            out = layers.Add()([x, layers.Conv1D(residual_channels, 1)(z)])
        elif residual == "before":  # the sum goes through the 1×1 conv
            out = layers.Conv1D(residual_channels, 1)(layers.Add()([x, z]))
        else:  # no 1×1 conv on the residual path
            out = layers.Add()([x, z])
        s = layers.Conv1D(skip_channels, 1)(z if skip == "z" else out) if skip else z
        return out, s

    return answer


def one_conv_gate(x, residual_channels, skip_channels, dilation, name="block"):
    f = layers.Conv1D(residual_channels, 2, dilation_rate=dilation, padding="causal")(x)
    z = ops.tanh(f) * ops.sigmoid(f)
    return x + layers.Conv1D(residual_channels, 1)(z), layers.Conv1D(skip_channels, 1)(z)


def leaky_block(x, residual_channels, skip_channels, dilation, name="block"):
    residual, skip = block_with()(x, residual_channels, skip_channels, dilation)
    return residual + ops.pad(x[:, 12:13, :], ((0, 0), (4, x.shape[1] - 5), (0, 0))), skip


BLOCK_MISTAKES = {
    "stub": (stub, "not written yet"),
    "one conv feeding tanh and sigmoid": (one_conv_gate, "two separate Conv1D"),
    "tanh on both": (block_with(acts=("tanh", "tanh")), "the gate is sigmoid"),
    "sigmoid on both": (block_with(acts=("sigmoid", "sigmoid")), "the filter goes through tanh"),
    "ReLU gate": (block_with(acts=("tanh", "relu")), "not a ReLU"),
    "sum instead of product": (block_with(join="add"), "it does not add them"),
    "same padding": (block_with(padding="same"), "padding='causal'"),
    "dilation doubled": (block_with(dilation=lambda d: 2 * d), "not 6"),
    "dilation ignored": (block_with(dilation=lambda d: 1), "not 1"),
    "residual added before the 1×1 conv": (block_with(residual="before"), "apply the 1×1 conv to z first"),
    "skip taken after the residual add": (block_with(skip="residual"), "not of the residual sum"),
    "no 1×1 conv on the residual path": (block_with(residual="none"), "a 1×1 Conv1D each for the residual"),
    "skip without its 1×1 conv": (block_with(skip=None), "skip output shape"),
    "outputs swapped": (lambda *a, **k: block_with()(*a)[::-1], "residual output shape"),
    "a leak at one position only": (leaky_block, "only input 12 leaks"),
    "returns one tensor": (lambda x, r, s, d, name="block": block_with()(x, r, s, d)[0], "should return two tensors"),
    "builds on a new Input": (
        lambda x, r, s, d, name="block": block_with()(keras.Input(x.shape[1:]), r, s, d),
        "new Input",
    ),
}


@pytest.mark.parametrize("mistake", list(BLOCK_MISTAKES))
def test_wavenet_block_rejects(mistake):
    answer, fragment = BLOCK_MISTAKES[mistake]
    rejects(check.wavenet_block, answer, "Task 5", fragment)


def test_wavenet_block_accepts_correct_answers(capsys):
    accepts(check.wavenet_block, SOLUTION["wavenet_block"], capsys)
    # which conv is called "filter" is a name: sigmoid(first) · tanh(second) is the same block
    accepts(check.wavenet_block, block_with(acts=("sigmoid", "tanh")), capsys)

    def with_ops(x, residual_channels, skip_channels, dilation, name="block"):
        gate = layers.Conv1D(residual_channels, 2, dilation_rate=dilation, padding="causal")(x)
        filt = layers.Conv1D(residual_channels, 2, dilation_rate=dilation, padding="causal")(x)
        z = ops.multiply(ops.sigmoid(gate), ops.tanh(filt))
        return ops.add(layers.Conv1D(residual_channels, 1)(z), x), layers.Conv1D(skip_channels, 1)(z)

    def padded_and_nested(x, residual_channels, skip_channels, dilation, name="block"):
        def branch(act):
            return keras.Sequential(
                [layers.ZeroPadding1D((dilation, 0)), layers.Conv1D(residual_channels, 2, dilation_rate=dilation), act]
            )(x)

        z = branch(layers.Activation("tanh")) * branch(layers.Activation("sigmoid"))
        skip = layers.Conv1D(skip_channels, 1, padding="causal", dilation_rate=dilation)(z)  # harmless on a 1×1 conv
        return x + layers.Conv1D(residual_channels, 1)(z), skip

    def fused(x, residual_channels, skip_channels, dilation, name="b"):
        z = layers.Multiply()(
            [
                layers.Conv1D(residual_channels, 2, dilation_rate=dilation, padding="causal", activation=a)(x)
                for a in ("tanh", "sigmoid")
            ]
        )
        return layers.Add()([layers.Conv1D(residual_channels, 1)(z), x]), layers.Conv1D(skip_channels, 1)(z)

    for answer in (with_ops, padded_and_nested, fused):
        accepts(check.wavenet_block, answer, capsys)


# -- Task 6 · is_causal ------------------------------------------------------------------------
def reads_classes(model):
    return "int" in str(model.input.dtype)


def random_input(model, length, seed=0):
    rng = np.random.default_rng(seed)
    if reads_classes(model):
        return rng.integers(0, 16, size=(1, length)).astype("int32")
    return rng.normal(size=(1, length, model.input.shape[-1])).astype("float32")


def other(value, dtype):
    """Another input at one position: another class, or the float plus one."""
    return (value + 5) % 16 if np.issubdtype(dtype, np.integer) else value + 1.0


def probing(positions, outputs=lambda t0: slice(0, t0), exact=False, as_array=False):
    """A causality test that changes the input at `positions(length)` and compares `outputs(t0)`."""

    def answer(model, length):
        x = random_input(model, length)
        base = np.asarray(model(x))
        verdicts = []
        for t0 in positions(length):
            changed = x.copy()
            changed[0, t0] = other(changed[0, t0], x.dtype)
            same = np.array_equal if exact else np.allclose
            verdicts.append(same(np.asarray(model(changed))[0, outputs(t0)], base[0, outputs(t0)]))
        return np.array(verdicts) if as_array else bool(all(verdicts))

    return answer


def shape_only(model, length):
    return np.asarray(model(random_input(model, length))).shape[1] == length


def floats_only(model, length):  # the walkthrough's test: floats of shape (1, length, channels) for every model
    x = np.random.default_rng(0).normal(size=(1, length, model.input.shape[-1])).astype("float32")
    base = np.asarray(model(x))
    for t0 in range(1, length):
        changed = x.copy()
        changed[0, t0] += 1.0
        if not np.allclose(np.asarray(model(changed))[0, :t0], base[0, :t0], atol=1e-6):
            return False
    return True


def class_out_of_range(model, length):  # classes 0 … 255, as WaveNet's μ-law has: beyond the embedding's 16
    if not reads_classes(model):
        return probing(range)(model, length)
    x = np.random.default_rng(0).integers(0, 256, size=(1, length)).astype("int32")
    x[0, 0] = 200
    base = np.asarray(model(x))
    for t0 in range(1, length):
        changed = x.copy()
        changed[0, t0] = (changed[0, t0] + 100) % 256
        if not np.allclose(np.asarray(model(changed))[0, :t0], base[0, :t0], atol=1e-6):
            return False
    return True


def classes_unchanged(model, length):  # a class 'changed' by adding 16: the same class modulo the vocabulary
    if not reads_classes(model):
        return probing(range)(model, length)
    x = random_input(model, length)
    base = np.asarray(model(x))
    for t0 in range(1, length):
        changed = x.copy()
        changed[0, t0] = (changed[0, t0] + 16) % 16
        if not np.allclose(np.asarray(model(changed))[0, :t0], base[0, :t0], atol=1e-6):
            return False
    return True


CAUSAL_MISTAKES = {
    "stub": (stub, "not written yet"),
    "perturbs only the first position": (probing(lambda n: [0]), "is_causal(a stack with padding='same')"),
    "compares the outputs after the change": (
        probing(range, outputs=lambda t0: slice(t0, None)),
        "compare only the outputs before",
    ),
    "checks the output length only": (shape_only, "is_causal(a stack with padding='same')"),
    "probes two positions": (probing(lambda n: [1, n // 2]), "output 9 alone also reads input 15"),
    "misses the last position": (probing(lambda n: range(1, n - 1)), "output 22 alone also reads input 23"),
    "starts at position 2": (probing(lambda n: range(2, n)), "output 0 alone also reads input 1"),
    "compares only the output just before": (
        probing(lambda n: range(1, n), outputs=lambda t0: t0 - 1),
        "reads input t + 5",
    ),
    "returns an array of verdicts": (probing(lambda n: range(1, n), as_array=True), "True or False"),
    "returns None": (lambda model, length: None, "returned None"),
    "returns a string": (lambda model, length: "yes", "True or False"),
    "floats for every model (the walkthrough's test)": (floats_only, "reads integer classes of shape (batch, length)"),
    "classes beyond the embedding": (class_out_of_range, "reads integer classes"),
    "a class replaced by itself": (
        classes_unchanged,
        "is_causal(a WaveNet-like model reading classes, padding='same')",
    ),
}


@pytest.mark.parametrize("mistake", list(CAUSAL_MISTAKES))
def test_is_causal_rejects(mistake):
    answer, fragment = CAUSAL_MISTAKES[mistake]
    rejects(check.is_causal, answer, "Task 6", fragment)


def test_is_causal_accepts_correct_answers(capsys):
    accepts(check.is_causal, SOLUTION["is_causal"], capsys)

    def by_gradient(model, length):  # the dependency matrix (floats), the class probe otherwise
        import tensorflow as tf

        if reads_classes(model):
            return probing(range)(model, length)
        x = tf.random.normal((1, length, model.input.shape[-1]))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(model(x), axis=-1)[0]
        jacobian = np.abs(tape.jacobian(y, x).numpy()).sum(axis=(1, 3))
        return not np.triu(jacobian, k=1).any()

    def one_batch(model, length):  # every position changed at once, in one batch
        x = random_input(model, length, seed=1)
        batch = np.repeat(x, length, axis=0)
        for t0 in range(length):
            batch[t0, t0] = other(batch[t0, t0], x.dtype) if reads_classes(model) else batch[t0, t0] - 2.0
        y, base = np.asarray(model(batch)), np.asarray(model(x))
        return all(np.allclose(y[t0, :t0], base[0, :t0], atol=1e-5) for t0 in range(length))

    def random_changes(model, length):  # a random other class, or random noise, at each position
        rng = np.random.default_rng(3)
        x = random_input(model, length, seed=3)
        base = np.asarray(model(x))
        for t0 in range(length):
            changed = x.copy()
            if np.issubdtype(x.dtype, np.integer):
                changed[0, t0] = (x[0, t0] + rng.integers(1, 16)) % 16
            else:
                changed[0, t0] += rng.normal(size=x.shape[-1])
            if not np.allclose(np.asarray(model(changed))[0, :t0], base[0, :t0], atol=1e-6):
                return False
        return True

    for answer in (by_gradient, one_batch, random_changes):
        accepts(check.is_causal, answer, capsys)


# -- Task 7 · receptive_fields (by hand) --------------------------------------------------------------
RIGHT_FIELDS = {
    "one_cycle": 1024,
    "three_cycles": 3070,
    "kernel_3": 61,
    "with_input_conv": 2048,
    "cycles_for_one_second": 16,
}
FIELDS_MISTAKES = {
    "nothing set": (None, "still None"),
    "a list": (list(RIGHT_FIELDS.values()), "wrong type"),
    "a key missing": ({k: v for k, v in RIGHT_FIELDS.items() if k != "kernel_3"}, "keys"),
    "a float": (RIGHT_FIELDS | {"one_cycle": 1024.0}, "whole number"),
    "one cycle without the output's own sample": (RIGHT_FIELDS | {"one_cycle": 1023}, "own sample"),
    "three cycles as 3 · 1024": (RIGHT_FIELDS | {"three_cycles": 3072}, "1 + 3·1023"),
    "three cycles multiplied": (RIGHT_FIELDS | {"three_cycles": 1024**3}, "do not multiply"),
    "kernel 3 counted as kernel 2": (RIGHT_FIELDS | {"kernel_3": 31}, "2·d with k = 3"),
    "kernel 3 as k·d": (RIGHT_FIELDS | {"kernel_3": 91}, "not k·d"),
    "the input convolution forgotten": (RIGHT_FIELDS | {"with_input_conv": 2047}, "adds one sample"),
    "15 cycles (rounded down)": (RIGHT_FIELDS | {"cycles_for_one_second": 15}, "fewer than 16,000"),
    "17 cycles": (RIGHT_FIELDS | {"cycles_for_one_second": 17}, "already see"),
    "cycles as a fraction": (RIGHT_FIELDS | {"cycles_for_one_second": 15999 / 1023}, "whole number"),
}


@pytest.mark.parametrize("mistake", list(FIELDS_MISTAKES))
def test_receptive_fields_rejects(mistake):
    fields, *fragments = FIELDS_MISTAKES[mistake]
    rejects(check.receptive_fields, fields, "Task 7", *fragments)


def test_receptive_fields_accepts_correct_answers(capsys):
    cycle = 1023
    for fields in [
        SOLUTION["fields"],
        dict(RIGHT_FIELDS),
        {k: np.int64(v) for k, v in RIGHT_FIELDS.items()},
        {
            "one_cycle": SOLUTION["receptive_field"](2, [2**i for i in range(10)]),
            "three_cycles": 1 + 3 * cycle,
            "kernel_3": SOLUTION["receptive_field"](3, [1, 2, 4, 8] * 2),
            "with_input_conv": SOLUTION["receptive_field"](2, [1] + [2**i for i in range(10)] * 2),
            "cycles_for_one_second": math.ceil((16000 - 1) / cycle),
        },
    ]:
        accepts(check.receptive_fields, fields, capsys)


# -- Task 8 · training_pair ------------------------------------------------------------------------------
def pair_with(**mistake):
    return lambda classes, start, crop, field: check.training_pair_reference(classes, start, crop, field, **mistake)


PAIR_MISTAKES = {
    "stub": (stub, "not written yet"),
    "targets not shifted": (pair_with(shift=0), "shifted by one sample"),
    "targets two ahead": (pair_with(shift=2), "not two"),
    "no context": (pair_with(context=False), "field − 1 samples of context"),
    "targets for every output": (pair_with(trim=False), "count only the last `crop` outputs"),
    "the walkthrough's crop": (
        lambda classes, start, crop, field: (classes[start : start + crop], classes[start + 1 : start + crop + 1]),
        "field − 1 samples of context",
    ),
    "context after the crop": (
        lambda c, start, crop, field: (c[start : start + crop + field - 1], c[start + 1 : start + crop + 1]),
        "targets",
    ),
    "context of field samples": (
        lambda c, start, crop, field: (
            c[start : start + field + crop],
            c[start + field + 1 : start + field + crop + 1],
        ),
        "length of inputs",
    ),
    "returns one array": (lambda c, start, crop, field: c[start : start + crop], "two arrays"),
    "returns None": (lambda *a: None, "returned None"),
    "targets and inputs swapped": (
        lambda *a: check.training_pair_reference(*a)[::-1],
        "length of inputs",
    ),
    "classes read one place off": (
        lambda c, start, crop, field: check.training_pair_reference(np.roll(c, 1), start, crop, field),
        "inputs",
    ),
}


@pytest.mark.parametrize("mistake", list(PAIR_MISTAKES))
def test_training_pair_rejects(mistake):
    answer, *fragments = PAIR_MISTAKES[mistake]
    rejects(check.training_pair, answer, "Task 8", *fragments)


def test_training_pair_accepts_correct_answers(capsys):
    def by_windows(classes, start, crop, field):  # one sliding window of field + crop samples, split in two
        window = np.asarray(classes[start : start + field + crop])
        return window[:-1], window[field:]

    def as_lists(classes, start, crop, field):
        inputs = [int(c) for c in classes[start : start + field - 1 + crop]]
        return inputs, [int(classes[start + field + j]) for j in range(crop)]

    def with_ops(classes, start, crop, field):
        import keras

        x = keras.ops.convert_to_tensor(classes)
        return np.asarray(x[start : start + field - 1 + crop]), np.asarray(x[start + field : start + field + crop])

    for answer in (SOLUTION["training_pair"], by_windows, as_lists, with_ops):
        accepts(check.training_pair, answer, capsys)


# -- Task 9 · cached_stack_step -------------------------------------------------------------------------
def cached_with(taps_reversed=False, short=False, no_relu=False, shared=False, shift=False, zeros=True):
    """A cached step with one of the usual mistakes (shared: the queues outlive the function)."""
    store = {}

    def answer(weights, dilations):
        if shared and "queues" in store:
            queues = store["queues"]
        else:
            start = (lambda c: np.zeros(c)) if zeros else (lambda c: np.ones(c))
            queues = [
                [start(k.shape[1])] * ((k.shape[0] - 1) * d) for (k, _), d in zip(weights, dilations, strict=True)
            ]
            store["queues"] = queues
        previous = {}

        def step(x_t):
            h = np.asarray(x_t, "float64")
            for (kernel, bias), d, queue in zip(weights, dilations, queues, strict=True):
                k = kernel.shape[0]
                reads = [queue[j * d] for j in range(k - 1)] + [h]
                if taps_reversed:
                    reads = reads[::-1]
                if short:
                    y = queue[-d] @ kernel[-2] + h @ kernel[-1] + bias
                else:
                    y = sum(r @ kernel[j] for j, r in enumerate(reads)) + bias
                queue.append(h)
                queue.pop(0)
                h = y if no_relu else np.maximum(y, 0)
            out, previous["out"] = previous.get("out", np.zeros_like(h)), h
            return out if shift else h

        return step

    return answer


CACHED_MISTAKES = {
    "stub": (stub, "not written yet"),
    "taps in reverse order": (cached_with(taps_reversed=True), "kernel[k − 1] reads the current one"),
    "one past input per layer (kernel-2 habit)": (cached_with(short=True), "keep (k − 1)·d past inputs"),
    "no ReLU": (cached_with(no_relu=True), "each layer ends with a ReLU"),
    "queues shared between step functions": (cached_with(shared=True), "starts from empty queues"),
    "returns the previous step's output": (cached_with(shift=True), "the input just given"),
    "queues start at one": (cached_with(zeros=False), "values differ"),
    "returns the outputs, not a function": (lambda w, d: [0.0], "should return a function"),
    "returns None": (lambda w, d: None, "returned None"),
    "step returns a list of layer outputs": (
        lambda w, d: (lambda step: lambda x_t: [step(x_t), step(x_t)])(SOLUTION["cached_stack_step"](w, d)),
        "outputs",
    ),
    "recomputes a fixed window (no state)": (
        lambda w, d: lambda x_t: SOLUTION["cached_stack_step"](w, d)(x_t),
        "values differ",
    ),
}


@pytest.mark.parametrize("mistake", list(CACHED_MISTAKES))
def test_cached_stack_step_rejects(mistake):
    answer, *fragments = CACHED_MISTAKES[mistake]
    rejects(check.cached_stack_step, answer, "Task 9", *fragments)


def cached_by_history(weights, dilations):  # no queues: keep every input of every layer (correct, slower)
    histories = [[] for _ in weights]

    def step(x_t):
        h = np.asarray(x_t, "float64")
        for (kernel, bias), d, history in zip(weights, dilations, histories, strict=True):
            history.append(h)
            k, t = kernel.shape[0], len(history) - 1
            y = bias + sum(history[t - (k - 1 - j) * d] @ kernel[j] for j in range(k) if t - (k - 1 - j) * d >= 0)
            h = np.maximum(y, 0)
        return h

    return step


class CachedStack:
    """The cache as an object with a __call__, and collections.deque queues."""

    def __init__(self, weights, dilations):
        from collections import deque

        self.layers = [
            (
                kernel,
                bias,
                d,
                deque([np.zeros(kernel.shape[1])] * ((kernel.shape[0] - 1) * d), maxlen=(kernel.shape[0] - 1) * d),
            )
            for (kernel, bias), d in zip(weights, dilations, strict=True)
        ]

    def __call__(self, x_t):
        h = np.asarray(x_t, "float64")
        for kernel, bias, d, queue in self.layers:
            k = kernel.shape[0]
            past = list(queue)
            y = h @ kernel[k - 1] + bias + sum(past[j * d] @ kernel[j] for j in range(k - 1))
            queue.append(h)
            h = np.maximum(y, 0)
        return h


def cached_with_keras(
    weights, dilations
):  # the window each layer needs, run through a Keras Conv1D, one step at a time
    import keras

    convs, windows = [], []
    for (kernel, bias), d in zip(weights, dilations, strict=True):
        conv = keras.layers.Conv1D(kernel.shape[2], kernel.shape[0], dilation_rate=d, padding="valid")
        conv.build((None, None, kernel.shape[1]))
        conv.set_weights([kernel, bias])
        convs.append(conv)
        windows.append(np.zeros(((kernel.shape[0] - 1) * d, kernel.shape[1]), "float32"))

    def step(x_t):
        h = np.asarray(x_t, "float32")
        for i, conv in enumerate(convs):
            window = np.concatenate([windows[i], h[None]])
            windows[i] = window[1:]
            h = np.maximum(np.asarray(conv(window[None]))[0, -1], 0)
        return h

    return step


def test_cached_stack_step_accepts_correct_answers(capsys):
    for answer in (SOLUTION["cached_stack_step"], cached_by_history, CachedStack, cached_with_keras):
        accepts(check.cached_stack_step, answer, capsys)

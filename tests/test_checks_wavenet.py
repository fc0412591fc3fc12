"""Unit 11's checks reject the stub and typical wrong answers and accept correct ones."""

import math

import keras
import numpy as np
import pytest
from keras import layers

from cnn_course.checks import wavenet as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("11_wavenet")


# -- Task 1 · receptive_field ----------------------------------------------------------------
FIELD_MISTAKES = {
    "stub": (stub, "not written yet"),
    "off by one": (lambda k, d: (k - 1) * sum(d), "count the output's own input"),
    "k instead of k − 1": (lambda k, d: 1 + k * sum(d), "not k·d"),
    "dilations multiplied": (lambda k, d: k * math.prod(d), "do not multiply"),
    "largest dilation only": (lambda k, d: 1 + (k - 1) * max(d), "expected"),
    "a float": (lambda k, d: 1.0 + (k - 1) * sum(d), "should be an int"),
}


@pytest.mark.parametrize("mistake", list(FIELD_MISTAKES))
def test_receptive_field_rejects(mistake):
    answer, fragment = FIELD_MISTAKES[mistake]
    rejects(check.receptive_field, answer, "Task 1", fragment)


def test_receptive_field_accepts_correct_answers(capsys):
    accepts(check.receptive_field, SOLUTION["receptive_field"], capsys)
    accepts(check.receptive_field, lambda k, dilations: sum((k - 1) * d for d in dilations) + 1, capsys)


# -- Tasks 2 and 3 · μ-law ----------------------------------------------------------------------
def encode_with(sign=True, fixed_mu=None, rounding=np.rint, as_int=True):
    def answer(x, mu=255):
        m = fixed_mu or mu
        magnitude = np.log1p(m * np.abs(x)) / np.log1p(m)
        y = np.sign(x) * magnitude if sign else np.log1p(m * np.abs(x)) / np.log1p(m)
        q = rounding((y + 1) / 2 * m)
        return q.astype(int) if as_int else q

    return answer


ENCODE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "no sign": (encode_with(sign=False), "keep the sign"),
    "μ fixed at 255": (encode_with(fixed_mu=255), "use the `mu` argument"),
    "truncated instead of rounded": (encode_with(rounding=np.floor), "round to the nearest class"),
    "floats, not classes": (encode_with(as_int=False), "integer classes"),
    "returns y in [-1, 1]": (lambda x, mu=255: np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu), "integer classes"),
}


@pytest.mark.parametrize("mistake", list(ENCODE_MISTAKES))
def test_mu_law_encode_rejects(mistake):
    answer, fragment = ENCODE_MISTAKES[mistake]
    rejects(check.mu_law_encode, answer, "Task 2", fragment)


def decode_with(sign=True, fixed_mu=None, no_rescale=False):
    def answer(q, mu=255):
        m = fixed_mu or mu
        y = np.asarray(q) / m if no_rescale else 2 * np.asarray(q) / m - 1
        magnitude = ((1 + m) ** np.abs(y) - 1) / m
        return np.sign(y) * magnitude if sign else magnitude

    return answer


DECODE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "no sign": (decode_with(sign=False), "keep the sign"),
    "μ fixed at 255": (decode_with(fixed_mu=255), "use the `mu` argument"),
    "classes not mapped to [-1, 1]": (decode_with(no_rescale=True), "y = 2q/μ − 1"),
    "returns the classes": (lambda q, mu=255: np.asarray(q, dtype=float), "expected"),
}


@pytest.mark.parametrize("mistake", list(DECODE_MISTAKES))
def test_mu_law_decode_rejects(mistake):
    answer, fragment = DECODE_MISTAKES[mistake]
    rejects(check.mu_law_decode, answer, "Task 3", fragment)


def test_mu_law_accepts_correct_answers(capsys):
    accepts(check.mu_law_encode, SOLUTION["mu_law_encode"], capsys)
    accepts(check.mu_law_decode, SOLUTION["mu_law_decode"], capsys)
    accepts(  # np.log instead of np.log1p, floor(v + 0.5) instead of rint, int32
        check.mu_law_encode,
        lambda x, mu=255: np.floor(
            (np.sign(x) * np.log(1 + mu * np.abs(x)) / np.log(1 + mu) + 1) / 2 * mu + 0.5
        ).astype(np.int32),
        capsys,
    )
    accepts(
        check.mu_law_decode,
        lambda q, mu=255: np.sign(2 * q / mu - 1) * np.expm1(np.abs(2 * q / mu - 1) * np.log1p(mu)) / mu,
        capsys,
    )


# -- Task 4 · causal_dilated_stack --------------------------------------------------------------
def stack_with(padding="causal", order=lambda d: d, fixed=None, relu=True, left_pad=False):
    def answer(x, filters, kernel_size, dilations, name="stack"):
        for d in order(list(dilations)):
            d = fixed or d
            if left_pad:
                x = layers.ZeroPadding1D(((kernel_size - 1) * d, 0))(x)
            x = layers.Conv1D(filters, kernel_size, dilation_rate=d, padding="valid" if left_pad else padding)(x)
            if relu:
                x = layers.ReLU()(x)
        return x

    return answer


STACK_MISTAKES = {
    "stub": (stub, "not written yet"),
    "same padding": (stack_with(padding="same"), "padding='causal'"),
    "valid padding": (stack_with(padding="valid"), "keeps the length"),
    "dilations in reverse order": (stack_with(order=lambda d: d[::-1]), "in the order given"),
    "no dilation": (stack_with(fixed=1), "one Conv1D per dilation"),
    "no ReLU": (stack_with(relu=False), "followed by a ReLU"),
}


@pytest.mark.parametrize("mistake", list(STACK_MISTAKES))
def test_causal_dilated_stack_rejects(mistake):
    answer, fragment = STACK_MISTAKES[mistake]
    rejects(check.causal_dilated_stack, answer, "Task 4", fragment)


def test_causal_dilated_stack_accepts_correct_answers(capsys):
    accepts(check.causal_dilated_stack, SOLUTION["causal_dilated_stack"], capsys)
    accepts(check.causal_dilated_stack, stack_with(left_pad=True), capsys)  # zeros on the left, then "valid"


# -- Task 5 · wavenet_block ---------------------------------------------------------------------
def block_with(gate="sigmoid", filter_act="tanh", residual="after", skip=True, padding="causal", dilation_used=None):
    def answer(x, residual_channels, skip_channels, dilation, name="block"):
        d = dilation_used or dilation
        f = layers.Conv1D(residual_channels, 2, dilation_rate=d, padding=padding)(x)
        g = layers.Conv1D(residual_channels, 2, dilation_rate=d, padding=padding)(x)
        z = layers.Multiply()([layers.Activation(filter_act)(f), layers.Activation(gate)(g)])
        if residual == "after":
            out = layers.Add()([x, layers.Conv1D(residual_channels, 1)(z)])
        elif residual == "before":  # the sum goes through the 1×1 conv
            out = layers.Conv1D(residual_channels, 1)(layers.Add()([x, z]))
        else:  # no 1×1 conv on the residual path
            out = layers.Add()([x, z])
        s = layers.Conv1D(skip_channels, 1)(z) if skip else z
        return out, s

    return answer


BLOCK_MISTAKES = {
    "stub": (stub, "not written yet"),
    "gate with ReLU": (block_with(gate="relu"), "no ReLU"),
    "ReLU instead of tanh": (block_with(filter_act="relu"), "no ReLU"),
    "residual added before the 1×1 conv": (
        block_with(residual="before"),
        "apply the 1×1 conv to the gated activation z first",
    ),
    "no 1×1 conv on the residual path": (block_with(residual="none"), "residual output should equal the input"),
    "skip without its 1×1 conv": (block_with(skip=False), "skip output shape"),
    "same padding": (block_with(padding="same"), "padding='causal'"),
    "dilation ignored": (block_with(dilation_used=1), "reads the samples t − 4 and t"),
    "returns one tensor": (lambda x, r, s, d, name="block": block_with()(x, r, s, d)[0], "should return two tensors"),
}


@pytest.mark.parametrize("mistake", list(BLOCK_MISTAKES))
def test_wavenet_block_rejects(mistake):
    answer, fragment = BLOCK_MISTAKES[mistake]
    rejects(check.wavenet_block, answer, "Task 5", fragment)


def test_wavenet_block_accepts_correct_answers(capsys):
    accepts(check.wavenet_block, SOLUTION["wavenet_block"], capsys)

    def one_conv_split(x, residual_channels, skip_channels, dilation, name="block"):
        both = layers.Conv1D(2 * residual_channels, 2, dilation_rate=dilation, padding="causal")(x)
        f, g = keras.ops.split(both, 2, axis=-1)
        z = keras.ops.tanh(f) * keras.ops.sigmoid(g)
        return x + layers.Conv1D(residual_channels, 1)(z), layers.Conv1D(skip_channels, 1)(z)

    accepts(check.wavenet_block, one_conv_split, capsys)


# -- Task 6 · is_causal ------------------------------------------------------------------------
def only_first_position(model, length):
    x = np.random.default_rng(0).normal(size=(1, length, model.input.shape[-1])).astype("float32")
    changed = x.copy()
    changed[0, 0] += 1.0
    return bool(np.allclose(np.asarray(model(changed))[0, :0], np.asarray(model(x))[0, :0]))


def compares_after(model, length):
    x = np.random.default_rng(0).normal(size=(1, length, model.input.shape[-1])).astype("float32")
    for t0 in range(length - 1):
        changed = x.copy()
        changed[0, t0] += 1.0
        if not np.allclose(np.asarray(model(changed))[0, t0:], np.asarray(model(x))[0, t0:]):
            return False
    return True


def shape_only(model, length):
    x = np.zeros((1, length, model.input.shape[-1]), "float32")
    return np.asarray(model(x)).shape[1] == length


CAUSAL_MISTAKES = {
    "stub": (stub, "not written yet"),
    "perturbs only the first position": (only_first_position, "at every position"),
    "compares the outputs after the change": (compares_after, "compare only the outputs before it"),
    "checks the output length only": (shape_only, "at every position"),
    "returns None": (lambda model, length: None, "returned None"),
    "returns a string": (lambda model, length: "yes", "True or False"),
}


@pytest.mark.parametrize("mistake", list(CAUSAL_MISTAKES))
def test_is_causal_rejects(mistake):
    answer, fragment = CAUSAL_MISTAKES[mistake]
    rejects(check.is_causal, answer, "Task 6", fragment)


def test_is_causal_accepts_correct_answers(capsys):
    accepts(check.is_causal, SOLUTION["is_causal"], capsys)

    def by_gradient(model, length):  # the dependency matrix: nothing above the diagonal
        import tensorflow as tf

        x = tf.random.normal((1, length, model.input.shape[-1]))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(model(x), axis=-1)[0]
        jacobian = np.abs(tape.jacobian(y, x).numpy()).sum(axis=(1, 3))
        return not np.triu(jacobian, k=1).any()

    accepts(check.is_causal, by_gradient, capsys)

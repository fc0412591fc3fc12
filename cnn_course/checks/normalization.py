"""Checks for unit 10 (normalisation): BatchNorm, LayerNorm, InstanceNorm and GroupNorm in NumPy.

The expected outputs come from the Keras layers that compute the same thing
(``BatchNormalization`` in training and inference mode, ``GroupNormalization``
with 1, C and G groups), built inside the check with the learner's γ, β and ε.
When an answer is wrong, the check recomputes the usual mistakes — other axes,
the sample variance, ε outside the square root — to name the one that was made.
"""

import itertools

import numpy as np

from cnn_course.checks import Task, is_whole_number

SHAPE = (3, 4, 5, 6)  # N, H, W, C all different, so wrong axes or broadcasts show
AXIS_NAMES = "NHWC"


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=SHAPE) * rng.uniform(0.5, 3.0, size=SHAPE[-1]) + rng.normal(size=SHAPE[-1]) * 3
    x[..., 0] *= 0.02  # a channel with a variance near ε: ε's place matters there
    gamma = rng.uniform(0.5, 2.0, size=SHAPE[-1])
    beta = rng.normal(size=SHAPE[-1])
    return x.astype("float32"), gamma.astype("float32"), beta.astype("float32")


def _keras(layer, x, weights, training=True):
    layer.build(x.shape)
    layer.set_weights(weights + [np.asarray(w) for w in layer.weights[len(weights) :]])  # e.g. BN's moving statistics
    return np.asarray(layer(x, training=training))


def _variant(x, axes, gamma, beta, eps, ddof=0, eps_inside=True, groups=None):
    """The same normalisation computed with a possible mistake, to recognise it in a wrong answer."""
    n, h, w, c = x.shape
    data = x.reshape(n, h, w, groups, c // groups) if groups else x
    mean = data.mean(axis=axes, keepdims=True)
    var = data.var(axis=axes, keepdims=True, ddof=ddof)
    scale = np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps
    return gamma * ((data - mean) / scale).reshape(x.shape) + beta


KNOWN_AXES = {
    (0, 1, 2): "BatchNorm",
    (1, 2, 3): "LayerNorm",
    (1, 2): "InstanceNorm",
    (3,): "Keras's LayerNormalization() default",
}
GROUP_AXES = {  # axes of x reshaped to (N, H, W, groups, channels per group)
    (0, 1, 2, 4): "the whole batch for each group",
    (1, 2): "each channel on its own — that is InstanceNorm",
    (1, 2, 3, 4): "all channels of a sample — that is LayerNorm",
}


def _axes_name(axes):
    return "(" + ", ".join(AXIS_NAMES[a] for a in axes) + ")"


def _diagnose(got, x, gamma, beta, eps, right_axes, groups=None):
    """A hint naming the mistake, found by recomputing the usual ones."""
    if groups:
        wrong_axes = {
            axes: f"you normalised over {label}; GroupNorm uses H, W and the channels of one group"
            for axes, label in GROUP_AXES.items()
        }
    else:
        wrong_axes = {}
        for axes in (a for r in (1, 2, 3, 4) for a in itertools.combinations(range(4), r) if a != right_axes):
            like = f" — that is {KNOWN_AXES[axes]}" if axes in KNOWN_AXES else ""
            wrong_axes[axes] = (
                f"you normalised over axes {_axes_name(axes)}{like}; this method uses {_axes_name(right_axes)}"
            )
    for axes, hint in wrong_axes.items():
        if np.allclose(got, _variant(x, axes, gamma, beta, eps, groups=groups), atol=1e-4):
            return hint
    mistakes = [
        (
            dict(ddof=1),
            "use the population variance (divide by the number of values: np.var's default ddof=0), as Keras does",
        ),
        (dict(eps_inside=False), "ε goes inside the square root: (x − μ) / sqrt(σ² + ε)"),
        (dict(gamma=1.0, beta=0.0), "apply γ and β: γ · x̂ + β"),
        (dict(gamma=beta, beta=gamma), "γ multiplies, β is added: γ · x̂ + β"),
    ]
    for change, hint in mistakes:
        arguments = dict(gamma=gamma, beta=beta, eps=eps, groups=groups) | change
        if np.allclose(got, _variant(x, right_axes, **arguments), atol=1e-4):
            return hint
    return "(x − mean) / sqrt(variance + ε) over the right axes, then γ · x̂ + β per channel"


def _array_answer(t, fn, args, what, shape):
    got = t.call(fn, args, what=what, hint="γ and β have one value per channel: they broadcast over the last axis")
    try:
        got = np.asarray(got, dtype="float64")
    except (TypeError, ValueError):
        t.fail(f"{what} should return an array", "a NumPy array", type(got).__name__)
    t.equal(f"{what}: output shape", got.shape, shape, "normalisation keeps the input's shape (use keepdims=True)")
    return got


def _normalisation_task(number, name, fn, keras_layer, right_axes, groups=None, extra=()):
    with Task(number, name) as t:
        t.function(fn, name)
        for seed, eps in [(0, 1e-3), (1, 1e-5)]:
            x, gamma, beta = _batch(seed)
            what = f"{name}(x, {', '.join(extra)}{', ' if extra else ''}gamma, beta, eps={eps}) on x of shape {SHAPE}"
            args = (x, *(groups,) * bool(extra), gamma, beta, eps)
            got = _array_answer(t, fn, args, what, x.shape)
            expected = _keras(keras_layer(eps), x, [gamma, beta])
            ok = np.allclose(got, expected, atol=1e-4, rtol=1e-4)
            hint = None if ok else _diagnose(got, x, gamma, beta, eps, right_axes, groups)
            t.close(f"{what}: values", got, expected, hint, atol=1e-4)


def batch_norm(fn):
    """Task 1: BatchNorm in training mode: statistics over N, H, W for each channel."""
    from keras import layers

    _normalisation_task(1, "batch_norm", fn, lambda eps: layers.BatchNormalization(epsilon=eps), (0, 1, 2))


def layer_norm(fn):
    """Task 2: LayerNorm: statistics over H, W, C of each sample."""
    from keras import layers

    _normalisation_task(2, "layer_norm", fn, lambda eps: layers.GroupNormalization(groups=1, epsilon=eps), (1, 2, 3))


def instance_norm(fn):
    """Task 3: InstanceNorm: statistics over H, W of each channel of each sample."""
    from keras import layers

    _normalisation_task(3, "instance_norm", fn, lambda eps: layers.GroupNormalization(groups=-1, epsilon=eps), (1, 2))


def group_norm(fn):
    """Task 4: GroupNorm with 3 groups of 2 channels: statistics over H, W and the group's channels."""
    from keras import layers

    _normalisation_task(
        4,
        "group_norm",
        fn,
        lambda eps: layers.GroupNormalization(groups=3, epsilon=eps),
        (1, 2, 4),
        groups=3,
        extra=("groups=3",),
    )


def batch_norm_inference(fn):
    """Task 5: BatchNorm at inference, from the moving statistics."""
    from keras import layers

    with Task(5, "batch_norm_inference") as t:
        t.function(fn, "batch_norm_inference")
        for seed, eps in [(0, 1e-3), (1, 1e-5)]:
            x, gamma, beta = _batch(seed)
            rng = np.random.default_rng(seed + 10)
            moving_mean = rng.normal(size=SHAPE[-1]).astype("float32")
            moving_var = rng.uniform(0.5, 2.0, size=SHAPE[-1]).astype("float32")
            moving_var[0] = 1e-3
            what = f"batch_norm_inference(x, moving_mean, moving_variance, gamma, beta, eps={eps})"
            got = _array_answer(t, fn, (x, moving_mean, moving_var, gamma, beta, eps), what, x.shape)
            expected = _keras(
                layers.BatchNormalization(epsilon=eps), x, [gamma, beta, moving_mean, moving_var], training=False
            )
            hint = None
            if np.allclose(got, _variant(x, (0, 1, 2), gamma, beta, eps), atol=1e-4):
                hint = "at inference BatchNorm uses the moving statistics it learned in training, not the batch's own"
            elif np.allclose(got, gamma * (x - moving_mean) / (np.sqrt(moving_var) + eps) + beta, atol=1e-4):
                hint = "ε goes inside the square root: sqrt(moving_variance + ε)"
            else:
                hint = "γ · (x − moving_mean) / sqrt(moving_variance + ε) + β"
            t.close(f"{what}: values", got, expected, hint, atol=1e-4)


STATISTICS_SHAPE, STATISTICS_GROUPS = (32, 14, 14, 64), 16


def statistics_count(counts):
    """Task 6: (mean, variance) pairs per method for a 32×14×14×64 batch, GroupNorm with 16 groups."""
    n, h, w, c = STATISTICS_SHAPE
    expected = {"batch": c, "layer": n, "instance": n * c, "group": n * STATISTICS_GROUPS}
    with Task(6, "statistics_count") as t:
        t.value(counts, "counts", dict)
        t.equal(
            "the keys of `counts`",
            sorted(counts),
            sorted(expected),
            "keep the keys 'batch', 'layer', 'instance', 'group'",
        )
        wrong = {
            n
            * h
            * w: "that is the number of values each BatchNorm statistic pools (N·H·W), not the number of statistics",
            h
            * w
            * c: "that is the number of values each LayerNorm statistic pools (H·W·C), not the number of statistics",
            h * w: "that is the number of values each InstanceNorm statistic pools (H·W), not the number of statistics",
        }
        for key, value in expected.items():
            got = counts[key]
            t.expect(
                is_whole_number(got) and got == value,
                f"counts[{key!r}]",
                value,
                got,
                wrong.get(got, "one statistic for every group of values that share a mean and a variance"),
            )

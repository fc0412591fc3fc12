"""Checks for unit 10 (normalisation): BatchNorm, LayerNorm, InstanceNorm and GroupNorm in NumPy.

The expected outputs come from the Keras layers that compute the same thing
(``BatchNormalization`` in training and inference mode, ``GroupNormalization``
with 1, C and G groups), built inside the check with the check's γ (of both
signs), β and ε, on batches whose mean and spread differ per sample and per
channel, in shapes where N, H, W and C all differ; GroupNorm is tried with
1, 2, 3, C groups and on a second shape. When an answer is wrong, the check
recomputes the usual mistakes (other axes, strided groups, the sample variance,
ε outside the square root, ...) to name the one that was made.
"""

import itertools
import re

import numpy as np

from cnn_course.checks import Task, is_whole_number

SHAPES = [((3, 5, 7, 6), None, 1e-3), ((4, 3, 5, 9), None, 1e-5)]  # N, H, W, C all different, not all even
GROUP_CASES = [((3, 5, 7, 6), g, eps) for g, eps in [(2, 1e-3), (3, 1e-5), (1, 1e-3), (6, 1e-5)]] + [
    ((2, 3, 5, 12), 4, 1e-3)  # consecutive and strided groups differ for 2, 3 and 4 groups
]
AXIS_NAMES = "NHWC"


def _batch(shape, seed=0):
    """x with a mean and spread of its own for every sample and channel; γ of both signs, β ≠ 0."""
    rng = np.random.default_rng(seed)
    n, _, _, c = shape
    x = rng.normal(size=shape) * rng.uniform(0.5, 3.0, (n, 1, 1, c)) + rng.normal(size=(n, 1, 1, c)) * 3
    x[..., 0] *= 0.02  # a channel and a sample with a variance near ε: ε's value and place matter there
    x[0] *= 0.02
    gamma = rng.uniform(0.5, 2.0, c) * np.resize([1, -1], c)
    return x.astype("float32"), gamma.astype("float32"), rng.normal(size=c).astype("float32")


def _keras(layer, x, weights, training=True):
    layer.build(x.shape)
    layer.set_weights(weights + [np.asarray(w) for w in layer.weights[len(weights) :]])  # e.g. BN's moving statistics
    return np.asarray(layer(x, training=training))


def _variant(x, gamma, beta, eps, axes, groups=None, ddof=0, eps_inside=True, strided=False):
    """The normalisation computed with a possible mistake, to recognise it in a wrong answer."""
    n, h, w, c = x.shape
    x = x.astype("float64")
    data = x.reshape(n, h, w, *((c // groups, groups) if strided else (groups, c // groups))) if groups else x
    axes = tuple({3: 4, 4: 3}.get(a, a) for a in axes) if strided else axes
    mean = data.mean(axis=axes, keepdims=True)
    var = data.var(axis=axes, keepdims=True, ddof=ddof)
    scale = np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps
    return gamma * ((data - mean) / scale).reshape(x.shape) + beta


KNOWN_AXES = {(0, 1, 2): "BatchNorm", (1, 2, 3): "LayerNorm", (1, 2): "InstanceNorm", (3,): "LayerNormalization()"}
GROUP_AXES = {  # axes of x reshaped to (N, H, W, groups, channels per group)
    (0, 1, 2, 4): "the whole batch for each group",
    (1, 2): "each channel on its own — that is InstanceNorm",
    (1, 2, 3, 4): "all channels of a sample — that is LayerNorm",
}


def _axes_name(axes):
    return "(" + ", ".join(AXIS_NAMES[a] for a in axes) + ")"


def _mistakes(right_axes, groups, gamma, beta, c):
    """(changes to the right computation, hint) for the usual mistakes, in the order they are tried."""
    if groups:
        for axes, label in GROUP_AXES.items():
            yield dict(axes=axes), f"you normalised over {label}; GroupNorm uses H, W and the channels of one group"
        yield dict(strided=True), "a group is consecutive channels: reshape to (N, H, W, groups, C // groups)"
        for other in (d for d in range(1, c + 1) if c % d == 0 and d != groups):
            size = (
                ": `groups` is the number of groups, not the number of channels in each" if other == c // groups else ""
            )
            yield dict(groups=other), f"your answer makes {other} groups where `groups` is {groups}{size}"
    else:
        for axes in (a for r in (1, 2, 3, 4) for a in itertools.combinations(range(4), r) if a != right_axes):
            like = f" — that is {KNOWN_AXES[axes]}" if axes in KNOWN_AXES else ""
            yield (
                dict(axes=axes),
                f"you normalised over axes {_axes_name(axes)}{like}; this one uses {_axes_name(right_axes)}",
            )
    yield dict(ddof=1), "use the population variance (divide by the number of values: np.var's default ddof=0)"
    yield dict(eps_inside=False), "ε goes inside the square root: (x − μ) / sqrt(σ² + ε)"
    yield dict(eps=1e-3), "use the `eps` argument, not a fixed 1e-3"
    yield dict(gamma=1.0, beta=0.0), "apply γ and β: γ · x̂ + β"
    yield dict(gamma=beta, beta=gamma), "γ multiplies, β is added: γ · x̂ + β"
    if groups:
        per_group = dict(gamma=np.repeat(gamma[:groups], c // groups), beta=np.repeat(beta[:groups], c // groups))
        yield per_group, "γ and β have one value per channel (C values), not one per group"


def _diagnose(got, x, gamma, beta, eps, right_axes, groups=None):
    """A hint naming the mistake, found by recomputing the usual ones."""
    right = dict(gamma=gamma, beta=beta, eps=eps, axes=right_axes, groups=groups)
    for change, hint in _mistakes(right_axes, groups, gamma, beta, x.shape[-1]):
        if np.allclose(got, _variant(x, **(right | change)), atol=1e-4):
            return hint
    return "(x − mean) / sqrt(variance + ε) over the right axes, then γ · x̂ + β per channel"


def _broadcast_hint(err):
    """For NumPy's broadcast error: statistics that lost their axes (keepdims), or γ reshaped."""
    text = str(err)
    shapes = [tuple(int(v) for v in s.split(",") if v) for s in re.findall(r"\(([\d,]+)\)", text.replace(" ", ""))]
    if "cannot reshape" in text:  # a statistic without its axes broadcast x to a larger array
        return "keep the reduced axes (keepdims=True): the statistics then broadcast against x without growing it"
    if "broadcast" not in text or len(shapes) < 2:
        return None
    largest = max(shapes, key=len)

    def reduced(shape):  # the largest shape with some axes left out, as a reduction without keepdims leaves it
        rest = iter(largest)
        return shape != largest and all(v in rest for v in shape)

    if any(map(reduced, shapes)):
        return "keep the reduced axes (keepdims=True) so that the mean and variance broadcast against x"
    return "γ and β have one value per channel, shape (C,): they broadcast over the last axis as they are"


def _array_answer(t, fn, args, what, shape):
    """Call the learner's function on copies; its answer as an array of the input's shape, the inputs untouched."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    got = t.call(fn, copies, what=what, hint=_broadcast_hint)
    changed = [i for i, (a, b) in enumerate(zip(args, copies, strict=True)) if not np.array_equal(a, b)]
    if changed:
        hint = "compute on new arrays (x − mean), not in place (x −= mean): the caller's array is changed"
        t.fail(f"{what} changed its arguments", "x, γ and β untouched", f"argument {changed[0] + 1} changed", hint)
    got = t.array(got, what)
    t.equal(f"{what}: output shape", got.shape, shape, "normalisation keeps the input's shape (use keepdims=True)")
    return got


def _normalisation_task(number, name, fn, layer, right_axes, cases=SHAPES):
    with Task(number, name) as t:
        t.function(fn, name)
        for seed, (shape, groups, eps) in enumerate(cases):
            x, gamma, beta = _batch(shape, seed)
            shown = f"groups={groups}, " if groups else ""
            what = f"{name}(x, {shown}gamma, beta, eps={eps}) on x of shape {shape}"
            args = (x, groups, gamma, beta, eps) if groups else (x, gamma, beta, eps)
            got = _array_answer(t, fn, args, what, x.shape)
            expected = _keras(layer(eps, groups), x, [gamma, beta])
            ok = np.allclose(got, expected, atol=1e-4, rtol=1e-4)
            hint = None if ok else _diagnose(got, x, gamma, beta, eps, right_axes, groups)
            t.close(f"{what}: values", got, expected, hint, atol=1e-4)


def batch_norm(fn):
    """Task 1: BatchNorm in training mode: statistics over N, H, W for each channel."""
    from keras import layers

    _normalisation_task(1, "batch_norm", fn, lambda eps, _: layers.BatchNormalization(epsilon=eps), (0, 1, 2))


def layer_norm(fn):
    """Task 2: LayerNorm: statistics over H, W, C of each sample."""
    from keras import layers

    _normalisation_task(2, "layer_norm", fn, lambda eps, _: layers.GroupNormalization(1, epsilon=eps), (1, 2, 3))


def instance_norm(fn):
    """Task 3: InstanceNorm: statistics over H, W of each channel of each sample."""
    from keras import layers

    _normalisation_task(3, "instance_norm", fn, lambda eps, _: layers.GroupNormalization(-1, epsilon=eps), (1, 2))


def group_norm(fn):
    """Task 4: GroupNorm with 1, 2, 3, C groups of consecutive channels: statistics over H, W and a group."""
    from keras import layers

    make = lambda eps, groups: layers.GroupNormalization(groups, epsilon=eps)  # noqa: E731
    _normalisation_task(4, "group_norm", fn, make, (1, 2, 4), GROUP_CASES)


def _inference_hint(got, x, mean, var, gamma, beta, eps):
    """The hint of the usual mistake that gives the learner's values."""

    right_scale = np.sqrt(var + eps)

    def bn(m=mean, s=right_scale, g=gamma, b=beta):
        return g * (x - m) / s + b

    with np.errstate(all="ignore"):
        variants = {
            "at inference BatchNorm uses the moving statistics, not the batch's own": _variant(
                x, gamma, beta, eps, (0, 1, 2)
            ),
            "ε goes inside the square root: sqrt(moving_variance + ε)": bn(s=np.sqrt(var) + eps),
            "add ε to the variance: sqrt(moving_variance + ε)": bn(s=np.sqrt(var)),
            "moving_variance is a variance: divide by its square root": bn(s=var + eps),
            "the arguments are (x, moving_mean, moving_variance, …): mean and variance swapped": bn(
                m=var, s=np.sqrt(mean + eps)
            ),
            "apply γ and β: γ · x̂ + β": bn(g=1.0, b=0.0),
            "add β: γ · x̂ + β": bn(b=0.0),
        }
        for hint, values in variants.items():
            if np.allclose(got, values, atol=1e-4, equal_nan=True):
                return hint
    return "γ · (x − moving_mean) / sqrt(moving_variance + ε) + β"


def batch_norm_inference(fn):
    """Task 5: BatchNorm at inference, from the moving statistics."""
    from keras import layers

    with Task(5, "batch_norm_inference") as t:
        t.function(fn, "batch_norm_inference")
        for seed, (shape, _, eps) in enumerate(SHAPES):
            x, gamma, beta = _batch(shape, seed)
            rng = np.random.default_rng(seed + 10)
            mean, var = rng.normal(size=shape[-1]).astype("float32"), rng.uniform(0.3, 3.0, shape[-1]).astype("float32")
            var[0] = 1e-3  # ε's place and presence matter there
            what = (
                f"batch_norm_inference(x, moving_mean, moving_variance, gamma, beta, eps={eps}) on x of shape {shape}"
            )
            got = _array_answer(t, fn, (x, mean, var, gamma, beta, eps), what, x.shape)
            expected = _keras(layers.BatchNormalization(epsilon=eps), x, [gamma, beta, mean, var], training=False)
            hint = _inference_hint(got, x.astype("float64"), mean, var, gamma, beta, eps)
            t.close(f"{what}: values", got, expected, hint)


STATISTICS_SHAPE, STATISTICS_GROUPS = (32, 14, 14, 64), 16


def statistics_count(counts):
    """Task 6: (mean, variance) pairs per method for a 32×14×14×64 batch, GroupNorm with 16 groups."""
    n, h, w, c = STATISTICS_SHAPE
    g = STATISTICS_GROUPS
    expected = {"batch": c, "layer": n, "instance": n * c, "group": n * g}
    pooled = "that is how many values each statistic pools, not how many statistics there are"
    wrong = {  # per key: a wrong count and the reason behind it
        "batch": {n * h * w: pooled, n: "BatchNorm has one statistic per channel (over N, H, W), not per sample"},
        "layer": {h * w * c: pooled, c: "LayerNorm has one statistic per sample, not per channel", 1: "one per sample"},
        "instance": {h * w: pooled, c: "InstanceNorm has one per channel of each sample: N · C", n: "one per channel"},
        "group": {g: "GroupNorm has one per group of each sample: N · G", n * c // g: "N · G, not N · C / G"},
    }
    wrong["group"][h * w * c // g] = pooled
    with Task(6, "statistics_count") as t:
        t.value(counts, "counts", dict)
        t.equal("the keys of `counts`", sorted(counts), sorted(expected), "keep 'batch', 'layer', 'instance', 'group'")
        for key, value in expected.items():
            got = counts[key]
            hint = wrong[key].get(got, "one statistic for every set of values that share a mean and a variance")
            t.expect(is_whole_number(got), f"counts[{key!r}] should be a whole number", "an int", got, "write an int")
            t.equal(f"counts[{key!r}]", got, value, hint)

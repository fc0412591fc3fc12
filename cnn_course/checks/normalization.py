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
from cnn_course.i18n import N_, _

SHAPES = [((3, 5, 7, 6), None, 1e-3), ((4, 3, 5, 9), None, 1e-5)]  # N, H, W, C all different, not all even
GROUP_CASES = [((3, 5, 7, 6), g, eps) for g, eps in [(2, 1e-3), (3, 1e-5), (1, 1e-3), (6, 1e-5)]] + [
    ((2, 3, 5, 12), 4, 1e-3)  # consecutive and strided groups differ for 2, 3 and 4 groups
]
GROUP_ANY_RANK = [((3, 8, 6), 2, 1e-3), ((2, 3, 4, 5, 6), 3, 1e-5)]  # (N, L, C) and (N, D, H, W, C)
AXIS_NAMES = "NHWC"


def _batch(shape, seed=0):
    """x with a mean and spread of its own for every sample and channel; γ of both signs, β ≠ 0."""
    rng = np.random.default_rng(seed)
    n, c, ones = shape[0], shape[-1], (1,) * (len(shape) - 2)
    x = rng.normal(size=shape) * rng.uniform(0.5, 3.0, (n, *ones, c)) + rng.normal(size=(n, *ones, c)) * 3
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
    (0, 1, 2, 4): N_("the whole batch for each group"),
    (1, 2): N_("each channel on its own — that is InstanceNorm"),
    (1, 2, 3, 4): N_("all channels of a sample — that is LayerNorm"),
}


def _axes_name(axes):
    return "(" + ", ".join(AXIS_NAMES[a] for a in axes) + ")"


def _mistakes(right_axes, groups, gamma, beta, c):
    """(changes to the right computation, hint) for the usual mistakes, in the order they are tried."""
    if groups:
        for axes, label in GROUP_AXES.items():
            yield (
                dict(axes=axes),
                _("you normalised over {label}; GroupNorm uses H, W and the channels of one group").format(
                    label=_(label)
                ),
            )
        yield dict(strided=True), _("a group is consecutive channels: reshape to (N, H, W, groups, C // groups)")
        for other in (d for d in range(1, c + 1) if c % d == 0 and d != groups):
            if other == c // groups:
                hint = _(
                    "your answer makes {other} groups where `groups` is {groups}:"
                    " `groups` is the number of groups, not the number of channels in each"
                )
            else:
                hint = _("your answer makes {other} groups where `groups` is {groups}")
            yield dict(groups=other), hint.format(other=other, groups=groups)
    else:
        for axes in (a for r in (1, 2, 3, 4) for a in itertools.combinations(range(4), r) if a != right_axes):
            if axes in KNOWN_AXES:
                hint = _("you normalised over axes {axes} — that is {name}; this one uses {right}")
            else:
                hint = _("you normalised over axes {axes}; this one uses {right}")
            names = dict(axes=_axes_name(axes), name=KNOWN_AXES.get(axes), right=_axes_name(right_axes))
            yield dict(axes=axes), hint.format(**names)
    yield dict(ddof=1), _("use the population variance (divide by the number of values: np.var's default ddof=0)")
    yield dict(eps_inside=False), _("ε goes inside the square root: (x − μ) / sqrt(σ² + ε)")
    yield dict(eps=1e-3), _("use the `eps` argument, not a fixed 1e-3")
    yield dict(gamma=1.0, beta=0.0), _("apply γ and β: γ · x̂ + β")
    yield dict(gamma=beta, beta=gamma), _("γ multiplies, β is added: γ · x̂ + β")
    if groups:
        per_group = dict(gamma=np.repeat(gamma[:groups], c // groups), beta=np.repeat(beta[:groups], c // groups))
        yield per_group, _("γ and β have one value per channel (C values), not one per group")


def _diagnose(got, x, gamma, beta, eps, right_axes, groups=None):
    """A hint naming the mistake, found by recomputing the usual ones."""
    right = dict(gamma=gamma, beta=beta, eps=eps, axes=right_axes, groups=groups)
    for change, hint in _mistakes(right_axes, groups, gamma, beta, x.shape[-1]):
        if np.allclose(got, _variant(x, **(right | change)), atol=1e-4):
            return hint
    return _("(x − mean) / sqrt(variance + ε) over the right axes, then γ · x̂ + β per channel")


def _broadcast_hint(err):
    """For NumPy's broadcast error: statistics that lost their axes (keepdims), or γ reshaped."""
    text = str(err)
    shapes = [tuple(int(v) for v in s.split(",") if v) for s in re.findall(r"\(([\d,]+)\)", text.replace(" ", ""))]
    if "cannot reshape" in text:  # not a message: a statistic without its axes broadcast x to a larger array
        return _("keep the reduced axes (keepdims=True): the statistics then broadcast against x without growing it")
    if "broadcast" not in text or len(shapes) < 2:
        return None
    largest = max(shapes, key=len)

    def reduced(shape):  # the largest shape with some axes left out, as a reduction without keepdims leaves it
        rest = iter(largest)
        return shape != largest and all(v in rest for v in shape)

    if any(map(reduced, shapes)):
        return _("keep the reduced axes (keepdims=True) so that the mean and variance broadcast against x")
    return _("γ and β have one value per channel, shape (C,): they broadcast over the last axis as they are")


def _array_answer(t, fn, args, what, shape, hint=_broadcast_hint):
    """Call the learner's function on copies; its answer as an array of the input's shape, the inputs untouched."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    got = t.call(fn, copies, what=what, hint=hint)
    changed = [i for i, (a, b) in enumerate(zip(args, copies, strict=True)) if not np.array_equal(a, b)]
    if changed:
        hint = _("compute on new arrays (x − mean), not in place (x −= mean): the caller's array is changed")
        t.fail(
            _("{what} changed its arguments").format(what=what),
            _("x, γ and β untouched"),
            _("argument {number} changed").format(number=changed[0] + 1),
            hint,
        )
    got = t.array(got, what)
    t.equal(
        _("{what}: output shape").format(what=what),
        got.shape,
        shape,
        _("normalisation keeps the input's shape (use keepdims=True)"),
    )
    return got


RANK_NAMES = {
    2: N_("(N, C) features"),
    3: N_("(N, L, C) sequences"),
    4: N_("(N, H, W, C) images"),
    5: N_("(N, D, H, W, C) volumes"),
}


def _rank_hint(err):
    """For an answer that assumes four axes: any number of position axes is allowed."""
    text = str(err)
    numpy_errors = ("out of bounds", "cannot reshape")  # not a message
    if isinstance(err, ValueError) and "unpack" in text or any(e in text for e in numpy_errors):
        return _(
            "x may have any number of axes, (N, …, C): take N = x.shape[0], C = x.shape[-1] and the axes from x.ndim"
        )
    return _broadcast_hint(err)


def _any_rank_diagnosis(got, x, gamma, beta, eps, right_axes, groups):
    """A hint for a wrong answer on x that is not 4-D: axes that only fit images, else the usual mistakes."""
    n, c = x.shape[0], x.shape[-1]
    if groups:
        grouped = x.reshape(*x.shape[:-1], groups, c // groups)
        candidates = {(1, 2, 4): _("the 4-D axes (1, 2, 4)")} if grouped.ndim > 4 else {}
        right = _("every position axis and the channels of one group")
    else:
        grouped = x
        candidates = {
            tuple(range(1, x.ndim - 1)): _("the positions only, that is InstanceNorm"),
            (x.ndim - 1,): _("C only, Keras's LayerNormalization() default"),
            (1, 2, 3): _("the 4-D axes (1, 2, 3)"),
        }
        right = _("every axis but N: range(1, x.ndim)")
    for axes, label in candidates.items():
        if axes and max(axes) < grouped.ndim:
            wrong = _variant_axes(grouped, gamma, beta, eps, axes).reshape(x.shape)
            if np.allclose(got, wrong, atol=1e-4):
                return _("on {ndim}-D x you normalised over axes {axes} ({label}); use {right}").format(
                    ndim=x.ndim, axes=axes, label=label, right=right
                )
    flat = x.reshape(n, -1, 1, c)
    hint = _diagnose(np.reshape(got, flat.shape), flat, gamma, beta, eps, right_axes, groups)
    for four_d, any_rank in [
        ("(N, H, W)", _("(N and the positions)")),
        ("(H, W)", _("(the positions)")),
        ("H, W", _("positions")),
    ]:  # the translations keep these 4-D names as they are, so that they are replaced here too
        hint = hint.replace(four_d, any_rank)
    return hint


def _variant_axes(x, gamma, beta, eps, axes):
    x = x.astype("float64")
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    normalised = (x - mean) / np.sqrt(var + eps)
    if normalised.shape[-1] != gamma.shape[-1]:  # grouped: (…, G, C/G)
        normalised = normalised.reshape(*normalised.shape[:-2], -1)
    return gamma * normalised + beta


def _normalisation_task(number, name, fn, layer, right_axes, cases=SHAPES, more=None):
    with Task(number, name) as t:
        t.function(fn, name)
        for seed, (shape, groups, eps) in enumerate(cases):
            x, gamma, beta = _batch(shape, seed)
            shown = f"groups={groups}, " if groups else ""
            call = f"{name}(x, {shown}gamma, beta, eps={eps})"  # not a message
            what = _("{call} on x of shape {shape}").format(call=call, shape=shape)
            if len(shape) != 4:
                what = _("{what} ({kind})").format(what=what, kind=_(RANK_NAMES[len(shape)]))
            args = (x, groups, gamma, beta, eps) if groups else (x, gamma, beta, eps)
            got = _array_answer(t, fn, args, what, x.shape, _rank_hint if len(shape) != 4 else _broadcast_hint)
            expected = _keras(layer(eps, groups), x, [gamma, beta])
            ok = np.allclose(got, expected, atol=1e-4, rtol=1e-4)
            if ok:
                hint = None
            elif len(shape) == 4:
                hint = _diagnose(got, x, gamma, beta, eps, right_axes, groups)
            else:
                hint = _any_rank_diagnosis(got, x, gamma, beta, eps, right_axes, groups)
            t.close(_("{what}: values").format(what=what), got, expected, hint, atol=1e-4)
        if more:
            more(t, fn)


def batch_norm(fn):
    """Task 1: BatchNorm in training mode: statistics over N, H, W for each channel."""
    from keras import layers

    _normalisation_task(1, "batch_norm", fn, lambda eps, _groups: layers.BatchNormalization(epsilon=eps), (0, 1, 2))


ANY_RANK = [((5, 7), None, 1e-3), ((3, 8, 5), None, 1e-5), ((2, 3, 4, 5, 6), None, 1e-3)]


def layer_norm(fn):
    """Task 2: LayerNorm: statistics over every axis but N of each sample, for x of any rank (N, …, C)."""
    from keras import layers

    make = lambda eps, _groups: layers.GroupNormalization(1, epsilon=eps)  # noqa: E731
    _normalisation_task(2, "layer_norm", fn, make, (1, 2, 3), SHAPES + ANY_RANK)


def instance_norm(fn):
    """Task 3: InstanceNorm: statistics over H, W of each channel of each sample."""
    from keras import layers

    _normalisation_task(3, "instance_norm", fn, lambda eps, _groups: layers.GroupNormalization(-1, epsilon=eps), (1, 2))


def group_norm(fn):
    """Task 4: GroupNorm with 1, 2, 3, C groups of consecutive channels, on x of any rank (N, …, C)."""
    from keras import layers

    make = lambda eps, groups: layers.GroupNormalization(groups, epsilon=eps)  # noqa: E731
    _normalisation_task(4, "group_norm", fn, make, (1, 2, 4), GROUP_CASES + GROUP_ANY_RANK, _group_channels_first)


GROUP_CHANNELS_FIRST = [((2, 6, 5, 6), 3, 1e-3), ((3, 4, 7), 2, 1e-5), ((2, 6, 3, 4, 6), 2, 1e-3)]  # W = C: no error


def _group_axis_hint(got, x, groups, gamma, beta, eps):
    """The usual mistakes of the channels-first case, recomputed."""
    moved = np.moveaxis(x.astype("float64"), 1, -1)
    variants = []
    if x.shape[-1] % groups == 0 and x.shape[-1] == len(gamma):
        ignored = _group_last(x, groups, gamma, beta, eps)  # the channels taken from the last axis
        variants.append((ignored, _("`axis` says where the channels are: with axis=1 they are not the last axis")))
    normalised = _group_last(moved, groups, np.ones_like(gamma), np.zeros_like(beta), eps)
    back = np.moveaxis(normalised, -1, 1)
    if back.shape[-1] == len(gamma):
        variants.append(
            (gamma * back + beta, _("apply γ and β along the channel axis: before moving it back, or as (1, C, 1, …)"))
        )
    for wrong, hint in variants:
        if wrong.shape == np.shape(got) and np.allclose(got, wrong, atol=1e-4):
            return hint
    if np.shape(got) == moved.shape and np.shape(got) != x.shape:
        return _("return the channels to `axis`: np.moveaxis(y, -1, axis)")
    return _("move the channel axis last (np.moveaxis), normalise as before, then move it back")


def _group_last(x, groups, gamma, beta, eps):
    n, c = x.shape[0], x.shape[-1]
    grouped = x.astype("float64").reshape(n, -1, groups, c // groups)
    mean, var = grouped.mean(axis=(1, 3), keepdims=True), grouped.var(axis=(1, 3), keepdims=True)
    return gamma * ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape) + beta


def _group_channels_first(t, fn):
    from keras import layers

    for seed, (shape, groups, eps) in enumerate(GROUP_CHANNELS_FIRST):
        last, gamma, beta = _batch((shape[0], *shape[2:], shape[1]), seed + 50)
        x = np.ascontiguousarray(np.moveaxis(last, -1, 1))
        call = f"group_norm(x, groups={groups}, gamma, beta, eps={eps}, axis=1)"  # not a message
        what = _("{call} on channels-first x of shape {shape}").format(call=call, shape=shape)
        copies = [x.copy(), groups, gamma.copy(), beta.copy(), eps]
        got = t.call(fn, copies, dict(axis=1), what=what, hint=_axis_call_hint)
        got = t.array(got, what)
        expected = _keras(layers.GroupNormalization(groups, axis=1, epsilon=eps), x, [gamma, beta])
        ok = got.shape == expected.shape and np.allclose(got, expected, atol=1e-4, rtol=1e-4)
        hint = None if ok else _group_axis_hint(got, x, groups, gamma, beta, eps)
        t.equal(_("{what}: output shape").format(what=what), got.shape, x.shape, hint)
        t.close(_("{what}: values").format(what=what), got, expected, hint, atol=1e-4)
        t.expect(
            np.array_equal(copies[0], x),
            _("{what} changed x").format(what=what),
            _("x untouched"),
            _("changed"),
            _("compute on new arrays"),
        )


def _axis_call_hint(err):
    if isinstance(err, TypeError) and "axis" in str(err):
        return _(
            "add the keyword argument axis=-1 to your function: group_norm(x, groups, gamma, beta, eps=1e-3, axis=-1)"
        )
    if "broadcast" in str(err):
        return _("with axis=1 the channels are on axis 1: move them last (np.moveaxis), normalise, move them back")
    return _rank_hint(err)


def _inference_hint(got, x, mean, var, gamma, beta, eps):
    """The hint of the usual mistake that gives the learner's values."""

    right_scale = np.sqrt(var + eps)

    def bn(m=mean, s=right_scale, g=gamma, b=beta):
        return g * (x - m) / s + b

    with np.errstate(all="ignore"):
        variants = {
            _("at inference BatchNorm uses the moving statistics, not the batch's own"): _variant(
                x, gamma, beta, eps, (0, 1, 2)
            ),
            _("ε goes inside the square root: sqrt(moving_variance + ε)"): bn(s=np.sqrt(var) + eps),
            _("add ε to the variance: sqrt(moving_variance + ε)"): bn(s=np.sqrt(var)),
            _("moving_variance is a variance: divide by its square root"): bn(s=var + eps),
            _("the arguments are (x, moving_mean, moving_variance, …): mean and variance swapped"): bn(
                m=var, s=np.sqrt(mean + eps)
            ),
            _("apply γ and β: γ · x̂ + β"): bn(g=1.0, b=0.0),
            _("add β: γ · x̂ + β"): bn(b=0.0),
        }
        for hint, values in variants.items():
            if np.allclose(got, values, atol=1e-4, equal_nan=True):
                return hint
    return _("γ · (x − moving_mean) / sqrt(moving_variance + ε) + β")


def batch_norm_inference(fn):
    """Task 5: BatchNorm at inference, from the moving statistics."""
    from keras import layers

    with Task(5, "batch_norm_inference") as t:
        t.function(fn, "batch_norm_inference")
        for seed, (shape, _groups, eps) in enumerate(SHAPES):
            x, gamma, beta = _batch(shape, seed)
            rng = np.random.default_rng(seed + 10)
            mean, var = rng.normal(size=shape[-1]).astype("float32"), rng.uniform(0.3, 3.0, shape[-1]).astype("float32")
            var[0] = 1e-3  # ε's place and presence matter there
            call = f"batch_norm_inference(x, moving_mean, moving_variance, gamma, beta, eps={eps})"  # not a message
            what = _("{call} on x of shape {shape}").format(call=call, shape=shape)
            got = _array_answer(t, fn, (x, mean, var, gamma, beta, eps), what, x.shape)
            expected = _keras(layers.BatchNormalization(epsilon=eps), x, [gamma, beta, mean, var], training=False)
            hint = _inference_hint(got, x.astype("float64"), mean, var, gamma, beta, eps)
            t.close(_("{what}: values").format(what=what), got, expected, hint)


STATISTICS_SHAPE, STATISTICS_GROUPS = (32, 14, 14, 64), 16


def statistics_count(counts):
    """Task 6: (mean, variance) pairs per method for a 32×14×14×64 batch, GroupNorm with 16 groups."""
    n, h, w, c = STATISTICS_SHAPE
    g = STATISTICS_GROUPS
    expected = {"batch": c, "layer": n, "instance": n * c, "group": n * g}
    pooled = _("that is how many values each statistic pools, not how many statistics there are")
    wrong = {  # per key: a wrong count and the reason behind it
        "batch": {n * h * w: pooled, n: _("BatchNorm has one statistic per channel (over N, H, W), not per sample")},
        "layer": {
            h * w * c: pooled,
            c: _("LayerNorm has one statistic per sample, not per channel"),
            1: _("one per sample"),
        },
        "instance": {
            h * w: pooled,
            c: _("InstanceNorm has one per channel of each sample: N · C"),
            n: _("one per channel"),
        },
        "group": {g: _("GroupNorm has one per group of each sample: N · G"), n * c // g: _("N · G, not N · C / G")},
    }
    wrong["group"][h * w * c // g] = pooled
    with Task(6, "statistics_count") as t:
        t.value(counts, "counts", dict)
        t.equal(
            _("the keys of `counts`"),
            sorted(counts),
            sorted(expected),
            _("keep 'batch', 'layer', 'instance', 'group'"),
        )
        for key, value in expected.items():
            got = counts[key]
            hint = wrong[key].get(got, _("one statistic for every set of values that share a mean and a variance"))
            t.expect(
                is_whole_number(got),
                _("counts[{key}] should be a whole number").format(key=repr(key)),
                _("an int"),
                got,
                _("write an int"),
            )
            t.equal(f"counts[{key!r}]", got, value, hint)


# -- Task 7 · a batch normalisation with state ------------------------------------------------------
class _ReferenceBatchNorm:
    """What the task specifies, with switches for the usual mistakes (to name the one a wrong answer made)."""

    def __init__(self, channels, momentum=0.99, eps=1e-3, **slips):
        self.gamma, self.beta = np.ones(channels), np.zeros(channels)
        self.moving_mean, self.moving_variance = np.zeros(channels), np.ones(channels)
        self.momentum, self.eps, self.slips = momentum, eps, slips

    def __call__(self, x, training=None):
        slips = self.slips
        x = np.asarray(x, dtype="float64")
        if training is None:
            training = bool(slips.get("training_default"))
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes, ddof=slips.get("ddof", 0))
        if training or slips.get("update_at_inference"):
            keep = 1 - self.momentum if slips.get("momentum_swapped") else self.momentum
            self.moving_mean = keep * self.moving_mean + (1 - keep) * mean
            if not slips.get("no_variance_update"):
                self.moving_variance = keep * self.moving_variance + (1 - keep) * var
        if not (training or slips.get("always_batch")) or slips.get("normalise_with_moving"):
            mean, var = self.moving_mean, self.moving_variance
        return self.gamma * (x - mean) / np.sqrt(var + self.eps) + self.beta


FLAGS = [(True, False, True, True, False), (True, None, True, None, False), (None, True, True, None, True)]
SEQUENCE_SHAPES = [(4, 5, 3, 6), (2, 5, 3, 6), (6, 2, 7, 6), (3, 4, 4, 6), (1, 3, 2, 6)]


def _sequence(seed):
    """Batches of one channel count (6) but different sizes, each with its own channel means and spreads."""
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=s) * rng.uniform(0.5, 3, 6) + rng.normal(size=6) * 2).astype("float32")
        for s in SEQUENCE_SHAPES
    ]


def _call(layer, x, flag):
    """``layer(x, training=flag)``, or ``layer(x)`` for flag None (the default)."""
    return layer(x) if flag is None else layer(x, training=flag)


def _replay(slips, xs, flags, gamma, beta, momentum, eps):
    """Outputs and moving statistics of the reference with mistakes `slips`, over the first n_calls calls."""
    reference = _ReferenceBatchNorm(len(gamma), momentum, eps, **slips)
    reference.gamma, reference.beta = gamma.astype("float64"), beta.astype("float64")
    out = []
    for x, flag in zip(xs, flags[: len(xs)], strict=True):
        y = _call(reference, x, flag)
        out.append((y, reference.moving_mean.copy(), reference.moving_variance.copy()))
    return out


STATEFUL_MISTAKES = [
    (dict(training_default=True), N_("the default is inference: __call__(self, x, training=False)")),
    (
        dict(momentum_swapped=True),
        N_("moving = momentum · moving + (1 − momentum) · batch value: momentum keeps the old"),
    ),
    (dict(ddof=1), N_("the moving variance averages the population variance (np.var's ddof=0), as Keras does")),
    (dict(update_at_inference=True), N_("update the moving statistics only in training (training=True)")),
    (dict(no_variance_update=True), N_("update the moving variance too, like the moving mean")),
    (
        dict(normalise_with_moving=True),
        N_("in training, normalise with the batch's own statistics, not the moving ones"),
    ),
    (dict(always_batch=True), N_("at inference, normalise with the moving statistics, not the batch's")),
]


def _stateful_hint(seen, xs, flags, gamma, beta, momentum, eps):
    """The usual mistake whose replay gives what the learner's layer gave so far (outputs and statistics)."""
    for slips, hint in STATEFUL_MISTAKES:
        replay = _replay(slips, xs[: len(seen)], flags, gamma, beta, momentum, eps)
        if all(
            a.shape == b.shape and np.allclose(a, b, atol=1e-4)
            for got, wrong in zip(seen, replay, strict=True)
            for a, b in zip(got, wrong, strict=True)
        ):
            return _(hint)
    return _("training: the batch's statistics, and both moving averages updated; inference: the moving averages")


def _state(t, layer, name, what):
    value = t.call(
        lambda: getattr(layer, name), what=f"{what}.{name}", hint=_("set self.{name} in __init__").format(name=name)
    )
    return np.ravel(t.array(value, f"{what}.{name}"))


def batch_norm_layer(cls):
    """Task 7: a BatchNorm with state, equal to keras.layers.BatchNormalization in both modes, call after call."""
    from keras import layers

    with Task(7, "BatchNorm") as t:
        t.function(cls, "BatchNorm")
        rng = np.random.default_rng(7)
        for seed, (settings, flags) in enumerate(zip([(0.9, 1e-3), (0.5, 1e-5), None], FLAGS, strict=True)):
            kwargs = {} if settings is None else dict(momentum=settings[0], eps=settings[1])
            momentum, eps = settings or (0.99, 1e-3)
            what = "BatchNorm(6" + "".join(f", {k}={v}" for k, v in kwargs.items()) + ")"
            layer = t.call(cls, (6,), kwargs, what=what)
            before = _("{what}.{name} before any call")
            t.close(before.format(what=what, name="moving_mean"), _state(t, layer, "moving_mean", what), np.zeros(6))
            variance = _state(t, layer, "moving_variance", what)
            t.close(before.format(what=what, name="moving_variance"), variance, np.ones(6))
            gamma = (rng.uniform(0.5, 2.0, 6) * np.resize([1, -1], 6)).astype("float32")
            beta = rng.normal(size=6).astype("float32")
            layer.gamma, layer.beta = gamma.copy(), beta.copy()
            keras_bn = layers.BatchNormalization(momentum=momentum, epsilon=eps)
            keras_bn.build((None, None, None, 6))
            keras_bn.gamma.assign(gamma)
            keras_bn.beta.assign(beta)
            xs = _sequence(seed)
            seen = []
            for i, (x, flag) in enumerate(zip(xs, flags, strict=True)):
                shown = _("no training argument") if flag is None else f"training={flag}"
                call = _("{what}: call {number} of {count} ({shown}) on x of shape {shape}").format(
                    what=what, number=i + 1, count=len(xs), shown=shown, shape=x.shape
                )
                copy = x.copy()
                y = t.array(t.call(lambda layer=layer, copy=copy, flag=flag: _call(layer, copy, flag), what=call), call)
                t.expect(
                    np.array_equal(copy, x),
                    _("{what} changed x").format(what=call),
                    _("x untouched"),
                    _("changed"),
                    _("compute on new arrays"),
                )
                want = np.asarray(_call(keras_bn, x, bool(flag)), dtype="float64")
                seen.append((y, _state(t, layer, "moving_mean", what), _state(t, layer, "moving_variance", what)))
                hint = _stateful_hint(seen, xs, flags, gamma, beta, momentum, eps)
                t.close(_("{call}: output").format(call=call), y, want, hint, atol=1e-4)
                after = _("{call}: {name} after it")
                mean_after, variance_after = (
                    after.format(call=call, name=n) for n in ("moving_mean", "moving_variance")
                )
                t.close(mean_after, seen[-1][1], np.asarray(keras_bn.moving_mean), hint)
                t.close(variance_after, seen[-1][2], np.asarray(keras_bn.moving_variance), hint)
        first, second = t.call(cls, (3,), what="BatchNorm(3)"), t.call(cls, (3,), what="BatchNorm(3)")
        first(np.arange(6, dtype="float32").reshape(2, 3) + 5, training=True)
        t.close(
            _("two BatchNorm(3), the first called in training: the second's moving_mean"),
            _state(t, second, "moving_mean", "BatchNorm(3)"),
            np.zeros(3),
            _("keep the statistics on self (new arrays in __init__), not on the class: each layer has its own"),
        )


# -- Task 8 · the axes in NCHW layout ------------------------------------------------------------------
NCHW_CASES = [((4, 5, 3, 5), 1e-3), ((3, 6, 7, 2), 1e-5), ((2, 3, 4, 3), 1e-3)]  # W = C, W ≠ C, H ≠ W = C


def _nchw_hint(got, x, gamma, beta, eps):
    x = x.astype("float64")
    g4, b4 = gamma[None, :, None, None], beta[None, :, None, None]

    def norm(axes, g=g4, b=b4, ddof=0):
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True, ddof=ddof)
        return g * (x - mean) / np.sqrt(var + eps) + b

    variants = [
        (lambda: norm((0, 1, 2)), _("in NCHW the channel is axis 1: reduce over N, H and W, axes (0, 2, 3)")),
        (lambda: norm((0, 2, 3), gamma, beta), _("γ and β have shape (C,): reshape them to (1, C, 1, 1) for NCHW")),
        (
            lambda: norm((0, 1, 2), gamma, beta),
            _("in NCHW the channel is axis 1: axes (0, 2, 3), and γ as (1, C, 1, 1)"),
        ),
        (
            lambda: norm((2, 3)),
            _("BatchNorm pools the whole batch: axes (0, 2, 3), not (2, 3) (that is InstanceNorm)"),
        ),
        (lambda: norm((0, 2, 3), ddof=1), _("use the population variance (np.var's default ddof=0)")),
    ]
    with np.errstate(all="ignore"):
        for make, hint in variants:
            try:
                wrong = make()
            except ValueError:
                continue
            if wrong.shape == np.shape(got) and np.allclose(got, wrong, atol=1e-4):
                return hint
    return _("γ · (x − μ) / sqrt(σ² + ε) + β, with μ and σ² over axes (0, 2, 3) and γ, β as (1, C, 1, 1)")


def batch_norm_nchw(fn):
    """Task 8: BatchNorm in training mode on channels-first x (N, C, H, W)."""
    from keras import layers

    with Task(8, "batch_norm_nchw") as t:
        t.function(fn, "batch_norm_nchw")
        for seed, (shape, eps) in enumerate(NCHW_CASES):
            n, c, h, w = shape
            nhwc, gamma, beta = _batch((n, h, w, c), seed + 20)
            x = np.ascontiguousarray(np.transpose(nhwc, (0, 3, 1, 2)))
            call = f"batch_norm_nchw(x, gamma, beta, eps={eps})"  # not a message
            what = _("{call} on x of shape (N, C, H, W) = {shape}").format(call=call, shape=shape)
            got = _array_answer(t, fn, (x, gamma, beta, eps), what, x.shape, _nchw_call_hint)
            expected = _keras(layers.BatchNormalization(axis=1, epsilon=eps), x, [gamma, beta])
            ok = np.allclose(got, expected, atol=1e-4, rtol=1e-4)
            hint = None if ok else _nchw_hint(got, x, gamma, beta, eps)
            t.close(_("{what}: values").format(what=what), got, expected, hint, atol=1e-4)


def _nchw_call_hint(err):
    if "broadcast" in str(err):
        return _("γ and β have shape (C,): in NCHW reshape them to (1, C, 1, 1), and keep the reduced axes (keepdims)")
    return None


# -- Task 9 · the backward pass of BatchNorm ---------------------------------------------------------
BACKWARD_CASES = [((4, 3, 5, 6), 1e-3), ((2, 5, 2, 3), 1e-5), ((8, 1, 1, 4), 1e-3)]


def autodiff_backward(dy, x, gamma, eps):
    """(dx, dγ, dβ) of training-mode BatchNorm for upstream gradient dy, by TensorFlow's automatic differentiation."""
    import tensorflow as tf

    x = tf.constant(x, tf.float64)
    gamma = tf.constant(gamma, tf.float64)
    beta = tf.zeros_like(gamma)
    with tf.GradientTape() as tape:
        tape.watch([x, gamma, beta])
        mean, var = tf.nn.moments(x, axes=[0, 1, 2], keepdims=True)
        y = gamma * (x - mean) / tf.sqrt(var + eps) + beta
        loss = tf.reduce_sum(y * tf.constant(dy, tf.float64))
    return tuple(np.asarray(g) for g in tape.gradient(loss, [x, gamma, beta]))


def _backward_hint(name, got, dy, x, gamma, eps):
    axes = (0, 1, 2)
    x = x.astype("float64")
    m = x.size // x.shape[-1]
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    std = np.sqrt(var + eps)
    xhat = (x - mean) / std
    if name == "dx":
        variants = {
            _("that is the gradient with μ and σ² held fixed (inference mode); in training they depend on x"): (
                dy * gamma / std
            ),
            _("the mean's term is there; add the variance's: − x̂ · mean(dy · x̂)"): (
                gamma / std * (dy - dy.mean(axis=axes))
            ),
            _("the variance's term is there; add the mean's: − mean(dy)"): (
                gamma / std * (dy - xhat * (dy * xhat).mean(axis=axes))
            ),
            _("multiply by γ: y = γ · x̂ + β"): (dy - dy.mean(axis=axes) - xhat * (dy * xhat).mean(axis=axes)) / std,
            _("the sums run over N, H and W of each channel, as the statistics do; m = N·H·W"): (
                gamma / std * (dy - dy.mean(axis=(1, 2), keepdims=True))
            ),
        }
    elif name == "dgamma":
        variants = {_("dγ = Σ dy · x̂ over N, H, W (x̂ normalised, not x)"): (dy * x).sum(axis=axes)}
        variants[_("dγ = Σ dy · x̂, a sum over N, H, W (not a mean)")] = (dy * xhat).mean(axis=axes)
        variants[_("dγ and dβ are swapped: the order is (dx, dγ, dβ)")] = dy.sum(axis=axes)
    else:
        variants = {_("dβ = Σ dy over N, H, W (a sum, not a mean)"): dy.mean(axis=axes)}
        variants[_("dγ and dβ are swapped: the order is (dx, dγ, dβ)")] = (dy * xhat).sum(axis=axes)
    for hint, wrong in variants.items():
        if np.shape(got) == wrong.shape and np.allclose(got, wrong, atol=1e-4, rtol=1e-3):
            return hint
    if name == "dx" and m:
        return _("dx = γ / (m·σ) · (m·dy − Σ dy − x̂ · Σ(dy · x̂)), sums over N, H, W and σ = sqrt(σ² + ε)")
    return None


def batch_norm_backward(fn):
    """Task 9: the gradients of training-mode BatchNorm, compared with automatic differentiation."""
    with Task(9, "batch_norm_backward") as t:
        t.function(fn, "batch_norm_backward")
        for seed, (shape, eps) in enumerate(BACKWARD_CASES):
            x, gamma, _beta = _batch(shape, seed + 30)
            dy = np.random.default_rng(seed + 40).normal(size=shape).astype("float32")
            call = f"batch_norm_backward(dy, x, gamma, eps={eps})"  # not a message
            what = _("{call} on x of shape {shape}").format(call=call, shape=shape)
            copies = (dy.copy(), x.copy(), gamma.copy())
            result = t.call(fn, (*copies, eps), what=what)
            t.expect(
                all(np.array_equal(a, b) for a, b in zip(copies, (dy, x, gamma), strict=True)),
                _("{what} changed its arguments").format(what=what),
                _("dy, x and gamma untouched"),
                _("changed"),
                _("compute on new arrays"),
            )
            ok = isinstance(result, (tuple, list)) and len(result) == 3
            three = _("{what} should return three arrays").format(what=what)
            t.expect(ok, three, "(dx, dgamma, dbeta)", type(result).__name__)  # not a message
            expected = autodiff_backward(dy.astype("float64"), x.astype("float64"), gamma.astype("float64"), eps)
            for name, got, want in zip(("dx", "dgamma", "dbeta"), result, expected, strict=True):
                got = t.array(got, f"{what}: {name}")
                if got.shape != want.shape:
                    hint = (
                        _("dγ and dβ have one value per channel, shape (C,)") if name != "dx" else _("dx has x's shape")
                    )
                    t.fail(_("{what}: {name} shape").format(what=what, name=name), want.shape, got.shape, hint)
                ok = np.allclose(got, want, atol=1e-4, rtol=1e-3)
                hint = None if ok else _backward_hint(name, got, dy.astype("float64"), x, gamma.astype("float64"), eps)
                t.close(f"{what}: {name}", got, want, hint, atol=1e-4, rtol=1e-3)

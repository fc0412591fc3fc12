"""Checks for unit 08 (MobileNet): the cost formulas and their ratio with a depth multiplier, α and ρ
under a budget, the separable pair, the block, MobileNet v1, a MobileNetV2 stage, the P86 drill.

Costs are compared with the cost table of real Keras layers, in configurations
where the usual wrong formulas give other numbers. The pair, the block, MobileNet
v1 and the MobileNetV2 stage are compared with a reference built from the task's
specification (``cnn_course.checks.compare``) with the same random weights and
inputs, in two configurations (odd channels, non-square inputs, strides 1 and 2,
α ≠ 1, t = 1); the hints explain the usual mistakes from the first step where the
graphs differ.

Older copies of the exercise keep working: ``standard_conv_cost``,
``depthwise_conv_cost``, ``pointwise_conv_cost``, ``mobilenet_block`` and
``mobilenet_v1`` called with one answer check it as before (Tasks 1–3, 5, 6);
``separable_conv`` checks a depth multiplier only when the learner's function has
the ``depth_multiplier`` parameter that the current exercise asks for.
"""

import functools
import inspect
import math
import numbers

import numpy as np

from cnn_course.checks import Task, error_hint, first_line, is_whole_number, probe_model
from cnn_course.checks.compare import (
    add,
    bn,
    canonical_steps,
    chain,
    compare_with_reference,
    conv,
    dense,
    depthwise,
    gap,
    reference_model,
    relu6,
    softmax,
    steps,
    weighted,
)
from cnn_course.i18n import N_, _

COST_GRID = [(7, 9, 3, 4, 6), (14, 14, 1, 8, 3), (5, 12, 5, 3, 10), (28, 28, 3, 32, 64)]  # H, W, K, C, M
TABLE = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 5, (1024, 2), (1024, 1)]
INPUT_SCALE = 8.0  # random inputs wide enough that a ReLU6 clips where a ReLU would not


# -- Tasks 1–3 · the cost formulas ------------------------------------------------------
def _keras_macs(layer, shape):
    import keras

    from cnn_course.costs import count_macs

    inputs = keras.Input(shape)
    return count_macs(keras.Model(inputs, layer(inputs)))


def _number(t, value, what):
    """An int, a NumPy integer or a float with an integer value, as an int."""
    whole = is_whole_number(value)
    whole = whole or isinstance(value, (float, np.floating)) and float(value).is_integer()
    t.expect(whole, _("{what} should be a whole number").format(what=what), _("an int such as 903168"), value)
    return int(value)


def _cost_task(number, name, fn, arguments, layer, hints):
    from keras import layers

    hints = hints + [
        (lambda H, W, K, C, M, r: r // (H * W), _("that is the cost of one output pixel: multiply by H·W")),
        (
            lambda H, W, K, C, M, r: r // (H * W) * (H - K + 1) * (W - K + 1),
            _("'same' padding keeps all H·W outputs"),
        ),
        (lambda H, W, K, C, M, r: 2 * r, _("count one multiply-add per product, not a multiply and an add")),
        (lambda H, W, K, C, M, r: r + H * W * M, _("biases are not counted")),
    ]
    with Task(number, name) as t:
        t.function(fn, name)
        for H, W, K, C, M in COST_GRID:
            args = arguments(H, W, K, C, M)
            shown = f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})"
            got = _number(t, t.call(fn, tuple(args.values()), what=shown), shown)
            expected = _keras_macs(layer(layers, K, M), (H, W, C))
            wrong = [hint for formula, hint in hints if formula(H, W, K, C, M, expected) == got]
            hint = (wrong + [_("count the products for one output, times the number of outputs")])[0]
            t.equal(_("{what}: multiply-adds").format(what=shown), got, expected, hint)


def standard_conv_cost(fn, depthwise_conv_cost=None, pointwise_conv_cost=None):
    """Task 1: H·W·K·K·C·M; with the two other functions, the three costs of the current exercise's Task 1."""
    _standard_cost(fn)
    if depthwise_conv_cost is not None or pointwise_conv_cost is not None:
        _depthwise_cost(1, depthwise_conv_cost)
        _pointwise_cost(1, pointwise_conv_cost)


def _standard_cost(fn):
    _cost_task(
        1,
        "standard_conv_cost",
        fn,
        lambda H, W, K, C, M: dict(H=H, W=W, K=K, C=C, M=M),
        lambda layers, K, M: layers.Conv2D(M, K, padding="same"),
        [
            (lambda H, W, K, C, M, r: H * W * K * C * M, _("the kernel is K×K: the factor K appears twice")),
            (lambda H, W, K, C, M, r: H * W * K * K * M, _("each output reads all C input channels: multiply by C")),
            (lambda H, W, K, C, M, r: H * W * K * K * C, _("there are M output channels: multiply by M")),
            (lambda H, W, K, C, M, r: K * K * C * M + M, _("that counts the weights, not the multiply-adds")),
        ],
    )


def depthwise_conv_cost(fn):
    """An older exercise's Task 2: H·W·C·K·K (the current exercise checks it in Task 1)."""
    _depthwise_cost(2, fn)


def _depthwise_cost(number, fn):
    _cost_task(
        number,
        "depthwise_conv_cost",
        fn,
        lambda H, W, K, C, M: dict(H=H, W=W, C=C, K=K),
        lambda layers, K, M: layers.DepthwiseConv2D(K, padding="same"),
        [
            (lambda H, W, K, C, M, r: H * W * C * K, _("the kernel is K×K: the factor K appears twice")),
            (lambda H, W, K, C, M, r: H * W * C, _("each output reads a K×K window: multiply by K·K")),
            (lambda H, W, K, C, M, r: H * W * K * K, _("one K×K filter for each of the C channels: multiply by C")),
            (lambda H, W, K, C, M, r: H * W * C * C * K * K, _("a depthwise filter reads one channel, not all C")),
            (lambda H, W, K, C, M, r: r + H * W * C, _("biases are not counted")),
        ],
    )


def pointwise_conv_cost(fn):
    """An older exercise's Task 3: H·W·C·M (the current exercise checks it in Task 1)."""
    _pointwise_cost(3, fn)


def _pointwise_cost(number, fn):
    _cost_task(
        number,
        "pointwise_conv_cost",
        fn,
        lambda H, W, K, C, M: dict(H=H, W=W, C=C, M=M),
        lambda layers, K, M: layers.Conv2D(M, 1),
        [
            (lambda H, W, K, C, M, r: H * W * M, _("each output reads all C channels at its pixel: multiply by C")),
            (lambda H, W, K, C, M, r: H * W * C, _("there are M output channels: multiply by M")),
            (lambda H, W, K, C, M, r: H * W * (C + M), _("each of the M outputs reads C inputs: C times M, not C + M")),
            (lambda H, W, K, C, M, r: 9 * H * W * C * M, _("a pointwise conv is 1×1: no K×K factor")),
        ],
    )


# -- the references, from the specifications ------------------------------------------
def block_spec(filters, strides):
    """3×3 depthwise conv (the stride) → BN → ReLU6 → 1×1 conv → BN → ReLU6, no biases."""
    return chain(depthwise(3, strides, bias=False), bn(), relu6(), conv(1, filters, bias=False), bn(), relu6())


def depthwise_d(strides, multiplier, bias):
    """A 3×3 depthwise convolution with `multiplier` filters per channel, padding 'same'."""

    def make(x):
        from keras import layers

        return layers.DepthwiseConv2D(3, strides=strides, padding="same", depth_multiplier=multiplier, use_bias=bias)(x)

    return make


def stage_block_spec(c_in, t, c, stride):
    """MobileNetV2's block: [1×1 expand to t·c_in → BN → ReLU6 unless t = 1] → 3×3 depthwise (stride) → BN →
    ReLU6 → 1×1 project to c → BN (linear), plus the input when the stride is 1 and c_in = c."""
    expand = [conv(1, t * c_in, bias=False), bn(), relu6()] if t != 1 else []
    body = chain(*expand, depthwise(3, stride, bias=False), bn(), relu6(), conv(1, c, bias=False), bn())
    return add(chain(), body) if stride == 1 and c_in == c else body


@functools.cache
def reference(name, config, input_shape):
    """The reference model of a task in one configuration, built once per process."""
    if name == "separable_conv":
        filters, strides, multiplier, dw_bias, pw_bias = config
        spec = chain(depthwise_d(strides, multiplier, dw_bias), conv(1, filters, bias=pw_bias))
    elif name == "inverted_residual_stage":
        c_in, t, c, n, s = config
        blocks = []
        for i in range(n):
            blocks.append(stage_block_spec(c_in if i == 0 else c, t, c, s if i == 0 else 1))
        spec = chain(*blocks)
    elif name == "mobilenet_block":
        spec = block_spec(*config)
    else:  # mobilenet_v1
        alpha, n_class = config
        blocks = [block_spec(int(filters * alpha), strides) for filters, strides in TABLE]
        spec = chain(conv(3, int(32 * alpha), 2, bias=False), bn(), relu6(), *blocks, gap(), dense(n_class), softmax())
    return reference_model(spec, input_shape)


# -- hints for the usual mistakes, from the first step that differs ---------------------
EXTRA = ("ReLU", "ReLU6", "Softmax", "Sigmoid", "Tanh", "BatchNormalization")  # steps a task may not have
NO_BIAS = N_("no biases (use_bias=False): the batch normalisation after each conv has its own shift")


def _depthwise_hint(e, g):
    if g.settings.get("multiplier", 1) != e.settings.get("multiplier", 1) == 1:
        return _("keep depth_multiplier=1: one filter per input channel")
    if "dilation" in g.settings:
        return _("the depthwise conv is not dilated: remove dilation_rate")
    if e.settings["strides"] != g.settings["strides"]:
        if e.settings["strides"] == (1, 1):
            return _("this depthwise conv has stride 1: check the strides against the task (and its table)")
        return _("the stride belongs to the depthwise conv (the 1×1 pointwise conv keeps stride 1)")
    if e.settings["bias"] != g.settings["bias"]:
        return _(NO_BIAS)
    return _("a 3×3 depthwise conv with padding='same'")


def _conv_hint(e, g):
    if e.settings["bias"] != g.settings["bias"]:
        return _(NO_BIAS)
    filters = g.settings.get("filters")
    if e.settings["kernel"] == (3, 3):
        if filters == 32 != e.settings["filters"]:
            return _("α scales the first conv too: int(32·α) filters")
        return _("the first conv: 3×3, int(32·α) filters (int rounds down), stride 2, padding='same'")
    if e.settings["strides"] != g.settings["strides"]:
        return _("the stride belongs to the depthwise conv; the 1×1 pointwise conv has stride 1")
    if filters in {f for f, _strides in TABLE} - {e.settings["filters"]}:
        return _("α scales every pointwise conv: int(filters·α) filters")
    return _("each block's 1×1 pointwise conv has int(filters·α) filters (int rounds down)")


def _hint(e, g):
    if g is None:
        return (
            _("end with a softmax over the classes: Dense(n_class, activation='softmax')")
            if e.kind == "Softmax"
            else ""
        )
    if e is None:
        return _("the task has nothing more at the end: no {kind} here").format(kind=g.kind)
    kinds = (e.kind, g.kind)
    if g.kind == "Pad":
        return _("padding='same' with stride 2 pads one pixel at the bottom and right only: use padding='same'")
    if kinds == ("DepthwiseConv2D", "Conv2D"):
        if g.settings["kernel"] == (1, 1):
            return _("depthwise first (spatial filtering per channel), then the 1×1 pointwise conv (channel mixing)")
        return _("a depthwise conv filters each channel alone: DepthwiseConv2D, not a Conv2D that mixes channels")
    if kinds == ("DepthwiseConv2D", "DepthwiseConv2D"):
        return _depthwise_hint(e, g)
    if kinds == ("Conv2D", "Conv2D"):
        return _conv_hint(e, g)
    if kinds == ("BatchNormalization", "BatchNormalization"):
        if not g.settings.get("center", True):
            return _("keep BN's shift (center=True) and drop the conv's bias instead (use_bias=False)")
        return _("normalise over the channels: keep BatchNormalization's default axis=-1 and its other defaults")
    if kinds == ("ReLU6", "ReLU"):
        return _("MobileNet's activation is ReLU6 (layers.ReLU(6.0)), which clips at 6; a plain ReLU does not")
    if e.kind == "BatchNormalization" and g.kind in ("ReLU6", "ReLU"):
        return _("batch normalisation comes before the activation: conv → BN → ReLU6")
    if e.kind == "ReLU6":
        return _("a ReLU6 follows each batch normalisation, after the depthwise and after the pointwise conv")
    if e.kind == "BatchNormalization":
        return _("batch normalisation follows each convolution")
    if kinds == ("Conv2D", "Dense") or kinds == ("Dense", "Conv2D"):
        return _("the classifier is one Dense(n_class) layer after global average pooling")
    if g.kind in EXTRA:
        return _("the task has no {kind} here (check the layers' activation= arguments too)").format(kind=g.kind)
    if e.kind == "GlobalAveragePooling":
        return _("global average pooling comes after the last block")
    return None


def _shape_hint(channels):
    return lambda got: (
        _("a depthwise conv keeps the C channels: the 1×1 pointwise conv maps them to `filters`")
        if got[-1] == channels
        else _("padding='same', the stride on the depthwise conv, `filters` pointwise filters")
    )


def _first_bias(model, kind, kernel):
    """The use_bias of the learner's first step of a kind (and kernel), True if none."""
    found = [s for s in steps(model) if s.kind == kind and s.settings["kernel"] == kernel]
    return found[0].settings["bias"] if found else True


# -- the tasks -------------------------------------------------------------------
def _takes(fn, parameter):
    """Whether the learner's function has a parameter of this name (the current version of a task)."""
    try:
        return parameter in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _separable_hint(e, g):
    if e is not None and g is not None and (e.kind, g.kind) == ("DepthwiseConv2D", "DepthwiseConv2D"):
        want, have = e.settings.get("multiplier", 1), g.settings.get("multiplier", 1)
        if want != have and want != 1:
            return _(
                "one DepthwiseConv2D(3, depth_multiplier={want}) makes {want} filters per channel, "
                "each channel's outputs side by side; the 1×1 conv then reads all of them"
            ).format(want=want)
    return _hint(e, g)


def _pair_shape_hint(model, channels):
    first = weighted(steps(model))[:1]
    if first and first[0].kind == "Conv2D" and first[0].settings["kernel"] == (1, 1):
        return lambda got: _("depthwise first (spatial filtering per channel), then the 1×1 pointwise conv")
    return _shape_hint(channels)


def separable_conv(fn):
    """Task 4: a 3×3 depthwise conv (with a depth multiplier) then a 1×1 pointwise conv; biases free.

    An older copy's ``separable_conv(x, filters, strides=1)`` is checked with depth multiplier 1.
    """
    with Task(4, "separable_conv") as t:
        t.function(fn, "separable_conv")
        current = _takes(fn, "depth_multiplier")
        configs = (
            [(5, 7, 1, 2, (7, 9)), (3, 4, 2, 3, (8, 6))] if current else [(5, 7, 1, 1, (7, 9)), (3, 4, 2, 1, (8, 6))]
        )
        for c, filters, strides, d, size in configs:
            shown = f", depth_multiplier={d}" if current else ""  # not a message
            call = f"separable_conv(x, filters={filters}, strides={strides}{shown})"  # not a message
            what = _("{call} on a {shape} input").format(call=call, shape=f"{size[0]}×{size[1]}×{c}")
            kwargs = {"depth_multiplier": d} if current else {}
            model = probe_model(t, lambda x, f=filters, s=strides, k=kwargs: fn(x, f, s, **k), (*size, c), what)
            biases = _first_bias(model, "DepthwiseConv2D", (3, 3)), _first_bias(model, "Conv2D", (1, 1))
            ref = reference("separable_conv", (filters, strides, d, *biases), (*size, c))
            compare_with_reference(
                t, model, ref, what, _separable_hint, _pair_shape_hint(model, c), input_scale=INPUT_SCALE
            )


def mobilenet_block(fn, mobilenet_v1=None):
    """Task 5: depthwise conv → BN → ReLU6 → pointwise conv → BN → ReLU6, without biases.

    With ``mobilenet_v1`` too (the current exercise), the network built from the block is checked in the same task.
    """
    with Task(5, "mobilenet_block") as t:
        t.function(fn, "mobilenet_block")
        for c, filters, strides, size in [(5, 3, 1, (7, 9)), (7, 5, 2, (8, 6))]:
            call = f"mobilenet_block(x, filters={filters}, strides={strides})"  # not a message
            what = _("{call} on a {shape} input").format(call=call, shape=f"{size[0]}×{size[1]}×{c}")
            model = probe_model(t, lambda x, f=filters, s=strides: fn(x, f, s), (*size, c), what)
            ref = reference("mobilenet_block", (filters, strides), (*size, c))
            compare_with_reference(t, model, ref, what, _hint, _shape_hint(c), input_scale=INPUT_SCALE)
    if mobilenet_v1 is not None:
        _mobilenet_v1(5, mobilenet_v1)


def _counting_block_calls(t, fn, kwargs, what):
    """Call ``fn`` while counting the calls of the ``mobilenet_block`` it sees (its module's or notebook's)."""
    names = getattr(fn, "__globals__", {})
    block = names.get("mobilenet_block")
    calls = []
    if callable(block):
        names["mobilenet_block"] = lambda *a, **k: calls.append(1) or block(*a, **k)
    try:
        model = t.keras_model(t.call(fn, kwargs=kwargs, what=what), what)
    finally:
        if callable(block):
            names["mobilenet_block"] = block
    t.expect(
        len(calls) == len(TABLE),
        _("{what}: calls of your mobilenet_block").format(what=what),
        _("{count}, one per row of MOBILENET_V1").format(count=len(TABLE)),
        len(calls),
        _("build the network from your own mobilenet_block, one call per row of the table")
        if calls or not callable(block)
        else _("keras.applications.MobileNet is no answer here: build the network from your own mobilenet_block"),
    )
    return model


def mobilenet_v1(fn):
    """An older exercise's Task 6: MobileNet v1 from the table, built from the learner's blocks, with α."""
    _mobilenet_v1(6, fn)


def _mobilenet_v1(number, fn):
    with Task(number, "mobilenet_v1") as t:
        t.function(fn, "mobilenet_v1")
        for alpha, shape, n_class in [(0.3, (64, 40, 3), 7), (0.55, (48, 80, 1), 5)]:
            what = f"mobilenet_v1(alpha={alpha}, input_shape={shape}, n_class={n_class})"  # not a message
            model = _counting_block_calls(t, fn, dict(alpha=alpha, input_shape=shape, n_class=n_class), what)
            ref = reference("mobilenet_v1", (alpha, n_class), shape)
            classes = lambda got: _("the classifier has n_class units (α does not apply to it)")  # noqa: E731
            compare_with_reference(t, model, ref, what, _hint, classes, input_scale=INPUT_SCALE, fit_statistics=True)


# -- Task 2 · the cost ratio with a depth multiplier -------------------------------------
RATIO_GRID = [(3, 8, 16, 1), (3, 32, 64, 2), (5, 3, 10, 3), (7, 16, 8, 4), (1, 4, 6, 2), (3, 512, 512, 1)]  # K C M d
RATIO_SLIPS = [
    (
        lambda K, C, M, d: 1 / M + 1 / K**2,
        N_("d multiplies both terms: the depthwise makes C·d maps, the 1×1 reads C·d"),
    ),
    (lambda K, C, M, d: d / K**2 + 1 / M, N_("the 1×1 conv reads the C·d maps of the depthwise conv: d/M, not 1/M")),
    (
        lambda K, C, M, d: 1 / K**2 + d / M,
        N_("the depthwise conv makes d maps per channel: its cost has a factor d too"),
    ),
    (lambda K, C, M, d: 1 / (d / M + d / K**2), N_("separable divided by standard, not standard divided by separable")),
    (lambda K, C, M, d: d / M + d / K, N_("a K×K kernel has K·K weights: d/K², not d/K")),
    (lambda K, C, M, d: d * d / M + d * d / K**2, N_("d appears once in each term, not squared")),
    (lambda K, C, M, d: 100 * (d / M + d / K**2), N_("return the ratio itself, not a percentage")),
    (lambda K, C, M, d: d / M + d / K**2 - 1, N_("return the ratio, not the saving (1 − ratio) or the difference")),
    (lambda K, C, M, d: 1 - d / M - d / K**2, N_("return the ratio, not the saving (1 − ratio) or the difference")),
    (lambda K, C, M, d: d / C + d / K**2, N_("the standard conv maps C to M channels: the 1×1 term is d/M, not d/C")),
]


def separable_ratio(fn):
    """Task 2: (depthwise with multiplier d + pointwise) / standard = d/M + d/K²."""
    with Task(2, "separable_ratio") as t:
        t.function(fn, "separable_ratio")
        for K, C, M, d in RATIO_GRID:
            what = f"separable_ratio(K={K}, C={C}, M={M}, d={d})"  # not a message
            got = t.call(fn, (K, C, M), {"d": d}, what=what)
            t.expect(
                isinstance(got, numbers.Real) and not isinstance(got, bool),
                _("{what} should be a number").format(what=what),
                _("a float such as 0.1736"),
                got,
                _("return the ratio as a number (a float), not a string or a tuple"),
            )
            expected = d / M + d / K**2
            hint = next(
                (_(h) for slip, h in RATIO_SLIPS if math.isclose(float(got), slip(K, C, M, d), rel_tol=1e-6)),
                _(
                    "cost of the depthwise conv (multiplier d) plus the 1×1 conv on its C·d maps,"
                    " over the standard cost"
                ),
            )
            t.expect(math.isclose(float(got), expected, rel_tol=1e-6), what, round(expected, 6), got, hint)


# -- Task 3 · α and ρ under a budget of multiply-adds ------------------------------------
ALPHAS = (1.0, 0.75, 0.5, 0.25)
RESOLUTIONS = (224, 192, 160, 128)


def v1_macs(alpha, resolution, n_class=1000, table=TABLE, classifier=True, stem_stride=2):
    """MobileNet v1's multiply-adds (the Task 5 network): stem, 13 blocks, the Dense classifier."""
    size = -(-resolution // stem_stride)
    channels = int(32 * alpha)
    total = size * size * 9 * 3 * channels
    for filters, strides in table:
        size = -(-size // strides)
        total += size * size * channels * 9 + size * size * channels * int(filters * alpha)
        channels = int(filters * alpha)
    return total + classifier * channels * n_class


def _best(budget, n_class, macs=v1_macs, strict=False, pick=max):
    fits = [
        (macs(a, r, n_class), a, r)
        for a in ALPHAS
        for r in RESOLUTIONS
        if (macs(a, r, n_class) < budget if strict else macs(a, r, n_class) <= budget)
    ]
    return tuple(float(v) for v in pick(fits)[1:]) if fits else None


def _budget_cases():
    """(budget, n_class): around several pairs' exact costs, above everything, below everything."""
    cases = []
    pairs = [((0.75, 224), 1000), ((1.0, 128), 1000), ((0.5, 224), 1000), ((0.5, 192), 10), ((1.0, 160), 10)]
    for (alpha, resolution), n_class in pairs:
        exact = v1_macs(alpha, resolution, n_class)
        cases += [(exact, n_class), (exact - 1, n_class)]
        if n_class == 1000:  # below the exact count by more than the classifier's, less than a stride-2 last block's
            cases.append((exact - 2_000_000, n_class))
    cases += [(300_000_000, 1000), (10**10, 1000), (10**6, 1000)]
    return cases


def mobilenet_budget(fn):
    """Task 3: the (α, resolution) of the paper's grids with the most multiply-adds within the budget."""
    TABLE_TYPO = [*TABLE[:-1], (1024, 2)]
    slips = [
        (dict(macs=lambda a, r, n: v1_macs(a, r, n, classifier=False)), _("count the classifier too: C·n_class")),
        (dict(macs=lambda a, r, n: v1_macs(a, r, 1000)), _("use n_class for the classifier's multiply-adds")),
        (dict(strict=True), _("a network that needs exactly the budget fits: <=, not <")),
        (dict(pick=min), _("of the pairs that fit, take the one with the most multiply-adds, not the fewest")),
        (
            dict(macs=lambda a, r, n: v1_macs(a, r, n, table=TABLE_TYPO)),
            _("the last block has stride 1 (Task 5's table corrects the paper's typo)"),
        ),
        (
            dict(macs=lambda a, r, n: v1_macs(a, r, n, stem_stride=1)),
            _("the first convolution has stride 2: the blocks start at half the resolution"),
        ),
        (
            dict(macs=lambda a, r, n: int(v1_macs(1.0, 224, n) * a * a * (r / 224) ** 2)),
            _("α² and ρ² are only approximate (the first conv and the classifier scale otherwise): count the layers"),
        ),
    ]
    greedy = (
        lambda budget, n_class: next(
            ((a, float(r)) for a in ALPHAS for r in RESOLUTIONS if v1_macs(a, r, n_class) <= budget), None
        ),
        _("the widest α that fits is not always best: compare all 16 pairs by their multiply-adds"),
    )
    predictions = [
        (lambda budget, n_class, slip=slip: _best(budget, n_class, **slip), advice) for slip, advice in slips
    ]
    predictions.append(greedy)
    with Task(3, "mobilenet_budget") as t:
        t.function(fn, "mobilenet_budget")
        answers = []  # (what, budget, n_class, the learner's answer as a pair of floats or None)
        for budget, n_class in _budget_cases():
            what = f"mobilenet_budget({budget:_}, n_class={n_class})"  # not a message
            got = _call_allowing_none(t, fn, budget, n_class, what)
            if got is not None:
                ok = isinstance(got, (tuple, list)) and len(got) == 2
                ok = ok and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in got)
                t.expect(
                    ok,
                    _("{what} should return a pair of numbers").format(what=what),
                    "(alpha, resolution)",  # not a message
                    got,
                    _("return (alpha, resolution)"),
                )
                got = (float(got[0]), float(got[1]))
            answers.append((what, budget, n_class, got))
        for what, budget, n_class, got in answers:
            expected = _best(budget, n_class)
            if got == expected:
                t.passed += 1
                continue
            if expected is None:
                t.fail(what, None, got, _("when no pair fits the budget, return None"))
            if got is None:
                t.fail(what, expected, None, _("return None only when no pair fits the budget"))
            if got[::-1] == expected:
                t.fail(what, expected, got, _("return (alpha, resolution) in this order"))
            everywhere = [advice for slip, advice in predictions if all(slip(b, n) == g for _what, b, n, g in answers)]
            here = [advice for slip, advice in predictions if slip(budget, n_class) == got]
            hint = (everywhere + here + [_("compute each pair's multiply-adds; keep the most within the budget")])[0]
            t.fail(what, expected, got, hint)


def _call_allowing_none(t, fn, budget, n_class, what):
    """The learner's answer where None is the right one (Task.call refuses None)."""
    try:
        return fn(budget, n_class=n_class)
    except NotImplementedError:
        t.fail(
            _("{what}: not written yet").format(what=what),
            hint=_("replace `raise NotImplementedError()` with your code and run it"),
        )
    except Exception as err:  # the learner's code failed: say how, in one line
        t.fail(
            _("{what} raised {error}").format(what=what, error=type(err).__name__),
            got=first_line(err),
            hint=error_hint(err, what),
        )


# -- Task 6 · a MobileNetV2 stage ----------------------------------------------------------
def _stage_hint(t_factor):
    def hint(e, g):
        if (
            g is not None
            and g.kind in ("ReLU6", "ReLU")
            and (e is None or e.kind in ("Add", "Conv2D", "DepthwiseConv2D"))
        ):
            return _("no activation after the projection's BN: the linear bottleneck keeps it linear")
        if e is not None and e.kind == "Add" and (g is None or g.kind != "Add"):
            return _("add the block's input to its output when the stride is 1 and the channels stay c (the shortcut)")
        if g is not None and g.kind == "Add" and (e is None or e.kind != "Add"):
            return _("no shortcut where the stride is 2 or the channels change: only the later blocks add their input")
        if e is not None and g is not None:
            kinds = (e.kind, g.kind)
            if kinds == ("DepthwiseConv2D", "Conv2D") and g.settings["kernel"] == (1, 1):
                return _("with t = 1 there is no expansion conv: the block starts with the depthwise conv")
            if kinds == ("Conv2D", "DepthwiseConv2D"):
                return _("with t ≠ 1 every block starts with a 1×1 expansion conv to t·C_in channels")
            if kinds == ("DepthwiseConv2D", "DepthwiseConv2D") and e.settings["strides"] != g.settings["strides"]:
                if e.settings["strides"] == (1, 1):
                    return _("only the first block of the stage has stride s; the others have stride 1")
                return _("the first block has the stride s, on its depthwise conv")
            if kinds == ("Conv2D", "Conv2D") and e.settings["filters"] != g.settings["filters"]:
                return (
                    _("the expansion conv has t·C_in filters, C_in being the block's own input channels")
                    if e.settings["filters"] != g.settings["filters"] and g.settings["filters"] % t_factor == 0
                    else _("the projection has c filters")
                )
        return _hint(e, g)

    return hint


STAGE_CONFIGS = [  # C_in, t, c, n, s, input size
    (5, 6, 7, 3, 2, (9, 10)),  # stride 2 and new channels: no shortcut in block 0
    (4, 1, 4, 2, 1, (8, 6)),  # t = 1: no expansion; stride 1 and the same channels: a shortcut in every block
    (6, 3, 5, 2, 1, (7, 5)),  # stride 1 but new channels: no shortcut in block 0
    (4, 2, 4, 2, 2, (7, 6)),  # the same channels but stride 2: no shortcut in block 0
]


def inverted_residual_stage(fn):
    """Task 6: n inverted residual blocks from a row (t, c, n, s) of MobileNetV2's Table 2."""
    with Task(6, "inverted_residual_stage") as t:
        t.function(fn, "inverted_residual_stage")
        for c_in, factor, c, n, stride, size in STAGE_CONFIGS:
            shape = f"{size[0]}×{size[1]}×{c_in}"
            call = f"inverted_residual_stage(x, t={factor}, c={c}, n={n}, s={stride})"  # not a message
            what = _("{call} on a {shape} input").format(call=call, shape=shape)
            build = lambda x, a=(factor, c, n, stride): fn(x, *a, name="probe")  # noqa: E731
            model = probe_model(
                t,
                build,
                (*size, c_in),
                what,
                hint=lambda err: (
                    _("the input joins only blocks whose stride is 1 and whose input has c channels")
                    if "shape" in str(err).lower()
                    else None
                ),
            )
            ref = reference("inverted_residual_stage", (c_in, factor, c, n, stride), (*size, c_in))

            def shape_hint(got, c=c):
                if got[-1] != c:
                    return _("every block projects to c channels")
                return _("the first block alone has stride s (padding='same'); the others stride 1")

            compare_with_reference(
                t,
                model,
                ref,
                what,
                _stage_hint(factor),
                shape_hint,
                _(
                    "the layers match, but not their wiring: each block reads the previous block's output, "
                    "and its shortcut adds that same input to its projection's BN"
                ),
                input_scale=INPUT_SCALE,
                read=canonical_steps,
            )


def p86_drill(depthwise_madds, pointwise_madds, saving):
    """Task 7: the notes' P86 question with numbers: H = W = 28, C = 256, M = 512, D_K = 3."""
    H, W, C, M, K = 28, 28, 256, 512, 3
    numbers = (int, float, np.integer, np.floating)
    with Task(7, _("P86 drill")) as t:
        i = _number(t, t.value(depthwise_madds, "depthwise_madds", numbers), "depthwise_madds")
        u = _number(t, t.value(pointwise_madds, "pointwise_madds", numbers), "pointwise_madds")
        t.value(saving, "saving", numbers)
        swapped = _("you swapped them: (い) is the depthwise cost, (う) the pointwise one")
        t.equal(
            _("(い) depthwise multiply-adds"), i, H * W * C * K * K, swapped if i == H * W * C * M else "H·W·C·D_K·D_K"
        )
        t.equal(_("(う) pointwise multiply-adds"), u, H * W * C * M, "H·W·C·M")
        expected = (H * W * C * K * K + H * W * C * M) / (H * W * K * K * C * M)
        hint = _("separable / standard, a number below 1: 1/M + 1/D_K²") if saving > 1 else "1/M + 1/D_K²"
        t.expect(
            math.isclose(float(saving), expected, rel_tol=1e-6),
            _("saving: (depthwise + pointwise) / standard"),
            round(expected, 6),
            saving,
            hint,
        )

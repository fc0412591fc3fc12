"""The cost table: formulas per layer, and MAC totals cross-checked with TensorFlow's profiler.

TensorFlow's profiler counts floating-point operations; a multiply-accumulate is
two of them. Its flop statistics per op type (Conv2D, DepthwiseConv2dNative,
Conv2DBackpropInput for transposed convs, MatMul) are registered in
``tensorflow.python.profiler.internal.flops_registry``; ``tf.compat.v1.profiler``
totals them for a graph. In TF 2.21 that public report lists only a Conv2D row for
a Keras graph, so each model is checked twice: its Conv2D total against the public
profiler, and every counted op against the registry the profiler uses.
"""

import math

import numpy as np
import pytest

from cnn_course import costs

COUNTED_OPS = {
    "Conv2D",
    "DepthwiseConv2dNative",
    "Conv2DBackpropInput",
    "MatMul",
    "BatchMatMulV2",
    "BatchMatMulV3",
    "Conv3D",
}


def tf_graph(model):
    import tensorflow as tf

    spec = [tf.TensorSpec((1, *model.input.shape[1:]), tf.float32)]
    return tf.function(lambda x: model(x, training=False)).get_concrete_function(*spec).graph


def registry_flops(model):
    """{op type: flops} from the statistics TensorFlow's profiler registers for each op."""
    from tensorflow.python.framework import ops
    from tensorflow.python.profiler.internal import flops_registry  # noqa: F401  (registers MatMul & co.)

    graph, totals = tf_graph(model), {}
    for op in graph.get_operations():
        if op.type in COUNTED_OPS:
            totals[op.type] = totals.get(op.type, 0) + int(
                ops.get_stats_for_node_def(graph, op.node_def, "flops").value
            )
    return totals


def profiler_conv2d_flops(model):
    import tensorflow as tf

    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    report = tf.compat.v1.profiler.profile(graph=tf_graph(model), cmd="op", options=options)
    return {child.name: child.float_ops for child in report.children}.get("Conv2D", 0)


def single_layer_model(keras, layer, input_shape):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, layer(inputs))


LAYERS = {
    "conv 3×3 stride 2 same": (lambda L: L.Conv2D(16, 3, strides=2, padding="same"), (20, 20, 8)),
    "conv 5×3 stride (1, 2) valid": (lambda L: L.Conv2D(7, (5, 3), strides=(1, 2)), (17, 19, 6)),
    "conv dilation 2": (lambda L: L.Conv2D(12, 3, dilation_rate=2), (20, 20, 8)),
    "1×1 conv": (lambda L: L.Conv2D(32, 1), (9, 9, 24)),
    "conv1d stride 2": (lambda L: L.Conv1D(8, 5, strides=2), (50, 4)),
    # TensorFlow runs a dilated conv as space-to-batch + conv, padding the length to a multiple of the
    # dilation; 52 + 8 causal pad = 60 needs no extra padding, so its flops are the convolution's own.
    "conv1d causal dilation 4": (lambda L: L.Conv1D(8, 3, dilation_rate=4, padding="causal"), (52, 4)),
    "depthwise 3×3": (lambda L: L.DepthwiseConv2D(3, padding="same"), (14, 14, 10)),
    "depthwise stride 2, multiplier 3": (lambda L: L.DepthwiseConv2D(3, strides=2, depth_multiplier=3), (15, 15, 4)),
    "transposed conv 3×3 stride 2": (lambda L: L.Conv2DTranspose(5, 3, strides=2, padding="same"), (7, 7, 6)),
    "dense": (lambda L: L.Dense(10), (64,)),
    "dense on a sequence": (lambda L: L.Dense(6), (7, 5)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_macs_match_tensorflow_flops(keras, name):
    build, shape = LAYERS[name]
    model = single_layer_model(keras, build(keras.layers), shape)
    table = costs.layer_costs(model)
    assert 2 * table.total_macs == sum(registry_flops(model).values())
    assert table.total_params == model.count_params()


def test_grouped_conv_costs_what_its_groups_cost(keras):
    # TensorFlow runs a grouped conv inside a compiled function the registry cannot see into,
    # so compare with the same computation written out: one conv per group of input channels.
    L = keras.layers
    inputs = keras.Input((12, 12, 8))
    grouped = keras.Model(inputs, L.Conv2D(16, 3, groups=4, padding="same")(inputs))
    slices = [L.Conv2D(4, 3, padding="same")(inputs[..., 2 * g : 2 * g + 2]) for g in range(4)]
    per_group = keras.Model(inputs, L.Concatenate()(slices))
    assert costs.count_macs(grouped) == costs.count_macs(per_group) == 12 * 12 * 16 * 9 * 2
    assert 2 * costs.count_macs(grouped) == sum(registry_flops(per_group).values())
    assert costs.layer_costs(grouped).total_params == grouped.count_params() == 16 * 9 * 2 + 16


def test_transposed_conv_costs_what_its_adjoint_conv_costs(keras):
    # A transposed conv is the input-gradient of a strided conv: each input value meets K·K·C_out weights.
    # TensorFlow's registry estimates its flops from the output size divided by stride², which is exact
    # only for "same" padding (the case above); for "valid" padding compare with the adjoint conv itself.
    L = keras.layers
    transposed = single_layer_model(keras, L.Conv2DTranspose(3, 4, strides=2), (5, 5, 2))
    assert transposed.output.shape[1:] == (12, 12, 3)
    forward = single_layer_model(keras, L.Conv2D(2, 4, strides=2), (12, 12, 3))
    assert forward.output.shape[1:] == (5, 5, 2)
    assert costs.count_macs(transposed) == costs.count_macs(forward) == 5 * 5 * 2 * 16 * 3
    assert 2 * costs.count_macs(transposed) == sum(registry_flops(forward).values())


def test_separable_conv_is_depthwise_plus_pointwise(keras):
    L = keras.layers
    inputs = keras.Input((16, 16, 8))
    separable = keras.Model(inputs, L.SeparableConv2D(12, 3, strides=2, depth_multiplier=2, padding="same")(inputs))
    pair = keras.Model(
        inputs, L.Conv2D(12, 1)(L.DepthwiseConv2D(3, strides=2, depth_multiplier=2, padding="same")(inputs))
    )
    assert costs.count_macs(separable) == costs.count_macs(pair) == 8 * 8 * (8 * 2 * 9 + 8 * 2 * 12)
    assert 2 * costs.count_macs(separable) == sum(registry_flops(pair).values())


APPLICATIONS = [
    ("MobileNet", (96, 96, 3)),
    ("MobileNetV2", (96, 96, 3)),
    ("ResNet50", (64, 64, 3)),
    ("DenseNet121", (64, 64, 3)),
    ("Xception", (71, 71, 3)),
]


@pytest.mark.parametrize("name, shape", APPLICATIONS)
def test_application_totals_match_the_profiler(keras, name, shape):
    model = getattr(keras.applications, name)(weights=None, input_shape=shape)
    table = costs.layer_costs(model)
    assert table.unknown == []
    assert table.total_params == model.count_params()
    flops = registry_flops(model)
    assert 2 * table.total_macs == sum(flops.values())
    conv2d_macs = table.macs_of("Conv2D", "SeparableConv2D") - _separable_depthwise_macs(model)
    assert 2 * conv2d_macs == profiler_conv2d_flops(model)


def _separable_depthwise_macs(model):
    """The depthwise half of SeparableConv2D layers, which TensorFlow runs as a DepthwiseConv2dNative op."""
    total = 0
    for layer in model.layers:
        if type(layer).__name__ == "SeparableConv2D":
            h, w = layer.output.shape[1:3]
            total += h * w * layer.input.shape[-1] * layer.depth_multiplier * math.prod(layer.kernel_size)
    return total


def test_mobilenet_matches_the_paper(keras):
    # Howard et al. 2017, Table 8: 1.0 MobileNet-224 has 569 million mult-adds and 4.2 million parameters
    model = keras.applications.MobileNet(weights=None)
    assert round(costs.count_macs(model) / 1e6) == 569
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)  # the paper counts what is trained
    assert round(trainable / 1e6, 1) == 4.2


def test_unknown_layers_are_listed_not_dropped(keras):
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.Lambda(lambda t: t * 2.0, name="doubling")(x)
    table = costs.layer_costs(keras.Model(inputs, x))
    assert [r.name for r in table.unknown] == ["doubling"]
    assert table.total_macs == 6 * 6 * 4 * 27
    text = str(table)
    assert "doubling" in text and "+ ?" in text and "not counted" in text


def test_layers_without_fixed_sizes_are_listed_not_guessed(keras):
    inputs = keras.Input((None, 4))  # a sequence of any length
    model = keras.Model(inputs, keras.layers.Conv1D(8, 3, padding="causal", name="conv")(inputs))
    table = costs.layer_costs(model)
    assert [r.name for r in table.unknown] == ["conv"] and table.total_params == model.count_params()
    assert "sizes not fixed" in str(table)


def test_nested_models_are_expanded_and_groups_add_up(keras):
    base = keras.applications.MobileNet(weights=None, input_shape=(32, 32, 3), include_top=False)
    outer = keras.Sequential(
        [keras.Input((32, 32, 3)), base, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(5)]
    )
    table = costs.layer_costs(outer)
    assert table.total_params == outer.count_params()
    assert any(r.name.startswith(f"{base.name}/conv_dw_1") for r in table.rows)
    grouped = table.group(lambda name: name.split("/")[0])
    assert [r.name for r in grouped.rows] == [base.name, outer.layers[1].name, outer.layers[2].name]
    assert grouped.total_macs == table.total_macs and grouped.total_params == table.total_params


def test_macs_of_filters_by_kind(keras):
    table = costs.layer_costs(keras.applications.MobileNet(weights=None, input_shape=(64, 64, 3)))
    depthwise, conv = table.macs_of("DepthwiseConv2D"), table.macs_of("Conv2D")
    assert depthwise > 0 and conv > 0 and depthwise + conv == table.total_macs


def test_bad_input_gets_a_sentence(keras):
    with pytest.raises(TypeError, match="expects a keras.Model, got Dense"):
        costs.layer_costs(keras.layers.Dense(3))


@pytest.mark.parametrize(
    "n, text", [(568_740_352, "568.7 M"), (2_834_161_664, "2.8 G"), (25_600, "25.6 k"), (999, "999")]
)
def test_format_count(n, text):
    assert costs.format_count(n) == text


def test_table_text_has_a_row_per_layer_and_totals(keras):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="fc")])
    lines = str(costs.layer_costs(model)).splitlines()
    assert lines[-1].split() == ["total", "15", "12"]
    assert any(line.startswith("fc") and line.split()[-2:] == ["15", "12"] for line in lines)
    assert np.isclose(costs.count_macs(model), 12)

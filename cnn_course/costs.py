"""Parameters and multiply-accumulates (MACs) per layer of a Keras model.

A MAC is one multiplication added into a sum: what papers call a "mult-add"
(MobileNet's 569 M for 224×224 inputs). Only convolutions and dense layers are
counted, as the papers do; normalisation, activations, pooling, padding and
joins cost a few element-wise operations per value and count as 0 here. A
layer the table does not know is listed with "?" and named under the table,
never dropped silently.

    table = layer_costs(model)
    print(table)                      # one row per layer, with totals
    table.total_macs, table.total_params
"""

import math
from dataclasses import dataclass

# Layers that hold no multiply-accumulates by the papers' convention.
ZERO_MAC_LAYERS = frozenset(
    """
    InputLayer Activation ReLU LeakyReLU PReLU ELU Softmax
    Add Subtract Multiply Average Maximum Minimum Concatenate Dot
    Flatten Reshape Permute RepeatVector Identity Masking
    Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D GaussianNoise GaussianDropout AlphaDropout
    ZeroPadding1D ZeroPadding2D ZeroPadding3D Cropping1D Cropping2D Cropping3D
    UpSampling1D UpSampling2D UpSampling3D
    MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D AveragePooling3D
    GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D
    GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D
    BatchNormalization LayerNormalization GroupNormalization UnitNormalization
    Rescaling Normalization Resizing CenterCrop
    RandomFlip RandomRotation RandomZoom RandomTranslation RandomContrast RandomCrop RandomBrightness
    """.split()
)


@dataclass(frozen=True)
class LayerCost:
    """One row of the table: a layer's output shape, parameters and MACs (None: unknown)."""

    name: str
    kind: str
    output_shape: tuple | None
    params: int
    macs: int | None


def _shape(tensor_or_list):
    if isinstance(tensor_or_list, (list, tuple)):
        return [tuple(t.shape) for t in tensor_or_list]
    return tuple(tensor_or_list.shape)


def _channels_last(layer):
    return getattr(layer, "data_format", "channels_last") != "channels_first"


def _spatial_and_channels(shape, layer):
    """(spatial sizes, channels) of a (batch, ..., channels) or (batch, channels, ...) shape."""
    if _channels_last(layer):
        return shape[1:-1], shape[-1]
    return shape[2:], shape[1]


def layer_macs(layer, input_shape, output_shape):
    """Multiply-accumulates of one call of `layer`, or None if the table does not know the layer."""
    from keras import layers

    kind = type(layer).__name__
    if kind in ZERO_MAC_LAYERS:
        return 0
    if None in (*input_shape[1:], *output_shape[1:]):  # e.g. a sequence of any length: no fixed count
        return None
    if isinstance(layer, (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)):
        spatial_in, c_in = _spatial_and_channels(input_shape, layer)
        return math.prod(spatial_in) * c_in * math.prod(layer.kernel_size) * layer.filters
    if isinstance(layer, (layers.SeparableConv1D, layers.SeparableConv2D)):
        spatial_out, _ = _spatial_and_channels(output_shape, layer)
        _, c_in = _spatial_and_channels(input_shape, layer)
        depthwise = math.prod(spatial_out) * c_in * layer.depth_multiplier * math.prod(layer.kernel_size)
        pointwise = math.prod(spatial_out) * c_in * layer.depth_multiplier * layer.filters
        return depthwise + pointwise
    if isinstance(layer, (layers.DepthwiseConv1D, layers.DepthwiseConv2D)):
        spatial_out, c_out = _spatial_and_channels(output_shape, layer)
        return math.prod(spatial_out) * c_out * math.prod(layer.kernel_size)
    if isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Conv3D)):
        spatial_out, c_out = _spatial_and_channels(output_shape, layer)
        _, c_in = _spatial_and_channels(input_shape, layer)
        return math.prod(spatial_out) * c_out * math.prod(layer.kernel_size) * (c_in // layer.groups)
    if isinstance(layer, layers.Dense):
        return math.prod(output_shape[1:]) * input_shape[-1]
    return None


def _rows(model, prefix=""):
    import keras

    for layer in model.layers:
        name = prefix + layer.name
        if isinstance(layer, keras.Model):  # a model used as a layer: list its layers
            yield from _rows(layer, prefix=f"{name}/")
            continue
        try:
            inputs, outputs = _shape(layer.input), _shape(layer.output)
        except (AttributeError, ValueError):  # a layer called more than once has no single shape
            inputs = outputs = None
        single = isinstance(inputs, tuple) and isinstance(outputs, tuple)
        macs = (
            layer_macs(layer, inputs, outputs) if single else (0 if type(layer).__name__ in ZERO_MAC_LAYERS else None)
        )
        shape = outputs if isinstance(outputs, tuple) else None
        yield LayerCost(name, type(layer).__name__, shape, layer.count_params(), macs)


class CostTable:
    """Rows of ``LayerCost`` with totals; prints as a fixed-width table."""

    def __init__(self, rows, title=""):
        self.rows = list(rows)
        self.title = title

    @property
    def total_params(self):
        return sum(r.params for r in self.rows)

    @property
    def total_macs(self):
        """Sum of the MACs the table knows (see ``unknown`` for the rest)."""
        return sum(r.macs for r in self.rows if r.macs is not None)

    @property
    def unknown(self):
        """Rows whose MACs the table could not count."""
        return [r for r in self.rows if r.macs is None]

    def macs_of(self, *kinds):
        """Total MACs of the layers of the given kinds, e.g. ``macs_of("DepthwiseConv2D")``."""
        return sum(r.macs or 0 for r in self.rows if r.kind in kinds)

    def group(self, key):
        """One row per group of layers, ``key(name) -> group name``, in order of first appearance."""
        groups = {}
        for r in self.rows:
            groups.setdefault(key(r.name), []).append(r)
        merged = []
        for name, rows in groups.items():
            kinds = sorted({r.kind for r in rows})
            macs = None if any(r.macs is None for r in rows) else sum(r.macs for r in rows)
            kind = kinds[0] if len(kinds) == 1 else f"{len(rows)} layers"
            merged.append(LayerCost(name, kind, rows[-1].output_shape, sum(r.params for r in rows), macs))
        return CostTable(merged, self.title)

    def to_text(self):
        header = ("layer", "type", "output shape", "params", "MACs")
        lines = [
            (
                r.name,
                r.kind,
                "?" if r.output_shape is None else str(r.output_shape).replace("None", "N"),
                f"{r.params:,}",
                "?" if r.macs is None else f"{r.macs:,}",
            )
            for r in self.rows
        ]
        total = ("total", "", "", f"{self.total_params:,}", f"{self.total_macs:,}" + (" + ?" if self.unknown else ""))
        widths = [max(len(row[i]) for row in [header, total, *lines]) for i in range(5)]

        def fmt(row):
            left = [row[i].ljust(widths[i]) for i in range(3)]
            right = [row[i].rjust(widths[i]) for i in range(3, 5)]
            return "  ".join(left + right).rstrip()

        rule = "-" * len(fmt(header))
        out = ([self.title] if self.title else []) + [fmt(header), rule, *map(fmt, lines), rule, fmt(total)]
        if self.unknown:
            names = ", ".join(f"{r.name} ({r.kind})" for r in self.unknown)
            out.append(f"not counted (layers the cost table does not know, or sizes not fixed): {names}")
        return "\n".join(out)

    def __str__(self):
        return self.to_text()

    __repr__ = __str__


def layer_costs(model):
    """The cost table of a built Keras model (functional or Sequential, nested models expanded)."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"layer_costs expects a keras.Model, got {type(model).__name__}")
    if not model.built or not model.layers:
        raise ValueError(f"model {model.name!r} has no built layers: build it on an input shape first")
    return CostTable(_rows(model), title=f"{model.name}: {model.count_params():,} parameters")


def count_macs(model):
    """Total multiply-accumulates of one forward pass of one sample."""
    return layer_costs(model).total_macs


def format_count(n):
    """A count in words people use for network sizes: 568.7 M, 3.2 G, 25.6 k."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return str(n)

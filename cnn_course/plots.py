"""The figures the units share: one plot style, training curves, image grids."""

import matplotlib.pyplot as plt
import numpy as np

COURSE_STYLE = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 90,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
}


def use_course_style():
    """Make the course's plot style the default (``setup()`` calls this)."""
    plt.rcParams.update(COURSE_STYLE)


def _history_dict(history):
    data = getattr(history, "history", history)
    if not isinstance(data, dict) or not data:
        raise TypeError(
            f"expected what model.fit returns (a History) or its .history dict, got {type(history).__name__}"
        )
    return data


def plot_history(history, metrics=("loss", "accuracy"), title=None):
    """Training and validation curves of ``model.fit``, one panel per metric.

    `history` is the History that ``fit`` returns (or its ``.history`` dict);
    metrics missing from it are skipped.
    """
    data = _history_dict(history)
    shown = [m for m in metrics if m in data]
    if not shown:
        raise ValueError(f"none of {list(metrics)} is in the history; it has {sorted(data)}")
    fig, axes = plt.subplots(1, len(shown), figsize=(3.6 * len(shown), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], shown, strict=True):
        epochs = np.arange(1, len(data[metric]) + 1)
        ax.plot(epochs, data[metric], marker="o", ms=3, label="training")
        if f"val_{metric}" in data:
            ax.plot(epochs, data[f"val_{metric}"], marker="o", ms=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def show_images(images, titles=None, ncols=8, cmap="gray", title=None, vmin=None, vmax=None, colorbar=None):
    """A grid of images (n, h, w) or (n, h, w, c) with optional per-image titles.

    `vmin` and `vmax` fix one colour scale for all images (e.g. symmetric around 0 for filters);
    `colorbar`, a label, draws that common scale beside the grid (it needs `vmin` and `vmax`).
    """
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4):
        raise ValueError(f"expected images shaped (n, h, w) or (n, h, w, c), got shape {images.shape}")
    if colorbar is not None and (vmin is None or vmax is None):
        raise ValueError("a colour bar shows one scale shared by all images: pass vmin and vmax with it")
    n = len(images)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    width = 1.2 * ncols + (1.0 if colorbar is not None else 0.0)
    layout = "constrained" if colorbar is not None else None
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, 1.35 * nrows), squeeze=False, layout=layout)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            shown = ax.imshow(images[i], cmap=cmap, vmin=vmin, vmax=vmax)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
            if colorbar is not None:  # a thin frame: on a diverging scale an image's edge can be as white as the gap
                ax.axis("on")
                ax.set(xticks=[], yticks=[])
                ax.grid(False)
                for spine in ax.spines.values():
                    spine.set(visible=True, color="0.6", linewidth=0.6)
    if title:
        fig.suptitle(title)
    if colorbar is not None:
        fig.get_layout_engine().set(wspace=0.06, hspace=0.06)  # a visible gap between neighbouring images
        fig.colorbar(shown, ax=axes, shrink=0.9, label=colorbar)
    else:
        fig.tight_layout()
    plt.show()


def _readable(metric):
    """A History key as an axis label: ``val_accuracy`` → ``validation accuracy``, ``loss`` → ``training loss``."""
    if metric.startswith("val_"):
        return "validation " + metric[4:].replace("_", " ")
    return "training " + metric.replace("_", " ")


def compare_histories(histories, metric="val_accuracy", title=None):
    """One curve per training run, e.g. ``{"plain": h1, "residual": h2}``, for one metric of ``fit``."""
    if not isinstance(histories, dict) or not histories:
        raise TypeError(f"expected a dict of label → History, got {type(histories).__name__}")
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for label, history in histories.items():
        data = _history_dict(history)
        if metric not in data:
            raise ValueError(f"{label!r} has no {metric!r}; it has {sorted(data)}")
        ax.plot(np.arange(1, len(data[metric]) + 1), data[metric], marker="o", ms=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(_readable(metric))
    ax.set_title(title or _readable(metric))
    ax.legend()
    fig.tight_layout()
    plt.show()


def plot_confusion_matrix(y_true, y_pred, labels=None, title="confusion matrix"):
    """Counts of (true class, predicted class) as an annotated image."""
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {y_true.shape[0]} and {y_pred.shape[0]}")
    n = int(max(y_true.max(), y_pred.max())) + 1 if labels is None else len(labels)
    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    labels = list(range(n)) if labels is None else list(labels)
    fig, ax = plt.subplots(figsize=(0.45 * n + 1.8, 0.45 * n + 1.4))
    ax.imshow(counts, cmap="Blues")
    for (i, j), value in np.ndenumerate(counts):
        if value:
            ax.text(
                j,
                i,
                value,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if value > counts.max() / 2 else "black",
            )
    ax.set_xticks(range(n), labels)
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    ax.grid(False)
    fig.tight_layout()
    plt.show()


BOX_COLOURS = {"conv": "#fde7c8", "norm": "#d9e8f5", "act": "#e3f1dc", "add": "white", "io": "white", "pool": "#ececec"}


def draw_diagram(ax, boxes, arrows=(), title=None):
    """A block diagram in the style of the papers' figures: labelled boxes joined by arrows.

    ``boxes`` maps a name to ``(x, y, text)`` or ``(x, y, text, kind)`` (kind: a key of
    ``BOX_COLOURS`` or a colour); ``arrows`` are ``(from, to)`` or ``(from, to, label, detour)``:
    a detour > 0 (in points) draws the arrow around the right of the boxes between, as a shortcut.
    An arrow goes from the bottom of a box to the top of the next, or side to side when the next
    box is further right.
    Returns the text artists by name, so a test or a caller can find each box.
    """
    drawn = {}
    for name, spec in boxes.items():
        if len(spec) not in (3, 4):
            raise ValueError(f"box {name!r}: expected (x, y, text) or (x, y, text, kind), got {spec!r}")
        x, y, text, *kind = spec
        colour = BOX_COLOURS.get(kind[0], kind[0]) if kind else "white"
        style = "circle,pad=0.15" if text == "+" else "round,pad=0.35"
        drawn[name] = ax.text(
            x, y, text, ha="center", va="center", fontsize=9, bbox={"boxstyle": style, "facecolor": colour}
        )
    for arrow in arrows:
        if len(arrow) not in (2, 4):
            raise ValueError(f"arrow {arrow!r}: expected (from, to) or (from, to, label, detour)")
        start, end, label, detour = (*arrow, None, 0) if len(arrow) == 2 else arrow
        for name in (start, end):
            if name not in drawn:
                raise ValueError(f"arrow {start!r} → {end!r}: no box named {name!r} (boxes: {', '.join(drawn)})")
        if detour:  # out of the right side of `start`, down at `detour` points to the right, into `end`
            style = f"arc,angleA=0,angleB=0,armA={detour},armB={detour},rad=6"
            ends = {"xy": (1.0, 0.5), "xytext": (1.0, 0.5)}
        elif boxes[end][0] > boxes[start][0]:  # a box further right: from side to side
            style, ends = "arc3", {"xy": (0.0, 0.5), "xytext": (1.0, 0.5)}
        else:
            style, ends = "arc3", {"xy": (0.5, 1.0), "xytext": (0.5, 0.0)}
        ax.annotate(
            "",
            xycoords=drawn[end],
            textcoords=drawn[start],
            arrowprops={"arrowstyle": "->", "connectionstyle": style, "shrinkA": 2, "shrinkB": 2},
            **ends,
        )
        if label:
            ax.annotate(
                label,
                (1.0, 0.5),
                xycoords=drawn[start],
                xytext=(detour + 5, -14),
                textcoords="offset points",
                fontsize=8,
                style="italic",
                va="top",
            )
    xs, ys = [s[0] for s in boxes.values()], [s[1] for s in boxes.values()]
    ax.set_xlim(min(xs) - 1, max(xs) + 1.2)
    ax.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return drawn


def layer_label(layer):
    """A short name for a layer as the papers' figures write it: '3×3 conv, 64, /2', 'BN', 'ReLU', '+'."""
    import keras

    kind = type(layer).__name__
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        k = layer.kernel_size
        text = f"{k[0]}×{k[1]} depthwise"
    elif isinstance(layer, keras.layers.Conv2D):
        k = layer.kernel_size
        groups = f", {layer.groups} groups" if getattr(layer, "groups", 1) > 1 else ""
        text = f"{k[0]}×{k[1]} conv, {layer.filters}{groups}"
    elif isinstance(layer, keras.layers.BatchNormalization):
        return "BN"
    elif isinstance(layer, keras.layers.ReLU):
        return "ReLU6" if layer.max_value == 6 else "ReLU"
    elif isinstance(layer, keras.layers.Activation):
        return {"relu": "ReLU", "relu6": "ReLU6"}.get(layer.activation.__name__, layer.activation.__name__)
    elif isinstance(layer, keras.layers.Add):
        return "+"
    elif isinstance(layer, keras.layers.MaxPooling2D | keras.layers.AveragePooling2D):
        k = layer.pool_size[0]
        text = f"{k}×{k} {'max' if isinstance(layer, keras.layers.MaxPooling2D) else 'avg'} pool"
    elif isinstance(layer, keras.layers.GlobalAveragePooling2D):
        return "global avg pool"
    elif isinstance(layer, keras.layers.Dense):
        return f"FC {layer.units}" + {"softmax": ", softmax", "relu": " + ReLU"}.get(layer.activation.__name__, "")
    elif isinstance(layer, keras.layers.Dropout):
        return f"dropout {layer.rate:.0%}"
    else:
        return kind
    stride = layer.strides[0]
    activation = getattr(layer, "activation", None)
    fused = activation.__name__ if activation is not None and activation.__name__ != "linear" else None
    return (
        text + (f", /{stride}" if stride > 1 else "") + (f" + {'ReLU' if fused == 'relu' else fused}" if fused else "")
    )


def _producers(layer):
    """The layers whose outputs `layer` was called on (in a functional model)."""
    inputs = layer.input if isinstance(layer.input, list | tuple) else [layer.input]
    return [t._keras_history[0] for t in inputs]


def draw_block(ax, model, title=None):
    """A block model drawn as a column of its layers, input at the top, with each shortcut as an arc
    into its addition (labelled 'identity', or with the layers on the shortcut). The column is the
    longest path from the input to the output. Returns the labels of the column, top to bottom, so
    that a caller can check the figure against the code."""
    import keras

    depth, producers = {}, {}
    for layer in model.layers:
        producers[layer] = [] if isinstance(layer, keras.layers.InputLayer) else _producers(layer)
        depth[layer] = 1 + max((depth[p] for p in producers[layer]), default=-1)
    column, layer = [], model.layers[-1]
    while not isinstance(layer, keras.layers.InputLayer):
        column.insert(0, layer)
        layer = max(producers[layer], key=depth.get)
    shortcut_of = {}
    for add in column:
        if len(producers[add]) == 1:
            continue
        if not isinstance(add, keras.layers.Add) or len(producers[add]) != 2:
            raise ValueError(f"{add.name}: expected a main path, or an addition of the main path and one shortcut")
        source, path = min(producers[add], key=depth.get), []
        while source not in column and not isinstance(source, keras.layers.InputLayer):
            path.insert(0, source)
            (source,) = producers[source]
        shortcut_of[add] = (source, path)
    labels = ["input"] + [layer_label(layer) for layer in column]
    names = ["input"] + [layer.name for layer in column]
    kinds = {"BN": "norm", "ReLU": "act", "ReLU6": "act", "+": "add", "input": "io"}
    boxes = {
        name: (0, len(labels) - i, label, kinds.get(label, "conv" if "conv" in label or "depthwise" in label else "io"))
        for i, (name, label) in enumerate(zip(names, labels, strict=True))
    }
    arrows = list(zip(names, names[1:], strict=False))
    for add, (source, path) in shortcut_of.items():
        start = "input" if isinstance(source, keras.layers.InputLayer) else source.name
        label = "identity" if not path else ", ".join(layer_label(layer) for layer in path)
        arrows.append((start, add.name, label, 80))
    draw_diagram(ax, boxes, arrows, title)
    return labels

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

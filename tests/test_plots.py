"""The shared figures: labelled axes, legends, and a sentence for bad input."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn_course import plots  # noqa: E402

HISTORY = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.6, 0.9], "val_accuracy": [0.5, 0.8]}


@pytest.fixture
def shown(monkeypatch):
    figures = []
    monkeypatch.setattr(plt, "show", lambda: figures.append(plt.gcf()))
    yield figures
    plt.close("all")


def test_history_has_a_labelled_panel_per_metric(shown):
    plots.plot_history(HISTORY)
    axes = shown[0].axes
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
    for ax in axes:
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel()
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation"]


def test_compare_histories_draws_one_labelled_curve_per_run(shown):
    plots.compare_histories({"plain": HISTORY, "residual": HISTORY}, metric="val_accuracy", title="depth 20")
    ax = shown[0].axes[0]
    assert ax.get_title() == "depth 20" and ax.get_xlabel() == "epoch" and ax.get_ylabel() == "validation accuracy"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["plain", "residual"]


def test_confusion_matrix_counts(shown):
    plots.plot_confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    ax = shown[0].axes[0]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert sorted(t.get_text() for t in ax.texts) == ["1", "1", "1", "1"]


def test_images_grid_and_bad_input(shown):
    plots.show_images(np.zeros((5, 8, 8, 1)), titles=list("abcde"), ncols=3)
    assert len(shown[0].axes) == 6
    plots.show_images(np.zeros((4, 3, 3)), cmap="RdBu_r", vmin=-1, vmax=1, colorbar="weight")
    assert len(shown[1].axes) == 5 and shown[1].axes[-1].get_ylabel() == "weight"  # four images and the bar
    with pytest.raises(ValueError, match="pass vmin and vmax"):
        plots.show_images(np.zeros((4, 3, 3)), colorbar="weight")
    with pytest.raises(ValueError, match=r"expected images shaped \(n, h, w\)"):
        plots.show_images(np.zeros((8, 8)))
    with pytest.raises(TypeError, match="what model.fit returns"):
        plots.plot_history([1, 2, 3])
    with pytest.raises(ValueError, match="differ in length"):
        plots.plot_confusion_matrix([0, 1], [0])


def test_diagram_draws_every_box_and_names_a_missing_one():
    fig, ax = plt.subplots()
    drawn = plots.draw_diagram(
        ax,
        {"x": (0, 2, "x", "io"), "f": (0, 1, "conv", "conv"), "add": (0, 0, "+")},
        [("x", "f"), ("f", "add"), ("x", "add", "identity", 60)],
        title="block",
    )
    assert [t.get_text() for t in drawn.values()] == ["x", "conv", "+"] and ax.get_title() == "block"
    assert "identity" in [t.get_text() for t in ax.texts]
    with pytest.raises(ValueError, match="no box named 'g'"):
        plots.draw_diagram(ax, {"x": (0, 1, "x")}, [("x", "g")])
    with pytest.raises(ValueError, match=r"expected \(x, y, text\)"):
        plots.draw_diagram(ax, {"x": (0, 1)})
    plt.close(fig)


def test_block_diagram_reads_the_main_path_and_the_shortcut_from_the_model():
    import keras
    from keras import layers

    inputs = keras.Input((8, 8, 4))
    shortcut = layers.BatchNormalization()(layers.Conv2D(8, 1, strides=2)(inputs))  # built first, drawn on the arc
    y = layers.ReLU(max_value=6)(layers.BatchNormalization()(layers.Conv2D(8, 3, strides=2, padding="same")(inputs)))
    y = layers.DepthwiseConv2D(3, padding="same")(y)
    out = layers.Activation("relu")(layers.Add()([shortcut, y]))
    fig, ax = plt.subplots()
    labels = plots.draw_block(ax, keras.Model(inputs, out))
    assert labels == ["input", "3×3 conv, 8, /2", "BN", "ReLU6", "3×3 depthwise", "+", "ReLU"]
    assert "1×1 conv, 8, /2, BN" in [t.get_text() for t in ax.texts]
    plt.close(fig)


def test_layer_labels_read_the_layers_settings():
    from keras import layers

    labels = [
        plots.layer_label(layer)
        for layer in (
            layers.MaxPooling2D(3, strides=2),
            layers.AveragePooling2D(5, strides=3),
            layers.Dense(1024, activation="relu"),
            layers.Dense(10, activation="softmax"),
            layers.Dropout(0.7),
            layers.Conv2D(128, 3, groups=32, activation="relu"),
            layers.GlobalAveragePooling2D(),
        )
    ]
    assert labels == [
        "3×3 max pool, /2",
        "5×5 avg pool, /3",
        "FC 1024 + ReLU",
        "FC 10, softmax",
        "dropout 70%",
        "3×3 conv, 128, 32 groups + ReLU",
        "global avg pool",
    ]

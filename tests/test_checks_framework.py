"""The exercise-check framework: one line on success, expected / got / hint on failure."""

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from cnn_course.checks import CheckFailed, Task, probe_model
from cnn_course.checks.compare import (
    chain,
    compare_with_reference,
    conv,
    depthwise,
    flatten,
    max_pool,
    randomize,
    reference_model,
    relu6,
    statistics_from_data,
    steps,
)


def test_success_prints_one_line(capsys):
    with Task(2, "dense_block") as t:
        t.equal("two plus two", 2 + 2, 4)
        t.expect(True, "truth")
    assert capsys.readouterr().out == "✓ Task 2 · dense_block: 2 checks passed\n"


def test_failure_says_what_was_expected_what_came_and_a_hint(capsys):
    with pytest.raises(CheckFailed) as info, Task(3, "transition_layer") as t:
        t.equal("output channels", 10, 9, hint="int() rounds down")
    assert str(info.value) == (
        "Task 3 · transition_layer — output channels\n  expected: 9\n  got:      10\n  hint:     int() rounds down"
    )
    assert isinstance(info.value, AssertionError)
    assert capsys.readouterr().out == ""


def test_learner_exceptions_become_one_sentence():
    def broken(x):
        raise ValueError("A `Concatenate` layer requires inputs with matching shapes\nmore lines\nand more")

    with pytest.raises(CheckFailed) as info, Task(1, "f") as t:
        t.call(broken, (1,))
    message = str(info.value)
    assert "raised ValueError" in message and "matching shapes" in message and "more lines" not in message
    assert info.value.__cause__ is None or isinstance(info.value.__cause__, ValueError)


def test_any_error_inside_a_task_becomes_one_check_failed_with_its_first_line_in_full():
    long_line = "a Keras error whose first line is long: " + "detail " * 30
    with pytest.raises(CheckFailed) as info, Task(1, "f"):
        raise RuntimeError(long_line + "\nsecond line")
    message = str(info.value)
    assert "raised RuntimeError" in message and long_line.strip() in message and "second line" not in message
    assert len(message.splitlines()) <= 6


@pytest.mark.parametrize(
    "error, fragment",
    [
        (
            ValueError('The name "conv" is used 2 times in the model. All operation names should be unique.'),
            "two layers share the name 'conv'",
        ),
        (TypeError("f() takes 2 positional arguments but 3 were given"), "do not fit"),
        (ValueError("Inputs have incompatible shapes. Received shapes (7, 9, 5) and (7, 9, 4)"), "shapes do not fit"),
        (NameError("name 'layers' is not defined"), "run the cells above"),
    ],
)
def test_the_hint_follows_the_error(error, fragment):
    def broken(x):
        raise error

    with pytest.raises(CheckFailed, match=fragment), Task(1, "f") as t:
        t.call(broken, (1,))


def test_stub_and_missing_return_are_named():
    def stub(x):
        raise NotImplementedError()

    def forgot_return(x):
        x + 1

    with pytest.raises(CheckFailed, match="not written yet"), Task(1, "f") as t:
        t.call(stub, (1,))
    with pytest.raises(CheckFailed, match="returned None"), Task(1, "f") as t:
        t.call(forgot_return, (1,))


@pytest.mark.parametrize("value, message", [(None, "is None"), (3, "is not a function")])
def test_function_must_be_given(value, message):
    with pytest.raises(CheckFailed, match=message), Task(1, "f") as t:
        t.function(value, "f")


@pytest.mark.parametrize("value, message", [(None, "is still None"), ("12", "wrong type"), (True, "wrong type")])
def test_values_are_checked_for_none_and_type(value, message):
    with pytest.raises(CheckFailed, match=message), Task(1, "drill") as t:
        t.value(value, "answer", int)


def test_close_reports_shape_then_the_worst_value():
    with pytest.raises(CheckFailed, match="shape"), Task(1, "f") as t:
        t.close("output", [1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(CheckFailed, match=r"largest gap at index \(1,\)"), Task(1, "f") as t:
        t.close("output", [1.0, 2.5, 3.0], [1.0, 2.0, 3.0])
    with Task(1, "f") as t:
        t.close("output", [1.0, 2.0 + 1e-7], [1.0, 2.0])


def test_equivalent_spellings_read_as_the_same_steps(keras):
    L = keras.layers
    inputs = keras.Input((6, 6, 3))
    a = L.Conv2D(4, 3, activation="relu", padding="same")(inputs)
    b = L.ReLU()(L.Conv2D(4, 3, padding="same")(inputs))
    c = keras.ops.relu(L.Conv2D(4, 3, padding="same")(inputs))
    d = L.Activation("relu")(L.Conv2D(4, 3, padding="same")(inputs))
    shown = [[str(s) for s in steps(keras.Model(inputs, out))] for out in (a, b, c, d)]
    assert shown[0] == shown[1] == shown[2] == shown[3] == ["Conv2D 3×3 padding='same' →4", "ReLU"]
    assert [str(s) for s in steps(keras.Sequential([L.Input((5,)), L.Dense(5, activation="softmax")]))] == [
        "Dense →5",
        "Softmax",
    ]
    relu6 = [keras.Sequential([L.Input((5,)), layer]) for layer in (L.ReLU(max_value=6.0), L.Activation("relu6"))]
    assert [str(s) for m in relu6 for s in steps(m)] == ["ReLU6", "ReLU6"]


def test_probe_model_explains_a_wrong_return_type(keras):
    with pytest.raises(CheckFailed, match="should return a Keras tensor"), Task(1, "block") as t:
        probe_model(t, lambda x: [x, x], (4, 4, 2), "block(x)")
    with pytest.raises(CheckFailed, match="should return a Keras tensor"), Task(1, "block") as t:
        probe_model(t, lambda x: keras.layers.Dense(3), (4, 4, 2), "block(x)")


def _run_cells(*sources):
    """Run code cells in a fresh kernel, errors allowed; return the executed cells."""
    nb = new_notebook(cells=[new_code_cell(source) for source in sources])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    nbformat.validate(nb)
    return nb.cells


def _error(cell):
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert len(errors) == 1, cell.outputs
    return errors[0], "\n".join(errors[0].traceback)


FAILING_CHECK = (
    "from cnn_course.checks import Task\n"
    "def check():\n"
    "    with Task(1, 'demo') as t:\n"
    "        t.equal('answer', 41, 42, hint='add one')\n"
    "check()"
)


@pytest.mark.parametrize("with_setup", [True, False], ids=["after setup()", "without setup()"])
def test_a_failed_check_in_jupyter_shows_its_message_not_a_traceback(with_setup):
    first = "from cnn_course import setup\ncourse = setup()" if with_setup else "pass"
    cell = _run_cells(first, FAILING_CHECK)[1]
    error, shown = _error(cell)
    assert error.ename == "CheckFailed"
    assert "Task 1 · demo — answer" in shown and "hint:     add one" in shown
    assert "File " not in shown and "Traceback" not in shown and "def check" not in shown
    assert "%tb" not in shown, "no IPython preamble before the message"
    assert len(error.traceback) == 1


def test_a_check_cell_run_before_its_task_cell_says_to_run_the_task_cell():
    cells = _run_cells(
        "from cnn_course.checks import densenet as check",
        "check.densenet_channels(densenet_channels)",
        "print(undefined_elsewhere)",
    )
    _, shown = _error(cells[1])
    assert "'densenet_channels' is not defined yet: run the task cell above first" in shown
    assert "Traceback" not in shown and "%tb" not in shown
    _, ordinary = _error(cells[2])  # any other NameError keeps IPython's own report
    assert "undefined_elsewhere" in ordinary and "run the task cell" not in ordinary


@pytest.mark.parametrize(
    "source, name, expected",
    [
        ("check.dense_block(dense_block)", "dense_block", "run the task cell above first"),
        ("check.vgg16(vgg16)", "check", "run the setup cell at the top first"),
        ("print(x)", "x", None),
        ("check.f(f)", None, None),
    ],
)
def test_explain_undefined_name(source, name, expected):
    from cnn_course.checks import explain_undefined_name

    message = explain_undefined_name(source, name)
    assert message is None if expected is None else expected in message


def _model(keras, *parts, shape=(5, 7, 3)):
    inputs = keras.Input(shape)
    x = inputs
    for part in parts:
        x = part(x)
    return keras.Model(inputs, x)


def test_steps_read_equivalent_spellings_alike(keras):
    L, ops = keras.layers, keras.ops
    relu6 = [
        _model(keras, L.ReLU(max_value=6)),
        _model(keras, L.Activation("relu6")),
        _model(keras, ops.relu6),
        _model(keras, keras.Sequential([L.ReLU(6.0)])),
    ]
    assert {str(s) for m in relu6 for s in steps(m)} == {"ReLU6"}
    gap = [_model(keras, L.GlobalAveragePooling2D()), _model(keras, lambda x: ops.mean(x, axis=(1, 2)))]
    assert [[str(s) for s in steps(m)] for m in gap] == [["GlobalAveragePooling"]] * 2
    pools = [_model(keras, L.MaxPooling2D(2)), _model(keras, lambda x: ops.max_pool(x, 2, 2))]
    assert steps(pools[0])[0].same(steps(pools[1])[0])
    depthwise = [
        _model(keras, L.DepthwiseConv2D(3, padding="same")),
        _model(keras, L.Conv2D(3, 3, padding="same", groups=3)),
    ]
    assert steps(depthwise[0])[0].same(steps(depthwise[1])[0])
    assert not steps(_model(keras, L.Conv2D(3, 3, padding="valid")))[0].same(
        steps(_model(keras, L.Conv2D(3, 3, padding="same")))[0]
    )


def test_compare_gives_equivalent_layers_the_same_weights_and_passes(keras, capsys):
    L = keras.layers
    reference = _model(keras, L.DepthwiseConv2D(3, padding="same"), L.BatchNormalization(), L.ReLU(6.0))
    grouped = _model(
        keras, L.Conv2D(3, 3, padding="same", groups=3), keras.Sequential([L.BatchNormalization()]), keras.ops.relu6
    )
    with Task(1, "block") as t:
        compare_with_reference(t, grouped, reference, "block(x)")
    assert capsys.readouterr().out.startswith("✓ Task 1")


def test_compare_names_the_first_differing_step(keras):
    L = keras.layers
    reference = reference_model(conv(3, 4), (5, 7, 3))
    wrong = _model(keras, L.Conv2D(4, 3, padding="same"), L.ReLU())
    with pytest.raises(CheckFailed) as info, Task(1, "block") as t:
        compare_with_reference(t, wrong, reference, "block(x)")
    message = str(info.value)
    assert "outputs differ in inference mode" in message and "step 2 (`re_lu" in message and "extra ReLU" in message
    with pytest.raises(CheckFailed, match="own reference"), Task(1, "block") as t:
        compare_with_reference(t, reference, reference, "block(x)")


def test_max_pool_and_flatten_builders_read_like_the_layers(keras):
    L = keras.layers
    reference = reference_model(chain(max_pool(2), flatten()), (6, 4, 3))
    spelled = _model(keras, lambda x: keras.ops.max_pool(x, 2, 2), L.Flatten(), shape=(6, 4, 3))
    assert [str(s) for s in steps(reference)] == ["MaxPooling 2×2 stride 2×2 padding='valid'", "Flatten"]
    assert all(e.same(g) for e, g in zip(steps(reference), steps(spelled), strict=True))
    x = np.random.default_rng(0).normal(size=(2, 6, 4, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(reference(x)), np.asarray(spelled(x)))


# -- branches: add(), canonical_steps --------------------------------------------------
def _residual(keras, order="add", nested=False):
    """conv → BN → ReLU → conv → BN, plus a 1×1 projection, added, then ReLU: written several ways."""
    L = keras.layers
    inputs = keras.Input((6, 7, 3))
    parts = [L.Conv2D(4, 3, padding="same"), L.BatchNormalization(), L.ReLU(), L.Conv2D(4, 3, padding="same")]
    parts.append(L.BatchNormalization())
    if nested:
        branch = keras.Sequential(parts)(inputs)
    else:
        branch = inputs
        for part in parts:
            branch = part(branch)
    projection = L.BatchNormalization()(L.Conv2D(4, 1)(inputs))
    joined = {
        "add": lambda: L.Add()([branch, projection]),
        "reversed": lambda: L.Add()([projection, branch]),
        "+": lambda: projection + branch,
    }[order]()
    return keras.Model(inputs, keras.ops.relu(joined))


def test_canonical_steps_do_not_depend_on_the_order_of_an_addition_or_nesting(keras):
    from cnn_course.checks.compare import canonical_steps

    shown = [
        [str(s) for s in canonical_steps(_residual(keras, order, nested))]
        for order, nested in [("add", False), ("reversed", False), ("+", False), ("reversed", True)]
    ]
    assert all(s == shown[0] for s in shown)
    kinds = [s.split()[0] + (s.split()[1] if s.startswith("Conv") else "") for s in shown[0]]
    # the residual branch, then the shortcut, then the addition
    assert kinds == ["Conv2D3×3", "BatchNormalization", "ReLU", "Conv2D3×3", "BatchNormalization"] + [
        "Conv2D1×1",
        "BatchNormalization",
        "Add",
        "ReLU",
    ]


def test_compare_with_an_addition_of_two_branches(keras, capsys):
    from cnn_course.checks.compare import add, bn, canonical_steps, chain, max_pool, relu, zero_pad

    spec = chain(add(chain(conv(3, 4), bn(), relu(), conv(3, 4), bn()), chain(conv(1, 4), bn())), relu())
    reference = reference_model(spec, (6, 7, 3))
    for order, nested in [("reversed", False), ("+", True)]:
        with Task(1, "block") as t:
            compare_with_reference(t, _residual(keras, order, nested), reference, "block(x)", read=canonical_steps)
        assert capsys.readouterr().out.startswith("✓ Task 1")
    pooled = reference_model(chain(zero_pad(1), max_pool(3, 2)), (6, 7, 3))
    shown = [str(s) for s in steps(pooled)]
    assert shown == ["Pad amount=((1, 1), (1, 1))", "MaxPooling 3×3 stride 2×2 padding='valid'"]


def test_canonical_steps_read_a_nested_model_that_gives_the_output(keras):
    from cnn_course.checks.compare import canonical_steps

    L = keras.layers
    inputs = keras.Input((5, 5, 2))
    model = keras.Model(inputs, keras.Sequential([L.Conv2D(3, 1), L.BatchNormalization()])(inputs))
    assert [s.kind for s in canonical_steps(model)] == ["Conv2D", "BatchNormalization"]


def test_depthwise_and_relu6_builders_read_as_the_layers_they_stand_for(keras):
    L = keras.layers
    built = reference_model(chain(depthwise(3, 2, bias=False), relu6()), (8, 6, 5))
    by_hand = _model(keras, L.DepthwiseConv2D(3, 2, padding="same", use_bias=False), L.ReLU(6.0), shape=(8, 6, 5))
    assert [str(s) for s in steps(built)] == [str(s) for s in steps(by_hand)]
    assert str(steps(built)[0]) == "DepthwiseConv2D 3×3 stride 2×2 padding='same' multiplier=1 no bias"
    dilated = _model(keras, L.DepthwiseConv2D(3, padding="same", dilation_rate=2), shape=(8, 6, 5))
    assert not steps(dilated)[0].same(steps(reference_model(depthwise(3), (8, 6, 5)))[0])


def test_randomize_gives_a_depthwise_kernel_the_fan_in_of_one_channel(keras):
    model = reference_model(depthwise(3), (8, 6, 64))
    randomize(steps(model))
    assert 0.2 < float(np.std(np.asarray(steps(model)[0].weights[0][1]))) < 0.5  # 1/√9, not 1/√(9·64)


def test_compare_ignores_dropout_in_training_mode_and_can_widen_its_inputs(keras, capsys):
    L = keras.layers
    reference = reference_model(chain(conv(1, 64), relu6()), (4, 4, 3))
    dropped = _model(keras, L.Conv2D(64, 1), L.Dropout(0.5), L.ReLU(6.0), shape=(4, 4, 3))
    with Task(1, "block") as t:
        compare_with_reference(t, dropped, reference, "block(x)")
    assert capsys.readouterr().out.startswith("✓ Task 1")
    plain = _model(keras, L.Conv2D(64, 1), L.ReLU(), shape=(4, 4, 3))
    with pytest.raises(CheckFailed, match="outputs differ in inference mode"), Task(1, "block") as t:
        compare_with_reference(t, plain, reference, "block(x)", input_scale=10.0)


def test_statistics_from_data_put_bn_statistics_near_the_data(keras):
    from cnn_course.checks.compare import bn

    model = reference_model(chain(conv(3, 6), bn(), relu6(), conv(1, 5), bn()), (7, 9, 3))
    randomize(steps(model))
    x = np.random.default_rng(0).normal(0, 8, (3, 7, 9, 3)).astype("float32")
    statistics_from_data(model, x)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    seen = np.asarray(keras.Model(model.inputs[0], norms[0].input)(x, training=True))
    mean, std = seen.mean(axis=(0, 1, 2)), seen.std(axis=(0, 1, 2))
    assert np.all(np.abs(np.asarray(norms[0].moving_mean) - mean) <= std + 1e-3)
    assert np.all(
        (np.asarray(norms[0].moving_variance) >= 0.29 * std**2)
        & (np.asarray(norms[0].moving_variance) <= std**2 + 1e-2)
    )

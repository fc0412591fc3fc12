"""Unit 03's checks reject the stub and typical wrong answers and accept correct ones."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from cnn_course.checks import transposed_convolution as check
from tests.conftest import accepts, rejects, solution, stub

SOLUTION = solution("03_transposed_convolution")

SIZE_MISTAKES = {
    "stub": (stub, "not written yet"),
    "forgets the padding": (lambda n, k, s, p=0, a=0: (n - 1) * s + k + a, "subtract 2p"),
    "adds the padding": (lambda n, k, s, p=0, a=0: (n - 1) * s + 2 * p + k + a, "−2p, not +2p"),
    "padding once": (lambda n, k, s, p=0, a=0: (n - 1) * s - p + k + a, "−2p, not −p"),
    "the convolution's formula": (lambda n, k, s, p=0, a=0: (n + 2 * p - k) // s + 1, "convolution's formula"),
    "n instead of n − 1": (lambda n, k, s, p=0, a=0: n * s - 2 * p + k + a, "use n − 1"),
    "forgets the output padding": (lambda n, k, s, p=0, a=0: (n - 1) * s - 2 * p + k, "add the output padding"),
    "output padding on both sides": (lambda n, k, s, p=0, a=0: (n - 1) * s - 2 * p + k + 2 * a, "one side only"),
    "a float": (lambda n, k, s, p=0, a=0: float((n - 1) * s - 2 * p + k + a), "should be an int"),
    "no defaults": (lambda n, k, s, p, a: (n - 1) * s - 2 * p + k + a, "default value 0"),
    "returns None": (lambda n, k, s, p=0, a=0: None, "returned None"),
    "a string": (lambda n, k, s, p=0, a=0: f"{(n - 1) * s - 2 * p + k + a}", "should be an int"),
}


@pytest.mark.parametrize("mistake", list(SIZE_MISTAKES))
def test_transposed_output_size_rejects(mistake):
    answer, fragment = SIZE_MISTAKES[mistake]
    rejects(check.transposed_output_size, answer, "Task 1", fragment)


def test_transposed_output_size_accepts_correct_answers(capsys):
    accepts(check.transposed_output_size, SOLUTION["transposed_output_size"], capsys)
    # unit 01's formula solved for the input size: n_out = s·(n − 1) + k − 2p, plus the output padding
    accepts(
        check.transposed_output_size,
        lambda n, k, s, p=0, output_padding=0: s * n - s + k - p - p + output_padding,
        capsys,
    )
    accepts(check.transposed_output_size, lambda n, k, s, p=0, a=0: np.int64(s * (n - 1) + k - 2 * p + a), capsys)
    accepts(
        check.transposed_output_size,
        lambda size, kernel, stride, padding=0, extra=0, **_: (size - 1) * stride + kernel - 2 * padding + extra,
        capsys,
    )


def scatter_with(flip=False, transpose=False, stride_one=False, overwrite=False, stride_k=False):
    def answer(x, kernel, stride):
        k = kernel[::-1, ::-1] if flip else kernel.T if transpose else kernel
        s = 1 if stride_one else kernel.shape[0] if stride_k else stride
        K = k.shape[0]
        out = np.zeros(((x.shape[0] - 1) * s + K, (x.shape[1] - 1) * s + K))
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                block = out[i * s : i * s + K, j * s : j * s + K]
                if overwrite:
                    block[...] = x[i, j] * k
                else:
                    block += x[i, j] * k
        return out

    return answer


def keras_conv_transpose(x, kernel, stride, crop=True):
    """Conv2DTranspose holding the kernel; with K < stride its default output is H·stride: keep the task's size."""
    K, (H, W) = kernel.shape[0], x.shape
    layer = layers.Conv2DTranspose(1, K, strides=stride, use_bias=False)
    layer.build((None, H, W, 1))
    layer.set_weights([kernel.reshape(K, K, 1, 1)])
    out = keras.ops.convert_to_numpy(layer(x[None, :, :, None].astype("float32")))[0, :, :, 0]
    return out[: (H - 1) * stride + K, : (W - 1) * stride + K] if crop else out


def value_plus_kernel(x, kernel, stride):
    """out[block] += x[i, j] + kernel: x scattered with a kernel of ones, plus ones scattered with the kernel."""
    return scatter_with()(x, np.ones_like(kernel), stride) + scatter_with()(np.ones_like(x), kernel, stride)


def gather_without_flip(x, kernel, stride):
    """The notes' 'enlarge, then convolve' with the kernel not rotated: equals a flipped scatter."""
    from scipy.signal import correlate2d

    K = kernel.shape[0]
    spread = np.zeros(((x.shape[0] - 1) * stride + 1, (x.shape[1] - 1) * stride + 1))
    spread[::stride, ::stride] = x
    return correlate2d(np.pad(spread, K - 1), kernel, mode="valid")


SCATTER_MISTAKES = {
    "stub": (stub, "not written yet"),
    "kernel flipped": (scatter_with(flip=True), "do not flip the kernel"),
    "zero insertion without the 180° rotation": (gather_without_flip, "do not flip the kernel"),
    "kernel transposed": (scatter_with(transpose=True), "do not transpose it"),
    "stride ignored": (scatter_with(stride_one=True), "start `stride` pixels apart"),
    "overwrite instead of add": (scatter_with(overwrite=True), "use +=, not ="),
    "returns None": (lambda *a: None, "returned None"),
    "value added to the kernel": (
        lambda x, kernel, stride: value_plus_kernel(x, kernel, stride),
        "counts the stamps that cover it",
    ),
    "stride on rows only": (
        lambda x, kernel, stride: scatter_with()(x, kernel, stride)[:, : (x.shape[1] - 1) + kernel.shape[0]],
        "(W − 1)·stride + K columns",
    ),
    "one stride too many": (
        lambda x, kernel, stride: np.pad(scatter_with()(x, kernel, stride), ((0, stride),)),
        "not H·stride + K",
    ),
    "stamps K apart": (scatter_with(stride_k=True), "not K"),
    "output transposed": (lambda x, kernel, stride: scatter_with()(x, kernel, stride).T, "rows come from H"),
    "Conv2DTranspose without output_padding": (
        lambda x, kernel, stride: keras_conv_transpose(x, kernel, stride, crop=False),
        "with K < stride gives H·stride",
    ),
}


@pytest.mark.parametrize("mistake", list(SCATTER_MISTAKES))
def test_conv_transpose2d_rejects(mistake):
    answer, fragment = SCATTER_MISTAKES[mistake]
    rejects(check.conv_transpose2d, answer, "Task 2", fragment)


def test_conv_transpose2d_accepts_correct_answers(capsys):
    from scipy.signal import convolve2d, correlate2d

    accepts(check.conv_transpose2d, SOLUTION["conv_transpose2d"], capsys)

    def enlarge_then_convolve(x, kernel, stride):  # the notes' view: zeros in, k − 1 padding, rotated kernel
        K = kernel.shape[0]
        spread = np.zeros(((x.shape[0] - 1) * stride + 1, (x.shape[1] - 1) * stride + 1))
        spread[::stride, ::stride] = x
        return correlate2d(np.pad(spread, K - 1), kernel[::-1, ::-1], mode="valid")

    def by_kernel_entry(x, kernel, stride):  # loop over the kernel instead of the input: K² strided adds
        K = kernel.shape[0]
        H, W = x.shape
        out = np.zeros(((H - 1) * stride + K, (W - 1) * stride + K))
        for a in range(K):
            for b in range(K):
                out[a : a + (H - 1) * stride + 1 : stride, b : b + (W - 1) * stride + 1 : stride] += kernel[a, b] * x
        return out

    def kron_then_convolve(x, kernel, stride):  # zeros inserted by np.kron, then a true (flipping) convolution
        spread = np.kron(x, np.eye(stride)[:1].T @ np.eye(stride)[:1])[: (x.shape[0] - 1) * stride + 1]
        return convolve2d(spread[:, : (x.shape[1] - 1) * stride + 1], kernel, mode="full")

    def with_tf_nn(x, kernel, stride):  # the low-level op, with the output shape given
        K, (H, W) = kernel.shape[0], x.shape
        out = tf.nn.conv2d_transpose(
            tf.constant(x[None, :, :, None], "float32"),
            tf.constant(kernel[:, :, None, None], "float32"),
            output_shape=[1, (H - 1) * stride + K, (W - 1) * stride + K, 1],
            strides=stride,
            padding="VALID",
        )
        return out.numpy().squeeze(axis=(0, 3))

    for answer in [enlarge_then_convolve, by_kernel_entry, kron_then_convolve, keras_conv_transpose, with_tf_nn]:
        accepts(check.conv_transpose2d, answer, capsys)


def matrix_with(
    flip=False,
    transpose_kernel=False,
    shape_transposed=False,
    stride_one=False,
    swap_rows=False,
    column_major=False,
    m_of=lambda n, K, s: (n - K) // s + 1,
    place_without_stride=False,
    four_axes=False,
    pad_of=lambda p: (p, p),
    keep_padded=False,
    crop_at=lambda p: p,
):
    """A window-by-window matrix on the padded grid, cropped to the image, with one of the usual mistakes on."""

    def answer(kernel, n, stride, padding=0):
        k = kernel[::-1, ::-1] if flip else kernel.T if transpose_kernel else kernel
        K = k.shape[0]
        s = 1 if stride_one else stride
        N = n + sum(pad_of(padding))
        m = m_of(N, K, s)
        t = 1 if place_without_stride else s
        C = np.zeros((m, m, N, N))
        for i in range(m):
            for j in range(m):
                C[i, j, i * t : i * t + K, j * t : j * t + K] = k
        if not keep_padded:
            start = crop_at(pad_of(padding)[0])
            C = C[:, :, start : start + n, start : start + n]
        if column_major:
            C = C.transpose(0, 1, 3, 2)
        if swap_rows:
            C = C.transpose(1, 0, 2, 3)
        if four_axes:
            return C
        C = C.reshape(m * m, -1)
        return C.T if shape_transposed else C

    return answer


def kernel_side_by_side(kernel, n, stride, padding=0):
    """Each row holds kernel.ravel() as one run of K² entries, as if the grid's rows were not n apart."""
    K = kernel.shape[0]
    m = (n - K) // stride + 1
    C = np.zeros((m * m, n * n))
    for i in range(m):
        for j in range(m):
            start = i * stride * n + j * stride
            C[i * m + j, start : start + K * K] = kernel.ravel()
    return C


def unpadded_matrix(kernel, n, stride):  # the earlier task's answer: no padding parameter
    return matrix_with()(kernel, n, stride)


MATRIX_MISTAKES = {
    "stub": (stub, "not written yet"),
    "kernel flipped": (matrix_with(flip=True), "do not flip the kernel"),
    "kernel transposed": (matrix_with(transpose_kernel=True), "do not transpose it"),
    "shape (n², m²)": (matrix_with(shape_transposed=True), "shape (m², n²)"),
    "stride ignored": (matrix_with(stride_one=True), "windows start `stride` pixels apart"),
    "rows column by column": (matrix_with(swap_rows=True), "row r = i·m + j"),
    "windows flattened column-major": (matrix_with(column_major=True), "ravel's default order"),
    "ceil for m": (matrix_with(m_of=lambda n, K, s: -(-(n - K) // s) + 1), "floor, not ceil"),
    "round for m": (matrix_with(m_of=lambda n, K, s: round((n - K) / s) + 1), "floor, not ceil or round"),
    "m without the + 1": (matrix_with(m_of=lambda n, K, s: (n - K) // s), "the first window counts too"),
    "windows placed at (i, j)": (matrix_with(place_without_stride=True), "× stride"),
    "kernel entries side by side": (kernel_side_by_side, "n apart in x.ravel()"),
    "not reshaped": (matrix_with(four_axes=True), "reshape to 2-D"),
    "a list of lists": (lambda kernel, n, stride, padding=0: [["not", "numbers"]], "should return an array"),
    "no padding parameter (the earlier task's answer)": (unpadded_matrix, "padding=1", "fourth parameter `padding=0`"),
    "padding ignored": (
        lambda kernel, n, stride, padding=0: matrix_with()(kernel, n, stride),
        "padding=1",
        "not n or n + p",
    ),
    "columns of the padded zeros kept": (matrix_with(keep_padded=True), "padding=1", "not inputs"),
    "cropped at the top-left": (matrix_with(crop_at=lambda p: 0), "padding=1", "p rows and p columns into"),
    "padding on one side (n + p)": (matrix_with(pad_of=lambda p: (p, 0)), "padding=1", "not n or n + p"),
}


@pytest.mark.parametrize("mistake", list(MATRIX_MISTAKES))
def test_conv_matrix_rejects(mistake):
    answer, *fragments = MATRIX_MISTAKES[mistake]
    rejects(check.conv_matrix, answer, "Task 3", *fragments)


def test_conv_matrix_accepts_correct_answers(capsys):
    from scipy import sparse

    def from_unit_vectors(kernel, n, stride, padding=0):  # column c of C is the convolution of the c-th unit image
        K = kernel.shape[0]
        m = (n + 2 * padding - K) // stride + 1
        units = np.pad(np.eye(n * n).reshape(n * n, n, n), ((0, 0), (padding, padding), (padding, padding)))
        windows = np.lib.stride_tricks.sliding_window_view(units, (K, K), axis=(1, 2))
        responses = np.einsum("cijab,ab->cij", windows[:, ::stride, ::stride], kernel)
        return responses.reshape(n * n, m * m).T

    def kron_of_selections(kernel, n, stride, padding=0):  # Σ kernel[a, b] · (rows a, a + s, … of P) ⊗ (… of P)
        K = kernel.shape[0]
        m = (n + 2 * padding - K) // stride + 1
        P = np.eye(n + 2 * padding)[:, padding : padding + n]  # the padding as a matrix: image → padded image
        rows = [P[a : a + (m - 1) * stride + 1 : stride] for a in range(K)]
        return sum(kernel[a, b] * np.kron(rows[a], rows[b]) for a in range(K) for b in range(K))

    def keras_on_unit_images(kernel, n, stride, pad=0):  # a Conv2D applied to the n² unit images, one per column
        K = kernel.shape[0]
        conv = layers.Conv2D(1, K, strides=stride, use_bias=False)
        conv.build((None, n + 2 * pad, n + 2 * pad, 1))
        conv.set_weights([kernel.reshape(K, K, 1, 1)])
        units = layers.ZeroPadding2D(pad)(np.eye(n * n, dtype="float32").reshape(n * n, n, n, 1))
        responses = keras.ops.convert_to_numpy(conv(units))
        return responses.reshape(n * n, -1).T

    def scipy_sparse(kernel, n, stride, padding=0):  # (row, column, value) triplets inside the image, then dense
        K = kernel.shape[0]
        m = (n + 2 * padding - K) // stride + 1
        i, j, a, b = np.meshgrid(range(m), range(m), range(K), range(K), indexing="ij")
        r, c = i * stride + a - padding, j * stride + b - padding
        inside = (r >= 0) & (r < n) & (c >= 0) & (c < n)
        rows, columns = (i * m + j)[inside], (r * n + c)[inside]
        values = np.broadcast_to(kernel, i.shape)[inside]
        return sparse.coo_array((values, (rows, columns)), shape=(m * m, n * n)).toarray()

    for answer in [
        SOLUTION["conv_matrix"],
        from_unit_vectors,
        kron_of_selections,
        keras_on_unit_images,
        scipy_sparse,
    ]:
        accepts(check.conv_matrix, answer, capsys)


def gradient_with(
    inner=lambda out, y: tf.reduce_sum(out * y),
    kernel_of=lambda kernel: kernel,
    stride_one=False,
    keep_axes=False,
    respect_to="x",
    outside_tape=False,
):
    def answer(kernel, y, n, stride):
        K = kernel.shape[0]
        conv = layers.Conv2D(1, K, strides=1 if stride_one else stride, use_bias=False)
        conv.build((None, n, n, 1))
        conv.set_weights([kernel_of(kernel).reshape(K, K, 1, 1)])
        x = tf.Variable(np.zeros((1, n, n, 1), "float32"))
        y = tf.Variable(y)
        out = conv(x)[0, :, :, 0]
        with tf.GradientTape() as tape:
            value = inner(out if outside_tape else conv(x)[0, :, :, 0], y)
        gradient = tape.gradient(value, {"x": x, "y": y, "kernel": conv.kernel}[respect_to]).numpy()
        return gradient if keep_axes else np.squeeze(gradient)

    return answer


GRADIENT_MISTAKES = {
    "stub": (stub, "not written yet"),
    "gradient of Σ conv(x)": (gradient_with(inner=lambda out, y: tf.reduce_sum(out)), "weight conv(x) by y"),
    "kernel flipped": (gradient_with(kernel_of=lambda k: k[::-1, ::-1]), "without flipping"),
    "kernel transposed": (gradient_with(kernel_of=lambda k: k.T), "not transposed"),
    "batch and channel axes kept": (gradient_with(keep_axes=True), "[0, :, :, 0]"),
    "gradient with respect to the kernel": (gradient_with(respect_to="kernel"), "not the kernel"),
    "gradient with respect to y": (gradient_with(respect_to="y"), "that is y's shape"),
    "stride ignored": (gradient_with(stride_one=True), "strides=stride"),
    "forward pass outside the tape": (gradient_with(outside_tape=True), "inside `with tf.GradientTape()`"),
    "mean instead of sum": (gradient_with(inner=lambda out, y: tf.reduce_mean(out * y)), "not their mean"),
    "minus sign": (gradient_with(inner=lambda out, y: -tf.reduce_sum(out * y)), "no minus sign"),
    "squared-error loss": (
        gradient_with(inner=lambda out, y: tf.reduce_sum((out - y) ** 2)),
        "-2 × the gradient of Σ conv(x)·y",
    ),
    "a string": (lambda kernel, y, n, stride: "gradient", "should return an array"),
}


@pytest.mark.parametrize("mistake", list(GRADIENT_MISTAKES))
def test_input_gradient_rejects(mistake):
    answer, fragment = GRADIENT_MISTAKES[mistake]
    rejects(check.input_gradient, answer, "Task 4", fragment)


def test_input_gradient_accepts_correct_answers(capsys):
    def with_tf_nn(kernel, y, n, stride):  # the low-level op and a nonzero point x (the map is linear)
        x = tf.Variable(np.random.default_rng(0).normal(size=(1, n, n, 1)).astype("float32"))
        w = tf.constant(kernel.reshape(*kernel.shape, 1, 1), "float32")
        with tf.GradientTape() as tape:
            inner = tf.reduce_sum(tf.nn.conv2d(x, w, strides=stride, padding="VALID") * y[None, :, :, None])
        return np.squeeze(tape.gradient(inner, x).numpy())

    def watched_constant_with_ops(kernel, y, n, stride):  # keras.ops.conv on a watched constant, a tensor returned
        x = tf.ones((1, n, n, 1))
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = keras.ops.conv(x, kernel[:, :, None, None].astype("float32"), strides=stride)
            inner = keras.ops.sum(keras.ops.squeeze(out) * y)
        return tape.gradient(inner, x)[0, :, :, 0]

    def from_the_jacobian(kernel, y, n, stride):  # the full Jacobian of conv(x), contracted with y
        conv = keras.Sequential([keras.Input((n, n, 1)), layers.Conv2D(1, kernel.shape[0], strides=stride)])
        conv.layers[0].set_weights([kernel[:, :, None, None], np.array([0.7], "float32")])  # a bias changes nothing
        x = tf.Variable(tf.zeros((1, n, n, 1)))
        with tf.GradientTape() as tape:
            out = conv(x)
        jacobian = tape.jacobian(out, x).numpy().reshape(y.size, n, n)
        return np.tensordot(y.ravel(), jacobian, axes=1)

    for answer in [SOLUTION["input_gradient"], with_tf_nn, watched_constant_with_ops, from_the_jacobian]:
        accepts(check.input_gradient, answer, capsys)


# -- Task 5 · transposed_padding ----------------------------------------------------------------
def pad_search(first_p=0, max_a=None, minus_p=False, largest=False, never_none=False):
    """A search over p with one of the usual mistakes switched on."""

    def answer(n, k, s, target):
        found = []
        for p in range(first_p, n * s + k + 2):
            a = target - ((n - 1) * s - (p if minus_p else 2 * p) + k)
            if 0 <= a < (max_a or s):
                found.append((p, a))
        if not found:
            return (0, target - ((n - 1) * s + k)) if never_none else None
        return found[-1] if largest else found[0]

    return answer


TRANSPOSED_PADDING_MISTAKES = {
    "stub": (stub, "not written yet"),
    "pair in the other order": (lambda n, k, s, t: SOLUTION["transposed_padding"](n, k, s, t)[::-1], "padding first"),
    "largest padding": (pad_search(largest=True), "n=4, k=5, s=3", "start from p = 0"),
    "output padding may equal the stride": (pad_search(max_a=1000), "target=17", "smaller than the stride"),
    "padding counted once (−p)": (pad_search(minus_p=True), "−2p, not −p"),
    "never None": (pad_search(never_none=True), "target=17", "smaller than the stride"),
    "search from p = 1": (pad_search(first_p=1), "target=15", "expected: (0, 0)"),
    "the convolution's padding": (
        lambda n, k, s, t: (max(0, ((t - 1) * s + k - n) // 2), 0),
        "transposed_padding(n=7, k=4, s=2, target=14)",
    ),
    "output padding always 0": (
        lambda n, k, s, t: (lambda e: (e // 2, 0) if e % 2 == 0 and e >= 0 else None)((n - 1) * s + k - t),
        "n=7, k=3, s=2, target=14",
        "return that pair",
    ),
    "negative output padding allowed": (
        lambda n, k, s, t: (lambda e: (max(0, e // 2), 2 * max(0, e // 2) - e))((n - 1) * s + k - t),
        "can be negative",
    ),
    "the padding only (an int)": (lambda n, k, s, t: SOLUTION["transposed_padding"](n, k, s, t)[0], "pair of ints"),
    "floats": (lambda n, k, s, t: tuple(float(v) for v in SOLUTION["transposed_padding"](n, k, s, t)), "pair of ints"),
    "n instead of n − 1": (
        lambda n, k, s, t: pad_search()(n + 1, k, s, t),
        "transposed_padding(n=7, k=4, s=2, target=14)",
    ),
}


@pytest.mark.parametrize("mistake", list(TRANSPOSED_PADDING_MISTAKES))
def test_transposed_padding_rejects(mistake):
    answer, *fragments = TRANSPOSED_PADDING_MISTAKES[mistake]
    rejects(check.transposed_padding, answer, "Task 5", *fragments)


def padding_by_keras(n, k, s, target):  # try the pairs on Keras's op itself, smallest padding first
    for p in range(0, n * s + k):
        for a in range(s):
            y = keras.ops.conv_transpose(keras.Input((n, n, 1)), np.ones((k, k, 1, 1)), strides=s, output_padding=a)
            if y.shape[1] - 2 * p == target:
                return p, a
    return None


def padding_as_list(n, k, s, target):
    excess = (n - 1) * s + k - target
    p = max(0, (excess + 1) // 2)
    return [np.int64(p), np.int64(2 * p - excess)] if 2 * p - excess < s else None


def padding_loop(size, kernel, stride, wanted):  # other names: grow the crop until the size fits
    crop = 0
    while (size - 1) * stride + kernel - 2 * crop > wanted:
        crop += 1
    extra = wanted - ((size - 1) * stride + kernel - 2 * crop)
    return (crop, extra) if extra < stride else None


def test_transposed_padding_accepts_correct_answers(capsys):
    for answer in [SOLUTION["transposed_padding"], pad_search(), padding_by_keras, padding_as_list, padding_loop]:
        accepts(check.transposed_padding, answer, capsys)


def decoder_with(
    kernel=4, padding="same", final="sigmoid", first="transpose", filters=(32, 16), channels=1, relus=(1, 1), crop=None
):
    def answer(code_channels):
        inputs = keras.Input((7, 7, code_channels))
        x = inputs
        for f, relu in zip(filters, relus, strict=True):
            if first == "upsample":
                x = layers.UpSampling2D(2)(x)
                x = layers.Conv2D(f, kernel, padding=padding, activation="relu" if relu else None)(x)
            else:
                x = layers.Conv2DTranspose(f, kernel, strides=2, padding=padding, activation="relu" if relu else None)(
                    x
                )
                x = layers.Cropping2D(crop)(x) if crop else x
        outputs = layers.Conv2D(channels, 3, padding="same", activation=final)(x)
        return keras.Model(inputs, outputs)

    return answer


DECODER_MISTAKES = {
    "stub": (stub, "not written yet"),
    "no output activation": (decoder_with(final=None), "outputs differ", "missing Sigmoid"),
    "ReLU output": (decoder_with(final="relu"), "the output needs a sigmoid, not a ReLU"),
    "tanh output": (decoder_with(final="tanh"), "the output needs a sigmoid"),
    "first ReLU missing": (decoder_with(relus=(0, 1)), "followed by a ReLU"),
    "second ReLU missing": (decoder_with(relus=(1, 0)), "followed by a ReLU"),
    "padding valid": (decoder_with(padding="valid"), "output shape", "padding='same'"),
    "padding valid, cropped on one side": (decoder_with(padding="valid", crop=((2, 0), (2, 0))), "outputs differ"),
    "3×3 kernels": (decoder_with(kernel=3), "kernel_size=4"),
    "UpSampling2D + Conv2D instead": (decoder_with(first="upsample", kernel=3), "not UpSampling2D"),
    "filters 16 then 32": (decoder_with(filters=(16, 32)), "32 filters in the first"),
    "three output channels": (decoder_with(channels=3), "one channel"),
    "a fixed input of 4 channels": (lambda code_channels: decoder_with()(4), "input shape"),
    "returns the output tensor": (
        lambda code_channels: decoder_with()(code_channels).outputs[0],
        "should return a keras.Model",
    ),
}


@pytest.mark.parametrize("mistake", list(DECODER_MISTAKES))
def test_decoder_rejects(mistake):
    answer, *fragments = DECODER_MISTAKES[mistake]
    rejects(check.decoder, answer, "Task 6", *fragments)


def separate_activations(code_channels):  # activations as layers, a Sequential model
    return keras.Sequential(
        [
            keras.Input((7, 7, code_channels)),
            layers.Conv2DTranspose(32, 4, strides=2, padding="same"),
            layers.ReLU(),
            layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"),
            layers.Activation("relu"),
            layers.Conv2D(1, 3, padding="same"),
            layers.Activation("sigmoid"),
        ]
    )


def nested_with_ops(code_channels):  # the upsampling as a nested Sequential, keras.ops activations
    inputs = keras.Input((7, 7, code_channels), name="z")
    up = keras.Sequential(
        [layers.Conv2DTranspose(32, 4, strides=2, padding="same", name="t1"), layers.ReLU()], name="up"
    )
    x = keras.ops.relu(layers.Conv2DTranspose(16, 4, strides=2, padding="same", name="t2")(up(inputs)))
    return keras.Model(inputs, keras.ops.sigmoid(layers.Conv2D(1, 3, padding="same", name="to_image")(x)))


def valid_then_cropped(code_channels):  # 'valid' adds k − s = 2 rows; one cropped from each side is 'same'
    inputs = keras.Input((7, 7, code_channels))
    x = inputs
    for filters in (32, 16):
        x = layers.Conv2DTranspose(filters, 4, strides=2, activation="relu")(x)
        x = layers.Cropping2D(1)(x)
    return keras.Model(inputs, layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x))


def test_decoder_accepts_correct_answers(capsys):
    for answer in [SOLUTION["decoder"], separate_activations, nested_with_ops, valid_then_cropped]:
        accepts(check.decoder, answer, capsys)


DRILL_MISTAKES = {
    "unanswered": ((None, None, None), "still None"),
    "n instead of n − 1": ((17, 14, 18_464), "(7 − 1)·2"),
    "'same' for 'valid'": ((14, 14, 18_464), "'valid' keeps the whole overlap"),
    "convolution's formula": ((3, 14, 18_464), "convolution's formula"),
    "'same' as 'valid'": ((15, 15, 18_464), "that is the 'valid' size"),
    "no biases": ((15, 14, 18_432), "add the 32 biases"),
    "bias per input channel": ((15, 14, 18_496), "not per input channel"),
    "one input channel": ((15, 14, 320), "all 64 input channels"),
    "k forgotten in 'valid'": ((12, 14, 18_464), "add k to (n − 1)·s"),
    "'same' keeps the size": ((15, 7, 18_464), "only at stride 1"),
    "the convolution's 'same'": ((15, 4, 18_464), "⌈n/s⌉"),
    "kernel size forgotten": ((15, 14, 2_080), "k×k = 3×3"),
    "a float": ((15.0, 14, 18_464), "wrong type"),
}


@pytest.mark.parametrize("mistake", list(DRILL_MISTAKES))
def test_drill_rejects(mistake):
    answers, fragment = DRILL_MISTAKES[mistake]
    rejects(lambda a: check.drill(*a), answers, "Task 7", fragment)


def test_drill_accepts_correct_answers(capsys):
    accepts(lambda a: check.drill(*a), (SOLUTION["out_valid"], SOLUTION["out_same"], SOLUTION["n_params"]), capsys)
    accepts(lambda a: check.drill(*a), (np.int64((7 - 1) * 2 + 3), 7 * 2, 9 * 64 * 32 + 32), capsys)

    def by_keras():  # read off real layers on a 7×7×64 map
        x = np.zeros((1, 7, 7, 64), "float32")
        valid, same = keras.layers.Conv2DTranspose(32, 3, strides=2), keras.layers.Conv2DTranspose(32, 3, 2, "same")
        return valid(x).shape[1], same(x).shape[1], valid.count_params()

    accepts(lambda a: check.drill(*a), by_keras(), capsys)

    def symbolic():  # the shapes Keras infers for a functional model, the count from its summary's numbers
        inputs = keras.Input((7, 7, 64))
        valid = keras.Model(inputs, keras.layers.Conv2DTranspose(32, 3, strides=2)(inputs))
        same = keras.layers.Conv2DTranspose(32, 3, strides=2, padding="same")(inputs)
        return valid.output.shape[1], same.shape[1], valid.count_params()

    accepts(lambda a: check.drill(*a), symbolic(), capsys)

"""Conv2D cases of Keras's own test suites, ported to kerastorch.

Sources (read as text; nothing here imports TensorFlow or Keras):

* tf.keras: ``tf_keras/src/layers/convolutional/conv_test.py`` (tf-keras 2.21). The installed
  wheel ships without its tests; the text was read from keras-team/tf-keras
  ``tf_keras/layers/convolutional/conv_test.py`` (the same file before its move under ``src/``).
  Its ``layer_test`` helper is ``tf_keras/src/testing_infra/test_utils.py``.
* Keras 3: ``keras/src/layers/convolutional/conv_test.py`` (keras 3.15.1). Its ``run_layer_test``
  helper is ``keras/src/testing/test_case.py``.

Translation rules (Keras-only machinery -> its intent on a torch module):

* ``layers.Input`` / symbolic tensors / ``compute_output_signature`` -> ``compute_output_shape`` on
  the symbolic shape (batch ``None``) plus ``build`` on it.
* ``Model`` / ``Sequential`` + ``predict`` -> calling the layer; ``Model.from_config`` +
  ``set_weights`` -> ``Conv2D.from_config`` + ``build`` + ``set_weights``.
* ``compile`` + ``train_on_batch`` / ``fit`` -> one torch optimizer step with the same optimizer
  and loss.
* ``layer.kernel.constraint`` -> ``layer.kernel_constraint`` plus ``kerastorch.apply_constraints``
  (the projection Keras applies after each optimizer update).
* ``kernel.assign(v)`` -> ``set_weights``; numpy inputs -> ``torch.from_numpy`` (kerastorch layers
  take tensors only).
* Keras 3 vs tf.keras: where the two disagree, kerastorch follows tf.keras; each such place says so.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import as_strided

import kerastorch
from kerastorch import constraints
from kerastorch.layers import Conv2D


# ---------------------------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------------------------
def _assert_shapes_equal(expected, actual, what=""):
    """tf.keras ``assert_shapes_equal`` / Keras 3 ``verify_shape``: ``None`` in expected matches anything."""
    expected, actual = tuple(expected), tuple(actual)
    assert len(expected) == len(actual), f"{what}: found output_shape={actual} but expected {expected}"
    for e, a in zip(expected, actual):
        if e is not None:
            assert e == a, f"{what}: found output_shape={actual} but expected {expected}"


def _numeric_test(actual, expected):
    """tf_keras test_utils.numeric_test."""
    np.testing.assert_allclose(_np(actual), _np(expected), rtol=1e-3, atol=1e-6)


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


# ---------------------------------------------------------------------------------------------
# Numpy reference convolution, ported verbatim from keras/src/layers/convolutional/conv_test.py
# (`_same_padding`, `np_conv2d`).
# ---------------------------------------------------------------------------------------------
def _same_padding(input_size, kernel_size, stride):
    if input_size % stride == 0:
        padding = max(kernel_size - stride, 0)
    else:
        padding = max(kernel_size - (input_size % stride), 0)
    return padding // 2, padding - padding // 2


def np_conv2d(
    x,
    kernel_weights,
    bias_weights,
    strides,
    padding,
    data_format,
    dilation_rate,
    groups,
):
    if data_format == "channels_first":
        x = x.transpose((0, 2, 3, 1))
    if isinstance(strides, (tuple, list)):
        h_stride, w_stride = strides
    else:
        h_stride = strides
        w_stride = strides
    if isinstance(dilation_rate, (tuple, list)):
        h_dilation, w_dilation = dilation_rate
    else:
        h_dilation = dilation_rate
        w_dilation = dilation_rate
    h_kernel, w_kernel, ch_in, ch_out = kernel_weights.shape

    if h_dilation > 1 or w_dilation > 1:
        new_h_kernel = h_kernel + (h_dilation - 1) * (h_kernel - 1)
        new_w_kernel = w_kernel + (w_dilation - 1) * (w_kernel - 1)
        new_kenel_size_tuple = (new_h_kernel, new_w_kernel)
        new_kernel_weights = np.zeros(
            (*new_kenel_size_tuple, ch_in, ch_out),
            dtype=kernel_weights.dtype,
        )
        new_kernel_weights[::h_dilation, ::w_dilation] = kernel_weights
        kernel_weights = new_kernel_weights
        h_kernel, w_kernel = kernel_weights.shape[:2]

    if padding == "same":
        n_batch, h_x, w_x, _ = x.shape
        h_pad = _same_padding(h_x, h_kernel, h_stride)
        w_pad = _same_padding(w_x, w_kernel, w_stride)
        npad = [(0, 0)] * x.ndim
        npad[1] = h_pad
        npad[2] = w_pad
        x = np.pad(x, pad_width=npad, mode="constant", constant_values=0)

    n_batch, h_x, w_x, _ = x.shape
    h_out = int((h_x - h_kernel) / h_stride) + 1
    w_out = int((w_x - w_kernel) / w_stride) + 1

    out_grps = []
    for grp in range(1, groups + 1):
        x_in = x[..., (grp - 1) * ch_in : grp * ch_in]
        stride_shape = (n_batch, h_out, w_out, h_kernel, w_kernel, ch_in)
        strides = (
            x_in.strides[0],
            h_stride * x_in.strides[1],
            w_stride * x_in.strides[2],
            x_in.strides[1],
            x_in.strides[2],
            x_in.strides[3],
        )
        inner_dim = h_kernel * w_kernel * ch_in
        x_strided = as_strided(
            x_in, shape=stride_shape, strides=strides
        ).reshape(-1, inner_dim)
        ch_out_groups = ch_out // groups
        kernel_weights_grp = kernel_weights[
            ..., (grp - 1) * ch_out_groups : grp * ch_out_groups
        ].reshape(-1, ch_out_groups)
        bias_weights_grp = bias_weights[
            ..., (grp - 1) * ch_out_groups : grp * ch_out_groups
        ]
        out_grps.append(x_strided @ kernel_weights_grp + bias_weights_grp)
    out = np.concatenate(out_grps, axis=-1).reshape(
        n_batch, h_out, w_out, ch_out
    )
    if data_format == "channels_first":
        out = out.transpose((0, 3, 1, 2))
    return out


# =============================================================================================
# tf.keras: tf_keras/src/layers/convolutional/conv_test.py
# =============================================================================================
def _tf_keras_layer_test(kwargs, input_shape, input_data=None, expected_output_shape=None):
    """tf_keras/src/testing_infra/test_utils.py ``layer_test``, step by step, for Conv2D.

    Its first step (``get_weights``/``set_weights`` on the freshly constructed, unbuilt layer)
    is checked on its own in ``test_conv2d_layer_test_unbuilt_get_set_weights`` so that one
    discrepancy there does not hide the rest of ``layer_test``.
    """
    rng = np.random.default_rng(0)
    if input_data is None:
        shape = [int(rng.integers(1, 4)) if d is None else d for d in input_shape]
        input_data = (10 * rng.random(shape) - 0.5).astype("float32")
    x = torch.from_numpy(input_data)
    input_shape = tuple(input_shape)

    # instantiation. ("instantiation from weights" is skipped by layer_test itself for Conv2D:
    # `weights` is not a named argument of Conv2D.__init__.)
    layer = Conv2D(**kwargs)

    # test in functional API: Input(shape=input_shape[1:]) -> symbolic batch dim None.
    symbolic_shape = (None, *input_shape[1:])
    y_shape = layer.compute_output_shape(symbolic_shape)
    layer.build(symbolic_shape)
    assert layer.built
    if expected_output_shape is not None:
        _assert_shapes_equal(expected_output_shape, y_shape, "functional API output")

    # check shape inference: compute_output_shape(input_shape) vs the actual output; dtype.
    computed_output_shape = tuple(layer.compute_output_shape(input_shape))
    actual_output = layer(x)
    _assert_shapes_equal(computed_output_shape, actual_output.shape, "compute_output_shape vs output")
    assert actual_output.dtype == x.dtype, f"found output dtype={actual_output.dtype}, expected {x.dtype}"

    # test serialization, weight setting at model level.
    recovered = Conv2D.from_config(layer.get_config())
    recovered.build(symbolic_shape)
    recovered.set_weights(layer.get_weights())
    _numeric_test(recovered(x), actual_output)

    # test training mode: compile("rmsprop", "mse") + train_on_batch(input_data, actual_output).
    layer_weights = layer.get_weights()  # BEFORE training
    opt = torch.optim.RMSprop(layer.parameters(), lr=0.001)
    opt.zero_grad()
    loss = F.mse_loss(layer(x), actual_output.detach())
    loss.backward()
    assert torch.isfinite(loss)
    for p in layer.trainable_weights:
        assert p.grad is not None and p.grad.shape == p.shape
    opt.step()
    assert all(torch.isfinite(p).all() for p in layer.weights)

    # test as first layer in Sequential API: from_config with batch_input_shape, pre-training weights.
    layer_config = layer.get_config()
    layer_config["batch_input_shape"] = input_shape
    layer = Conv2D.from_config(layer_config)
    assert layer.built
    layer.set_weights(layer_weights)
    actual_output = layer(x)
    for expected_dim, actual_dim in zip(computed_output_shape, actual_output.shape):
        if expected_dim is not None:
            assert expected_dim == actual_dim, (
                f"after deserialization found output_shape={tuple(actual_output.shape)} but expected "
                f"inferred shape {computed_output_shape}"
            )

    # test serialization, weight setting at model level (Sequential.from_config).
    recovered = Conv2D.from_config(layer.get_config())
    assert recovered.built
    recovered.set_weights(layer.get_weights())
    _numeric_test(recovered(x), actual_output)
    return actual_output


# tf_keras conv_test.py :: Conv2DTest.test_conv2d (named_parameters: name, kwargs, expected output
# shape, requires_gpu, spatial_shape). kernel_size is (3, 3), filters defaults to 2.
_TF_KERAS_CONV2D_CASES = [
    ("padding_valid", {"padding": "valid"}, (None, 5, 4, 2), False, (7, 6)),
    ("padding_same", {"padding": "same"}, (None, 7, 6, 2), False, (7, 6)),
    ("padding_same_dilation_2", {"padding": "same", "dilation_rate": 2}, (None, 7, 6, 2), False, (7, 6)),
    ("strides", {"strides": (2, 2)}, (None, 3, 2, 2), False, (7, 6)),
    ("dilation_rate", {"dilation_rate": (2, 2)}, (None, 3, 2, 2), False, (7, 6)),
    # tf.keras runs this case only on a CUDA GPU (TF has no channels_first conv on CPU);
    # kerastorch supports channels_first on CPU, so it runs here unconditionally.
    ("data_format", {"data_format": "channels_first"}, None, True, (7, 6)),
    ("group", {"groups": 3, "filters": 6}, (None, 5, 4, 6), False, (7, 6)),
    ("dilation_2_unknown_width", {"dilation_rate": (2, 2)}, (None, None, 2, 2), False, (None, 6)),
    ("dilation_2_unknown_height", {"dilation_rate": (2, 2)}, (None, 3, None, 2), False, (7, None)),
]


class TestTFKeras_Conv2DTest:
    # tf_keras conv_test.py :: Conv2DTest.test_conv2d, via _run_test and _run_test_extra_batch_dim.
    @pytest.mark.parametrize("variant", ["run_test", "run_test_extra_batch_dim"])
    @pytest.mark.parametrize(
        "kwargs, expected_output_shape, requires_gpu, spatial_shape",
        [c[1:] for c in _TF_KERAS_CONV2D_CASES],
        ids=[c[0] for c in _TF_KERAS_CONV2D_CASES],
    )
    def test_conv2d(self, kwargs, expected_output_shape, requires_gpu, spatial_shape, variant):
        kwargs = dict(kwargs)
        kwargs["filters"] = kwargs.get("filters", 2)
        kwargs["kernel_size"] = (3, 3)
        num_samples, stack_size = 2, 3
        num_row, num_col = spatial_shape
        batch_shape = (num_samples,) if variant == "run_test" else (2, 11)
        if variant == "run_test_extra_batch_dim" and expected_output_shape is not None:
            expected_output_shape = (None,) + expected_output_shape
        input_data = None
        if None in spatial_shape:
            input_data = (10 * np.random.default_rng(1).random(batch_shape + (num_row or 7, num_col or 6, stack_size))).astype(
                np.float32
            )
        _tf_keras_layer_test(
            kwargs,
            input_shape=batch_shape + (num_row, num_col, stack_size),
            input_data=input_data,
            expected_output_shape=expected_output_shape,
        )

    # tf_keras testing_infra/test_utils.py :: layer_test, first step, for every Conv2DTest.test_conv2d
    # case: `weights = layer.get_weights(); layer.set_weights(weights)` on the freshly constructed
    # (unbuilt) layer. tf.keras returns [] and accepts [] back (checked against tf-keras 2.21).
    def test_conv2d_layer_test_unbuilt_get_set_weights(self):
        failures = []
        for name, kwargs, *_ in _TF_KERAS_CONV2D_CASES:
            kwargs = dict(kwargs)
            kwargs["filters"] = kwargs.get("filters", 2)
            kwargs["kernel_size"] = (3, 3)
            layer = Conv2D(**kwargs)
            weights = layer.get_weights()
            assert weights == []
            try:
                layer.set_weights(weights)
            except ValueError as e:
                failures.append(f"{name}: {e}")
            else:
                assert not layer.built and layer.get_weights() == []
        assert not failures, "set_weights(get_weights()) on an unbuilt layer raised:\n" + "\n".join(failures)

    # tf_keras conv_test.py :: Conv2DTest.test_conv2d_regularizers
    def test_conv2d_regularizers(self):
        kwargs = {
            "filters": 3,
            "kernel_size": 3,
            "padding": "valid",
            "kernel_regularizer": "l2",
            "bias_regularizer": "l2",
            "activity_regularizer": "l2",
            "strides": 1,
        }
        layer = Conv2D(**kwargs)
        layer.build((None, 5, 5, 2))
        assert len(layer.losses) == 2
        layer(torch.ones((1, 5, 5, 2)))  # keras.backend.variable(np.ones((1, 5, 5, 2)))
        assert len(layer.losses) == 3

    # tf_keras conv_test.py :: Conv2DTest.test_conv2d_constraints
    # (`layer.kernel.constraint` -> `layer.kernel_constraint`; the identity constraints are also
    # checked to be applied to the right weights by kerastorch.apply_constraints.)
    def test_conv2d_constraints(self):
        applied = []
        k_constraint = lambda x: (applied.append(("kernel", tuple(x.shape))), x)[1]  # noqa: E731
        b_constraint = lambda x: (applied.append(("bias", tuple(x.shape))), x)[1]  # noqa: E731

        kwargs = {
            "filters": 3,
            "kernel_size": 3,
            "padding": "valid",
            "kernel_constraint": k_constraint,
            "bias_constraint": b_constraint,
            "strides": 1,
        }
        layer = Conv2D(**kwargs)
        layer.build((None, 5, 5, 2))
        assert layer.kernel_constraint is k_constraint
        assert layer.bias_constraint is b_constraint
        before = layer.get_weights()
        kerastorch.apply_constraints(layer)
        assert sorted(applied) == [("bias", (3,)), ("kernel", (3, 3, 2, 3))]
        for b, a in zip(before, layer.get_weights()):
            np.testing.assert_array_equal(a, b)

    # tf_keras conv_test.py :: Conv2DTest.test_conv2d_zero_kernel_size
    def test_conv2d_zero_kernel_size(self):
        kwargs = {"filters": 2, "kernel_size": 0}
        with pytest.raises(ValueError):
            Conv2D(**kwargs)

    # tf_keras conv_test.py :: Conv2DTest.test_conv2d_invalid_output_shapes
    def test_conv2d_invalid_output_shapes(self):
        kwargs = {"filters": 2, "kernel_size": 20}
        with pytest.raises(ValueError, match=r"One of the dimensions in the output is <= 0"):
            layer = Conv2D(**kwargs)
            layer.build((None, 5, 5, 2))

    # tf_keras conv_test.py :: Conv2DTest.test_conv2d_invalid_strides_and_dilation_rate
    def test_conv2d_invalid_strides_and_dilation_rate(self):
        kwargs = {"strides": [1, 2], "dilation_rate": [2, 1]}
        with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction"):
            Conv2D(filters=1, kernel_size=2, **kwargs)


class TestTFKeras_GroupedConvTest:
    # tf_keras conv_test.py :: GroupedConvTest.test_group_conv_incorrect_use (the Conv2D parameter).
    # The original builds with (32, 12, 12, 3) for every rank; that is a valid Conv2D input shape.
    def test_group_conv_incorrect_use(self):
        with pytest.raises(ValueError, match="The number of filters"):
            Conv2D(16, 3, groups=3)
        with pytest.raises(ValueError, match="The number of input channels"):
            Conv2D(16, 3, groups=4).build((32, 12, 12, 3))

    # tf_keras conv_test.py :: GroupedConvTest.test_group_conv (the Conv2D parameter).
    # tf.keras runs it only on a CUDA GPU; here on CPU. The reference `tf.nn.convolution` of each
    # input/kernel split (VALID, stride 1) is computed with the numpy `np_conv2d` ported above.
    def test_group_conv(self):
        input_shape = (32, 12, 12, 32)
        torch.manual_seed(0)
        inputs = torch.rand(input_shape)  # tf.random.uniform

        layer = Conv2D(16, 3, groups=4, use_bias=False)
        layer.build(input_shape)

        kernel = layer.get_weights()[0].astype(np.float64)
        x = inputs.numpy().astype(np.float64)
        input_slices = np.split(x, 4, axis=-1)
        weight_slices = np.split(kernel, 4, axis=-1)
        expected_outputs = np.concatenate(
            [
                np_conv2d(i, w, np.zeros(w.shape[-1]), 1, "valid", "channels_last", 1, 1)
                for i, w in zip(input_slices, weight_slices)
            ],
            axis=-1,
        )
        np.testing.assert_allclose(_np(layer(inputs)), expected_outputs, rtol=3e-5, atol=3e-5)

    # tf_keras conv_test.py :: GroupedConvTest.test_group_conv_depthwise
    # tf.keras runs it only on a CUDA GPU; here on CPU. The reference
    # `tf.compat.v1.nn.depthwise_conv2d(..., padding="VALID")` is written out in numpy.
    def test_group_conv_depthwise(self):
        torch.manual_seed(0)
        inputs = torch.rand((3, 27, 27, 32))  # tf.random.uniform

        layer = Conv2D(32, 3, groups=32, use_bias=False)
        layer.build((3, 27, 27, 32))

        weights_dw = layer.get_weights()[0].reshape(3, 3, 32, 1).astype(np.float64)
        x = inputs.numpy().astype(np.float64)
        windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))  # (n, h, w, c, kh, kw)
        expected_outputs = np.einsum("nijcab,abc->nijc", windows, weights_dw[..., 0])

        np.testing.assert_allclose(_np(layer(inputs)), expected_outputs, rtol=1e-5, atol=1e-6)


class TestTFKeras_ConvSequentialTest:
    # tf_keras conv_test.py :: ConvSequentialTest.test_conv2d (one layer called on two spatial
    # shapes in turn; filters=1, kernel_size=3, dilation_rate=2; inputs np.zeros -> float64 tensors).
    @pytest.mark.parametrize(
        "kwargs, input_shape1, input_shape2, expected_output_shape1, expected_output_shape2",
        [
            ({"padding": "valid"}, (1, 7, 6, 2), (1, 6, 5, 2), (1, 3, 2, 1), (1, 2, 1, 1)),
            ({"padding": "same"}, (1, 7, 6, 2), (1, 6, 5, 2), (1, 7, 6, 1), (1, 6, 5, 1)),
        ],
        ids=["padding_valid", "padding_same"],
    )
    def test_conv2d(self, kwargs, input_shape1, input_shape2, expected_output_shape1, expected_output_shape2):
        kwargs = dict(kwargs, filters=1, kernel_size=3, dilation_rate=2)
        layer = Conv2D(**kwargs)
        output1 = layer(torch.from_numpy(np.zeros(input_shape1)))
        assert tuple(output1.shape) == expected_output_shape1
        output2 = layer(torch.from_numpy(np.zeros(input_shape2)))
        assert tuple(output2.shape) == expected_output_shape2


# Not ported from tf_keras conv_test.py (kerastorch has Conv2D only): Conv1DTest (all),
# Conv3DTest (all, incl. test_conv3d_dynamic_shape and test_conv3d_zero_dim_output, a
# Conv3DTranspose case), GroupedConvTest Conv1D/Conv3D parameters, ConvSequentialTest.test_conv1d,
# test_conv3d and test_dynamic_shape (a Conv3D case).


# =============================================================================================
# Keras 3: keras/src/layers/convolutional/conv_test.py
# =============================================================================================
def _keras3_run_layer_test(
    init_kwargs,
    input_shape,
    expected_output_shape,
    expected_num_trainable_weights,
    expected_num_non_trainable_weights,
    expected_num_losses,
    supports_masking,
    run_mixed_precision_check=True,
):
    """keras/src/testing/test_case.py ``run_layer_test`` for a Conv2D with an ``input_shape``."""
    torch.manual_seed(0)
    input_data = torch.rand(input_shape) * 3  # create_eager_tensors: uniform * 3, float32

    # Serialization test: get_config -> from_config -> get_config, and the same attribute set.
    # (The second half, serialize_keras_object/deserialize_keras_object, is Keras's registry-level
    # wrapper around the same get_config/from_config; kerastorch has no layer registry to port it to.)
    layer = Conv2D(**init_kwargs)
    config = layer.get_config()
    revived = Conv2D.from_config(config)
    assert revived.get_config() == config
    assert set(dir(layer)) == set(dir(revived))

    # Basic masking test. kerastorch has no masking machinery; a layer without `supports_masking`
    # does not support masking.
    if supports_masking is not None:
        assert getattr(layer, "supports_masking", False) == supports_masking

    def run_build_asserts(layer):
        assert layer.built
        assert len(layer.trainable_weights) == expected_num_trainable_weights, "Unexpected number of trainable_weights"
        assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights, (
            "Unexpected number of non_trainable_weights"
        )
        # torch backend: len(layer.torch_params) == trainable + non-trainable + seed generators (0).
        assert len(list(layer.parameters())) == expected_num_trainable_weights + expected_num_non_trainable_weights

    def run_output_asserts(layer, output_shape, eager=False):
        _assert_shapes_equal(expected_output_shape, output_shape, "Expected output shapes")
        if eager:
            assert len(layer.losses) == expected_num_losses

    # Build test.
    layer = Conv2D(**init_kwargs)
    layer.build(input_shape)
    run_build_asserts(layer)

    # Symbolic call test (KerasTensor of input_shape): output shape inference + build.
    layer = Conv2D(**init_kwargs)
    symbolic_output_shape = layer.compute_output_shape(input_shape)
    layer.build(input_shape)
    run_build_asserts(layer)
    run_output_asserts(layer, symbolic_output_shape, eager=False)

    # Eager call test.
    layer = Conv2D(**init_kwargs)
    output_data = layer(input_data)
    run_output_asserts(layer, output_data.shape, eager=True)

    # Training step: compile(optimizer="sgd", loss=sum(y_pred)) + fit for one step.
    before = [w.copy() for w in layer.get_weights()]
    opt = torch.optim.SGD(layer.parameters(), lr=0.01)
    opt.zero_grad()
    layer(input_data).sum().backward()
    opt.step()
    kerastorch.apply_constraints(layer)
    for b, a in zip(before, layer.get_weights()):
        assert np.isfinite(a).all() and not np.array_equal(a, b), "training step did not update the weights"

    # Mixed precision check. Keras runs it on the tensorflow/jax backends (it skips torch on CPU
    # only because Keras's torch backend lacks CPU float16 there); kerastorch supports it on CPU.
    if run_mixed_precision_check:
        layer = Conv2D(**{**init_kwargs, "dtype": "mixed_float16"})
        output_data = layer(input_data)
        assert output_data.dtype == torch.float16, f"expected output dtype float16, got {output_data.dtype}"
        _assert_shapes_equal(layer.compute_output_shape(input_shape), output_data.shape, "mixed precision output")
        for weight in layer.weights:
            assert weight.dtype == torch.float32


class TestKeras3_ConvBasicTest:
    # keras conv_test.py :: ConvBasicTest.test_conv2d_basic
    @pytest.mark.parametrize(
        "filters, kernel_size, strides, padding, data_format, dilation_rate, groups, input_shape, output_shape",
        [
            (5, 2, 1, "valid", "channels_last", 1, 1, (3, 5, 5, 4), (3, 4, 4, 5)),
            (6, 2, 1, "same", "channels_last", (2, 2), 2, (3, 4, 4, 4), (3, 4, 4, 6)),
            (6, (2, 2), (2, 1), "valid", "channels_last", (1, 1), 2, (3, 5, 5, 4), (3, 2, 4, 6)),
        ],
    )
    def test_conv2d_basic(
        self, filters, kernel_size, strides, padding, data_format, dilation_rate, groups, input_shape, output_shape
    ):
        _keras3_run_layer_test(
            init_kwargs={
                "filters": filters,
                "kernel_size": kernel_size,
                "strides": strides,
                "padding": padding,
                "data_format": data_format,
                "dilation_rate": dilation_rate,
                "groups": groups,
            },
            input_shape=input_shape,
            expected_output_shape=output_shape,
            expected_num_trainable_weights=2,
            expected_num_non_trainable_weights=0,
            expected_num_losses=0,
            supports_masking=False,
        )

    # keras conv_test.py :: ConvBasicTest.test_bad_init_args
    # Keras 3 and tf.keras differ in several messages and on groups=0; kerastorch follows tf.keras
    # (messages below are tf-keras 2.21's, checked against the real layer).
    def test_bad_init_args(self):
        # `filters` is not positive. (Keras 3 uses Conv1D here; kerastorch has Conv2D only.)
        with pytest.raises(
            ValueError,
            match="Invalid value for argument `filters`. Expected a strictly positive value. Received filters=0.",
        ):
            Conv2D(filters=0, kernel_size=1)

        # `kernel_size` has 0.
        # Keras 3: "... Received kernel_size=(1, 0), including values {0} that do not satisfy `value > 0`";
        # tf.keras wording:
        with pytest.raises(
            ValueError,
            match=r"The `kernel_size` argument must be a tuple of \d+ integers. Received: \(1, 0\) including \{0\} "
            r"that does not satisfy the requirement `> 0`.",
        ):
            Conv2D(filters=2, kernel_size=(1, 0))

        # `strides` has 0.
        # Keras 3: "The `strides` argument must be a tuple of \d+ integers. Received strides=(1, 0), ...";
        # tf.keras normalizes strides with allow_zero=True and refuses the 0 in _validate_init:
        with pytest.raises(ValueError, match=r"The argument `strides` cannot contains 0\(s\). Received: \(1, 0\)"):
            Conv2D(filters=2, kernel_size=(2, 2), strides=(1, 0))

        # `dilation_rate > 1` while `strides > 1` (same message in both).
        with pytest.raises(
            ValueError,
            match=r"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides=\(2, 2\) and "
            r"dilation_rate=\(2, 1\)",
        ):
            Conv2D(filters=2, kernel_size=(2, 2), strides=2, dilation_rate=(2, 1))

        # `groups` is not strictly positive.
        # Keras 3 raises "The number of groups must be a positive integer. Received: groups=0.";
        # tf.keras takes `groups or 1`, so groups=0 builds a plain (groups=1) convolution.
        layer = Conv2D(filters=5, kernel_size=(2, 2), groups=0)
        assert layer.groups == 1

        # `filters` cannot be divided by `groups` (Keras 3 adds a final period).
        with pytest.raises(
            ValueError,
            match="The number of filters must be evenly divisible by the number of groups. Received: groups=2, filters=5",
        ):
            Conv2D(filters=5, kernel_size=(2, 2), groups=2)

    # keras conv_test.py :: ConvBasicTest.test_conv_symbolic_invalid_configuration (the Conv2D
    # parameter: input (10, 10, 3), kernel (2, 2), dilation (10, 10) -> dilated kernel 11 > 10).
    # The symbolic call becomes compute_output_shape / build on the symbolic shape; the eager call
    # is checked too.
    def test_conv_symbolic_invalid_configuration(self):
        input_shape, kernel_size, dilation_rate = (10, 10, 3), (2, 2), (10, 10)
        layer = Conv2D(filters=1, kernel_size=kernel_size, dilation_rate=dilation_rate)
        # Keras 3 raises already here; tf.keras (which kerastorch follows, see conv2d_errors.json
        # case e050) returns a 0-sized dim and builds. The call is refused by both.
        assert layer.compute_output_shape((None, *input_shape)) == (None, 0, 0, 1)
        layer.build((None, *input_shape))
        layer = Conv2D(filters=1, kernel_size=kernel_size, dilation_rate=dilation_rate)
        with pytest.raises(ValueError):
            layer(torch.zeros((1, *input_shape)))

    # Not ported from keras conv_test.py: test_enable_lora (conv2d_* parameters), test_lora_weight_name,
    # test_enable_lora_with_alpha, test_lora_rank_argument -- LoRA (enable_lora / lora_rank) is a
    # Keras 3 feature that neither tf.keras nor kerastorch has.
    # Not ported (kerastorch has Conv2D only): test_conv1d_basic, test_conv3d_basic, and the
    # Conv1D/Conv3D parameters of test_conv_symbolic_invalid_configuration.


class TestKeras3_ConvCorrectnessTest:
    # keras conv_test.py :: ConvCorrectnessTest.test_conv2d (against the numpy np_conv2d above).
    @pytest.mark.parametrize(
        "filters, kernel_size, strides, padding, data_format, dilation_rate, groups",
        [
            (5, 2, 1, "valid", "channels_last", 1, 1),
            (4, 3, 2, "same", "channels_last", 1, 1),
            (6, 2, 1, "same", "channels_last", (2, 2), 2),
            (6, 2, 1, "same", "channels_last", (2, 3), 2),
            (6, (4, 3), (2, 1), "valid", "channels_last", (1, 1), 2),
            (6, (4, 3), (2, 1), "valid", "channels_first", (1, 1), 2),
        ],
    )
    def test_conv2d(self, filters, kernel_size, strides, padding, data_format, dilation_rate, groups):
        layer = Conv2D(
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
        )

        rng = np.random.default_rng(2024)
        inputs = rng.normal(size=[2, 8, 8, 4])
        layer.build(input_shape=inputs.shape)

        kernel_shape = tuple(layer.keras_weight("kernel").shape)
        kernel_weights = rng.normal(size=kernel_shape)
        bias_weights = rng.normal(size=(filters,))
        layer.set_weights([kernel_weights, bias_weights])  # layer.kernel.assign / layer.bias.assign

        outputs = layer(torch.from_numpy(inputs))
        expected = np_conv2d(
            inputs,
            kernel_weights,
            bias_weights,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
        )
        # Keras's assertAllClose(outputs, expected, rtol=5e-4) with its default atol=1e-6.
        np.testing.assert_allclose(_np(outputs), expected, rtol=5e-4, atol=1e-6)

    # keras conv_test.py :: ConvCorrectnessTest.test_conv_constraints
    # (`layer.kernel.constraint` -> `layer.kernel_constraint`, plus the projection itself.)
    def test_conv_constraints(self):
        layer = Conv2D(filters=4, kernel_size=3, kernel_constraint="non_neg")
        layer.build((None, 5, 5, 3))
        assert isinstance(layer.kernel_constraint, constraints.NonNeg)
        with torch.no_grad():
            layer.kernel.copy_(torch.randn(layer.kernel.shape))
        kerastorch.apply_constraints(layer)
        assert (layer.kernel >= 0).all()

        layer = Conv2D(filters=4, kernel_size=3, bias_constraint="non_neg")
        layer.build((None, 5, 5, 3))
        assert isinstance(layer.bias_constraint, constraints.NonNeg)
        with torch.no_grad():
            layer.bias.copy_(torch.tensor([-1.0, 2.0, -3.0, 4.0]))
        kerastorch.apply_constraints(layer)
        assert layer.bias.tolist() == [0.0, 2.0, 0.0, 4.0]

    # keras conv_test.py :: ConvCorrectnessTest.test_conv_raises_exception_on_zero_dims
    # (any exception type, as in the original; the input is a tensor so that kerastorch's
    # "expects a torch.Tensor" check cannot be what raises.)
    def test_conv_raises_exception_on_zero_dims(self):
        x = torch.from_numpy(np.random.default_rng(0).random((3, 4, 4, 4)))
        layer = Conv2D(6, [5, 5], 1, "valid")
        with pytest.raises(Exception):
            layer(x)

    # Not ported (kerastorch has Conv2D only): ConvCorrectnessTest.test_conv1d, test_conv3d, and the
    # np_conv1d / np_conv3d references.

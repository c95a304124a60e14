"""The rest of the convolutional module: Keras's own test cases, ported to kerastorch.

Layers: ``Conv{1,2,3}DTranspose``, ``DepthwiseConv{1,2}D``, ``SeparableConv{1,2}D``,
``UpSampling{1,2,3}D``, ``ZeroPadding{1,2,3}D``, ``Cropping{1,2,3}D``.

Sources (read as text; nothing here imports TensorFlow or Keras):

* tf.keras 2.21 (keras-team/tf-keras): ``tf_keras/layers/convolutional/conv_transpose_test.py``,
  ``depthwise_conv_test.py``, ``separable_conv_test.py``; ``tf_keras/layers/reshaping/up_sampling_test.py``,
  ``zero_padding_test.py``, ``cropping_test.py``; and ``Conv3DTest.test_conv3d_zero_dim_output`` of
  ``tf_keras/layers/convolutional/conv_test.py`` (a Conv3DTranspose case, left out of
  ``test_keras_ported.py``). Their helper ``layer_test`` is ``tf_keras/testing_infra/test_utils.py``.
* Keras 3.15 (keras-team/keras): ``keras/src/layers/convolutional/conv_transpose_test.py``,
  ``depthwise_conv_test.py``, ``separable_conv_test.py``; ``keras/src/layers/reshaping/
  up_sampling{1,2,3}d_test.py``, ``zero_padding{1,2,3}d_test.py``, ``cropping{1,2,3}d_test.py``. Their
  numpy references (``np_conv{1,2,3}d_transpose``, ``np_depthwise_conv{1,2}d``, ``np_conv{1,2}d``) are
  ported verbatim below, with the two ``keras/src/backend/common/backend_utils.py`` functions the
  transposed references call. The helper ``run_layer_test`` is ``keras/src/testing/test_case.py``.

Translation rules (as in ``test_keras_ported.py``):

* ``layers.Input`` / ``KerasTensor`` -> ``compute_output_shape`` on the symbolic shape plus ``build``;
  an error expected from a symbolic call is checked on the eager call (tf.keras raises from ``call``).
* ``Model``/``Sequential`` + ``predict`` -> calling the layer; ``from_config`` + ``set_weights``.
* ``compile`` + ``train_on_batch``/``fit`` -> one torch optimizer step (same optimizer and loss, the
  layer's regularization losses included), then ``kerastorch.apply_constraints``. A weight-free layer
  has nothing to step.
* ``layer.kernel.assign(v)`` -> ``set_weights``; ``layer.kernel.shape`` -> ``keras_weight(name).shape``;
  ``layer.kernel.constraint`` -> ``layer.kernel_constraint``; numpy inputs -> ``torch.from_numpy``.
* Keras 3's depthwise weight is ``kernel``; tf.keras's (and kerastorch's) is ``depthwise_kernel``.
* Numeric comparisons use the suite's ``kt_testing.assert_close`` on the float32 outputs (stricter than
  the originals: tf.keras ``numeric_test`` rtol 1e-3, Keras 3 ``assertAllClose`` rtol 1e-6/atol 1e-6..1e-5).
* Where tf.keras and Keras 3 disagree, kerastorch follows tf.keras: each such place is marked
  ``tf.keras differs`` and asserts tf.keras 2.21's behaviour, read from its source.

Not ported:

* tf.keras: the ``run_all_keras_modes`` / ``cached_session`` / ``use_gpu`` plumbing (v1 graph vs eager
  vs tf.function: one torch mode here); the CUDA-only guards (channels_first and 1-D dilated transposed
  cases run on CPU here); ``keras.backend.variable`` inputs (plain tensors).
* Keras 3: LoRA and quantization (none in these files' versions read; neither exists in tf.keras or
  kerastorch); sparse/ragged inputs and masking (``supports_masking`` is checked as an attribute only);
  the Keras-3-on-torch special cases of ``test_conv1d_transpose_consistency`` (torch's clamped
  ``output_padding`` warning and its known mismatch with TF: kerastorch must equal the TF reference in
  every case, so those cases assert equality); the ``output_padding >= strides`` combinations that test
  skips (covered by the error tests); ``serialize_keras_object``/``deserialize_keras_object`` (Keras's
  registry wrapper around the same get_config/from_config round trip ported here); mixed precision on
  the torch backend is skipped by Keras only for lack of CPU float16 in its torch backend (run here).
"""
from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import as_strided

import kerastorch
from kerastorch.layers import (
    Conv1DTranspose,
    Conv2DTranspose,
    Conv3DTranspose,
    Convolution3DTranspose,
    Cropping1D,
    Cropping2D,
    Cropping3D,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from kt_testing import assert_close


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


def _t(x):
    return x if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))


def _close(actual, expected, msg=""):
    """The suite's tolerance, in float32 (kerastorch computes these layers in float32)."""
    expected = _t(expected)
    if expected.is_floating_point():
        expected = expected.to(torch.float32)
    assert_close(_t(actual), expected, msg=msg)


def _regularized_loss(layer, y, target=None):
    loss = F.mse_loss(y, target) if target is not None else y.sum()
    for extra in layer.losses:
        loss = loss + extra
    return loss


# =============================================================================================
# Keras 3 numpy references (verbatim, with the backend_utils helpers they call)
# =============================================================================================
# keras/src/backend/common/backend_utils.py
def _convert_conv_transpose_padding_args_from_keras_to_jax(kernel_size, stride, dilation_rate, padding, output_padding):
    if padding.lower() not in {"valid", "same"}:
        raise ValueError(
            f"The `padding` argument must be one of 'valid', 'same'. Received: padding={padding}"
        )
    kernel_size = (kernel_size - 1) * dilation_rate + 1

    if padding.lower() == "valid":
        output_padding = max(kernel_size, stride) - kernel_size if output_padding is None else output_padding
        left_pad = kernel_size - 1
        right_pad = kernel_size - 1 + output_padding
    else:
        if output_padding is None:
            pad_len = stride + kernel_size - 2
        else:
            pad_len = kernel_size + kernel_size % 2 - 2 + output_padding
        left_pad = min(pad_len // 2 + pad_len % 2, kernel_size - 1)
        right_pad = pad_len - left_pad

    return left_pad, right_pad


def compute_conv_transpose_padding_args_for_jax(input_shape, kernel_shape, strides, padding, output_padding, dilation_rate):
    num_spatial_dims = len(input_shape) - 2
    kernel_spatial_shape = kernel_shape[:-2]

    jax_padding = []
    for i in range(num_spatial_dims):
        output_padding_i = (
            output_padding if output_padding is None or isinstance(output_padding, int) else output_padding[i]
        )
        strides_i = strides if isinstance(strides, int) else strides[i]
        dilation_rate_i = dilation_rate if isinstance(dilation_rate, int) else dilation_rate[i]
        pad_left, pad_right = _convert_conv_transpose_padding_args_from_keras_to_jax(
            kernel_size=kernel_spatial_shape[i],
            stride=strides_i,
            dilation_rate=dilation_rate_i,
            padding=padding,
            output_padding=output_padding_i,
        )
        jax_padding.append((pad_left, pad_right))

    return jax_padding


def _get_output_shape_given_tf_padding(input_size, kernel_size, strides, padding, output_padding, dilation_rate):
    if input_size is None:
        return None

    if padding.lower() not in {"valid", "same"}:
        raise ValueError(
            f"The `padding` argument must be one of 'valid', 'same'. Received: padding={padding}"
        )

    kernel_size = (kernel_size - 1) * dilation_rate + 1

    if padding.lower() == "valid":
        output_padding = max(kernel_size, strides) - kernel_size if output_padding is None else output_padding
        return (input_size - 1) * strides + kernel_size + output_padding

    else:
        if output_padding is None:
            return input_size * strides
        else:
            return (input_size - 1) * strides + kernel_size % 2 + output_padding


def compute_conv_transpose_output_shape(
    input_shape, kernel_size, filters, strides, padding, output_padding=None, data_format="channels_last", dilation_rate=1
):
    num_spatial_dims = len(input_shape) - 2
    kernel_spatial_shape = kernel_size

    if isinstance(output_padding, int):
        output_padding = (output_padding,) * len(kernel_spatial_shape)
    if isinstance(strides, int):
        strides = (strides,) * num_spatial_dims
    if isinstance(dilation_rate, int):
        dilation_rate = (dilation_rate,) * num_spatial_dims

    if data_format == "channels_last":
        input_spatial_shape = input_shape[1:-1]
    else:
        input_spatial_shape = input_shape[2:]

    output_shape = []
    for i in range(num_spatial_dims):
        current_output_padding = None if output_padding is None else output_padding[i]

        shape_i = _get_output_shape_given_tf_padding(
            input_size=input_spatial_shape[i],
            kernel_size=kernel_spatial_shape[i],
            strides=strides[i],
            padding=padding,
            output_padding=current_output_padding,
            dilation_rate=dilation_rate[i],
        )
        output_shape.append(shape_i)

    if data_format == "channels_last":
        output_shape = [input_shape[0]] + output_shape + [filters]
    else:
        output_shape = [input_shape[0], filters] + output_shape
    return output_shape


# keras/src/layers/convolutional/conv_transpose_test.py
def np_conv1d_transpose(x, kernel_weights, bias_weights, strides, padding, output_padding, data_format, dilation_rate):
    if data_format == "channels_first":
        x = x.transpose((0, 2, 1))
    if isinstance(strides, (tuple, list)):
        h_stride = strides[0]
    else:
        h_stride = strides
    if isinstance(dilation_rate, (tuple, list)):
        h_dilation = dilation_rate[0]
    else:
        h_dilation = dilation_rate

    h_kernel, ch_out, ch_in = kernel_weights.shape
    n_batch, h_x, _ = x.shape
    # Get output shape and padding
    _, h_out, _ = compute_conv_transpose_output_shape(
        x.shape, kernel_weights.shape, ch_out, strides, padding, output_padding, "channels_last", dilation_rate
    )
    jax_padding = compute_conv_transpose_padding_args_for_jax(
        input_shape=x.shape,
        kernel_shape=kernel_weights.shape,
        strides=strides,
        padding=padding,
        output_padding=output_padding,
        dilation_rate=dilation_rate,
    )
    h_pad_side1 = h_kernel - 1 - jax_padding[0][0]

    if h_dilation > 1:
        # Increase kernel size
        new_h_kernel = h_kernel + (h_dilation - 1) * (h_kernel - 1)
        new_kernel_size_tuple = (new_h_kernel,)
        new_kernel_weights = np.zeros((*new_kernel_size_tuple, ch_out, ch_in), dtype=kernel_weights.dtype)
        new_kernel_weights[::h_dilation] = kernel_weights
        kernel_weights = new_kernel_weights
        h_kernel = kernel_weights.shape[0]

    # Compute output
    output = np.zeros([n_batch, h_out + h_kernel, ch_out])
    for nb in range(n_batch):
        for h_x_idx in range(h_x):
            h_out_idx = h_x_idx * h_stride  # Index in output
            output[nb, h_out_idx : h_out_idx + h_kernel, :] += np.sum(kernel_weights[:, :, :] * x[nb, h_x_idx, :], axis=-1)
    output = output + bias_weights

    # Cut padding results from output
    output = output[:, h_pad_side1 : h_out + h_pad_side1]
    if data_format == "channels_first":
        output = output.transpose((0, 2, 1))
    return output


def np_conv2d_transpose(x, kernel_weights, bias_weights, strides, padding, output_padding, data_format, dilation_rate):
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

    h_kernel, w_kernel, ch_out, ch_in = kernel_weights.shape
    n_batch, h_x, w_x, _ = x.shape
    # Get output shape and padding
    _, h_out, w_out, _ = compute_conv_transpose_output_shape(
        x.shape, kernel_weights.shape, ch_out, strides, padding, output_padding, "channels_last", dilation_rate
    )
    jax_padding = compute_conv_transpose_padding_args_for_jax(
        input_shape=x.shape,
        kernel_shape=kernel_weights.shape,
        strides=strides,
        padding=padding,
        output_padding=output_padding,
        dilation_rate=dilation_rate,
    )
    h_pad_side1 = h_kernel - 1 - jax_padding[0][0]
    w_pad_side1 = w_kernel - 1 - jax_padding[1][0]

    if h_dilation > 1 or w_dilation > 1:
        # Increase kernel size
        new_h_kernel = h_kernel + (h_dilation - 1) * (h_kernel - 1)
        new_w_kernel = w_kernel + (w_dilation - 1) * (w_kernel - 1)
        new_kernel_size_tuple = (new_h_kernel, new_w_kernel)
        new_kernel_weights = np.zeros((*new_kernel_size_tuple, ch_out, ch_in), dtype=kernel_weights.dtype)
        new_kernel_weights[::h_dilation, ::w_dilation] = kernel_weights
        kernel_weights = new_kernel_weights
        h_kernel, w_kernel = kernel_weights.shape[:2]

    # Compute output
    output = np.zeros([n_batch, h_out + h_kernel, w_out + w_kernel, ch_out])
    for nb in range(n_batch):
        for h_x_idx in range(h_x):
            h_out_idx = h_x_idx * h_stride  # Index in output
            for w_x_idx in range(w_x):
                w_out_idx = w_x_idx * w_stride
                output[nb, h_out_idx : h_out_idx + h_kernel, w_out_idx : w_out_idx + w_kernel, :] += np.sum(
                    kernel_weights[:, :, :, :] * x[nb, h_x_idx, w_x_idx, :], axis=-1
                )
    output = output + bias_weights

    # Cut padding results from output
    output = output[:, h_pad_side1 : h_out + h_pad_side1, w_pad_side1 : w_out + w_pad_side1]
    if data_format == "channels_first":
        output = output.transpose((0, 3, 1, 2))
    return output


def np_conv3d_transpose(x, kernel_weights, bias_weights, strides, padding, output_padding, data_format, dilation_rate):
    if data_format == "channels_first":
        x = x.transpose((0, 2, 3, 4, 1))
    if isinstance(strides, (tuple, list)):
        h_stride, w_stride, d_stride = strides
    else:
        h_stride = strides
        w_stride = strides
        d_stride = strides
    if isinstance(dilation_rate, (tuple, list)):
        h_dilation, w_dilation, d_dilation = dilation_rate
    else:
        h_dilation = dilation_rate
        w_dilation = dilation_rate
        d_dilation = dilation_rate

    h_kernel, w_kernel, d_kernel, ch_out, ch_in = kernel_weights.shape
    n_batch, h_x, w_x, d_x, _ = x.shape
    # Get output shape and padding
    _, h_out, w_out, d_out, _ = compute_conv_transpose_output_shape(
        x.shape, kernel_weights.shape, ch_out, strides, padding, output_padding, data_format, dilation_rate
    )
    jax_padding = compute_conv_transpose_padding_args_for_jax(
        input_shape=x.shape,
        kernel_shape=kernel_weights.shape,
        strides=strides,
        padding=padding,
        output_padding=output_padding,
        dilation_rate=dilation_rate,
    )
    h_pad_side1 = h_kernel - 1 - jax_padding[0][0]
    w_pad_side1 = w_kernel - 1 - jax_padding[1][0]
    d_pad_side1 = d_kernel - 1 - jax_padding[2][0]

    if h_dilation > 1 or w_dilation > 1 or d_dilation > 1:
        # Increase kernel size
        new_h_kernel = h_kernel + (h_dilation - 1) * (h_kernel - 1)
        new_w_kernel = w_kernel + (w_dilation - 1) * (w_kernel - 1)
        new_d_kernel = d_kernel + (d_dilation - 1) * (d_kernel - 1)
        new_kernel_size_tuple = (new_h_kernel, new_w_kernel, new_d_kernel)
        new_kernel_weights = np.zeros((*new_kernel_size_tuple, ch_out, ch_in), dtype=kernel_weights.dtype)
        new_kernel_weights[::h_dilation, ::w_dilation, ::d_dilation] = kernel_weights
        kernel_weights = new_kernel_weights
        h_kernel, w_kernel, d_kernel = kernel_weights.shape[:3]

    # Compute output
    output = np.zeros([n_batch, h_out + h_kernel, w_out + w_kernel, d_out + d_kernel, ch_out])
    for nb in range(n_batch):
        for h_x_idx in range(h_x):
            h_out_idx = h_x_idx * h_stride  # Index in output
            for w_x_idx in range(w_x):
                w_out_idx = w_x_idx * w_stride
                for d_x_idx in range(d_x):
                    d_out_idx = d_x_idx * d_stride
                    output[
                        nb,
                        h_out_idx : h_out_idx + h_kernel,
                        w_out_idx : w_out_idx + w_kernel,
                        d_out_idx : d_out_idx + d_kernel,
                        :,
                    ] += np.sum(kernel_weights[:, :, :, :, :] * x[nb, h_x_idx, w_x_idx, d_x_idx, :], axis=-1)
    output = output + bias_weights

    # Cut padding results from output
    output = output[
        :,
        h_pad_side1 : h_out + h_pad_side1,
        w_pad_side1 : w_out + w_pad_side1,
        d_pad_side1 : d_out + d_pad_side1,
    ]
    if data_format == "channels_first":
        output = output.transpose((0, 4, 1, 2, 3))
    return output


# keras/src/layers/convolutional/depthwise_conv_test.py (and conv_test.py, same function)
def _same_padding(input_size, kernel_size, stride):
    if input_size % stride == 0:
        padding = max(kernel_size - stride, 0)
    else:
        padding = max(kernel_size - (input_size % stride), 0)
    return padding // 2, padding - padding // 2


def np_depthwise_conv1d(x, kernel_weights, bias_weights, strides, padding, data_format, dilation_rate):
    if data_format == "channels_first":
        x = x.transpose((0, 2, 1))
    if isinstance(strides, (tuple, list)):
        h_stride = strides[0]
    else:
        h_stride = strides
    if isinstance(dilation_rate, (tuple, list)):
        h_dilation = dilation_rate[0]
    else:
        h_dilation = dilation_rate
    h_kernel, ch_in, ch_out = kernel_weights.shape

    if h_dilation > 1:
        new_h_kernel = h_kernel + (h_dilation - 1) * (h_kernel - 1)
        new_kernel_weights = np.zeros((new_h_kernel, ch_in, ch_out), dtype=kernel_weights.dtype)
        new_kernel_weights[::h_dilation] = kernel_weights
        kernel_weights = new_kernel_weights
        h_kernel = kernel_weights.shape[0]

    if padding == "same":
        n_batch, h_x, _ = x.shape
        h_pad = _same_padding(h_x, h_kernel, h_stride)
        npad = [(0, 0)] * x.ndim
        npad[1] = h_pad
        x = np.pad(x, pad_width=npad, mode="constant", constant_values=0)

    n_batch, h_x, _ = x.shape
    h_out = int((h_x - h_kernel) / h_stride) + 1

    out_grps = []
    bias_weights = bias_weights.reshape(ch_in, ch_out)
    for ch_in_idx in range(ch_in):
        for ch_out_idx in range(ch_out):
            x_in = np.ascontiguousarray(x[..., ch_in_idx])
            stride_shape = (n_batch, h_out, h_kernel)
            strides = (x_in.strides[0], h_stride * x_in.strides[1], x_in.strides[1])
            inner_dim = h_kernel
            x_strided = as_strided(x_in, shape=stride_shape, strides=strides).reshape(-1, inner_dim)
            kernel_weights_grp = kernel_weights[..., ch_in_idx, ch_out_idx].reshape(-1, 1)
            bias_weights_grp = bias_weights[..., ch_in_idx, ch_out_idx]
            out_grps.append((x_strided @ kernel_weights_grp + bias_weights_grp).reshape(n_batch, h_out, 1))
    out = np.concatenate(out_grps, axis=-1)
    if data_format == "channels_first":
        out = out.transpose((0, 2, 1))
    return out


def np_depthwise_conv2d(x, kernel_weights, bias_weights, strides, padding, data_format, dilation_rate):
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
        new_kernel_weights = np.zeros((*new_kenel_size_tuple, ch_in, ch_out), dtype=kernel_weights.dtype)
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
    bias_weights = bias_weights.reshape(ch_in, ch_out)
    for ch_in_idx in range(ch_in):
        for ch_out_idx in range(ch_out):
            x_in = np.ascontiguousarray(x[..., ch_in_idx])
            stride_shape = (n_batch, h_out, w_out, h_kernel, w_kernel)
            strides = (
                x_in.strides[0],
                h_stride * x_in.strides[1],
                w_stride * x_in.strides[2],
                x_in.strides[1],
                x_in.strides[2],
            )
            inner_dim = h_kernel * w_kernel
            x_strided = as_strided(x_in, shape=stride_shape, strides=strides).reshape(-1, inner_dim)
            kernel_weights_grp = kernel_weights[..., ch_in_idx, ch_out_idx].reshape(-1, 1)
            bias_weights_grp = bias_weights[..., ch_in_idx, ch_out_idx]
            out_grps.append((x_strided @ kernel_weights_grp + bias_weights_grp).reshape(n_batch, h_out, w_out, 1))
    out = np.concatenate(out_grps, axis=-1)
    if data_format == "channels_first":
        out = out.transpose((0, 3, 1, 2))
    return out


# keras/src/layers/convolutional/conv_test.py (used by separable_conv_test.py)
def np_conv1d(x, kernel_weights, bias_weights, strides, padding, data_format, dilation_rate, groups):
    if data_format == "channels_first":
        x = x.swapaxes(1, 2)
    if isinstance(strides, (tuple, list)):
        h_stride = strides[0]
    else:
        h_stride = strides
    if isinstance(dilation_rate, (tuple, list)):
        dilation_rate = dilation_rate[0]
    kernel_size, ch_in, ch_out = kernel_weights.shape

    if dilation_rate > 1:
        new_kernel_size = kernel_size + (dilation_rate - 1) * (kernel_size - 1)
        new_kernel_weights = np.zeros((new_kernel_size, ch_in, ch_out), dtype=kernel_weights.dtype)
        new_kernel_weights[::dilation_rate] = kernel_weights
        kernel_weights = new_kernel_weights
        kernel_size = kernel_weights.shape[0]

    if padding != "valid":
        n_batch, h_x, _ = x.shape
        h_pad = _same_padding(h_x, kernel_size, h_stride)
        npad = [(0, 0)] * x.ndim
        if padding == "causal":
            npad[1] = (h_pad[0] + h_pad[1], 0)
        else:
            npad[1] = h_pad
        x = np.pad(x, pad_width=npad, mode="constant", constant_values=0)

    n_batch, h_x, _ = x.shape
    h_out = int((h_x - kernel_size) / h_stride) + 1

    kernel_weights = kernel_weights.reshape(-1, ch_out)
    bias_weights = bias_weights.reshape(1, ch_out)

    out_grps = []
    for grp in range(1, groups + 1):
        x_in = x[..., (grp - 1) * ch_in : grp * ch_in]
        stride_shape = (n_batch, h_out, kernel_size, ch_in)
        strides = (x_in.strides[0], h_stride * x_in.strides[1], x_in.strides[1], x_in.strides[2])
        inner_dim = kernel_size * ch_in
        x_strided = as_strided(x_in, shape=stride_shape, strides=strides).reshape(n_batch, h_out, inner_dim)
        ch_out_groups = ch_out // groups
        kernel_weights_grp = kernel_weights[..., (grp - 1) * ch_out_groups : grp * ch_out_groups]
        bias_weights_grp = bias_weights[..., (grp - 1) * ch_out_groups : grp * ch_out_groups]
        out_grps.append(x_strided @ kernel_weights_grp + bias_weights_grp)
    out = np.concatenate(out_grps, axis=-1)
    if data_format == "channels_first":
        out = out.swapaxes(1, 2)
    return out


def np_conv2d(x, kernel_weights, bias_weights, strides, padding, data_format, dilation_rate, groups):
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
        new_kernel_weights = np.zeros((*new_kenel_size_tuple, ch_in, ch_out), dtype=kernel_weights.dtype)
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
        x_strided = as_strided(x_in, shape=stride_shape, strides=strides).reshape(-1, inner_dim)
        ch_out_groups = ch_out // groups
        kernel_weights_grp = kernel_weights[..., (grp - 1) * ch_out_groups : grp * ch_out_groups].reshape(-1, ch_out_groups)
        bias_weights_grp = bias_weights[..., (grp - 1) * ch_out_groups : grp * ch_out_groups]
        out_grps.append(x_strided @ kernel_weights_grp + bias_weights_grp)
    out = np.concatenate(out_grps, axis=-1).reshape(n_batch, h_out, w_out, ch_out)
    if data_format == "channels_first":
        out = out.transpose((0, 3, 1, 2))
    return out


# =============================================================================================
# tf.keras: testing_infra/test_utils.py ``layer_test``
# =============================================================================================
def _tf_keras_layer_test(layer_cls, kwargs, input_shape=None, input_data=None, expected_output=None,
                         expected_output_shape=None, seed=0):
    """tf_keras ``layer_test``, step by step, for any single-input layer (numpy seeded)."""
    rng = np.random.default_rng(seed)
    if input_data is None:
        shape = [int(rng.integers(1, 4)) if d is None else d for d in input_shape]
        input_data = (10 * rng.random(shape) - 0.5).astype("float32")
    elif input_shape is None:
        input_shape = input_data.shape
    x = torch.from_numpy(input_data)
    input_shape = tuple(input_shape)

    # instantiation; get_weights/set_weights at layer level (unbuilt: [] both ways). None of these
    # layers takes `weights` in __init__, so layer_test skips "instantiation from weights".
    layer = layer_cls(**kwargs)
    layer.set_weights(layer.get_weights())

    # functional API: Input(shape=input_shape[1:]) -> batch dim None.
    symbolic_shape = (None, *input_shape[1:])
    y_shape = layer.compute_output_shape(symbolic_shape)
    layer.build(symbolic_shape)
    assert layer.built
    if expected_output_shape is not None:
        _assert_shapes_equal(expected_output_shape, y_shape, "functional API output")

    # shape inference vs the actual output; output dtype == input dtype.
    computed_output_shape = tuple(layer.compute_output_shape(input_shape))
    actual_output = layer(x)
    _assert_shapes_equal(computed_output_shape, actual_output.shape, "compute_output_shape vs output")
    assert actual_output.dtype == x.dtype, f"found output dtype={actual_output.dtype}, expected {x.dtype}"
    if expected_output is not None:
        _close(actual_output, expected_output)

    # serialization, weight setting at model level.
    recovered = layer_cls.from_config(layer.get_config())
    recovered.build(symbolic_shape)
    if layer.weights:
        recovered.set_weights(layer.get_weights())
        _close(recovered(x), actual_output)

    # training mode: compile("rmsprop", "mse") + train_on_batch(input_data, actual_output).
    layer_weights = layer.get_weights()  # BEFORE training
    params = [p for p in layer.parameters() if p.requires_grad]
    loss = _regularized_loss(layer, layer(x), actual_output.detach())
    assert torch.isfinite(loss)
    if params:
        opt = torch.optim.RMSprop(params, lr=0.001)
        opt.zero_grad()
        loss.backward()
        for p in params:
            assert p.grad is not None and p.grad.shape == p.shape
        opt.step()
        kerastorch.apply_constraints(layer)
        assert all(torch.isfinite(p).all() for p in layer.weights)

    # first layer in a Sequential: from_config with batch_input_shape, pre-training weights.
    layer_config = layer.get_config()
    layer_config["batch_input_shape"] = input_shape
    layer = layer_cls.from_config(layer_config)
    assert layer.built
    layer.set_weights(layer_weights)
    actual_output = layer(x)
    for expected_dim, actual_dim in zip(computed_output_shape, actual_output.shape):
        if expected_dim is not None:
            assert expected_dim == actual_dim, "after deserialization: output shape differs from the inferred one"
    if expected_output is not None:
        _close(actual_output, expected_output)

    # Sequential.from_config + set_weights.
    recovered = layer_cls.from_config(layer.get_config())
    assert recovered.built
    if layer.weights:
        recovered.set_weights(layer.get_weights())
        _close(recovered(x), actual_output)
    return actual_output


# =============================================================================================
# tf.keras: conv_transpose_test.py
# =============================================================================================
class TestTFKeras_Conv1DTransposeTest:
    # Conv1DTransposeTest.test_conv1d_transpose. tf.keras runs "dilation_rate" and "data_format" on
    # CUDA only; kerastorch supports both on CPU.
    @pytest.mark.parametrize(
        "kwargs, expected_output_shape",
        [
            pytest.param({"padding": "valid"}, (None, 8, 2), id="padding_valid"),
            pytest.param({"padding": "same"}, (None, 6, 2), id="padding_same"),
            pytest.param({"strides": 2}, (None, 13, 2), id="strides"),
            pytest.param({"dilation_rate": 2}, (None, 10, 2), id="dilation_rate"),
            pytest.param({"data_format": "channels_first"}, None, id="data_format"),
        ],
    )
    def test_conv1d_transpose(self, kwargs, expected_output_shape):
        kwargs = dict(kwargs, filters=2, kernel_size=3)
        _tf_keras_layer_test(Conv1DTranspose, kwargs, input_shape=(2, 6, 3), expected_output_shape=expected_output_shape)

    def test_conv1d_transpose_invalid_strides_and_dilation_rate(self):
        with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction"):
            Conv1DTranspose(filters=1, kernel_size=2, strides=2, dilation_rate=2)


class TestTFKeras_Conv2DTransposeTest:
    # Conv2DTransposeTest.test_conv2d_transpose ("data_format" is CUDA-only in tf.keras).
    @pytest.mark.parametrize(
        "kwargs",
        [
            pytest.param({"padding": "valid"}, id="padding_valid"),
            pytest.param({"padding": "same"}, id="padding_same"),
            pytest.param({"strides": (2, 2)}, id="strides"),
            pytest.param({"data_format": "channels_first"}, id="data_format"),
            pytest.param({"strides": (2, 2), "output_padding": (1, 1)}, id="strides_output_padding"),
        ],
    )
    def test_conv2d_transpose(self, kwargs):
        kwargs = dict(kwargs, filters=2, kernel_size=(3, 3))
        _tf_keras_layer_test(Conv2DTranspose, kwargs, input_shape=(2, 7, 6, 3))

    def test_conv2d_transpose_regularizers(self):
        kwargs = {"filters": 3, "kernel_size": 3, "padding": "valid", "kernel_regularizer": "l2",
                  "bias_regularizer": "l2", "activity_regularizer": "l2", "strides": 1}
        layer = Conv2DTranspose(**kwargs)
        layer.build((None, 5, 5, 2))
        assert len(layer.losses) == 2
        layer(torch.ones((1, 5, 5, 2)))
        assert len(layer.losses) == 3

    def test_conv2d_transpose_constraints(self):
        k_constraint = lambda x: x  # noqa: E731
        b_constraint = lambda x: x  # noqa: E731
        kwargs = {"filters": 3, "kernel_size": 3, "padding": "valid", "kernel_constraint": k_constraint,
                  "bias_constraint": b_constraint, "strides": 1}
        layer = Conv2DTranspose(**kwargs)
        layer.build((None, 5, 5, 2))
        assert layer.kernel_constraint is k_constraint
        assert layer.bias_constraint is b_constraint

    def test_conv2d_transpose_dilation(self):
        _tf_keras_layer_test(
            Conv2DTranspose,
            {"filters": 2, "kernel_size": 3, "padding": "same", "data_format": "channels_last", "dilation_rate": (2, 2)},
            input_shape=(2, 5, 6, 3),
        )
        input_data = np.arange(48).reshape((1, 4, 4, 3)).astype(np.float32)
        expected_output = np.float32(
            [[192, 228, 192, 228], [336, 372, 336, 372], [192, 228, 192, 228], [336, 372, 336, 372]]
        ).reshape((1, 4, 4, 1))
        _tf_keras_layer_test(
            Conv2DTranspose,
            {"filters": 1, "kernel_size": 3, "padding": "same", "data_format": "channels_last", "dilation_rate": (2, 2),
             "kernel_initializer": "ones"},
            input_data=input_data,
            expected_output=expected_output,
        )

    def test_conv2d_transpose_invalid_strides_and_dilation_rate(self):
        with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction"):
            Conv2DTranspose(filters=1, kernel_size=2, strides=[2, 1], dilation_rate=[2, 1])


class TestTFKeras_Conv3DTransposeTest:
    # Conv3DTransposeTest.test_conv3d_transpose ("data_format" is CUDA-only in tf.keras).
    # "dilation_rate": tf.keras's Conv3DTranspose accepts dilation_rate and ignores it (its call and
    # compute_output_shape never read it; its get_config pops it): output (None, 7, 9, 8, 2) is the
    # undilated kernel's. (Keras 3 applies the dilation.)
    @pytest.mark.parametrize(
        "kwargs, expected_output_shape",
        [
            pytest.param({"padding": "valid"}, (None, 7, 9, 8, 2), id="padding_valid"),
            pytest.param({"padding": "same"}, (None, 5, 7, 6, 2), id="padding_same"),
            pytest.param({"strides": (2, 2, 2)}, (None, 11, 15, 13, 2), id="strides"),
            pytest.param({"dilation_rate": (2, 2, 2)}, (None, 7, 9, 8, 2), id="dilation_rate"),
            pytest.param({"data_format": "channels_first"}, None, id="data_format"),
            pytest.param({"strides": (2, 2, 2), "output_padding": (1, 1, 1)}, (None, 12, 16, 14, 2),
                         id="strides_output_padding"),
        ],
    )
    def test_conv3d_transpose(self, kwargs, expected_output_shape):
        kwargs = dict(kwargs, filters=2, kernel_size=(3, 3, 3))
        _tf_keras_layer_test(Conv3DTranspose, kwargs, input_shape=(2, 5, 7, 6, 3), expected_output_shape=expected_output_shape)

    def test_conv3d_transpose_regularizers(self):
        kwargs = {"filters": 3, "kernel_size": 3, "padding": "valid", "kernel_regularizer": "l2",
                  "bias_regularizer": "l2", "activity_regularizer": "l2", "strides": 1}
        layer = Conv3DTranspose(**kwargs)
        layer.build((None, 5, 5, 5, 2))
        assert len(layer.losses) == 2
        layer(torch.ones((1, 5, 5, 5, 2)))
        assert len(layer.losses) == 3

    def test_conv3d_transpose_constraints(self):
        k_constraint = lambda x: x  # noqa: E731
        b_constraint = lambda x: x  # noqa: E731
        kwargs = {"filters": 3, "kernel_size": 3, "padding": "valid", "kernel_constraint": k_constraint,
                  "bias_constraint": b_constraint, "strides": 1}
        layer = Conv3DTranspose(**kwargs)
        layer.build((None, 5, 5, 5, 2))
        assert layer.kernel_constraint is k_constraint
        assert layer.bias_constraint is b_constraint

    # (the channels_first half runs on CUDA only in tf.keras; here on CPU, with the same data,
    # which then reads as 3 channels of 3x3x3 -- a valid channels_first input.)
    def test_conv3d_transpose_dynamic_shape(self):
        input_data = np.random.default_rng(0).random((1, 3, 3, 3, 3)).astype(np.float32)
        for data_format, input_shape in (("channels_last", (None, None, None, None, 3)),
                                         ("channels_first", (None, 3, None, None, None))):
            _tf_keras_layer_test(
                Conv3DTranspose, {"data_format": data_format, "filters": 3, "kernel_size": 3},
                input_shape=input_shape, input_data=input_data,
            )

    def test_conv3d_transpose_invalid_strides_and_dilation_rate(self):
        with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction"):
            Conv3DTranspose(filters=1, kernel_size=2, strides=[2, 2, 1], dilation_rate=[2, 2, 1])

    # conv_test.py :: Conv3DTest.test_conv3d_zero_dim_output: "The layer doesn't crash with 0 dim input".
    def test_conv3d_zero_dim_output(self):
        conv = Convolution3DTranspose(2, [3, 3, 3], padding="same")
        torch.manual_seed(0)
        x = torch.rand([1, 32, 32, 0, 3])  # tf.random.uniform
        _ = conv(x)


# =============================================================================================
# tf.keras: depthwise_conv_test.py
# =============================================================================================
_TF_DEPTHWISE_CASES = [
    ("padding_valid", {"padding": "valid"}, None),
    ("padding_same", {"padding": "same"}, None),
    ("strides", {"strides": 2}, None),
    ("data_format", {"data_format": "channels_first"}, None),  # CUDA-only in tf.keras
    ("depth_multiplier_1", {"depth_multiplier": 1}, None),
    ("depth_multiplier_2", {"depth_multiplier": 2}, None),
    ("dilation_rate", {"dilation_rate": 2}, "dilated"),
]


class TestTFKeras_DepthwiseConv1DTest:
    @pytest.mark.parametrize("kwargs, shape", [c[1:] for c in _TF_DEPTHWISE_CASES], ids=[c[0] for c in _TF_DEPTHWISE_CASES])
    def test_depthwise_conv1d(self, kwargs, shape):
        kwargs = dict(kwargs, kernel_size=3)
        _tf_keras_layer_test(DepthwiseConv1D, kwargs, input_shape=(2, 7, 3),
                             expected_output_shape=(None, 3, 3) if shape else None)

    def test_depthwise_conv1d_full(self):
        kwargs = {"kernel_size": 3, "padding": "valid", "data_format": "channels_last", "dilation_rate": 1,
                  "activation": None, "depthwise_regularizer": "l2", "bias_regularizer": "l2",
                  "activity_regularizer": "l2", "depthwise_constraint": "unit_norm", "use_bias": True,
                  "strides": 2, "depth_multiplier": 1}
        _tf_keras_layer_test(DepthwiseConv1D, kwargs, input_shape=(2, 7, 3))

    def test_depthwise_conv1d_invalid_strides_and_dilation_rate(self):
        with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction"):
            DepthwiseConv1D(kernel_size=2, strides=2, dilation_rate=2)


class TestTFKeras_DepthwiseConv2DTest:
    @pytest.mark.parametrize("kwargs, shape", [c[1:] for c in _TF_DEPTHWISE_CASES], ids=[c[0] for c in _TF_DEPTHWISE_CASES])
    def test_depthwise_conv2d(self, kwargs, shape):
        kwargs = dict(kwargs, kernel_size=(3, 3))
        if "dilation_rate" in kwargs:
            kwargs["dilation_rate"] = (2, 2)
        if "strides" in kwargs:
            kwargs["strides"] = (2, 2)
        _tf_keras_layer_test(DepthwiseConv2D, kwargs, input_shape=(2, 7, 6, 3),
                             expected_output_shape=(None, 3, 2, 3) if shape else None)

    def test_depthwise_conv2d_full(self):
        kwargs = {"kernel_size": 3, "padding": "valid", "data_format": "channels_last", "dilation_rate": (1, 1),
                  "activation": None, "depthwise_regularizer": "l2", "bias_regularizer": "l2",
                  "activity_regularizer": "l2", "depthwise_constraint": "unit_norm", "use_bias": True,
                  "strides": (2, 2), "depth_multiplier": 1}
        _tf_keras_layer_test(DepthwiseConv2D, kwargs, input_shape=(2, 7, 6, 3))

    def test_depthwise_conv2d_invalid_strides_and_dilation_rate(self):
        with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction"):
            DepthwiseConv2D(kernel_size=2, strides=[2, 1], dilation_rate=[2, 1])


# =============================================================================================
# tf.keras: separable_conv_test.py
# =============================================================================================
_TF_SEPARABLE1D_CASES = [
    ("padding_valid", {"padding": "valid"}),
    ("padding_same", {"padding": "same"}),
    ("padding_same_dilation_2", {"padding": "same", "dilation_rate": 2}),
    ("padding_causal", {"padding": "causal"}),
    ("strides", {"strides": 2}),
    ("dilation_rate", {"dilation_rate": 2}),
    ("depth_multiplier", {"depth_multiplier": 2}),
]
_TF_SEPARABLE2D_CASES = [
    ("padding_valid", {"padding": "valid"}),
    ("padding_same", {"padding": "same"}),
    ("padding_same_dilation_2", {"padding": "same", "dilation_rate": 2}),
    ("strides", {"strides": 2}),
    ("data_format", {"data_format": "channels_first"}),  # CUDA-only in tf.keras
    ("dilation_rate", {"dilation_rate": 2}),
    ("depth_multiplier", {"depth_multiplier": 2}),
]


class _TFKerasSeparableChecks:
    layer_cls = None
    spatial: tuple = ()

    def _regularizers(self):
        kwargs = {"filters": 3, "kernel_size": 3, "padding": "valid", "depthwise_regularizer": "l2",
                  "pointwise_regularizer": "l2", "bias_regularizer": "l2", "activity_regularizer": "l2", "strides": 1}
        layer = self.layer_cls(**kwargs)
        layer.build((None, *self.spatial, 2))
        assert len(layer.losses) == 3
        layer(torch.ones((1, *self.spatial, 2)))
        assert len(layer.losses) == 4

    def _constraints(self):
        d_constraint = lambda x: x  # noqa: E731
        p_constraint = lambda x: x  # noqa: E731
        b_constraint = lambda x: x  # noqa: E731
        kwargs = {"filters": 3, "kernel_size": 3, "padding": "valid", "pointwise_constraint": p_constraint,
                  "depthwise_constraint": d_constraint, "bias_constraint": b_constraint, "strides": 1}
        layer = self.layer_cls(**kwargs)
        layer.build((None, *self.spatial, 2))
        assert layer.depthwise_constraint is d_constraint
        assert layer.pointwise_constraint is p_constraint
        assert layer.bias_constraint is b_constraint


class TestTFKeras_SeparableConv1DTest(_TFKerasSeparableChecks):
    layer_cls, spatial = SeparableConv1D, (5,)

    @pytest.mark.parametrize("kwargs", [c[1] for c in _TF_SEPARABLE1D_CASES], ids=[c[0] for c in _TF_SEPARABLE1D_CASES])
    def test_separable_conv1d(self, kwargs):
        _tf_keras_layer_test(SeparableConv1D, dict(kwargs, filters=2, kernel_size=3), input_shape=(2, 7, 3))

    def test_separable_conv1d_regularizers(self):
        self._regularizers()

    def test_separable_conv1d_constraints(self):
        self._constraints()

    def test_separable_conv1d_invalid_strides_and_dilation_rate(self):
        with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction"):
            SeparableConv1D(filters=1, kernel_size=2, strides=2, dilation_rate=2)


class TestTFKeras_SeparableConv2DTest(_TFKerasSeparableChecks):
    layer_cls, spatial = SeparableConv2D, (5, 5)

    @pytest.mark.parametrize("kwargs", [c[1] for c in _TF_SEPARABLE2D_CASES], ids=[c[0] for c in _TF_SEPARABLE2D_CASES])
    def test_separable_conv2d(self, kwargs):
        _tf_keras_layer_test(SeparableConv2D, dict(kwargs, filters=2, kernel_size=3), input_shape=(2, 7, 6, 3))

    def test_separable_conv2d_regularizers(self):
        self._regularizers()

    def test_separable_conv2d_constraints(self):
        self._constraints()

    def test_separable_conv2d_invalid_strides_and_dilation_rate(self):
        with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction"):
            SeparableConv2D(filters=1, kernel_size=2, strides=[2, 1], dilation_rate=[2, 1])


# =============================================================================================
# tf.keras: reshaping/up_sampling_test.py
# =============================================================================================
def _repeat(inputs, sizes, first_axis):
    out = inputs
    for i, s in enumerate(sizes):
        out = np.repeat(out, s, axis=first_axis + i)
    return out


class TestTFKeras_UpSamplingTest:
    def test_upsampling_1d(self):
        _tf_keras_layer_test(UpSampling1D, {"size": 2}, input_shape=(3, 5, 4))

    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    def test_upsampling_2d(self, data_format):
        rng = np.random.default_rng(2)
        num_samples, stack_size, input_num_row, input_num_col = 2, 2, 11, 12
        shape = ((num_samples, stack_size, input_num_row, input_num_col) if data_format == "channels_first"
                 else (num_samples, input_num_row, input_num_col, stack_size))
        inputs = rng.random(shape)
        _tf_keras_layer_test(UpSampling2D, {"size": (2, 2), "data_format": data_format}, input_shape=inputs.shape)
        for length_row in [2]:
            for length_col in [2, 3]:
                layer = UpSampling2D(size=(length_row, length_col), data_format=data_format)
                layer.build(inputs.shape)
                np_output = layer(torch.from_numpy(inputs)).numpy()
                first = 2 if data_format == "channels_first" else 1
                assert np_output.shape[first] == length_row * input_num_row
                assert np_output.shape[first + 1] == length_col * input_num_col
                expected_out = _repeat(inputs, (length_row, length_col), first)
                np.testing.assert_allclose(np_output, expected_out)

    # The original's inner loop (graph mode only) builds a *nearest* layer and checks its shape.
    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    def test_upsampling_2d_bilinear(self, data_format):
        rng = np.random.default_rng(3)
        num_samples, stack_size, input_num_row, input_num_col = 2, 2, 11, 12
        shape = ((num_samples, stack_size, input_num_row, input_num_col) if data_format == "channels_first"
                 else (num_samples, input_num_row, input_num_col, stack_size))
        inputs = rng.random(shape)
        _tf_keras_layer_test(UpSampling2D, {"size": (2, 2), "data_format": data_format, "interpolation": "bilinear"},
                             input_shape=inputs.shape)
        for length_row in [2]:
            for length_col in [2, 3]:
                layer = UpSampling2D(size=(length_row, length_col), data_format=data_format)
                layer.build(inputs.shape)
                np_output = layer(torch.from_numpy(inputs)).numpy()
                first = 2 if data_format == "channels_first" else 1
                assert np_output.shape[first] == length_row * input_num_row
                assert np_output.shape[first + 1] == length_col * input_num_col

    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    def test_upsampling_3d(self, data_format):
        rng = np.random.default_rng(4)
        num_samples, stack_size, d1, d2, d3 = 2, 2, 10, 11, 12
        shape = ((num_samples, stack_size, d1, d2, d3) if data_format == "channels_first"
                 else (num_samples, d1, d2, d3, stack_size))
        inputs = rng.random(shape)
        _tf_keras_layer_test(UpSampling3D, {"size": (2, 2, 2), "data_format": data_format}, input_shape=inputs.shape)
        for length_dim1 in [2, 3]:
            for length_dim2 in [2]:
                for length_dim3 in [3]:
                    layer = UpSampling3D(size=(length_dim1, length_dim2, length_dim3), data_format=data_format)
                    layer.build(inputs.shape)
                    np_output = layer(torch.from_numpy(inputs)).numpy()
                    first = 2 if data_format == "channels_first" else 1
                    assert np_output.shape[first] == length_dim1 * d1
                    assert np_output.shape[first + 1] == length_dim2 * d2
                    assert np_output.shape[first + 2] == length_dim3 * d3
                    expected_out = _repeat(inputs, (length_dim1, length_dim2, length_dim3), first)
                    np.testing.assert_allclose(np_output, expected_out)


# =============================================================================================
# tf.keras: reshaping/zero_padding_test.py
# =============================================================================================
def _spatial_index(data_format, axis, index, rank):
    """``np_output[:, offset, :, :]``-style index of spatial ``axis`` in the given layout."""
    idx = [slice(None)] * (rank + 2)
    idx[(2 if data_format == "channels_first" else 1) + axis] = index
    return tuple(idx)


class TestTFKeras_ZeroPaddingTest:
    def test_zero_padding_1d(self):
        shape = (2, 5, 2)
        inputs = np.ones(shape)
        _tf_keras_layer_test(ZeroPadding1D, {"padding": 2}, input_shape=inputs.shape)
        _tf_keras_layer_test(ZeroPadding1D, {"padding": (1, 2)}, input_shape=inputs.shape)

        layer = ZeroPadding1D(padding=2)
        layer.build(shape)
        np_output = layer(torch.from_numpy(inputs)).numpy()
        for offset in [0, 1, -1, -2]:
            np.testing.assert_allclose(np_output[:, offset, :], 0.0)
        np.testing.assert_allclose(np_output[:, 2:-2, :], 1.0)

        layer = ZeroPadding1D(padding=(1, 2))
        layer.build(shape)
        np_output = layer(torch.from_numpy(inputs)).numpy()
        for left_offset in [0]:
            np.testing.assert_allclose(np_output[:, left_offset, :], 0.0)
        for right_offset in [-1, -2]:
            np.testing.assert_allclose(np_output[:, right_offset, :], 0.0)
        np.testing.assert_allclose(np_output[:, 1:-2, :], 1.0)
        layer.get_config()

        with pytest.raises(ValueError):
            ZeroPadding1D(padding=(1, 1, 1))
        with pytest.raises(ValueError):
            ZeroPadding1D(padding=None)

    # (the original's channels_first "inside" check reads np_output[:, 2:-2, 2:-2, :] -- the channel
    # and row axes; with an all-ones input of 2 channels that slice is empty in the channel axis and
    # passes vacuously. Ported as written, plus the intended [:, :, 2:-2, 2:-2].)
    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    def test_zero_padding_2d(self, data_format):
        shape = (2, 2, 4, 5) if data_format == "channels_first" else (2, 4, 5, 2)
        inputs = np.ones(shape)
        _tf_keras_layer_test(ZeroPadding2D, {"padding": (2, 2), "data_format": data_format}, input_shape=inputs.shape)
        _tf_keras_layer_test(ZeroPadding2D, {"padding": ((1, 2), (3, 4)), "data_format": data_format},
                             input_shape=inputs.shape)

        layer = ZeroPadding2D(padding=(2, 2), data_format=data_format)
        layer.build(inputs.shape)
        np_output = layer(torch.from_numpy(inputs)).numpy()
        for offset in [0, 1, -1, -2]:
            np.testing.assert_allclose(np_output[_spatial_index(data_format, 0, offset, 2)], 0.0)
            np.testing.assert_allclose(np_output[_spatial_index(data_format, 1, offset, 2)], 0.0)
        if data_format == "channels_last":
            np.testing.assert_allclose(np_output[:, 2:-2, 2:-2, :], 1.0)
        else:
            np.testing.assert_allclose(np_output[:, 2:-2, 2:-2, :], 1.0)
            np.testing.assert_allclose(np_output[:, :, 2:-2, 2:-2], 1.0)

        layer = ZeroPadding2D(padding=((1, 2), (3, 4)), data_format=data_format)
        layer.build(inputs.shape)
        np_output = layer(torch.from_numpy(inputs)).numpy()
        for offset in [0, -1, -2]:
            np.testing.assert_allclose(np_output[_spatial_index(data_format, 0, offset, 2)], 0.0)
        for offset in [0, 1, 2, -1, -2, -3, -4]:
            np.testing.assert_allclose(np_output[_spatial_index(data_format, 1, offset, 2)], 0.0)
        inside = (slice(None), slice(1, -2), slice(3, -4), slice(None))
        if data_format == "channels_first":
            inside = (slice(None), slice(None), slice(1, -2), slice(3, -4))
        np.testing.assert_allclose(np_output[inside], 1.0)

        with pytest.raises(ValueError):
            ZeroPadding2D(padding=(1, 1, 1))
        with pytest.raises(ValueError):
            ZeroPadding2D(padding=None)

    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    def test_zero_padding_3d(self, data_format):
        shape = (2, 2, 4, 5, 3) if data_format == "channels_first" else (2, 4, 5, 3, 2)
        inputs = np.ones(shape)
        _tf_keras_layer_test(ZeroPadding3D, {"padding": (2, 2, 2), "data_format": data_format}, input_shape=inputs.shape)
        _tf_keras_layer_test(ZeroPadding3D, {"padding": ((1, 2), (3, 4), (0, 2)), "data_format": data_format},
                             input_shape=inputs.shape)

        layer = ZeroPadding3D(padding=(2, 2, 2), data_format=data_format)
        layer.build(inputs.shape)
        np_output = layer(torch.from_numpy(inputs)).numpy()
        for offset in [0, 1, -1, -2]:
            for axis in range(3):
                np.testing.assert_allclose(np_output[_spatial_index(data_format, axis, offset, 3)], 0.0)
        inside = [slice(None)] + [slice(2, -2)] * 3
        inside = tuple(inside + [slice(None)] if data_format == "channels_last" else [slice(None)] + inside)
        np.testing.assert_allclose(np_output[inside], 1.0)

        layer = ZeroPadding3D(padding=((1, 2), (3, 4), (0, 2)), data_format=data_format)
        layer.build(inputs.shape)
        np_output = layer(torch.from_numpy(inputs)).numpy()
        for axis, offsets in ((0, [0, -1, -2]), (1, [0, 1, 2, -1, -2, -3, -4]), (2, [-1, -2])):
            for offset in offsets:
                np.testing.assert_allclose(np_output[_spatial_index(data_format, axis, offset, 3)], 0.0)
        inside = [slice(None), slice(1, -2), slice(3, -4), slice(0, -2)]
        inside = tuple(inside + [slice(None)] if data_format == "channels_last" else [inside[0], slice(None)] + inside[1:])
        np.testing.assert_allclose(np_output[inside], 1.0)

        with pytest.raises(ValueError):
            ZeroPadding3D(padding=(1, 1))
        with pytest.raises(ValueError):
            ZeroPadding3D(padding=None)


# =============================================================================================
# tf.keras: reshaping/cropping_test.py
# =============================================================================================
def _crop_reference(inputs, cropping, data_format):
    """``inputs[:, c0:-c1, ...]`` with explicit stops (a 0 on the right keeps the whole dim)."""
    first = 2 if data_format == "channels_first" else 1
    idx = [slice(None)] * inputs.ndim
    for i, (before, after) in enumerate(cropping):
        idx[first + i] = slice(before, inputs.shape[first + i] - after)
    return inputs[tuple(idx)]


class TestTFKeras_CroppingTest:
    def test_cropping_1d(self):
        num_samples, time_length, input_len_dim1 = 2, 4, 2
        inputs = np.random.default_rng(5).random((num_samples, time_length, input_len_dim1))
        _tf_keras_layer_test(Cropping1D, {"cropping": (1, 1)}, input_shape=inputs.shape)

        with pytest.raises(ValueError):
            Cropping1D(cropping=(1, 1, 1))
        with pytest.raises(ValueError):
            Cropping1D(cropping=None)
        # Input(shape=(2, 4, 2)) is a rank-4 input: refused by the input spec (ndim=3).
        with pytest.raises(ValueError):
            Cropping1D(cropping=(2, 3)).build((None, num_samples, time_length, input_len_dim1))

    def test_cropping_2d(self):
        rng = np.random.default_rng(6)
        num_samples, stack_size, input_len_dim1, input_len_dim2 = 2, 2, 9, 9
        cropping = ((2, 2), (3, 3))
        for data_format in ["channels_first", "channels_last"]:
            shape = ((num_samples, stack_size, input_len_dim1, input_len_dim2) if data_format == "channels_first"
                     else (num_samples, input_len_dim1, input_len_dim2, stack_size))
            inputs = rng.random(shape)
            _tf_keras_layer_test(Cropping2D, {"cropping": cropping, "data_format": data_format}, input_shape=inputs.shape)
            layer = Cropping2D(cropping=cropping, data_format=data_format)
            layer.build(inputs.shape)
            np_output = layer(torch.from_numpy(inputs)).numpy()
            if data_format == "channels_first":
                expected_out = inputs[:, :, cropping[0][0] : -cropping[0][1], cropping[1][0] : -cropping[1][1]]
            else:
                expected_out = inputs[:, cropping[0][0] : -cropping[0][1], cropping[1][0] : -cropping[1][1], :]
            np.testing.assert_allclose(np_output, expected_out)

        for data_format in ["channels_first", "channels_last"]:
            shape = ((num_samples, stack_size, input_len_dim1, input_len_dim2) if data_format == "channels_first"
                     else (num_samples, input_len_dim1, input_len_dim2, stack_size))
            inputs = rng.random(shape)
            layer = Cropping2D(cropping=((0, 0), (0, 0)), data_format=data_format)
            layer.build(inputs.shape)
            np.testing.assert_allclose(layer(torch.from_numpy(inputs)).numpy(), inputs)

        with pytest.raises(ValueError):
            Cropping2D(cropping=(1, 1, 1))
        with pytest.raises(ValueError):
            Cropping2D(cropping=None)
        # Input(shape=(2, 9, 9, 2)) is a rank-5 input: refused by the input spec (ndim=4).
        with pytest.raises(ValueError):
            Cropping2D(cropping=((5, 4), (3, 4))).build((None, num_samples, input_len_dim1, input_len_dim2, stack_size))

    # The original's correctness block indexes `cropping[0][0]`, which only works for the first
    # (tuple-of-pairs) entry; it is checked here for every entry against the normalized cropping.
    @pytest.mark.parametrize("cropping", [((2, 2), (1, 1), (2, 3)), 3, (0, 1, 1)], ids=["pairs", "int", "ints"])
    @pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
    def test_cropping_3d(self, cropping, data_format):
        shape = (2, 2, 8, 8, 8) if data_format == "channels_first" else (2, 8, 8, 8, 2)
        inputs = np.random.default_rng(7).random(shape)
        _tf_keras_layer_test(Cropping3D, {"cropping": cropping, "data_format": data_format}, input_shape=inputs.shape)
        layer = Cropping3D(cropping=cropping, data_format=data_format)
        layer.build(inputs.shape)
        np_output = layer(torch.from_numpy(inputs)).numpy()
        np.testing.assert_allclose(np_output, _crop_reference(inputs, layer.cropping, data_format))

    def test_cropping_3d_incorrect_use(self):
        with pytest.raises(ValueError):
            Cropping3D(cropping=(1, 1))
        with pytest.raises(ValueError):
            Cropping3D(cropping=None)


# =============================================================================================
# Keras 3: testing/test_case.py ``run_layer_test``
# =============================================================================================
def _keras3_run_layer_test(
    layer_cls,
    init_kwargs,
    input_shape=None,
    input_data=None,
    expected_output_shape=None,
    expected_output_dtype=None,
    expected_output=None,
    expected_num_trainable_weights=None,
    expected_num_non_trainable_weights=None,
    expected_num_seed_generators=None,
    expected_num_losses=None,
    supports_masking=None,
    run_training_check=True,
    run_mixed_precision_check=True,
):
    """keras/src/testing/test_case.py ``run_layer_test`` for a single-input layer."""
    if input_data is None and input_shape is not None:
        torch.manual_seed(0)
        input_data = torch.rand(input_shape) * 3  # create_eager_tensors: uniform * 3, float32
    input_data = _t(input_data)

    # Estimate the weight counts when not given (seed generators: kerastorch has none).
    layer = layer_cls(**init_kwargs)
    layer(input_data)
    if expected_num_trainable_weights is None:
        expected_num_trainable_weights = len(layer.trainable_weights)
    if expected_num_non_trainable_weights is None:
        expected_num_non_trainable_weights = len(layer.non_trainable_weights)
    if expected_num_seed_generators is None:
        expected_num_seed_generators = 0

    # Serialization test: get_config -> from_config -> get_config (tuples kept), same attribute set.
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    revived = layer_cls.from_config(config)
    assert revived.get_config() == config
    assert set(dir(layer)) == set(dir(revived))

    # Basic masking test (kerastorch has no masking machinery: no `supports_masking` means False).
    if supports_masking is not None:
        assert getattr(layer, "supports_masking", False) == supports_masking

    def run_build_asserts(layer):
        assert layer.built
        assert len(layer.trainable_weights) == expected_num_trainable_weights, "Unexpected number of trainable_weights"
        assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
        # torch backend: torch_params == trainable + non-trainable + seed generators.
        assert len(list(layer.parameters())) + len(list(layer.buffers())) == (
            expected_num_trainable_weights + expected_num_non_trainable_weights + expected_num_seed_generators
        )

    def run_output_asserts(layer, output_shape, output=None):
        if expected_output_shape is not None:
            _assert_shapes_equal(expected_output_shape, output_shape, "Expected output shapes")
        if output is not None:
            if expected_output_dtype is not None:
                assert str(output.dtype).replace("torch.", "") == expected_output_dtype
            if expected_output is not None:
                _close(output, expected_output, msg="Unexpected output value")
            if expected_num_losses is not None:
                assert len(layer.losses) == expected_num_losses

    build_shape = tuple(input_data.shape)
    # Build test.
    layer = layer_cls(**init_kwargs)
    layer.build(build_shape)
    run_build_asserts(layer)

    # Symbolic call test (a KerasTensor of the input's shape): shape inference + build.
    layer = layer_cls(**init_kwargs)
    symbolic_output_shape = layer.compute_output_shape(build_shape)
    layer.build(build_shape)
    run_build_asserts(layer)
    run_output_asserts(layer, symbolic_output_shape)

    # Eager call test.
    layer = layer_cls(**init_kwargs)
    output_data = layer(input_data)
    run_output_asserts(layer, output_data.shape, output_data)

    # Training step: compile(optimizer="sgd", loss=sum(y_pred)) + fit for one step.
    if run_training_check:
        params = [p for p in layer.parameters() if p.requires_grad]
        loss = _regularized_loss(layer, layer(input_data))
        assert torch.isfinite(loss)
        if params:
            before = [w.copy() for w in layer.get_weights()]
            opt = torch.optim.SGD(params, lr=0.01)
            opt.zero_grad()
            loss.backward()
            opt.step()
            kerastorch.apply_constraints(layer)
            for b, a in zip(before, layer.get_weights()):
                assert np.isfinite(a).all() and not np.array_equal(a, b), "training step did not update the weights"

    # Mixed precision check (Keras skips it on torch CPU only for its backend's lack of float16 there).
    if run_mixed_precision_check:
        layer = layer_cls(**{**init_kwargs, "dtype": "mixed_float16"})
        output_data = layer(input_data)
        expected_dtype = torch.float16 if input_data.is_floating_point() else input_data.dtype
        assert output_data.dtype == expected_dtype, f"expected output dtype {expected_dtype}, got {output_data.dtype}"
        _assert_shapes_equal(layer.compute_output_shape(build_shape), output_data.shape, "mixed precision output")
        for weight in layer.weights:
            assert weight.dtype == torch.float32


# =============================================================================================
# Keras 3: convolutional/conv_transpose_test.py
# =============================================================================================
_K3_TRANSPOSE_1D = [
    dict(filters=5, kernel_size=2, strides=2, padding="valid", output_padding=None, data_format="channels_last",
         dilation_rate=1, input_shape=(2, 8, 4), output_shape=(2, 16, 5)),
    dict(filters=6, kernel_size=2, strides=3, padding="same", output_padding=2, data_format="channels_last",
         dilation_rate=(1,), input_shape=(2, 8, 4), output_shape=(2, 23, 6)),
    dict(filters=6, kernel_size=(2,), strides=(2,), padding="valid", output_padding=None, data_format="channels_last",
         dilation_rate=1, input_shape=(2, 8, 4), output_shape=(2, 16, 6)),
]
_K3_TRANSPOSE_2D = [
    dict(filters=5, kernel_size=2, strides=2, padding="valid", output_padding=None, data_format="channels_last",
         dilation_rate=1, input_shape=(2, 8, 8, 4), output_shape=(2, 16, 16, 5)),
    dict(filters=6, kernel_size=2, strides=3, padding="same", output_padding=2, data_format="channels_last",
         dilation_rate=(1, 1), input_shape=(2, 8, 8, 4), output_shape=(2, 23, 23, 6)),
    # (Keras skips this channels_first case on the TensorFlow backend: CPU-only TF has no NCHW kernel.)
    dict(filters=6, kernel_size=(2, 3), strides=(2, 1), padding="valid", output_padding=None,
         data_format="channels_first", dilation_rate=(1, 1), input_shape=(2, 4, 8, 8), output_shape=(2, 6, 16, 10)),
    dict(filters=2, kernel_size=(7, 7), strides=(16, 16), padding="valid", output_padding=None,
         data_format="channels_last", dilation_rate=(1, 1), input_shape=(1, 14, 14, 2), output_shape=(1, 224, 224, 2)),
]
_K3_TRANSPOSE_3D = [
    dict(filters=5, kernel_size=2, strides=2, padding="valid", output_padding=None, data_format="channels_last",
         dilation_rate=1, input_shape=(2, 8, 8, 8, 4), output_shape=(2, 16, 16, 16, 5)),
    dict(filters=6, kernel_size=2, strides=3, padding="same", output_padding=2, data_format="channels_last",
         dilation_rate=(1, 1, 1), input_shape=(2, 8, 8, 8, 4), output_shape=(2, 23, 23, 23, 6)),
    dict(filters=6, kernel_size=(2, 2, 3), strides=(2, 1, 2), padding="valid", output_padding=None,
         data_format="channels_last", dilation_rate=(1, 1, 1), input_shape=(2, 8, 8, 8, 4), output_shape=(2, 16, 9, 17, 6)),
]


def _split(case):
    case = dict(case)
    return case.pop("input_shape", None), case.pop("output_shape", None), case


class TestKeras3_ConvTransposeBasicTest:
    @pytest.mark.parametrize(
        "layer_cls, case",
        [(Conv1DTranspose, c) for c in _K3_TRANSPOSE_1D]
        + [(Conv2DTranspose, c) for c in _K3_TRANSPOSE_2D]
        + [(Conv3DTranspose, c) for c in _K3_TRANSPOSE_3D],
        ids=[f"conv1d_transpose_basic_{i}" for i in range(3)] + [f"conv2d_transpose_basic_{i}" for i in range(4)]
        + [f"conv3d_transpose_basic_{i}" for i in range(3)],
    )
    def test_conv_transpose_basic(self, layer_cls, case):
        input_shape, output_shape, init_kwargs = _split(case)
        _keras3_run_layer_test(
            layer_cls, init_kwargs, input_shape=input_shape, expected_output_shape=output_shape,
            expected_num_trainable_weights=2, expected_num_non_trainable_weights=0, expected_num_losses=0,
            supports_masking=False,
        )

    # tf.keras differs in the wording of three messages (kernel_size, strides, output_padding);
    # kerastorch follows tf.keras (tf_keras conv_utils.normalize_tuple, base_conv._validate_init,
    # conv{1,2,3}d_transpose.__init__).
    def test_bad_init_args(self):
        with pytest.raises(
            ValueError, match="Invalid value for argument `filters`. Expected a strictly positive value. Received filters=0."
        ):
            Conv1DTranspose(filters=0, kernel_size=1)
        # Keras 3: "... Received kernel_size=(1, 0), including values {0} that do not satisfy `value > 0`"
        with pytest.raises(
            ValueError,
            match=r"The `kernel_size` argument must be a tuple of \d+ integers. Received: \(1, 0\) including \{0\} "
            r"that does not satisfy the requirement `> 0`.",
        ):
            Conv2DTranspose(filters=2, kernel_size=(1, 0))
        # Keras 3: "The `strides` argument must be a tuple of \d+ integers. Received strides=(1, 0), ..."
        with pytest.raises(ValueError, match=r"The argument `strides` cannot contains 0\(s\). Received: \(1, 0\)"):
            Conv2DTranspose(filters=2, kernel_size=(2, 2), strides=(1, 0))
        # Keras 3: "`output_padding` must be strictly less than `strides`"
        with pytest.raises(
            ValueError, match=r"Strides must be greater than output padding. Received strides=\(2,\), output_padding=\(2,\)."
        ):
            Conv1DTranspose(filters=2, kernel_size=3, strides=2, output_padding=2)
        with pytest.raises(ValueError, match=r"Strides must be greater than output padding"):
            Conv2DTranspose(filters=2, kernel_size=3, strides=2, output_padding=3)
        with pytest.raises(
            ValueError,
            match=r"Strides must be greater than output padding. Received strides=\(2, 3\), output_padding=\(1, 3\).",
        ):
            Conv2DTranspose(filters=2, kernel_size=3, strides=(2, 3), output_padding=(1, 3))
        with pytest.raises(
            ValueError,
            match=r"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides=\(2, 2\) and "
            r"dilation_rate=\(2, 1\)",
        ):
            Conv2DTranspose(filters=2, kernel_size=(2, 2), strides=2, dilation_rate=(2, 1))


def _set_keras_weights(layer, rng):
    """``layer.<w>.assign(np.random.normal(size=<w>.shape))`` for each weight, in Keras order."""
    values = []
    for name in layer.weight_names:
        shape = tuple(layer.keras_weight(name).shape)
        values.append(rng.normal(size=shape))
    layer.set_weights(values)
    return values


class TestKeras3_ConvTransposeCorrectnessTest:
    # (inputs np.random.normal float64; kerastorch computes in float32, so the reference's float64
    # result is compared in float32 with the suite's tolerance; the original used atol=1e-5.)
    @pytest.mark.parametrize(
        "layer_cls, reference, case, input_size",
        [(Conv1DTranspose, np_conv1d_transpose, c, [2, 8, 4]) for c in _K3_TRANSPOSE_1D]
        + [
            (Conv2DTranspose, np_conv2d_transpose, c, [2, 14, 14, 4])
            for c in [
                dict(filters=5, kernel_size=2, strides=2, padding="valid", output_padding=None,
                     data_format="channels_last", dilation_rate=1),
                dict(filters=6, kernel_size=7, strides=16, padding="same", output_padding=2,
                     data_format="channels_last", dilation_rate=(1, 1)),
                dict(filters=6, kernel_size=(2, 3), strides=(2, 1), padding="valid", output_padding=None,
                     data_format="channels_last", dilation_rate=(1, 1)),
                dict(filters=2, kernel_size=(7, 7), strides=(16, 16), padding="valid", output_padding=None,
                     data_format="channels_last", dilation_rate=(1, 1)),
            ]
        ]
        + [(Conv3DTranspose, np_conv3d_transpose, c, [2, 8, 8, 8, 4]) for c in _K3_TRANSPOSE_3D],
        ids=[f"conv1d_transpose_{i}" for i in range(3)] + [f"conv2d_transpose_{i}" for i in range(4)]
        + [f"conv3d_transpose_{i}" for i in range(3)],
    )
    def test_conv_transpose(self, layer_cls, reference, case, input_size):
        _, _, kwargs = _split(case)
        layer = layer_cls(**kwargs)
        rng = np.random.default_rng(11)
        inputs = rng.normal(size=input_size)
        layer.build(input_shape=inputs.shape)
        kernel_weights, bias_weights = _set_keras_weights(layer, rng)
        outputs = layer(torch.from_numpy(inputs))
        expected = reference(
            inputs, kernel_weights, bias_weights, kwargs["strides"], kwargs["padding"], kwargs["output_padding"],
            kwargs["data_format"], kwargs["dilation_rate"],
        )
        _close(outputs, expected)

    # Keras 3's torch-backend special cases (a clamped output_padding with a warning, and an expected
    # AssertionError where torch cannot place the result like TF) are Keras-on-torch limitations:
    # kerastorch must equal the TF-semantics reference in every case.
    @pytest.mark.parametrize(
        "kernel_size, strides, padding, output_padding",
        [
            c for c in itertools.product(range(1, 5), range(1, 5), ["same", "valid"], [None] + list(range(1, 5)))
            if not (isinstance(c[3], int) and c[3] >= c[1])  # skipped upstream
        ],
    )
    def test_conv1d_transpose_consistency(self, kernel_size, strides, padding, output_padding):
        data_format = kerastorch.image_data_format()
        input_shape = (1, 3, 1) if data_format == "channels_last" else (1, 1, 3)
        input = np.ones(shape=input_shape)
        kernel_weights = np.arange(1, kernel_size + 1).reshape((kernel_size, 1, 1))
        expected_res = np_conv1d_transpose(
            x=input, kernel_weights=kernel_weights, bias_weights=np.zeros(shape=(1,)), strides=strides,
            padding=padding, output_padding=output_padding, data_format=data_format, dilation_rate=1,
        )
        kc_layer = Conv1DTranspose(filters=1, kernel_size=kernel_size, strides=strides, padding=padding,
                                   output_padding=output_padding, dilation_rate=1)
        kc_layer.build(input_shape=input_shape)
        kc_layer.set_weights([kernel_weights, np.zeros((1,))])  # kernel.assign; the bias stays zero
        kc_res = kc_layer(torch.from_numpy(input))
        _close(kc_res, expected_res)

    # tf.keras differs only in that output_padding >= strides is refused at construction in tf.keras
    # (those parameters of the product are checked to raise).
    @pytest.mark.parametrize(
        "kernel_size, strides, padding, output_padding",
        list(itertools.product(range(1, 5), range(1, 5), ["same", "valid"], [None] + list(range(1, 5)))),
    )
    def test_shape_inference_static_unknown_shape(self, kernel_size, strides, padding, output_padding):
        if kerastorch.image_data_format() == "channels_last":
            input_shape, output_tensor_shape = (None, None, 3), (None, None, None, 2)
        else:
            input_shape, output_tensor_shape = (3, None, None), (None, 2, None, None)
        kwargs = dict(filters=2, kernel_size=kernel_size, strides=strides, padding=padding,
                      output_padding=output_padding, dilation_rate=1)
        if output_padding is not None and output_padding >= strides:
            with pytest.raises(ValueError, match="Strides must be greater than output padding"):
                Conv2DTranspose(**kwargs)
            return
        layer = Conv2DTranspose(**kwargs)
        assert layer.compute_output_shape((None, *input_shape)) == output_tensor_shape
        layer.build((None, *input_shape))


# =============================================================================================
# Keras 3: convolutional/depthwise_conv_test.py
# =============================================================================================
_K3_DEPTHWISE_1D = [
    dict(depth_multiplier=5, kernel_size=2, strides=1, padding="valid", data_format="channels_last", dilation_rate=1,
         input_shape=(3, 5, 4), output_shape=(3, 4, 20)),
    dict(depth_multiplier=6, kernel_size=2, strides=1, padding="same", data_format="channels_last",
         dilation_rate=(2,), input_shape=(3, 4, 4), output_shape=(3, 4, 24)),
    dict(depth_multiplier=6, kernel_size=2, strides=(2,), padding="valid", data_format="channels_last",
         dilation_rate=1, input_shape=(3, 5, 4), output_shape=(3, 2, 24)),
]
_K3_DEPTHWISE_2D = [
    dict(depth_multiplier=5, kernel_size=2, strides=1, padding="valid", data_format="channels_last", dilation_rate=1,
         input_shape=(3, 5, 5, 4), output_shape=(3, 4, 4, 20)),
    dict(depth_multiplier=6, kernel_size=2, strides=1, padding="same", data_format="channels_last",
         dilation_rate=(2, 2), input_shape=(3, 4, 4, 4), output_shape=(3, 4, 4, 24)),
    dict(depth_multiplier=6, kernel_size=(2, 2), strides=(2, 2), padding="valid", data_format="channels_last",
         dilation_rate=(1, 1), input_shape=(3, 5, 5, 4), output_shape=(3, 2, 2, 24)),
]


class TestKeras3_DepthwiseConvBasicTest:
    @pytest.mark.parametrize(
        "layer_cls, case",
        [(DepthwiseConv1D, c) for c in _K3_DEPTHWISE_1D] + [(DepthwiseConv2D, c) for c in _K3_DEPTHWISE_2D],
        ids=[f"depthwise_conv1d_basic_{i}" for i in range(3)] + [f"depthwise_conv2d_basic_{i}" for i in range(3)],
    )
    def test_depthwise_conv_basic(self, layer_cls, case):
        input_shape, output_shape, init_kwargs = _split(case)
        _keras3_run_layer_test(
            layer_cls, init_kwargs, input_shape=input_shape, expected_output_shape=output_shape,
            expected_num_trainable_weights=2, expected_num_non_trainable_weights=0, expected_num_losses=0,
            supports_masking=False,
        )

    # tf.keras differs: it does not validate `depth_multiplier` at construction (Keras 3 raises
    # "Invalid value for argument `depth_multiplier`..."); tf_keras base_depthwise_conv.__init__ stores
    # it as given. The kernel_size/strides messages are tf.keras's (see the transposed test).
    def test_bad_init_args(self):
        # Deliberate difference (README): tf.keras accepts depth_multiplier=0 and fails later; kerastorch
        # refuses it at construction, as Keras 3 does.
        with pytest.raises(ValueError, match=r"Received depth_multiplier=0"):
            DepthwiseConv1D(depth_multiplier=0, kernel_size=1)
        with pytest.raises(
            ValueError,
            match=r"The `kernel_size` argument must be a tuple of 2 integers. Received: \(1, 0\) including \{0\} "
            r"that does not satisfy the requirement `> 0`.",
        ):
            DepthwiseConv2D(depth_multiplier=2, kernel_size=(1, 0))
        with pytest.raises(ValueError, match=r"The argument `strides` cannot contains 0\(s\). Received: \(1, 0\)"):
            DepthwiseConv2D(depth_multiplier=2, kernel_size=(2, 2), strides=(1, 0))
        with pytest.raises(
            ValueError,
            match=r"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides=\(2, 2\) and "
            r"dilation_rate=\(2, 1\)",
        ):
            DepthwiseConv2D(depth_multiplier=2, kernel_size=(2, 2), strides=2, dilation_rate=(2, 1))


def _case_kwargs(case):
    return {k: v for k, v in case.items() if k not in ("input_shape", "output_shape")}


class TestKeras3_DepthwiseConvCorrectnessTest:
    @pytest.mark.parametrize(
        "layer_cls, reference, case, input_size",
        [(DepthwiseConv1D, np_depthwise_conv1d, _case_kwargs(c), [2, 8, 4]) for c in _K3_DEPTHWISE_1D]
        + [(DepthwiseConv2D, np_depthwise_conv2d, _case_kwargs(c), [2, 8, 8, 4]) for c in _K3_DEPTHWISE_2D],
        ids=[f"depthwise_conv1d_{i}" for i in range(3)] + [f"depthwise_conv2d_{i}" for i in range(3)],
    )
    def test_depthwise_conv(self, layer_cls, reference, case, input_size):
        layer = layer_cls(**case)
        rng = np.random.default_rng(12)
        inputs = rng.normal(size=input_size)
        layer.build(input_shape=inputs.shape)
        kernel_shape = tuple(layer.keras_weight("depthwise_kernel").shape)  # Keras 3: layer.kernel.shape
        kernel_weights = rng.normal(size=kernel_shape)
        bias_weights = rng.normal(size=(case["depth_multiplier"] * 4,))
        layer.set_weights([kernel_weights, bias_weights])
        outputs = layer(torch.from_numpy(inputs))
        expected = reference(
            inputs, kernel_weights, bias_weights, strides=case["strides"], padding=case["padding"],
            data_format=case["data_format"], dilation_rate=case["dilation_rate"],
        )
        assert tuple(outputs.shape) == expected.shape
        _close(outputs, expected)


# =============================================================================================
# Keras 3: convolutional/separable_conv_test.py
# =============================================================================================
_K3_SEPARABLE_1D = [dict(c, filters=c["depth_multiplier"], output_shape=(*c["output_shape"][:-1], c["depth_multiplier"]))
                    for c in _K3_DEPTHWISE_1D]
_K3_SEPARABLE_2D = [dict(c, filters=c["depth_multiplier"], output_shape=(*c["output_shape"][:-1], c["depth_multiplier"]))
                    for c in _K3_DEPTHWISE_2D]


class TestKeras3_SeparableConvBasicTest:
    @pytest.mark.parametrize(
        "layer_cls, case",
        [(SeparableConv1D, c) for c in _K3_SEPARABLE_1D] + [(SeparableConv2D, c) for c in _K3_SEPARABLE_2D],
        ids=[f"separable_conv1d_basic_{i}" for i in range(3)] + [f"separable_conv2d_basic_{i}" for i in range(3)],
    )
    def test_separable_conv_basic(self, layer_cls, case):
        input_shape, output_shape, init_kwargs = _split(case)
        _keras3_run_layer_test(
            layer_cls, init_kwargs, input_shape=input_shape, expected_output_shape=output_shape,
            expected_num_trainable_weights=3, expected_num_non_trainable_weights=0, expected_num_losses=0,
            supports_masking=False,
        )

    # tf.keras differs: `depth_multiplier` is not validated at construction (tf_keras
    # base_separable_conv.__init__ stores it); the other messages are tf.keras's.
    def test_bad_init_args(self):
        # Deliberate difference (README): refused at construction, as Keras 3 does (tf.keras fails later).
        with pytest.raises(ValueError, match=r"Received depth_multiplier=0"):
            SeparableConv1D(depth_multiplier=0, filters=1, kernel_size=1)
        with pytest.raises(
            ValueError, match="Invalid value for argument `filters`. Expected a strictly positive value. Received filters=0."
        ):
            SeparableConv1D(depth_multiplier=1, filters=0, kernel_size=1)
        with pytest.raises(
            ValueError,
            match=r"The `kernel_size` argument must be a tuple of \d+ integers. Received: \(1, 0\) including \{0\} "
            r"that does not satisfy the requirement `> 0`.",
        ):
            SeparableConv2D(depth_multiplier=2, filters=2, kernel_size=(1, 0))
        with pytest.raises(ValueError, match=r"The argument `strides` cannot contains 0\(s\). Received: \(1, 0\)"):
            SeparableConv2D(depth_multiplier=2, filters=2, kernel_size=(2, 2), strides=(1, 0))
        with pytest.raises(
            ValueError,
            match=r"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides=\(2, 2\) and "
            r"dilation_rate=\(2, 1\)",
        ):
            SeparableConv2D(depth_multiplier=2, filters=2, kernel_size=(2, 2), strides=2, dilation_rate=(2, 1))


class TestKeras3_SeparableConvCorrectnessTest:
    @pytest.mark.parametrize(
        "layer_cls, depthwise_ref, conv_ref, case, input_size",
        [(SeparableConv1D, np_depthwise_conv1d, np_conv1d, _case_kwargs(c), [2, 8, 4]) for c in _K3_SEPARABLE_1D]
        + [(SeparableConv2D, np_depthwise_conv2d, np_conv2d, _case_kwargs(c), [2, 8, 8, 4]) for c in _K3_SEPARABLE_2D],
        ids=[f"separable_conv1d_{i}" for i in range(3)] + [f"separable_conv2d_{i}" for i in range(3)],
    )
    def test_separable_conv(self, layer_cls, depthwise_ref, conv_ref, case, input_size):
        layer = layer_cls(**case)
        rng = np.random.default_rng(13)
        inputs = rng.normal(size=input_size)
        layer.build(input_shape=inputs.shape)
        depthwise_kernel_weights, pointwise_kernel_weights, bias_weights = _set_keras_weights(layer, rng)
        outputs = layer(torch.from_numpy(inputs))
        expected_depthwise = depthwise_ref(
            inputs, depthwise_kernel_weights, np.zeros(4 * case["depth_multiplier"]), strides=case["strides"],
            padding=case["padding"], data_format=case["data_format"], dilation_rate=case["dilation_rate"],
        )
        expected = conv_ref(
            expected_depthwise, pointwise_kernel_weights, bias_weights, strides=1, padding=case["padding"],
            data_format=case["data_format"], dilation_rate=1, groups=1,
        )
        assert tuple(outputs.shape) == expected.shape
        _close(outputs, expected)


# =============================================================================================
# Keras 3: reshaping/up_sampling{1,2,3}d_test.py
# =============================================================================================
class TestKeras3_UpSampling1DTest:
    def test_upsampling_1d(self):
        _keras3_run_layer_test(
            UpSampling1D, {"size": 2}, input_shape=(3, 5, 4), expected_output_shape=(3, 10, 4),
            expected_output_dtype="float32", expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
            expected_num_seed_generators=0, expected_num_losses=0, supports_masking=False,
        )

    # (an int64 input, as in the original and in tf.keras's own docstring example)
    def test_upsampling_1d_correctness(self):
        out = UpSampling1D(size=2)(torch.from_numpy(np.arange(12).reshape((2, 2, 3))))
        expected = np.array(
            [
                [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [3.0, 4.0, 5.0]],
                [[6.0, 7.0, 8.0], [6.0, 7.0, 8.0], [9.0, 10.0, 11.0], [9.0, 10.0, 11.0]],
            ]
        )
        assert_close(out.to(torch.float64), torch.from_numpy(expected))

    def test_upsampling_1d_correctness_with_ones(self):
        _close(UpSampling1D(size=3)(torch.from_numpy(np.ones((2, 1, 5)))), np.ones((2, 3, 5)))

    def test_upsampling_1d_with_dynamic_batch_size(self):
        assert UpSampling1D(size=2).compute_output_shape((None, 2, 3)) == (None, 4, 3)
        assert UpSampling1D(size=4).compute_output_shape((None, 2, 3)) == (None, 8, 3)

    def test_upsampling_1d_with_dynamic_shape(self):
        assert UpSampling1D(size=2).compute_output_shape((2, None, 3)) == (2, None, 3)
        assert UpSampling1D(size=4).compute_output_shape((2, None, 3)) == (2, None, 3)
        assert UpSampling1D(size=2).compute_output_shape((2, 3, None)) == (2, 6, None)
        assert UpSampling1D(size=4).compute_output_shape((2, 3, None)) == (2, 12, None)

    # tf.keras differs: tf_keras UpSampling1D.__init__ does `self.size = int(size)` and nothing else,
    # so 0, -2, 2.5, "2" and True are all accepted (as 0, -2, 2, 2, 1); Keras 3 raises ValueError
    # ("should be a positive integer") / TypeError ("Expected an integer value for `size`").
    def test_upsampling_1d_with_invalid_size(self):
        # Deliberate difference (README): tf.keras runs int(size) and so accepts 0, -2, 2.5, "2" and True;
        # kerastorch takes positive integers only, like UpSampling2D/3D's size in both Kerases.
        for size in (0, -2, 2.5, "2", True):
            with pytest.raises(ValueError, match="size"):
                UpSampling1D(size=size)


class TestKeras3_UpSampling2dTest:
    @pytest.mark.parametrize("length_col", [2, 3])
    @pytest.mark.parametrize("length_row", [2])
    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    def test_upsampling_2d(self, data_format, length_row, length_col):
        num_samples, stack_size, input_num_row, input_num_col = 2, 2, 11, 12
        rng = np.random.default_rng(14)
        shape = ((num_samples, stack_size, input_num_row, input_num_col) if data_format == "channels_first"
                 else (num_samples, input_num_row, input_num_col, stack_size))
        inputs = rng.random(shape)
        _keras3_run_layer_test(UpSampling2D, {"size": (2, 2), "data_format": data_format}, input_shape=inputs.shape)
        layer = UpSampling2D(size=(length_row, length_col), data_format=data_format)
        layer.build(inputs.shape)
        np_output = layer(torch.from_numpy(inputs))
        first = 2 if data_format == "channels_first" else 1
        assert np_output.shape[first] == length_row * input_num_row
        assert np_output.shape[first + 1] == length_col * input_num_col
        expected_out = _repeat(inputs, (length_row, length_col), first)
        assert_close(np_output, torch.from_numpy(expected_out))

    @pytest.mark.parametrize("length_col", [2, 3])
    @pytest.mark.parametrize("length_row", [2])
    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    def test_upsampling_2d_bilinear(self, data_format, length_row, length_col):
        num_samples, stack_size, input_num_row, input_num_col = 2, 2, 11, 12
        rng = np.random.default_rng(15)
        shape = ((num_samples, stack_size, input_num_row, input_num_col) if data_format == "channels_first"
                 else (num_samples, input_num_row, input_num_col, stack_size))
        inputs = rng.random(shape)
        _keras3_run_layer_test(UpSampling2D, {"size": (2, 2), "data_format": data_format, "interpolation": "bilinear"},
                               input_shape=inputs.shape)
        layer = UpSampling2D(size=(length_row, length_col), data_format=data_format)
        layer.build(inputs.shape)
        np_output = layer(torch.from_numpy(inputs))
        first = 2 if data_format == "channels_first" else 1
        assert np_output.shape[first] == length_row * input_num_row
        assert np_output.shape[first + 1] == length_col * input_num_col

    def test_upsampling_2d_correctness(self):
        input_shape = (2, 2, 1, 3)
        x = np.arange(np.prod(input_shape)).reshape(input_shape)
        expected_output = np.array(
            [[[[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]], [[3.0, 4.0, 5.0], [3.0, 4.0, 5.0]]],
             [[[6.0, 7.0, 8.0], [6.0, 7.0, 8.0]], [[9.0, 10.0, 11.0], [9.0, 10.0, 11.0]]]]
        )
        if kerastorch.image_data_format() == "channels_first":
            expected_output = expected_output.transpose((0, 3, 1, 2))
            x = x.transpose((0, 3, 1, 2))
        out = UpSampling2D(size=(1, 2))(torch.from_numpy(x))
        assert_close(out.to(torch.float64), torch.from_numpy(expected_output))

    # The original only calls the layer on an int64 input. tf.keras (tf.image.resize) returns the
    # input's dtype for "nearest" and float32 for the other methods; checked here too.
    def test_upsampling_2d_various_interpolation_methods(self):
        input_shape = (2, 2, 1, 3)
        x = torch.from_numpy(np.arange(np.prod(input_shape)).reshape(input_shape))
        failures = []
        for interpolation in ["nearest", "bilinear", "bicubic"]:
            try:
                y = UpSampling2D(size=(1, 2), interpolation=interpolation)(x)
            except Exception as e:  # noqa: BLE001 -- report every method
                failures.append(f"{interpolation}: {type(e).__name__}: {e}")
                continue
            expected_dtype = torch.int64 if interpolation == "nearest" else torch.float32
            if y.dtype != expected_dtype:
                failures.append(f"{interpolation}: output dtype {y.dtype}, tf.keras {expected_dtype}")
        assert not failures, "\n".join(failures)

    # Keras skips it on torch (Keras's torch backend has no lanczos); kerastorch has it.
    def test_upsampling_2d_lanczos_interpolation_methods(self):
        input_shape = (2, 2, 1, 3)
        x = torch.from_numpy(np.arange(np.prod(input_shape)).reshape(input_shape))
        failures = []
        for interpolation in ["lanczos3", "lanczos5"]:
            try:
                y = UpSampling2D(size=(1, 2), interpolation=interpolation)(x)
            except Exception as e:  # noqa: BLE001
                failures.append(f"{interpolation}: {type(e).__name__}: {e}")
                continue
            if y.dtype != torch.float32:
                failures.append(f"{interpolation}: output dtype {y.dtype}, tf.keras torch.float32")
        assert not failures, "\n".join(failures)


class TestKeras3_UpSampling3dTest:
    @pytest.mark.parametrize("length_dim3", [3])
    @pytest.mark.parametrize("length_dim2", [2])
    @pytest.mark.parametrize("length_dim1", [2, 3])
    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    def test_upsampling_3d(self, data_format, length_dim1, length_dim2, length_dim3):
        num_samples, stack_size, d1, d2, d3 = 2, 2, 10, 11, 12
        rng = np.random.default_rng(16)
        shape = ((num_samples, stack_size, d1, d2, d3) if data_format == "channels_first"
                 else (num_samples, d1, d2, d3, stack_size))
        inputs = rng.random(shape)
        expected_output_shape = (2, 2, 20, 22, 24) if data_format == "channels_first" else (2, 20, 22, 24, 2)
        _keras3_run_layer_test(
            UpSampling3D, {"size": (2, 2, 2), "data_format": data_format}, input_shape=inputs.shape,
            expected_output_shape=expected_output_shape, expected_output_dtype="float32",
            expected_num_trainable_weights=0, expected_num_non_trainable_weights=0, expected_num_seed_generators=0,
            expected_num_losses=0, supports_masking=False,
        )
        layer = UpSampling3D(size=(length_dim1, length_dim2, length_dim3), data_format=data_format)
        layer.build(inputs.shape)
        np_output = layer(torch.from_numpy(inputs))
        first = 2 if data_format == "channels_first" else 1
        assert np_output.shape[first] == length_dim1 * d1
        assert np_output.shape[first + 1] == length_dim2 * d2
        assert np_output.shape[first + 2] == length_dim3 * d3
        expected_out = _repeat(inputs, (length_dim1, length_dim2, length_dim3), first)
        assert_close(np_output, torch.from_numpy(expected_out))

    def test_upsampling_3d_correctness(self):
        input_shape = (2, 1, 2, 1, 3)
        x = np.arange(np.prod(input_shape)).reshape(input_shape)
        a, b = [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]], [[3.0, 4.0, 5.0], [3.0, 4.0, 5.0]]
        c, d = [[6.0, 7.0, 8.0], [6.0, 7.0, 8.0]], [[9.0, 10.0, 11.0], [9.0, 10.0, 11.0]]
        expected_output = np.array([[[a, a, b, b], [a, a, b, b]], [[c, c, d, d], [c, c, d, d]]])
        if kerastorch.image_data_format() == "channels_first":
            expected_output = expected_output.transpose((0, 4, 1, 2, 3))
            x = x.transpose((0, 4, 1, 2, 3))
        out = UpSampling3D(size=(2, 2, 2))(torch.from_numpy(x))
        assert_close(out.to(torch.float64), torch.from_numpy(expected_output))


# =============================================================================================
# Keras 3: reshaping/zero_padding{1,2,3}d_test.py
# =============================================================================================
def _zeros_at(outputs, data_format, axis, indices, rank):
    for index in indices:
        sl = outputs[_spatial_index(data_format, axis, index, rank)]
        assert_close(sl, torch.zeros_like(sl))


class TestKeras3_ZeroPadding1DTest:
    def test_zero_padding_1d(self):
        inputs = np.random.default_rng(17).random((1, 2, 3))
        outputs = ZeroPadding1D(padding=(1, 2))(torch.from_numpy(inputs))
        _zeros_at(outputs, "channels_last", 0, [0, -1, -2], 1)
        assert_close(outputs[:, 1:-2, :], torch.from_numpy(inputs))

    @pytest.mark.parametrize("padding", [(2, 2), 2], ids=["one_tuple", "one_int"])
    def test_zero_padding_1d_with_same_padding(self, padding):
        inputs = np.random.default_rng(18).random((1, 2, 3))
        outputs = ZeroPadding1D(padding=padding)(torch.from_numpy(inputs))
        _zeros_at(outputs, "channels_last", 0, [0, 1, -1, -2], 1)
        assert_close(outputs[:, 2:-2, :], torch.from_numpy(inputs))

    def test_zero_padding_1d_with_dynamic_spatial_dim(self):
        assert ZeroPadding1D((1, 2)).compute_output_shape((1, None, 3)) == (1, None, 3)
        assert ZeroPadding1D((1, 2)).compute_output_shape((1, 2, 3)) == (1, 5, 3)

    @pytest.mark.parametrize("padding", [(1,), (1, 2, 3), "1"])
    def test_zero_padding_1d_errors_if_padding_argument_invalid(self, padding):
        with pytest.raises(ValueError):
            ZeroPadding1D(padding)

    # tf.keras differs: its "dtype" config entry is the policy name "float32" (Keras 3: a serialized
    # DTypePolicy). The keys are the same.
    def test_zero_padding_1d_get_config(self):
        layer = ZeroPadding1D(padding=(1, 2))
        expected_config = {"dtype": "float32", "name": layer.name, "padding": (1, 2), "trainable": layer.trainable}
        assert layer.get_config() == expected_config


class TestKeras3_ZeroPadding2DTest:
    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    def test_zero_padding_2d(self, data_format):
        inputs = np.random.default_rng(19).random((1, 2, 3, 4))
        outputs = ZeroPadding2D(padding=((1, 2), (3, 4)), data_format=data_format)(torch.from_numpy(inputs))
        _zeros_at(outputs, data_format, 0, [0, -1, -2], 2)
        _zeros_at(outputs, data_format, 1, [0, 1, 2, -1, -2, -3, -4], 2)
        inside = outputs[:, :, 1:-2, 3:-4] if data_format == "channels_first" else outputs[:, 1:-2, 3:-4, :]
        assert_close(inside, torch.from_numpy(inputs))

    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    @pytest.mark.parametrize("padding", [((2, 2), (2, 2)), (2, 2), 2], ids=["2_tuples", "1_tuple", "1_int"])
    def test_zero_padding_2d_with_same_padding(self, padding, data_format):
        inputs = np.random.default_rng(20).random((1, 2, 3, 4))
        outputs = ZeroPadding2D(padding=padding, data_format=data_format)(torch.from_numpy(inputs))
        _zeros_at(outputs, data_format, 0, [0, 1, -1, -2], 2)
        _zeros_at(outputs, data_format, 1, [0, 1, -1, -2], 2)
        inside = outputs[:, :, 2:-2, 2:-2] if data_format == "channels_first" else outputs[:, 2:-2, 2:-2, :]
        assert_close(inside, torch.from_numpy(inputs))

    def test_zero_padding_2d_with_dynamic_spatial_dim(self):
        if kerastorch.image_data_format() == "channels_last":
            assert ZeroPadding2D(((1, 2), (3, 4))).compute_output_shape((1, 2, None, 4)) == (1, 5, None, 4)
        else:
            assert ZeroPadding2D(((1, 2), (3, 4))).compute_output_shape((1, 4, 2, None)) == (1, 4, 5, None)

    @pytest.mark.parametrize(
        "padding", [(1,), (1, 2, 3), "1", ((1, 2), (3, 4, 5)), ((1, 2), (3, -4)), ((1, 2), "3")]
    )
    def test_zero_padding_2d_errors_if_padding_argument_invalid(self, padding):
        with pytest.raises(ValueError):
            ZeroPadding2D(padding)

    # tf.keras differs only in "dtype" ("float32", not a serialized DTypePolicy).
    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    def test_zero_padding_2d_get_config(self, data_format):
        layer = ZeroPadding2D(padding=(1, 2), data_format=data_format)
        expected_config = {"data_format": data_format, "dtype": "float32", "name": layer.name,
                           "padding": ((1, 1), (2, 2)), "trainable": layer.trainable}
        assert layer.get_config() == expected_config


class TestKeras3_ZeroPadding3DTest:
    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    def test_zero_padding_3d(self, data_format):
        inputs = np.random.default_rng(21).random((1, 2, 3, 4, 5))
        outputs = ZeroPadding3D(padding=((1, 2), (3, 4), (0, 2)), data_format=data_format)(torch.from_numpy(inputs))
        _zeros_at(outputs, data_format, 0, [0, -1, -2], 3)
        _zeros_at(outputs, data_format, 1, [0, 1, 2, -1, -2, -3, -4], 3)
        _zeros_at(outputs, data_format, 2, [-1, -2], 3)
        inside = (outputs[:, :, 1:-2, 3:-4, 0:-2] if data_format == "channels_first" else outputs[:, 1:-2, 3:-4, 0:-2, :])
        assert_close(inside, torch.from_numpy(inputs))

    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    @pytest.mark.parametrize("padding", [((2, 2), (2, 2), (2, 2)), (2, 2, 2), 2], ids=["3_tuples", "1_tuple", "1_int"])
    def test_zero_padding_3d_with_same_padding(self, padding, data_format):
        inputs = np.random.default_rng(22).random((1, 2, 3, 4, 5))
        outputs = ZeroPadding3D(padding=padding, data_format=data_format)(torch.from_numpy(inputs))
        for axis in range(3):
            _zeros_at(outputs, data_format, axis, [0, 1, -1, -2], 3)
        inside = (outputs[:, :, 2:-2, 2:-2, 2:-2] if data_format == "channels_first" else outputs[:, 2:-2, 2:-2, 2:-2, :])
        assert_close(inside, torch.from_numpy(inputs))

    def test_zero_padding_3d_with_dynamic_spatial_dim(self):
        layer = ZeroPadding3D(((1, 2), (3, 4), (5, 6)))
        if kerastorch.image_data_format() == "channels_last":
            assert layer.compute_output_shape((1, 2, None, 4, 5)) == (1, 5, None, 15, 5)
        else:
            assert layer.compute_output_shape((1, 5, 2, None, 4)) == (1, 5, 5, None, 15)

    @pytest.mark.parametrize(
        "padding",
        [(1,), (1, 2), (1, 2, 3, 4), "1", ((1, 2), (3, 4), (5, 6, 7)), ((1, 2), (3, 4), (5, -6)), ((1, 2), (3, 4), "5")],
    )
    def test_zero_padding_3d_errors_if_padding_argument_invalid(self, padding):
        with pytest.raises(ValueError):
            ZeroPadding3D(padding=padding)

    # tf.keras differs only in "dtype".
    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    def test_zero_padding_3d_get_config(self, data_format):
        layer = ZeroPadding3D(padding=(1, 2, 3), data_format=data_format)
        expected_config = {"data_format": data_format, "dtype": "float32", "name": layer.name,
                           "padding": ((1, 1), (2, 2), (3, 3)), "trainable": layer.trainable}
        assert layer.get_config() == expected_config


# =============================================================================================
# Keras 3: reshaping/cropping{1,2,3}d_test.py
# =============================================================================================
# tf.keras's messages for a cropping that leaves nothing (raised from `call`):
_TF_CROP1D_MSG = r"cropping parameter of Cropping layer must be greater than the input shape"  # Cropping1D.call
_TF_CROP2D_MSG = r"Argument `cropping` must be greater than the input shape"  # Cropping2D.call


class TestKeras3_Cropping1DTest:
    def test_cropping_1d(self):
        inputs = np.random.default_rng(23).random((3, 5, 7))
        for cropping, expected in (((1, 2), inputs[:, 1:3, :]), ((1, 1), inputs[:, 1:4, :]), (1, inputs[:, 1:4, :]),
                                   ((0, 1), inputs[:, 0:4, :]), ((1, 0), inputs[:, 1:5, :])):
            _keras3_run_layer_test(Cropping1D, {"cropping": cropping}, input_data=inputs, expected_output=expected)

    def test_cropping_1d_with_dynamic_spatial_dim(self):
        assert Cropping1D((1, 2)).compute_output_shape((1, None, 7)) == (1, None, 7)

    def test_cropping_1d_errors_if_cropping_argument_invalid(self):
        with pytest.raises(ValueError):
            Cropping1D(cropping=(1,))
        with pytest.raises(ValueError):
            Cropping1D(cropping=(1, 2, 3))
        with pytest.raises(ValueError):
            Cropping1D(cropping="1")

    # tf.keras differs in the message (Keras 3: "`cropping` parameter of `Cropping1D` layer must be
    # smaller than ..."); tf_keras Cropping1D.call raises the one asserted here.
    def test_cropping_1d_errors_if_cropping_more_than_available(self):
        with pytest.raises(ValueError, match=_TF_CROP1D_MSG):
            Cropping1D(cropping=(2, 3))(torch.zeros((3, 5, 7)))

    def test_cropping_1d_error_on_excessive_cropping(self):
        inputs = np.random.default_rng(24).random((3, 5, 7))
        with pytest.raises(ValueError, match=_TF_CROP1D_MSG):
            Cropping1D(cropping=(3, 3))(torch.from_numpy(inputs))


_K3_CROP2D = [
    (((1, 2), (3, 4)), ((1, 5), (3, 5))),
    (((2, 2), (2, 2)), ((2, 5), (2, 7))),
    ((2, 2), ((2, 5), (2, 7))),
    (2, ((2, 5), (2, 7))),
    (((0, 2), (0, 4)), ((0, 5), (0, 5))),
    (((1, 0), (3, 0)), ((1, 7), (3, 9))),
    (((1, 0), (3, 4)), ((1, 7), (3, 5))),
    (((1, 2), (3, 0)), ((1, 5), (3, 9))),
]


def _ranges_slice(inputs, ranges, data_format):
    first = 2 if data_format == "channels_first" else 1
    idx = [slice(None)] * inputs.ndim
    for i, (lo, hi) in enumerate(ranges):
        idx[first + i] = slice(lo, hi)
    return inputs[tuple(idx)]


class TestKeras3_Cropping2DTest:
    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    @pytest.mark.parametrize("cropping, expected_ranges", _K3_CROP2D)
    def test_cropping_2d(self, cropping, data_format, expected_ranges):
        rng = np.random.default_rng(25)
        inputs = rng.random((3, 5, 7, 9)) if data_format == "channels_first" else rng.random((3, 7, 9, 5))
        expected_output = _ranges_slice(inputs, expected_ranges, data_format)
        _keras3_run_layer_test(Cropping2D, {"cropping": cropping, "data_format": data_format}, input_data=inputs,
                               expected_output=expected_output)

    def test_cropping_2d_with_dynamic_spatial_dim(self):
        if kerastorch.image_data_format() == "channels_last":
            assert Cropping2D(((1, 2), (3, 4))).compute_output_shape((1, 7, None, 5)) == (1, 4, None, 5)
        else:
            assert Cropping2D(((1, 2), (3, 4))).compute_output_shape((1, 5, 7, None)) == (1, 5, 4, None)

    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    @pytest.mark.parametrize("cropping", [((3, 6), (0, 0)), ((0, 0), (5, 4))])
    def test_cropping_2d_errors_if_cropping_more_than_available(self, cropping, data_format):
        with pytest.raises(ValueError):
            Cropping2D(cropping=cropping, data_format=data_format)(torch.zeros((3, 7, 9, 5)))

    def test_cropping_2d_errors_if_cropping_argument_invalid(self):
        for cropping in [(1,), (1, 2, 3), "1", ((1, 2), (3, 4, 5)), ((1, 2), (3, -4)), ((1, 2), "3")]:
            with pytest.raises(ValueError):
                Cropping2D(cropping=cropping)

    # tf.keras differs in the message (Keras 3: "Values in `cropping` argument should be smaller than
    # the corresponding spatial dimension of the input."); tf_keras Cropping2D.call raises this one.
    # (The 8 upstream parameters are looped over so that one wording difference is one failure.)
    def test_cropping_2d_error_on_excessive_cropping(self):
        failures = []
        for (cropping, input_shape), data_format in itertools.product(
            [(((4, 5), (0, 0)), (3, 8, 9, 5)), (((0, 0), (5, 5)), (3, 8, 9, 5)),
             (((6, 3), (0, 0)), (3, 8, 9, 5)), (((0, 0), (7, 3)), (3, 8, 9, 5))],
            ["channels_first", "channels_last"],
        ):
            inputs = np.random.default_rng(26).random(input_shape)
            try:
                Cropping2D(cropping=cropping, data_format=data_format)(torch.from_numpy(inputs))
            except ValueError as e:
                if not re.search(_TF_CROP2D_MSG, str(e)):
                    failures.append(f"{cropping}, {data_format}: {e}")
            else:
                failures.append(f"{cropping}, {data_format}: no error")
        assert not failures, f"expected ValueError matching {_TF_CROP2D_MSG!r}:\n" + "\n".join(failures)


class TestKeras3_Cropping3DTest:
    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    @pytest.mark.parametrize("dim3_cropping, dim3_expected", [((5, 6), (5, 7)), ((0, 6), (0, 7)), ((5, 0), (5, 13))])
    @pytest.mark.parametrize("dim2_cropping, dim2_expected", [((3, 4), (3, 5)), ((0, 4), (0, 5)), ((3, 0), (3, 9))])
    @pytest.mark.parametrize("dim1_cropping, dim1_expected", [((1, 2), (1, 5)), ((0, 2), (0, 5)), ((1, 0), (1, 7))])
    def test_cropping_3d(self, dim1_cropping, dim2_cropping, dim3_cropping, data_format, dim1_expected, dim2_expected,
                         dim3_expected):
        rng = np.random.default_rng(27)
        inputs = rng.random((3, 5, 7, 9, 13)) if data_format == "channels_first" else rng.random((3, 7, 9, 13, 5))
        expected_output = _ranges_slice(inputs, (dim1_expected, dim2_expected, dim3_expected), data_format)
        cropping = (dim1_cropping, dim2_cropping, dim3_cropping)
        _keras3_run_layer_test(Cropping3D, {"cropping": cropping, "data_format": data_format}, input_data=inputs,
                               expected_output=expected_output)

    @pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
    @pytest.mark.parametrize(
        "cropping, expected",
        [(((2, 2), (2, 2), (2, 2)), ((2, 5), (2, 7), (2, 11))), ((2, 2, 2), ((2, 5), (2, 7), (2, 11))),
         (2, ((2, 5), (2, 7), (2, 11)))],
        ids=["3_tuples", "1_tuple", "1_int"],
    )
    def test_cropping_3d_with_same_cropping(self, cropping, data_format, expected):
        rng = np.random.default_rng(28)
        inputs = rng.random((3, 5, 7, 9, 13)) if data_format == "channels_first" else rng.random((3, 7, 9, 13, 5))
        expected_output = _ranges_slice(inputs, expected, data_format)
        _keras3_run_layer_test(Cropping3D, {"cropping": cropping, "data_format": data_format}, input_data=inputs,
                               expected_output=expected_output)

    def test_cropping_3d_with_dynamic_spatial_dim(self):
        layer = Cropping3D(((1, 2), (3, 4), (5, 6)))
        if kerastorch.image_data_format() == "channels_last":
            assert layer.compute_output_shape((1, 7, None, 13, 5)) == (1, 4, None, 2, 5)
        else:
            assert layer.compute_output_shape((1, 5, 7, None, 13)) == (1, 5, 4, None, 2)

    # tf.keras differs: tf_keras Cropping3D.call has no size check (unlike its 1-D and 2-D layers);
    # an over-large cropping slices to an empty dimension, as Python slicing does. Keras 3 raises
    # ValueError (both tests below). Asserted: kerastorch refuses it too (a deliberate difference from tf.keras).
    def test_cropping_3d_errors_if_cropping_more_than_available(self):
        for cropping, data_format in itertools.product(
            [((3, 6), (0, 0), (0, 0)), ((0, 0), (5, 8), (0, 0)), ((0, 0), (0, 0), (7, 6))],
            ["channels_first", "channels_last"],
        ):
            shape = (3, 5, 7, 9, 13) if data_format == "channels_first" else (3, 7, 9, 13, 5)
            x = torch.zeros(shape)
            expected = _crop_reference(x.numpy(), cropping, data_format)
            # Deliberate difference (README): tf.keras returns the empty slice; kerastorch refuses an
            # over-large cropping with tf.keras's Cropping1D/2D message (Keras 3 raises too).
            assert 0 in expected.shape
            with pytest.raises(ValueError, match="Argument `cropping` must be greater than the input shape"):
                Cropping3D(cropping=cropping, data_format=data_format)(x)

    def test_cropping_3d_errors_if_cropping_argument_invalid(self):
        for cropping in [(1,), (1, 2), (1, 2, 3, 4), "1", ((1, 2), (3, 4), (5, 6, 7)), ((1, 2), (3, 4), (5, -6)),
                         ((1, 2), (3, 4), "5")]:
            with pytest.raises(ValueError):
                Cropping3D(cropping=cropping)

    def test_cropping_3d_with_excessive_cropping(self):
        for cropping, data_format in itertools.product(
            [((8, 1), (1, 1), (1, 1)), ((1, 1), (10, 1), (1, 1)), ((1, 1), (1, 1), (14, 1))],
            ["channels_first", "channels_last"],
        ):
            shape = (3, 5, 7, 9, 13) if data_format == "channels_first" else (3, 7, 9, 13, 5)
            x = torch.zeros(shape)
            expected = _crop_reference(x.numpy(), cropping, data_format)
            # Deliberate difference (README): tf.keras returns the empty slice; kerastorch refuses an
            # over-large cropping with tf.keras's Cropping1D/2D message (Keras 3 raises too).
            assert 0 in expected.shape
            with pytest.raises(ValueError, match="Argument `cropping` must be greater than the input shape"):
                Cropping3D(cropping=cropping, data_format=data_format)(x)

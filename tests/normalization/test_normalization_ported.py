"""tf-keras's normalization tests (batch_normalization_test, layer_normalization_test, group_normalization_test,
unit_normalization_test) ported to kerastorch, for what the recorded fixtures do not cover: the defaults and
Keras names, the buffers, a frozen BatchNormalization in inference mode, training to convergence of the
moving statistics, channels_last without copies, LayerNormalization over several axes against numpy's
formula, GroupNormalization's limits (groups=1 is layer norm over the other axes, groups=channels is instance
norm), UnitNormalization's unit norm; and the int inputs tf.keras casts."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.profiler import ProfilerActivity, profile

import kerastorch.layers as L


# ----- BatchNormalization -----
def test_batchnorm_defaults_and_keras_names():
    layer = L.BatchNormalization()
    assert (layer.axis, layer.momentum, layer.epsilon, layer.center, layer.scale) == (-1, 0.99, 1e-3, True, True)
    layer(torch.randn(4, 3))
    assert layer.weight_names == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [n for n, _ in layer.named_parameters()] == ["gamma", "beta"]
    assert [n for n, _ in layer.named_buffers()] == ["moving_mean", "moving_variance"]
    assert list(layer.state_dict()) == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [bool(w.requires_grad) for w in layer.weights] == [True, True, False, False]
    config = layer.get_config()
    assert (config["axis"], config["momentum"], config["epsilon"]) == ([1], 0.99, 1e-3)


def test_batchnorm_moving_average_update():
    """``moving = moving * momentum + batch * (1 - momentum)``; rank 2 is tf.keras's non-fused path (biased
    variance), rank 4 its fused path (unbiased batch variance in the moving variance)."""
    for shape, correction in (((16, 3), 0), ((4, 3, 3, 3), 1)):
        layer = L.BatchNormalization(momentum=0.8)
        x = torch.randn(shape, dtype=torch.float32) * 2 + 1
        layer(x, training=True)
        flat = x.reshape(-1, 3)
        torch.testing.assert_close(layer.moving_mean, 0.2 * flat.mean(0))
        torch.testing.assert_close(layer.moving_variance, 0.8 + 0.2 * flat.var(0, correction=correction))


def test_batchnorm_converges_to_the_data_statistics():
    """tf-keras test_batchnorm_correctness: after many training steps the layer normalizes in inference."""
    torch.manual_seed(0)
    layer = L.BatchNormalization(axis=1, momentum=0.8)
    for _ in range(60):
        layer(torch.randn(64, 3, 4, 4) * 5 + 10, training=True)
    layer.eval()
    y = layer(torch.randn(256, 3, 4, 4) * 5 + 10)
    assert abs(y.mean().item()) < 0.1 and abs(y.std().item() - 1) < 0.1


def test_frozen_batchnorm_runs_in_inference_mode():
    """tf.keras: ``trainable=False`` -> inference mode even with ``training=True`` (moving statistics used and kept)."""
    layer = L.BatchNormalization()
    x = torch.randn(8, 4) * 3 + 2
    layer(x)
    layer.set_weights([np.full(4, 2.0), np.full(4, 0.5), np.full(4, 1.0), np.full(4, 4.0)])
    layer.trainable = False
    before = [w.copy() for w in layer.get_weights()]
    y = layer(x, training=True)
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    torch.testing.assert_close(y, 2.0 * (x - 1.0) / torch.sqrt(torch.tensor(4.0 + 1e-3)) + 0.5)
    assert layer.trainable_weights == []


def test_batchnorm_center_scale_off():
    layer = L.BatchNormalization(center=False, scale=False)
    x = torch.randn(32, 5, dtype=torch.float64) * 3 + 1
    layer.to(torch.float64)
    y = layer(x, training=True)
    assert layer.weight_names == ["moving_mean", "moving_variance"]
    torch.testing.assert_close(y, (x - x.mean(0)) / torch.sqrt(x.var(0, correction=0) + 1e-3))


@pytest.mark.parametrize("axis, shape", [(1, (4, 3, 5)), (2, (2, 3, 4, 2)), ([1, 3], (2, 3, 2, 4)), (0, (3, 4))])
def test_batchnorm_any_axis_training_formula(axis, shape):
    x = torch.randn(shape, dtype=torch.float64)
    layer = L.BatchNormalization(axis=axis, dtype="float64")
    y = layer(x, training=True)
    axes = [axis] if isinstance(axis, int) else axis
    reduce = tuple(i for i in range(len(shape)) if i not in axes)
    mean, var = x.mean(reduce, keepdim=True), x.var(reduce, keepdim=True, correction=0)
    torch.testing.assert_close(y, (x - mean) / torch.sqrt(var + 1e-3))


def test_batchnorm_channels_last_is_one_fused_call_without_copies():
    conv_out = torch.randn(4, 8, 6, 6).contiguous(memory_format=torch.channels_last)
    x = conv_out.permute(0, 2, 3, 1).detach().requires_grad_()  # the NHWC activation a Keras model carries
    layer = L.BatchNormalization()
    layer(x, training=True)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        y = layer(x, training=True)
        torch.autograd.grad(y, [x, layer.gamma, layer.beta], torch.randn_like(y))
    names = [e.name for e in prof.events()]
    assert names.count("aten::batch_norm") == 1
    copies = [e for e in prof.events() if e.name in ("aten::copy_", "aten::contiguous", "aten::clone")
              and e.input_shapes and e.input_shapes[0] and int(np.prod(e.input_shapes[0])) > 8]
    assert copies == []
    assert y.is_contiguous()


def test_batchnorm_integer_input_cast_like_tf_keras():
    layer = L.BatchNormalization()
    y = layer(torch.tensor([[1, 2], [3, 4]], dtype=torch.int32), training=False)
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, torch.tensor([[1.0, 2.0], [3.0, 4.0]]) / np.sqrt(1 + 1e-3))


def test_batchnorm_refuses_what_it_does_not_implement():
    for kwargs in (dict(renorm=True), dict(virtual_batch_size=2), dict(adjustment=lambda s: s)):
        with pytest.raises(ValueError, match="not supported by kerastorch"):
            L.BatchNormalization(**kwargs)


# ----- LayerNormalization -----
@pytest.mark.parametrize("axis, shape", [(-1, (2, 3, 4)), ([1, 2], (2, 3, 4)), ([1], (2, 3, 4)), ([1, 3], (2, 3, 2, 4)),
                                         ([-1, -2], (2, 3, 4)), (1, (3, 5))])
def test_layernorm_against_the_formula(axis, shape):
    x = torch.randn(shape, dtype=torch.float64) * 3 + 2
    layer = L.LayerNormalization(axis=axis, dtype="float64", gamma_initializer="random_normal",
                                 beta_initializer="random_normal")
    y = layer(x)
    axes = sorted(a % len(shape) for a in ([axis] if isinstance(axis, int) else axis))
    mean, var = x.mean(tuple(axes), keepdim=True), x.var(tuple(axes), keepdim=True, correction=0)
    bshape = [shape[i] if i in axes else 1 for i in range(len(shape))]
    # tf.keras lays the weights over the input by a reshape of their (given-order) shape
    gamma, beta = (torch.from_numpy(w).reshape(bshape) for w in layer.get_weights())
    torch.testing.assert_close(y, (x - mean) / torch.sqrt(var + 1e-3) * gamma + beta)


def test_layernorm_convnet_channels_last_normalizes_each_position():
    x = torch.randn(3, 4, 4, 8) * 5 + 3
    y = L.LayerNormalization(axis=-1)(x)
    torch.testing.assert_close(y.mean(-1), torch.zeros(3, 4, 4), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(-1, correction=0), torch.full((3, 4, 4), 1.0), atol=2e-3, rtol=0)


def test_layernorm_weights_from_a_file_before_the_first_call():
    """Weights set before any call keep the negative axis free: the layer still normalizes the last axis of
    a rank-4 input (the rank guessed from the weights is not fixed)."""
    layer = L.LayerNormalization()
    layer.set_weights([np.full(4, 2.0, np.float32), np.zeros(4, np.float32)])
    y = layer(torch.randn(2, 3, 5, 4))
    assert y.shape == (2, 3, 5, 4) and layer.axis == [3]


# ----- GroupNormalization -----
def test_groupnorm_one_group_is_layernorm_over_the_other_axes():
    x = torch.randn(2, 5, 6, dtype=torch.float64)
    y = L.GroupNormalization(groups=1, dtype="float64")(x)
    y_ln = L.LayerNormalization(axis=[1, 2], dtype="float64")(x)
    torch.testing.assert_close(y, y_ln)


def test_groupnorm_groups_equal_channels_is_instance_norm():
    x = torch.randn(2, 5, 6, dtype=torch.float64)
    y = L.GroupNormalization(groups=-1, dtype="float64")(x)
    torch.testing.assert_close(y, (x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, keepdim=True, correction=0) + 1e-3))


@pytest.mark.parametrize("axis, shape", [(-1, (2, 4, 4, 6)), (1, (2, 6, 4, 4)), (2, (2, 3, 6, 2))])
def test_groupnorm_against_the_formula(axis, shape):
    x = torch.randn(shape, dtype=torch.float64)
    y = L.GroupNormalization(groups=3, axis=axis, dtype="float64")(x)
    moved = x.movedim(axis, -1)
    g = moved.reshape(*moved.shape[:-1], 3, 2)
    dims = tuple(range(1, moved.dim() - 1)) + (moved.dim(),)
    mean, var = g.mean(dims, keepdim=True), g.var(dims, keepdim=True, correction=0)
    expected = ((g - mean) / torch.sqrt(var + 1e-3)).reshape(moved.shape).movedim(-1, axis)
    torch.testing.assert_close(y, expected)


def test_groupnorm_frozen_input_with_trainable_weights():
    """torch 2.13's CPU channels_last group_norm backward crashes when the input needs no gradient but a weight
    does: kerastorch takes its general path there (a first layer on data)."""
    layer = L.GroupNormalization(groups=2)
    x = torch.randn(2, 3, 3, 4)
    layer(x).sum().backward()
    assert layer.gamma.grad is not None and layer.beta.grad is not None


# ----- UnitNormalization -----
@pytest.mark.parametrize("axis", [-1, 1, [1, 2], (1, 3)])
def test_unit_normalization_has_unit_norm(axis):
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    y = L.UnitNormalization(axis=axis)(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    torch.testing.assert_close(torch.sqrt((y * y).sum(axes)), torch.ones_like((y * y).sum(axes)))


def test_unit_normalization_zero_vector_and_ints():
    y = L.UnitNormalization()(torch.zeros(2, 3))
    assert torch.equal(y, torch.zeros(2, 3))  # tf.linalg.l2_normalize's 1e-12 floor: no NaN
    z = L.UnitNormalization()(torch.tensor([[3, 4]], dtype=torch.int32))  # tf.keras casts to float32
    assert z.dtype == torch.float32 and z.tolist() == [[0.6000000238418579, 0.800000011920929]]

"""Conv2D as a torch module and as a Keras layer: lazy build, weights API, losses, constraints."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import kerastorch as kt
from kerastorch import config, constraints, regularizers
from kerastorch.layers import Conv2D
from kt_testing import assert_close


def test_unbuilt_layer_is_a_torch_lazy_module():
    layer = Conv2D(4, 3)
    assert isinstance(layer, torch.nn.modules.lazy.LazyModuleMixin)
    assert not layer.built and layer.has_uninitialized_params()
    assert list(layer.state_dict()) == ["kernel", "bias"]
    # an optimizer can be made before the first call; it keeps the same (materialized) tensors
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    y = layer(torch.randn(2, 6, 6, 3))
    assert layer.built and not layer.has_uninitialized_params()
    assert opt.param_groups[0]["params"][0] is layer.kernel
    y.sum().backward()
    before = layer.kernel.detach().clone()
    opt.step()
    assert not torch.equal(before, layer.kernel)
    # built: no lazy hooks left on the hot path
    assert not layer._forward_pre_hooks and not hasattr(layer, "_initialize_hook")


def test_input_shape_builds_at_construction():
    layer = Conv2D(5, (2, 3), input_shape=(7, 9, 4))
    assert layer.built and tuple(layer.keras_weight("kernel").shape) == (2, 3, 4, 5) and tuple(layer.bias.shape) == (5,)
    torch.optim.Adam(layer.parameters())  # usable right away


def test_build_explicit_with_none_dims():
    layer = Conv2D(3, 3, data_format="channels_first")
    layer.build((None, 6, None, None))
    assert tuple(layer.keras_weight("kernel").shape) == (3, 3, 6, 3)
    assert layer.compute_output_shape((None, 6, None, 10)) == (None, 3, None, 8)
    assert layer(torch.randn(2, 6, 5, 5)).shape == (2, 3, 3, 3)


def test_load_state_dict_into_unbuilt_layer_builds_it():
    src = Conv2D(6, 3, groups=2, input_shape=(8, 8, 4))
    dst = Conv2D(6, 3, groups=2)
    dst.load_state_dict(src.state_dict())
    assert dst.built
    x = torch.randn(2, 8, 8, 4)
    assert_close(dst(x), src(x))


def test_load_state_dict_with_mismatched_kernel_reports_error():
    src = Conv2D(6, 5, input_shape=(8, 8, 4))
    dst = Conv2D(6, 3)
    with pytest.raises(RuntimeError, match="does not match the layer configuration"):
        dst.load_state_dict(src.state_dict())


def test_kernel_and_bias_have_keras_shapes_and_layout():
    layer = Conv2D(8, (3, 2), groups=2, use_bias=False, input_shape=(5, 5, 6))
    assert tuple(layer.keras_weight("kernel").shape) == (3, 2, 3, 8)
    assert layer.bias is None
    assert [w.shape for w in layer.get_weights()] == [(3, 2, 3, 8)]
    # The parameter is contiguous in the order the torch kernel reads it: (out, kh, kw, in) for
    # channels_last, whose (out, in, kh, kw) view is channels_last-contiguous (no copy per call) ...
    assert layer.kernel.is_contiguous() and tuple(layer.kernel.shape) == (8, 3, 2, 3)
    assert layer.kernel.permute(0, 3, 1, 2).is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(layer.keras_weight("kernel"), layer.kernel.permute(1, 2, 3, 0))
    # ... and torch's own (out, in, kh, kw) for channels_first.
    cf = Conv2D(8, 3, data_format="channels_first", input_shape=(6, 5, 5))
    assert cf.kernel.is_contiguous() and tuple(cf.kernel.shape) == (8, 6, 3, 3)
    assert torch.equal(cf.keras_weight("kernel"), cf.kernel.permute(2, 3, 1, 0))


def test_set_weights_validates_everything_before_copying():
    layer = Conv2D(4, 3, input_shape=(6, 6, 2))
    before = [w.copy() for w in layer.get_weights()]
    with pytest.raises(ValueError, match="expecting 2 weights"):
        layer.set_weights([before[0]])
    with pytest.raises(ValueError, match=r"weight shape \(4,\) is not compatible with provided weight shape \(5,\)"):
        layer.set_weights([before[0] + 1, np.zeros(5, np.float32)])
    for old, new in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(old, new)
    new = [np.full_like(before[0], 0.5), np.arange(4, dtype=np.float32)]
    layer.set_weights(new)
    for a, b in zip(layer.get_weights(), new):
        np.testing.assert_array_equal(a, b)


def test_set_weights_on_unbuilt_layer_builds_from_shapes():
    layer = Conv2D(4, 3)
    layer.set_weights([np.ones((3, 3, 5, 4), np.float32), np.zeros(4, np.float32)])
    assert layer.built and layer(torch.randn(1, 4, 4, 5)).shape == (1, 2, 2, 4)


def test_failed_set_weights_leaves_unbuilt_layer_unbuilt():
    layer = Conv2D(4, 3)
    with pytest.raises(ValueError, match=r"weight shape \(4,\) is not compatible with provided weight shape \(5,\)"):
        layer.set_weights([np.ones((3, 3, 2, 4), np.float32), np.zeros(5, np.float32)])
    assert not layer.built and layer.has_uninitialized_params()


def test_weights_kwarg_sets_initial_weights():
    w = [np.ones((1, 1, 2, 3), np.float32), np.full(3, 2.0, np.float32)]
    layer = Conv2D(3, 1, input_shape=(4, 4, 2), weights=w)
    assert_close(layer(torch.ones(1, 4, 4, 2)), torch.full((1, 4, 4, 3), 4.0))


def test_trainable_and_requires_grad_built_and_unbuilt():
    for build in (False, True):
        layer = Conv2D(2, 3, trainable=False, input_shape=(5, 5, 1) if build else None)
        layer(torch.randn(1, 5, 5, 1))
        assert not layer.kernel.requires_grad and layer.trainable is False
        assert layer.get_config()["trainable"] is False
        layer.trainable = True
        assert layer.kernel.requires_grad and layer.bias.requires_grad
        fresh = Conv2D(2, 3, input_shape=(5, 5, 1) if build else None)
        fresh.requires_grad_(False)  # torch's own lazy modules refuse this before init
        fresh(torch.randn(1, 5, 5, 1))
        assert not fresh.kernel.requires_grad and fresh.trainable is False


def test_losses_order_and_activity_scaling():
    layer = Conv2D(
        3, 3, kernel_regularizer=regularizers.L2(0.1), bias_regularizer=regularizers.L1(0.2),
        activity_regularizer=regularizers.L1(0.01), bias_initializer="ones", input_shape=(5, 5, 2),
    )
    assert len(layer.losses) == 2  # no call yet: weight terms only
    x = torch.randn(4, 5, 5, 2)
    y = layer(x)
    activity, kernel, bias = layer.losses
    assert_close(activity, 0.01 * y.abs().sum() / 4)
    assert_close(kernel, 0.1 * layer.kernel.square().sum())
    assert_close(bias, 0.2 * layer.bias.abs().sum())
    layer(x[:2])  # the activity term is replaced at each call
    assert len(layer.losses) == 3
    assert kernel.requires_grad


def test_collect_losses_in_any_torch_tree():
    model = torch.nn.Sequential(
        Conv2D(4, 3, kernel_regularizer="l2", input_shape=(6, 6, 1)),
        torch.nn.Sequential(Conv2D(2, 3, activity_regularizer="l1")),
        torch.nn.Flatten(),
    )
    model(torch.randn(2, 6, 6, 1))
    losses = kt.collect_losses(model)
    assert len(losses) == 2
    assert_close(kt.regularization_loss(model), losses[0] + losses[1])
    assert kt.regularization_loss(torch.nn.Linear(2, 2)).item() == 0.0


def test_constraints_applied_after_each_optimizer_step():
    layer = Conv2D(3, 3, kernel_constraint=constraints.MaxNorm(0.1, axis=[0, 1, 2]), bias_constraint="non_neg",
                   bias_initializer="ones", input_shape=(5, 5, 2))
    opt = torch.optim.SGD(layer.parameters(), lr=1.0)
    handle = kt.attach_constraints(opt, layer)
    (layer(torch.randn(2, 5, 5, 2)).sum() * 10).backward()
    opt.step()
    norms = layer.keras_weight("kernel").detach().square().sum(dim=(0, 1, 2)).sqrt()
    assert (norms <= 0.1 + 1e-6).all()
    assert (layer.bias >= 0).all()
    handle.remove()
    opt.zero_grad()
    (layer(torch.randn(2, 5, 5, 2)).sum() * 100).backward()
    opt.step()
    assert (layer.keras_weight("kernel").detach().square().sum(dim=(0, 1, 2)).sqrt() > 0.1 + 1e-3).any()


def test_apply_constraints_skips_frozen_layers():
    layer = Conv2D(2, 1, kernel_constraint="non_neg", kernel_initializer="random_normal", trainable=False, input_shape=(2, 2, 3))
    before = layer.kernel.detach().clone()
    kt.apply_constraints(layer)  # Keras only constrains variables its optimizer updates
    assert torch.equal(before, layer.kernel)
    layer.trainable = True
    kt.apply_constraints(layer)
    assert (layer.kernel >= 0).all()


def test_repr_shows_keras_configuration():
    layer = Conv2D(8, 3, strides=2, padding="same", groups=2, activation="relu", kernel_regularizer="l2", name="stem")
    text = repr(layer)
    for part in ("Conv2D(", "name='stem'", "filters=8", "kernel_size=(3, 3)", "strides=(2, 2)", "padding='same'",
                 "groups=2", "activation='relu'", "kernel_regularizer=L2(", "built=False"):
        assert part in text, part
    layer.build((None, 8, 8, 4))
    assert "input_channels=4" in repr(layer)


def test_names_are_keras_like_and_never_in_state_dict_keys():
    a, b = Conv2D(1, 1), Conv2D(1, 1)
    assert (a.name, b.name) == ("conv2d", "conv2d_1")
    model_a = torch.nn.Sequential(Conv2D(2, 1, input_shape=(3, 3, 1)))
    model_b = torch.nn.Sequential(Conv2D(2, 1, input_shape=(3, 3, 1)))
    assert list(model_a.state_dict()) == list(model_b.state_dict()) == ["0.kernel", "0.bias"]


def test_data_format_default_follows_config_and_keras_json(tmp_path, monkeypatch):
    assert Conv2D(1, 1).data_format == "channels_last"
    try:
        kt.set_image_data_format("channels_first")
        assert Conv2D(1, 1).data_format == "channels_first"
        with pytest.raises(ValueError, match="data_format"):
            kt.set_image_data_format("nchw")
    finally:
        kt.set_image_data_format("channels_last")
    (tmp_path / "keras.json").write_text(json.dumps({"image_data_format": "channels_first", "epsilon": 1e-5}))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    try:
        config.reload()
        assert config.image_data_format() == "channels_first" and config.epsilon() == 1e-5
        assert Conv2D(1, 1).data_format == "channels_first"
    finally:
        monkeypatch.delenv("KERAS_HOME")
        config.reload()
    assert config.image_data_format() == "channels_last"


def test_extra_batch_dims_are_folded_like_tf_keras():
    layer = Conv2D(3, 3, padding="same", input_shape=(5, 5, 2))
    x = torch.randn(2, 4, 5, 5, 2)
    y = layer(x)
    assert y.shape == (2, 4, 5, 5, 3)
    assert_close(y[1, 2], layer(x[1, 2:3])[0])
    assert layer.compute_output_shape((2, 4, 5, 5, 2)) == (2, 4, 5, 5, 3)


def test_float64_and_mixed_dtype_policies():
    layer = Conv2D(2, 3, dtype="float64", input_shape=(5, 5, 1))
    assert layer.kernel.dtype == torch.float64 and layer.get_config()["dtype"] == "float64"
    assert layer(torch.randn(1, 5, 5, 1)).dtype == torch.float64  # float32 input cast like Keras autocast
    mixed = Conv2D(2, 3, dtype="mixed_bfloat16", input_shape=(5, 5, 1))
    assert mixed.kernel.dtype == torch.float32
    out = mixed(torch.randn(1, 5, 5, 1))
    assert out.dtype == torch.bfloat16
    assert mixed.get_config()["dtype"]["config"]["name"] == "mixed_bfloat16"


def test_module_to_dtype_is_followed_by_compute_and_config():
    layer = Conv2D(2, 3, input_shape=(5, 5, 1)).to(torch.float64)
    assert layer(torch.randn(1, 5, 5, 1, dtype=torch.float64)).dtype == torch.float64
    assert layer.get_config()["dtype"] == "float64"


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        (dict(filters=2, kernel_size=(3, 2), strides=(2, 1), padding="same"), (1, 5, 4, 2)),
        (dict(filters=2, kernel_size=2, dilation_rate=(2, 1), padding="same", groups=2), (1, 4, 3, 2)),
        (dict(filters=2, kernel_size=(2, 3), strides=3, padding="valid", data_format="channels_first"), (2, 2, 5, 6)),
        (dict(filters=2, kernel_size=4, strides=2, padding="same", activation="tanh"), (1, 5, 5, 2)),
    ],
)
def test_gradcheck_float64(kwargs, shape):
    layer = Conv2D(**kwargs, dtype="float64", bias_initializer="random_normal")
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    layer(x)

    def fn(inp, kernel, bias):
        return torch.func.functional_call(layer, {"kernel": kernel, "bias": bias}, (inp,))

    assert torch.autograd.gradcheck(fn, (x, layer.kernel.detach().clone().requires_grad_(), layer.bias.detach().clone().requires_grad_()))


def test_same_padding_matches_explicit_tf_split():
    # stride 2, even input, odd kernel: TF pads 0 before and 1 after
    layer = Conv2D(1, 3, strides=2, padding="same", use_bias=False, kernel_initializer="ones", input_shape=(4, 4, 1))
    x = torch.arange(16.0).reshape(1, 4, 4, 1)
    ref = F.conv2d(F.pad(x.permute(0, 3, 1, 2), (0, 1, 0, 1)), torch.ones(1, 1, 3, 3), stride=2).permute(0, 2, 3, 1)
    assert_close(layer(x), ref)


def test_non_tensor_and_integer_inputs_are_value_errors():
    layer = Conv2D(1, 1, input_shape=(2, 2, 1))
    # NumPy arrays are taken as Keras takes them (README, "Models"); other non-tensors are refused
    assert torch.equal(layer(np.ones((1, 2, 2, 1), np.float32)), layer(torch.ones(1, 2, 2, 1)))
    with pytest.raises(ValueError, match="expects a torch.Tensor"):
        layer([[1.0, 2.0]])
    with pytest.raises(ValueError, match="floating-point input"):
        layer(torch.ones(1, 2, 2, 1, dtype=torch.int64))


def test_unknown_kwarg_is_a_type_error_like_keras():
    with pytest.raises(TypeError, match="Keyword argument not understood"):
        Conv2D(1, 1, foo=1)

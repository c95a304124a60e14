"""Conv2D behaves like any torch.nn.Module under torch's module protocol, built or not.

Mixed precision (``torch.autocast``), layer dtypes, ``copy.deepcopy``, ``pickle``, ``module.to``,
``torch.func.functional_call``, ``requires_grad_`` / ``trainable``, ``state_dict`` /
``load_state_dict``. Every operation is checked on a built layer and on an unbuilt (lazy) one:
for an unbuilt layer, the first call after the operation must build it and work.
"""
from __future__ import annotations

import copy
import pickle

import pytest
import torch
from kt_testing import assert_close, keras_grad
import torch.nn.functional as F
from torch.nn.parameter import is_lazy

import kerastorch as kt
from kerastorch.layers import Conv2D

SHAPE = (2, 6, 6, 3)  # NHWC
BUILT = pytest.mark.parametrize("built", [False, True], ids=["unbuilt", "built"])
# bfloat16 has an 8-bit mantissa: compare bf16 results at its resolution
BF16_TOL = dict(atol=2e-2)  # kt_testing's bfloat16 rtol; outputs near 0 need the absolute slack


def _x(dtype=torch.float32, batch=SHAPE[0]):
    return torch.randn(batch, *SHAPE[1:], dtype=dtype)


def _layer(built: bool, **kwargs) -> Conv2D:
    kwargs.setdefault("filters", 4)
    kwargs.setdefault("kernel_size", 3)
    if built:
        kwargs["input_shape"] = SHAPE[1:]
    return Conv2D(**kwargs)


def _params(layer):
    return [layer.kernel, layer.bias]


def _torch_conv_nhwc(x, kernel, bias, padding=1):
    """Reference: torch's own conv on NCHW, with the Keras (kh, kw, in, out) kernel."""
    return F.conv2d(x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), bias, padding=padding).permute(0, 2, 3, 1)


def _assert_freshly_built(layer, dtype=torch.float32, requires_grad=True):
    assert layer.built and not layer.has_uninitialized_params()
    for p in _params(layer):
        assert not is_lazy(p) and p.dtype == dtype and p.requires_grad is requires_grad


# ----- mixed precision -----
@BUILT
@pytest.mark.parametrize("input_dtype", [torch.float32, torch.bfloat16])
def test_autocast_bfloat16_like_torch_conv(built, input_dtype):
    layer = _layer(built, padding="same", activation="relu")
    x = _x(input_dtype)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = layer(x)
        # torch's own conv on the same (float32) parameters under the same autocast
        kernel = layer.keras_weight("kernel").detach().clone().requires_grad_()
        bias = layer.bias.detach().clone().requires_grad_()
        ref = torch.relu(_torch_conv_nhwc(x, kernel, bias))
    _assert_freshly_built(layer)  # built under autocast: variables stay float32
    assert ref.dtype == torch.bfloat16
    assert y.dtype == ref.dtype and y.shape == ref.shape
    assert_close(y, ref, **BF16_TOL)

    g = torch.randn(y.shape)
    (y.float() * g).sum().backward()
    (ref.float() * g).sum().backward()
    for p, ref_p in zip(_params(layer), (kernel, bias)):
        assert p.dtype == torch.float32 and p.grad is not None and p.grad.dtype == torch.float32
    for name, ref_p in (("kernel", kernel), ("bias", bias)):
        assert_close(keras_grad(layer, name), ref_p.grad, rtol=2e-2, atol=5e-2)


@BUILT
def test_autocast_activity_regularizer_and_losses(built):
    layer = _layer(built, padding="same", activity_regularizer="l2", kernel_regularizer="l2")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = layer(_x())
    loss = y.float().square().mean() + kt.regularization_loss(layer).float()
    loss.backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in _params(layer))
    assert len(layer.losses) == 2 and torch.isfinite(torch.stack([l.float() for l in layer.losses])).all()


# ----- layer dtypes -----
@BUILT
@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16], ids=["float64", "bfloat16"])
def test_layer_dtype_is_honoured(built, dtype):
    name = str(dtype).replace("torch.", "")
    layer = _layer(built, dtype=name, padding="same")
    if built:
        _assert_freshly_built(layer, dtype)
    else:
        assert all(is_lazy(p) and p.dtype == dtype for p in _params(layer))
    x = _x()
    y = layer(x)  # float32 input is cast to the layer's compute dtype, as Keras autocasts inputs
    _assert_freshly_built(layer, dtype)
    assert y.dtype == dtype and layer.dtype == name and layer.compute_dtype == dtype
    assert layer.get_config()["dtype"] == name
    ref = _torch_conv_nhwc(x.double(), layer.keras_weight("kernel").double(), layer.bias.double())
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == torch.float64 else BF16_TOL
    assert_close(y.double(), ref, **tol)
    y.double().sum().backward()
    assert keras_grad(layer, "kernel").dtype == dtype


# ----- copy.deepcopy -----
@BUILT
def test_deepcopy(built):
    layer = _layer(built, padding="same", dtype="float64")
    clone = copy.deepcopy(layer)
    x = _x()
    if not built:
        y_clone = clone(x)  # builds the copy only
        _assert_freshly_built(clone, torch.float64)
        assert not layer.built and all(is_lazy(p) for p in _params(layer))
        assert layer.has_uninitialized_params()
        layer(x)  # the original still builds on its own first call, with its own tensors
        _assert_freshly_built(layer, torch.float64)
        assert layer.kernel is not clone.kernel
        assert_close(clone(x), y_clone)
    else:
        _assert_freshly_built(clone, torch.float64)
        for p, q in zip(_params(layer), _params(clone)):
            assert p is not q and p.data_ptr() != q.data_ptr()
            assert_close(p, q, rtol=0, atol=0)
            assert p.stride() == q.stride()  # the channels_last-friendly kernel layout survives
        assert_close(clone(x), layer(x), rtol=0, atol=0)
    with torch.no_grad():
        clone.kernel.add_(1.0)
    assert not torch.equal(clone(x), layer(x))  # no shared storage
    assert clone.get_config() == layer.get_config()


# ----- pickle -----
@BUILT
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
def test_pickle_round_trip(built, dtype):
    layer = _layer(built, padding="same", dtype=dtype, activation="tanh")
    restored = pickle.loads(pickle.dumps(layer))
    assert type(restored) is Conv2D and restored.get_config() == layer.get_config()
    x = _x()
    if not built:
        assert not restored.built and restored.has_uninitialized_params()
        restored(x)  # the first call builds the unpickled layer, with the layer's dtype
        _assert_freshly_built(restored, getattr(torch, dtype))
        assert not layer.built
    else:
        _assert_freshly_built(restored, getattr(torch, dtype))
        assert_close(restored(x), layer(x), rtol=0, atol=0)
        assert restored.kernel.stride() == layer.kernel.stride()
    restored(x).float().sum().backward()
    assert keras_grad(restored, "kernel") is not None


@BUILT
def test_pickle_keeps_requires_grad_and_module_dtype(built):
    layer = _layer(built).to(torch.float64).requires_grad_(False)
    restored = pickle.loads(pickle.dumps(layer))
    y = restored(_x())
    _assert_freshly_built(restored, torch.float64, requires_grad=False)
    assert y.dtype == torch.float64 and restored.trainable is False


def test_pickle_after_a_training_call_with_activity_loss():
    layer = _layer(True, activity_regularizer="l1")
    layer(_x())  # leaves a graph-attached activity loss on the layer
    restored = pickle.loads(pickle.dumps(layer))
    assert restored(_x()).shape == layer(_x()).shape
    assert len(restored.losses) == 1 and restored.losses[0].grad_fn is not None


# ----- module.to(dtype) -----
@BUILT
def test_module_to_dtype(built):
    layer = _layer(built, padding="same")
    strides = layer.kernel.stride() if built else None
    layer.to(torch.float64)
    x = _x(torch.float64)
    y = layer(x)
    _assert_freshly_built(layer, torch.float64)
    assert y.dtype == torch.float64 and layer.dtype == "float64"
    if built:
        assert layer.kernel.stride() == strides  # .to() keeps the kernel's memory layout
    assert_close(y, _torch_conv_nhwc(x, layer.keras_weight("kernel"), layer.bias), rtol=1e-12, atol=1e-12)
    layer.to(torch.float32)
    assert layer(_x()).dtype == torch.float32 and layer.dtype == "float32"


@BUILT
def test_module_half_and_bfloat16_methods(built):
    layer = _layer(built).bfloat16()
    y = layer(_x())
    _assert_freshly_built(layer, torch.bfloat16)
    assert y.dtype == torch.bfloat16


# ----- torch.func.functional_call -----
@BUILT
def test_functional_call(built):
    layer = _layer(built, padding="same")
    own = None if not built else [p.detach().clone() for p in _params(layer)]
    kernel, bias = torch.randn(3, 3, 3, 4), torch.randn(4)  # Keras layout
    stored = kernel.permute(3, 0, 1, 2).contiguous()  # what the state_dict holds: (out, kh, kw, in)
    given = {"kernel": stored.clone(), "bias": bias.clone()}
    x = _x()
    y = torch.func.functional_call(layer, given, (x,))
    # the supplied tensors are used, and left untouched
    assert_close(y, _torch_conv_nhwc(x, kernel, bias))
    assert_close(given["kernel"], stored, rtol=0, atol=0)
    assert_close(given["bias"], bias, rtol=0, atol=0)
    if built:
        for p, before in zip(_params(layer), own):
            assert_close(p, before, rtol=0, atol=0)
    # the layer itself is still usable: an unbuilt one builds on its first ordinary call
    y_own = layer(x)
    _assert_freshly_built(layer)
    assert_close(y_own, _torch_conv_nhwc(x, layer.keras_weight("kernel"), layer.bias))

    # gradients with respect to the supplied parameters (torch.func.grad)
    def loss(params):
        return torch.func.functional_call(layer, params, (x,)).square().sum()

    grads = torch.func.grad(loss)({"kernel": stored, "bias": bias})
    k_ref, b_ref = kernel.clone().requires_grad_(), bias.clone().requires_grad_()
    _torch_conv_nhwc(x, k_ref, b_ref).square().sum().backward()
    assert_close(grads["kernel"].permute(1, 2, 3, 0), k_ref.grad)
    assert_close(grads["bias"], b_ref.grad)


# ----- requires_grad_ / trainable -----
@BUILT
def test_requires_grad_false(built):
    layer = _layer(built)
    assert layer.requires_grad_(False) is layer
    y = layer(_x())
    _assert_freshly_built(layer, requires_grad=False)
    assert not y.requires_grad and layer.trainable is False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    layer.requires_grad_(True)
    assert layer.trainable is True and layer(_x()).requires_grad


@BUILT
@pytest.mark.parametrize("how", ["constructor", "setter"])
def test_trainable_false(built, how):
    layer = _layer(built, trainable=False) if how == "constructor" else _layer(built)
    if how == "setter":
        layer.trainable = False
    y = layer(_x())
    _assert_freshly_built(layer, requires_grad=False)
    assert not y.requires_grad and layer.trainable is False and layer.get_config()["trainable"] is False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    layer.trainable = True
    assert len(layer.trainable_weights) == 2 and layer(_x()).requires_grad


# ----- state_dict / load_state_dict -----
class _Net(torch.nn.Module):
    def __init__(self, built: bool):
        super().__init__()
        shape = dict(input_shape=SHAPE[1:]) if built else {}
        self.stem = Conv2D(4, 3, strides=2, padding="same", activation="relu", **shape)
        self.body = torch.nn.Sequential(
            Conv2D(4, 3, padding="same", groups=2, **(dict(input_shape=(3, 3, 4)) if built else {})),
            Conv2D(2, 1, use_bias=False, **(dict(input_shape=(3, 3, 4)) if built else {})),
        )
        self.head = Conv2D(5, 2, data_format="channels_first", **(dict(input_shape=(2, 3, 3)) if built else {}))

    def forward(self, x):
        return self.head(self.body(self.stem(x)).permute(0, 3, 1, 2))


EXPECTED_KEYS = ["stem.kernel", "stem.bias", "body.0.kernel", "body.0.bias", "body.1.kernel", "head.kernel", "head.bias"]


def test_state_dict_keys_stable_across_instances():
    nets = [_Net(built=b) for b in (True, False, True)]  # later instances get layer names conv2d_4, ...
    assert nets[0].stem.name != nets[2].stem.name
    for net in nets:
        assert list(net.state_dict()) == EXPECTED_KEYS
    nets[1](_x())
    assert list(nets[1].state_dict()) == EXPECTED_KEYS
    kt.clear_session()
    assert list(_Net(built=True).state_dict()) == EXPECTED_KEYS


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_load_state_dict_into_unbuilt_model(dtype):
    src = _Net(built=True)
    dst = _Net(built=False)
    if dtype == "float64":
        dst.double()
    result = dst.load_state_dict(src.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    native = _Net(built=True)
    for name, module in dst.named_modules():
        if isinstance(module, Conv2D):
            assert module.built and not module.has_uninitialized_params()
            assert module.kernel.dtype == getattr(torch, dtype)
            # same memory layout as a layer built by a forward call
            assert module.kernel.stride() == native.get_submodule(name).kernel.stride()
    x = _x(getattr(torch, dtype))
    assert_close(dst(x), src.to(x.dtype)(x))
    # and it trains
    dst(x).sum().backward()
    assert all(p.grad is not None for p in dst.parameters())


# ----- activity losses through copies -----
def test_activity_losses_after_deepcopy():
    layer = _layer(True, activity_regularizer="l2", kernel_regularizer="l1")
    x = _x()
    layer(x)  # a training call: the activity loss is attached to this call's graph
    clone = copy.deepcopy(layer)
    # the copy reports the same losses, but never reaches into the original's graph
    assert len(clone.losses) == len(layer.losses) == 2
    for a, b in zip(clone.losses, layer.losses):
        assert_close(a.detach(), b.detach())
    assert clone.losses[0].grad_fn is None
    # a call on the copy records the copy's own activity loss, whose gradient reaches only the copy
    x2 = _x(batch=3)
    clone(x2)
    kt.regularization_loss(clone).backward()
    assert clone.kernel.grad is not None and layer.kernel.grad is None
    expected = 0.01 * layer(x2).square().sum() / 3
    assert_close(clone.losses[0], expected)


def test_activity_losses_after_deepcopy_of_unbuilt_layer():
    layer = _layer(False, activity_regularizer="l2")
    clone = copy.deepcopy(layer)
    assert clone.losses == [] and layer.losses == []
    y = clone(_x())
    assert len(clone.losses) == 1 and layer.losses == []
    assert_close(clone.losses[0], 0.01 * y.square().sum() / SHAPE[0])

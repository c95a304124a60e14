"""Flatten's channels-last order against a real tf.keras model, and the reshaping layers' zero-copy views.

* ``compat_fixtures/flatten_model.json`` (recorded by gen/reshaping.py): tf.keras Conv2D -> Flatten -> Dense,
  and Conv2D -> Permute -> Flatten(channels_first) -> Dense, with their Keras weights. Built from tf.keras's own
  layer configs and given those weights unchanged, kerastorch computes tf.keras's output: Flatten's order is
  Keras's (NHWC), so a Keras Dense kernel after it needs no row reordering.
* Flatten, Reshape, Permute and RepeatVector return views of their input (no copy in forward or backward):
  checked by storage and with the profiler, as the layer contract does.
"""
from __future__ import annotations

import pytest
import torch
from torch.profiler import ProfilerActivity, profile

import kerastorch.layers as L
from kt_testing import assert_close, load_json, load_tensors

COPY_OPS = {"aten::copy_", "aten::contiguous", "aten::clone", "aten::_to_copy"}
MODEL = load_json("flatten_model.json")


@pytest.mark.parametrize("record", MODEL, ids=lambda r: r["id"])
def test_flatten_model_takes_keras_weights_unchanged(record):
    T = load_tensors("flatten_model_tensors.safetensors")
    key = record["id"]
    layers = [getattr(L, {"conv": "Conv2D", "to_nchw": "Permute", "flatten": "Flatten", "dense": "Dense"}[c["name"]])
              .from_config(c) for c in record["layers"]]
    model = torch.nn.Sequential(*layers)
    x = T[f"{key}.input"]
    model(x)  # build
    by_name = {layer.name: layer for layer in layers}
    by_name["conv"].set_weights([T[f"{key}.conv.kernel"], T[f"{key}.conv.bias"]])
    by_name["dense"].set_weights([T[f"{key}.dense.kernel"], T[f"{key}.dense.bias"]])
    y = model(x)
    assert list(y.shape) == record["output_shape"]
    assert_close(y, T[f"{key}.output"], rtol=1e-5)


def test_flatten_order_is_keras_not_torch():
    """The test above can fail: flattening NCHW (torch's order) gives another output for the same weights."""
    record = MODEL[0]
    T = load_tensors("flatten_model_tensors.safetensors")
    conv = L.Conv2D.from_config(record["layers"][0])
    conv(T["cl.input"])
    conv.set_weights([T["cl.conv.kernel"], T["cl.conv.bias"]])
    h = conv(T["cl.input"])
    torch_order = h.permute(0, 3, 1, 2).flatten(1) @ T["cl.dense.kernel"] + T["cl.dense.bias"]
    keras_order = L.Flatten()(h) @ T["cl.dense.kernel"] + T["cl.dense.bias"]
    assert_close(keras_order, T["cl.output"], rtol=1e-5)
    assert not torch.allclose(torch_order, T["cl.output"], atol=1e-3)


def _copies(fn, x: torch.Tensor) -> list[str]:
    """Copy ops run by ``fn(x)`` forward and backward (warm call first)."""
    fn(x.detach())
    x = x.detach().requires_grad_()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        y = fn(x)
        torch.autograd.grad(y, x, torch.ones_like(y))
    return [e.name for e in prof.events() if e.name in COPY_OPS]


VIEWS = [
    ("Flatten", lambda: L.Flatten(), torch.randn(2, 3, 4, 5)),
    ("Flatten-rank3", lambda: L.Flatten(), torch.randn(2, 3, 4)),
    # an NCHW tensor in torch's channels_last memory format (what a channels_first kerastorch Conv2D gives for
    # channels_last-memory input): moving the channels last is a view, so Flatten(channels_first) copies nothing
    ("Flatten-channels_first-on-channels_last-memory", lambda: L.Flatten(data_format="channels_first"),
     torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last)),
    ("Reshape", lambda: L.Reshape((4, -1)), torch.randn(2, 3, 4)),
    ("Reshape-flat", lambda: L.Reshape((24,)), torch.randn(2, 3, 4, 2)),
    ("Permute", lambda: L.Permute((2, 1)), torch.randn(2, 3, 4)),
    ("Permute-nhwc-to-nchw", lambda: L.Permute((3, 1, 2)), torch.randn(2, 3, 4, 5)),
    ("RepeatVector", lambda: L.RepeatVector(3), torch.randn(2, 4)),
]


@pytest.mark.parametrize("make,x", [v[1:] for v in VIEWS], ids=[v[0] for v in VIEWS])
def test_views_no_copies(make, x):
    layer = make()
    y = layer(x)
    assert y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr(), "the output is not a view of the input"
    assert _copies(layer, x) == []


def test_permute_to_channels_first_is_torch_channels_last():
    """Permute((3, 1, 2)) of an NHWC activation is an NCHW tensor in torch's channels_last memory format."""
    y = L.Permute((3, 1, 2))(torch.randn(2, 3, 4, 5))
    assert y.shape == (2, 5, 3, 4) and y.is_contiguous(memory_format=torch.channels_last)


def test_flatten_channels_first_contiguous_nchw_copies_like_tf_keras():
    """The test above can fail: a contiguous NCHW input must be transposed (tf.keras transposes too)."""
    assert _copies(L.Flatten(data_format="channels_first"), torch.randn(2, 3, 4, 5)) != []


def test_conv_channels_first_then_flatten_no_copy():
    x = torch.randn(2, 3, 6, 6).to(memory_format=torch.channels_last)
    conv = L.Conv2D(4, 3, data_format="channels_first")
    h = conv(x)
    assert _copies(L.Flatten(data_format="channels_first"), h) == []

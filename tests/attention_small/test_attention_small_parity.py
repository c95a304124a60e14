"""Attention, AdditiveAttention, RMSNormalization, SpectralNormalization and the adaptive poolings against the
cases recorded from real tf.keras 2.21 and Keras 3.15.1 (compat_fixtures/gen/attention_small.py): each layer is
rebuilt from the config Keras wrote, given Keras's weights, called with Keras's inputs, masks and call
arguments, and must give Keras's outputs, attention scores, output mask, input and weight gradients and
weights after the call (SpectralNormalization's power iteration)."""
from __future__ import annotations

import pytest
import torch

import kerastorch.layers as L
from kt_testing import assert_close, load_json, load_tensors

CASES = load_json("attention_small/cases.json")
ERRORS = load_json("attention_small/errors.json")


def tensors() -> dict[str, torch.Tensor]:
    return load_tensors("attention_small/tensors.safetensors")


def keras_names(layer) -> list[str]:
    """The layer's get_weights() order, by Keras weight name."""
    if isinstance(layer, L.SpectralNormalization):
        inner = layer.layer
        tr = [n for n in inner.weight_names if inner.weight_spec(n).trainable]
        nt = [n for n in inner.weight_names if not inner.weight_spec(n).trainable]
        return tr + ["vector_u"] + nt
    return list(layer.weight_names)


def param_grad(layer, name: str) -> torch.Tensor:
    owner = layer.layer if isinstance(layer, L.SpectralNormalization) and name != "vector_u" else layer
    spec = owner.weight_spec(name)
    return spec.to_keras(owner._stored(name).grad)


def keras_tensor(rec: dict, T: dict, kind: str, name: str) -> torch.Tensor:
    """A recorded weight-like tensor in its Keras shape (the fixture writer stores 0-d arrays as 1-d)."""
    shape = rec["weight_shapes"][rec["weight_names"].index(name)]
    return T[f"{rec['id']}.{kind}.{name}"].reshape(shape)


def run(rec: dict):
    T = tensors()
    cid = rec["id"]
    layer = getattr(L, rec["class"]).from_config(rec["config"])
    shapes = rec["input_shapes"]
    layer.build([tuple(s) for s in shapes] if rec["list_input"] else tuple(shapes[0]))
    names = keras_names(layer)
    assert sorted(names) == sorted(rec["weight_names"])
    if rec["keras"] == "tf_keras":
        assert names == rec["weight_names"]  # tf.keras's weight order
    layer.set_weights([keras_tensor(rec, T, "weight", n) for n in names])
    if rec["training"] is None:
        layer.eval()  # Keras's default call is inference
    xs = [T[f"{cid}.input.{i}"].clone().requires_grad_(True) for i in range(len(shapes))]
    kwargs = dict(rec["call_kwargs"])
    if rec["training"] is not None:
        kwargs["training"] = rec["training"]
    masks = None
    if rec["masks"] is not None:
        masks = [T[f"{cid}.mask.{i}"].bool() if on else None for i, on in enumerate(rec["masks"])]
        kwargs["mask"] = masks
    y = layer(xs if rec["list_input"] else xs[0], **kwargs)
    ys = list(y) if isinstance(y, tuple) else [y]
    return layer, xs, masks, ys, T


@pytest.mark.parametrize("rec", CASES, ids=lambda r: f"{r['id']}-{r['keras']}-{r['class']}")
def test_matches_keras(rec):
    layer, xs, masks, ys, T = run(rec)
    cid = rec["id"]
    assert len(ys) == rec["n_outputs"]
    for j, y in enumerate(ys):
        assert_close(y, T[f"{cid}.output.{j}"], msg=f"output {j}")
    if masks is not None:
        out_mask = layer.compute_mask(xs, masks)
        assert (out_mask is not None) == rec["output_mask"]
        if out_mask is not None:
            assert torch.equal(out_mask, T[f"{cid}.output_mask"].bool())
    loss = sum((y * T[f"{cid}.upstream.{j}"]).sum() for j, y in enumerate(ys))
    loss.backward()
    for i, x in enumerate(xs):
        assert_close(x.grad, T[f"{cid}.grad_input.{i}"], msg=f"input {i} gradient")
    for n, trainable in zip(rec["weight_names"], rec["weight_trainable"]):
        if trainable:
            assert_close(param_grad(layer, n), keras_tensor(rec, T, "grad", n), msg=f"gradient of {n}")
    for n, w in zip(keras_names(layer), layer.get_weights()):
        assert_close(torch.as_tensor(w), keras_tensor(rec, T, "after", n), msg=f"{n} after the call")


@pytest.mark.parametrize("rec", CASES, ids=lambda r: f"{r['id']}-{r['keras']}-{r['class']}")
def test_config_round_trip(rec):
    """Our config of a layer made from Keras's config holds Keras's values (Keras's own form for the dtype and
    the wrapped layer aside) and makes the same layer again."""
    layer = getattr(L, rec["class"]).from_config(rec["config"])
    ours = layer.get_config()
    for key, value in rec["config"].items():
        if key in ("dtype", "layer") or (key == "seed" and value is None):
            continue
        assert ours[key] == value, key
    again = type(layer).from_config(ours)
    assert again.get_config() == ours


@pytest.mark.parametrize("err", ERRORS, ids=lambda e: f"{e['id']}-{e['keras']}-{e['class']}")
def test_refused_as_keras_refuses(err):
    """What Keras refuses (its InvalidArgumentError / IndexError deep inside included) is a ValueError naming
    the layer here."""
    assert err["error_type"] is not None
    cls = getattr(L, err["class"])
    with pytest.raises(ValueError, match=err["class"]):
        if err["class"] == "SpectralNormalization":
            cls(L.Dense(2), **err["args"])
        else:
            layer = cls(**err["args"])
            shapes = err["input_shapes"]
            layer([torch.zeros(s) for s in shapes] if isinstance(shapes[0], list) else torch.zeros(shapes))

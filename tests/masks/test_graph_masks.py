"""Masks along Functional and Sequential graphs, against whole models saved by real tf.keras 2.21 / Keras 3.15.1.

``compat_fixtures/masks/`` (``gen/masks.py``): padded token batches (right, left and interior padding) through
``Embedding(mask_zero=True)`` / ``Masking`` text models, a token + position model (tf.keras ANDs the masks at
``Add``; Keras 3 drops the mask there), a shared embedding with ``Concatenate``/``Average``, a nested encoder
model, ``TimeDistributed``. Each file loads with ``load_model`` and gives the outputs of the library that wrote
it. Models built by hand with kerastorch's API carry masks the same way, nested models and shared layers
included, and ``torch.compile(fullgraph=True)`` traces the masked graph.
"""
from __future__ import annotations

import copy

import pytest
import torch

import kerastorch as kt
from kerastorch import layers as L
from kt_testing import FIXTURES, assert_close, load_json, load_tensors

MODELS = load_json("masks/masks.json")["models"]
T = load_tensors("masks/masks.safetensors")
FILES = [(rec, tag, name) for rec in MODELS for tag, name in rec["files"].items()]


def _inputs(rec):
    xs = [T[i["key"]] for i in rec["inputs"]]
    return xs if len(xs) > 1 else xs[0]


@pytest.mark.parametrize("rec,tag,name", FILES, ids=[n for _, _, n in FILES])
def test_masked_model_file_gives_keras_outputs(rec, tag, name):
    model = kt.models.load_model(FIXTURES / "masks" / name).eval()
    ref = T[f"{rec['id']}.{tag.split('_')[0]}.out"]
    with torch.no_grad():
        assert_close(model(_inputs(rec)), ref, kind="graph")


def _text_functional():
    inp = kt.models.Input((6,), dtype="int32", name="tokens")
    x = L.Embedding(20, 4, mask_zero=True, name="embed")(inp)
    x = L.GlobalAveragePooling1D(name="gap")(x)
    return kt.models.Model(inp, L.Dense(3, name="logits")(x))


def _text_sequential():
    return kt.models.Sequential([kt.models.Input((6,), dtype="int32"), L.Embedding(20, 4, mask_zero=True, name="embed"),
                                 L.Dense(5, activation="relu", name="hidden"), L.Dropout(0.3, name="drop"),
                                 L.GlobalAveragePooling1D(name="gap"), L.Dense(3, name="logits")])


@pytest.mark.parametrize("model_id,build", [("text_func", _text_functional), ("text_seq", _text_sequential)])
def test_hand_built_text_model_gives_keras_outputs(model_id, build):
    """Built with kerastorch's API, given the file's weights: tf.keras's outputs on the padded batch, and not the
    unmasked mean (the padding matters)."""
    rec = next(r for r in MODELS if r["id"] == model_id)
    model = build().eval()
    model.set_weights(kt.models.load_model(FIXTURES / "masks" / rec["files"]["tf_h5"]).get_weights())
    x = _inputs(rec)
    with torch.no_grad():
        y = model(x)
        assert_close(y, T[f"{model_id}.tf.out"], kind="graph")
        unmasked = model.get_layer("logits")(model.get_layer("embed")(x).mean(1)) if model_id == "text_func" else None
    if unmasked is not None:
        assert (unmasked - y).abs().max() > 1e-3


def test_nested_model_and_shared_layer_carry_masks():
    """A nested Functional passes its inner output mask out; a shared layer's two calls keep their own masks."""
    torch.manual_seed(0)
    tokens = torch.tensor([[3, 4, 0, 0], [5, 0, 0, 0]])
    other = torch.tensor([[1, 2, 3, 0], [0, 0, 7, 8]])
    inner_in = kt.models.Input((4,), dtype="int64")
    emb = L.Embedding(10, 3, mask_zero=True)
    inner = kt.models.Model(inner_in, L.Dense(3)(emb(inner_in)))
    a_in, b_in = kt.models.Input((4,), dtype="int64"), kt.models.Input((4,), dtype="int64")
    gap = L.GlobalAveragePooling1D()
    out = L.Concatenate()([gap(inner(a_in)), gap(inner(b_in))])
    model = kt.models.Model([a_in, b_in], out).eval()
    with torch.no_grad():
        y = model([tokens, other])
        h = inner(tokens), inner(other)
        ref = [(v * m[..., None]).sum(1) / m.sum(1, keepdim=True) for v, m in zip(h, (tokens != 0, other != 0))]
    assert_close(y, torch.cat(ref, 1))
    assert model.compute_mask([tokens, other], None) is None  # pooled: no mask left


def test_explicit_mask_call_and_no_mask_plan_without_sources():
    """``model(x, mask=m)`` feeds an input mask; a model without mask sources plans no mask work."""
    inp = kt.models.Input((5, 2))
    x = L.Dense(2)(inp)
    model = kt.models.Model(inp, L.GlobalAveragePooling1D()(x)).eval()
    assert model._no_mask_plan  # decided at construction: no mask work per call
    x0 = torch.randn(2, 5, 2)
    m = torch.tensor([[True, True, False, False, False], [True] * 5])
    with torch.no_grad():
        y = model(x0, mask=m)
        h = model.layers[1](x0)
    assert_close(y, torch.stack([h[0, :2].mean(0), h[1].mean(0)]))
    seq = kt.models.Sequential([kt.models.Input((5, 2)), L.Dense(2), L.GlobalAveragePooling1D()]).eval()
    assert seq._mask_plan(False)[0] is None
    seq.set_weights(model.get_weights())
    with torch.no_grad():
        assert_close(seq(x0, mask=m), y)


def test_compiled_masked_model_matches_eager():
    torch._dynamo.reset()
    try:
        model = _text_functional().eval()
        x = torch.tensor([[1, 2, 3, 0, 0, 0], [4, 0, 0, 0, 0, 0]])
        compiled = torch.compile(copy.deepcopy(model), fullgraph=True, backend="aot_eager")
        with torch.no_grad():
            assert_close(compiled(x), model(x))
    finally:
        torch._dynamo.reset()


def test_masked_model_exports_and_round_trips(tmp_path):
    """torch.export of a loaded masked text model computes the same; save_model -> load_model keeps its outputs."""
    rec = next(r for r in MODELS if r["id"] == "text_seq")
    model = kt.models.load_model(FIXTURES / "masks" / rec["files"]["tf_h5"]).eval()
    x = _inputs(rec)
    with torch.no_grad():
        y = model(x)
    assert_close(torch.export.export(model, (x,)).module()(x), y)
    for suffix in (".keras", ".safetensors"):
        path = tmp_path / f"m{suffix}"
        kt.models.save_model(model, path)
        with torch.no_grad():
            assert_close(kt.models.load_model(path).eval()(x), y)

"""Attention layers trained with a query row masked whole give Keras's gradients (compat_fixtures/gen/
attention_masked_rows.py, recorded with tf.GradientTape in tf.keras 2.21 and Keras 3.15.1): MultiHeadAttention
with an ``attention_mask`` row all False (tf.keras adds ``-1e9``, so gradient flows through the masked logits;
Keras 3 replaces them, so none reaches the query or key through that row; both give uniform weights there),
Attention / AdditiveAttention with a value mask all False for one batch item. Output, query, value and every
weight gradient, each library's flavour (a Keras 3 layer: ``seed`` given, as a Keras 3 config would)."""
from __future__ import annotations

import pytest
import torch

import kerastorch.layers as L
from kt_testing import DEVICE, assert_close, keras_grad, load_json, load_tensors

CASES = {c["id"]: c for c in load_json("attention/masked_rows.json")}
T = load_tensors("attention/masked_rows.safetensors")


def _layer(case, tag):
    kwargs = dict(case["kwargs"])
    if tag == "k3" and case["cls"] == "MultiHeadAttention":
        kwargs["seed"] = 1  # a Keras 3 argument: the layer follows Keras 3
    layer = getattr(L, case["cls"])(**kwargs)
    if tag == "k3":
        layer._keras3 = True
    return layer


@pytest.mark.parametrize("cid", list(CASES))
def test_fully_masked_row_gradients_match_keras(cid):
    case = CASES[cid]
    q0, v0, m = (T[f"{cid}.{n}"].to(DEVICE) for n in ("q", "v", "mask"))
    m = m.bool()
    for tag in ("tf", "k3"):
        layer = _layer(case, tag).to(DEVICE)
        q, v = q0.clone().requires_grad_(), v0.clone().requires_grad_()

        def call():
            if case["cls"] == "MultiHeadAttention":
                return layer(q, v, attention_mask=m)
            return layer([q, v], mask=[None, m])

        with torch.no_grad():
            call()
        layer.set_weights([T[f"{cid}.w{i}"].reshape(w.shape).numpy() for i, w in enumerate(layer.get_weights())])
        layer.train()
        y = call()
        (y * T[f"{cid}.r"].to(DEVICE)).sum().backward()
        assert_close(y, T[f"{cid}.{tag}.out"], msg=f"{cid} {tag} output")
        assert_close(q.grad, T[f"{cid}.{tag}.dq"], msg=f"{cid} {tag} query gradient")
        assert_close(v.grad, T[f"{cid}.{tag}.dv"], msg=f"{cid} {tag} value gradient")
        owners = [layer.query_dense, layer.key_dense, layer.value_dense, layer.output_dense] \
            if case["cls"] == "MultiHeadAttention" else [layer]  # Keras's weight order
        grads = [(f"{o.name}.{n}", keras_grad(o, n)) for o in owners for n in o.weight_names]
        assert len(grads) == sum(1 for k in T if k.startswith(f"{cid}.{tag}.dw"))
        for i, (name, g) in enumerate(grads):
            assert_close(g.reshape(-1), T[f"{cid}.{tag}.dw{i}"].reshape(-1), msg=f"{cid} {tag} {name}")

"""A cross-attention model whose query and value both carry masks (two Embedding(mask_zero=True) inputs into
MultiHeadAttention(query, value)), recorded from real tf.keras 2.21 and Keras 3.15.1 by
``compat_fixtures/gen/cross_attention.py``: the graph runner hands each tensor argument's mask to the layer's
``<argument>_mask`` parameter (Keras 3's ``Layer.__call__`` rule; tf.keras reads ``value._keras_mask``), so
padded source tokens are never attended to."""
from __future__ import annotations

import pytest
import torch

import kerastorch as kt
from kt_testing import FIXTURES, assert_close, load_json, load_tensors

DOC = load_json("attention/cross_attention.json")
T = load_tensors("attention/cross_attention.safetensors")
INPUTS = [T[f"input.{n}"] for n in DOC["inputs"]]


def _load(tag: str):
    model = kt.models.load_model(FIXTURES / "attention" / DOC["files"][tag])
    return model.eval()


@pytest.mark.parametrize("tag", sorted(DOC["files"]))
def test_value_mask_reaches_cross_attention(tag):
    out = _load(tag)(INPUTS)
    assert_close(out, T[f"{tag}.out"], msg=tag)
    # The fixture is such that ignoring the source mask gives another answer (Keras's own, recorded).
    assert not torch.allclose(T[f"{tag}.out"], T[f"{tag}.out_source_unmasked"], atol=1e-3)


def test_each_argument_mask_goes_to_its_parameter():
    model = _load("tf")
    seen = []
    handle = model.get_layer("cross_attn").register_forward_pre_hook(
        lambda m, a, kw: seen.append({k: kw.get(k) for k in ("query_mask", "value_mask", "key_mask")}), with_kwargs=True)
    model(INPUTS)
    handle.remove()
    target, source = INPUTS
    assert torch.equal(seen[0]["query_mask"], target != 0) and torch.equal(seen[0]["value_mask"], source != 0)
    assert seen[0]["key_mask"] is None  # no key tensor was given


@pytest.mark.parametrize("record", DOC["errors"], ids=lambda r: r["cls"])
def test_flash_attention_refuses_scores_as_keras3_does(record):
    layer = getattr(kt.layers, record["cls"])
    layer = layer(num_heads=2, key_dim=2, flash_attention=True) if record["cls"] == "MultiHeadAttention" else \
        layer(head_dim=2, num_query_heads=2, num_key_value_heads=1, flash_attention=True)
    x = torch.ones(1, 3, 4)
    keras_sentence = next(line for line in record["message"].splitlines() if "Returning attention scores" in line)
    keras_sentence = keras_sentence.replace("\x1b[1m", "").replace("\x1b[0m", "")
    with pytest.raises(ValueError) as info:
        layer(x, x, return_attention_scores=True)
    assert keras_sentence in str(info.value) and f'"{layer.name}"' in str(info.value)

"""MultiHeadAttention / GroupQueryAttention / EinsumDense beyond the recorded cases: bad arguments and calls
(ValueErrors naming the layer, Keras's messages where Keras has one: compat_fixtures/attention ``errors``), the
graph's mask for self-attention, the fused and explicit paths agreeing, torch citizenship (state_dict into an
unbuilt layer, pickle, float64, compile fullgraph, export) and LoRA."""
from __future__ import annotations

import copy
import pickle

import pytest
import torch

import kerastorch as kt
from kerastorch.layers import EinsumDense, GroupQueryAttention, MultiHeadAttention
from kt_testing import assert_close, load_json

ERRORS = {(e["id"], e["lib"]): e["message"] for e in load_json("attention/attention.json")["errors"]}


def _mha(**kw):
    torch.manual_seed(0)
    return MultiHeadAttention(2, 3, **kw)


@pytest.mark.parametrize("kwargs, case", [(dict(num_heads=2, key_dim=0), "key_dim_zero"),
                                          (dict(num_heads=-1, key_dim=2), "num_heads_negative")])
def test_bad_arguments_name_the_layer(kwargs, case):
    with pytest.raises(ValueError) as e:
        MultiHeadAttention(name="att", **kwargs)
    assert 'MultiHeadAttention layer "att"' in str(e.value)
    assert ERRORS[(case, "k3")].split(": ", 1)[1] in str(e.value)  # Keras 3's message (tf.keras accepts them)


def test_value_and_key_must_match():
    layer = MultiHeadAttention(2, 2, name="att")
    with pytest.raises(ValueError) as e:
        layer(torch.ones(2, 3, 4), torch.ones(2, 5, 4), key=torch.ones(2, 6, 4))
    assert 'layer "att"' in str(e.value) and "All dimensions of `value` and `key`, except the last one" in str(e.value)
    assert "All dimensions of `value` and `key`, except the last one" in ERRORS[("value_key_mismatch", "k3")]


def test_mask_that_does_not_broadcast():
    layer = MultiHeadAttention(2, 2, name="att")
    q, v = torch.ones(2, 3, 4), torch.ones(2, 5, 4)
    for scores in (False, True):
        with pytest.raises(ValueError) as e:
            layer(q, v, attention_mask=torch.ones(2, 4, 5, dtype=torch.bool), return_attention_scores=scores)
        assert 'layer "att"' in str(e.value) and "(2, 1, 4, 5)" in str(e.value) and "(2, 2, 3, 5)" in str(e.value)
    assert "Incompatible shapes: [2,2,3,5] vs. [2,1,4,5]" in ERRORS[("mask_not_broadcast", "tf")]  # Keras: raw TF error


def test_wrong_input_after_build_and_bad_inputs():
    layer = _mha(name="att")
    layer(torch.ones(2, 3, 4), torch.ones(2, 5, 6))
    with pytest.raises(ValueError, match='layer "att".*`value`.*6'):
        layer(torch.ones(2, 3, 4), torch.ones(2, 5, 7))
    with pytest.raises(ValueError, match='layer "att".*batch size'):
        layer(torch.ones(2, 3, 4), torch.ones(3, 5, 6))
    with pytest.raises(ValueError, match='layer "att".*`value`'):
        layer(torch.ones(2, 3, 4))
    with pytest.raises(ValueError, match='layer "att".*must be a tensor'):
        layer(torch.ones(2, 3, 4), [[1.0]])


def test_bad_einsum_equation_and_heads():
    for eq, case in (("ab,bc", "bad_equation"), ("ab,bc->ad", "bad_equation_dims")):
        with pytest.raises(ValueError) as e:
            EinsumDense(eq, output_shape=3, name="ed")(torch.ones(2, 4))
        assert 'EinsumDense layer "ed"' in str(e.value)
        assert ERRORS[(case, "tf")].split(": ", 1)[1] in str(e.value)
    with pytest.raises(ValueError, match='GroupQueryAttention layer "g".*divisible'):
        GroupQueryAttention(2, 4, 3, name="g")
    with pytest.raises(ValueError, match='GroupQueryAttention layer "g2".*last dimension of `query_shape`'):
        GroupQueryAttention(2, 4, 2, name="g2")(torch.ones(2, 3, 4), torch.ones(2, 3, 5))


def test_fused_and_explicit_paths_agree_and_masks():
    layer = _mha()
    q, v = torch.randn(2, 5, 4), torch.randn(2, 6, 4)
    vm = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0]], dtype=torch.bool)
    for kw in ({}, {"value_mask": vm}, {"use_causal_mask": True}, {"attention_mask": torch.rand(2, 5, 6) > 0.3}):
        y = layer(q, v, **kw)
        y2, scores = layer(q, v, return_attention_scores=True, **kw)
        assert_close(y, y2)
    # a masked key position gets zero weight
    _, scores = layer(q, v, value_mask=vm, return_attention_scores=True)
    assert scores[0, :, :, 3:].abs().max() == 0


def test_graph_mask_reaches_self_attention():
    """A functional model: the Embedding's mask is the query's and (self-attention) the value's, as in Keras."""
    tok = kt.models.Input((6,), dtype="int64")
    x = kt.layers.Embedding(10, 4, mask_zero=True)(tok)
    y = MultiHeadAttention(2, 2, name="att")(x, x)
    model = kt.models.Model(tok, y)
    ids = torch.tensor([[1, 2, 3, 0, 0, 0]])
    emb = model.layers[1](ids)
    mha = model.get_layer("att")
    m = ids != 0
    assert_close(model(ids), mha(emb, emb, query_mask=m, value_mask=m))
    assert (model(ids) - mha(emb, emb)).abs().max() > 1e-4


def test_state_dict_into_unbuilt_layer_pickle_and_float64():
    layer = _mha()
    q, v = torch.randn(2, 5, 4), torch.randn(2, 6, 4)
    y = layer(q, v)
    fresh = MultiHeadAttention(2, 3)
    fresh.load_state_dict(layer.state_dict())
    assert fresh.built
    assert_close(fresh(q, v), y)
    for other in (pickle.loads(pickle.dumps(layer)), copy.deepcopy(layer)):
        assert_close(other(q, v), y)
    y64 = copy.deepcopy(layer).to(torch.float64)(q.double(), v.double())
    assert y64.dtype == torch.float64
    assert_close(y64.float(), y, rtol=1e-5, atol=1e-5)
    assert all(p.is_contiguous() for p in layer.parameters())


def test_compile_fullgraph_and_export_layer():
    layer = _mha()
    layer.eval()
    q, v = torch.randn(2, 5, 4), torch.randn(2, 6, 4)
    vm = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0]], dtype=torch.bool)
    y = layer(q, v, value_mask=vm)
    compiled = torch.compile(layer, fullgraph=True, backend="aot_eager")
    assert_close(compiled(q, v, value_mask=vm), y)
    exported = torch.export.export(layer, (q, v), {"value_mask": vm})
    assert_close(exported.module()(q, v, value_mask=vm), y)


def test_lora_trains_the_factors_and_saves_the_merged_kernel():
    layer = EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de", lora_rank=2)
    x = torch.randn(2, 4, 5)
    y0 = layer(x)  # b starts at zero: the kernel's output
    assert_close(y0, torch.einsum("abc,cde->abde", x, layer.kernel) + layer.bias)
    assert not layer.kernel.requires_grad
    assert {n for n, p in layer.named_parameters() if p.requires_grad} == {"bias", "lora_kernel_a", "lora_kernel_b"}
    assert layer.weight_names == ["kernel", "bias"]  # what Keras 3 saves (the kernel merged)
    with torch.no_grad():
        layer.lora_kernel_b.normal_()
    merged = layer.get_weights()[0]
    assert_close(torch.einsum("abc,cde->abde", x, torch.as_tensor(merged)) + layer.bias, layer(x))
    assert layer.get_config()["lora_rank"] == 2

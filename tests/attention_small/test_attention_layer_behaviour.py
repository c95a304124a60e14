"""Attention behaviour beyond the recorded cases: the fused (scaled_dot_product_attention) path equals Keras's
math path for every mask combination, dropout acts in training only, torch.compile(fullgraph=True) with masks,
bad masks and inputs refused with a ValueError naming the layer, SpectralNormalization's state in state_dict."""
from __future__ import annotations

import pytest
import torch

import kerastorch.layers as L

Q, V = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
QM = torch.tensor([[True, True, False], [True, True, True]])
VM = torch.tensor([[True, True, True, False, False], [False] * 5])  # batch 1: every key masked (uniform, as Keras)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("masks", [None, [QM, VM], [None, VM], [QM, None]])
def test_fused_path_equals_scores_path(masks, causal):
    layer = L.Attention(use_scale=True).eval()
    layer([Q, V])
    with torch.no_grad():
        layer.scale.fill_(0.7)
    fused = layer([Q, V], mask=masks, use_causal_mask=causal)
    math, scores = layer([Q, V], mask=masks, use_causal_mask=causal, return_attention_scores=True)
    torch.testing.assert_close(fused, math, rtol=1e-5, atol=1e-6)
    assert torch.allclose(scores.sum(-1), torch.ones(2, 3))
    if masks is not None and masks[1] is not None and not causal:
        assert torch.allclose(scores[1], torch.full((3, 5), 0.2))  # a fully masked row is uniform


def test_dropout_in_training_only():
    layer = L.Attention(dropout=0.5)
    layer.eval()
    a = layer([Q, V])
    assert torch.equal(a, layer([Q, V]))
    layer.train()
    torch.manual_seed(0)
    b = layer([Q, V])
    assert not torch.allclose(a, b)
    _, w = layer([Q, V], return_attention_scores=True)
    _, s = layer([Q, V], return_attention_scores=True, training=False)
    kept = w != 0
    # Inverted dropout on the weights: about half dropped (seeded), the rest scaled by 1 / (1 - rate).
    assert (~kept).float().mean() > 0.2
    torch.testing.assert_close(w[kept], s[kept] * 2)


def test_compile_fullgraph_with_masks():
    layer = L.AdditiveAttention().eval()
    layer([Q, V])
    compiled = torch.compile(layer, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled([Q, V], mask=[QM, VM]), layer([Q, V], mask=[QM, VM]))


def test_compile_with_dynamic_query_sizes_and_static_masks():
    # What torch.compile's automatic dynamic shapes gives after earlier compilations of the shared call
    # pipeline: symbolic query sizes, plain-int mask sizes. The mask check must compare them, not refuse.
    layer = L.AdditiveAttention().eval()
    layer([Q, V])
    q = Q.clone()
    torch._dynamo.maybe_mark_dynamic(q, 0)
    torch._dynamo.maybe_mark_dynamic(q, 1)
    compiled = torch.compile(layer, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled([q, V], mask=[QM, VM]), layer([Q, V], mask=[QM, VM]))


@pytest.mark.parametrize("call, match", [
    (lambda l: l([Q, V], mask=[QM, VM[:, :4]]), "value mask must have shape"),
    (lambda l: l([Q, V], mask=[QM[:, :2], VM]), "query mask must have shape"),
    (lambda l: l([Q, V], mask=QM), "mask must be a list"),
    (lambda l: l([Q, V, V, V]), "length 2 or 3"),
    (lambda l: l([Q, torch.randn(2, 5, 3)]), "last dimension of query and key"),
    (lambda l: l([Q, V, torch.randn(2, 6, 4)]), "same number of timesteps"),
    (lambda l: l([Q, torch.randn(3, 5, 4)]), "same batch dimensions"),
])
def test_bad_input_names_the_layer(call, match):
    layer = L.Attention(name="att")
    with pytest.raises(ValueError, match=match) as info:
        call(layer)
    assert '"att"' in str(info.value)


def test_spectral_normalization_state_in_state_dict():
    layer = L.SpectralNormalization(L.Dense(3), power_iterations=2)
    x = torch.randn(4, 5)
    layer.train()
    layer(x)
    state = layer.state_dict()
    assert set(state) == {"power.vector_u", "layer.kernel", "layer.bias"}
    clone = L.SpectralNormalization.from_config(layer.get_config())
    clone.build((4, 5))  # (an unbuilt wrapper cannot be built from its state_dict yet)
    clone.load_state_dict(state)
    layer.eval(), clone.eval()
    torch.testing.assert_close(clone(x), layer(x))
    clone.train(), layer.train()
    torch.testing.assert_close(clone(x), layer(x))  # the same power-iteration step from the same state
    torch.testing.assert_close(clone.vector_u, layer.vector_u)

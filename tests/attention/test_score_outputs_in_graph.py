"""``return_attention_scores=True`` in a functional graph gives Keras's pair ``(output, scores)`` with the scores'
shape (compat_fixtures/gen/attention_masked_rows.py ``score_shapes``, tf.keras 2.21 / Keras 3.15.1):
MultiHeadAttention (``(batch, *other axes, heads, *query axes, *key axes)``, tf.keras's symbolic shape and both
libraries' called shape; Keras 3's symbolic shape takes the query's axes for the key's), Attention and
AdditiveAttention (``(batch, Tq, Tv)``). A Functional model with both scores as outputs builds, runs, and saves
and loads back with the same outputs."""
from __future__ import annotations

import pytest
import torch

import kerastorch as kt
import kerastorch.layers as L
from kt_testing import DEVICE, assert_close, load_json

CASES = {c["id"]: c for c in load_json("attention/score_shapes.json")}


def _call(layer, cls, xs):
    if cls == "MultiHeadAttention":
        return layer(*xs[:2], return_attention_scores=True)
    return layer(list(xs), return_attention_scores=True)


@pytest.mark.parametrize("cid", list(CASES))
def test_scores_shape_is_keras(cid):
    case = CASES[cid]
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in case["kwargs"].items()}
    layer = getattr(L, case["cls"])(**kwargs)
    sym = _call(layer, case["cls"], [kt.models.Input(tuple(s)) for s in case["shapes"]])
    assert type(sym).__name__ == case["tf"]["kind"] == case["k3"]["kind"]
    assert [list(t.shape) for t in sym] == case["tf"]["symbolic"]
    got = _call(layer.to(DEVICE), case["cls"], [torch.zeros((2, *s), device=DEVICE) for s in case["shapes"]])
    assert [list(t.shape) for t in got] == case["tf"]["called"] == case["k3"]["called"]


def test_functional_model_with_scores_outputs_saves_and_loads(tmp_path):
    q, v = kt.models.Input((4, 6), name="q"), kt.models.Input((3, 6), name="v")
    out, scores = L.MultiHeadAttention(2, 3, name="mha")(q, v, return_attention_scores=True)
    att, att_scores = L.Attention(name="att")([out, v], return_attention_scores=True)
    model = kt.models.Model([q, v], [att, scores, att_scores])
    assert [t.shape for t in model.outputs] == [(None, 4, 6), (None, 2, 4, 3), (None, 4, 3)]
    model.eval()
    xs = [torch.randn(2, 4, 6), torch.randn(2, 3, 6)]
    ys = model(xs)
    assert [tuple(y.shape) for y in ys] == [(2, 4, 6), (2, 2, 4, 3), (2, 4, 3)]
    kt.models.save_model(model, tmp_path / "scores.keras")
    again = kt.models.load_model(tmp_path / "scores.keras")
    again.eval()
    assert [t.shape for t in again.outputs] == [t.shape for t in model.outputs]
    for a, b in zip(again(xs), ys):
        assert_close(a, b)

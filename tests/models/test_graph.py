"""Functional graphs: hand-built models, and real Keras models' configs (H8's fixtures, recorded by real
tf.keras 2.21 / Keras 3.15) rebuilt with ``model_from_config``, filled from the Keras file with
``load_keras_weights`` and compared with the outputs real Keras computed."""
from __future__ import annotations

import json
import os
import zipfile

import pytest
import torch

import kerastorch as kt
from kerastorch.layers import Conv2D, Dense
from kerastorch.models import Input, Model, Sequential, model_from_config, model_from_json
from kt_testing import assert_close

FIX = os.path.join(os.path.dirname(__file__), "..", "..", "compat_fixtures", "models")


def _manifest() -> list[dict]:
    path = os.path.join(FIX, "MANIFEST.json")
    if not os.path.exists(path):
        return []
    return [e for e in json.load(open(path))["fixtures"] if e["kind"] == "file"]


def _archive_config(path: str) -> dict:
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("config.json"))


CASES = [(e, fmt) for e in _manifest() for fmt in ("keras",) if fmt in e["files"]]


@pytest.mark.parametrize("entry,fmt", CASES, ids=[f"{e['name']}.{f}" for e, f in CASES])
def test_fixture_config_parity(entry: dict, fmt: str) -> None:
    from safetensors.torch import load_file

    path = os.path.join(FIX, entry["files"][fmt])
    model = model_from_config(_archive_config(path))
    kt.load_keras_weights(model, path)
    model.eval()
    tensors = load_file(os.path.join(FIX, entry["tensors"]))
    inputs = [tensors[i["key"]] for i in entry["inputs"]]
    with torch.no_grad():
        out = model(inputs[0] if len(inputs) == 1 else inputs)
    outs = entry["outputs"]
    if outs["structure"] == "dict":
        assert isinstance(out, dict) and sorted(out) == sorted(outs["names"])
        got = [out[n] for n in outs["names"]]
    elif outs["structure"] == "list":
        assert isinstance(out, (list, tuple))
        got = list(out)
    else:
        assert isinstance(out, torch.Tensor)
        got = [out]
    assert len(got) == len(outs["keys"])
    for g, key in zip(got, outs["keys"]):
        assert_close(g, tensors[key], rtol=entry["tolerance"]["rtol"], atol=1e-5)
    # and the config round-trips through our own Keras 3 config
    again = model_from_config({"class_name": type(model).__name__, "config": model.get_config()})
    again.load_state_dict(model.state_dict())
    again.eval()
    with torch.no_grad():
        out2 = again(inputs[0] if len(inputs) == 1 else inputs)
    flat2 = list(out2.values()) if isinstance(out2, dict) else list(out2) if isinstance(out2, (list, tuple)) else [out2]
    flat1 = list(out.values()) if isinstance(out, dict) else list(out) if isinstance(out, (list, tuple)) else [out]
    for a, b in zip(flat1, flat2):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def _two_branch() -> Model:
    a = Input(shape=(6,), name="a")
    b = Input(shape=(4,), name="b")
    shared = Dense(5, name="shared")
    ha = shared(Dense(4, name="pa")(a))
    hb = shared(b)
    s = ha + hb
    return Model({"a": a, "b": b}, {"sum": s, "left": ha})


def test_dict_io_shared_layer_and_state_dict_keys() -> None:
    torch.manual_seed(0)
    m = _two_branch()
    assert list(m.state_dict()) == ["pa.kernel", "pa.bias", "shared.kernel", "shared.bias"]
    xa, xb = torch.randn(3, 6), torch.randn(3, 4)
    out = m({"a": xa, "b": xb})
    assert sorted(out) == ["left", "sum"]
    pa, sh = m.get_layer("pa"), m.get_layer("shared")
    left = torch.nn.functional.linear(torch.nn.functional.linear(xa, pa.kernel, pa.bias), sh.kernel, sh.bias)  # stored (units, in)
    right = torch.nn.functional.linear(xb, sh.kernel, sh.bias)
    torch.testing.assert_close(out["left"], left)
    torch.testing.assert_close(out["sum"], left + right)


def test_nested_models_and_output_used_twice() -> None:
    inner_in = Input(shape=(4,))
    inner = Model(inner_in, Dense(4, name="inner_dense")(inner_in), name="inner")
    seq = Sequential([Dense(4, name="s1")], name="seq")
    x = Input(shape=(4,), name="x")
    h = inner(x)
    y = seq(h) * h  # h feeds two nodes
    m = Model(x, [y, inner(y)])  # inner shared at two depths
    keys = list(m.state_dict())
    assert keys == ["inner.inner_dense.kernel", "inner.inner_dense.bias", "seq.s1.kernel", "seq.s1.bias"]
    t = torch.randn(2, 4)
    o1, o2 = m(t)
    torch.testing.assert_close(o1, seq(inner(t)) * inner(t))
    torch.testing.assert_close(o2, inner(o1))
    m2 = model_from_json(json.dumps({"class_name": "Functional", "config": m.get_config()}))
    m2.load_state_dict(m.state_dict())
    for a, b in zip(m(t), m2(t)):
        torch.testing.assert_close(a, b)


def test_disconnected_graph_is_a_value_error() -> None:
    a, b = Input(shape=(3,)), Input(shape=(3,))
    with pytest.raises(ValueError, match="Graph disconnected"):
        Model(a, Dense(2)(b))


def test_train_eval_propagate_and_training_arg() -> None:
    m = _two_branch()
    m.eval()
    assert not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())


def test_weights_order_and_set_weights() -> None:
    m = _two_branch()
    ws = m.get_weights()
    assert [w.shape for w in ws] == [(6, 4), (4,), (4, 5), (5,)]
    m.set_weights([w * 0 + 1 for w in ws])
    assert all(float(p.detach().min()) == 1.0 for p in m.parameters())
    with pytest.raises(ValueError, match="expecting 4 weights"):
        m.set_weights(ws[:2])


def test_summary_table() -> None:
    x = Input(shape=(8, 8, 3), name="img")
    m = Model(x, Conv2D(4, 3, name="c1")(x), name="net")
    text = m.summary(print_fn=lambda s: None)
    assert 'Model: "net"' in text
    assert "c1 (Conv2D)" in text and "(None, 6, 6, 4)" in text and "112" in text
    assert "Total params: 112" in text and "Non-trainable params: 0" in text


def test_compile_fullgraph_and_export() -> None:
    torch._dynamo.reset()
    m = _two_branch().eval()
    xa, xb = torch.randn(3, 6), torch.randn(3, 4)
    ref = m({"a": xa, "b": xb})
    explanation = torch._dynamo.explain(m)({"a": xa, "b": xb})
    assert explanation.graph_break_count == 0, explanation.break_reasons
    compiled = torch.compile(m, fullgraph=True, backend="eager")
    got = compiled({"a": xa, "b": xb})
    torch.testing.assert_close(got["sum"], ref["sum"])
    ep = torch.export.export(m, ({"a": xa, "b": xb},))
    torch.testing.assert_close(ep.module()({"a": xa, "b": xb})["sum"], ref["sum"])

"""EinsumDense and MultiHeadAttention against real tf.keras 2.21 and Keras 3.15.1 (compat_fixtures/attention/,
gen/attention.py): outputs, attention scores, input and kernel gradients, configs and weight names, per option
and call argument, with Keras's masks (``Masking`` on query/value), causal masks and attention masks."""
from __future__ import annotations

import pytest
import torch

from kerastorch.layers import EinsumDense, MultiHeadAttention
from kt_testing import assert_close, load_json, load_tensors

DOC = load_json("attention/attention.json")
T = load_tensors("attention/attention.safetensors")
EINSUM = [c for c in DOC["einsum"] if c["id"] != "lora"]
MHA = DOC["mha"]


def _ws(key: str) -> list[torch.Tensor]:
    out, i = [], 0
    while f"{key}.w{i}" in T:
        out.append(T[f"{key}.w{i}"])
        i += 1
    return out


@pytest.mark.parametrize("case", EINSUM, ids=lambda c: f"{c['id']}-{c['lib']}")
def test_einsum_dense_matches_keras(case):
    key = f"einsum.{case['id']}.{case['lib']}"
    layer = EinsumDense.from_config(case["config"])
    x = T[f"{key}.x"].clone().requires_grad_(True)
    layer.set_weights(_ws(key))
    assert [list(w.shape) for w in layer.get_weights()] == case["weight_shapes"]
    y = layer(x)
    assert list(y.shape) == case["out_shape"]
    assert_close(y, T[f"{key}.out"], msg=key)
    (y * T[f"{key}.r"]).sum().backward()
    assert_close(x.grad, T[f"{key}.dx"], msg=key + " dx")
    config = layer.get_config()
    for k in ("equation", "bias_axes", "activation"):
        assert config[k] == case["config"][k]
    assert list(config["output_shape"]) == list(case["config"]["output_shape"])


def _call_args(case: dict, key: str) -> tuple[list, dict]:
    q_in = T[f"{key}.q"].clone().requires_grad_(True)
    q = q_in
    v = q if case["self"] else T[f"{key}.v"]
    kwargs: dict = {}
    if case["has_key"]:
        kwargs["key"] = T[f"{key}.k"]
    if "q" in case["masks"]:
        kwargs["query_mask"] = (q != 0).any(-1)
        q = q_in * kwargs["query_mask"].unsqueeze(-1)  # what Keras's Masking layer passes on (zero gradient)
        if case["self"]:
            v = q
            kwargs["value_mask"] = kwargs["query_mask"]
    if "v" in case["masks"] and not case["self"]:
        kwargs["value_mask"] = (v != 0).any(-1)
    if case["call"].get("use_causal_mask"):
        kwargs["use_causal_mask"] = True
    if f"{key}.attention_mask" in T:
        kwargs["attention_mask"] = T[f"{key}.attention_mask"].bool()
    return [q_in, q, v], kwargs


@pytest.mark.parametrize("case", MHA, ids=lambda c: f"{c['id']}-{c['lib']}")
def test_multi_head_attention_matches_keras(case):
    key = f"{case['id']}.{case['lib']}"
    layer = MultiHeadAttention.from_config(case["config"])
    (q_in, q, v), kwargs = _call_args(case, key)
    if not layer.built:  # a Keras 3 config: built by its build_config (Keras needs a build before set_weights)
        layer.build([q.shape, v.shape, kwargs.get("key", v).shape])
    layer.set_weights(_ws(key))
    layer.eval()
    assert [list(w.shape) for w in layer.get_weights()] == case["weight_shapes"]
    y, scores = layer(q, v, return_attention_scores=True, **kwargs)
    assert_close(y, T[f"{key}.out"], msg=key + " out")
    assert_close(scores, T[f"{key}.scores"], msg=key + " scores")
    fused = layer(q, v, **kwargs)
    assert_close(fused, T[f"{key}.out_fused"], msg=key + " out without scores")
    (fused * T[f"{key}.r"]).sum().backward()
    assert_close(q_in.grad, T[f"{key}.dq"], msg=key + " dq")
    assert_close(layer.query_dense.kernel.grad, T[f"{key}.dw0"], msg=key + " d query kernel")


@pytest.mark.parametrize("case", [c for c in MHA if c["id"] == "self_default"], ids=lambda c: c["lib"])
def test_multi_head_attention_config_and_weight_names(case):
    from kerastorch.saving.keras.names import tf_keras_weight_names

    layer = MultiHeadAttention.from_config(case["config"])
    assert layer.built == (case["lib"] == "tf")  # tf.keras configs carry query_shape/value_shape
    if not layer.built:
        layer.build([[None, 5, 4], [None, 5, 4], [None, 5, 4]])
    config = layer.get_config()
    for k, v in case["config"].items():
        if k in ("kernel_initializer", "dtype"):
            continue
        assert config[k] == v, k
    if case["lib"] == "tf":
        assert tf_keras_weight_names(layer) == case["weight_names"]


@pytest.mark.parametrize("case", DOC["gqa"], ids=lambda c: c["id"])
def test_group_query_attention_matches_keras3(case):
    from kerastorch.layers import GroupQueryAttention

    key = f"{case['id']}.k3"
    layer = GroupQueryAttention.from_config(case["config"])
    (q_in, q, v), kwargs = _call_args(case, key)
    layer.build([q.shape, v.shape, kwargs.get("key", v).shape])
    layer.set_weights(_ws(key))
    layer.eval()
    assert [list(w.shape) for w in layer.get_weights()] == case["weight_shapes"]
    y, scores = layer(q, v, return_attention_scores=True, **kwargs)
    assert_close(y, T[f"{key}.out"], msg=key + " out")
    assert_close(scores, T[f"{key}.scores"], msg=key + " scores")
    fused = layer(q, v, **kwargs)
    assert_close(fused, T[f"{key}.out_fused"], msg=key + " out without scores")
    (fused * T[f"{key}.r"]).sum().backward()
    assert_close(q_in.grad, T[f"{key}.dq"], msg=key + " dq")
    assert_close(layer.query_dense.kernel.grad, T[f"{key}.dw0"], msg=key + " d query kernel")
    config = layer.get_config()
    for k, v in case["config"].items():
        if k not in ("dtype", "kernel_initializer"):  # Keras 3 writes VarianceScaling's input_axes/output_axes
            assert config[k] == v, k

"""SimpleRNN / LSTM / GRU / Bidirectional / RNN(cell) against every case recorded from real tf.keras 2.21 and
Keras 3.15.1 (compat_fixtures/gen/rnn.py): outputs and their nesting, states, gradients w.r.t. the input, the
initial states and every weight, compute_mask, compute_output_shape, weight names and configs; Keras 3's
config and outputs (its own hard_sigmoid) through kerastorch's Keras 3 config path."""
from __future__ import annotations

import pytest
import torch

import kerastorch.layers as L
from kt_testing import assert_close, jsonable
from rnn_fixtures import CASES, TENSORS, build, call_inputs, flat, keras3_activations, structure, weights


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['id']}-{c['spec']['cls']}")
def test_matches_tf_keras(case):
    cid = case["id"]
    layer = build(case["spec"])
    x, kwargs, states = call_inputs(case, requires_grad=True)
    layer(x, **{k: v for k, v in kwargs.items() if k != "training"})  # build by a call, as the recorder did
    layer.set_weights(weights(case))
    y = layer(x, **kwargs)
    assert structure(y) == case["tf"]["structure"]
    outs = flat(y)
    for k, o in enumerate(outs):
        assert_close(o, TENSORS[f"{cid}.tf.out.{k}"], msg=f"output {k}")
    loss = sum((o * TENSORS[f"{cid}.upstream.{k}"]).sum() for k, o in enumerate(outs))
    loss.backward()
    assert_close(x.grad, TENSORS[f"{cid}.tf.grad_input"], msg="input gradient")
    for i, s in enumerate(states):
        assert_close(s.grad, TENSORS[f"{cid}.tf.grad_state.{i}"], msg=f"initial state {i} gradient")
    for i, name in enumerate(layer.weight_names):
        grad = layer.weight_spec(name).to_keras(layer._stored(name).grad)
        assert_close(grad, TENSORS[f"{cid}.tf.grad.{i}"], msg=f"gradient of {name}")
    # what Keras says about shapes and masks
    mask = kwargs.get("mask")
    got_mask = layer.compute_mask(x, mask)
    kinds = [("none" if m is None else "tensor") for m in got_mask] if isinstance(got_mask, list) else (
        "none" if got_mask is None else "tensor")
    assert kinds == case["tf"]["compute_mask"]
    # a stack's states nest per cell as its call returns them: Keras 3's compute_output_shape (tf.keras's is flat)
    want = case["k3"]["compute_output_shape"] if "compute_output_shape" in case.get("k3", {}) else case["tf"]["compute_output_shape"]
    assert jsonable(layer.compute_output_shape((None, case["steps"], *case["features"]))) == want
    short = [n.split("/")[-1].split(":")[0] for n in case["tf"]["weight_names"]]
    assert [n.rsplit(".", 1)[-1] for n in layer.weight_names] == short
    assert [list(layer.keras_weight(n).shape) for n in layer.weight_names] == case["tf"]["weight_shapes"]
    assert len(layer.losses) == len(case["tf"]["losses"])
    for got, want in zip(layer.losses, case["tf"]["losses"]):
        assert abs(float(got) - want) <= 1e-5 * max(1.0, abs(want))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['id']}-{c['spec']['cls']}")
def test_config_round_trip_matches_tf_keras(case):
    layer = build(case["spec"])
    x, kwargs, _ = call_inputs(case)
    layer(x, **kwargs)
    want = case["tf"]["config"]
    assert jsonable(layer.get_config()) == want
    again = type(layer).from_config(want)
    assert jsonable(again.get_config()) == want


K3_CASES = [c for c in CASES if "k3" in c and "error" not in c["k3"]]


@pytest.mark.parametrize("case", K3_CASES, ids=lambda c: f"{c['id']}-{c['spec']['cls']}")
def test_keras3_config_gives_keras3_outputs(case):
    cid = case["id"]
    layer = L.deserialize({"class_name": case["spec"]["cls"], "config": keras3_activations(case["k3"]["config"])})
    x, kwargs, _ = call_inputs(case)
    layer(x, **{k: v for k, v in kwargs.items() if k != "training"})
    layer.set_weights(weights(case))
    outs = flat(layer(x, **kwargs))
    assert len(outs) == case["k3"]["n_outputs"]
    for k, o in enumerate(outs):
        assert_close(o, TENSORS[f"{cid}.k3.out.{k}"], msg=f"Keras 3 output {k}")

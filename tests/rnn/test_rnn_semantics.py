"""Recurrent semantics beyond the parity cases: stateful layers, cells alone, Keras's errors, dropout masks,
the fused path against the step loop, time_major/initial_state as list inputs, torch.compile and export.
Fixtures: compat_fixtures/rnn/{stateful,cells,errors}.json (real tf.keras 2.21 / Keras 3.15.1)."""
from __future__ import annotations

import pytest
import torch

import kerastorch.layers as L
from kt_testing import assert_close, jsonable, load_json, load_tensors
from rnn_fixtures import build, flat

STATEFUL = load_json("rnn/stateful.json")
ST = load_tensors("rnn/stateful.safetensors")
CELLS = load_json("rnn/cells.json")
CT = load_tensors("rnn/cells.safetensors")
ERRORS = load_json("rnn/errors.json")


def _weights(t, cid):
    out, i = [], 0
    while f"{cid}.weight.{i}" in t:
        out.append(t[f"{cid}.weight.{i}"])
        i += 1
    return out


@pytest.mark.parametrize("case", STATEFUL, ids=lambda c: c["spec"]["cls"])
def test_stateful_carries_states_and_resets(case):
    cid = case["id"]
    layer = build({**case["spec"], "args": {**case["spec"]["args"], "batch_input_shape": (2, 4, 3)}})
    layer.set_weights(_weights(ST, cid))
    layer.eval()
    for x, out in (("x1", "out1"), ("x2", "out2")):
        assert_close(flat(layer(ST[f"{cid}.{x}"]))[0], ST[f"{cid}.{out}"], msg=out)
    layer.reset_states()
    assert_close(flat(layer(ST[f"{cid}.x1"]))[0], ST[f"{cid}.out3"], msg="after reset_states")
    with pytest.raises(ValueError) as e:  # tf.keras: 'expected shape=(2, None, 3), found shape=(3, 4, 3)'
        layer(torch.zeros(3, 4, 3))
    assert case["batch_change_error"].split(": ", 1)[1] in str(e.value)


def test_reset_states_with_values_and_not_stateful():
    layer = L.GRU(3, stateful=True, batch_input_shape=(2, 4, 3))
    h = torch.randn(2, 3)
    layer.reset_states(h)
    assert torch.equal(layer.states[0], h)
    with pytest.raises(ValueError, match=r"expected 1 state tensor\(s\) of shapes \[\(2, 3\)\], received 1 of shapes \[\(2, 4\)\]"):
        layer.reset_states(torch.zeros(2, 4))
    with pytest.raises(AttributeError, match="Layer must be stateful"):
        L.GRU(3).reset_states()


@pytest.mark.parametrize("case", CELLS, ids=lambda c: f"{c['id']}-{c['spec']['cls']}")
def test_cell_alone_matches_tf_keras(case):
    cid = case["id"]
    cell = getattr(L, case["spec"]["cls"])(**case["spec"]["args"])
    cell.set_weights(_weights(CT, cid))
    n = sum(1 for k in CT if k.startswith(f"{cid}.state."))
    out, new = cell(CT[f"{cid}.x"], [CT[f"{cid}.state.{i}"] for i in range(n)])
    assert_close(out, CT[f"{cid}.out"])
    for i, s in enumerate(new):
        assert_close(s, CT[f"{cid}.new_state.{i}"], msg=f"state {i}")
    assert jsonable(cell.get_config()) == case["config"]
    assert [f"{n}:0" for n in cell.weight_names] == case["weight_names"]


def _raise(rec):
    spec, call = rec["spec"], rec["call"]
    layer = build(spec)
    if call is None:
        return
    x = torch.zeros(tuple(call.get("shape", (2, 4, 3))))
    kwargs = {"initial_state": [torch.zeros(tuple(s)) for s in call["states"]]} if "states" in call else {}
    layer(x, **kwargs)


@pytest.mark.parametrize("rec", ERRORS, ids=lambda r: r["what"])
def test_errors_are_value_errors_naming_the_layer(rec):
    assert rec["tf_error"].startswith("ValueError")
    with pytest.raises(ValueError) as e:
        _raise(rec)
    message = str(e.value)
    keras = rec["tf_error"].split(": ", 1)[1]
    if rec["what"] in ("wrong_rank", "wrong_rank_4d", "bad_units", "bad_units_neg", "bad_merge_mode"):
        assert keras in message  # Keras's own words
    elif rec["what"].startswith("initial_state"):
        assert "`initial_state` was passed that is not compatible with `cell.state_size`" in message
        assert '"lstm"' in message or '"gru"' in message
        assert "expected" in message and "received" in message
    elif rec["what"] == "bidirectional_same_direction":
        assert "should have different `go_backwards` value" in message
    else:
        assert "nope" in message


def test_bad_mask_and_bad_input_dtype():
    layer = L.LSTM(3)
    with pytest.raises(ValueError, match=r'"lstm".*mask must have shape \(batch, timesteps\) = \(2, 4\), received \(2, 5\)'):
        layer(torch.zeros(2, 4, 3), mask=torch.ones(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match=r'"lstm".*floating-point input, received torch.int64'):
        layer(torch.zeros(2, 4, 3, dtype=torch.long))


# ----------------------------------------------------------------------------- fused vs loop
def _loop_twin(layer):
    """The same layer forced onto the step loop (an activation object equal to tanh but not torch's)."""
    twin = type(layer).from_config(layer.get_config())
    twin.build((None, None, layer.keras_weight("kernel").shape[0]))
    twin.set_weights(layer.get_weights())
    twin._cell.fused_kind = lambda: None
    return twin


@pytest.mark.parametrize("cls,kw", [(L.LSTM, {}), (L.GRU, {}), (L.SimpleRNN, {}), (L.SimpleRNN, {"activation": "relu"}),
                                    (L.LSTM, {"use_bias": False}), (L.GRU, {"use_bias": False})])
def test_fused_path_equals_step_loop(cls, kw):
    torch.manual_seed(0)
    layer = cls(5, return_sequences=True, return_state=True, **kw)
    x = torch.randn(4, 7, 3, requires_grad=True)
    layer(x)
    twin = _loop_twin(layer)
    lengths = torch.tensor([7, 3, 5, 1])
    right = torch.arange(7)[None] < lengths[:, None]
    for mask in (None, right, torch.ones(4, 7, dtype=torch.bool)):
        a, b = flat(layer(x, mask=mask)), flat(twin(x, mask=mask))
        for u, v in zip(a, b):
            assert_close(u, v)
        ga = torch.autograd.grad(sum(t.sum() for t in a), [x, layer.kernel])
        gb = torch.autograd.grad(sum(t.sum() for t in b), [x, twin.kernel])
        for u, v in zip(ga, gb):
            assert_close(u, v)


def test_fused_path_runs_torch_kernel():
    from torch.profiler import profile

    layer = L.LSTM(4, return_sequences=True)
    x = torch.randn(2, 5, 3)
    layer(x)
    with profile() as prof:
        layer(x)
    names = {e.name for e in prof.events()}
    assert "aten::lstm" in names
    layer2 = L.LSTM(4, recurrent_activation="hard_sigmoid")
    layer2(x)
    with profile() as prof:
        layer2(x)
    assert "aten::lstm" not in {e.name for e in prof.events()}


# ----------------------------------------------------------------------------- dropout
def test_dropout_masks_are_per_sequence_and_off_in_eval():
    torch.manual_seed(0)
    layer = L.SimpleRNN(64, dropout=0.5, use_bias=False, return_sequences=True, recurrent_initializer="zeros",
                        kernel_initializer="identity" if False else "ones")
    x = torch.ones(3, 6, 2)
    layer.train()
    y = layer(x)
    # zero recurrent kernel: h_t = tanh(x_t * mask @ kernel): identical at every step of a sequence
    assert torch.equal(y, y[:, :1].expand_as(y))
    assert not torch.equal(y[0], y[1]) or not torch.equal(y[1], y[2])
    layer.eval()
    assert torch.equal(layer(x), torch.tanh(torch.full((3, 6, 64), 2.0)))


def test_recurrent_dropout_is_fixed_across_steps_and_uses_the_loop():
    torch.manual_seed(1)
    layer = L.LSTM(8, recurrent_dropout=0.5, return_sequences=True)
    x = torch.randn(2, 5, 3)
    layer(x)
    layer.train()
    torch.manual_seed(3)
    a = layer(x)
    torch.manual_seed(3)
    b = layer(x)
    assert torch.equal(a, b)  # torch's RNG decides
    layer.eval()
    assert torch.equal(layer(x), layer(x))
    assert layer.get_config()["implementation"] == 1  # tf.keras switches to implementation 1


# ----------------------------------------------------------------------------- call forms
def test_initial_state_as_list_inputs_and_time_major():
    torch.manual_seed(0)
    layer = L.LSTM(3, return_state=True)
    x, h, c = torch.randn(2, 4, 5), torch.randn(2, 3), torch.randn(2, 3)
    a = layer(x, initial_state=[h, c])
    b = layer([x, h, c])
    for u, v in zip(a, b):
        assert torch.equal(u, v)
    tm = L.LSTM(3, return_sequences=True, time_major=True)
    tm.build((4, None, 5))
    tm.set_weights(layer.get_weights())
    bm = L.LSTM(3, return_sequences=True)
    bm.build((None, 4, 5))
    bm.set_weights(layer.get_weights())
    assert_close(tm(x.transpose(0, 1)).transpose(0, 1), bm(x))


def test_compile_fullgraph_and_export_lstm_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(L.Bidirectional(L.LSTM(4, return_sequences=True)), L.Dense(2))
    x = torch.randn(2, 6, 5)
    model.eval()
    want = model(x)
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    assert_close(compiled(x), want, kind="graph")
    exported = torch.export.export(model, (x,))
    assert_close(exported.module()(x), want, kind="graph")


def test_compile_fullgraph_with_mask_uses_the_loop():
    torch.manual_seed(0)
    layer = L.LSTM(4, return_sequences=True)
    x = torch.randn(2, 5, 3)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    want = layer(x, mask=mask)
    compiled = torch.compile(lambda a, m: layer(a, mask=m), fullgraph=True, backend="aot_eager")
    assert_close(compiled(x, mask), want, kind="graph")

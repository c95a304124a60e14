"""``kerastorch eject`` of the remaining layer classes (kerastorch/eject/emit_layers.py): ConvLSTM1D/2D/3D, Keras 3's
adaptive poolings, GroupNormalization, RMSNormalization, UnitNormalization, SpectralNormalization, EinsumDense and
ReversibleEmbedding.

The model files that hold them (compat_fixtures/rnn/models/conv_lstm, attention_small/adaptive_rms and spectral_dense,
user_files/tf_norms: real tf.keras 2.21 / Keras 3.15.1 files) are ejected, and so is each recorded layer case of these
classes (compat_fixtures/*_cases.json, attention_small/cases.json, attention/attention.json, masks/masks.json,
rnn/cases.json) wrapped in a one-layer Functional model with Keras's weights. Every ejected ``model.py`` runs in ONE
fresh process where kerastorch cannot be imported (``eject_testing.run_standalone``): outputs equal Keras's recorded
ones and kerastorch's; a training step (ConvLSTM, GroupNorm, SpectralNormalization's power iteration) gives
kerastorch's input gradients and per-layer gradient norms, and SpectralNormalization's updated ``vector_u`` is
Keras's; torch.compile / torch.export / ONNX reproduce the outputs on two models.
"""
from __future__ import annotations

import importlib.util
import json
import pathlib

import pytest
import torch

from eject_testing import assert_standalone_outputs, record, run_standalone
from kt_testing import FIXTURES, assert_close, load_json, load_tensors

from kerastorch.eject import EjectError, eject, eject_file
from kerastorch.eject.codegen import identifier

#: model files: (name, path, input tensors, expected output tensors)
RNN_MT = load_tensors("rnn/models.safetensors")
SMALL_MT = load_tensors("attention_small/models_tensors.safetensors")
USER = load_json("user_files/user_files.json")["cases"]["tf_norms"]
USER_T = load_tensors("user_files/user_files.safetensors")
FILES = {
    "conv_lstm.tf.h5": ("rnn/models/conv_lstm.tf.h5", [RNN_MT["conv_lstm.input.0"]], [RNN_MT["conv_lstm.tf.out.0"]]),
    "conv_lstm.k3.keras": ("rnn/models/conv_lstm.k3.keras", [RNN_MT["conv_lstm.input.0"]], [RNN_MT["conv_lstm.k3.out.0"]]),
    "adaptive_rms.k3.keras": ("attention_small/adaptive_rms.k3.keras", [SMALL_MT["adaptive_rms.k3.input"]],
                              [SMALL_MT["adaptive_rms.k3.output"]]),
    "spectral_dense.tf.h5": ("attention_small/spectral_dense.tf.h5", [SMALL_MT["spectral_dense.tf.input"]],
                             [SMALL_MT["spectral_dense.tf.output"]]),
    "spectral_dense.k3.keras": ("attention_small/spectral_dense.k3.keras", [SMALL_MT["spectral_dense.k3.input"]],
                                [SMALL_MT["spectral_dense.k3.output"]]),
    "tf_norms.tf.h5": ("user_files/tf_norms.tf.h5", [USER_T[USER["input"]]], [USER_T[USER["output"]]]),
}

#: recorded layer cases: GroupNormalization / UnitNormalization (tf.keras; float32 ones covering each axis and
#: layout path), the Keras 3 RMSNormalization / adaptive pooling / SpectralNormalization cases of attention_small,
#: EinsumDense per equation form (Keras 3), ReversibleEmbedding (Keras 3), ConvLSTM (tf.keras; Keras 3's sigmoid too)
GROUP = {c["id"]: c for c in load_json("group_normalization_cases.json")}
GROUP_IDS = ["c000", "c001", "c004", "c005", "c007", "c009", "c010", "c012", "c013"]
GROUP_T = load_tensors("group_normalization_tensors.safetensors")
UNIT = {c["id"]: c for c in load_json("unit_normalization_cases.json")}
UNIT_IDS = ["c000", "c002", "c003", "c005", "c009", "c010"]
UNIT_T = load_tensors("unit_normalization_tensors.safetensors")
SMALL = {c["id"]: c for c in load_json("attention_small/cases.json")}
SMALL_IDS = [c for c, r in SMALL.items() if r["class"] not in ("Attention", "AdditiveAttention")]
SMALL_T = load_tensors("attention_small/tensors.safetensors")
EINSUM = [c for c in load_json("attention/attention.json")["einsum"] if c["id"] != "lora" and c["lib"] == "k3"]
ATT_T = load_tensors("attention/attention.safetensors")
REVERSIBLE = load_json("masks/masks.json")["reversible"]
MASK_T = load_tensors("masks/masks.safetensors")
RNN = {c["id"]: c for c in load_json("rnn/cases.json")}
RNN_T = load_tensors("rnn/tensors.safetensors")
#: (r050 is recorded with a mask: its strided, asymmetric "same" split and return_state are the hand-built
#: "conv_lstm_strided" case, with go_backwards and return_sequences, checked against kerastorch, itself checked
#: against Keras in tests/rnn)
CONV_LSTM = [("r049", "tf"), ("r049", "k3"), ("r051", "tf"), ("r052", "tf"), ("r053", "tf")]

#: a training step compared with kerastorch's (and, for SpectralNormalization, the updated vector_u with Keras's)
GRAD = {"conv_lstm.tf.h5", "spectral_dense.tf.h5", "adaptive_rms.k3.keras", "group.c001",
        "group.c007", "small.c067", "small.c068", "small.c069", "small.c070", "rnn.r051.tf"}
#: torch.compile / torch.export (and ONNX for True: torch's TorchScript ONNX exporter has no adaptive pooling whose
#: output size does not divide the input size)
EXPORT = {"adaptive_rms.k3.keras": False, "rnn.r052.tf": False, "tf_norms.tf.h5": True}


def _one_layer(layer, shapes: list, dtype=None):
    """``layer`` called on Inputs of the recorded shapes, as a Functional model."""
    from kerastorch.models import Input, Model

    xs = [Input(tuple(s[1:]), name=f"in_{i}", dtype=dtype) for i, s in enumerate(shapes)]
    return Model(xs, layer(xs[0] if len(xs) == 1 else xs)), layer


def _layer_cases() -> dict[str, tuple]:
    """name -> (model, inputs, Keras's outputs) of every recorded layer case."""
    from kerastorch import layers
    from kerastorch.models import Input, Model
    from rnn_fixtures import keras3_activations, weights

    out = {}
    for family, ids, table, tensors in (("group", GROUP_IDS, GROUP, GROUP_T), ("unit", UNIT_IDS, UNIT, UNIT_T)):
        for cid in ids:
            case = table[cid]
            model, layer = _one_layer(getattr(layers, case["class"])(**case["args"]), case["input_shapes"])
            layer.set_weights([tensors[f"{cid}.weight.{n}"] for n in case["weight_names"]])
            out[f"{family}.{cid}"] = (model, [tensors[f"{cid}.input.0"]], [tensors[f"{cid}.output"]])
    for cid in SMALL_IDS:
        case = SMALL[cid]
        layer = getattr(layers, case["class"]).from_config(case["config"])
        model, layer = _one_layer(layer, case["input_shapes"])
        names = case["weight_names"]
        if case["class"] == "SpectralNormalization":  # get_weights order: trainable, vector_u, non-trainable
            inner = layer.layer
            names = [n for n in inner.weight_names if inner.weight_spec(n).trainable] + ["vector_u"]
        shapes = dict(zip(case["weight_names"], case["weight_shapes"]))
        layer.set_weights([SMALL_T[f"{cid}.weight.{n}"].reshape(shapes[n]) for n in names])
        # training cases: Keras's output is the train-mode one; the training step checks them
        expected = [] if case["training"] else [SMALL_T[f"{cid}.output.0"]]
        out[f"small.{cid}"] = (model, [SMALL_T[f"{cid}.input.0"]], expected)
    for case in EINSUM:
        key = f"einsum.{case['id']}.{case['lib']}"
        model, layer = _one_layer(layers.EinsumDense.from_config(case["config"]), [case["input_shape"]])
        i, ws = 0, []
        while f"{key}.w{i}" in ATT_T:
            ws.append(ATT_T[f"{key}.w{i}"])
            i += 1
        layer.set_weights(ws)
        out[key] = (model, [ATT_T[f"{key}.x"]], [ATT_T[f"{key}.out"]])
    for rec in REVERSIBLE:
        cid = rec["id"]
        layer = layers.ReversibleEmbedding.from_config({**rec["config"], "mask_zero": False})  # values as Keras's
        layer.set_weights([MASK_T[f"{cid}.weight.{n}"] for n in rec["weight_names"]])
        ids, hidden = MASK_T[f"{cid}.input"], MASK_T[f"{cid}.hidden"]
        a, b = Input(tuple(ids.shape[1:]), dtype="int32", name="ids"), Input(tuple(hidden.shape[1:]), name="hidden")
        model = Model([a, b], [layer(a), layer(b, reverse=True)])
        out[f"reversible.{cid}"] = (model, [ids, hidden], [MASK_T[f"{cid}.output"], MASK_T[f"{cid}.logits"]])
    for cid, tag in CONV_LSTM:
        case = RNN[cid]
        config = case[tag]["config"] if tag == "tf" else keras3_activations(case[tag]["config"])
        layer = layers.deserialize({"class_name": case["spec"]["cls"], "config": config})
        x = Input((case["steps"], *case["features"]), name="sequence")
        states = [Input(tuple(RNN_T[f"{cid}.state.{i}"].shape[1:]), name=f"state_{i}") for i in range(case["n_states"])]
        model = Model([x, *states], layer(x, initial_state=states) if states else layer(x))
        layer.set_weights(weights(case))
        xs = [RNN_T[f"{cid}.input"]] + [RNN_T[f"{cid}.state.{i}"] for i in range(case["n_states"])]
        out[f"rnn.{cid}.{tag}"] = (model, xs, [RNN_T[f"{cid}.{tag}.out.{k}"] for k in range(case[tag]["n_outputs"])])
    layer = layers.ConvLSTM2D(3, 3, strides=2, padding="same", return_sequences=True, return_state=True,
                              go_backwards=True, name="strided")
    model, _ = _one_layer(layer, [(None, 3, 6, 6, 2)])
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    out["conv_lstm_strided"] = (model, [torch.randn(2, 3, 6, 6, 2, generator=g)], [])
    return out


def _job(name: str) -> dict:
    return {"grad": name in GRAD, "export": name in EXPORT, "onnx": EXPORT.get(name, False)}


@pytest.fixture(scope="module")
def ejected(tmp_path_factory) -> dict[str, dict]:
    from kerastorch.models import load_model

    root = tmp_path_factory.mktemp("eject_layers")
    cases = {}
    for name, (rel, xs, expected) in FILES.items():
        out = root / identifier(name)
        eject_file(str(FIXTURES / rel), out)
        model = load_model(str(FIXTURES / rel))
        cases[name] = record(name, model, xs, expected, 1e-5, out, _job(name))
        cases[name]["model"] = model
    for name, (model, xs, expected) in _layer_cases().items():
        out = root / identifier(name)
        eject(model, out)
        cases[name] = record(name, model, xs, expected, 1e-5, out, _job(name))
        cases[name]["model"] = model
    return run_standalone(root, cases)


NAMES = (list(FILES) + [f"group.{c}" for c in GROUP_IDS] + [f"unit.{c}" for c in UNIT_IDS]
         + [f"small.{c}" for c in SMALL_IDS] + [f"einsum.{c['id']}.{c['lib']}" for c in EINSUM]
         + [f"reversible.{r['id']}" for r in REVERSIBLE] + [f"rnn.{c}.{t}" for c, t in CONV_LSTM] + ["conv_lstm_strided"])


def test_every_emitter_of_this_family_is_exercised(ejected):
    from kerastorch._registry import LAYERS
    from kerastorch.eject import emit_layers
    from kerastorch.eject.emitters import EMITTERS

    ours = {n for n in EMITTERS.names() if n in LAYERS and EMITTERS.lookup(n).__module__ == emit_layers.__name__}
    assert len(ours) == 15
    covered = {type(m).__name__ for case in ejected.values() for m in case["model"].modules()}
    assert ours <= covered, sorted(ours - covered)


@pytest.mark.parametrize("name", NAMES)
def test_standalone_outputs_match_keras_and_kerastorch(ejected, name):
    assert_standalone_outputs(ejected[name], name)


def _renames(model) -> dict[str, str]:
    """kerastorch's per-module norm keys that the ejected model holds under another attribute: a
    SpectralNormalization's wrapped layer and vector_u (one module there)."""
    out = {}
    for m in model.modules():
        if type(m).__name__ == "SpectralNormalization":
            out[identifier(m.layer.name)] = out[identifier(m.power.name)] = identifier(m.name)
    return out


@pytest.mark.parametrize("name", sorted(GRAD))
def test_training_step_matches_kerastorch(ejected, name):
    """Train mode: the same input gradients and per-layer gradient / buffer norms (BatchNorm statistics,
    SpectralNormalization's vector_u after its power iteration)."""
    case = ejected[name]
    res = case["result"]
    for i, g in enumerate(case["grad_x"]):
        assert_close(res[f"grad_x{i}"], g, rtol=1e-4, msg=f"{name}: input gradient {i}")  # a backward pass: 10x
    renames = _renames(case["model"])
    for kind in ("gnorm", "bnorm"):
        got = {k.split(":", 1)[1]: float(v) for k, v in res.items() if k.startswith(kind + ":")}
        want = {renames.get(k, k): v for k, v in case[kind].items()}
        assert set(got) == set(want), (kind, sorted(got), sorted(want))
        for layer, value in want.items():
            assert got[layer] == pytest.approx(value, rel=1e-4), (name, kind, layer)


@pytest.mark.parametrize("cid", ["c067", "c068", "c069", "c070"])
def test_spectral_normalization_vector_u_update_matches_keras(ejected, cid):
    """Keras's power iteration: the ejected model's vector_u after one training call is Keras's."""
    res = ejected[f"small.{cid}"]["result"]
    want = SMALL_T[f"{cid}.after.vector_u"]
    (key,) = [k for k in res if k.startswith("bnorm:")]
    assert float(res[key]) == pytest.approx(float(want.norm()), rel=1e-5)


@pytest.mark.parametrize("name", sorted(EXPORT))
def test_compile_export_onnx(ejected, name):
    case = ejected[name]
    res = case["result"]
    for kind in ["compiled", "exported"] + (["onnx"] if EXPORT[name] else []):
        for i, want in enumerate(case["loaded"]):
            assert_close(res[f"{kind}{i}"], want, rtol=case["rtol"], msg=f"{name}: {kind} output {i}")


def test_generated_code_uses_torch_modules(ejected):
    """torch.nn's own modules where their semantics are Keras's; channels-first inside a conv stack."""
    def source(name: str) -> str:
        return (pathlib.Path(ejected[name]["dir"]) / "model.py").read_text()

    norms = source("tf_norms.tf.h5")
    assert "self.gn = nn.GroupNorm(3, 6, eps=0.001)" in norms and "group_norm(self.gn, x.permute(0, 3, 1, 2))" in norms
    adaptive = source("adaptive_rms.k3.keras")
    assert "nn.AdaptiveAvgPool2d((3, 4))" in adaptive and "nn.AdaptiveMaxPool2d(2)" in adaptive
    assert adaptive.count("permute") == 2  # in and out only: RMSNormalization runs on the channels-first view
    assert "nn.RMSNorm(5, eps=1e-06)" in source("small.c050")
    assert '"input": nn.Conv2d(2, 8, kernel_size=3, padding=1)' in source("conv_lstm.tf.h5")
    assert "pad=(0, 1, 0, 1)" in source("conv_lstm_strided")  # TF's 'same' split of 6 by a 3-window, stride 2
    assert "nn.Linear(5, 6)" in source("einsum.proj3d.k3") and "torch.einsum(" in source("einsum.transpose_out.k3")


def test_group_norm_trains_on_an_input_without_gradient(ejected):
    """The ejected GroupNorm on channels_last data trains on a plain input (torch 2.13's CPU channels_last
    group_norm backward would crash there without the group_norm helper's copy)."""
    d = pathlib.Path(ejected["group.c001"]["dir"])
    spec = importlib.util.spec_from_file_location("ejected_group_c001", d / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.load().train()
    net(GROUP_T["c001.input.0"]).square().sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_what_has_no_ejected_form_names_itself(tmp_path):
    from kerastorch import layers

    refused = [
        (layers.ConvLSTM2D(2, 3, dropout=0.2, name="cl"), (None, 3, 5, 5, 2), "ConvLSTM2D.*dropout"),
        (layers.SpectralNormalization(layers.EinsumDense("ab,bc->ac", 3), name="sn"), (None, 4),
         "SpectralNormalization.*EinsumDense"),
        (layers.EinsumDense("ab,bc->ac", 3, lora_rank=2, name="ed"), (None, 4), "EinsumDense.*LoRA"),
    ]
    for layer, shape, match in refused:
        model, _ = _one_layer(layer, [shape])
        with pytest.raises(EjectError, match=match):
            eject(model, tmp_path / "out")
        assert not (tmp_path / "out").exists()

"""``kerastorch eject`` of models carrying Keras masks, and the recurrent forms (step loops, stacked cells, dropout).

Every masked fixture file (``compat_fixtures/masks``: Embedding(mask_zero) / Masking text models, tf.keras's AND and
Keras 3's OR of masks at merges, Concatenate, a nested encoder, TimeDistributed; ``rnn/models``: a masked LSTM /
Bidirectional / GRU stack, a Bidirectional text classifier, StackedRNNCells; ``attention``: MultiHeadAttention with
the token mask and cross-attention with both sides' masks; ``attention_small``: Attention and AdditiveAttention with
masks), both Keras versions, is ejected; the generated files run in ONE fresh process without kerastorch
(``eject_testing.run_standalone``) and give the recorded Keras outputs and the kerastorch model's. The recorded
recurrent layer cases with right, left and interior padding (``rnn/cases.json``) run behind a ``Masking`` layer
(their masked input steps zeroed: a masked step's input never reaches Keras's outputs); hand-built attention
models (an attention_mask input with a row masked whole, a causal AdditiveAttention, masked self-attention),
Keras 3's masked Multiply / Maximum / Minimum and a mask handed to a call give kerastorch's outputs. A training
step gives kerastorch's gradients on masked models (self-attention included); an LSTM and stacked cells with
dropout give kerastorch's training outputs and gradients under the same seed (one mask per sequence); a masked
LSTM and masked self-attention pass ``torch.compile(fullgraph=True)`` and ``torch.export``; a time_major LSTM
runs batch-first inside. A model without masks gets no mask code; what eject cannot express is refused, naming
the layer.
"""
from __future__ import annotations

import pathlib

import pytest
import torch

from eject_testing import assert_standalone_outputs, record, run_standalone
from kt_testing import FIXTURES, assert_close, load_json, load_tensors

from kerastorch.eject import EjectError, eject, eject_file
from kerastorch.eject.codegen import identifier

MASKS = load_json("masks/masks.json")["models"]
MASKS_T = load_tensors("masks/masks.safetensors")
RNN_MODELS = {m["name"]: m for m in load_json("rnn/models.json")}
RNN_MT = load_tensors("rnn/models.safetensors")
ATT = {m["id"]: m for m in load_json("attention/attention.json")["models"]}
ATT_T = load_tensors("attention/attention.safetensors")
CROSS = load_json("attention/cross_attention.json")
CROSS_T = load_tensors("attention/cross_attention.safetensors")
SMALL_T = load_tensors("attention_small/models_tensors.safetensors")
RNN_CASES = {c["id"]: c for c in load_json("rnn/cases.json")}
RNN_T = load_tensors("rnn/tensors.safetensors")


def _files() -> dict[str, tuple[pathlib.Path, list, list]]:
    """name -> (model file, inputs, recorded Keras outputs) of every masked fixture file."""
    out = {}
    for rec in MASKS:
        xs = [MASKS_T[i["key"]] for i in rec["inputs"]]
        for tag, fn in rec["files"].items():
            out[fn] = (FIXTURES / "masks" / fn, xs, [MASKS_T[f"{rec['id']}.{tag.split('_')[0]}.out"]])
    for name in ("stacked_lstm_masked", "text_classifier", "mixed"):
        rec = RNN_MODELS[name]
        xs = [RNN_MT[f"{name}.input.{i}"] for i in range(rec["n_inputs"])]
        for tag, fn in rec["files"].items():
            n = sum(1 for k in RNN_MT if k.startswith(f"{name}.{tag}.out."))
            expected = [RNN_MT[f"{name}.{tag}.out.{j}"] for j in range(n)]
            out[f"rnn/{fn.split('/')[-1]}"] = (FIXTURES / "rnn" / fn, xs, expected)
    rec = ATT["text_classifier"]
    for tag, fn in rec["files"].items():
        xs = [ATT_T[f"text_classifier.input.{n}"] for n in rec["inputs"]]
        out[f"attention/{fn}"] = (FIXTURES / "attention" / fn, xs, [ATT_T[f"text_classifier.{tag}.out"]])
    for tag, fn in CROSS["files"].items():
        out[f"attention/{fn}"] = (FIXTURES / "attention" / fn, [CROSS_T[f"input.{n}"] for n in CROSS["inputs"]],
                                  [CROSS_T[f"{tag}.out"]])
    for tag, fn in (("tf", "masked_attention.tf.h5"), ("k3", "masked_attention.k3.keras")):
        out[f"attention_small/{fn}"] = (FIXTURES / "attention_small" / fn, [SMALL_T[f"masked_attention.{tag}.input"]],
                                        [SMALL_T[f"masked_attention.{tag}.output"]])
    return out


FILES = _files()
#: recorded recurrent layer cases with a mask (right / left / interior padding; states in and out, go_backwards,
#: GRU reset_after=False, Bidirectional, RNN over one and two cells)
MASKED_RNN = ["r005", "r006", "r014", "r015", "r016", "r017", "r018", "r031", "r032", "r041", "r042", "r046"]
#: a training step against kerastorch's (a masked LSTM / Bidirectional / GRU stack; Masking, TimeDistributed, a
#: masked mean; a text model on integer token ids: Embedding(mask_zero), its gradients through the embedding only)
GRAD = {"rnn/stacked_lstm_masked.tf.h5", "masking_model.k3.keras", "text_func.k3.keras"}
#: through torch.compile(fullgraph=True) and torch.export: a masked LSTM (interior padding), masked self-attention
EXPORT = ["r016", "self_attention"]


def _masked_rnn_model(cid: str):
    """The recorded case behind Masking(0.0), its masked steps zeroed; initial states as extra Inputs."""
    from kerastorch import layers
    from kerastorch.models import Input, Model
    from rnn_fixtures import build, weights

    case = RNN_CASES[cid]
    layer = build(case["spec"])
    x = Input((case["steps"], *case["features"]), name="sequence")
    states = [Input(tuple(RNN_T[f"{cid}.state.{i}"].shape[1:]), name=f"state_{i}") for i in range(case["n_states"])]
    h = layers.Masking(0.0, name="masking")(x)
    model = Model([x, *states], layer(h, initial_state=states) if states else layer(h))
    layer.set_weights(weights(case))
    xs = [RNN_T[f"{cid}.input"] * RNN_T[f"{cid}.mask"].unsqueeze(-1).float()]
    xs += [RNN_T[f"{cid}.state.{i}"] for i in range(case["n_states"])]
    return model, xs, [RNN_T[f"{cid}.tf.out.{k}"] for k in range(case["tf"]["n_outputs"])]


def _time_major_lstm():
    """Recorded case r019 (LSTM time_major=True): the model's inputs are (steps, batch, features)."""
    from kerastorch.models import Input, Model
    from rnn_fixtures import build, weights

    case = RNN_CASES["r019"]
    layer = build(case["spec"])
    x = Input((case["batch"], *case["features"]), name="sequence")
    model = Model(x, layer(x))
    layer.set_weights(weights(case))
    return model, [RNN_T["r019.input"]], [RNN_T["r019.tf.out.0"]]


def _attention_zoo():
    """Hand-built (kerastorch's attention layers are checked against Keras in tests/attention): MultiHeadAttention
    with an attention_mask input having a row masked whole (tf.keras's uniform weights; Keras 3's zeros when it
    has dropout), Attention with dropout, a causal AdditiveAttention."""
    from kerastorch import layers
    from kerastorch.models import Input, Model

    q, v = Input((4, 6), name="query"), Input((5, 6), name="value")
    allowed = Input((4, 5), dtype="bool", name="allowed")
    out = layers.MultiHeadAttention(2, 3, name="mha")(q, v, attention_mask=allowed)
    dot = layers.Attention(use_scale=True, dropout=0.2, name="att")([q, v])
    additive = layers.AdditiveAttention(name="add_att")([q, v], use_causal_mask=True)
    # Keras 3 (a seed marks it) with dropout materializes the scores: a row masked whole gives zeros
    out3 = layers.MultiHeadAttention(2, 3, dropout=0.1, seed=1, name="mha_k3")(q, v, attention_mask=allowed)
    model = Model([q, v, allowed], [out, out3, dot, additive])
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    xq = torch.randn(2, 4, 6, generator=g)
    xq[0, 3:] = 0.0  # a padded query step
    mask = torch.rand(2, 4, 5, generator=g) > 0.3
    mask[1, 2] = False  # a query row masked whole
    return model, [xq, torch.randn(2, 5, 6, generator=g), mask], []


def _mask_zoo():
    """Hand-built: Keras 3's masked Multiply / Maximum / Minimum (layers from a Keras 3 config; kerastorch's are
    checked against Keras 3 in tests/merging), a mask handed to an LSTM by hand (an Input), a shared embedding."""
    from kerastorch import layers
    from kerastorch.models import Input, Model

    policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}
    tok, other = Input((5,), dtype="int32", name="tokens"), Input((5,), dtype="int32", name="other")
    given = Input((5,), dtype="bool", name="given")
    emb = layers.Embedding(9, 3, mask_zero=True, name="emb")
    a, b = emb(tok), emb(other)
    plain = layers.Dense(3, name="proj")(layers.Embedding(9, 3, name="plain")(tok))  # no mask
    outs = []
    for cls in ("Multiply", "Maximum", "Minimum"):
        merge = layers.deserialize({"class_name": cls, "config": {"name": cls.lower(), "dtype": policy}})
        outs.append(merge([a, b, plain]))
    outs.append(layers.LSTM(2, return_sequences=True, name="lstm")(plain, mask=given))
    model = Model([tok, other, given], outs)
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    ids = torch.tensor([[1, 2, 0, 0, 3], [0, 4, 5, 0, 0]])
    return model, [ids, torch.tensor([[0, 2, 1, 0, 3], [6, 0, 5, 0, 1]]), ids % 3 != 0], []


def _masked_self_attention():
    """Self-attention behind Masking (a padded query row is masked whole), for the training step."""
    from kerastorch import layers
    from kerastorch.models import Input, Model

    x = Input((4, 6), name="sequence")
    h = layers.Masking(0.0, name="masking")(x)
    y = layers.GlobalAveragePooling1D(name="gap")(layers.MultiHeadAttention(2, 3, name="self_mha")(h, h))
    model = Model(x, layers.Dense(2, name="head")(y))
    g = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    xs = torch.randn(2, 4, 6, generator=g)
    xs[0, 3:] = 0.0
    return model, [xs], []


def _dropout_lstm():
    """Recorded case r021 (LSTM dropout=0.5, recurrent_dropout=0.3) in a model; in train mode both draw their
    per-sequence masks from torch's generator in the same order."""
    from kerastorch import layers
    from kerastorch.models import Input, Model
    from rnn_fixtures import build, weights

    case = RNN_CASES["r021"]
    layer = build(case["spec"])
    x = Input((case["steps"], *case["features"]), name="sequence")
    model = Model(x, layer(x))
    layer.set_weights(weights(case))
    return model, [RNN_T["r021.input"]], [RNN_T["r021.tf.out.0"]]


def _stacked_dropout():
    """RNN over StackedRNNCells with dropout and recurrent dropout in both cells (hand-built: Keras's per-cell masks,
    drawn once per call, as kerastorch draws them)."""
    from kerastorch import layers
    from kerastorch.models import Input, Model

    x = Input((5, 3), name="sequence")
    cells = [layers.LSTMCell(3, dropout=0.3, recurrent_dropout=0.2),
             layers.GRUCell(2, dropout=0.4, recurrent_dropout=0.1)]
    model = Model(x, layers.RNN(cells, return_sequences=True, name="rnn")(x))
    g = torch.Generator().manual_seed(6)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return model, [torch.randn(2, 5, 3, generator=g)], []


#: trained under one seed against kerastorch: Keras's per-sequence dropout masks of a layer and of stacked cells
DROPOUT = {"dropout": _dropout_lstm, "stacked_dropout": _stacked_dropout}


@pytest.fixture(scope="module")
def ejected(tmp_path_factory) -> dict[str, dict]:
    from kerastorch.models import load_model

    root = tmp_path_factory.mktemp("eject_masks")
    cases = {}
    for name, (path, xs, expected) in FILES.items():
        out = root / identifier(name)
        eject_file(str(path), out)
        cases[name] = record(name, load_model(str(path)), xs, expected, 1e-5, out, {"grad": name in GRAD})
    for cid in MASKED_RNN:
        model, xs, expected = _masked_rnn_model(cid)
        eject(model, root / cid)
        cases[cid] = record(cid, model, xs, expected, 1e-5, root / cid, {"export": cid in EXPORT})
    model, xs, expected = _attention_zoo()
    eject(model, root / "attention_zoo")
    cases["attention_zoo"] = record("attention_zoo", model, xs, expected, 1e-5, root / "attention_zoo", {})
    model, xs, expected = _mask_zoo()
    eject(model, root / "mask_zoo")
    cases["mask_zoo"] = record("mask_zoo", model, xs, expected, 1e-5, root / "mask_zoo", {})
    model, xs, expected = _masked_self_attention()
    eject(model, root / "self_attention")
    cases["self_attention"] = record("self_attention", model, xs, expected, 1e-5, root / "self_attention",
                                     {"grad": True, "export": True})
    model, xs, expected = _time_major_lstm()
    eject(model, root / "time_major")
    cases["time_major"] = record("time_major", model, xs, expected, 1e-5, root / "time_major", {})
    for name, build in DROPOUT.items():
        model, xs, expected = build()
        eject(model, root / name)
        cases[name] = record(name, model, xs, expected, 1e-5, root / name, {"grad": True, "seed": 0})
        model.train()
        xg = xs[0].clone().requires_grad_(True)
        torch.manual_seed(0)
        y = model(xg)
        y.square().sum().backward()
        cases[name]["train"] = (y.detach(), xg.grad)
    return run_standalone(root, cases)


@pytest.mark.parametrize("name", sorted(FILES) + MASKED_RNN + sorted(DROPOUT)
                         + ["attention_zoo", "mask_zoo", "self_attention", "time_major"])
def test_masked_model_matches_keras_and_kerastorch(ejected, name):
    assert_standalone_outputs(ejected[name], name)


@pytest.mark.parametrize("name", sorted(GRAD) + ["self_attention"])
def test_masked_training_step_matches_kerastorch(ejected, name):
    case = ejected[name]
    res = case["result"]
    for i, g in enumerate(case["grad_x"]):
        assert (g is None) == (f"grad_x{i}" not in res), (name, i)  # token ids take no gradient on either side
        if g is not None:
            assert_close(res[f"grad_x{i}"], g, rtol=1e-4, msg=f"{name}: input gradient {i}")
    # the whole parameter gradient's norm (kerastorch groups weights by layer differently: a TimeDistributed's are its
    # inner layer's, a recurrent layer's its cell's)
    got = sum(float(v) ** 2 for k, v in res.items() if k.startswith("gnorm:")) ** 0.5
    assert got == pytest.approx(sum(v ** 2 for v in case["gnorm"].values()) ** 0.5, rel=1e-4), name


@pytest.mark.parametrize("name", sorted(DROPOUT))
def test_recurrent_dropout_draws_as_kerastorch(ejected, name):
    """Train mode: Keras's per-sequence input and recurrent dropout masks, drawn as kerastorch draws them."""
    case = ejected[name]
    out, grad = case["train"]
    assert_close(case["result"]["train_out0"], out, rtol=1e-5, msg=f"{name}: training output")
    assert_close(case["result"]["grad_x0"], grad, rtol=1e-4, msg=f"{name}: input gradient")
    assert (case["result"]["train_out0"] - case["result"]["out0"]).abs().max() > 1e-3  # dropout did act


@pytest.mark.parametrize("name", EXPORT)
def test_masked_model_compiles_and_exports(ejected, name):
    case = ejected[name]
    for kind in ("compiled", "exported"):
        assert_close(case["result"][f"{kind}0"], case["loaded"][0], rtol=1e-5, msg=f"{name}: {kind}")


def test_mask_code_reads_as_keras(ejected):
    """Masks are variables of forward computed as Keras computes them, consumed by small commented helpers; a
    Keras 3 file's recorded mask ops become the same code; a model without masks has none."""
    tf_text = (pathlib.Path(ejected["text_func.tf.h5"]["dir"]) / "model.py").read_text()
    k3_text = (pathlib.Path(ejected["text_func.k3.keras"]["dir"]) / "model.py").read_text()
    assert "embed_mask = tokens != 0" in tf_text and "masked_mean(" in tf_text and ", embed_mask)" in tf_text
    assert tf_text.split("class ")[1] == k3_text.split("class ")[1]  # the same forward from both Keras versions
    lstm = (pathlib.Path(ejected["rnn/stacked_lstm_masked.tf.h5"]["dir"]) / "model.py").read_text()
    assert "masking_mask = (input_1 != 0.0).any(dim=-1)" in lstm and "def rnn_loop(" in lstm
    assert "mask=masking_mask.flip(1), zero_output=True" in lstm  # Bidirectional's backward half
    plain = eject_file(str(FIXTURES / "rnn" / RNN_MODELS["gru_forecaster"]["files"]["tf"]),
                       pathlib.Path(ejected["dropout"]["dir"]).parent / "plain")
    assert "mask" not in plain.source and "nn.GRU(" in plain.source


def test_unexpressed_masks_are_refused(tmp_path):
    """A mask eject does not carry (time_major: Keras's mask is then (steps, batch)) is an error naming the layer,
    and nothing is written."""
    from kerastorch import layers
    from kerastorch.models import Input, Model

    x = Input((4, 3), name="x")
    model = Model(x, layers.LSTM(2, time_major=True, name="steps_first")(layers.Masking(0.0, name="masking")(x)))
    with pytest.raises(EjectError, match=r'Layer "steps_first" \(LSTM\).*time_major=True with a mask'):
        eject(model, tmp_path / "a")
    assert not (tmp_path / "a").exists()

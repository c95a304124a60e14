"""``kerastorch eject``: Keras files become standalone PyTorch source + safetensors, proven on the fixture zoo.

Every model file of ``compat_fixtures/models`` (tf.keras ``.h5`` and ``.keras``, Keras 3 ``.keras``) and a few
``keras.applications`` architectures (``compat_fixtures/applications``: configs + the seeded fill) are ejected;
the generated ``model.py`` files then run in ONE fresh process where kerastorch cannot be imported
(``standalone_runner.py``, ``python -I`` with the editable install's finder and the repo dropped from the path):
outputs equal the recorded Keras outputs (each fixture's own ``tolerance.rtol``, its reason written by the
generator) and the kerastorch model's; a training step (train mode: batch statistics) gives the same input
gradients, per-layer parameter-gradient norms and updated BatchNorm statistics on a few; torch.compile
(fullgraph=True), torch.export and ONNX (onnxruntime) reproduce the outputs on a few. Ejecting twice gives the
same text and bytes; a layer without an ejected form is a ValueError naming it, and nothing is written.
"""
from __future__ import annotations

import gzip
import importlib.util
import json
import pathlib

import pytest
import torch
from safetensors.torch import load_file

from eject_testing import assert_standalone_outputs, record, run_standalone
from kt_testing import FIXTURES, assert_close, load_json, load_tensors
from model_fill import fill_model

from kerastorch.eject import EjectError, eject, eject_file
from kerastorch.eject.codegen import identifier

MODELS = load_json("models/MANIFEST.json")["fixtures"]
APPS = {e["name"]: e for e in load_json("applications/MANIFEST.json")["fixtures"]}

#: keras.applications architectures ejected here (the others pass too; these keep the test fast and cover
#: TFOpLambda hard-swish, Rescaling, TF's asymmetric 'same' split, Normalization, LayerNormalization, LayerScale,
#: StochasticDepth and a nested Sequential; EfficientNet's Dropout(noise_shape) is in the layer zoo below).
APP_CASES = ["mobilenetv3small.tf_keras", "convnext_droppath.keras3"]
#: the model files ejected: every fixture's tf.keras .h5 and Keras 3 .keras, and tf.keras .keras archives of a
#: few (the rest are the same models as the .h5 files, read by the same reader)
FILES = [fn for e in MODELS if e["kind"] != "refusal" for k, fn in sorted(e["files"].items())
         if k != "config" and (not fn.endswith(".tf.keras") or fn.split(".")[0] == "cnn_seq")]
#: recurrent layer cases (compat_fixtures/rnn/cases.json, recorded from tf.keras; the two hard_sigmoid ones from
#: Keras 3 too), each wrapped in a Functional model (initial states as extra Inputs): fused nn.LSTM/GRU/RNN,
#: bidirectional ones, and the step-loop helpers (GRU reset_after=False, hard_sigmoid, relu/tanh/sigmoid
#: activations, dropout (inference here; tests/eject/test_eject_masks.py trains it), a Bidirectional
#: with states in and out or with unlike halves); masked ones are in tests/eject/test_eject_masks.py
RNN_CASES = ["r002", "r003", "r004", "r008", "r009", "r010", "r011", "r012", "r013", "r021", "r025", "r026",
             "r027", "r029", "r033", "r035", "r036", "r037", "r038", "r039", "r040", "r043", "r044", "r045"]
RNN_K3 = ["r011", "r029"]
#: whole recurrent model files (compat_fixtures/rnn/models): stacked GRUs, a seq2seq decoder started from the
#: encoder's returned states, TimeDistributed(Conv2D) -> LSTM
RNN_MODELS = {m["name"]: m for m in load_json("rnn/models.json")}
RNN_FILES = [("gru_forecaster", "tf"), ("seq2seq", "k3"), ("video", "tf"), ("video", "k3")]
RNN_MT = load_tensors("rnn/models.safetensors")
#: transformer models (compat_fixtures/attention): MultiHeadAttention (causal, cross-attention), Keras 3's
#: GroupQueryAttention
ATT = {m["id"]: m for m in load_json("attention/attention.json")["models"]}
ATT_T = load_tensors("attention/attention.safetensors")
ATT_CASES = [("mini_vit", "tf"), ("mini_vit", "k3"), ("decoder", "tf"), ("decoder", "k3"), ("gqa_lm", "k3")]
#: the convolution family of compat_fixtures/keras_files (transposed, depthwise, separable convolutions, up-sampling,
#: padding, cropping; ranks 1-3, channels_first too): kerastorch Sequentials with tf.keras's weight files, and the
#: Keras 3 full-model .h5 of one of them
CONV_FAMILY = json.loads((FIXTURES / "keras_files" / "conv_family_files.json").read_text())
CONV_T = load_file(str(FIXTURES / "keras_files" / CONV_FAMILY["tensors"]))
#: a training step compared with kerastorch's (no dropout in these: deterministic in train mode)
GRAD_CASES = {"cnn_nchw.tf.h5", "cnn_nchw.k3.keras", "unet.tf.h5", "nested.k3.keras", "two_io_dict.tf.h5",
              "conv3d.k3.keras"}
#: torch.compile / torch.export (and ONNX for the first)
EXPORT_CASES = {"cnn_seq.tf.h5": True, "two_io_dict.k3.keras": False}


RNN_BY_ID = {c["id"]: c for c in load_json("rnn/cases.json")}
RNN_T = load_tensors("rnn/tensors.safetensors")


def _rnn_model(cid: str, tag: str):
    """The recorded layer case ``cid`` in a Functional model (Keras's config of ``tag``, the recorded weights)."""
    from kerastorch import layers
    from kerastorch.models import Input, Model
    from rnn_fixtures import keras3_activations, weights

    case = RNN_BY_ID[cid]
    config = case[tag]["config"] if tag == "tf" else keras3_activations(case[tag]["config"])
    layer = layers.deserialize({"class_name": case["spec"]["cls"], "config": config})
    x = Input((case["steps"], *case["features"]), name="sequence")
    states = [Input(tuple(RNN_T[f"{cid}.state.{i}"].shape[1:]), name=f"state_{i}") for i in range(case["n_states"])]
    y = layer(x, initial_state=states) if states else layer(x)
    model = Model([x, *states], y)
    layer.set_weights(weights(case))
    xs = [RNN_T[f"{cid}.input"]] + [RNN_T[f"{cid}.state.{i}"] for i in range(case["n_states"])]
    return model, xs


def _dot_attention_model():
    """Keras's dot-product ``Attention`` (use_scale, causal) on [query, value, key] and a normalized ``Dot``, checked
    against kerastorch's layers (themselves checked against Keras in tests/attention and tests/merging)."""
    from kerastorch import layers
    from kerastorch.models import Input, Model

    q, v, k = Input((5, 4), name="query"), Input((6, 4), name="value"), Input((6, 4), name="key")
    att = layers.Attention(use_scale=True, name="att")
    y = att([q, v, k], use_causal_mask=True)
    sim = layers.Dot(axes=(2, 2), normalize=True, name="cosine")([q, k])  # (batch, 5, 6) cosine similarities
    model = Model([q, v, k], layers.Concatenate(name="both")([layers.Dense(3, name="head")(y), sim]))
    with torch.no_grad():
        att.scale.fill_(0.7)
    g = torch.Generator().manual_seed(0)
    return model, [torch.randn(2, 5, 4, generator=g), torch.randn(2, 6, 4, generator=g), torch.randn(2, 6, 4, generator=g)]


def _layer_zoo_model():
    """One hand-built model over the CNN-family options the fixture files do not hold (each layer is checked against
    Keras in its own family's tests): TF 'same' pooling with asymmetric splits (max and padding-excluding average),
    ReLU's max_value/negative_slope/threshold, LeakyReLU, ELU(alpha), PReLU(shared_axes), Softmax on the channel axis
    of a channels-first tensor, Average/Maximum/Minimum, bilinear UpSampling, per-channel Rescaling, SpatialDropout2D,
    GaussianNoise/GaussianDropout, Dropout(noise_shape), Conv1D causal and dilated, Keras 3's hard_sigmoid."""
    from kerastorch import layers
    from kerastorch.models import Input, Model

    x = Input((9, 9, 3), name="image")
    h = layers.Rescaling([0.5, 1.0, 2.0], offset=[0.1, 0.0, -0.1], name="scale")(x)
    a = layers.MaxPooling2D(3, 2, padding="same", name="max_same")(h)
    b = layers.AveragePooling2D(2, 2, padding="same", name="avg_same")(h)
    c = layers.Conv2D(3, 3, strides=2, padding="same", name="conv_s2")(h)
    m = layers.Average(name="avg")([a, b, c])
    m = layers.Maximum(name="max")([m, layers.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.2, name="relu")(m)])
    m = layers.Minimum(name="min")([m, layers.LeakyReLU(0.3, name="leaky")(m)])
    m = layers.PReLU(shared_axes=[1, 2], name="prelu")(layers.ELU(0.5, name="elu")(m))
    m = layers.SpatialDropout2D(0.2, name="sdrop")(layers.GaussianNoise(0.1, name="noise")(m))
    m = layers.UpSampling2D(2, interpolation="bilinear", name="up")(m)
    m = layers.Softmax(axis=-1, name="softmax")(layers.Conv2D(4, 1, name="proj")(m))
    s = layers.Reshape((100, 4), name="seq")(m)
    s = layers.Conv1D(3, 3, padding="causal", dilation_rate=2, activation="keras3>hard_sigmoid", name="causal")(s)
    s = layers.GaussianDropout(0.1, name="gdrop")(layers.Dropout(0.2, noise_shape=(None, 1, 3), name="drop")(s))
    y = layers.Dense(2, name="out")(layers.GlobalMaxPooling1D(name="gmp")(s))
    model = Model(x, y)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return model, [torch.randn(2, 9, 9, 3, generator=g)]


@pytest.fixture(scope="module")
def ejected(tmp_path_factory) -> dict[str, dict]:
    from kerastorch.models import load_model, model_from_config

    root = tmp_path_factory.mktemp("eject")
    cases = {}
    for entry in MODELS:
        if entry["kind"] == "refusal":
            continue
        tensors = load_tensors(f"models/{entry['tensors']}")
        xs = [tensors[i["key"]] for i in entry["inputs"]]
        expected = [tensors[k] for k in entry["outputs"]["keys"]]
        for kind, fn in sorted(entry["files"].items()):
            if fn not in FILES:
                continue
            out = root / identifier(fn)
            path = str(FIXTURES / "models" / fn)
            eject_file(path, out)
            job = {"grad": fn in GRAD_CASES, "export": fn in EXPORT_CASES, "onnx": EXPORT_CASES.get(fn, False)}
            names = entry["outputs"]["names"] if entry["outputs"]["structure"] == "dict" else None
            cases[fn] = record(fn, load_model(path), xs, expected, entry["tolerance"]["rtol"], out, job, names)
    for name in APP_CASES:
        entry = APPS[name]
        with gzip.open(FIXTURES / "applications" / entry["config"], "rt") as f:
            model = model_from_config(json.load(f))
        fill_model(model, entry["weights"], entry["fill_seed"], entry["source"])
        out = root / identifier(name)
        eject(model, out, source=entry["config"])
        t = load_tensors(f"applications/{entry['tensors']}")
        cases[name] = record(name, model, [t[entry["input"]["key"]]], [t[entry["output"]["key"]]],
                              entry["tolerance"]["rtol"], out, {})
    for cid, tag in [(c, "tf") for c in RNN_CASES] + [(c, "k3") for c in RNN_K3]:
        model, xs = _rnn_model(cid, tag)
        out = root / f"{cid}_{tag}"
        eject(model, out)
        n = RNN_BY_ID[cid][tag]["n_outputs"]
        cases[f"{cid}.{tag}"] = record(f"{cid}.{tag}", model, xs, [RNN_T[f"{cid}.{tag}.out.{k}"] for k in range(n)],
                                        1e-5, out, {})
    for name, spec in sorted(CONV_FAMILY["models"].items()):
        from kerastorch import layers, load_keras_weights
        from kerastorch.models import Sequential

        model = Sequential([layers.InputLayer(tuple(spec["input_shape"])),
                            *[getattr(layers, c)(**a) for c, a in spec["layers"]]], name=name)
        load_keras_weights(model, str(FIXTURES / "keras_files" / spec["files"]["tf_weights"]))
        eject(model, root / name)
        cases[name] = record(name, model, [CONV_T[f"{name}.input"]], [CONV_T[f"{name}.output"]], 1e-5, root / name, {})
    full = "b_depthwise_separable2d_nhwc.k3_full.h5"
    eject_file(str(FIXTURES / "keras_files" / full), root / "k3_full")
    cases[full] = record(full, load_model(str(FIXTURES / "keras_files" / full)), [CONV_T["b_depthwise_separable2d_nhwc.input"]],
                          [CONV_T["b_depthwise_separable2d_nhwc.output"]], 1e-5, root / "k3_full", {})
    for name, tag in RNN_FILES:
        path = str(FIXTURES / "rnn" / RNN_MODELS[name]["files"][tag])
        out = root / f"{name}_{tag}"
        eject_file(path, out)
        xs = [RNN_MT[f"{name}.input.{i}"] for i in range(RNN_MODELS[name]["n_inputs"])]
        n = sum(1 for k in RNN_MT if k.startswith(f"{name}.{tag}.out."))
        cases[f"rnn.{name}.{tag}"] = record(f"rnn.{name}.{tag}", load_model(path), xs,
                                             [RNN_MT[f"{name}.{tag}.out.{j}"] for j in range(n)], 1e-5, out, {})
    for mid, tag in ATT_CASES:
        path = str(FIXTURES / "attention" / ATT[mid]["files"][tag])
        out = root / f"{mid}_{tag}"
        eject_file(path, out)
        xs = [ATT_T[f"{mid}.input.{n}"] for n in ATT[mid]["inputs"]]
        cases[f"{mid}.{tag}"] = record(f"{mid}.{tag}", load_model(path), xs, [ATT_T[f"{mid}.{tag}.out"]], 1e-5, out, {})
    model, xs = _layer_zoo_model()
    eject(model, root / "layer_zoo")
    cases["layer_zoo"] = record("layer_zoo", model, xs, [], 1e-5, root / "layer_zoo", {})
    model, xs = _dot_attention_model()
    eject(model, root / "dot_attention")
    cases["dot_attention"] = record("dot_attention", model, xs, [], 1e-5, root / "dot_attention", {})
    return run_standalone(root, cases)


def test_every_fixture_model_is_ejected():
    """The zoo: every loadable model file of compat_fixtures/models, both kinds of file, both Keras versions."""
    names = {e["name"].split(".")[0] for e in MODELS if e["kind"] != "refusal"}
    assert {fn.split(".")[0] for fn in FILES} == names
    for suffix in (".tf.h5", ".tf.keras", ".k3.keras"):
        assert any(f.endswith(suffix) for f in FILES), suffix


@pytest.mark.parametrize("name", FILES + APP_CASES + [f"{c}.tf" for c in RNN_CASES] + [f"{c}.k3" for c in RNN_K3]
                         + [f"{m}.{t}" for m, t in ATT_CASES] + ["dot_attention", "layer_zoo"]
                         + [f"rnn.{n}.{t}" for n, t in RNN_FILES] + sorted(CONV_FAMILY["models"])
                         + ["b_depthwise_separable2d_nhwc.k3_full.h5"])
def test_standalone_outputs_match_keras_and_kerastorch(ejected, name):
    assert_standalone_outputs(ejected[name], name)


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_training_step_matches_kerastorch(ejected, name):
    """Train mode (BatchNorm on batch statistics and updating its moving statistics with Keras's momentum and
    variance rule): same input gradients, same gradient norm per layer, same statistics afterwards."""
    case = ejected[name]
    res = case["result"]
    for i, g in enumerate(case["grad_x"]):
        assert_close(res[f"grad_x{i}"], g, rtol=1e-4, msg=f"{name}: input gradient {i}")  # a backward pass: 10x
    for kind in ("gnorm", "bnorm"):
        got = {k.split(":", 1)[1]: float(v) for k, v in res.items() if k.startswith(kind + ":")}
        assert set(got) == set(case[kind]), (kind, sorted(got), sorted(case[kind]))
        for layer, want in case[kind].items():
            assert got[layer] == pytest.approx(want, rel=1e-4), (name, kind, layer)
    assert case["bnorm"] or not name.startswith("cnn_nchw")  # the BatchNorm cases do check statistics


@pytest.mark.parametrize("name", sorted(EXPORT_CASES))
def test_compile_export_onnx(ejected, name):
    case = ejected[name]
    res = case["result"]
    kinds = ["compiled", "exported"] + (["onnx"] if EXPORT_CASES[name] else [])
    for kind in kinds:
        for i, want in enumerate(case["loaded"]):
            assert_close(res[f"{kind}{i}"], want, rtol=case["rtol"], msg=f"{name}: {kind} output {i}")


def test_structure_names_and_layout(ejected):
    """Inputs keep the Keras Input names, a dict output its keys; a CNN runs channels-first inside."""
    source = (pathlib.Path(ejected["two_io_dict.k3.keras"]["dir"]) / "model.py").read_text()
    assert "def forward(self, a: torch.Tensor, b: torch.Tensor) -> dict[str, torch.Tensor]:" in source
    assert "return {" in source
    cnn = (pathlib.Path(ejected["cnn_seq.tf.h5"]["dir"]) / "model.py").read_text()
    assert "nn.Conv2d(3, 4, kernel_size=3, padding=1)" in cnn and "image.permute(0, 3, 1, 2)" in cnn
    # the kernels of channels_last data sit in channels_last memory after load() (else oneDNN reorders them per call)
    spec = importlib.util.spec_from_file_location("ejected_cnn_seq", pathlib.Path(ejected["cnn_seq.tf.h5"]["dir"]) / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    kernels = [m.weight for m in module.load().modules() if isinstance(m, torch.nn.Conv2d)]
    assert kernels and all(k.is_contiguous(memory_format=torch.channels_last) for k in kernels)
    nchw = (pathlib.Path(ejected["cnn_nchw.tf.h5"]["dir"]) / "model.py").read_text()
    assert "nn.Conv2d(" in nchw and "memory_format=torch.channels_last" not in nchw  # channels_first data: NCHW kernels
    assert "written by tf.keras 2." in cnn and "cnn_seq.tf.h5" in cnn
    imports = {line.strip() for line in cnn.splitlines() if line.strip().startswith(("import ", "from "))}
    assert imports == {"from __future__ import annotations", "import os", "import torch",
                       "import torch.nn.functional as F", "from torch import nn", "from safetensors.torch import load_file"}
    shared = (pathlib.Path(ejected["shared.k3.keras"]["dir"]) / "model.py").read_text()
    init, forward = shared.split("def forward")
    assert init.count("self.shared = nn.Linear(5, 4)") == 1 and forward.count("self.shared(") == 3  # one module, 3 calls


def test_public_function(tmp_path):
    """``kerastorch.eject(model, out_dir)`` for a hand-built model: a header without a file."""
    import kerastorch
    from kerastorch import layers
    from kerastorch.models import Sequential

    model = Sequential([layers.InputLayer((8,)), layers.Dense(3, activation="softmax", name="probs")], name="tiny")
    ejected = kerastorch.eject(model, tmp_path)
    assert "an in-memory kerastorch model" in ejected.source and "class Tiny(nn.Module):" in ejected.source
    assert "torch.softmax(self.probs(input_layer), dim=-1)" in ejected.source.replace("input_1", "input_layer") or \
        "torch.softmax(self.probs(" in ejected.source


def test_eject_is_stable(tmp_path):
    path = str(FIXTURES / "models" / "unet.k3.keras")
    first, second = eject_file(path, tmp_path / "a"), eject_file(path, tmp_path / "b")
    assert first.source == second.source
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()


def test_unsupported_layer_names_itself_and_writes_nothing(tmp_path):
    from kerastorch import layers
    from kerastorch.models import Input, Model

    x = Input(batch_shape=(2, 4, 3), name="sequence")
    y = layers.LSTM(3, stateful=True, name="odd_one")(x)  # states kept between calls: not a pure function
    model = Model(x, y)
    with pytest.raises(EjectError, match=r'Layer "odd_one" \(LSTM\).*stateful') as info:
        eject(model, tmp_path / "out")
    assert isinstance(info.value, ValueError)
    assert not (tmp_path / "out").exists()


def test_cli_eject(tmp_path, capsys):
    from kerastorch.cli import main

    assert main(["eject", str(FIXTURES / "models" / "cnn_seq.k3.keras"), str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "model.py").is_file() and (tmp_path / "out" / "model.safetensors").is_file()
    assert "model.py" in capsys.readouterr().out
    assert main(["eject", str(FIXTURES / "models" / "lambda_k3.k3.keras"), str(tmp_path / "bad")]) == 2
    assert "Lambda" in capsys.readouterr().err and not (tmp_path / "bad").exists()


def test_long_lines_wrap_without_changing_their_value():
    """codegen.wrap splits a long line's last parentheses one part per line: a parenthesized conditional stays one
    value (no trailing comma making it a tuple), a call's lone generator argument stays valid, and a line it cannot
    split safely (a bracket inside a string) is kept whole; every wrapped line computes what the line computed."""
    from kerastorch.eject.codegen import wrap

    names = {f"value_{i}_{'x' * 30}": float(i) for i in range(4)}
    a, b, c, d = names
    lines = [f"y = ({a} if {b} > {c} else {d} - {a})",
             f"y = max({a} + {b} for _ in range(3) if {c} >= {d} or {a} < 100.0 * {b} - {c} + {d} * 2.0)",
             f"y = min({a}, {b}, {c}, {d}, ({a} if {b} else {c}))",
             f"y = ({a}, {b} + {c} + {d} + {a} + {b})",
             f"y = (\"(\" + str({a} + {b} + {c} + {d}) + \"))\", ({a}, {b}, {c}, {d}))"]
    for line in lines:
        assert len(line) > 120
        text = wrap(line, "    ")
        assert text.count("\n") > 0 or '"("' in line, text
        want, got = dict(names), dict(names)
        exec(line, want)
        exec(compile("if True:\n" + text, "wrapped", "exec"), got)
        assert got["y"] == want["y"] and type(got["y"]) is type(want["y"]), (line, text)


def test_names_of_helpers_are_not_shadowed_by_layer_or_input_names(tmp_path):
    """A layer or an input named like a helper function that forward calls (keras_relu, elu_tf here) gets another
    variable name: the ejected forward runs and equals the kerastorch model."""
    import importlib.util

    from kerastorch import layers
    from kerastorch.models import Input, Model

    a, b = Input((3,), name="elu_tf"), Input((3,), name="other")
    dense = layers.Dense(3, name="keras_relu_dense")(b)
    named = layers.Dense(3, name="keras_relu")(dense)
    outs = [layers.ELU(alpha=0.5, name="elu")(a), named, layers.ReLU(max_value=1.0, name="clip_b")(named)]
    model = Model([a, b], outs).eval()
    eject(model, tmp_path)
    spec = importlib.util.spec_from_file_location("ejected_shadow", tmp_path / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    xs = [torch.randn(2, 3) * 8, torch.randn(2, 3)]
    with torch.no_grad():
        for got, want in zip(module.load()(*xs), model(xs)):
            assert_close(got, want)

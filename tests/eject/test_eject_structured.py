"""``kerastorch eject`` of the structured-data, text and audio preprocessing layers (``eject/emit_structured.py``).

Keras files (written by real tf.keras 2.21 / Keras 3.15): keras.io's structured-data classifier (StringLookup /
IntegerLookup one_hot, Normalization), the TextVectorization classifiers (int + Embedding, tf_idf)
(``compat_fixtures/lookups``), the structured model (Discretization fixed and adapted, salted and plain integer
Hashing, CategoryEncoding, HashedCrossing) and the audio model (MelSpectrogram, STFTSpectrogram)
(``compat_fixtures/structured/models``) are ejected; their ``model.py`` files run in ONE fresh process where
kerastorch cannot be imported, on raw rows and strings (string columns as lists of str), and give Keras's recorded
outputs. Every case real Keras recorded for these layers (``compat_fixtures/structured/cases.json``, 92 of 94;
``compat_fixtures/lookups/cases.json``, all 75 numeric outputs) is ejected too, in one model per file (Sequential
models for the inputs a Functional cannot take yet), and equals Keras's output, exactly but for the spectrograms.
Two hand-built models cover what the cases leave out (string OOV buckets, salted string hashing, string x integer
crosses, count_weights, IntegerLookup invert and FarmHash buckets, int64 extremes, every STFT mode and layout),
checked against kerastorch. torch.compile / torch.export run on the numeric structured and the audio models, and a
training step through the audio model gives kerastorch's gradients. The ported hashes equal kerastorch's on
thousands of values; string inputs may be NumPy arrays; a layer option without an ejected form is an EjectError
naming the layer, and nothing is written.
"""
from __future__ import annotations

import importlib.util
import json
import pathlib

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from eject_testing import assert_standalone_outputs, record, run_standalone
from kt_testing import FIXTURES, assert_close

from kerastorch import layers as L
from kerastorch.eject import EjectError, eject, eject_file
from kerastorch.eject.codegen import identifier
from kerastorch.graph.keras_tensor import KerasTensor
from kerastorch.models import Input, Model, Sequential, load_model

LOOKUPS = json.loads((FIXTURES / "lookups" / "models.json").read_text())
STRUCT = FIXTURES / "structured" / "models"
#: the vocabulary model files (inputs: raw rows, strings as lists of str)
LOOKUP_FILES = sorted(LOOKUPS["files"])
#: the structured / audio model files and the key of their recorded output
STRUCT_FILES = {"structured.tf.h5": "tf.output", "structured.tf.keras": "tf.output",
                "structured.k3.keras": "k3.output", "audio.k3.keras": "audio.k3.output"}
#: torch.compile(fullgraph=True) and torch.export on these (the tensor-only models)
EXPORT = {"structured.k3.keras", "audio.k3.keras"}


def _lookup_inputs(fname: str) -> list:
    """The recorded raw rows / texts as the ejected forward takes them (string columns as (batch, 1) lists)."""
    if fname.startswith("structured"):
        rows = LOOKUPS["struct_rows"]
        return [[[s] for s in rows["sex"]], [[s] for s in rows["thal"]],
                torch.tensor(rows["ca"]).reshape(-1, 1), torch.tensor(rows["age"]).reshape(-1, 1)]
    return [[[t] for t in LOOKUPS["texts"]]]


def _kerastorch_inputs(xs: list, model) -> object:
    """The same inputs for the kerastorch model (a NumPy string array per string column, a dict by input name)."""
    xs = [np.array(x, dtype=object) if isinstance(x, list) else x for x in xs]
    if len(xs) == 1:
        return xs[0]
    return {t.node.layer.name: x for t, x in zip(model._in_flat, xs)}


def _case(name: str, model, xs: list, expected: list, out: pathlib.Path, export: bool = False) -> dict:
    """Eject ``model`` to ``out`` and store its inputs for the runner: tensors in case.safetensors, string columns
    (lists of str) in the job itself."""
    model.eval()
    with torch.no_grad():
        loaded = model(_kerastorch_inputs(xs, model))
    loaded = list(loaded) if isinstance(loaded, (list, tuple)) else [loaded]
    save_file({f"x{i}": x.contiguous() for i, x in enumerate(xs) if isinstance(x, torch.Tensor)},
              str(out / "case.safetensors"))
    literal = {str(i): x for i, x in enumerate(xs) if not isinstance(x, torch.Tensor)}
    job = {"name": identifier(name), "dir": str(out), "n_inputs": len(xs), "names": None, "literal": literal,
           "export": export, "onnx": False}
    return {"name": name, "dir": str(out), "expected": expected, "loaded": loaded, "job": job}


def _strings_model():
    """The string options the files do not hold, in one model over a text column and a word column."""
    text = Input((1,), dtype="string", name="text")
    word = Input((1,), dtype="string", name="word")
    number = Input((1,), dtype="int64", name="number")
    words = ["red", "green", "blue", "cyan"]
    lookups = [
        L.StringLookup(vocabulary=words, mask_token="", output_mode="multi_hot", name="masked_multi_hot"),
        L.StringLookup(vocabulary=words, output_mode="count", name="count"),
        L.StringLookup(vocabulary=words, output_mode="tf_idf", idf_weights=[0.5, 1.0, 1.5, 2.0], name="tf_idf"),
        L.StringLookup(vocabulary=words, mask_token="", name="masked_int"),
        L.StringLookup(vocabulary=words, num_oov_indices=3, name="oov_buckets"),
        L.StringLookup(vocabulary=words, num_oov_indices=2, salt=[5, 9], output_mode="one_hot", name="salted_buckets"),
        L.Hashing(6, mask_value="", name="hash_words"),
        L.Hashing(4, salt=[1, 2], output_mode="one_hot", name="hash_salted_words"),
    ]
    corpus = ["The cat sat", "the dog, the cat!", "a bird", "Éte the cat sat down"]
    vectorizers = [
        L.TextVectorization(ngrams=(1, 2), output_mode="multi_hot", standardize="lower", name="bigrams"),
        L.TextVectorization(split="character", output_sequence_length=5, standardize="strip_punctuation",
                            name="chars"),
        L.TextVectorization(output_mode="count", max_tokens=6, ngrams=2, name="vector_count"),
        L.TextVectorization(output_mode="one_hot", max_tokens=8, name="vector_one_hot"),
        L.TextVectorization(split=None, standardize=None, output_sequence_length=2, name="whole"),
    ]
    for layer in vectorizers:
        layer.adapt(corpus)
    outs = [layer(word) for layer in lookups] + [layer(text) for layer in vectorizers[:4]] + [vectorizers[4](word)]
    outs.append(L.HashedCrossing(5, name="cross_word_number")([word, number]))
    texts = [["the cat sat"], ["A dog, the  bird\tsat"], ["zebra"], ["ÉTE the\x1ccat"], [""], ["cat cat cat"]]
    long = "a string longer than sixty-four bytes of UTF-8, to take FarmHash's block loop: ünïcödé"
    column = [["red"], [""], ["magenta"], ["a bird"], ["ü" * 11], [long]]
    numbers = torch.tensor([[3], [-2**63], [0], [2**63 - 1], [77], [-5]])
    return Model([text, word, number], outs), [texts, column, numbers]


def _numeric_model():
    """The integer, hashing and audio options the files do not hold (int64 extremes in the hashed columns)."""
    ids = Input((3,), dtype="int64", name="ids")
    known = Input((3,), dtype="int64", name="known")
    cols = [Input((1,), dtype="int64", name=f"col{i}") for i in range(3)]
    wave = Input((40, 2), name="wave")
    weights = Input((3,), name="weights")
    vocabulary = [7, 3, 11, 0, -4, 2**63 - 1, -2**63]
    in_vocab = L.IntegerLookup(vocabulary=vocabulary, name="in_vocab")
    encoded = [
        L.IntegerLookup(vocabulary=[7, 3, 11], mask_token=0, num_oov_indices=2, name="oov_buckets")(ids),
        L.IntegerLookup(vocabulary=[7, 3, 11], output_mode="multi_hot", name="int_multi_hot")(ids),
        L.IntegerLookup(vocabulary=[7, 3, 11], output_mode="count", num_oov_indices=0, mask_token=0,
                        name="int_count")(known),
        L.IntegerLookup(vocabulary=[7, 3, 11], output_mode="tf_idf", idf_weights=[0.5, 1.0, 2.0],
                        name="int_tf_idf")(ids),
        L.Discretization(bin_boundaries=[-5.0, 0.0, 5.0], output_mode="count", name="disc_count")(ids),
        L.CategoryEncoding(8, output_mode="count", name="cat_count")(in_vocab(ids), count_weights=weights),
        L.Hashing(9, mask_value=0, name="hash_masked")(ids),
        L.Hashing(5, salt=133, output_mode="multi_hot", name="hash_salt_multi_hot")(ids),
        L.HashedCrossing(7, name="cross3")(cols),
        L.IntegerLookup(vocabulary=[7, 3, 11], mask_token=0, invert=True, name="int_invert")(known),
        L.IntegerLookup(vocabulary=[7, 3], num_oov_indices=5, oov_method="farmhash", name="farmhash_oov")(ids),
        L.IntegerLookup(vocabulary=[7, 3], num_oov_indices=3, oov_method="farmhash", salt=[4, 6],
                        output_mode="count", name="siphash_oov")(ids),
    ]
    audio = []
    for mode, padding, fmt, expand in [("psd", "same", "channels_last", False),
                                       ("angle", "valid", "channels_first", False),
                                       ("stft", "same", "channels_last", True),
                                       ("magnitude", "valid", "channels_first", True),
                                       ("real", "valid", "channels_last", False)]:
        layer = L.STFTSpectrogram(mode=mode, frame_length=8, frame_step=3, fft_length=16, padding=padding,
                                  data_format=fmt, expand_dims=expand, window="hamming", scaling="spectrum",
                                  name=f"stft_{mode}")
        audio.append(layer(wave if fmt == "channels_last" else L.Permute((2, 1), name=f"to_cf_{mode}")(wave)))
    mono = L.Reshape((80,), name="mono")(wave)
    audio.append(L.MelSpectrogram(fft_length=16, sequence_stride=5, sequence_length=12, window="hamming",
                                  sampling_rate=1000, num_mel_bins=5, power_to_db=False, mag_exp=1.0, name="mel")(mono))
    model = Model([ids, known, *cols, wave, weights], encoded + audio)
    g = torch.Generator().manual_seed(3)
    values = torch.tensor([[7, 3, 11], [0, -4, 12], [2**63 - 1, -2**63, 7], [-1, 99999999999, 3]])
    xs = [values, torch.tensor([[7, 0, 3], [11, 11, 0], [0, 0, 0], [3, 7, 11]]), values[:, :1], values[:, 1:2],
          torch.tensor([[5], [-2**63], [123456789012], [0]]), torch.randn(4, 40, 2, generator=g),
          torch.randn(4, 3, generator=g)]
    return model, xs


def _recorded_cases_model():
    """Every case real Keras computed in ``compat_fixtures/structured/cases.json`` (CategoryEncoding, Discretization,
    Hashing of ints and strings, HashedCrossing, STFTSpectrogram, MelSpectrogram; tf.keras and Keras 3 configs), each
    layer on its own Inputs in one model: (model, inputs, Keras's outputs, case ids)."""
    import numpy as np

    from structured_fixtures import case_input, cases, expected, layer

    inputs, xs, outs, wants, ids = [], [], [], [], []

    def feed(value, name):
        if isinstance(value, torch.Tensor):
            t = Input(tuple(value.shape[1:]), dtype=str(value.dtype).replace("torch.", ""), name=name)
            xs.append(value.cpu())
        else:
            t = Input(np.asarray(value).shape[1:], dtype="string", name=name)
            xs.append(value)
        inputs.append(t)
        return t

    for class_name in ("CategoryEncoding", "Discretization", "Hashing", "HashedCrossing", "STFTSpectrogram",
                       "MelSpectrogram"):
        for case in cases(class_name):
            x = case_input(case)
            name = identifier(case["id"]).lower()
            if isinstance(x, torch.Tensor) and x.dim() == 0:
                continue  # a scalar has no batch axis for an Input
            symbolic = ([feed(c, f"{name}_{i}") for i, c in enumerate(x)] if class_name == "HashedCrossing"
                        else feed(x, f"{name}_in"))
            kwargs = {k: feed(torch.tensor(v, dtype=torch.float32), f"{name}_{k}")
                      for k, v in case.get("call_kwargs", {}).items()}
            out = layer({**case, "config": {**case["config"], "name": name}})(symbolic, **kwargs)
            if not isinstance(out, KerasTensor):  # kerastorch's graph reads a rank-1 cross's shape (None,) as a list
                inputs[len(inputs) - len(kwargs) - (len(x) if class_name == "HashedCrossing" else 1):] = []
                del xs[len(inputs):]
                continue
            outs.append(out)
            wants.append(expected(case))
            ids.append(case["id"])
    return Model(inputs, outs, name="recorded_cases"), xs, wants, ids


def _recorded_lookup_cases_model():
    """Every case real Keras computed in ``compat_fixtures/lookups/cases.json`` (IntegerLookup, StringLookup,
    TextVectorization: adapted or given vocabularies, masks, OOV buckets, every output mode, tf.keras and Keras 3),
    each input of each case on its own Input in one model (the layer shared by its inputs): (model, inputs, Keras's
    outputs, case ids), and Sequential models for the inputs a Functional cannot take yet (kerastorch's graph reads
    the output spec (None,) of a rank-1 input, or (None, None), as a list). Terms back from StringLookup(invert=True)
    (strings) are checked in-process elsewhere."""
    import numpy as np

    import kerastorch as kt

    dtypes = {"int64": torch.int64, "float32": torch.float32}
    inputs, xs, outs, wants, ids, sequential = [], [], [], [], [], []
    for case in json.loads((FIXTURES / "lookups" / "cases.json").read_text()):
        cls = getattr(kt.layers, case["layer"])
        name = f"{case['id']}_{case['layer']}".lower()
        if case["keras"] == "k3":
            layer = cls.from_config({**case["config"], "name": name})
        else:
            kwargs = {k: tuple(v) if k == "ngrams" and isinstance(v, list) else v for k, v in case["kwargs"].items()}
            layer = cls(**kwargs, name=name)
        if case["adapt"] is not None:
            layer.adapt(np.array(case["adapt"]) if case["layer"] == "IntegerLookup" else case["adapt"])
        for i, (x, want) in enumerate(zip(case["inputs"], case["outputs"])):
            if "strings" in want:
                continue
            integer = case["layer"] == "IntegerLookup" or getattr(layer, "invert", False)
            value = torch.tensor(np.array(x)) if integer else x
            shape = tuple(np.asarray(x).shape[1:])
            t = Input(shape, dtype="int64" if integer else "string", name=f"{name}_in{i}")
            out = layer(t)
            want = torch.tensor(want["values"], dtype=dtypes[want["dtype"]]).reshape(want["shape"])
            if not isinstance(out, KerasTensor):
                model = Sequential([L.InputLayer(shape, dtype="int64" if integer else "string"), layer])
                sequential.append((f"{case['id']} input {i}", model, value, want))
                continue
            inputs.append(t)
            xs.append(value)
            outs.append(out)
            wants.append(want)
            ids.append(f"{case['id']} input {i}")
    return Model(inputs, outs, name="recorded_lookups"), xs, wants, ids, sequential


@pytest.fixture(scope="module")
def ejected(tmp_path_factory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("eject_structured")
    cases = {}
    for fname in LOOKUP_FILES:  # named lookups/...: structured/models holds files of the same names
        path = FIXTURES / "lookups" / fname
        out = root / identifier(f"lookups/{fname}")
        eject_file(str(path), out)
        cases[f"lookups/{fname}"] = _case(fname, load_model(path), _lookup_inputs(fname),
                                          [torch.tensor(LOOKUPS["files"][fname]["output"])], out)
    from safetensors.torch import load_file

    tensors = load_file(str(STRUCT / "tensors.safetensors"))
    for fname, key in STRUCT_FILES.items():
        out = root / identifier(fname)
        eject_file(str(STRUCT / fname), out)
        if fname.startswith("audio"):  # and a training step: the STFT kernels are trainable weights in Keras
            job = {"grad": True, "export": True, "onnx": False}
            model = load_model(STRUCT / fname)
            cases[fname] = record(fname, model, [tensors["x_wave"]], [tensors[key]], 1e-5, out, job)
            continue
        xs = [tensors[k] for k in ("x_num", "x_id", "x_b")]
        cases[fname] = _case(fname, load_model(STRUCT / fname), xs, [tensors[key]], out, fname in EXPORT)
    for name, make in (("recorded_cases", _recorded_cases_model), ("recorded_lookups", _recorded_lookup_cases_model)):
        model, xs, wants, ids, *more = make()
        eject(model, root / name)
        cases[name] = _case(name, model, xs, wants, root / name)
        cases[name]["ids"] = ids
        for k, (cid, seq, x, want) in enumerate(more[0] if more else []):
            eject(seq, root / f"{name}_{k}")
            cases[f"{name}_{k}"] = _case(cid, seq, [x], [want], root / f"{name}_{k}")
            cases[name]["ids"].append(f"{name}_{k}")
    for name, make in (("strings", _strings_model), ("numeric", _numeric_model)):
        model, xs = make()
        eject(model, root / name)
        cases[name] = _case(name, model, xs, [], root / name)
    return run_standalone(root, cases)


@pytest.mark.parametrize("name", [f"lookups/{f}" for f in LOOKUP_FILES] + list(STRUCT_FILES)
                         + ["strings", "numeric", "recorded_cases", "recorded_lookups"])
def test_standalone_outputs_match_keras_and_kerastorch(ejected, name):
    case = ejected[name]
    # the audio model's decibels (up to ~80) pass a Dense: 1e-4 absolute, as its own tests/preprocessing check
    assert_standalone_outputs(case, name, keras_atol=1e-4 if name.startswith("audio") else None)
    if case["job"]["export"]:
        for kind in ("compiled", "exported"):
            assert_close(case["result"][f"{kind}0"], case["loaded"][0], msg=f"{name}: {kind}")


def _import(directory: str, name: str):
    spec = importlib.util.spec_from_file_location(f"ejected_{name}", pathlib.Path(directory) / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_strings_enter_as_numpy_arrays_and_the_vocabulary_stays_out_of_the_source(ejected):
    """The ejected model takes NumPy string arrays (and flat lists) as kerastorch does; its vocabularies are in
    model.safetensors, not model.py, and come back from a reload."""
    case = ejected["strings"]
    source = (pathlib.Path(case["dir"]) / "model.py").read_text()
    assert '"cyan"' not in source and "'cyan'" not in source and "StringVocabulary(4, 16, 1, 0)" in source
    net = _import(case["dir"], "strings").load()
    texts, words = case["job"]["literal"]["0"], case["job"]["literal"]["1"]
    numbers = torch.tensor([[3], [-2**63], [0], [2**63 - 1], [77], [-5]])
    with torch.no_grad():
        outs = net(np.array(texts), np.array(words, dtype=object), numbers)
        flat = net([t[0] for t in texts], [w[0] for w in words], numbers.reshape(-1))
    for got, want in zip(outs, case["loaded"]):
        assert_close(got, want)
    assert flat[3].shape == (6,) and flat[3].tolist() == case["loaded"][3].reshape(-1).tolist()
    with pytest.raises(ValueError, match="regular shape"):
        net([["a"], ["b", "c"]], [["x"], ["y"]], numbers[:2])


def test_string_inputs_are_annotated_as_lists_of_str(ejected):
    """forward's signature says what each input takes: string columns lists of str (flat or Keras's (batch, 1)),
    numbers tensors; the annotations resolve with model.py's own imports (torch only)."""
    import typing

    module = _import(ejected["strings"]["dir"], "strings_hints")
    hints = typing.get_type_hints(module.load().forward)
    assert hints["text"] == hints["word"] == list[str] | list[list[str]]
    assert hints["number"] is torch.Tensor


def test_hashes_equal_kerastorch_on_many_integers(ejected):
    """The ejected FarmHash / SipHash of decimal strings against kerastorch's (itself checked against TensorFlow in
    tests/preprocessing/test_hashing.py), on random int64 values of every length and both extremes."""
    from kerastorch.layers.preprocessing import fingerprint

    module = _import(ejected["numeric"]["dir"], "numeric_hashes")
    g = torch.Generator().manual_seed(0)
    digits = torch.randint(0, 19, (2000,), generator=g)
    values = (torch.rand(2000, generator=g, dtype=torch.float64) * 10.0 ** digits.double()).long()
    values = torch.cat([values, -values, torch.tensor([0, -1, 2**63 - 1, -2**63, 10**18, -10**18])])
    values = values.repeat(5)  # 20k values: more than one of the ejected CPU chunks (16384)
    for bins in (7, 2**31 - 1, 2**63 - 1):
        want = fingerprint.unsigned_mod(fingerprint.hash_integers(values), bins)
        assert torch.equal(module.hash_integers(values, bins), want), bins
        key = (133, -5)
        want = fingerprint.unsigned_mod(fingerprint.hash_integers(values, key), bins)
        assert torch.equal(module.hash_integers_salted(values, bins, key), want), bins


def _refused(what: str):
    ids = Input((2,), dtype="int64", name="ids")
    if what == "no_vocabulary":
        return Model(ids, L.IntegerLookup(name="odd")(ids)), "no vocabulary"
    if what == "callable_standardize":
        text = Input((1,), dtype="string", name="text")
        layer = L.TextVectorization(standardize=lambda s: s, output_sequence_length=3, name="odd")
        layer.adapt(["a b", "b c"])
        return Model(text, layer(text)), "callable `standardize`"
    raise AssertionError(what)


def test_sequential_hashing_takes_strings_or_integers(tmp_path):
    """A Sequential's first layer cannot tell strings from integers at eject time: the ejected Hashing takes both."""
    model = Sequential([L.InputLayer((1,), dtype="string"), L.Hashing(7, mask_value="b", name="hash")])
    eject(model, tmp_path)
    net = _import(str(tmp_path), "sequential_hashing").load()
    words = [["a"], ["b"], ["ü"]]
    assert torch.equal(net(words), model(words))
    ints = torch.tensor([[4], [-9]])
    assert torch.equal(net(ints), Sequential([L.InputLayer((1,), dtype="int64"), model.layers[0]])(ints))


def test_string_invert_gives_nested_lists_of_str(tmp_path):
    """StringLookup(invert=True): the ejected model returns the terms as nested lists of str (kerastorch: a NumPy
    string array), oov_token outside the vocabulary."""
    ids = Input((3,), dtype="int64", name="ids")
    layer = L.StringLookup(vocabulary=["a", "bé", "c"], mask_token="[M]", invert=True, name="words")
    model = Model(ids, layer(ids))
    eject(model, tmp_path)
    net = _import(str(tmp_path), "string_invert").load()
    x = torch.tensor([[0, 1, 2], [3, 4, 9], [-1, 2, 3]])
    got = net(x)
    assert isinstance(got, list) and got == model(x).tolist() and got[1] == ["bé", "c", "[UNK]"]


@pytest.mark.parametrize("name,least", [("recorded_cases", 92), ("recorded_lookups", 75)])
def test_recorded_layer_cases_match_keras(ejected, name, least):
    """Each recorded case of the structured/audio and vocabulary layers computes, ejected, what Keras computed (same
    dtype and shape; exactly, the spectrograms to float32 rounding as their own tests/preprocessing parity tests)."""
    case = ejected[name]
    assert len(case["ids"]) >= least
    outputs = [(case["result"], i) for i in range(len(case["expected"]))] + \
        [(ejected[c]["result"], 0) for c in case["ids"][len(case["expected"]):]]
    wants = case["expected"] + [ejected[c]["expected"][0] for c in case["ids"][len(case["expected"]):]]
    for (res, i), cid, want in zip(outputs, case["ids"], wants):
        got = res[f"out{i}"]
        assert got.dtype == want.dtype and got.shape == want.shape, (cid, got.dtype, want.dtype, got.shape, want.shape)
        if "Spectrogram" in cid:
            assert_close(got, want, rtol=1e-5, atol=1e-4, msg=cid)
        else:
            torch.testing.assert_close(got, want, rtol=0, atol=0, msg=cid)


def test_audio_training_step_matches_kerastorch(ejected):
    """A training step through the ejected audio model: the input gradient (through torch.stft and the DFT
    convolution) and each trainable layer's gradient norm (the STFT kernels, the Dense) equal kerastorch's."""
    case = ejected["audio.k3.keras"]
    res = case["result"]
    assert_close(res["grad_x0"], case["grad_x"][0], rtol=1e-4, msg="input gradient")  # a backward pass: 10x
    got = {k.split(":", 1)[1]: float(v) for k, v in res.items() if k.startswith("gnorm:")}
    assert set(got) == set(case["gnorm"]) == {"stft", "dense"}
    for layer, want in case["gnorm"].items():
        assert got[layer] == pytest.approx(want, rel=1e-4), layer


@pytest.mark.parametrize("what", ["no_vocabulary", "callable_standardize"])
def test_options_without_an_ejected_form_are_refused(what, tmp_path):
    model, message = _refused(what)
    kind = {"no_vocabulary": "IntegerLookup", "callable_standardize": "TextVectorization"}[what]
    with pytest.raises(EjectError, match=f'Layer "odd" \\({kind}\\).*{message}'):
        eject(model, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_string_hashes_equal_kerastorch(ejected):
    """The ejected Python FarmHash / SipHash of strings against kerastorch's (checked against TensorFlow in
    tests/preprocessing/test_hashing.py): every length branch up to 200 bytes, unicode, both key forms."""
    from kerastorch.layers.preprocessing import fingerprint

    module = _import(ejected["strings"]["dir"], "strings_hashes")
    strings = ["", "a", "ab", "abc"] + ["x" * n + "é" * (n % 3) for n in range(1, 200, 7)] + ["ünïcödé " * 20]
    want = fingerprint.hash_strings(strings)[0]
    got = [module.farmhash_bytes(s.encode("utf-8")) for s in strings]
    assert [g - (1 << 64) if g >> 63 else g for g in got] == want.tolist()
    for key in ((5, 9), (-3, 2**62)):
        want = fingerprint.hash_strings(strings, key)[0]
        got = [module.siphash_bytes(s.encode("utf-8"), key) for s in strings]
        assert [g - (1 << 64) if g >> 63 else g for g in got] == want.tolist()

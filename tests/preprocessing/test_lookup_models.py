"""Models with vocabulary layers from real Keras files (``compat_fixtures/lookups/``, written by real tf.keras 2.21
and Keras 3.15 in ``gen/lookups.py``): keras.io's structured-data classifier (StringLookup/IntegerLookup one_hot +
Normalization -> Dense) and a TextVectorization text classifier, from tf.keras ``.h5`` (vocabularies in the
config), tf.keras ``.keras`` and Keras 3 ``.keras`` (vocabularies in ``assets/``), called on raw rows and strings
(lists of str / NumPy string arrays); ``save_model`` writes Keras 3's assets (``prove_lookup_files.py`` shows real
Keras 3 reading them back: ``proof.json``); a damaged vocabulary asset is refused naming the layer."""
from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pytest
import torch

import kerastorch as kt
from kt_testing import DEVICE, assert_close

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "compat_fixtures", "lookups")
with open(os.path.join(HERE, "models.json")) as f:
    RECORD = json.load(f)


def _inputs(fname, as_list=False):
    if fname.startswith("structured"):
        rows = RECORD["struct_rows"]
        x = {k: (np.array(v, dtype=object).reshape(-1, 1) if isinstance(v[0], str) else
                 torch.tensor(v, dtype=torch.float32 if k == "age" else torch.int64).reshape(-1, 1).to(DEVICE))
             for k, v in rows.items()}
        if as_list:
            x["sex"] = [[s] for s in rows["sex"]]
        return x
    texts = RECORD["texts"]
    return texts if as_list else np.array(texts).reshape(-1, 1)


@pytest.mark.parametrize("fname", sorted(RECORD["files"]))
def test_keras_file_outputs(fname, tmp_path):
    model = kt.models.load_model(os.path.join(HERE, fname)).to(DEVICE)
    model.eval()
    expected = torch.tensor(RECORD["files"][fname]["output"])
    with torch.no_grad():
        assert_close(model(_inputs(fname)), expected, msg=f"{fname} on NumPy string arrays")
        assert_close(model(_inputs(fname, as_list=True)), expected, msg=f"{fname} on lists of str")
    # save_model writes the vocabularies as Keras 3 does (assets/, idf in the weights); reading it back agrees
    path = tmp_path / "again.keras"
    kt.models.save_model(model, path)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    layers = [l for l in model.layers if hasattr(l, "vocabulary_asset")]
    adapted = [l for l in layers if l.vocabulary_asset() is not None]
    assert sum(n.startswith("assets/") and n.endswith("/vocabulary.txt") for n in names) >= len(adapted)
    again = kt.models.load_model(path).to(DEVICE).eval()
    with torch.no_grad():
        assert_close(again(_inputs(fname)), expected, msg=f"{fname} saved and loaded again")
    assert [l.get_vocabulary() for l in again.layers if hasattr(l, "get_vocabulary")] == \
        [l.get_vocabulary() for l in layers]


def test_real_keras3_reads_what_save_model_writes():
    with open(os.path.join(HERE, "proof.json")) as f:
        proof = json.load(f)
    assert proof["summary"]["checks"] == len(RECORD["files"]) == proof["summary"]["passed"]


def _with_member(src, member, data, tmp_path):
    out = tmp_path / "damaged.keras"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            if item.filename == member:
                if data is not None:
                    zout.writestr(item, data)
            else:
                zout.writestr(item, zin.read(item.filename))
    return out


@pytest.mark.parametrize("data,what", [
    (b"[UNK]\nmale\nfemale\nmale", "repeated"),
    (None, "has no vocabulary in its config"),
    (b"[UNK]\n\xff\xfe", "UTF-8"),
])
def test_damaged_vocabulary_asset_is_refused(data, what, tmp_path):
    src = os.path.join(HERE, "structured.k3.keras")
    bad = _with_member(src, "assets/layers/string_lookup/vocabulary.txt", data, tmp_path)
    with pytest.raises(ValueError) as info:
        kt.models.load_model(bad)
    assert what in str(info.value) and "sex_lookup" in str(info.value), str(info.value)


def test_a_config_never_names_a_vocabulary_file(tmp_path):
    vocab = tmp_path / "v.txt"
    vocab.write_text("a\nb\n")
    layer = kt.layers.StringLookup(vocabulary=str(vocab))  # user code may
    assert layer.get_vocabulary() == ["[UNK]", "a", "b"]
    for cls in (kt.layers.StringLookup, kt.layers.IntegerLookup, kt.layers.TextVectorization):
        with pytest.raises(ValueError, match="vocabulary file outside"):
            cls.from_config({"name": "x", "vocabulary": str(vocab)})
    vocab.write_text("a\nb\na\n")
    with pytest.raises(ValueError, match="repeated"):
        kt.layers.StringLookup(vocabulary=str(vocab))


def test_string_input_errors():
    inp = kt.models.Input(shape=(1,), dtype="string", name="words")
    model = kt.models.Model(inp, kt.layers.StringLookup(vocabulary=["a", "b"])(inp))
    assert model(["a", "b", "c"]).tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match='InputLayer "words".*string'):
        model(torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="StringLookup layer .*expected strings"):
        kt.layers.StringLookup(vocabulary=["a"])(torch.tensor([1]))
    with pytest.raises(ValueError, match="StringLookup layer .*expected strings"):
        kt.layers.StringLookup(vocabulary=["a"])(np.array([["a", 3]], dtype=object))


def test_sequential_takes_strings():
    vectorize = kt.layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(["a b c", "b c d"])
    seq = kt.models.Sequential([vectorize, kt.layers.Embedding(20, 3), kt.layers.GlobalAveragePooling1D()]).to(DEVICE)
    ids = vectorize(["a b", "d"])
    assert ids.tolist() == [[5, 3, 0, 0], [4, 0, 0, 0]]  # by count (c, b: 2; d, a: 1), ties by the term, decreasing
    expected = seq.layers[2](seq.layers[1](ids))
    assert_close(seq(["a b", "d"]), expected, msg="list of str")
    assert_close(seq(np.array([["a b"], ["d"]])), expected, msg="NumPy string array")


def test_untrusted_config_sizes_are_bounded():
    for bad in (dict(max_tokens=10**12), dict(num_oov_indices=10**9), dict(max_tokens=2.5)):
        with pytest.raises(ValueError, match="StringLookup layer"):
            kt.layers.StringLookup.from_config({"name": "s", **bad})
    with pytest.raises(ValueError, match="vocabulary size cannot be changed"):  # a config whose size lies
        kt.layers.StringLookup.from_config({"name": "s", "output_mode": "multi_hot", "vocabulary": ["a", "b"],
                                            "vocabulary_size": 10**9})

"""IntegerLookup, StringLookup and TextVectorization (issue 21, the vocabulary layers), recorded from real tf.keras
2.21 (``tf``) and Keras 3.15 (``k3``) under ``lookups/``:

* ``cases.json``: per case the layer, its arguments, the adapt data (if any), the vocabulary after adapt/set,
  the idf weights, the config, and the outputs (values, dtype, shape) on each call input (strings as JSON
  strings; ``invert`` outputs as strings);
* ``errors.json``: Keras's error message per bad argument / vocabulary / input;
* model files with their vocabularies: keras.io's structured-data classifier (StringLookup/IntegerLookup
  one_hot + Normalization -> Dense) and a text classifier (TextVectorization -> Embedding ->
  GlobalAveragePooling1D -> Dense), saved by tf.keras (``.h5`` with the vocabularies given as arguments, ``.keras``
  adapted) and Keras 3 (``.keras`` adapted; also a tf_idf TextVectorization -> Dense, whose idf weights are in the
  weights file), with ``models.json``: the raw rows / strings and each file's output.
"""
from __future__ import annotations

import os

import numpy as np

from .common import fresh_session, import_keras3, import_tf, write_json

WORDS = ["the cat sat on the mat", "The dog, sat! on the LOG.", "a cat\tand a\u00a0dog", "ÉCOLE über Straße",
         "x\x1cy  z\u3000w", "it's e-mail: a@b.c (yes)", "the the the cat"]
STR_DATA = ["b", "a", "c", "c", "b", "é", "Z", "z", "a", "c", "d"]


def _out(y):
    if isinstance(y, (list, tuple)):
        return [_out(t) for t in y]
    a = np.asarray(y.numpy() if hasattr(y, "numpy") else y)
    if a.dtype.kind in "SO":
        return {"strings": np.vectorize(lambda s: s.decode() if isinstance(s, bytes) else str(s), otypes=[object])(a).tolist(),
                "shape": list(a.shape)}
    if a.dtype.kind == "U":
        return {"strings": a.tolist(), "shape": list(a.shape)}
    return {"values": a.tolist(), "dtype": str(a.dtype), "shape": list(a.shape)}


def _py(v):
    if isinstance(v, (np.generic,)):
        return v.item()
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, (list, tuple)):
        return [_py(t) for t in v]
    if isinstance(v, dict):
        return {k: _py(t) for k, t in v.items()}
    return v


def _cases():
    S, I, T = "StringLookup", "IntegerLookup", "TextVectorization"
    ints = [[3, 3, -2, 7], [7, 7, 1, 0], [5, 9, 9, 3]]
    return [
        # StringLookup
        dict(layer=S, kwargs={}, adapt=STR_DATA, inputs=[[["a"], ["zz"], ["c"], ["é"]], ["Z", "z", "q"]]),
        dict(layer=S, kwargs=dict(max_tokens=4), adapt=STR_DATA, inputs=[["a", "b", "c", "d"]]),
        dict(layer=S, kwargs=dict(mask_token="", num_oov_indices=2), adapt=STR_DATA + ["", ""],
             inputs=[[["a", ""], ["nope", "zz"]], ["", "q1", "q2", "q3", "d"]]),
        dict(layer=S, kwargs=dict(vocabulary=["x", "y", "z"], num_oov_indices=3, salt=[3, 7]),
             inputs=[["x", "w", "v", "u", "t", "z"]]),
        dict(layer=S, kwargs=dict(vocabulary=["x", "y", "z"], output_mode="one_hot"), inputs=[[["x"], ["q"], ["z"]], ["y", "x"]]),
        dict(layer=S, kwargs=dict(vocabulary=["x", "y", "z"], output_mode="multi_hot", mask_token=""),
             inputs=[[["x", "x", "", "q"], ["z", "y", "y", ""]], ["x", "z"]]),
        dict(layer=S, kwargs=dict(vocabulary=["x", "y", "z"], output_mode="count", max_tokens=6, pad_to_max_tokens=True),
             inputs=[[["x", "x", "q"], ["z", "y", "y"]]]),
        dict(layer=S, kwargs=dict(output_mode="tf_idf"), adapt=[["a", "b"], ["a", "c"], ["b", "b"], ["d", "a"]],
             inputs=[[["a", "a", "b"], ["q", "d", "c"]]]),
        dict(layer=S, kwargs=dict(vocabulary=["x", "y", "z"], idf_weights=[0.5, 1.0, 2.0], output_mode="tf_idf"),
             inputs=[[["x", "x", "q"], ["z", "y", "w"]]]),
        dict(layer=S, kwargs=dict(vocabulary=["[UNK]", "x", "y"], idf_weights=[0.1, 0.5, 1.0], output_mode="tf_idf",
                                  max_tokens=5, pad_to_max_tokens=True), inputs=[[["x", "y", "q"]]]),
        dict(layer=S, kwargs=dict(vocabulary=["", "[UNK]", "x", "y"], mask_token=""), inputs=[[["x", "", "q", "y"]]]),
        dict(layer=S, kwargs=dict(vocabulary=["x", "y", "z"], invert=True), inputs=[[[0, 1], [3, 9]]]),
        dict(layer=S, kwargs=dict(vocabulary=["x", "y"], invert=True, mask_token="[M]", oov_token="??"),
             inputs=[[0, 1, 2, 3, 4, -1]]),
        dict(layer=S, kwargs=dict(vocabulary=["x", "y", "z"], num_oov_indices=0), inputs=[[["z", "x"]]]),
        # IntegerLookup
        dict(layer=I, kwargs={}, adapt=ints, inputs=[[[3, 7, 4], [9, -2, 0]]]),
        dict(layer=I, kwargs=dict(max_tokens=4, mask_token=0), adapt=ints, inputs=[[[0, 3, 7, 9, 1]]]),
        dict(layer=I, kwargs=dict(vocabulary=[10, 20, 30], num_oov_indices=3), inputs=[[[10, 11, -7, 30, 5]]]),
        dict(layer=I, kwargs=dict(vocabulary=[10, 20, 30], num_oov_indices=3, oov_method="farmhash"),
             inputs=[[[10, 11, -7, 30, 5, 123456789]]]),
        dict(layer=I, kwargs=dict(vocabulary=[10, 20, 30], num_oov_indices=2, oov_method="farmhash", salt=5),
             inputs=[[[11, -7, 5, 99]]]),
        dict(layer=I, kwargs=dict(vocabulary=[10, 20, 30], mask_token=0, output_mode="one_hot"), inputs=[[[10], [0], [7]], [20, 30]]),
        dict(layer=I, kwargs=dict(vocabulary=[10, 20, 30], output_mode="multi_hot"), inputs=[[[10, 10, 99], [30, 20, 20]], [10, 30]]),
        dict(layer=I, kwargs=dict(vocabulary=[10, 20, 30], output_mode="count", mask_token=0),
             inputs=[[[10, 10, 0, 99], [30, 20, 20, 0]]]),
        dict(layer=I, kwargs=dict(output_mode="tf_idf"), adapt=ints, inputs=[[[3, 3, 7], [1, 9, 4]]]),
        dict(layer=I, kwargs=dict(vocabulary=[10, 20, 30], invert=True), inputs=[[[0, 1, 3, 5, -1]]]),
        dict(layer=I, kwargs=dict(vocabulary=[10, 20, 30], invert=True, mask_token=0, oov_token=-9), inputs=[[0, 1, 2, 4, 7]]),
        # TextVectorization
        dict(layer=T, kwargs={}, adapt=WORDS, inputs=[WORDS, [[w] for w in WORDS[:3]]]),
        dict(layer=T, kwargs=dict(output_sequence_length=5, max_tokens=8), adapt=WORDS, inputs=[WORDS[:4]]),
        dict(layer=T, kwargs=dict(split="character", output_sequence_length=12), adapt=WORDS, inputs=[WORDS[2:5]]),
        dict(layer=T, kwargs=dict(ngrams=2, output_mode="multi_hot"), adapt=WORDS[:3], inputs=[WORDS[:4]]),
        dict(layer=T, kwargs=dict(ngrams=(1, 3), output_mode="count", max_tokens=12), adapt=WORDS, inputs=[WORDS]),
        dict(layer=T, kwargs=dict(output_mode="tf_idf", max_tokens=10, pad_to_max_tokens=True), adapt=WORDS, inputs=[WORDS]),
        dict(layer=T, kwargs=dict(standardize="lower", split=None), adapt=["A b", "a B", "A b", "c"],
             inputs=[[["a b"], ["A B"], ["c"]]]),
        dict(layer=T, kwargs=dict(standardize=None, output_mode="one_hot", split=None), adapt=["A", "a", "A"],
             inputs=[[["A"], ["a"], ["b"]]]),
        dict(layer=T, kwargs=dict(standardize="strip_punctuation", vocabulary=["The", "cat", "sat"]),
             inputs=[["The cat, sat.", "the CAT"]]),
        dict(layer=T, kwargs=dict(vocabulary=["x", "y"], idf_weights=[1.0, 2.0], output_mode="tf_idf"), inputs=[["x y y z"]]),
    ]


def _errors():
    S, I, T = "StringLookup", "IntegerLookup", "TextVectorization"
    return [
        dict(layer=S, stage="init", kwargs=dict(vocabulary=["a", "b", "a"])),
        dict(layer=S, stage="init", kwargs=dict(vocabulary=["a", "", "b"], mask_token="")),
        dict(layer=S, stage="init", kwargs=dict(vocabulary=["a", "[UNK]"], invert=True)),
        dict(layer=S, stage="init", kwargs=dict(max_tokens=1)),
        dict(layer=S, stage="init", kwargs=dict(invert=True, output_mode="multi_hot")),
        dict(layer=S, stage="init", kwargs=dict(vocabulary=["a"], idf_weights=[1.0])),
        dict(layer=S, stage="init", kwargs=dict(vocabulary=["a"], output_mode="tf_idf")),
        dict(layer=S, stage="init", kwargs=dict(vocabulary=["a", "b"], idf_weights=[1.0], output_mode="tf_idf")),
        dict(layer=S, stage="init", kwargs=dict(pad_to_max_tokens=True)),
        dict(layer=S, stage="init", kwargs=dict(output_mode="bogus")),
        dict(layer=S, stage="init", kwargs=dict(vocabulary=["a", "b", "c"], max_tokens=3)),
        dict(layer=S, stage="init", kwargs=dict(num_oov_indices=-1)),
        dict(layer=S, stage="init", kwargs=dict(vocabulary=[])),
        dict(layer=S, stage="call", kwargs=dict(vocabulary=["a"], num_oov_indices=0), inputs=["a", "b"]),
        dict(layer=S, stage="call", kwargs=dict(output_mode="multi_hot"), inputs=["a"]),
        dict(layer=S, stage="adapt", kwargs=dict(vocabulary=["a"]), inputs=["a"]),
        dict(layer=I, stage="init", kwargs=dict(vocabulary=[1, 2, 2])),
        dict(layer=I, stage="init", kwargs=dict(vocabulary=[1, 0], mask_token=0)),
        dict(layer=I, stage="init", kwargs=dict(vocabulary_dtype="int32")),
        dict(layer=I, stage="init", kwargs=dict(salt=3)),
        dict(layer=I, stage="call", kwargs=dict(vocabulary=[1], num_oov_indices=0), inputs=[1, 5]),
        dict(layer=T, stage="init", kwargs=dict(output_mode="multi_hot", output_sequence_length=3)),
        dict(layer=T, stage="init", kwargs=dict(standardize="upper")),
        dict(layer=T, stage="init", kwargs=dict(split="comma")),
        dict(layer=T, stage="init", kwargs=dict(ngrams="2")),
        dict(layer=T, stage="call", kwargs=dict(vocabulary=["a"]), inputs=[["a", "b"], ["c", "d"]]),
    ]


def _record(lib, tag):
    cases = []
    L = lib.layers
    for i, c in enumerate(_cases()):
        kwargs = dict(c["kwargs"])
        if tag == "tf" and ("salt" in kwargs or "oov_method" in kwargs):
            continue  # Keras 3 only
        fresh_session(lib)
        try:
            layer = getattr(L, c["layer"])(**{k: tuple(v) if k == "ngrams" and isinstance(v, list) else v
                                             for k, v in kwargs.items()})
            if c.get("adapt") is not None:
                data = c["adapt"]
                if c["layer"] == "IntegerLookup":
                    data = np.array(data)
                layer.adapt(data)
            outs = [_out(layer(np.array(x))) for x in c["inputs"]]
        except Exception as ex:  # noqa: BLE001  (tf.keras cannot adapt tf_idf on a dense 2-D batch: not recorded)
            print(f"[lookups] {tag} case {i} ({c['layer']} {kwargs}) not recorded: {type(ex).__name__}: {str(ex)[:120]}")
            continue
        entry = dict(id=f"{tag}{i:02d}", keras=tag, layer=c["layer"], kwargs=kwargs, adapt=c.get("adapt"),
                     inputs=c["inputs"], outputs=outs, vocabulary=_py(list(layer.get_vocabulary())),
                     config=_py(layer.get_config()))
        lookup = getattr(layer, "_lookup_layer", layer)
        idf = getattr(lookup, "idf_weights", None)
        if idf is not None and kwargs.get("output_mode") in ("tf_idf", "tf-idf"):
            entry["idf_weights"] = np.asarray(idf.numpy() if hasattr(idf, "numpy") else idf).tolist()
        entry["config"].pop("dtype", None) if tag == "tf" else None
        cases.append(entry)
    return cases


def _record_errors(lib, tag):
    out = []
    for e in _errors():
        fresh_session(lib)
        try:
            layer = getattr(lib.layers, e["layer"])(**e["kwargs"])
            if e["stage"] == "call":
                layer(np.array(e["inputs"]))
            elif e["stage"] == "adapt":
                layer.adapt(np.array(e["inputs"]))
            message = None
        except Exception as ex:  # noqa: BLE001
            message = f"{type(ex).__name__}: {str(ex)[:400]}"
        out.append(dict(keras=tag, **e, message=message))
    return out


STRUCT_ROWS = {
    "sex": ["male", "female", "female", "male", "other", "male"],
    "thal": ["fixed", "normal", "reversible", "normal", "1", "normal"],
    "ca": [0, 1, 2, 0, 3, 7],
    "age": [63.0, 41.0, 58.0, 29.0, 70.0, 51.0],
}
TEXTS = ["a great movie, loved it", "terrible plot and bad acting", "great acting!", "I loved the plot",
         "bad, bad, bad", "an unknown word zzz"]


def _structured_model(lib, adapt: bool):
    L = lib.layers
    inputs, encoded = [], []
    for name, cls, vocab in (("sex", L.StringLookup, ["male", "female"]), ("thal", L.StringLookup, ["fixed", "normal", "reversible"]),
                             ("ca", L.IntegerLookup, [0, 1, 2, 3])):
        inp = lib.Input(shape=(1,), name=name, dtype="string" if cls is L.StringLookup else "int64")
        lookup = cls(output_mode="one_hot", name=f"{name}_lookup") if adapt else cls(vocabulary=vocab, output_mode="one_hot", name=f"{name}_lookup")
        if adapt:
            lookup.adapt(np.array(STRUCT_ROWS[name][:5]))
        inputs.append(inp)
        encoded.append(L.Activation("linear", dtype="float32", name=f"{name}_float")(lookup(inp)) if False else lookup(inp))
    age = lib.Input(shape=(1,), name="age")
    norm = L.Normalization(name="age_norm")
    norm.adapt(np.array(STRUCT_ROWS["age"]).reshape(-1, 1))
    inputs.append(age)
    encoded.append(norm(age))
    x = L.Concatenate()([L.Lambda(lambda t: t)(e) if False else e for e in encoded])
    x = L.Dense(8, activation="relu")(x)
    out = L.Dense(1, activation="sigmoid")(x)
    return lib.Model(inputs, out)


def _text_model(lib, adapt: bool):
    L = lib.layers
    inp = lib.Input(shape=(1,), dtype="string", name="text")
    if adapt:
        tv = L.TextVectorization(max_tokens=20, output_sequence_length=6, name="vectorize")
        tv.adapt(np.array(TEXTS[:5]))
    else:
        tv = L.TextVectorization(max_tokens=20, output_sequence_length=6, name="vectorize",
                                 vocabulary=["bad", "great", "plot", "loved", "acting", "the", "movie"])
    x = tv(inp)
    x = L.Embedding(20, 4)(x)
    x = L.GlobalAveragePooling1D()(x)
    out = L.Dense(1, activation="sigmoid")(x)
    return lib.Model(inp, out)


def _tfidf_model(lib, adapt=True):
    L = lib.layers
    inp = lib.Input(shape=(1,), dtype="string", name="text")
    if adapt:
        tv = L.TextVectorization(max_tokens=12, output_mode="tf_idf", name="vectorize")
        tv.adapt(np.array(TEXTS[:5]))
    else:  # tf.keras .h5: the vocabulary and idf weights in the config (and the idf weights as a variable too)
        tv = L.TextVectorization(output_mode="tf_idf", name="vectorize", vocabulary=["bad", "great", "plot", "loved"],
                                 idf_weights=[0.4, 0.9, 1.2, 1.5])
    out = L.Dense(1, activation="sigmoid")(tv(inp))
    return lib.Model(inp, out)


def _struct_inputs():
    return {k: np.array(v, dtype=object if isinstance(v[0], str) else None).reshape(-1, 1) for k, v in STRUCT_ROWS.items()}


def _save_models(out, tf, tfk, k3):
    records = {"struct_rows": STRUCT_ROWS, "texts": TEXTS, "files": {}}
    plans = [
        ("structured.tf.h5", tfk, lambda: _structured_model(tfk, adapt=False)),
        ("structured.tf.keras", tfk, lambda: _structured_model(tfk, adapt=True)),
        ("structured.k3.keras", k3, lambda: _structured_model(k3, adapt=True)),
        ("text.tf.h5", tfk, lambda: _text_model(tfk, adapt=False)),
        ("text.tf.keras", tfk, lambda: _text_model(tfk, adapt=True)),
        ("text.k3.keras", k3, lambda: _text_model(k3, adapt=True)),
        ("text_tfidf.k3.keras", k3, lambda: _tfidf_model(k3)),  # idf weights in the weights file
        ("text_tfidf.tf.h5", tfk, lambda: _tfidf_model(tfk, adapt=False)),
    ]
    for fname, lib, make in plans:
        fresh_session(lib, seed=7)
        model = make()
        if fname.startswith("structured"):
            x = _struct_inputs()
            x = {k: tf.constant(v.astype(str) if v.dtype == object else v) for k, v in x.items()}
        else:
            x = tf.constant(np.array(TEXTS).reshape(-1, 1))
        y = model(x)
        path = os.path.join(out, fname)
        if os.path.exists(path):
            os.remove(path)
        model.save(path)
        reloaded = lib.models.load_model(path)
        y2 = reloaded(x)
        records["files"][fname] = {"output": np.asarray(y).tolist(),
                                   "reloaded_by_keras_equal": bool(np.allclose(np.asarray(y), np.asarray(y2), atol=1e-6))}
    write_json(os.path.join(out, "models.json"), records)


def main(out_dir):
    out = os.path.join(out_dir, "lookups")
    os.makedirs(out, exist_ok=True)
    tf, tfk = import_tf()
    k3 = import_keras3()
    write_json(os.path.join(out, "cases.json"), _record(tfk, "tf") + _record(k3, "k3"))
    write_json(os.path.join(out, "errors.json"), _record_errors(tfk, "tf") + _record_errors(k3, "k3"))
    _save_models(out, tf, tfk, k3)
    return out

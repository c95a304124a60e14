"""Structured-data and audio preprocessing layers (issue 21, the non-vocabulary half), recorded from real tf.keras
2.21 and Keras 3.15.1 under ``structured/``:

* ``hashes.json``: TF's raw hashes of a set of strings (unicode, empty, every FarmHash length class up to 300
  bytes) and of integers' decimal strings: ``to_hash_bucket_fast`` / ``to_hash_bucket_strong`` with
  ``num_buckets = 2**63 - 1`` and several small bucket counts, and ``tf.sparse.cross_hashed`` of columns;
* ``cases.json`` + ``tensors.safetensors``: per layer and option (CategoryEncoding, Discretization, Hashing,
  HashedCrossing in both versions; MelSpectrogram and STFTSpectrogram in Keras 3) the args, the config, the input
  and the output (float inputs/outputs in the safetensors file under ``<id>.input`` / ``<id>.output``, small
  integer ones inline), plus STFTSpectrogram's kernels for one case;
* ``errors.json``: constructor errors (layer, args, the exception type and message);
* ``adapt.json``: Discretization ``adapt`` on several data sets (the data in ``tensors.safetensors`` under
  ``adapt.<name>``), the bins each version finds, tf.keras's ``summary`` weight;
* ``models/``: a Keras 3 ``.keras`` (Hashing/Discretization/CategoryEncoding/HashedCrossing + Dense, and a
  MelSpectrogram/STFTSpectrogram audio model) and tf.keras ``.h5``/``.keras`` files with the layers tf.keras has,
  with their inputs and Keras's outputs in ``models/tensors.safetensors``.
"""
from __future__ import annotations

import os

import numpy as np

from .common import error_text, fresh_session, imports, jsonable, save_safetensors, write_json

STRINGS = ["", "A", "B", "ab", "abc", "abcd", "héllo", "日本語", "emoji 🙂", "12345678", "exactly16bytes!!",
           "seventeen bytes!!", "a string of thirty-two bytes....", "thirty-three bytes of text here..!",
           "x" * 40, "y" * 63, "z" * 64, "w" * 65, "0123456789" * 10, "long " * 60, "-1", "0", "42"]
INTS = [0, 1, -1, 7, 42, -42, 99, 100, 1234, 99999, 10 ** 9, -(10 ** 12), 2 ** 31 - 1, -(2 ** 31),
        2 ** 62, 2 ** 63 - 1, -(2 ** 63), 123456789012345678]
BINS = [1, 2, 3, 7, 1000, 2 ** 31 - 1]
BIG = 2 ** 63 - 1


def hashes(tf):
    out = {"strings": STRINGS, "ints": INTS, "bins": BINS, "big": BIG}
    s = tf.constant(STRINGS)
    as_str = tf.strings.as_string(tf.constant(INTS, tf.int64))
    out["ints_as_string"] = [b.decode() for b in as_str.numpy().tolist()]
    keys = {"fast": None, "k133_137": [133, 137], "k42_42": [42, 42], "big_key": [2 ** 63 - 1, 12345], "neg_key": [-5, 3]}
    for tag, values in (("strings", s), ("ints", as_str)):
        for kname, key in keys.items():
            for bins in BINS + [BIG]:
                if key is None:
                    h = tf.strings.to_hash_bucket_fast(values, bins)
                else:
                    h = tf.strings.to_hash_bucket_strong(values, bins, key)
                out[f"{tag}.{kname}.{bins}"] = h.numpy().tolist()
    # cross_hashed of dense columns (strings, ints, mixed) with bins 1000 and none (% int64 max)
    a = tf.constant([["A"], ["B"], [""], ["日本語"]])
    b = tf.constant([[1], [-7], [123456], [0]], tf.int64)
    c = tf.constant([["x"], ["y"], ["z"], ["w" * 70]])
    for name, cols in (("str_str", [a, c]), ("str_int", [a, b]), ("int_int", [b, b * 3]), ("three", [a, b, c])):
        for bins in (1000, 0):
            out[f"cross.{name}.{bins}"] = tf.sparse.to_dense(tf.sparse.cross_hashed(cols, bins)).numpy()[:, 0].tolist()
    out["cross.columns"] = {"a": [r[0].decode() for r in a.numpy().tolist()], "b": b.numpy()[:, 0].tolist(),
                            "c": [r[0].decode() for r in c.numpy().tolist()]}
    return out


# ------------------------------------------------------------------------------------------- layer cases
def _case(lib, source, cls, args, x, kind, cases, tensors, call_kwargs=None, weights=False):
    layer = getattr(lib.layers, cls)(**args)
    cid = f"{source}/{cls}/{len([c for c in cases if c['source'] == source and c['class_name'] == cls])}"
    try:
        y = layer(x, **(call_kwargs or {}))
    except Exception as e:  # noqa: BLE001 - recorded: the versions differ (tf.keras refuses rank > 2 outputs)
        y, call_error = None, error_text(e)
    if y is None:
        cases.append({"id": cid, "source": source, "class_name": cls, "args": jsonable(args), "input_kind": kind,
                      "input_shape": list(np.shape(x if kind != "list" else x[0])), "call_error": call_error})
        return
    y = np.asarray(y.numpy() if hasattr(y, "numpy") else y)
    rec = {"id": cid, "source": source, "class_name": cls, "args": jsonable(args), "config": jsonable(layer.get_config()),
           "input_kind": kind, "output_dtype": str(y.dtype), "output_shape": list(y.shape)}
    if call_kwargs:
        rec["call_kwargs"] = jsonable(call_kwargs)
    if kind == "str":
        rec["input"] = jsonable(x)
    elif kind == "list":
        rec["input"] = [jsonable(np.asarray(t)) for t in x]
        rec["input_dtypes"] = [str(np.asarray(t).dtype) for t in x]
    else:
        arr = np.asarray(x)
        rec["input_dtype"] = str(arr.dtype)
        if arr.dtype.kind == "f":
            tensors[cid + ".input"] = arr
        else:
            rec["input"] = arr.tolist()
    if y.dtype.kind == "f" and y.size > 64:
        tensors[cid + ".output"] = y
    else:
        rec["output"] = y.tolist()
    if weights:
        for i, w in enumerate(layer.weights):
            tensors[f"{cid}.weight{i}"] = np.asarray(w.numpy())
        rec["weight_names"] = [w.name.split("/")[-1].split(":")[0] for w in layer.weights]
    cases.append(rec)


def layer_cases(tf, tf_keras, keras):
    rng = np.random.default_rng(2100)
    cases, tensors, errors = [], {}, []
    ids2 = np.array([[0, 1, 3, 1], [2, 2, 0, 3]], "int64")
    for source, lib in (("tf_keras", tf_keras), ("keras3", keras)):
        fresh_session(lib, seed=2100)
        # CategoryEncoding
        for args, x in (({"num_tokens": 4}, ids2), ({"num_tokens": 4, "output_mode": "one_hot"}, ids2[:, :1]),
                        ({"num_tokens": 5, "output_mode": "one_hot"}, ids2[0]),
                        ({"num_tokens": 4, "output_mode": "count"}, ids2),
                        ({"num_tokens": 6, "output_mode": "multi_hot"}, ids2[0]),
                        ({"num_tokens": 4, "output_mode": "count", "dtype": "float64"}, ids2.astype("int32"))):
            _case(lib, source, "CategoryEncoding", args, x, "int", cases, tensors)
        _case(lib, source, "CategoryEncoding", {"num_tokens": 4, "output_mode": "count"}, ids2, "int", cases, tensors,
              call_kwargs={"count_weights": np.array([[0.5, 1.0, 2.0, 0.25], [1.5, 2.5, 0.1, 3.0]], "float32")})
        # Discretization
        xf = rng.normal(size=(3, 5)).astype("float32")
        xf[0, 0], xf[0, 1], xf[1, 2] = 0.0, 1.0, np.nan
        for args in ({"bin_boundaries": [0.0, 1.0, 2.0]}, {"bin_boundaries": [-0.5, 0.0, 0.5], "output_mode": "one_hot"},
                     {"bin_boundaries": [-1.0, 0.0, 1.0], "output_mode": "multi_hot"},
                     {"bin_boundaries": [-1.0, 0.0, 1.0], "output_mode": "count"},
                     {"bin_boundaries": [0.25]}, {"bin_boundaries": []}):
            _case(lib, source, "Discretization", args, xf, "float", cases, tensors)
        _case(lib, source, "Discretization", {"bin_boundaries": [0.0, 2.0]}, xf[:, :1].astype("float64"), "float",
              cases, tensors)
        _case(lib, source, "Discretization", {"bin_boundaries": [0.0, 2.0], "output_mode": "one_hot"},
              xf[:, :1], "float", cases, tensors)
        _case(lib, source, "Discretization", {"bin_boundaries": [1, 5, 10]}, np.array([[0, 1, 4, 5, 12]], "int64"),
              "int", cases, tensors)
        # Hashing: strings, ints, options
        words = [["A", "B", ""], ["héllo", "日本語", "x" * 70]]
        ints = np.array([[0, 1, -1], [42, 123456789012, -(2 ** 63)]], "int64")
        for args in ({"num_bins": 3}, {"num_bins": 1000}, {"num_bins": 5, "mask_value": ""},
                     {"num_bins": 7, "salt": 133}, {"num_bins": 7, "salt": [133, 137]},
                     {"num_bins": 4, "output_mode": "multi_hot"}, {"num_bins": 4, "output_mode": "count"},
                     {"num_bins": 3, "mask_value": "A", "salt": 9, "output_mode": "multi_hot"}):
            _case(lib, source, "Hashing", args, words, "str", cases, tensors)
        _case(lib, source, "Hashing", {"num_bins": 4, "output_mode": "one_hot"}, [["A"], ["B"], ["C"]], "str",
              cases, tensors)
        for args in ({"num_bins": 3}, {"num_bins": 1000}, {"num_bins": 5, "mask_value": 0},
                     {"num_bins": 11, "salt": [1, 2]}, {"num_bins": 6, "output_mode": "count"},
                     {"num_bins": 9, "dtype": "int32"}):
            _case(lib, source, "Hashing", args, ints, "int", cases, tensors)
        _case(lib, source, "Hashing", {"num_bins": 10}, ints.astype("int32")[:, :2], "int", cases, tensors)
        _case(lib, source, "Hashing", {"num_bins": 6, "output_mode": "one_hot"}, ints[:, :1], "int", cases, tensors)
        # HashedCrossing
        col_a = np.array([[1], [2], [3], [-4]], "int64")
        col_b = np.array([[10], [20], [30], [40]], "int64")
        for args, x in (({"num_bins": 5}, [col_a, col_b]), ({"num_bins": 1000}, [col_a, col_b * 7]),
                        ({"num_bins": 4, "output_mode": "one_hot"}, [col_a, col_b]),
                        ({"num_bins": 9}, [col_a[:, 0], col_b[:, 0]]),
                        ({"num_bins": 50}, [col_a, col_b, col_a + col_b])):
            _case(lib, source, "HashedCrossing", args, x, "list", cases, tensors)
        _case(lib, source, "HashedCrossing", {"num_bins": 100}, [[["A"], ["B"], ["日本語"]], [["x"], ["y"], ["z"]]],
              "str", cases, tensors)
        errs = [("CategoryEncoding", {"num_tokens": 0}), ("CategoryEncoding", {"num_tokens": 3, "output_mode": "tf_idf"}),
                ("CategoryEncoding", {}), ("Discretization", {}), ("Discretization", {"num_bins": -1}),
                ("Discretization", {"num_bins": 3, "bin_boundaries": [0.0]}),
                ("Discretization", {"bin_boundaries": [0.0], "output_mode": "bad"}),
                ("Hashing", {"num_bins": 0}), ("Hashing", {"num_bins": 3, "output_mode": "tf_idf"}),
                ("Hashing", {"num_bins": 3, "salt": "x"}), ("Hashing", {"num_bins": 3, "sparse": True}),
                ("Hashing", {"num_bins": 3, "dtype": "float32"}),
                ("HashedCrossing", {"num_bins": 3, "output_mode": "multi_hot"})]
        for cls, args in errs:
            try:
                getattr(lib.layers, cls)(**args)
                errors.append({"source": source, "class_name": cls, "args": args, "error": None})
            except Exception as e:  # noqa: BLE001
                errors.append({"source": source, "class_name": cls, "args": args, "error": error_text(e)})
    # Keras 3 only: floats into Hashing (cast to int64 first), spectrograms
    _case(keras, "keras3", "Hashing", {"num_bins": 10}, np.array([[1.7, -2.5, 0.0]], "float32"), "float", cases, tensors)
    signal = rng.normal(size=(2, 400)).astype("float32")
    mel = [{"fft_length": 64, "sequence_stride": 16, "num_mel_bins": 16, "sampling_rate": 8000},
           {"fft_length": 64, "sequence_stride": 20, "sequence_length": 48, "num_mel_bins": 12, "sampling_rate": 8000,
            "window": "hamming", "min_freq": 100.0, "max_freq": 3000.0},
           {"fft_length": 32, "sequence_stride": 8, "num_mel_bins": 8, "sampling_rate": 16000, "power_to_db": False,
            "mag_exp": 1.0},
           {"fft_length": 64, "sequence_stride": 32, "num_mel_bins": 10, "sampling_rate": 4000, "window": None,
            "top_db": 20.0, "ref_power": 2.0, "min_power": 1e-6},
           {"fft_length": 128, "sequence_stride": 64, "num_mel_bins": 20, "sampling_rate": 22050}]
    for args in mel:
        _case(keras, "keras3", "MelSpectrogram", args, signal, "float", cases, tensors)
    _case(keras, "keras3", "MelSpectrogram", mel[0], signal[0], "float", cases, tensors)
    audio = rng.normal(size=(2, 120, 2)).astype("float32")
    stft = [{"frame_length": 32, "frame_step": 8, "mode": "log"},
            {"frame_length": 32, "frame_step": 8, "mode": "magnitude", "padding": "same"},
            {"frame_length": 30, "frame_step": 10, "fft_length": 64, "mode": "psd", "window": "hamming",
             "periodic": True},
            {"frame_length": 16, "mode": "real", "scaling": "spectrum"},
            {"frame_length": 16, "mode": "imag", "scaling": None, "window": None},
            {"frame_length": 16, "frame_step": 4, "mode": "angle", "window": "blackman"},
            {"frame_length": 16, "frame_step": 4, "mode": "stft", "expand_dims": True},
            {"frame_length": 20, "frame_step": 5, "mode": "log", "expand_dims": True, "padding": "same"}]
    for args in stft:
        _case(keras, "keras3", "STFTSpectrogram", args, audio, "float", cases, tensors, weights=args is stft[0])
    for args in ({"frame_length": 16, "frame_step": 4, "mode": "magnitude", "data_format": "channels_first"},
                 {"frame_length": 16, "frame_step": 4, "mode": "stft", "data_format": "channels_first",
                  "expand_dims": True}):
        _case(keras, "keras3", "STFTSpectrogram", args, np.transpose(audio, (0, 2, 1)).copy(), "float", cases, tensors)
    for cls, args in (("STFTSpectrogram", {"mode": "bad"}), ("STFTSpectrogram", {"frame_length": 8, "frame_step": 9}),
                      ("STFTSpectrogram", {"frame_length": 8, "fft_length": 4}), ("STFTSpectrogram", {"padding": "causal"}),
                      ("STFTSpectrogram", {"scaling": "x"}), ("MelSpectrogram", {"fft_length": 16, "sequence_length": 32})):
        try:
            getattr(keras.layers, cls)(**args)
            errors.append({"source": "keras3", "class_name": cls, "args": args, "error": None})
        except Exception as e:  # noqa: BLE001
            errors.append({"source": "keras3", "class_name": cls, "args": args, "error": error_text(e)})
    return cases, tensors, errors


# ------------------------------------------------------------------------------------------- adapt
ADAPT = [("normal", (500, 1), 4, 0.01, None), ("uniform3", (64, 3), 5, 0.01, None), ("ints", (200,), 3, 0.01, None),
         ("small", (5,), 8, 0.01, None), ("eps", (300, 2), 4, 0.1, None), ("batches", (100, 2), 6, 0.02, 16),
         ("big", (3000,), 10, 0.001, None)]


def _adapt_data(name, shape, seed=2101):
    rng = np.random.default_rng(seed + sum(map(ord, name)))
    if name == "uniform3":
        return rng.uniform(-2, 5, size=shape).astype("float32")
    if name == "ints":
        return rng.integers(0, 6, size=shape).astype("float32")
    return rng.normal(size=shape).astype("float32")


def adapt_records(tf_keras, keras, tensors):
    out = []
    for name, shape, num_bins, eps, batch in ADAPT:
        data = _adapt_data(name, shape)
        tensors[f"adapt.{name}"] = data
        rec = {"name": name, "shape": list(shape), "num_bins": num_bins, "epsilon": eps, "batch_size": batch}
        fresh_session(tf_keras)
        t = tf_keras.layers.Discretization(num_bins=num_bins, epsilon=eps)
        t.adapt(data, batch_size=batch)
        rec["tf_keras"] = {"bins": jsonable(t.bin_boundaries), "summary": jsonable(np.asarray(t.summary.numpy())),
                           "output": np.asarray(t(data[:8])).tolist(), "config": jsonable(t.get_config())}
        fresh_session(keras)
        k = keras.layers.Discretization(num_bins=num_bins, epsilon=eps)
        if batch:  # Keras 3 adapts an iterable of batches batch by batch
            k.adapt([data[i:i + batch] for i in range(0, len(data), batch)])
        else:
            k.adapt(data)
        rec["keras3"] = {"bins": jsonable(k.bin_boundaries), "output": np.asarray(k(data[:8])).tolist(),
                         "config": jsonable(k.get_config())}
        out.append(rec)
    return out


# ------------------------------------------------------------------------------------------- model files
def model_files(out_dir, tf, tf_keras, keras):
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(2102)
    x_num = rng.normal(size=(6, 1)).astype("float32")
    x_id = np.array([[3], [17], [-2], [3], [0], [99]], "int64")
    x_b = np.array([[1], [2], [1], [5], [0], [2]], "int64")
    tensors = {"x_num": x_num, "x_id": x_id, "x_b": x_b}
    adapt_data = rng.normal(size=(200, 1)).astype("float32")
    for tag, lib in (("k3", keras), ("tf", tf_keras)):
        fresh_session(lib, seed=2102)
        L = lib.layers
        num = lib.Input((1,), name="num")
        ident = lib.Input((1,), dtype="int64", name="ident")
        other = lib.Input((1,), dtype="int64", name="other")
        disc = L.Discretization(num_bins=4, name="disc_adapted")
        disc.adapt(adapt_data)
        fixed = L.Discretization(bin_boundaries=[-1.0, 0.0, 1.0], name="disc_fixed")
        parts = [
            L.CategoryEncoding(4, output_mode="one_hot", name="enc_fixed")(fixed(num)),
            L.CategoryEncoding(4, output_mode="one_hot", name="enc_adapted")(disc(num)),
            L.Hashing(8, output_mode="one_hot", name="hash_onehot")(ident),
            L.CategoryEncoding(16, output_mode="one_hot", name="enc_hash")(L.Hashing(16, salt=7, name="hash_salted")(ident)),
            L.HashedCrossing(6, output_mode="one_hot", name="cross")([ident, other]),
        ]
        merged = L.Concatenate(name="concat")(parts)
        out = L.Dense(3, name="dense")(merged)
        model = lib.Model([num, ident, other], out, name=f"structured_{tag}")
        y = np.asarray(model([x_num, x_id, x_b]))
        tensors[f"{tag}.output"] = y
        model.save(os.path.join(out_dir, f"structured.{tag}.keras"))
        if tag == "tf":
            model.save(os.path.join(out_dir, "structured.tf.h5"))
    # Keras 3 audio: MelSpectrogram and STFTSpectrogram
    fresh_session(keras, seed=2103)
    L = keras.layers
    wave = keras.Input((256,), name="wave")
    mel = L.MelSpectrogram(fft_length=64, sequence_stride=32, num_mel_bins=8, sampling_rate=8000, name="mel")(wave)
    stft = L.STFTSpectrogram(frame_length=32, frame_step=16, mode="log", name="stft")(L.Reshape((256, 1))(wave))
    merged = L.Concatenate(name="concat")([L.Flatten()(mel), L.Flatten()(stft)])
    model = keras.Model(wave, L.Dense(2, name="dense")(merged), name="audio_k3")
    x_wave = rng.normal(size=(3, 256)).astype("float32")
    tensors["x_wave"] = x_wave
    tensors["audio.k3.output"] = np.asarray(model(x_wave))
    model.save(os.path.join(out_dir, "audio.k3.keras"))
    save_safetensors(tensors, os.path.join(out_dir, "tensors.safetensors"))


def main(out_dir):
    tf, tf_keras, keras = imports()
    root = os.path.join(out_dir, "structured")
    os.makedirs(root, exist_ok=True)
    write_json(os.path.join(root, "hashes.json"), hashes(tf))
    cases, tensors, errors = layer_cases(tf, tf_keras, keras)
    write_json(os.path.join(root, "cases.json"), cases)
    write_json(os.path.join(root, "errors.json"), errors)
    write_json(os.path.join(root, "adapt.json"), adapt_records(tf_keras, keras, tensors))
    save_safetensors(tensors, os.path.join(root, "tensors.safetensors"))
    model_files(os.path.join(root, "models"), tf, tf_keras, keras)
    return {"structured_cases": len(cases), "structured_errors": len(errors)}

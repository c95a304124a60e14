"""Record the recurrent family from REAL tf.keras 2.21 and Keras 3.15.1 (issue 18).

Run (from the repository root, in the reference venv)::

    .venv-keras/bin/python compat_fixtures/generate.py --only rnn

Nothing here computes a layer: every number comes from ``tf_keras`` / ``keras`` (TensorFlow backend).
Files under ``compat_fixtures/rnn/``:

``cases.json`` + ``tensors.safetensors``: one record per case ``{"id", "spec", "batch", "steps", "features",
"mask" (null | "right" | "left" | "interior"), "initial_state", "tf": {...}, "k3": {...} | {"error"}}``.
``spec`` says how to build the layer: ``{"cls", "args"}``; ``Bidirectional`` adds ``"layer": spec`` and
optionally ``"backward_layer": spec``; ``RNN`` adds ``"cells": [spec, ...]`` (one cell or a stack). Per library:
``config``, ``weight_names`` (tf.keras ``v.name`` / Keras 3 ``v.path``), ``weight_shapes``, ``n_outputs``,
``compute_mask`` ("none" | list of "none"/"tensor"), ``compute_output_shape`` (None batch). Tensors
``<id>.input``, ``<id>.mask`` (bool), ``<id>.state.<i>`` (initial states), ``<id>.weight.<i>`` (the values set
with ``set_weights``, Keras order), ``<id>.upstream.<k>``; per library ``<lib>`` in {tf, k3}:
``<id>.<lib>.out.<k>`` (the flattened outputs), and for tf ``<id>.tf.grad_input``, ``<id>.tf.grad_state.<i>``,
``<id>.tf.grad.<i>`` (gradients of ``sum_k sum(out_k * upstream_k)``).

``stateful.json`` + ``stateful.safetensors``: stateful layers called on two batches, then ``reset_states()``
and the first batch again: ``<id>.x1``, ``<id>.x2``, ``<id>.weight.<i>``, ``<id>.out1``, ``<id>.out2``,
``<id>.out3``.

``cells.json`` + ``cells.safetensors``: a cell called alone on one step: ``<id>.x``, ``<id>.state.<i>``,
``<id>.weight.<i>``, ``<id>.out``, ``<id>.new_state.<i>``.

``errors.json``: ``{"id", "what", "spec", "tf_error", "k3_error"}`` ("Type: message" or null).

``models/cudnn.tf.h5`` + ``cudnn.safetensors``: a tf.keras ``CuDNNLSTM``/``CuDNNGRU`` model (cuDNN weight layout) and
the outputs tf.keras computes after loading that file into the same model made of ``LSTM``/``GRU`` (see
``record_cudnn``).

``models/``: whole models saved by each library (``<name>.tf.h5``, ``<name>.k3.keras``) with
``models.json`` ``{"name", "inputs": [...], "files"}`` and ``models.safetensors`` (``<name>.input.<i>``,
``<name>.tf.out.<k>``, ``<name>.k3.out.<k>``).
"""
from __future__ import annotations

import json
import os

import numpy as np

from .common import fresh_session, import_keras3, import_tf, jsonable, save_safetensors, try_call, write_json

B, T, F, U = 2, 4, 3, 3

L2 = {"class_name": "L2", "config": {"l2": 0.01}}


def S(cls, **args):
    return {"cls": cls, "args": args}


def BI(layer, merge_mode="concat", backward_layer=None, **args):
    spec = {"cls": "Bidirectional", "args": {"merge_mode": merge_mode, **args}, "layer": layer}
    if backward_layer is not None:
        spec["backward_layer"] = backward_layer
    return spec


def R(cells, **args):
    return {"cls": "RNN", "args": args, "cells": cells}


def C(spec, mask=None, initial_state=False, k3=True, steps=T, features=None):
    return {"spec": spec, "mask": mask, "initial_state": initial_state, "k3": k3, "steps": steps,
            "features": features or [F]}


CASES = [
    # SimpleRNN
    C(S("SimpleRNN", units=U)),
    C(S("SimpleRNN", units=U, return_sequences=True)),
    C(S("SimpleRNN", units=U, return_sequences=True, return_state=True, go_backwards=True)),
    C(S("SimpleRNN", units=U, activation="relu", use_bias=False, return_sequences=True)),
    C(S("SimpleRNN", units=U, activation="sigmoid", return_state=True)),
    C(S("SimpleRNN", units=U, return_sequences=True), mask="right"),
    C(S("SimpleRNN", units=U, return_sequences=True, return_state=True), mask="left", initial_state=True),
    # LSTM
    C(S("LSTM", units=U)),
    C(S("LSTM", units=U, return_sequences=True, return_state=True)),
    C(S("LSTM", units=U, return_sequences=True, go_backwards=True)),
    C(S("LSTM", units=U, return_state=True), initial_state=True),
    C(S("LSTM", units=U, recurrent_activation="hard_sigmoid", return_sequences=True)),
    C(S("LSTM", units=U, activation="relu", recurrent_activation="tanh")),
    C(S("LSTM", units=U, use_bias=False, unit_forget_bias=False, return_sequences=True)),
    C(S("LSTM", units=U, return_sequences=True, return_state=True), mask="right"),
    C(S("LSTM", units=U, return_sequences=True, return_state=True), mask="left"),
    C(S("LSTM", units=U, return_sequences=True), mask="interior"),
    C(S("LSTM", units=U, return_sequences=True, go_backwards=True, return_state=True), mask="right", initial_state=True),
    C(S("LSTM", units=U, return_state=True), mask="right", initial_state=True),
    C(S("LSTM", units=U, return_sequences=True, time_major=True), k3=False),
    C(S("LSTM", units=U, return_sequences=True, unroll=True)),
    C(S("LSTM", units=U, dropout=0.5, recurrent_dropout=0.3, return_sequences=True)),
    C(S("LSTM", units=U, kernel_regularizer=L2, recurrent_regularizer="l1", bias_regularizer=L2,
        kernel_constraint="non_neg", recurrent_initializer="glorot_uniform", bias_initializer="ones")),
    C(S("LSTM", units=5, return_sequences=True), steps=1),
    # GRU
    C(S("GRU", units=U)),
    C(S("GRU", units=U, return_sequences=True, return_state=True)),
    C(S("GRU", units=U, reset_after=False, return_sequences=True)),
    C(S("GRU", units=U, reset_after=False, use_bias=False)),
    C(S("GRU", units=U, use_bias=False, return_sequences=True)),
    C(S("GRU", units=U, recurrent_activation="hard_sigmoid", return_state=True)),
    C(S("GRU", units=U, return_sequences=True, go_backwards=True)),
    C(S("GRU", units=U, return_sequences=True, return_state=True), mask="right"),
    C(S("GRU", units=U, reset_after=False, return_sequences=True), mask="left", initial_state=True),
    C(S("GRU", units=U, return_state=True), initial_state=True),
    # Bidirectional
    C(BI(S("LSTM", units=U, return_sequences=True))),
    C(BI(S("LSTM", units=U), merge_mode="sum")),
    C(BI(S("GRU", units=U, return_sequences=True), merge_mode="mul")),
    C(BI(S("SimpleRNN", units=U, return_sequences=True), merge_mode="ave")),
    C(BI(S("LSTM", units=U, return_sequences=True), merge_mode=None)),
    C(BI(S("LSTM", units=U, return_sequences=True, return_state=True))),
    C(BI(S("LSTM", units=U, return_state=True), merge_mode=None), initial_state=True),
    C(BI(S("LSTM", units=U, return_sequences=True)), mask="right"),
    C(BI(S("GRU", units=U)), mask="left"),
    C(BI(S("LSTM", units=U, return_sequences=True),
         backward_layer=S("LSTM", units=2, return_sequences=True, go_backwards=True, activation="relu"))),
    # RNN(cell)
    C(R([S("LSTMCell", units=U)])),
    C(R([S("GRUCell", units=U, reset_after=False)], return_sequences=True)),
    C(R([S("SimpleRNNCell", units=U)], return_state=True, return_sequences=True), mask="right"),
    C(R([S("LSTMCell", units=U), S("GRUCell", units=2)], return_sequences=True, return_state=True)),
    C(R([S("LSTMCell", units=U), S("SimpleRNNCell", units=2)], return_state=True), mask="left"),
    # ConvLSTM (tf.keras default recurrent_activation: hard_sigmoid; Keras 3: sigmoid)
    C(S("ConvLSTM2D", filters=2, kernel_size=3), features=[5, 5, 3]),
    C(S("ConvLSTM2D", filters=2, kernel_size=(3, 2), padding="same", strides=2, return_sequences=True,
        return_state=True), features=[5, 6, 3], mask="right"),
    C(S("ConvLSTM2D", filters=2, kernel_size=2, data_format="channels_first", go_backwards=True,
        recurrent_activation="sigmoid"), features=[3, 4, 4], k3=False, initial_state=True),
    C(S("ConvLSTM1D", filters=3, kernel_size=2, padding="same", dilation_rate=2, return_sequences=True),
      features=[6, 2]),
    C(S("ConvLSTM3D", filters=2, kernel_size=2, use_bias=False, unit_forget_bias=False), features=[3, 3, 3, 2]),
]


def _mask(kind, steps):
    m = np.ones((B, steps), bool)
    if kind == "right":
        m[0, steps - 1:] = False
        m[1, steps - 2:] = False
    elif kind == "left":
        m[0, :1] = False
        m[1, :2] = False
    elif kind == "interior":
        m[0, 1] = False
        m[1, 2:3] = False
    return m


def _build(lib, spec):
    L = lib.layers
    cls = spec["cls"]
    args = dict(spec["args"])
    if cls == "Bidirectional":
        back = _build(lib, spec["backward_layer"]) if "backward_layer" in spec else None
        return L.Bidirectional(_build(lib, spec["layer"]), backward_layer=back, **args)
    if cls == "RNN":
        cells = [_build(lib, c) for c in spec["cells"]]
        return L.RNN(cells[0] if len(cells) == 1 else cells, **args)
    return getattr(L, cls)(**args)


def _flat(y):
    if isinstance(y, (list, tuple)):
        return [t for v in y for t in _flat(v)]
    return [y]


def _structure(y):
    """The nesting of a call's outputs: 0 for a tensor, a list of structures for a list."""
    return [_structure(v) for v in y] if isinstance(y, (list, tuple)) else 0


def _mask_kind(m):
    if isinstance(m, (list, tuple)):
        return [_mask_kind(x) for x in m]
    return "none" if m is None else "tensor"


def _record_lib(tf, lib, case, arrays, tensors, cid, tag, weights, with_grads):
    fresh_session(lib)
    layer = _build(lib, case["spec"])
    x = tf.constant(arrays["input"])
    kwargs = {}
    if "mask" in arrays:
        kwargs["mask"] = tf.constant(arrays["mask"])
    states = [tf.constant(arrays[f"state.{i}"]) for i in range(case["n_states"])] if case["initial_state"] else []
    if states:
        kwargs["initial_state"] = states
    layer(x, **kwargs)  # build
    if weights is None:
        rng = np.random.default_rng(case["seed"])
        weights = [(0.5 * rng.standard_normal(tuple(v.shape))).astype("float32") for v in layer.weights]
    layer.set_weights(weights)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        for s in states:
            tape.watch(s)
        y_nested = layer(x, training=False, **kwargs)
        y = _flat(y_nested)
        ups = [arrays[f"upstream.{k}"] for k in range(len(y))] if "upstream.0" in arrays else None
        if ups is None:
            rng = np.random.default_rng(case["seed"] + 1)
            ups = [rng.standard_normal(tuple(o.shape)).astype("float32") for o in y]
            for k, u in enumerate(ups):
                arrays[f"upstream.{k}"] = u
        loss = tf.add_n([tf.reduce_sum(o * u) for o, u in zip(y, ups)])
    for k, o in enumerate(y):
        tensors[f"{cid}.{tag}.out.{k}"] = o.numpy()
    if with_grads:
        g = tape.gradient(loss, [x] + states + list(layer.trainable_weights))
        tensors[f"{cid}.{tag}.grad_input"] = g[0].numpy()
        for i in range(len(states)):
            tensors[f"{cid}.{tag}.grad_state.{i}"] = g[1 + i].numpy()
        for i, gv in enumerate(g[1 + len(states):]):
            tensors[f"{cid}.{tag}.grad.{i}"] = tf.convert_to_tensor(gv).numpy()
    mask_in = kwargs.get("mask")
    et, em, cm = try_call(lambda: _mask_kind(layer.compute_mask(x, mask_in)))
    et2, em2, cos = try_call(lambda: jsonable(layer.compute_output_shape((None, case["steps"], *case["features"]))))
    names = [v.name if tag == "tf" else v.path for v in layer.weights]
    rec = {"config": jsonable(layer.get_config()), "weight_names": names,
           "weight_shapes": [list(v.shape) for v in layer.weights], "n_outputs": len(y),
           "structure": _structure(y_nested),
           "compute_mask": cm if et is None else f"{et}: {em}", "compute_output_shape": cos,
           "losses": [float(v) for v in layer.losses]}
    return rec, weights


def record_cases(out, tf, tfk, k3):
    records, tensors = [], {}
    rng = np.random.default_rng(1800)
    for i, case in enumerate(CASES):
        cid = f"r{i:03d}"
        case = dict(case, id=cid, seed=1800 + 10 * i)
        steps = case["steps"]
        time_major = case["spec"]["args"].get("time_major", False)
        feats = tuple(case["features"])
        x = rng.standard_normal((steps, B, *feats) if time_major else (B, steps, *feats)).astype("float32")
        arrays = {"input": x}
        if case["mask"]:
            arrays["mask"] = _mask(case["mask"], steps)
        # number of states: from a throwaway tf.keras layer
        fresh_session(tfk)
        probe = _build(tfk, case["spec"])
        probe_out = _flat(probe(tf.constant(x), **({"mask": tf.constant(arrays["mask"])} if "mask" in arrays else {})))
        sizes = []
        if case["initial_state"]:
            spec = case["spec"]
            if spec["cls"] == "Bidirectional":
                sizes = [int(s) for s in tf.nest.flatten(probe.forward_layer.cell.state_size)] * 2
            elif spec["cls"].startswith("ConvLSTM"):
                sizes = [None, None]
            else:
                sizes = [int(s) for s in tf.nest.flatten(probe.cell.state_size)]
        del probe_out
        case["n_states"] = len(sizes)
        for j, n in enumerate(sizes):
            shape = (B, n)
            if n is None:  # a ConvLSTM state: the shape of its output feature map
                shape = tuple(int(d) for d in probe.compute_output_shape((B, steps, *feats)))
                shape = shape if not probe.return_sequences else (shape[0], *shape[2:])
            arrays[f"state.{j}"] = rng.standard_normal(shape).astype("float32")
        rec_tf, weights = _record_lib(tf, tfk, case, arrays, tensors, cid, "tf", None, True)
        rec = {"id": cid, "spec": case["spec"], "batch": B, "steps": steps, "features": case["features"], "mask": case["mask"],
               "initial_state": case["initial_state"], "n_states": len(sizes), "tf": rec_tf}
        if case["k3"]:
            et, em, res = try_call(lambda: _record_lib(tf, k3, case, arrays, tensors, cid, "k3", weights, False))
            rec["k3"] = {"error": f"{et}: {em}"} if et else res[0]
        for k, v in arrays.items():
            tensors[f"{cid}.{k}"] = v
        for j, w in enumerate(weights):
            tensors[f"{cid}.weight.{j}"] = w
        records.append(rec)
    write_json(os.path.join(out, "cases.json"), records)
    save_safetensors(tensors, os.path.join(out, "tensors.safetensors"))
    print(f"[rnn] {len(records)} cases")


STATEFUL = [
    S("LSTM", units=U, stateful=True, return_sequences=True),
    S("GRU", units=U, stateful=True),
    S("SimpleRNN", units=U, stateful=True, return_state=True),
]


def record_stateful(out, tf, tfk):
    records, tensors = [], {}
    rng = np.random.default_rng(1801)
    for i, spec in enumerate(STATEFUL):
        cid = f"s{i:03d}"
        fresh_session(tfk)
        layer = _build(tfk, {**spec, "args": {**spec["args"], "batch_input_shape": (B, T, F)}})
        layer.build((B, T, F))
        weights = [(0.5 * rng.standard_normal(tuple(v.shape))).astype("float32") for v in layer.weights]
        layer.set_weights(weights)
        x1, x2 = (rng.standard_normal((B, T, F)).astype("float32") for _ in range(2))
        o1 = _flat(layer(tf.constant(x1)))[0].numpy()
        o2 = _flat(layer(tf.constant(x2)))[0].numpy()
        layer.reset_states()
        o3 = _flat(layer(tf.constant(x1)))[0].numpy()
        et, em, _ = try_call(lambda: layer(tf.constant(np.zeros((B + 1, T, F), "float32"))))
        tensors.update({f"{cid}.x1": x1, f"{cid}.x2": x2, f"{cid}.out1": o1, f"{cid}.out2": o2, f"{cid}.out3": o3})
        tensors.update({f"{cid}.weight.{j}": w for j, w in enumerate(weights)})
        records.append({"id": cid, "spec": spec, "batch_change_error": f"{et}: {em}" if et else None})
    write_json(os.path.join(out, "stateful.json"), records)
    save_safetensors(tensors, os.path.join(out, "stateful.safetensors"))


CELLS = [S("SimpleRNNCell", units=U), S("LSTMCell", units=U), S("GRUCell", units=U),
         S("GRUCell", units=U, reset_after=False), S("LSTMCell", units=U, recurrent_activation="hard_sigmoid")]


def record_cells(out, tf, tfk):
    records, tensors = [], {}
    rng = np.random.default_rng(1802)
    for i, spec in enumerate(CELLS):
        cid = f"c{i:03d}"
        fresh_session(tfk)
        cell = _build(tfk, spec)
        x = rng.standard_normal((B, F)).astype("float32")
        ss = cell.state_size
        sizes = list(ss) if isinstance(ss, (list, tuple)) else [ss]
        states = [rng.standard_normal((B, n)).astype("float32") for n in sizes]
        cell.build((B, F))
        weights = [(0.5 * rng.standard_normal(tuple(v.shape))).astype("float32") for v in cell.weights]
        cell.set_weights(weights)
        out_, new = cell(tf.constant(x), [tf.constant(s) for s in states])
        tensors.update({f"{cid}.x": x, f"{cid}.out": out_.numpy()})
        tensors.update({f"{cid}.state.{j}": s for j, s in enumerate(states)})
        tensors.update({f"{cid}.weight.{j}": w for j, w in enumerate(weights)})
        tensors.update({f"{cid}.new_state.{j}": s.numpy() for j, s in enumerate(_flat(new))})
        records.append({"id": cid, "spec": spec, "config": jsonable(cell.get_config()),
                        "weight_names": [v.name for v in cell.weights]})
    write_json(os.path.join(out, "cells.json"), records)
    save_safetensors(tensors, os.path.join(out, "cells.safetensors"))


ERRORS = [
    ("wrong_rank", S("LSTM", units=U), dict(shape=(B, F))),
    ("wrong_rank_4d", S("GRU", units=U), dict(shape=(B, T, F, 1))),
    ("initial_state_count", S("LSTM", units=U), dict(states=[(B, U)])),
    ("initial_state_size", S("GRU", units=U), dict(states=[(B, U + 1)])),
    ("bad_units", S("LSTM", units=0), None),
    ("bad_units_neg", S("SimpleRNN", units=-2), None),
    ("bad_merge_mode", BI(S("LSTM", units=U), merge_mode="max"), None),
    ("bad_activation", S("GRU", units=U, activation="nope"), None),
    ("bidirectional_same_direction", BI(S("LSTM", units=U), backward_layer=S("LSTM", units=U)), None),
]


def record_errors(out, tf, tfk, k3):
    records = []
    for i, (what, spec, call) in enumerate(ERRORS):
        rec = {"id": f"e{i:03d}", "what": what, "spec": spec, "call": jsonable(call)}
        for tag, lib in (("tf", tfk), ("k3", k3)):
            def go():
                fresh_session(lib)
                layer = _build(lib, spec)
                if call is None:
                    return None
                x = tf.zeros(call.get("shape", (B, T, F)))
                kwargs = {}
                if "states" in call:
                    kwargs["initial_state"] = [tf.zeros(s) for s in call["states"]]
                return layer(x, **kwargs)
            et, em, _ = try_call(go)
            rec[f"{tag}_error"] = f"{et}: {em}" if et else None
        records.append(rec)
    write_json(os.path.join(out, "errors.json"), records)


# ----------------------------------------------------------------------------- whole models
def m_text_classifier(L, lib):
    inp = L.Input(shape=(6,), dtype="int32", name="tokens")
    x = L.Embedding(20, 8, mask_zero=True)(inp)
    x = L.Bidirectional(L.LSTM(5))(x)
    return lib.Model(inp, L.Dense(1, activation="sigmoid")(x))


def m_gru_forecaster(L, lib):
    return lib.Sequential([L.Input(shape=(8, 2)), L.GRU(6, return_sequences=True), L.GRU(4), L.Dense(1)])


def m_seq2seq(L, lib):
    enc_in = L.Input(shape=(5, 3), name="encoder_inputs")
    _, h, c = L.LSTM(4, return_state=True, name="encoder")(enc_in)
    dec_in = L.Input(shape=(4, 2), name="decoder_inputs")
    seq = L.LSTM(4, return_sequences=True, name="decoder")(dec_in, initial_state=[h, c])
    return lib.Model([enc_in, dec_in], L.Dense(3, activation="softmax")(seq))


def m_mixed(L, lib):
    inp = L.Input(shape=(5, 3))
    x = L.SimpleRNN(4, return_sequences=True)(inp)
    x = L.RNN([L.LSTMCell(3), L.GRUCell(2, reset_after=False)], return_sequences=True)(x)
    x = L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="ave")(x)
    x = L.LSTM(2, go_backwards=True)(x)
    return lib.Model(inp, x)


def m_stacked_lstm_masked(L, lib):
    inp = L.Input(shape=(6, 3))
    x = L.Masking(0.0)(inp)
    x = L.LSTM(4, return_sequences=True)(x)
    x = L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="concat")(x)
    x = L.GRU(2)(x)
    return lib.Model(inp, x)


def m_video(L, lib):
    inp = L.Input(shape=(4, 6, 6, 1))
    x = L.TimeDistributed(L.Conv2D(2, 3, activation="relu"))(inp)
    x = L.TimeDistributed(L.Flatten())(x)
    x = L.LSTM(3)(x)
    return lib.Model(inp, L.Dense(2)(x))


def m_conv_lstm(L, lib):
    inp = L.Input(shape=(3, 6, 6, 2))
    x = L.ConvLSTM2D(2, 3, padding="same", return_sequences=True)(inp)
    x = L.ConvLSTM2D(1, 2, strides=2)(x)
    return lib.Model(inp, L.Dense(2)(L.Flatten()(x)))


MODELS = {"text_classifier": m_text_classifier, "gru_forecaster": m_gru_forecaster, "seq2seq": m_seq2seq,
          "mixed": m_mixed, "stacked_lstm_masked": m_stacked_lstm_masked, "video": m_video, "conv_lstm": m_conv_lstm}


def _model_inputs(name, rng):
    if name == "text_classifier":
        ids = rng.integers(1, 20, (3, 6)).astype("int32")
        ids[0, 4:] = 0
        ids[1, 2:] = 0
        return [ids]
    if name == "gru_forecaster":
        return [rng.standard_normal((3, 8, 2)).astype("float32")]
    if name == "seq2seq":
        return [rng.standard_normal((3, 5, 3)).astype("float32"), rng.standard_normal((3, 4, 2)).astype("float32")]
    if name == "video":
        return [rng.standard_normal((2, 4, 6, 6, 1)).astype("float32")]
    if name == "conv_lstm":
        return [rng.standard_normal((2, 3, 6, 6, 2)).astype("float32")]
    if name == "stacked_lstm_masked":
        x = rng.standard_normal((3, 6, 3)).astype("float32")
        x[0, 4:] = 0.0
        x[1, 5:] = 0.0
        return [x]
    return [rng.standard_normal((3, 5, 3)).astype("float32")]


def record_models(out, tf, tfk, k3):
    folder = os.path.join(out, "models")
    os.makedirs(folder, exist_ok=True)
    records, tensors = [], {}
    for k, (name, fn) in enumerate(MODELS.items()):
        rng = np.random.default_rng(1900 + k)
        xs = _model_inputs(name, rng)
        rec = {"name": name, "n_inputs": len(xs), "files": {}}
        weights = None
        for tag, lib, ext in (("tf", tfk, "tf.h5"), ("k3", k3, "k3.keras")):
            fresh_session(lib)
            model = fn(lib.layers, lib)
            if weights is None:
                wr = np.random.default_rng(2000 + k)
                weights = [(0.5 * wr.standard_normal(w.shape)).astype(w.dtype) for w in model.get_weights()]
            model.set_weights(weights)
            y = _flat(model([tf.constant(x) for x in xs] if len(xs) > 1 else tf.constant(xs[0]), training=False))
            for j, o in enumerate(y):
                tensors[f"{name}.{tag}.out.{j}"] = np.asarray(o)
            path = os.path.join(folder, f"{name}.{ext}")
            model.save(path)
            rec["files"][tag] = f"models/{name}.{ext}"
        for j, x in enumerate(xs):
            tensors[f"{name}.input.{j}"] = x
        records.append(rec)
    write_json(os.path.join(out, "models.json"), records)
    save_safetensors(tensors, os.path.join(out, "models.safetensors"))


def record_stacked_states(out, tf, tfk, k3):
    """An ``RNN`` over ``StackedRNNCells`` (LSTMCell, GRUCell) with ``return_state=True`` as a Functional model's
    outputs: ``stacked_states.json`` ``{lib: {"symbolic", "called", "loaded", "outputs", "file"}}`` (nesting of the
    symbolic outputs, of the built model's and of the saved-then-loaded model's call results; ``len(model.outputs)``)
    and ``stacked_states.safetensors`` (``input``, ``weight.<i>``, ``<lib>.out.<k>`` flattened)."""
    folder = os.path.join(out, "models")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(2200)
    x = rng.standard_normal((2, 3, 2)).astype("float32")
    rec, tensors, weights = {}, {"input": x}, None
    for tag, lib, ext in (("tf", tfk, "tf.h5"), ("k3", k3, "k3.keras")):
        fresh_session(lib)
        L = lib.layers
        inp = L.Input((3, 2))
        outs = L.RNN(L.StackedRNNCells([L.LSTMCell(4), L.GRUCell(3)]), return_state=True, name="stack")(inp)
        model = lib.Model(inp, outs)
        if weights is None:
            weights = [(0.5 * rng.standard_normal(w.shape)).astype(w.dtype) for w in model.get_weights()]
            tensors.update({f"weight.{i}": w for i, w in enumerate(weights)})
        model.set_weights(weights)
        y = model(tf.constant(x), training=False)
        for j, o in enumerate(_flat(y)):
            tensors[f"{tag}.out.{j}"] = np.asarray(o)
        path = os.path.join(folder, f"stacked_states.{ext}")
        model.save(path)
        loaded = lib.models.load_model(path)
        rec[tag] = {"symbolic": _structure(outs), "called": _structure(y),
                    "loaded": _structure(loaded(tf.constant(x), training=False)), "outputs": len(model.outputs),
                    "file": f"models/stacked_states.{ext}"}
    write_json(os.path.join(out, "stacked_states.json"), rec)
    save_safetensors(tensors, os.path.join(out, "stacked_states.safetensors"))


def record_cudnn(out, tf, tfk):
    """tf.keras 1.x/2.x ``CuDNNLSTM``/``CuDNNGRU`` (weights in cuDNN's layout, two bias vectors) saved to ``.h5``; the
    reference outputs come from tf.keras itself: the same architecture with ``LSTM``/``GRU(reset_after=True)``
    loading that file (tf.keras converts the weights, ``hdf5_format._convert_rnn_weights``)."""
    from tf_keras.src.layers.rnn import cudnn_gru, cudnn_lstm

    folder = os.path.join(out, "models")
    rng = np.random.default_rng(2100)
    fresh_session(tfk)
    L = tfk.layers
    cud = tfk.Sequential([L.Input((5, 3)), cudnn_lstm.CuDNNLSTM(4, return_sequences=True, name="lstm_a"),
                          cudnn_gru.CuDNNGRU(3, name="gru_b"), L.Dense(2, name="head")])
    cud.set_weights([(0.5 * rng.standard_normal(w.shape)).astype("float32") for w in cud.get_weights()])
    path = os.path.join(folder, "cudnn.tf.h5")
    cud.save(path)
    plain = tfk.Sequential([L.Input((5, 3)), L.LSTM(4, return_sequences=True, name="lstm_a"),
                            L.GRU(3, name="gru_b"), L.Dense(2, name="head")])
    plain.load_weights(path)
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    y = plain(tf.constant(x), training=False).numpy()
    save_safetensors({"input.0": x, "tf.out.0": y, **{f"plain_weight.{i}": w for i, w in enumerate(plain.get_weights())}},
                     os.path.join(out, "cudnn.safetensors"))


def main(out_dir):
    tf, tfk = import_tf()
    k3 = import_keras3()
    out = os.path.join(out_dir, "rnn")
    os.makedirs(out, exist_ok=True)
    with tf.device("/CPU:0"):
        record_cases(out, tf, tfk, k3)
        record_stateful(out, tf, tfk)
        record_cells(out, tf, tfk)
        record_errors(out, tf, tfk, k3)
        record_models(out, tf, tfk, k3)
        record_cudnn(out, tf, tfk)
        record_stacked_states(out, tf, tfk, k3)
    return {"cases": len(CASES), "models": len(MODELS)}

"""Proof, against real Keras, that kerastorch writes recurrent models Keras loads (issue 18).

Run from the repository root in the reference venv (TensorFlow 2.21, tf-keras 2.21, Keras 3.15.1)::

    .venv-keras/bin/python compat_fixtures/prove_rnn_files.py

This file runs twice: in the reference venv (the Keras side) and, as a subprocess, in the kerastorch venv
(``.venv/bin/python`` or ``$KERASTORCH_PYTHON``, ``--kerastorch-side DIR``). The kerastorch side loads every
recurrent model of ``compat_fixtures/rnn/models.json`` (tf.keras ``.h5`` and Keras 3 ``.keras``) with
``kerastorch.models.load_model`` and writes, into a temporary folder: ``save_model(model, 'x.keras')``,
``save_keras_weights(model, 'x.weights.h5')`` (Keras 3 layout) and ``save_keras_weights(model, 'x.h5')``
(tf.keras layout). The Keras side then checks, on the recorded inputs (inference):

* ``keras.saving.load_model(<our .keras>)`` (Keras 3, ``safe_mode=True``) predicts what Keras recorded;
* the Keras 3 model of the fixture's ``.k3.keras`` after ``load_weights(<our .weights.h5>)``, and the tf.keras
  model of the fixture's ``.tf.h5`` after ``load_weights(<our .h5>)``, predict what Keras recorded.

A model using tf.keras's ``hard_sigmoid`` (ConvLSTM's tf.keras default) has no Keras 3 spelling: ``save_model``
refuses it (checked: the refusal happens exactly for the tf.keras file whose config holds it).

Prints one JSON line per check and ``SUMMARY {...}``; exits 1 unless every check passes. Models whose outputs
depend on masks carried through the graph (``text_classifier``, ``stacked_lstm_masked``) are checked too.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RNN = os.path.join(HERE, "rnn")


def kerastorch_side(out: str) -> None:
    import kerastorch as kt

    done = []
    for rec in json.load(open(os.path.join(RNN, "models.json"))):
        for tag in ("tf", "k3"):
            stem = os.path.join(out, f"{rec['name']}.{tag}")
            entry = {"name": rec["name"], "tag": tag}
            try:
                model = kt.models.load_model(os.path.join(RNN, rec["files"][tag]))
                try:
                    kt.models.save_model(model, stem + ".keras")
                except ValueError as e:  # tf.keras's hard_sigmoid (ConvLSTM's default) has no Keras 3 name
                    if "hard_sigmoid" not in str(e):
                        raise
                    entry["refused"] = str(e)
                kt.save_keras_weights(model, stem + ".weights.h5")
                kt.save_keras_weights(model, stem + ".h5")
            except Exception as e:  # noqa: BLE001 - reported by the Keras side
                entry["error"] = f"{type(e).__name__}: {e}"
            done.append(entry)
    json.dump(done, open(os.path.join(out, "written.json"), "w"))


def keras_side() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import numpy as np
    from safetensors.numpy import load_file

    import keras
    import tf_keras

    python = os.environ.get("KERASTORCH_PYTHON", os.path.join(REPO, ".venv", "bin", "python"))
    tensors = load_file(os.path.join(RNN, "models.safetensors"))
    models = {m["name"]: m for m in json.load(open(os.path.join(RNN, "models.json")))}
    failures, checks = 0, 0
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([python, os.path.abspath(__file__), "--kerastorch-side", out], check=True, cwd=REPO)
        for entry in json.load(open(os.path.join(out, "written.json"))):
            name, tag = entry["name"], entry["tag"]
            rec = models[name]
            xs = [tensors[f"{name}.input.{i}"] for i in range(rec["n_inputs"])]
            x = xs if len(xs) > 1 else xs[0]
            stem = os.path.join(out, f"{name}.{tag}")

            def compare(what, y, ref_tag):
                ys = y if isinstance(y, (list, tuple)) else [y]
                diff = max(float(np.max(np.abs(np.asarray(a) - tensors[f"{name}.{ref_tag}.out.{j}"])))
                           for j, a in enumerate(ys))
                return {"check": what, "model": name, "from": tag, "max_abs_diff": diff, "ok": diff <= 1e-5}

            results = []
            if "error" in entry:
                results.append({"check": "kerastorch writes", "model": name, "from": tag, "ok": False,
                                "error": entry["error"][:300]})
            else:
                if "refused" in entry:  # checked: the model really uses tf.keras's hard_sigmoid
                    results.append({"check": "save_model refuses tf.keras hard_sigmoid", "model": name, "from": tag,
                                    "ok": tag == "tf" and "hard_sigmoid" in json.dumps(
                                        tf_keras.models.load_model(os.path.join(RNN, rec["files"]["tf"])).get_config())})
                for what, fn in (
                    ("keras3 load_model(our .keras)", lambda: compare(
                        "keras3 load_model(our .keras)",
                        keras.saving.load_model(stem + ".keras").predict(x, verbose=0), "k3")),
                    ("keras3 load_weights(our .weights.h5)", lambda: _with_weights(
                        keras.saving.load_model(os.path.join(RNN, rec["files"]["k3"])), stem + ".weights.h5",
                        lambda m: compare("keras3 load_weights(our .weights.h5)", m.predict(x, verbose=0), "k3"))),
                    ("tf.keras load_weights(our .h5)", lambda: _with_weights(
                        tf_keras.models.load_model(os.path.join(RNN, rec["files"]["tf"])), stem + ".h5",
                        lambda m: compare("tf.keras load_weights(our .h5)", m.predict(x, verbose=0), "tf"))),
                ):
                    if "refused" in entry and what.startswith("keras3 load_model"):
                        continue
                    try:
                        results.append(fn())
                    except Exception as e:  # noqa: BLE001
                        results.append({"check": what, "model": name, "from": tag, "ok": False,
                                        "error": f"{type(e).__name__}: {str(e)[:300]}"})
            for r in results:
                checks += 1
                failures += not r["ok"]
                print(json.dumps(r), flush=True)
    print("SUMMARY " + json.dumps({"checks": checks, "failures": failures}))
    return 1 if failures else 0


def _with_weights(model, path, then):
    for w in model.weights:  # forget the fixture's values: only the file we wrote may set them
        w.assign(w.numpy() * 0)
    model.load_weights(path)
    return then(model)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--kerastorch-side":
        kerastorch_side(sys.argv[2])
    else:
        sys.exit(keras_side())

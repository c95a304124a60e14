"""Proof, against real Keras, that kerastorch writes transformer models Keras loads (issue 19).

Run from the repository root in the reference venv (TensorFlow 2.21, tf-keras 2.21, Keras 3.15.1)::

    .venv-keras/bin/python compat_fixtures/prove_attention_files.py

This file runs twice: in the reference venv (the Keras side) and, as a subprocess, in the kerastorch venv
(``.venv/bin/python`` or ``$KERASTORCH_PYTHON``, ``--kerastorch-side DIR``). The kerastorch side loads every
transformer model of ``compat_fixtures/attention/attention.json`` (``models``) (tf.keras ``.h5`` and Keras 3 ``.keras``) with
``kerastorch.models.load_model`` and writes, into a temporary folder: ``save_model(model, 'x.keras')``,
``save_keras_weights(model, 'x.weights.h5')`` (Keras 3 layout) and ``save_keras_weights(model, 'x.h5')``
(tf.keras layout). The Keras side then checks, on the recorded inputs (inference):

* ``keras.saving.load_model(<our .keras>)`` (Keras 3, ``safe_mode=True``) predicts what Keras recorded;
* the Keras 3 model of the fixture's ``.k3.keras`` after ``load_weights(<our .weights.h5>)``, and the tf.keras
  model of the fixture's ``.tf.h5`` after ``load_weights(<our .h5>)``, predict what Keras recorded.

Prints one JSON line per check and ``SUMMARY {...}``; exits 1 unless every check passes. The text classifier's
outputs depend on the padding mask carried through the graph into MultiHeadAttention.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
ATT = os.path.join(HERE, "attention")


def kerastorch_side(out: str) -> None:
    import kerastorch as kt

    done = []
    for rec in json.load(open(os.path.join(ATT, "attention.json")))["models"]:
        for tag in rec["files"]:
            stem = os.path.join(out, f"{rec['id']}.{tag}")
            entry = {"name": rec["id"], "tag": tag}
            try:
                model = kt.models.load_model(os.path.join(ATT, rec["files"][tag]))
                kt.models.save_model(model, stem + ".keras")
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
    tensors = load_file(os.path.join(ATT, "attention.safetensors"))
    models = {m["id"]: m for m in json.load(open(os.path.join(ATT, "attention.json")))["models"]}
    failures, checks = 0, 0
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([python, os.path.abspath(__file__), "--kerastorch-side", out], check=True, cwd=REPO)
        for entry in json.load(open(os.path.join(out, "written.json"))):
            name, tag = entry["name"], entry["tag"]
            rec = models[name]
            x = [tensors[f"{name}.input.{n}"] for n in rec["inputs"]]
            stem = os.path.join(out, f"{name}.{tag}")

            def compare(what, y, ref_tag):
                ys = y if isinstance(y, (list, tuple)) else [y]
                diff = max(float(np.max(np.abs(np.asarray(a) - tensors[f"{name}.{ref_tag}.out"])))
                           for j, a in enumerate(ys))
                return {"check": what, "model": name, "from": tag, "max_abs_diff": diff, "ok": diff <= 1e-5}

            results = []
            if "error" in entry:
                results.append({"check": "kerastorch writes", "model": name, "from": tag, "ok": False,
                                "error": entry["error"][:300]})
            else:
                for what, fn in [c for c in (
                    ("keras3 load_model(our .keras)", lambda: compare(
                        "keras3 load_model(our .keras)",
                        keras.saving.load_model(stem + ".keras").predict(x, verbose=0), "k3")),
                    ("keras3 load_weights(our .weights.h5)", lambda: _with_weights(
                        keras.saving.load_model(os.path.join(ATT, rec["files"]["k3"])), stem + ".weights.h5",
                        lambda m: compare("keras3 load_weights(our .weights.h5)", m.predict(x, verbose=0), "k3"))),
                    ("tf.keras load_weights(our .h5)", lambda: _with_weights(
                        tf_keras.models.load_model(os.path.join(ATT, rec["files"]["tf"])), stem + ".h5",
                        lambda m: compare("tf.keras load_weights(our .h5)", m.predict(x, verbose=0), "tf"))),
                ) if "tf" in rec["files"] or not c[0].startswith("tf.keras")]:  # GroupQueryAttention: Keras 3 only
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

"""Proof, against real Keras 3, that kerastorch writes models with issue 21's structured-data and audio layers
(Hashing, HashedCrossing, Discretization fixed and adapted, CategoryEncoding, MelSpectrogram, STFTSpectrogram)
that Keras loads and runs as Keras recorded.

Run from the repository root in the reference venv (TensorFlow 2.21, tf-keras 2.21, Keras 3.15.1, scipy)::

    .venv-keras/bin/python compat_fixtures/prove_structured_files.py

This file runs twice: in the reference venv (the Keras side) and, as a subprocess, in the kerastorch venv
(``.venv/bin/python`` or ``$KERASTORCH_PYTHON``, ``--kerastorch-side DIR``). The kerastorch side loads every model
file of ``structured/models`` (Keras 3 ``.keras``, tf.keras ``.keras`` and ``.h5``) with
``kerastorch.models.load_model`` and writes ``save_model(model, '<name>.keras')``; the Keras side loads each with
``keras.saving.load_model`` (``safe_mode=True``) and compares its prediction on the recorded inputs with the output
Keras recorded for the original file. The kerastorch side also builds a model of its own whose first input is a
string column (``Input(dtype="string")`` -> ``Hashing``, and ``HashedCrossing`` of it with an int64 column) and
writes its ``.keras`` and its outputs; Keras 3 must load it and predict the same on the same strings. Prints one
JSON line per check and ``SUMMARY {...}``; exits 1 unless every check passes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MODELS = os.path.join(HERE, "structured", "models")
FILES = {"structured.k3.keras": "k3.output", "structured.tf.keras": "tf.output", "structured.tf.h5": "tf.output",
         "audio.k3.keras": "audio.k3.output"}


def kerastorch_side(out: str) -> None:
    import kerastorch as kt

    done = []
    for name in FILES:
        entry = {"file": name}
        try:
            model = kt.models.load_model(os.path.join(MODELS, name))
            kt.models.save_model(model, os.path.join(out, name.replace(".", "_") + ".keras"))
        except Exception as e:  # noqa: BLE001 - reported by the Keras side
            entry["error"] = f"{type(e).__name__}: {e}"
        done.append(entry)
    entry = {"file": "strings"}
    try:
        import numpy as np
        import torch

        torch.manual_seed(0)
        words, ids = STRINGS
        text = kt.models.Input(shape=(1,), dtype="string", name="text")
        ident = kt.models.Input(shape=(1,), dtype="int64", name="ident")
        hashed = kt.layers.Hashing(num_bins=8, salt=[3, 5], output_mode="one_hot")(text)
        crossed = kt.layers.HashedCrossing(num_bins=6, output_mode="one_hot")([text, ident])
        model = kt.models.Model([text, ident], kt.layers.Dense(2)(kt.layers.Concatenate()([hashed, crossed])))
        y = model([np.array(words).reshape(-1, 1), torch.tensor(ids).reshape(-1, 1)])
        np.save(os.path.join(out, "strings.npy"), y.detach().numpy())
        kt.models.save_model(model, os.path.join(out, "strings.keras"))
    except Exception as e:  # noqa: BLE001 - reported by the Keras side
        entry["error"] = f"{type(e).__name__}: {e}"
    done.append(entry)
    json.dump(done, open(os.path.join(out, "written.json"), "w"))


STRINGS = (["A", "héllo", "", "日本語", "x" * 70, "42"], [1, -7, 0, 123456, 3, 42])


def keras_side() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import numpy as np
    from safetensors.numpy import load_file

    import keras

    python = os.environ.get("KERASTORCH_PYTHON", os.path.join(REPO, ".venv", "bin", "python"))
    tensors = load_file(os.path.join(MODELS, "tensors.safetensors"))
    failures, checks = 0, 0
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([python, os.path.abspath(__file__), "--kerastorch-side", out], check=True, cwd=REPO)
        for entry in json.load(open(os.path.join(out, "written.json"))):
            name = entry["file"]
            result = {"check": "keras3 load_model(our .keras)", "from": name}
            if "error" in entry:
                result.update(ok=False, error=entry["error"][:300])
            else:
                try:
                    if name == "strings":
                        model = keras.saving.load_model(os.path.join(out, "strings.keras"))
                        words, ids = STRINGS
                        y = np.asarray(model([np.array(words, dtype=object).reshape(-1, 1),
                                              np.array(ids, dtype="int64").reshape(-1, 1)]))
                        want = np.load(os.path.join(out, "strings.npy"))
                    else:
                        model = keras.saving.load_model(os.path.join(out, name.replace(".", "_") + ".keras"))
                        x = tensors["x_wave"] if name.startswith("audio") else [tensors["x_num"], tensors["x_id"], tensors["x_b"]]
                        y = np.asarray(model.predict(x, verbose=0))
                        want = tensors[FILES[name]]
                    diff = float(np.max(np.abs(y - want)))
                    result.update(max_abs_diff=diff, ok=diff <= 1e-5)
                except Exception as e:  # noqa: BLE001
                    result.update(ok=False, error=f"{type(e).__name__}: {str(e)[:300]}")
            checks += 1
            failures += not result["ok"]
            print(json.dumps(result), flush=True)
    print("SUMMARY " + json.dumps({"checks": checks, "failures": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--kerastorch-side":
        kerastorch_side(sys.argv[2])
    else:
        sys.exit(keras_side())

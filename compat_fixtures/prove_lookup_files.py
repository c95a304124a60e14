"""Proof, against real Keras 3.15.1, that the ``.keras`` files kerastorch's ``save_model`` writes from the issue-21
vocabulary model files (``compat_fixtures/lookups/``, made by real tf.keras / Keras 3 in ``gen/lookups.py``) are
read back by real Keras 3 with their vocabularies: the structured-data classifier (StringLookup/IntegerLookup +
Normalization -> Dense) and the text classifier (TextVectorization -> Embedding -> GlobalAveragePooling1D -> Dense),
each from tf.keras ``.h5``, tf.keras ``.keras`` and Keras 3 ``.keras``.

Run from the repository root in the reference venv::

    .venv-keras/bin/python compat_fixtures/prove_lookup_files.py [--record]

It runs twice: here (the Keras side) and, as a subprocess, in the kerastorch venv (``.venv/bin/python`` or
``$KERASTORCH_PYTHON``; ``--kerastorch-side DIR``), which loads each fixture with ``kerastorch.models.load_model``,
checks its output on the raw rows / strings against the one real Keras recorded (``models.json``) and writes
``save_model(model, DIR/<fixture>.keras)``. Keras 3 then loads each written file (``safe_mode=True``), compares its
vocabularies with kerastorch's and predicts on the same raw inputs; a check passes when the prediction equals the
recorded one to 1e-5. Prints one JSON line per check and ``SUMMARY {...}``; ``--record`` writes them to
``compat_fixtures/lookups/proof.json``. Exits 1 unless every check passes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(ROOT, "compat_fixtures", "lookups")
KERASTORCH_PYTHON = os.environ.get("KERASTORCH_PYTHON", os.path.join(ROOT, ".venv", "bin", "python"))


def _records():
    with open(os.path.join(DIR, "models.json")) as f:
        return json.load(f)


def _inputs(rec, fname, as_tf=None):
    if fname.startswith("structured"):
        rows = rec["struct_rows"]
        x = {k: (np.array(v, dtype=object).reshape(-1, 1) if isinstance(v[0], str)
                 else np.array(v, dtype=np.float32 if k == "age" else np.int64).reshape(-1, 1)) for k, v in rows.items()}
        if as_tf is not None:
            x = {k: as_tf.constant(v.astype(str) if v.dtype == object else v) for k, v in x.items()}
        return x
    x = np.array(rec["texts"], dtype=object).reshape(-1, 1)
    return as_tf.constant(x.astype(str)) if as_tf is not None else x


def kerastorch_side(out_dir):
    import torch
    import kerastorch as kt

    rec = _records()
    report = {}
    for fname, expected in rec["files"].items():
        model = kt.models.load_model(os.path.join(DIR, fname))
        model.eval()
        with torch.no_grad():
            y = model(_inputs(rec, fname)).numpy()
        vocab = {l.name: [str(t) for t in l.get_vocabulary()] for l in model.layers if hasattr(l, "get_vocabulary")}
        target = os.path.join(out_dir, fname.replace(".", "_") + ".keras")
        kt.models.save_model(model, target)
        report[fname] = {"load_diff": float(np.abs(y - np.array(expected["output"])).max()), "written": target,
                         "vocabularies": vocab}
    print(json.dumps(report))


def main(record=False):
    import tensorflow as tf
    import keras

    rec = _records()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([KERASTORCH_PYTHON, __file__, "--kerastorch-side", tmp], capture_output=True, text=True,
                              cwd=ROOT)
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            sys.exit(1)
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        checks = []
        for fname, side in report.items():
            expected = np.array(rec["files"][fname]["output"])
            check = {"fixture": fname, "kerastorch_load_diff": side["load_diff"]}
            try:
                model = keras.saving.load_model(side["written"], safe_mode=True)
                y = np.asarray(model(_inputs(rec, fname, tf)))
                vocab = {l.name: [str(t) for t in l.get_vocabulary()] for l in model.layers if hasattr(l, "get_vocabulary")}
                check.update(keras3_diff=float(np.abs(y - expected).max()), vocabularies_equal=vocab == side["vocabularies"])
                check["ok"] = bool(check["keras3_diff"] <= 1e-5 and side["load_diff"] <= 1e-5 and check["vocabularies_equal"])
            except Exception as e:  # noqa: BLE001
                check.update(ok=False, error=f"{type(e).__name__}: {str(e)[:300]}")
            print(json.dumps(check))
            checks.append(check)
    summary = {"checks": len(checks), "passed": sum(c["ok"] for c in checks), "keras": keras.__version__}
    print("SUMMARY", json.dumps(summary))
    if record:
        with open(os.path.join(DIR, "proof.json"), "w") as f:
            json.dump({"summary": summary, "checks": checks}, f, indent=1)
            f.write("\n")
    sys.exit(0 if summary["passed"] == summary["checks"] else 1)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--kerastorch-side":
        kerastorch_side(sys.argv[2])
    else:
        main(record="--record" in sys.argv)

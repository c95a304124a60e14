"""Proof, against real tf.keras 2.21 and Keras 3.15.1, that what kerastorch writes from the issue-26 model files
(``compat_fixtures/user_files/``, made by real Keras in ``gen/user_files.py``) is read back by real Keras.

Run from the repository root in the reference venv::

    .venv-keras/bin/python compat_fixtures/prove_user_files.py [--record]

This file runs twice: in the reference venv (the Keras side, the command above) and, as a subprocess, in the
kerastorch venv (``.venv/bin/python`` or ``$KERASTORCH_PYTHON``; ``--kerastorch-side``), which loads each
fixture with ``kerastorch.models.load_model`` and writes, into a temporary folder:

* ``save_model(model, '<tag>.keras')`` for every ``SAVE_MODEL`` fixture: Keras 3 ``keras.saving.load_model``
  reads it (``safe_mode=True``) and predicts on the fixture's input; the prediction is compared with the one
  real Keras recorded for the fixture (``user_files.safetensors``);
* ``save_keras_weights(model, '<case>.h5')`` and ``'<case>.weights.h5'`` for every ``SAVE_WEIGHTS`` fixture
  (after kerastorch perturbs nothing: the weights are the file's): the same model built by real Keras from the
  fixture's own file (tf.keras ``load_model`` of its ``.h5``; Keras 3 ``load_model`` of the fixture's Keras 3
  archive when there is one, else -- Keras 3 cannot read every tf.keras ``.h5`` config, e.g. a nested
  Sequential's -- of the archive ``save_model`` wrote above) has its weights zeroed, then ``load_weights`` reads
  kerastorch's file (tf.keras: ``.h5``; Keras 3: ``.h5`` and ``.weights.h5``, as README says) and predicts.

A check passes when Keras loads the file and its prediction equals the recorded one within the case's ``rtol``
(1e-5 relative to the output's largest magnitude; 2e-3 for the float16 case). Prints one JSON line per check
and ``SUMMARY {...}``; ``--record`` also writes them to ``compat_fixtures/user_files/proof.json`` (which the
kerastorch tests read). Exits 1 unless every check passes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(ROOT, "compat_fixtures", "user_files")
KERASTORCH_PYTHON = os.environ.get("KERASTORCH_PYTHON", os.path.join(ROOT, ".venv", "bin", "python"))

# (case, file kind): the fixtures save_model writes to .keras for Keras 3 to load.
SAVE_MODEL = [
    ("k3_hard", "k3_h5"), ("tf_fitted", "tf_keras"), ("tf_norms", "tf_h5"), ("tf_input_shape", "tf_h5"),
    ("tf_tower", "tf_h5"), ("tf_adapted_norm", "tf_h5"), ("tf_mixed", "tf_keras"), ("tf_mixed", "tf_h5"),
    ("nested_sub", "tf_h5"), ("k2_list_seq", "tf_h5"),
]
# The fixtures save_keras_weights writes (from their tf.keras .h5) for tf.keras and Keras 3 to load_weights.
SAVE_WEIGHTS = ["nested_sub", "tf_norms", "tf_adapted_norm", "tf_input_shape", "tf_tower"]


def _cases() -> dict:
    with open(os.path.join(DIR, "user_files.json")) as f:
        return json.load(f)["cases"]


# ============================================================================= the kerastorch side
def _kerastorch_side(out_dir: str) -> None:
    import kerastorch as kt

    cases = _cases()
    for case, kind in SAVE_MODEL:
        tag = f"{case}.{kind}"
        try:
            model = kt.models.load_model(os.path.join(DIR, cases[case]["files"][kind]))
            kt.models.save_model(model, os.path.join(out_dir, tag + ".keras"))
            print(json.dumps({"tag": tag, "ok": True}), flush=True)
        except Exception as e:  # noqa: BLE001  (reported as a failed check)
            print(json.dumps({"tag": tag, "ok": False, "error": f"{type(e).__name__}: {e}"[:600]}), flush=True)
    for case in SAVE_WEIGHTS:
        try:
            model = kt.models.load_model(os.path.join(DIR, cases[case]["files"]["tf_h5"]))
            for ext in (".h5", ".weights.h5"):
                kt.save_keras_weights(model, os.path.join(out_dir, case + ext))
            print(json.dumps({"tag": "weights." + case, "ok": True}), flush=True)
        except Exception as e:  # noqa: BLE001
            print(json.dumps({"tag": "weights." + case, "ok": False, "error": f"{type(e).__name__}: {e}"[:600]}), flush=True)


# ============================================================================= the Keras side
def _rel(got: np.ndarray, want: np.ndarray) -> float:
    scale = max(float(np.abs(want).max()), 1e-6)
    return float(np.abs(got.astype(np.float64) - want.astype(np.float64)).max() / scale)


def _verdict(model, case: dict, tensors: dict) -> dict:
    got = np.asarray(model(tensors[case["input"]], training=False)).astype(np.float32)
    want = tensors[case["output"]]
    rel = _rel(got, want) if got.shape == want.shape else float("inf")
    rtol = case.get("rtol", 1e-5)
    return {"loaded": True, "max_rel_vs_keras_recorded": rel, "rtol": rtol, "ok": rel <= rtol}


def _attempt(fn) -> dict:
    try:
        return fn()
    except Exception as e:  # noqa: BLE001  (recorded: Keras refused the file)
        return {"loaded": False, "ok": False, "error": f"{type(e).__name__}: {e}"[-600:]}


def main(record: bool) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    import keras
    import tf_keras
    from safetensors.numpy import load_file

    cases = _cases()
    tensors = load_file(os.path.join(DIR, "user_files.safetensors"))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run([KERASTORCH_PYTHON, os.path.abspath(__file__), "--kerastorch-side", tmp],
                             cwd=tmp, capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stdout, run.stderr, file=sys.stderr)
            raise RuntimeError("the kerastorch side of the proof crashed")
        written = {json.loads(line)["tag"]: json.loads(line) for line in run.stdout.splitlines()}

        def check(name, saved, fn):
            result = {"check": name}
            result.update(fn() if saved["ok"] else {"ok": False, "error": "kerastorch: " + saved["error"]})
            results.append(result)
            print(json.dumps(result), flush=True)

        for case, kind in SAVE_MODEL:
            tag = f"{case}.{kind}"

            def keras3_loads(tag=tag, case=case):
                keras.backend.clear_session()
                return _verdict(keras.saving.load_model(os.path.join(tmp, tag + ".keras")), cases[case], tensors)

            check(f"save_model.{tag} -> keras3.load_model", written[tag], lambda f=keras3_loads: _attempt(f))

        for case in SAVE_WEIGHTS:
            files = cases[case]["files"]

            def zeroed(model):
                model.set_weights([np.zeros_like(w) for w in model.get_weights()])
                return model

            def tf_keras_model(files=files):
                tf_keras.backend.clear_session()
                return zeroed(tf_keras.models.load_model(os.path.join(DIR, files["tf_h5"]), compile=False))

            def keras3_model(case=case, files=files):
                keras.backend.clear_session()
                source = os.path.join(DIR, files["k3_keras"]) if "k3_keras" in files else os.path.join(tmp, f"{case}.tf_h5.keras")
                return zeroed(keras.saving.load_model(source, compile=False))

            for who, build, exts in (("tf_keras", tf_keras_model, (".h5",)), ("keras3", keras3_model, (".h5", ".weights.h5"))):
                for ext in exts:
                    def loads(build=build, ext=ext, case=case):
                        model = build()
                        model.load_weights(os.path.join(tmp, case + ext))
                        return _verdict(model, cases[case], tensors)

                    check(f"save_keras_weights.{case}{ext} -> {who}.load_weights", written["weights." + case],
                          lambda f=loads: _attempt(f))

    summary = {
        "checks": len(results),
        "failures": sum(not r["ok"] for r in results),
        "max_rel_vs_keras_recorded": max((r["max_rel_vs_keras_recorded"] for r in results if r.get("loaded")), default=None),
        "keras": keras.__version__,
        "tf_keras": tf_keras.__version__,
        "tensorflow": tf.__version__,
    }
    print("SUMMARY " + json.dumps(summary))
    if record:
        with open(os.path.join(DIR, "proof.json"), "w") as f:
            json.dump({"summary": summary, "checks": results}, f, indent=1)
            f.write("\n")
    return 1 if summary["failures"] or not results else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--kerastorch-side"]:
        _kerastorch_side(sys.argv[2])
    else:
        sys.exit(main("--record" in sys.argv[1:]))

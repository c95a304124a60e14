"""Proof, against real Keras 3, that ``kerastorch.models.save_model`` writes ``.keras`` archives Keras loads.

Run from the repository root in the reference venv (TensorFlow 2.21, tf-keras 2.21, Keras 3.15.1)::

    .venv-keras/bin/python compat_fixtures/prove_save_model.py

This file runs twice: in the reference venv (the Keras side, the command above) and, as a subprocess, in
the kerastorch venv (``.venv/bin/python`` or ``$KERASTORCH_PYTHON``, ``--kerastorch-side``), which
writes every archive into a temporary folder together with the inputs, kerastorch's outputs and its
weights (``get_weights``).

Models:

* every executable fixture of ``compat_fixtures/models/MANIFEST.json``: ``kind`` ``file``, each of its
  saved files (tf.keras ``.h5``, tf.keras ``.keras``, Keras 3 ``.keras``) loaded with
  ``kerastorch.models.load_model``; ``kind`` ``config``, the config built with ``model_from_config``
  and the manifest's seeded fill (``tests/model_fill.py``). Keras 3's outputs on our archive are
  compared with the outputs the manifest recorded from real Keras AND with kerastorch's;
* ``BUILT``: models built here in kerastorch for the layer classes the fixtures do not hold (transposed,
  depthwise and separable convolutions, normalizations, PReLU/LeakyReLU/ELU/Softmax/ThresholdedReLU,
  padding/cropping/up-sampling, merges, Rescaling/Normalization, dropout/noise layers), seeded random
  weights; Keras 3's outputs are compared with kerastorch's.

Each archive is written with ``save_model(model, '<tmp>/x.keras')`` and loaded by real Keras 3
``keras.saving.load_model`` (``safe_mode=True``); outputs are inference (``training=False``). Keras's
weights must equal kerastorch's bit for bit (as multisets: Keras 3 and tf.keras order a model's weights
differently), outputs within ``rtol`` relative to the output's largest magnitude (the fixture's
``tolerance.rtol``, 1e-5 for these small models; 1e-5 for ``BUILT``: float32 summation order).

A model Keras 3 cannot hold (tf.keras's ``tf.*`` op layers, ``TFOpLambda``; layer names with ``/``) is
refused by ``save_model`` with a ValueError naming the layer; that check passes when Keras 3 fails, on
that very layer, to load the same archive written with the refusal turned off (Keras's error is recorded).

Prints one JSON line per check, then ``SUMMARY {...}`` (checks, failures, largest differences); exits 1
unless every check passes. ``refusal`` fixtures (``Lambda``) are not loadable by design and are skipped.
Nothing is written outside a temporary directory.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS_DIR = os.path.join(ROOT, "compat_fixtures", "models")
KERASTORCH_PYTHON = os.environ.get("KERASTORCH_PYTHON", os.path.join(ROOT, ".venv", "bin", "python"))
BUILT_RTOL = 1e-5
_REFUSAL = "ValueError: Cannot save layer"  # save_model's refusal of what Keras 3 cannot load


# ============================================================================= the kerastorch side
def built_models():
    """``{name: (model, input shapes)}``: kerastorch models over the layers the fixtures do not cover."""
    from kerastorch import layers as L
    from kerastorch.models import Input, Model

    out = {}
    x = Input((8, 8, 3), name="img")
    h = L.Conv2DTranspose(4, 3, strides=2, padding="same", name="tconv")(x)
    h = L.DepthwiseConv2D(3, depth_multiplier=2, name="dw")(h)
    h = L.SeparableConv2D(5, 3, padding="same", depth_multiplier=2, name="sep")(h)
    h = L.LayerNormalization(name="ln")(h)
    h = L.PReLU(shared_axes=[1, 2], name="prelu")(h)
    h = L.ZeroPadding2D(((1, 0), (2, 1)), name="pad")(h)
    h = L.Cropping2D(((0, 1), (1, 1)), name="crop")(h)
    h = L.AveragePooling2D(2, name="avg")(h)
    h = L.GroupNormalization(groups=5, name="gn")(h)
    h = L.UnitNormalization(name="unit")(h)
    h = L.UpSampling2D((2, 1), interpolation="bilinear", name="up")(h)
    h = L.SpatialDropout2D(0.3, name="sdrop")(h)
    h = L.GlobalMaxPooling2D(name="gmax")(h)
    h = L.GaussianNoise(0.5, name="noise")(h)
    h = L.Dense(4, name="dense")(h)
    h = L.ThresholdedReLU(0.05, name="trelu")(h)
    out["image_family"] = Model(x, L.Softmax(name="softmax")(h), name="image_family"), [(2, 8, 8, 3)]

    x = Input((10, 4), name="seq")
    h = L.Conv1DTranspose(3, 3, strides=2, name="tconv1")(x)
    h = L.DepthwiseConv1D(3, depth_multiplier=2, name="dw1")(h)
    h = L.SeparableConv1D(4, 3, padding="same", name="sep1")(h)
    h = L.UpSampling1D(2, name="up1")(h)
    h = L.LeakyReLU(0.2, name="leaky")(h)
    h = L.ELU(name="elu")(h)
    h = L.AveragePooling1D(2, name="avg1")(h)
    h = L.Permute((2, 1), name="perm")(h)
    h = L.Reshape((-1,), name="flat")(h)
    h = L.Dense(5, activation="tanh", name="d5")(h)
    h = L.RepeatVector(3, name="rep")(h)
    h = L.GlobalAveragePooling1D(name="gavg1")(h)
    h = L.AlphaDropout(0.2, name="adrop")(h)
    h = L.GaussianDropout(0.2, name="gdrop")(h)
    out["sequence_family"] = Model(x, L.ActivityRegularization(l1=0.01, name="actreg")(h), name="sequence_family"), [(2, 10, 4)]

    x = Input((3, 4, 4, 2), name="vol")
    h = L.Conv3DTranspose(2, 2, strides=2, name="tconv3")(x)
    h = L.UpSampling3D((1, 2, 1), name="up3")(h)
    h = L.Cropping3D(((1, 0), (0, 1), (2, 1)), name="crop3")(h)
    h = L.ZeroPadding3D(1, name="pad3")(h)
    h = L.AveragePooling3D(2, name="avg3")(h)
    out["volume_family"] = Model(x, L.GlobalMaxPooling3D(name="gmax3")(h), name="volume_family"), [(2, 3, 4, 4, 2)]

    a, b = Input((6,), name="a"), Input((6,), name="b")
    da, db = L.Dense(4, name="da")(a), L.Dense(4, name="db")(b)
    merged = L.Concatenate(name="cat")([
        L.Average(name="avg")([da, db]), L.Maximum(name="max")([da, db]), L.Minimum(name="min")([da, db]),
        L.Dot(axes=1, normalize=True, name="dot")([da, db]),
    ])
    h = L.Rescaling(0.5, offset=0.1, name="rescale")(merged)
    h = L.Normalization(mean=[0.1] * 13, variance=[2.0] * 13, name="norm")(h)
    h = L.Identity(name="ident")(h)
    h = L.Activation("gelu", name="gelu")(h)
    out["merges"] = Model([a, b], L.BatchNormalization(name="bn")(h), name="merges"), [(2, 6), (2, 6)]
    return out


def _kerastorch_side(manifest: str, out_dir: str) -> None:
    """Write ``<tag>.keras`` and ``<tag>.safetensors`` (inputs ``in.i``, outputs ``out.i``, weights ``w.i``)
    per model; one JSON line per model on stdout."""
    import gzip

    import torch
    from safetensors.numpy import load_file, save_file

    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from kerastorch.models import load_model, model_from_config, save_model
    from kerastorch.saving import model_files

    def flat(out, names):
        if isinstance(out, dict):
            return [out[n] for n in names]
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def write(tag, model, xs, names):
        model.eval()
        with torch.no_grad():
            outs = flat(model(xs[0] if len(xs) == 1 else list(xs)), names)
        try:
            save_model(model, os.path.join(out_dir, tag + ".keras"))
        except ValueError as e:
            line = {"tag": tag, "ok": False, "error": f"{type(e).__name__}: {e}"[:600]}
            if str(e).startswith("Cannot save layer"):  # refused: write it anyway, refusal off, for Keras to try
                dialect = model_files._keras3_dialect
                model_files._keras3_dialect = lambda entry, refuse=False: dialect(entry, refuse=False)
                try:
                    save_model(model, os.path.join(out_dir, tag + ".unrefused.keras"))
                finally:
                    model_files._keras3_dialect = dialect
            print(json.dumps(line), flush=True)
            return
        arrays = {f"in.{i}": x.numpy() for i, x in enumerate(xs)}
        arrays.update({f"out.{i}": o.detach().numpy() for i, o in enumerate(outs)})
        arrays.update({f"w.{i}": np.ascontiguousarray(w) for i, w in enumerate(model.get_weights())})
        save_file(arrays, os.path.join(out_dir, tag + ".safetensors"))
        print(json.dumps({"tag": tag, "ok": True}), flush=True)

    with open(manifest) as f:
        entries = json.load(f)["fixtures"]
    for entry in entries:
        if entry["kind"] == "refusal":
            continue
        tensors = load_file(os.path.join(MODELS_DIR, entry["tensors"]))
        xs = [torch.from_numpy(tensors[i["key"]]) for i in entry["inputs"]]
        for kind in ["config"] if entry["kind"] == "config" else sorted(entry["files"]):
            tag = f"{entry['name']}.{kind}"
            try:
                if kind == "config":
                    from model_fill import fill_model  # tests/model_fill.py: the manifest's seeded fill

                    path = os.path.join(MODELS_DIR, entry["files"]["config"])
                    with (gzip.open if path.endswith(".gz") else open)(path, "rt") as f:
                        model = model_from_config(json.load(f))
                    fill_model(model, entry["weights"], entry["fill_seed"], entry["source"])
                else:
                    model = load_model(os.path.join(MODELS_DIR, entry["files"][kind]))
                write(tag, model, xs, entry["outputs"]["names"])
            except Exception as e:  # noqa: BLE001  (reported as a failed check)
                print(json.dumps({"tag": tag, "ok": False, "error": f"{type(e).__name__}: {e}"[:600]}), flush=True)
    g = torch.Generator().manual_seed(0)
    for name, (model, shapes) in built_models().items():
        with torch.no_grad():  # seeded weights; variances positive
            for key, t in model.state_dict(keep_vars=True).items():
                if t.is_floating_point():
                    v = torch.rand(t.shape, generator=g) + 0.5 if "variance" in key else torch.randn(t.shape, generator=g) * 0.3
                    t.copy_(v.to(t.dtype))
        write(f"built.{name}", model, [torch.randn(s, generator=g) for s in shapes], [])


# ============================================================================= the Keras side
def _run_keras(tf, model, xs):
    args = xs[0] if len(xs) == 1 else list(xs)
    try:
        return model(args, training=False)
    except Exception:  # noqa: BLE001  (TF's CPU kernels refuse some NCHW ops eagerly)
        return tf.function(lambda a: model(a, training=False), jit_compile=True)(args)


def _flat(out, names):
    if isinstance(out, dict):
        return [np.asarray(out[n]) for n in names]
    if isinstance(out, (list, tuple)):
        return [np.asarray(o) for o in out]
    return [np.asarray(out)]


def _rel(got, want) -> float:
    if not want.size:
        return 0.0
    scale = max(float(np.abs(want).max()), 1e-6)
    return float(np.abs(got.astype(np.float64) - want.astype(np.float64)).max() / scale)


def _weights_equal(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    def key(w):
        w = np.ascontiguousarray(w)
        return (str(w.dtype), w.shape, w.tobytes())

    return len(a) == len(b) and sorted(map(key, a)) == sorted(map(key, b))


def _check_refusal(keras, saved: dict, unrefused: str) -> dict:
    result = {"refused": saved["error"]}
    try:
        keras.backend.clear_session()
        keras.saving.load_model(unrefused)
        result["keras3_loads_unrefused"] = True
    except Exception as e:  # noqa: BLE001
        cause = str(e).rsplit("Exception encountered:", 1)[-1].strip()  # Keras's innermost reason
        layer, cls = re.match(r"ValueError: Cannot save layer '([^']+)' \((\w+)", saved["error"]).groups()
        result.update(keras3_loads_unrefused=False, keras3_error=f"{type(e).__name__}: {cause}"[:300],
                      keras3_fails_on_that_layer=layer in cause or f"'{cls}'" in cause)
    result["ok"] = not result["keras3_loads_unrefused"] and result["keras3_fails_on_that_layer"]
    return result


def _check_archive(tf, keras, tmp: str, tag: str, entry: dict | None) -> dict:
    from safetensors.numpy import load_file

    keras.backend.clear_session()
    model = keras.saving.load_model(os.path.join(tmp, tag + ".keras"))
    ours = load_file(os.path.join(tmp, tag + ".safetensors"))

    def series(prefix):
        return [ours[k] for k in sorted((k for k in ours if k.startswith(prefix)), key=lambda k: int(k.split(".")[1]))]

    xs, kt_out, kt_w = series("in."), series("out."), series("w.")
    got = _flat(_run_keras(tf, model, [tf.constant(x) for x in xs]), entry["outputs"]["names"] if entry else [])
    rtol = entry["tolerance"]["rtol"] if entry else BUILT_RTOL
    result = {
        "keras3_loaded": True,
        "shapes_equal": [g.shape for g in got] == [k.shape for k in kt_out],
        "weights_equal": _weights_equal([np.asarray(w) for w in model.get_weights()], kt_w),
        "max_rel_vs_kerastorch": max(_rel(g, k) for g, k in zip(got, kt_out)),
        "rtol": rtol,
    }
    ok = result["shapes_equal"] and result["weights_equal"] and result["max_rel_vs_kerastorch"] <= rtol
    if entry is not None:  # the outputs real Keras recorded for the fixture
        recorded = load_file(os.path.join(MODELS_DIR, entry["tensors"]))
        want = [recorded[k] for k in entry["outputs"]["keys"]]
        result["max_rel_vs_recorded"] = max(_rel(g, w) for g, w in zip(got, want))
        result["max_abs_vs_recorded"] = max(float(np.abs(g - w).max()) for g, w in zip(got, want))
        ok = ok and [g.shape for g in got] == [w.shape for w in want] and result["max_rel_vs_recorded"] <= rtol
    result["ok"] = bool(ok)
    return result


def main() -> int:
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"Keras 3 runs on backend {keras.backend.backend()!r}; need 'tensorflow'")
    manifest_path = os.path.join(MODELS_DIR, "MANIFEST.json")
    with open(manifest_path) as f:
        entries = {e["name"]: e for e in json.load(f)["fixtures"]}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(
            [KERASTORCH_PYTHON, os.path.abspath(__file__), "--kerastorch-side", manifest_path, tmp],
            cwd=ROOT, capture_output=True, text=True,
        )
        if run.returncode != 0:
            print(run.stdout, run.stderr, file=sys.stderr)
            raise RuntimeError("the kerastorch side of the proof crashed")
        for line in run.stdout.splitlines():
            saved = json.loads(line)
            tag = saved["tag"]
            entry = None if tag.startswith("built.") else entries[tag.rsplit(".", 1)[0]]
            unrefused = os.path.join(tmp, tag + ".unrefused.keras")
            result = {"check": tag, "ok": False}
            if not saved["ok"] and saved["error"].startswith(_REFUSAL) and os.path.exists(unrefused):
                result.update(_check_refusal(keras, saved, unrefused))
            elif not saved["ok"]:
                result["error"] = "kerastorch: " + saved["error"]
            else:
                try:
                    result.update(_check_archive(tf, keras, tmp, tag, entry))
                except Exception as e:  # noqa: BLE001  (recorded: a failure of the proof)
                    result["error"] = f"keras 3: {type(e).__name__}: {e}"[:600]
            results.append(result)
            print(json.dumps(result), flush=True)
    loaded = [r for r in results if r.get("keras3_loaded")]
    fixtures = [r for r in loaded if "max_rel_vs_recorded" in r]
    summary = {
        "checks": len(results),
        "failures": sum(not r["ok"] for r in results),
        "keras3_loaded": len(loaded),
        "of_which_fixtures": len(fixtures),
        "of_which_built": len(loaded) - len(fixtures),
        "refused_as_keras3_cannot_hold": sum("refused" in r for r in results),
        "weights_bit_equal": sum(bool(r.get("weights_equal")) for r in results),
        "max_rel_vs_recorded": max((r["max_rel_vs_recorded"] for r in fixtures), default=None),
        "max_abs_vs_recorded": max((r["max_abs_vs_recorded"] for r in fixtures), default=None),
        "max_rel_vs_kerastorch": max((r["max_rel_vs_kerastorch"] for r in loaded), default=None),
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
    }
    print("SUMMARY " + json.dumps(summary))
    return 1 if summary["failures"] or not results else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--kerastorch-side"]:
        _kerastorch_side(sys.argv[2], sys.argv[3])
        sys.exit(0)
    sys.exit(main())

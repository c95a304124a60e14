"""Proof, against real Keras 3.15.1, that what kerastorch writes from the issue-20 classifier files
(``compat_fixtures/image_preprocessing/geometric_classifier.*``, made by real tf.keras 2.21 / Keras 3 in
``gen/image_geometric.py``) is read back by real Keras 3.

Run from the repository root in the reference venv::

    .venv-keras/bin/python compat_fixtures/prove_image_files.py

It runs the kerastorch side as a subprocess in the kerastorch venv (``.venv/bin/python`` or
``$KERASTORCH_PYTHON``; ``--kerastorch-side DIR``): each fixture is loaded with ``kerastorch.models.load_model``
and written back with ``save_model(model, '<name>.keras')``. Keras 3 then loads each written archive
(``keras.saving.load_model``, ``safe_mode=True``), predicts on the recorded input with ``training=False`` and
compares with the output real Keras recorded for the fixture (``geometric_classifier_tensors.safetensors``), and
checks the augmentation layers came back as Keras 3's own classes with their arguments. Also a model built in
kerastorch with Keras 3-only layers (Pipeline, RandomShear, RandomPerspective, RandomElasticTransform, antialiased
Resizing), saved by kerastorch: Keras 3 loads it and computes kerastorch's eval output. Prints one JSON line per
file and ``SUMMARY``; exits 1 unless every check passes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(ROOT, "compat_fixtures", "image_preprocessing")
KERASTORCH_PYTHON = os.environ.get("KERASTORCH_PYTHON", os.path.join(ROOT, ".venv", "bin", "python"))
FILES = [("geometric_classifier.tf.h5", "tf"), ("geometric_classifier.tf.keras", "tf"), ("geometric_classifier.k3.keras", "k3")]


def _kerastorch_side(out_dir: str) -> None:
    import torch

    import kerastorch as kt
    from kerastorch import layers as L

    for name, _ in FILES:
        model = kt.models.load_model(os.path.join(DIR, name))
        kt.models.save_model(model, os.path.join(out_dir, name.replace(".", "_") + ".keras"))
    # a model built in kerastorch with Keras 3's own layers (Pipeline, RandomShear, RandomPerspective,
    # RandomElasticTransform, antialiased Resizing): written, then read by Keras 3
    inputs = kt.models.Input((12, 14, 3))
    h = L.Pipeline([L.RandomFlip("horizontal"), L.RandomRotation(0.1)], name="aug")(inputs)
    h = L.Resizing(6, 6, antialias=True)(h)
    h = L.RandomShear(0.2)(h)
    h = L.RandomPerspective()(h)
    h = L.RandomElasticTransform()(h)
    h = L.CenterCrop(4, 4)(h)
    model = kt.models.Model(inputs, L.Conv2D(2, 3)(h)).eval()
    x = torch.rand(2, 12, 14, 3, generator=torch.Generator().manual_seed(0))
    np.save(os.path.join(out_dir, "built_x.npy"), x.numpy())
    np.save(os.path.join(out_dir, "built_y.npy"), model(x).detach().numpy())
    kt.models.save_model(model, os.path.join(out_dir, "built.keras"))


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from safetensors.numpy import load_file

    import keras

    tensors = load_file(os.path.join(DIR, "geometric_classifier_tensors.safetensors"))
    failures = 0
    with tempfile.TemporaryDirectory() as out_dir:
        subprocess.run([KERASTORCH_PYTHON, __file__, "--kerastorch-side", out_dir], check=True)
        for name, tag in FILES:
            path = os.path.join(out_dir, name.replace(".", "_") + ".keras")
            record = {"file": name}
            try:
                model = keras.saving.load_model(path, safe_mode=True)
                y = np.asarray(model(tensors["input"], training=False))
                expected = tensors[f"{tag}.eval"]
                record["max_abs_diff"] = float(np.abs(y - expected).max())
                augment = model.get_layer("data_augmentation")
                record["augmentation"] = [type(layer).__name__ for layer in augment.layers]
                ok = record["max_abs_diff"] <= 1e-5 * max(1.0, float(np.abs(expected).max()))
                ok = ok and record["augmentation"] == ["RandomFlip", "RandomRotation", "RandomZoom"]
                trained = np.asarray(model(tensors["input"], training=True))
                record["train_differs"] = bool(np.abs(trained - y).max() > 0)
                ok = ok and record["train_differs"]
            except Exception as e:  # noqa: BLE001 - a refusal is a failed check, reported
                record["error"] = f"{type(e).__name__}: {e}"[:500]
                ok = False
            record["ok"] = ok
            failures += not ok
            print(json.dumps(record))
        record = {"file": "built in kerastorch (Pipeline, RandomShear, RandomPerspective, RandomElasticTransform, Resizing antialias)"}
        try:
            model = keras.saving.load_model(os.path.join(out_dir, "built.keras"), safe_mode=True)
            x, expected = np.load(os.path.join(out_dir, "built_x.npy")), np.load(os.path.join(out_dir, "built_y.npy"))
            record["max_abs_diff"] = float(np.abs(np.asarray(model(x, training=False)) - expected).max())
            record["ok"] = record["max_abs_diff"] <= 1e-5 * max(1.0, float(np.abs(expected).max()))
        except Exception as e:  # noqa: BLE001
            record["error"], record["ok"] = f"{type(e).__name__}: {e}"[:500], False
        failures += not record["ok"]
        print(json.dumps(record))
    print("SUMMARY", json.dumps({"files": len(FILES) + 1, "failed": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--kerastorch-side":
        _kerastorch_side(sys.argv[2])
        sys.exit(0)
    sys.exit(main())

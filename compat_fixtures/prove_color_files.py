"""Proof, against real Keras 3.15.1, that what kerastorch writes from the colour-augmented classifier files
(``compat_fixtures/image_preprocessing/color_classifier.*``, made by real tf.keras 2.21 / Keras 3 in
``gen/image_color.py``) is read back by real Keras 3.

Run from the repository root in the reference venv::

    .venv-keras/bin/python compat_fixtures/prove_color_files.py

The kerastorch side runs as a subprocess in the kerastorch venv (``.venv/bin/python`` or ``$KERASTORCH_PYTHON``;
``--kerastorch-side DIR``): each fixture is loaded with ``kerastorch.models.load_model`` and written back with
``save_model``. Keras 3 loads each written archive (``safe_mode=True``), predicts on the recorded input with
``training=False`` and compares with the output real Keras recorded (``color_classifier_tensors.safetensors``), and
checks the augmentation block came back as Keras 3's own classes. Also a model built in kerastorch with the
deterministic colour layers (AutoContrast, CLAHE: applied in inference) and a seeded RandAugment/AugMix/jitter block,
saved by kerastorch: Keras 3 loads it and computes kerastorch's eval output. Prints one JSON line per file and
``SUMMARY``; exits 1 unless every check passes.
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
FILES = [("color_classifier.tf.h5", "tf"), ("color_classifier.tf.keras", "tf"), ("color_classifier.k3.keras", "k3")]


def _kerastorch_side(out_dir: str) -> None:
    import torch

    import kerastorch as kt
    from kerastorch import layers as L

    for name, _ in FILES:
        kt.models.save_model(kt.models.load_model(os.path.join(DIR, name)), os.path.join(out_dir, name.replace(".", "_") + ".keras"))
    inputs = kt.models.Input((12, 14, 3))
    h = L.RandAugment(num_ops=2, seed=1)(inputs)
    h = L.AugMix(seed=2)(h)
    h = L.RandomColorJitter(brightness_factor=0.2, hue_factor=0.1, seed=3)(h)
    h = L.AutoContrast()(h)
    h = L.ContrastLimitedAdaptiveHistogramEqualization(clip_limit=2.0, tile_grid_size=(3, 2))(h)
    model = kt.models.Model(inputs, L.Conv2D(2, 3)(L.Rescaling(1.0 / 255)(h))).eval()
    x = torch.rand(2, 12, 14, 3, generator=torch.Generator().manual_seed(0)) * 255
    np.save(os.path.join(out_dir, "built_x.npy"), x.numpy())
    np.save(os.path.join(out_dir, "built_y.npy"), model(x).detach().numpy())
    kt.models.save_model(model, os.path.join(out_dir, "built.keras"))


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from safetensors.numpy import load_file

    import keras

    tensors = load_file(os.path.join(DIR, "color_classifier_tensors.safetensors"))
    failures = 0
    with tempfile.TemporaryDirectory() as out_dir:
        subprocess.run([KERASTORCH_PYTHON, __file__, "--kerastorch-side", out_dir], check=True)
        for name, tag in FILES:
            model = keras.saving.load_model(os.path.join(out_dir, name.replace(".", "_") + ".keras"), safe_mode=True)
            y = np.asarray(model(tensors["input"], training=False))
            diff = float(np.abs(y - tensors[f"{tag}.eval"]).max())
            block = next(layer for layer in model.layers if layer.name == "color_augmentation")
            classes = [type(layer).__module__.startswith("keras.") for layer in block.layers]
            ok = diff < 1e-5 and all(classes)
            failures += not ok
            print(json.dumps({"file": name, "max_abs_diff": diff, "keras_classes": all(classes), "ok": ok}))
        model = keras.saving.load_model(os.path.join(out_dir, "built.keras"), safe_mode=True)
        x, expected = np.load(os.path.join(out_dir, "built_x.npy")), np.load(os.path.join(out_dir, "built_y.npy"))
        diff = float(np.abs(np.asarray(model(x, training=False)) - expected).max())
        ok = diff < 1e-3  # CLAHE's float32 interpolation, summed by a conv: a few ulps of 255
        failures += not ok
        print(json.dumps({"file": "built in kerastorch", "max_abs_diff": diff, "ok": ok}))
    print(f"SUMMARY {len(FILES) + 1 - failures}/{len(FILES) + 1} read back by Keras 3 with the same eval outputs")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--kerastorch-side":
        _kerastorch_side(sys.argv[2])
        sys.exit(0)
    sys.exit(main())

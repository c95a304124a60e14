"""Record ``keras.applications`` architectures (tf.keras AND Keras 3) for ``kerastorch.models`` parity.

Run (from the repository root, in the reference venv; see ``generate.py``)::

    .venv-keras/bin/python compat_fixtures/generate.py --only applications

Nothing is downloaded: every model is built with ``weights=None`` and its weights are set by the
fill of ``gen/models.py`` (imported, not copied; the rule is written in ``models/MANIFEST.json``
``"fill"`` and again in ``applications/MANIFEST.json``).  Only the architecture (``model.to_json()``,
gzip), the fill seed, a seeded input and Keras's eval-mode outputs are stored, so the folder stays
small; the tests rebuild each model with ``kerastorch.models.model_from_config`` and refill it.

Files written into ``<out_dir>/applications/``
==============================================

``<model>.tf.config.json.gz`` / ``<model>.k3.config.json.gz``: tf.keras / Keras 3 ``model.to_json()``
(gzip, mtime 0). ``<model>.safetensors``: ``input`` (batch 2, float32; N(0, 1), or U(0, 255) for
models that rescale pixels inside), ``tf.out`` / ``k3.out`` (``model(x, training=False)``).

``MANIFEST.json``::

    {"versions": {...}, "fill": "<the fill rule>", "total_bytes": int,
     "skipped": {"<model>.<source>": "Type: message"},   # architectures Keras itself could not build
     "fixtures": [entry, ...]}

one ``entry`` per (model, source)::

    {"name": "resnet50.tf_keras", "model": "resnet50", "source": "tf_keras" | "keras3",
     "keras_version": str, "application": "ResNet50",
     "application_kwargs": {...},        # exactly what was passed (weights=None, ...)
     "config": "resnet50.tf.config.json.gz", "tensors": "resnet50.safetensors",
     "input": {"key": "input", "shape": [2, 32, 32, 3], "kind": "normal" | "pixels"},
     "output": {"key": "tf.out", "shape": [2, 10], "abs_max": float},
     "fill_seed": int,
     "weights": [[name, shape, dtype], ...],   # model.weights in THIS library's order: tf.keras =
                                               # all trainable then all non-trainable; Keras 3 =
                                               # layer by layer (each layer's own order)
     "weight_sums": [float64 sum of each filled weight],
     "n_layers": int, "depth": int,            # len(model.layers); weighted layers on the longest path
     "layer_classes": [...], "ops": [...],     # coverage (sorted), incl. TFOpLambda / keras.ops nodes
     "cross_max_rel_diff": float | null,       # Keras 3 run on the tf.keras model's weights (copied
                                               # layer by layer) vs tf.keras: max|diff| / max|out|,
                                               # the float32 noise floor of this architecture
     "tolerance": {"rtol": float, "why": str}}

Skipped on purpose: none of the requested list is left out unless ``skipped`` names it with Keras's
own error.
"""
from __future__ import annotations

import gzip
import importlib
import json
import os

import numpy as np

from .common import error_text, fresh_session, import_keras3, import_tf, jsonable, save_safetensors, versions
from .models import BATCH, _layer_classes, _run, apply_fill

#: name -> (application function, extra kwargs, input shape (no batch), input kind).
#: A dotted name (``"convnext.ConvNeXt"``) is a builder of the library's applications package
#: (``<lib>.src.applications.convnext.ConvNeXt``) the public functions call.
#: Every model: ``weights=None, include_top=True, classes=10, classifier_activation=None`` (logits).
#: Inputs are the smallest each architecture accepts with ``weights=None`` (32x32; InceptionV3 75x75,
#: Xception 71x71). Widths reduced where the API allows (``alpha``). Input kind "pixels" (U(0, 255))
#: for the models whose graph starts with Rescaling / Normalization (``include_preprocessing``).
APPLICATIONS = {
    "resnet50": ("ResNet50", {}, (32, 32, 3), "normal"),
    "resnet50v2": ("ResNet50V2", {}, (32, 32, 3), "normal"),
    "vgg16": ("VGG16", {}, (32, 32, 3), "normal"),
    "mobilenet": ("MobileNet", {"alpha": 0.25}, (32, 32, 3), "normal"),
    "mobilenetv2": ("MobileNetV2", {"alpha": 0.35}, (32, 32, 3), "normal"),
    "mobilenetv3small": ("MobileNetV3Small", {"alpha": 0.75}, (32, 32, 3), "pixels"),
    "densenet121": ("DenseNet121", {}, (32, 32, 3), "normal"),
    "inceptionv3": ("InceptionV3", {}, (75, 75, 3), "normal"),
    "xception": ("Xception", {}, (71, 71, 3), "normal"),
    "efficientnetb0": ("EfficientNetB0", {}, (32, 32, 3), "pixels"),
    "efficientnetv2b0": ("EfficientNetV2B0", {}, (32, 32, 3), "pixels"),
    "convnexttiny": ("ConvNeXtTiny", {}, (32, 32, 3), "pixels"),
    "nasnetmobile": ("NASNetMobile", {}, (32, 32, 3), "normal"),
    # ConvNeXtTiny has no drop_path_rate argument (so no StochasticDepth layer): the shared builder, small
    "convnext_droppath": ("convnext.ConvNeXt", {"depths": [1, 1, 2, 1], "projection_dims": [16, 32, 48, 64],
                                                "drop_path_rate": 0.2, "layer_scale_init_value": 0.5},
                          (32, 32, 3), "pixels"),
}
SEED0 = 3000


def _builder(lib, fn):
    if "." not in fn:
        return getattr(lib.applications, fn)
    module, attr = fn.split(".")
    return getattr(importlib.import_module(f"{lib.__name__}.src.applications.{module}"), attr)


def _weighted_depth(model):
    """Weighted layers (Conv / Dense / BN ...) on the longest input->output path: the accumulation depth."""
    depth = {}
    for layer in getattr(model, "operations", None) or model.layers:
        inbound = []
        for node in getattr(layer, "_inbound_nodes", []):
            for parent in getattr(node, "parent_nodes", []):
                inbound.append(getattr(parent, "operation", None) or parent.layer)  # Keras 3 / tf.keras
        base = max([depth.get(id(p), 0) for p in inbound] or [0])
        depth[id(layer)] = base + (1 if getattr(layer, "weights", None) else 0)
    return max(depth.values() or [0])


def _copy_weights_by_layer(src, dst):
    """dst's weights := src's, layer by layer (each layer's own weight order): matched by layer name, else
    (tf.keras and Keras 3 name some layers differently, e.g. MobileNetV3) by position among the weighted
    layers when every layer's weight shapes agree. False when neither works."""
    def weighted(m):
        return [l for l in m.layers if l.weights]

    def shapes(l):
        return [tuple(w.shape) for w in l.weights]

    a, b = weighted(src), weighted(dst)
    by_name = {l.name: l for l in a}
    if all(l.name in by_name and shapes(by_name[l.name]) == shapes(l) for l in b) and len(a) == len(b):
        pairs = [(by_name[l.name], l) for l in b]
    elif len(a) == len(b) and all(shapes(p) == shapes(q) for p, q in zip(a, b)):
        pairs = list(zip(a, b))
    else:
        return False
    for p, q in pairs:
        q.set_weights(p.get_weights())
    return True


def _tolerance(cross, depth):
    rtol = max(1e-5, min(1e-3, 10 * (cross or 0.0)))
    return {"rtol": float("%.2g" % rtol),
            "why": "a deep float32 net (%d weighted layers on the longest path): summation-order noise "
                   "(~1e-6 relative per layer) accumulates; measured noise floor tf.keras vs Keras 3 on the "
                   "same weights = %s relative; bound = max(1e-5, 10x that)"
                   % (depth, "%.2g" % cross if cross is not None else "n/a")}


def main(out_dir):
    out = os.path.join(out_dir, "applications")
    os.makedirs(out, exist_ok=True)
    tf, tfk = import_tf()
    k3 = import_keras3()
    entries, skipped = [], {}
    for idx, (mname, (fn, kwargs, in_shape, in_kind)) in enumerate(APPLICATIONS.items()):
        seed = SEED0 + idx
        rng = np.random.default_rng(seed + 500)
        shape = [BATCH] + list(in_shape)
        x = (rng.uniform(0.0, 255.0, shape) if in_kind == "pixels" else rng.standard_normal(shape)).astype("float32")
        app_kwargs = dict(kwargs, weights=None, include_top=True, classes=10, classifier_activation=None,
                          input_shape=tuple(in_shape))
        tensors = {"input": x}
        recs, models = {}, {}
        for src, lib in (("tf_keras", tfk), ("keras3", k3)):
            tag = "tf" if src == "tf_keras" else "k3"
            fresh_session(lib, seed=seed)
            try:
                model = _builder(lib, fn)(**app_kwargs)
            except Exception as e:  # noqa: BLE001  (recorded: Keras itself cannot build it)
                skipped[f"{mname}.{src}"] = error_text(e)
                print(f"[applications] {mname} {src}: SKIPPED {error_text(e)}", flush=True)
                continue
            wl, sums = apply_fill(model, seed)
            y = np.asarray(_run(tf, model, [x]))
            tensors[f"{tag}.out"] = y
            cfg_name = f"{mname}.{tag}.config.json.gz"
            with gzip.GzipFile(os.path.join(out, cfg_name), "wb", mtime=0) as f:
                f.write(model.to_json().encode())
            classes, ops = _layer_classes(model)
            recs[src] = {
                "name": f"{mname}.{src}", "model": mname, "source": src, "keras_version": lib.__version__,
                "application": fn, "application_kwargs": dict(app_kwargs, input_shape=list(in_shape)),
                "config": cfg_name, "tensors": f"{mname}.safetensors",
                "input": {"key": "input", "shape": shape, "kind": in_kind},
                "output": {"key": f"{tag}.out", "shape": list(y.shape), "abs_max": float(np.abs(y).max())},
                "fill_seed": seed, "weights": wl, "weight_sums": sums,
                "n_layers": len(model.layers), "depth": _weighted_depth(model),
                "layer_classes": classes, "ops": ops,
            }
            models[src] = model
        cross = None
        if len(models) == 2 and _copy_weights_by_layer(models["tf_keras"], models["keras3"]):
            a = tensors["tf.out"]
            b = np.asarray(_run(tf, models["keras3"], [x]))
            cross = float(np.abs(a - b).max() / max(np.abs(a).max(), 1e-30))
        for e in recs.values():
            e["cross_max_rel_diff"] = cross
            e["tolerance"] = _tolerance(cross, e["depth"])
            entries.append(e)
        save_safetensors(tensors, os.path.join(out, f"{mname}.safetensors"))
        print(f"[applications] {mname}: {list(recs)} cross={cross} depth={[e['depth'] for e in recs.values()]} "
              f"|out|max={[round(e['output']['abs_max'], 3) for e in recs.values()]}", flush=True)
        del models
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out) if f != "MANIFEST.json")
    from . import models as models_gen

    head = {"versions": versions("tensorflow", "tf_keras", "keras", "keras_backend", "numpy"),
            "fill": models_gen.__doc__.split("The weight fill")[1].split("Hand-made models")[0].strip(),
            "total_bytes": total, "skipped": skipped}
    with open(os.path.join(out, "MANIFEST.json"), "w") as f:  # compact: one fixture per line
        text = json.dumps(jsonable(head), indent=1, allow_nan=False)[:-2]
        rows = ",\n".join("  " + json.dumps(jsonable(e), allow_nan=False, separators=(",", ":")) for e in entries)
        f.write(text + ',\n "fixtures": [\n' + rows + "\n ]\n}\n")
    print(f"[applications] {len(entries)} fixtures, {total / 1e6:.2f} MB in {out}; skipped: {sorted(skipped)}")
    return {"fixtures": len(entries), "bytes": total, "skipped": sorted(skipped)}

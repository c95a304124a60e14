"""Keras 3's colour and mixing image augmentation layers (issue 20), plus tf.keras's RandomContrast and
RandomBrightness, recorded from the real libraries (Keras 3.15.1 on the TensorFlow backend, tf-keras 2.21).

Files under ``image_preprocessing/`` (``color_`` prefix):

``color_cases.json``: ``{"versions", "cases": [...], "errors": [...]}``. A case::

    {"id", "lib": "keras3" | "tf_keras" | "tf_image", "class_name", "args",
     "mode": "train" | "infer" | "transform",
     "input": tensor key, "output": tensor key,
     "transformation": {name: tensor key} (mode "transform": Keras's own ``transform_images(images,
         transformation)`` with the given transformation dict, the deterministic half of a random layer),
     "config": layer.get_config()}

``train`` is ``layer(x, training=True)`` (random layers with a collapsed factor range, or deterministic
layers), ``infer`` is ``layer(x, training=False)``. ``tf_image`` cases record what tf.keras's RandomContrast
computes for one factor (``tf.image.adjust_contrast`` then the layer's clip to [0, 255]): its own call draws the
factor from a stateless seed.

An error: ``{"lib", "class_name", "args", "error_type", "message"}`` for a constructor Keras refuses.

``"stats"``: Keras 3's random draws, summarized: ``{"class_name", "args", "batch", "fields": {name: {"shape",
"mean", "std", "min", "max", "frac_negative"}}}`` from ``get_random_transformation`` on a batch of ``batch`` small
images (the distributions kerastorch's draws are compared with).

``color_tensors.safetensors``: the inputs, transformations and outputs named by the cases.

A small classifier with a colour augmentation block: tf.keras (``RandomContrast``, ``RandomBrightness``; saved as
``color_classifier.tf.h5`` / ``.tf.keras``) and Keras 3 (every colour and mixing layer, then the deterministic
``AutoContrast`` / CLAHE, which apply in inference too (Equalization cannot be called symbolically in Keras 3); ``color_classifier.k3.keras``), each
followed by ``Rescaling(1/255)`` -> ``Conv2D`` -> ``GlobalAveragePooling2D`` -> ``Dense(3, softmax)``.
``color_classifier_tensors.safetensors``: ``input``, each file's ``<tag>.eval`` (``training=False``) and
``<tag>.train`` (``training=True``) outputs.
"""
from __future__ import annotations

import os

import numpy as np

from .common import clean_message, fresh_session, import_keras3, import_tf, save_safetensors, versions, write_json

SUBDIR = "image_preprocessing"


def _inputs():
    rng = np.random.default_rng(2020)
    img = (rng.random((2, 5, 6, 3)) * 255).astype("float32")
    img[1, :, :, 2] *= 0.4  # the two images differ in distribution (per-image vs per-batch statistics)
    img_int = np.floor(img)
    img01 = (img / 255.0).astype("float32")
    flat = img.copy()
    flat[0, :, :, 1] = 77.0  # a constant channel (AutoContrast's 0/0, Equalization's single bin)
    big = np.floor(rng.random((2, 10, 12, 3)) * 256).astype("float32")
    big[1] = np.floor(big[1] * 0.5 + 40)
    return {"img": img, "img_int": img_int, "img01": img01, "flat": flat, "big": big,
            "img_cf": img.transpose(0, 3, 1, 2).copy(), "img01_cf": img01.transpose(0, 3, 1, 2).copy(),
            "img_int_cf": img_int.transpose(0, 3, 1, 2).copy(), "big_cf": big.transpose(0, 3, 1, 2).copy(),
            "img3": img[0].copy(), "img3_cf": img[0].transpose(2, 0, 1).copy(), "img_int3": img_int[0].copy(),
            "big3": big[0].copy(), "img_u8": img_int.astype("uint8")}


def _t(*values, shape=None, dtype="float32"):
    a = np.asarray(values, dtype=dtype)
    return a.reshape(shape) if shape is not None else a


CF = {"data_format": "channels_first"}

# (class, args, mode, input key, transformation or None)
K3_CASES = [
    ("RandomContrast", {"factor": 0.5}, "transform", "img", {"contrast_factor": _t(0.5, 1.7, shape=(2, 1, 1, 1))}),
    ("RandomContrast", {"factor": 0.5, "value_range": (0, 1)}, "transform", "img01",
     {"contrast_factor": _t(1.9, 0.3, shape=(2, 1, 1, 1))}),
    ("RandomContrast", {"factor": (0.2, 0.6), **CF}, "transform", "img_cf",
     {"contrast_factor": _t(0.5, 1.7, shape=(2, 1, 1, 1))}),
    ("RandomContrast", {"factor": 0.0}, "train", "img", None),
    ("RandomContrast", {"factor": 0.5}, "infer", "img", None),
    ("RandomContrast", {"factor": 0.0}, "train", "img3", None),
    ("RandomBrightness", {"factor": (0.2, 0.2)}, "train", "img", None),
    ("RandomBrightness", {"factor": (-0.3, -0.3), "value_range": (0, 1)}, "train", "img01", None),
    ("RandomBrightness", {"factor": (0.1, 0.1)}, "train", "img3", None),
    ("RandomBrightness", {"factor": (0.2, 0.2)}, "train", "img_u8", None),
    ("RandomBrightness", {"factor": 0.5, "value_range": (255, 0)}, "infer", "img", None),
    ("RandomColorDegeneration", {"factor": 0.5}, "transform", "img", {"factor": _t(0.3, 0.8, shape=(2, 1, 1, 1))}),
    ("RandomColorDegeneration", {"factor": 0.5, **CF}, "transform", "img_cf",
     {"factor": _t(0.3, -0.6, shape=(2, 1, 1, 1))}),
    ("RandomColorDegeneration", {"factor": (0.5, 0.5)}, "train", "img3", None),
    ("RandomColorDegeneration", {"factor": (0.7, 0.7), "value_range": (0, 1)}, "train", "img01", None),
    ("RandomHue", {"factor": 0.5}, "transform", "img", {"factor": _t(0.1, -0.3)}),
    ("RandomHue", {"factor": 0.5, "value_range": (0, 1)}, "transform", "img01", {"factor": _t(0.45, -0.05)}),
    ("RandomHue", {"factor": 0.5, **CF}, "transform", "img_cf", {"factor": _t(0.1, -0.3)}),
    ("RandomHue", {"factor": 0.0}, "train", "img3", None),
    ("RandomSaturation", {"factor": 0.5}, "transform", "img", {"factor": _t(0.5, 2.0)}),
    ("RandomSaturation", {"factor": 0.5, **CF}, "transform", "img_cf", {"factor": _t(0.0, 3.0)}),
    ("RandomSaturation", {"factor": (0.3, 0.3)}, "train", "img", None),
    ("RandomSaturation", {"factor": (0.8, 0.8), "value_range": (0, 1)}, "train", "img01", None),
    ("RandomSaturation", {"factor": (0.6, 0.6)}, "train", "img3", None),
    ("RandomGrayscale", {"factor": 1.0}, "train", "img", None),
    ("RandomGrayscale", {"factor": 1.0, **CF}, "train", "img_cf", None),
    ("RandomGrayscale", {"factor": 1.0}, "train", "img3", None),
    ("RandomGrayscale", {"factor": 0.0}, "train", "img", None),
    ("RandomInvert", {"factor": (1.0, 1.0)}, "train", "img", None),
    ("RandomInvert", {"factor": (1.0, 1.0), "value_range": (0, 1), **CF}, "train", "img01_cf", None),
    ("RandomInvert", {"factor": (1.0, 1.0)}, "train", "img3", None),
    ("RandomInvert", {"factor": 0.0}, "train", "img", None),
    ("RandomPosterization", {"factor": (4, 4)}, "train", "img", None),
    ("RandomPosterization", {"factor": (1, 1)}, "train", "img_int", None),
    ("RandomPosterization", {"factor": (3, 3), "value_range": (0, 1)}, "train", "img01", None),
    ("RandomPosterization", {"factor": (2, 2), **CF}, "train", "img_cf", None),
    ("RandomPosterization", {"factor": (5, 5)}, "train", "img3", None),
    ("RandomPosterization", {"factor": 8}, "infer", "img", None),
    ("RandomSharpness", {"factor": 0.5}, "transform", "img", {"factor": _t(0.2, 0.9)}),
    ("RandomSharpness", {"factor": 0.5, **CF}, "transform", "img_cf", {"factor": _t(0.2, 0.9)}),
    ("RandomSharpness", {"factor": (0.7, 0.7)}, "train", "img", None),
    ("RandomSharpness", {"factor": (0.3, 0.3), "value_range": (0, 1)}, "train", "img01", None),
    ("RandomSharpness", {"factor": (0.0, 0.0)}, "train", "img3", None),
    ("Solarization", {}, "train", "img", None),
    ("Solarization", {"addition_factor": 0.2, "threshold_factor": (0.3, 0.6)}, "transform", "img",
     {"additions": _t(10.0, 0.0, shape=(2, 1, 1, 1)), "thresholds": _t(128.0, 60.0, shape=(2, 1, 1, 1))}),
    ("Solarization", {"threshold_factor": 0.5, "value_range": (0, 1)}, "transform", "img01",
     {"additions": _t(30.0, 5.0, shape=(2, 1, 1, 1)), "thresholds": _t(100.0, 200.0, shape=(2, 1, 1, 1))}),
    ("Solarization", {"value_range": (0, 1)}, "train", "img3_01", None),
    ("Solarization", {}, "infer", "img", None),
    ("RandomGaussianBlur", {"factor": (1.0, 1.0), "sigma": (0.8, 0.8)}, "train", "img", None),
    ("RandomGaussianBlur", {"factor": (1.0, 1.0), "kernel_size": 5, "sigma": (0.5, 0.5), "value_range": (0, 1)},
     "train", "img01", None),
    ("RandomGaussianBlur", {"factor": (1.0, 1.0), "kernel_size": (3, 5), "sigma": (0.6, 0.6), **CF}, "train",
     "img_cf", None),
    ("RandomGaussianBlur", {"factor": (1.0, 1.0), "sigma": (0.9, 0.9)}, "train", "img3", None),
    ("RandomGaussianBlur", {"kernel_size": (5, 3)}, "transform", "img",
     {"should_apply_blur": _t(True, False, dtype="bool"), "blur_factor": _t(0.5, 1.2)}),
    ("RandomGaussianBlur", {}, "infer", "img", None),
    ("Equalization", {}, "train", "img_int", None),
    ("Equalization", {"bins": 64}, "train", "img", None),
    ("Equalization", {"value_range": (0, 1)}, "train", "img01", None),
    ("Equalization", {**CF}, "train", "img_int_cf", None),
    ("Equalization", {}, "train", "flat", None),
    ("Equalization", {}, "train", "img_int3", None),
    ("Equalization", {}, "infer", "img", None),
    ("AutoContrast", {}, "train", "img", None),
    ("AutoContrast", {}, "infer", "img", None),
    ("AutoContrast", {"value_range": (0, 1)}, "train", "img01", None),
    ("AutoContrast", {**CF}, "train", "img_cf", None),
    ("AutoContrast", {}, "train", "flat", None),
    ("AutoContrast", {}, "train", "img3", None),
    ("ContrastLimitedAdaptiveHistogramEqualization", {}, "train", "big", None),
    ("ContrastLimitedAdaptiveHistogramEqualization", {"tile_grid_size": (2, 2)}, "train", "big", None),
    ("ContrastLimitedAdaptiveHistogramEqualization", {"tile_grid_size": (3, 4), "clip_limit": 0.0}, "train",
     "big", None),
    ("ContrastLimitedAdaptiveHistogramEqualization", {"tile_grid_size": (4, 5), "clip_limit": 2.0,
                                                      "value_range": (0, 1)}, "train", "big01", None),
    ("ContrastLimitedAdaptiveHistogramEqualization", {"tile_grid_size": (3, 3), **CF}, "train", "big_cf", None),
    ("ContrastLimitedAdaptiveHistogramEqualization", {"tile_grid_size": (2, 3)}, "infer", "big3", None),
    ("RandomColorJitter", {"brightness_factor": (0.1, 0.1), "contrast_factor": 0.0, "saturation_factor": (0.3, 0.3),
                           "hue_factor": 0.0}, "train", "img", None),
    ("RandomColorJitter", {"brightness_factor": (-0.2, -0.2), "value_range": (0, 1)}, "train", "img01", None),
    ("RandomColorJitter", {"saturation_factor": (0.6, 0.6)}, "infer", "img", None),
    ("RandomErasing", {"factor": 0.0}, "train", "img", None),
    ("RandomErasing", {"scale": (0.1, 0.2), "fill_value": 3.0, "value_range": (0, 1), **CF}, "infer", "img01_cf",
     None),
    ("MixUp", {"alpha": 0.4, "seed": 3}, "infer", "img", None),
    ("CutMix", {"factor": (0.2, 0.7), **CF}, "infer", "img_cf", None),
    ("RandAugment", {"num_ops": 3, "factor": (0.1, 0.4), "value_range": (0, 1), "interpolation": "nearest"},
     "infer", "img01", None),
    ("AugMix", {"num_chains": 2, "chain_depth": 4, "factor": 0.5, "alpha": 0.5, "all_ops": False}, "infer",
     "img", None),
]

#: constructors Keras refuses (class, args)
K3_ERRORS = [
    ("RandomContrast", {"factor": 1.5}), ("RandomContrast", {"factor": (0.1, 0.2, 0.3)}),
    ("RandomContrast", {"factor": "x"}),
    ("RandomBrightness", {"factor": -1.5}), ("RandomBrightness", {"factor": 0.2, "value_range": 5}),
    ("RandomBrightness", {"factor": 0.2, "value_range": (0, 1, 2)}),
    ("RandomColorDegeneration", {"factor": 2.0}), ("RandomHue", {"factor": -0.1}), ("RandomSaturation", {"factor": 1.5}),
    ("RandomGrayscale", {"factor": 1.5}), ("RandomInvert", {"factor": 2.0}), ("RandomPosterization", {"factor": 9}),
    ("RandomPosterization", {"factor": 0}), ("RandomSharpness", {"factor": 1.2}),
    ("Solarization", {"addition_factor": 1.5}), ("Solarization", {"threshold_factor": (0.2, 1.2)}),
    ("Solarization", {"value_range": 1}), ("RandomGaussianBlur", {"kernel_size": 4}),
    ("RandomGaussianBlur", {"kernel_size": (3, 4)}), ("RandomGaussianBlur", {"sigma": 2.0}),
    ("RandomErasing", {"scale": 1.5}), ("RandomErasing", {"factor": -0.5}),
    ("Equalization", {"value_range": 1}), ("AutoContrast", {"value_range": (0,)}),
    ("CutMix", {"factor": 1.5}), ("AugMix", {"factor": 2.0}), ("RandAugment", {"factor": 1.5}),
]

#: (class, args, fields): Keras 3's random transformations summarized over a large batch
STATS = [
    ("RandomContrast", {"factor": 0.5}, ["contrast_factor"]),
    ("RandomContrast", {"factor": (0.2, 0.6)}, ["contrast_factor"]),
    ("RandomBrightness", {"factor": 0.3, "value_range": (0, 1)}, ["rgb_delta"]),
    ("RandomColorDegeneration", {"factor": 0.5}, ["factor"]),
    ("RandomHue", {"factor": 0.4}, ["factor"]),
    ("RandomSaturation", {"factor": (0.1, 0.6)}, ["factor"]),
    ("RandomGrayscale", {"factor": 0.3}, [None]),
    ("RandomInvert", {"factor": 0.5}, ["apply_inversion"]),
    ("RandomPosterization", {"factor": 5}, ["shift_factor"]),
    ("RandomSharpness", {"factor": 0.6}, ["factor"]),
    ("Solarization", {"addition_factor": 0.2, "threshold_factor": (0.3, 0.6)}, ["additions", "thresholds"]),
    ("RandomGaussianBlur", {"factor": 0.6, "sigma": (0.2, 0.9)}, ["should_apply_blur"]),
    ("RandomErasing", {"factor": 0.7, "scale": (0.1, 0.4)}, ["apply_erasing", "batch_masks"]),
    ("MixUp", {"alpha": 0.4}, ["mix_weight"]),
    ("CutMix", {"factor": (0.2, 0.7)}, ["mix_weight"]),
]
STATS_BATCH = 4000

TF_CASES = [
    ("RandomBrightness", {"factor": (0.2, 0.2)}, "train", "img"),
    ("RandomBrightness", {"factor": (-0.1, -0.1), "value_range": (0, 1)}, "train", "img01"),
    ("RandomBrightness", {"factor": (0.3, 0.3)}, "train", "img3"),
    ("RandomBrightness", {"factor": 0.4}, "infer", "img"),
    ("RandomContrast", {"factor": 0.0}, "train", "img"),
    ("RandomContrast", {"factor": (0.1, 0.4)}, "infer", "img"),
    ("RandomContrast", {"factor": 0.3}, "infer", "img3"),
]
TF_ERRORS = [("RandomContrast", {"factor": -0.1}), ("RandomContrast", {"factor": 1.5}),
             ("RandomBrightness", {"factor": 1.5})]


def _call(lib, layer, x, mode, transformation):
    import tensorflow as tf

    if mode == "transform":
        tr = {k: tf.constant(v) for k, v in transformation.items()}
        return np.asarray(layer.transform_images(tf.constant(x), tr, training=True))
    return np.asarray(layer(tf.constant(x), training=(mode == "train")))


def classifier(out_dir):
    """The colour-augmented classifiers, saved by tf.keras (.h5, .keras) and Keras 3 (.keras)."""
    tf, tf_keras = import_tf()
    keras = import_keras3()
    path = os.path.join(out_dir, SUBDIR)
    rng = np.random.default_rng(2024)
    x = np.floor(rng.random((3, 12, 14, 3)) * 256).astype("float32")
    tensors = {"input": x}
    for lib, tag in ((tf_keras, "tf"), (keras, "k3")):
        fresh_session(lib, seed=2024)
        L = lib.layers
        if tag == "tf":
            block = [L.RandomContrast(0.2), L.RandomBrightness(0.2)]
        else:
            block = [L.RandomContrast(0.2), L.RandomBrightness(0.2), L.RandomColorDegeneration(0.3), L.RandomHue(0.1),
                     L.RandomSaturation(0.3), L.RandomGrayscale(0.2), L.RandomInvert(0.2), L.RandomPosterization(6),
                     L.RandomSharpness(0.3), L.Solarization(0.1, 0.8), L.RandomGaussianBlur(0.5, sigma=(0.3, 0.9)),
                     L.RandomErasing(0.3), L.RandomColorJitter(brightness_factor=0.1, hue_factor=0.1), L.MixUp(),
                     L.CutMix(), L.RandAugment(num_ops=1), L.AugMix(num_chains=2, chain_depth=1),
                     L.AutoContrast(), L.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))]
            # (Keras 3's Equalization cannot be called on a symbolic input: its compute_output_spec returns the input
            # tensor itself, which Keras's graph builder then reports as a cycle)
        augment = lib.Sequential(block, name="color_augmentation")
        inputs = lib.Input((12, 14, 3))
        h = augment(inputs)
        h = L.Rescaling(1.0 / 255)(h)
        h = L.Conv2D(4, 3, activation="relu")(h)
        h = L.GlobalAveragePooling2D()(h)
        outputs = L.Dense(3, activation="softmax")(h)
        model = lib.Model(inputs, outputs)
        tensors[f"{tag}.eval"] = np.asarray(model(tf.constant(x), training=False))
        tensors[f"{tag}.train"] = np.asarray(model(tf.constant(x), training=True))
        if tag == "tf":
            model.save(os.path.join(path, "color_classifier.tf.h5"))
        model.save(os.path.join(path, f"color_classifier.{tag}.keras"))
    save_safetensors(tensors, os.path.join(path, "color_classifier_tensors.safetensors"))
    return 3


def main(out_dir):
    tf, tf_keras = import_tf()
    keras = import_keras3()
    out = os.path.join(out_dir, SUBDIR)
    os.makedirs(out, exist_ok=True)
    inputs = _inputs()
    inputs["img3_01"] = inputs["img01"][1].copy()
    inputs["big01"] = (inputs["big"] / 255.0).astype("float32")
    tensors, cases, used = {}, [], set()
    for i, (cls, args, mode, key, transformation) in enumerate(K3_CASES):
        fresh_session(keras, seed=2020)
        layer = getattr(keras.layers, cls)(**args)
        cid = f"k{i:03d}"
        y = _call(keras, layer, inputs[key], mode, transformation)
        rec = {"id": cid, "lib": "keras3", "class_name": cls, "args": args, "mode": mode, "input": key,
               "output": f"{cid}.output", "output_dtype": str(y.dtype), "config": layer.get_config()}
        tensors[f"{cid}.output"] = y
        used.add(key)
        if transformation is not None:
            rec["transformation"] = {}
            for name, value in transformation.items():
                tensors[f"{cid}.tr.{name}"] = value
                rec["transformation"][name] = f"{cid}.tr.{name}"
        cases.append(rec)
    for i, (cls, args, mode, key) in enumerate(TF_CASES):
        fresh_session(tf_keras, seed=2020)
        layer = getattr(tf_keras.layers, cls)(**args)
        cid = f"t{i:03d}"
        rec = {"id": cid, "lib": "tf_keras", "class_name": cls, "args": args, "mode": mode, "input": key}
        used.add(key)
        try:
            y = _call(tf_keras, layer, inputs[key], mode, None)
        except Exception as e:  # noqa: BLE001 - recorded (tf.keras's RandomContrast(0) fails in training)
            rec.update(call_error=type(e).__name__, message=clean_message(str(e)).splitlines()[0:3])
        else:
            tensors[f"{cid}.output"] = y
            rec.update(output=f"{cid}.output", output_dtype=str(y.dtype))
        rec["config"] = layer.get_config()
        cases.append(rec)
    for i, (factor, key) in enumerate([(1.5, "img"), (0.4, "img"), (0.7, "img3")]):
        cid = f"a{i:03d}"
        y = tf.clip_by_value(tf.image.adjust_contrast(tf.constant(inputs[key]), factor), 0, 255).numpy()
        tensors[f"{cid}.output"] = y
        used.add(key)
        cases.append({"id": cid, "lib": "tf_image", "class_name": "RandomContrast", "args": {"factor": factor},
                      "mode": "transform", "input": key, "output": f"{cid}.output", "output_dtype": str(y.dtype),
                      "contrast_factor": factor})
    stats = []
    for cls, args, fields in STATS:
        fresh_session(keras, seed=2020)
        layer = getattr(keras.layers, cls)(**args)
        images = tf.constant(np.random.default_rng(7).random((STATS_BATCH, 6, 6, 3)).astype("float32") * 255)
        tr = layer.get_random_transformation(images, training=True)
        summary = {}
        for field in fields:
            v = np.asarray(tr if field is None else tr[field]).astype("float64")
            if field == "batch_masks":  # the erased area fraction per image
                v = v.reshape(STATS_BATCH, -1).mean(1)
            summary[field or "should_apply"] = {"shape": list(np.shape(tr if field is None else tr[field])),
                                                 "mean": v.mean(), "std": v.std(), "min": v.min(), "max": v.max(),
                                                 "frac_negative": float((v < 0).mean())}
        stats.append({"class_name": cls, "args": args, "batch": STATS_BATCH, "fields": summary})
    errors = []
    for lib_name, lib, table in (("keras3", keras, K3_ERRORS), ("tf_keras", tf_keras, TF_ERRORS)):
        for cls, args in table:
            try:
                getattr(lib.layers, cls)(**args)
            except Exception as e:  # noqa: BLE001 - recorded
                errors.append({"lib": lib_name, "class_name": cls, "args": args, "error_type": type(e).__name__,
                               "message": clean_message(str(e))})
            else:
                errors.append({"lib": lib_name, "class_name": cls, "args": args, "error_type": None, "message": None})
    for key in used:
        tensors[f"input.{key}"] = inputs[key]
    write_json(os.path.join(out, "color_cases.json"),
               {"versions": versions("tensorflow", "tf_keras", "keras"), "cases": cases, "errors": errors,
                "stats": stats})
    save_safetensors(tensors, os.path.join(out, "color_tensors.safetensors"))
    return {"color_cases": len(cases), "color_errors": len(errors), "color_classifier": classifier(out_dir)}

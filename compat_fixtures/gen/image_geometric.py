"""The geometric image preprocessing layers (issue 20) and a keras.io image classifier with its augmentation
block, recorded from the real libraries (Keras 3.15.1 on the TensorFlow backend, tf-keras 2.21).

Files under ``image_preprocessing/`` (``geometric_`` prefix):

``geometric_cases.json``: ``{"versions", "cases": [...]}``. A case::

    {"id", "lib": "keras3" | "tf_keras", "class_name", "args", "mode": "train" | "infer" | "transform",
     "input": tensor key, "output": tensor key, "output_dtype",
     "transformation": {name: tensor key} (mode "transform": Keras's own ``transform_images(images,
         transformation)``), "config": layer.get_config()}

``train`` is ``layer(x, training=True)`` with a collapsed factor range (``factor=(0.1, 0.1)``: the transform of
one fixed draw) or a deterministic layer; ``infer`` is ``layer(x, training=False)``.

``geometric_tensors.safetensors``: the inputs, transformations and outputs named by the cases.

``geometric_boxes.json``: ``keras.utils.bounding_boxes.convert_format`` between every pair of box formats.

The classifier (keras.io's "image classification from scratch" layout, small): ``Input(20, 24, 3)`` ->
``Resizing(16, 16)`` -> ``Rescaling(1/255)`` -> a nested ``Sequential`` augmentation block (``RandomFlip``,
``RandomRotation(0.1)``, ``RandomZoom(0.1)``) -> ``Conv2D`` -> ``MaxPooling2D`` -> ``GlobalAveragePooling2D`` ->
``Dense(3, softmax)``, saved as ``geometric_classifier.tf.h5`` / ``.tf.keras`` (tf.keras) and ``.k3.keras``
(Keras 3). ``geometric_classifier_tensors.safetensors``: ``input``, each file's ``<tag>.eval`` output
(``training=False``) and ``<tag>.train`` (``training=True``: differs from eval, as augmentation is on).
"""
from __future__ import annotations

import os

import numpy as np

from .common import clean_message, fresh_session, import_keras3, import_tf, save_safetensors, versions, write_json

SUBDIR = "image_preprocessing"
CF = {"data_format": "channels_first"}
TK_RESIZE = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")
K3_RESIZE = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5")
FILLS = (("reflect", {}), ("wrap", {}), ("constant", {"fill_value": 3.0}), ("nearest", {}))


def _inputs():
    rng = np.random.default_rng(2021)
    a = (rng.random((2, 6, 7, 3)) * 255).astype("float32")
    b = (rng.random((2, 9, 8, 2)) * 255).astype("float32")
    return {"a": a, "b": b, "a_cf": a.transpose(0, 3, 1, 2).copy(), "b_cf": b.transpose(0, 3, 1, 2).copy(),
            "a3": a[0].copy(), "a_u8": np.floor(a).astype("uint8")}


def _cases():
    """(lib, class, args, mode, input, transformation)."""
    out = []
    for lib, methods in (("tf_keras", TK_RESIZE), ("keras3", K3_RESIZE)):
        for m in methods:
            out.append((lib, "Resizing", {"height": 4, "width": 5, "interpolation": m}, "infer", "b", None))
            out.append((lib, "Resizing", {"height": 11, "width": 10, "interpolation": m}, "infer", "a", None))
        out.append((lib, "Resizing", {"height": 3, "width": 10}, "infer", "b", None))
        for m in ("bilinear", "nearest", "bicubic"):
            out.append((lib, "Resizing", {"height": 4, "width": 4, "interpolation": m, "crop_to_aspect_ratio": True}, "infer", "a", None))
        out.append((lib, "Resizing", {"height": 5, "width": 3, "crop_to_aspect_ratio": True}, "infer", "b", None))
        out.append((lib, "Resizing", {"height": 4, "width": 5}, "infer", "a3", None))
        out.append((lib, "Resizing", {"height": 4, "width": 5}, "infer", "a_u8", None))
        out.append((lib, "Resizing", {"height": 4, "width": 5, "interpolation": "nearest"}, "infer", "a_u8", None))
        for size in ((4, 5), (3, 3), (5, 6), (6, 7)):
            out.append((lib, "CenterCrop", {"height": size[0], "width": size[1]}, "infer", "a", None))
        out.append((lib, "CenterCrop", {"height": 8, "width": 4}, "infer", "a", None))
        out.append((lib, "CenterCrop", {"height": 4, "width": 9}, "infer", "b", None))
        out.append((lib, "CenterCrop", {"height": 3, "width": 4}, "infer", "a3", None))
        out.append((lib, "RandomCrop", {"height": 4, "width": 5, "seed": 1}, "infer", "a", None))
        out.append((lib, "RandomCrop", {"height": 8, "width": 9, "seed": 1}, "train", "a", None))
        out.append((lib, "RandomCrop", {"height": 6, "width": 7, "seed": 1}, "train", "a", None))
        out.append((lib, "RandomFlip", {}, "infer", "a", None))
        for factor in ((0.1, 0.1), (0.25, 0.25), (-0.05, -0.05)):
            out.append((lib, "RandomRotation", {"factor": factor}, "train", "a", None))
        for fill, extra in FILLS:
            for interp in ("bilinear", "nearest"):
                args = {"fill_mode": fill, "interpolation": interp, **extra}
                out.append((lib, "RandomRotation", {"factor": (0.15, 0.15), **args}, "train", "a", None))
                out.append((lib, "RandomTranslation", {"height_factor": (0.2, 0.2), "width_factor": (-0.3, -0.3), **args}, "train", "a", None))
                out.append((lib, "RandomZoom", {"height_factor": (0.3, 0.3), "width_factor": (-0.2, -0.2), **args}, "train", "a", None))
        out.append((lib, "RandomZoom", {"height_factor": (-0.4, -0.4)}, "train", "a", None))
        out.append((lib, "RandomTranslation", {"height_factor": (-1.0, -1.0), "width_factor": (0.7, 0.7), "fill_mode": "wrap"}, "train", "b", None))
        out.append((lib, "RandomRotation", {"factor": 0.2}, "infer", "a", None))
        out.append((lib, "RandomRotation", {"factor": (0.1, 0.1)}, "train", "a3", None))
    k3 = "keras3"
    for m in ("bilinear", "bicubic", "lanczos3", "lanczos5", "area", "nearest"):
        out.append((k3, "Resizing", {"height": 4, "width": 3, "interpolation": m, "antialias": True}, "infer", "b", None))
    out.append((k3, "Resizing", {"height": 9, "width": 10, "antialias": True}, "infer", "a", None))
    out.append((k3, "Resizing", {"height": 4, "width": 4, "pad_to_aspect_ratio": True, "fill_value": 7.0}, "infer", "a", None))
    out.append((k3, "Resizing", {"height": 5, "width": 3, "pad_to_aspect_ratio": True}, "infer", "b", None))
    out.append((k3, "Resizing", {"height": 4, "width": 5, "interpolation": "bicubic", **CF}, "infer", "b_cf", None))
    out.append((k3, "CenterCrop", {"height": 4, "width": 5, **CF}, "infer", "a_cf", None))
    out.append((k3, "CenterCrop", {"height": 8, "width": 4, **CF}, "infer", "a_cf", None))
    out.append((k3, "RandomRotation", {"factor": (0.15, 0.15), "fill_mode": "constant", **CF}, "train", "a_cf", None))
    out.append((k3, "RandomZoom", {"height_factor": (0.3, 0.3), **CF}, "train", "a_cf", None))
    out.append((k3, "RandomTranslation", {"height_factor": (0.2, 0.2), "width_factor": (0.1, 0.1), **CF}, "train", "b_cf", None))
    shear = {"shear_factor": np.array([[0.3, -0.2], [-0.1, 0.4]], "float32")}
    for fill, extra in FILLS:
        for interp in ("bilinear", "nearest"):
            out.append((k3, "RandomShear", {"x_factor": 0.3, "y_factor": 0.4, "fill_mode": fill, "interpolation": interp, **extra},
                        "transform", "a", shear))
    out.append((k3, "RandomShear", {"x_factor": 0.3, **CF}, "transform", "a_cf", shear))
    out.append((k3, "RandomShear", {"x_factor": 0.3}, "infer", "a", None))
    corners = np.array([[0, 0], [6, 0], [0, 5], [6, 5]], "float32")
    moved = np.array([[[0.5, -0.4], [5.2, 0.3], [0.8, 5.6], [6.4, 4.1]], [[-1.0, 0.2], [6.3, 1.1], [0.1, 4.4], [5.5, 5.2]]], "float32")
    perspective = {"apply_perspective": np.array([True, True]), "start_points": np.stack([corners, corners]), "end_points": moved}
    for interp in ("bilinear", "nearest"):
        out.append((k3, "RandomPerspective", {"interpolation": interp, "fill_value": 2.0}, "transform", "a", perspective))
    out.append((k3, "RandomPerspective", {**CF}, "transform", "a_cf", {**perspective, "apply_perspective": np.array([False, True])}))
    out.append((k3, "RandomPerspective", {"factor": (0.0, 0.0)}, "train", "a", None))
    out.append((k3, "RandomPerspective", {}, "infer", "a", None))
    out.append((k3, "MaxNumBoundingBoxes", {"max_number": 3}, "infer", "a", None))
    out.append((k3, "Pipeline", {"layers": ["Resizing:4:5", "CenterCrop:3:3"]}, "infer", "a", None))
    out.append((k3, "Pipeline", {"layers": ["RandomRotation:0.25", "Resizing:5:5"]}, "train", "b", None))
    return out


def _make(module, cls, args):
    """A layer; a Pipeline's ``layers`` are given as ``"Class:arg:arg"`` (JSON-friendly in the case record)."""
    if cls == "Pipeline":
        layers = []
        for spec in args["layers"]:
            name, *values = spec.split(":")
            values = [float(v) if "." in v else int(v) for v in values]
            if name == "RandomRotation":
                values = [(values[0], values[0])]
            layers.append(getattr(module.layers, name)(*values))
        return module.layers.Pipeline(layers)
    return getattr(module.layers, cls)(**args)


def _call(tf, layer, x, mode, transformation):
    if mode == "transform":
        t = {k: tf.constant(v) for k, v in transformation.items()}
        return np.asarray(layer.transform_images(tf.constant(x), t, training=True))
    return np.asarray(layer(tf.constant(x), training=(mode == "train")))


def layer_cases(out_dir):
    tf, tf_keras = import_tf()
    keras = import_keras3()
    libs = {"tf_keras": tf_keras, "keras3": keras}
    inputs = _inputs()
    tensors = dict(inputs)
    cases = []
    for i, (lib, cls, args, mode, key, transformation) in enumerate(_cases()):
        module = libs[lib]
        fresh_session(module, seed=7)
        layer = _make(module, cls, args)
        out = _call(tf, layer, inputs[key], mode, transformation)
        case_id = f"{lib}/{cls}/{i}"
        case = {"id": case_id, "lib": lib, "class_name": cls, "args": args, "mode": mode, "input": key,
                "output": case_id + "/out", "output_dtype": str(out.dtype), "config": layer.get_config()}
        tensors[case_id + "/out"] = out
        if transformation is not None:
            case["transformation"] = {}
            for name, value in transformation.items():
                tensors[f"{case_id}/t/{name}"] = value
                case["transformation"][name] = f"{case_id}/t/{name}"
        cases.append(case)
    path = os.path.join(out_dir, SUBDIR)
    os.makedirs(path, exist_ok=True)
    write_json(os.path.join(path, "geometric_cases.json"), {"versions": versions("tensorflow", "tf_keras", "keras"), "cases": cases})
    save_safetensors(tensors, os.path.join(path, "geometric_tensors.safetensors"))
    return len(cases)


def classifier(out_dir):
    """The keras.io classifier with its augmentation block, saved by tf.keras (.h5, .keras) and Keras 3 (.keras)."""
    tf, tf_keras = import_tf()
    keras = import_keras3()
    path = os.path.join(out_dir, SUBDIR)
    os.makedirs(path, exist_ok=True)
    rng = np.random.default_rng(2022)
    x = np.floor(rng.random((3, 20, 24, 3)) * 256).astype("float32")
    tensors = {"input": x}
    for lib, tag in ((tf_keras, "tf"), (keras, "k3")):
        fresh_session(lib, seed=2022)
        L = lib.layers
        augment = lib.Sequential([L.RandomFlip("horizontal"), L.RandomRotation(0.1), L.RandomZoom(0.1)], name="data_augmentation")
        inputs = lib.Input((20, 24, 3))
        h = L.Resizing(16, 16)(inputs)
        h = L.Rescaling(1.0 / 255)(h)
        h = augment(h)
        h = L.Conv2D(4, 3, activation="relu")(h)
        h = L.MaxPooling2D()(h)
        h = L.GlobalAveragePooling2D()(h)
        outputs = L.Dense(3, activation="softmax")(h)
        model = lib.Model(inputs, outputs)
        tensors[f"{tag}.eval"] = np.asarray(model(tf.constant(x), training=False))
        tensors[f"{tag}.train"] = np.asarray(model(tf.constant(x), training=True))
        if tag == "tf":
            model.save(os.path.join(path, "geometric_classifier.tf.h5"))
        model.save(os.path.join(path, f"geometric_classifier.{tag}.keras"))
    save_safetensors(tensors, os.path.join(path, "geometric_classifier_tensors.safetensors"))
    return 3


def box_formats(out_dir):
    """``keras.utils.bounding_boxes.convert_format`` between every pair of formats (``geometric_boxes.json``)."""
    keras = import_keras3()
    formats = ["xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx", "rel_xywh", "rel_center_xywh"]
    boxes = np.array([[[10.0, 20.0, 30.0, 45.0], [0.0, 5.5, 64.0, 7.25]], [[3.0, 4.0, 5.0, 6.0], [12.5, 0.0, 40.0, 47.0]]], "float32")
    records = []
    for source in formats:
        given = boxes / np.array([64.0, 48.0, 64.0, 48.0], "float32") if source.startswith("rel_") else boxes
        for target in formats:
            out = keras.utils.bounding_boxes.convert_format(given, source=source, target=target, height=48, width=64)
            records.append({"source": source, "target": target, "boxes": given.tolist(), "output": np.asarray(out).tolist()})
    write_json(os.path.join(out_dir, SUBDIR, "geometric_boxes.json"), {"versions": versions("keras"), "height": 48, "width": 64, "cases": records})
    return len(records)


BOX_CASES = [
    ("RandomTranslation", {"height_factor": (0.2, 0.2), "width_factor": (-0.3, -0.3)}, "xyxy"),
    ("RandomTranslation", {"height_factor": (-0.5, -0.5), "width_factor": (0.1, 0.1)}, "rel_xyxy"),
    ("RandomZoom", {"height_factor": (0.3, 0.3), "width_factor": (-0.2, -0.2)}, "xyxy"),
    ("RandomZoom", {"height_factor": (-0.4, -0.4)}, "center_xywh"),
    ("RandomRotation", {"factor": (0.1, 0.1)}, "xyxy"),
    ("RandomRotation", {"factor": (-0.25, -0.25)}, "xyxy"),
    ("RandomFlip", {"mode": "horizontal", "seed": 3}, "xyxy"),
    ("Resizing", {"height": 4, "width": 5}, "xyxy"),
    ("Resizing", {"height": 4, "width": 4, "pad_to_aspect_ratio": True}, "xyxy"),
    ("Resizing", {"height": 4, "width": 4, "crop_to_aspect_ratio": True}, "rel_xyxy"),
    ("Resizing", {"height": 9, "width": 5, "crop_to_aspect_ratio": True}, "xyxy"),
    ("CenterCrop", {"height": 4, "width": 5}, "xyxy"),
    ("CenterCrop", {"height": 3, "width": 6}, "xywh"),
    ("CenterCrop", {"height": 8, "width": 4}, "xyxy"),
]


def box_layers(out_dir):
    """Keras 3's geometric layers on ``{"images", "bounding_boxes"}`` dicts in training with a fixed factor
    (``geometric_box_layers.json``): the boxes and labels they return (RandomFlip: its own flips, recorded with the
    images so the test can read which images were flipped; RandomShear: its ``transform_bounding_boxes`` for a given
    ``shear_factor``, as its sign is drawn)."""
    import tensorflow as tf

    keras = import_keras3()
    rng = np.random.default_rng(2024)
    images = (rng.random((2, 6, 7, 3)) * 255).astype("float32")
    boxes = np.array([[[1.0, 0.5, 4.0, 3.0], [5.0, 4.0, 7.0, 6.0]], [[0.0, 0.0, 7.0, 6.0], [2.5, 1.0, 3.5, 5.5]]], "float32")
    labels = np.array([[1, 2], [3, 4]], "int32")
    records = []
    for shear, fmt in (([[0.3, -0.2], [-0.1, 0.4]], "xyxy"), ([[-0.25, 0.0], [0.2, -0.3]], "xywh")):
        fresh_session(keras, seed=7)
        layer = keras.layers.RandomShear(x_factor=0.3, y_factor=0.4, bounding_box_format=fmt)
        given = np.asarray(keras.utils.bounding_boxes.convert_format(boxes, source="xyxy", target=fmt, height=6, width=7))
        out = layer.transform_bounding_boxes({"boxes": tf.constant(given), "labels": tf.constant(labels)},
                                             {"shear_factor": tf.constant(shear), "input_shape": (2, 6, 7, 3)}, training=True)
        records.append({"class_name": "RandomShear", "args": {"x_factor": 0.3, "y_factor": 0.4}, "format": fmt,
                        "config": layer.get_config(), "boxes": given.tolist(), "labels": labels.tolist(), "shear_factor": shear,
                        "out_boxes": np.asarray(out["boxes"]).tolist(), "out_labels": np.asarray(out["labels"]).tolist()})
    corners = np.array([[0, 0], [6, 0], [0, 5], [6, 5]], "float32")
    moved = np.array([[[0.5, -0.4], [5.2, 0.3], [0.8, 5.6], [6.4, 4.1]], [[-1.0, 0.2], [6.3, 1.1], [0.1, 4.4], [5.5, 5.2]]], "float32")
    fresh_session(keras, seed=7)
    layer = keras.layers.RandomPerspective(bounding_box_format="xyxy")
    transformation = {"apply_perspective": np.array([True, False]), "start_points": np.stack([corners, corners]), "end_points": moved}
    out = layer.transform_bounding_boxes({"boxes": tf.constant(boxes), "labels": tf.constant(labels)},
                                         {**{k: tf.constant(v) for k, v in transformation.items()}, "input_shape": (2, 6, 7, 3)},
                                         training=True)
    records.append({"class_name": "RandomPerspective", "args": {}, "format": "xyxy", "config": layer.get_config(),
                    "boxes": boxes.tolist(), "labels": labels.tolist(), "transformation": {k: v.tolist() for k, v in transformation.items()},
                    "out_boxes": np.asarray(out["boxes"]).tolist(), "out_labels": np.asarray(out["labels"]).tolist()})
    for cls, args, fmt in BOX_CASES:
        fresh_session(keras, seed=7)
        layer = getattr(keras.layers, cls)(bounding_box_format=fmt, **args)
        given = np.asarray(keras.utils.bounding_boxes.convert_format(boxes, source="xyxy", target=fmt, height=6, width=7))
        out = layer({"images": tf.constant(images), "bounding_boxes": {"boxes": tf.constant(given), "labels": tf.constant(labels)}},
                    training=True)
        records.append({"class_name": cls, "args": args, "format": fmt, "config": layer.get_config(), "boxes": given.tolist(),
                        "labels": labels.tolist(), "out_images": np.asarray(out["images"]).tolist(),
                        "out_boxes": np.asarray(out["bounding_boxes"]["boxes"]).tolist(),
                        "out_labels": np.asarray(out["bounding_boxes"]["labels"]).tolist()})
    write_json(os.path.join(out_dir, SUBDIR, "geometric_box_layers.json"),
               {"versions": versions("keras"), "images": images.tolist(), "cases": records})
    return len(records)


def elastic_ops(out_dir):
    """The two deterministic halves of RandomElasticTransform (``geometric_ops.safetensors``): Keras 3's
    ``keras.ops.image.map_coordinates`` on a 6x7 image for each fill mode and order (``map/<mode>/<order>``, at
    ``map/rows``, ``map/cols`` in [-4, 11)) and ``gaussian_blur`` (kernel 5, sigma 1.3; kernel 7, sigma 0.8)."""
    import tensorflow as tf

    keras = import_keras3()
    rng = np.random.default_rng(2023)
    image = (rng.random((6, 7)) * 255).astype("float32")
    rows = (rng.random((6, 7)) * 15 - 4).astype("float32")
    cols = (rng.random((6, 7)) * 15 - 4).astype("float32")
    rows[0, :3] = [2.5, 3.5, -0.5]  # ties: order 0 rounds half to even
    tensors = {"map/image": image, "map/rows": rows, "map/cols": cols}
    for mode in ("constant", "nearest", "wrap", "reflect"):
        for order in (0, 1):
            out = keras.ops.image.map_coordinates(image, np.stack([rows, cols]), order=order, fill_mode=mode, fill_value=3.0)
            tensors[f"map/{mode}/{order}"] = np.asarray(out)
    fields = rng.standard_normal((2, 9, 8, 1)).astype("float32")
    tensors["blur/input"] = fields
    for k, sigma in ((5, 1.3), (7, 0.8)):
        out = keras.ops.image.gaussian_blur(tf.constant(fields), kernel_size=(k, k), sigma=(sigma, sigma))
        tensors[f"blur/{k}/{sigma}"] = np.asarray(out)
    save_safetensors(tensors, os.path.join(out_dir, SUBDIR, "geometric_ops.safetensors"))
    return len(tensors)


def main(out_dir):
    return {"image_geometric": layer_cases(out_dir), "image_geometric_boxes": box_formats(out_dir),
            "image_geometric_ops": elastic_ops(out_dir), "image_geometric_box_layers": box_layers(out_dir),
            "image_geometric_classifier": classifier(out_dir)}

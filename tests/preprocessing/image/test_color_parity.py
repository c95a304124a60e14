"""Colour and mixing image layers against real Keras 3.15.1 and tf.keras 2.21 (``compat_fixtures/gen/image_color.py``):
each layer's output for a fixed (collapsed) factor, Keras's own ``transform_images`` for a given transformation,
the deterministic layers (Equalization, AutoContrast, CLAHE) and inference; both data formats, unbatched inputs;
configs and constructor errors. Each layer is built from the config Keras wrote (as a model file is read)."""
from __future__ import annotations

import pytest
import torch

from kerastorch import layers as L
from kerastorch._registry import LAYERS
from kt_testing import DEVICE, assert_close, jsonable, load_json, load_tensors

DOC = load_json("image_preprocessing/color_cases.json")
T = "image_preprocessing/color_tensors.safetensors"
# Where kerastorch deliberately differs from Keras (each checked below instead):
# k009: Keras 3 adds RandomBrightness's delta to a uint8 image in uint8 (220 + 51 wraps to 15); kerastorch casts
#       integer images to float32 first, as Keras's other image layers do.
# k010: a reversed value_range, which Keras sorts; kerastorch refuses it (the shared base's rule).
DIFFERS = {"k009", "k010"}
LAYER_CASES = [c for c in DOC["cases"] if c["lib"] != "tf_image" and "output" in c]


def _from_config(case):
    layer = L.deserialize({"class_name": case["class_name"], "config": case["config"]})
    assert type(layer) is LAYERS.lookup(case["class_name"])
    return layer.to(DEVICE)


@pytest.mark.parametrize("case", [c for c in LAYER_CASES if c["id"] not in DIFFERS], ids=lambda c: f"{c['id']}-{c['class_name']}")
def test_matches_keras(case):
    tensors = load_tensors(T)
    layer = _from_config(case)
    x = tensors["input." + case["input"]]
    expected = tensors[case["output"]]
    if case["mode"] == "transform":
        transformation = {k: tensors[v] for k, v in case["transformation"].items()}
        y = layer.transform_images(x, transformation, training=True)
    else:
        y = layer(x, training=case["mode"] == "train")
    assert y.dtype == getattr(torch, case["output_dtype"]) and tuple(y.shape) == tuple(expected.shape)
    assert_close(y, expected)


def test_tf_keras_contrast_transform():
    """tf.keras's RandomContrast for one factor (tf.image.adjust_contrast, then its [0, 255] clip)."""
    tensors = load_tensors(T)
    config = next(c for c in DOC["cases"] if c["lib"] == "tf_keras" and c["class_name"] == "RandomContrast")["config"]
    layer = L.RandomContrast.from_config(config).to(DEVICE)
    for case in (c for c in DOC["cases"] if c["lib"] == "tf_image"):
        x = tensors["input." + case["input"]]
        batched = x if x.dim() == 4 else x.unsqueeze(0)
        factor = torch.full((1, 1, 1, 1), case["contrast_factor"], device=DEVICE)
        y = layer.transform_images(batched, {"contrast_factor": factor}, training=True)
        assert_close(y.reshape(x.shape), tensors[case["output"]], msg=case["id"])


def test_where_kerastorch_differs():
    tensors = load_tensors(T)
    case = next(c for c in DOC["cases"] if c["id"] == "k009")
    x = tensors["input." + case["input"]]
    y = _from_config(case)(x, training=True)
    assert y.dtype == torch.float32
    assert_close(y, (x.float() + 0.2 * 255).clamp(0, 255))
    with pytest.raises(ValueError, match=r'RandomBrightness layer "rb".*value_range'):
        L.RandomBrightness(0.5, value_range=(255, 0), name="rb")


def test_configs_round_trip_as_keras_wrote_them():
    for case in (c for c in DOC["cases"] if "config" in c):
        ours = jsonable(_from_config(case).get_config())
        theirs = {k: (v["config"]["name"] if isinstance(v, dict) and v.get("class_name") == "DTypePolicy" else v)
                  for k, v in case["config"].items()}
        assert ours == theirs, (case["id"], ours, theirs)


def test_configs_from_arguments_match_keras():
    """A layer made from Keras 3's arguments writes Keras 3's config (the name aside): the colour layers exist only
    in Keras 3; RandomContrast/RandomBrightness follow tf.keras unless given a Keras 3-only argument."""
    for case in (c for c in DOC["cases"] if "config" in c):
        cls = LAYERS.lookup(case["class_name"])
        keras3_only = getattr(cls, "_KERAS3_ONLY", False)
        # Keras 3-only arguments (tf.keras's RandomBrightness takes value_range too)
        marks = {"data_format"} if cls is L.RandomBrightness else {"value_range", "data_format"}
        if case["lib"] == "keras3" and not (keras3_only or marks & set(case["args"])):
            continue
        if case["id"] in DIFFERS:
            continue
        ours = jsonable(cls(**case["args"]).get_config())
        theirs = {k: v for k, v in case["config"].items() if k not in ("name", "dtype")}
        assert {k: v for k, v in ours.items() if k not in ("name", "dtype")} == theirs, (case["id"], ours, theirs)


@pytest.mark.parametrize("error", [e for e in DOC["errors"] if e["error_type"]], ids=lambda e: f"{e['lib']}-{e['class_name']}-{e['args']}")
def test_refused_arguments_name_the_layer(error):
    with pytest.raises(ValueError, match=rf'{error["class_name"]} layer "bad"'):
        LAYERS.lookup(error["class_name"])(**error["args"], name="bad")


@pytest.mark.parametrize("make,match", [
    (lambda: L.RandAugment(interpolation="foo", name="bad"), "interpolation"),
    (lambda: L.AugMix(num_chains=0, name="bad"), "num_chains"),
    (lambda: L.Equalization(bins=1, name="bad"), "bins"),
    (lambda: L.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(0, 2), name="bad"), "tile_grid_size"),
    (lambda: L.RandomErasing(fill_value=(1, 2), name="bad"), "fill_value"),
    (lambda: L.MixUp(alpha=0, name="bad"), "alpha"),
    (lambda: L.RandomColorJitter(hue_factor=2.0, name="bad"), "hue_factor"),
    (lambda: L.RandomHue(0.2, name="bad")(torch.rand(2, 4, 4, 4), training=True), "3 channels"),
    (lambda: L.RandomSaturation(0.2, data_format="channels_first", name="bad")(torch.rand(2, 4, 4, 3), training=True), "3 channels"),
    (lambda: L.RandomContrast(0.2, name="bad")(torch.rand(2, 3, 4, 5, 3)), "ndim"),
], ids=range(10))
def test_bad_arguments_and_inputs_name_the_layer(make, match):
    with pytest.raises(ValueError, match=rf'"bad".*{match}'):
        make()

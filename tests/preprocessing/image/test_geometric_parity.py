"""Geometric image layers against real tf.keras 2.21 and Keras 3.15.1 (``compat_fixtures/gen/image_geometric.py``):
Resizing for every interpolation (down/up, odd/even sizes, crop/pad to aspect ratio, antialias, uint8), CenterCrop
(odd/even differences, fallback to smart_resize), RandomCrop's deterministic paths, and the affine layers'
transform for a fixed factor in every fill mode and interpolation; both data formats and unbatched inputs.
Each layer is built from the config Keras wrote (as a model file is read), so it follows that Keras version."""
from __future__ import annotations

import pytest
import torch

from kerastorch import layers as L
from kerastorch._registry import LAYERS
from kt_testing import DEVICE, assert_close, jsonable, load_json, load_tensors

DOC = load_json("image_preprocessing/geometric_cases.json")
CASES = DOC["cases"]
T = "image_preprocessing/geometric_tensors.safetensors"


def _layer(case):
    layer = L.deserialize({"class_name": case["class_name"], "config": case["config"]})
    assert type(layer) is LAYERS.lookup(case["class_name"])
    return layer.to(DEVICE)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_matches_keras(case):
    tensors = load_tensors(T)
    layer = _layer(case)
    x = tensors[case["input"]]
    expected = tensors[case["output"]]
    if case["mode"] == "transform":
        transformation = {k: tensors[v] for k, v in case["transformation"].items()}
        x_batched = x if x.dim() == 4 else x.unsqueeze(0)
        y = layer.transform_images(x_batched, transformation, training=True)
    else:
        y = layer(x, training=case["mode"] == "train")
    assert y.dtype == getattr(torch, case["output_dtype"])
    assert tuple(y.shape) == tuple(expected.shape)
    if y.dtype.is_floating_point:
        assert_close(y, expected)  # worst case 1.8e-4 on 0..255 pixels (float32 weights / coordinates)
    else:  # Keras 3 rounds an integer image's resize back to its dtype: a .5 may round the other way
        assert (y.int() - expected.int()).abs().max() <= 1


def _plain(value):
    """Keras 3's DTypePolicy dict as its name; serialized sublayers without their build_config."""
    if isinstance(value, dict):
        if value.get("class_name") == "DTypePolicy":
            return value["config"]["name"]
        return {k: _plain(v) for k, v in value.items() if k != "build_config"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_configs_round_trip_as_keras_wrote_them():
    for case in CASES:
        ours, theirs = _plain(jsonable(_layer(case).get_config())), _plain(case["config"])
        assert set(ours) == set(theirs), (case["id"], set(ours) ^ set(theirs))
        if case["class_name"] == "RandomShear":  # Keras 3 writes (-f, f), which it cannot read back; kerastorch writes f
            theirs = {k: (v[1] if k.endswith("_factor") and v[0] == -v[1] else v) for k, v in theirs.items()}
        for key, value in theirs.items():
            assert ours[key] == value or (isinstance(value, float) and abs(ours[key] - value) < 1e-6), (case["id"], key, ours[key], value)

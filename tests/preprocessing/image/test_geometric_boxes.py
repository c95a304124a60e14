"""Bounding boxes: ``convert_format`` between every pair of Keras 3's formats against real Keras 3.15.1
(``keras.utils.bounding_boxes.convert_format``, recorded by gen/image_geometric.py), and the dict inputs of the
layers that take boxes: Resizing / CenterCrop / RandomTranslation / RandomZoom / RandomRotation / RandomShear /
RandomPerspective / RandomFlip against Keras 3.15.1 on
``{"images", "bounding_boxes"}`` dicts (geometric_box_layers.json), MaxNumBoundingBoxes (Keras 3's pad/truncate;
unbatched dicts)."""
from __future__ import annotations

import pytest
import torch

from kerastorch.layers import MaxNumBoundingBoxes, RandomRotation
from kerastorch.layers.preprocessing.image_preprocessing.bounding_boxes import clip_to_image_size, convert_format
from kt_testing import DEVICE, assert_close, load_json

DOC = load_json("image_preprocessing/geometric_boxes.json")


def test_convert_format_matches_keras():
    for case in DOC["cases"]:
        boxes = torch.tensor(case["boxes"], device=DEVICE)
        out = convert_format(boxes, case["source"], case["target"], height=DOC["height"], width=DOC["width"])
        assert_close(out, torch.tensor(case["output"]), msg=f"{case['source']} -> {case['target']}")
    with pytest.raises(ValueError, match="Invalid bounding box format"):
        convert_format(boxes, "xyxy", "xxyy")
    with pytest.raises(ValueError, match="height"):
        convert_format(boxes, "xyxy", "rel_xyxy")
    clipped = clip_to_image_size(torch.tensor([[-5.0, 2.0, 70.0, 60.0]]), height=48, width=64)
    assert clipped.tolist() == [[0.0, 2.0, 64.0, 48.0]]


def test_max_num_bounding_boxes_pads_and_truncates():
    layer = MaxNumBoundingBoxes(3, bounding_box_format="xyxy").to(DEVICE)
    images = torch.rand(2, 4, 5, 3, device=DEVICE)
    boxes = torch.arange(2 * 5 * 4, dtype=torch.float32, device=DEVICE).reshape(2, 5, 4)
    out = layer({"images": images, "bounding_boxes": {"boxes": boxes, "labels": torch.ones(2, 5, device=DEVICE)}})
    assert torch.equal(out["images"], images) and torch.equal(out["bounding_boxes"]["boxes"], boxes[:, :3])
    one = layer({"images": images[0], "bounding_boxes": {"boxes": boxes[0, :2], "labels": torch.ones(2, device=DEVICE)}})
    assert one["bounding_boxes"]["labels"].tolist() == [1.0, 1.0, -1.0]  # padded with fill_value, unbatched
    assert one["bounding_boxes"]["boxes"].shape == (3, 4)


def test_layers_without_box_support_say_so():
    from kerastorch.layers import RandomCrop

    layer = RandomCrop(3, 3, bounding_box_format="xyxy")
    data = {"images": torch.rand(1, 4, 4, 3), "bounding_boxes": {"boxes": torch.zeros(1, 1, 4), "labels": torch.zeros(1, 1)}}
    with pytest.raises(ValueError, match='RandomCrop layer .*does not take `bounding_boxes`'):
        layer(data)
    layer = RandomRotation(0.1)
    masks = layer({"images": torch.rand(2, 4, 4, 3), "segmentation_masks": torch.ones(2, 4, 4, 1, dtype=torch.int64)})
    assert masks["segmentation_masks"].dtype == torch.int64  # nearest-sampled, dtype kept


BOX_LAYERS = load_json("image_preprocessing/geometric_box_layers.json")


@pytest.mark.parametrize("case", BOX_LAYERS["cases"], ids=lambda c: f"{c['class_name']}-{c['format']}-{c['args']}")
def test_geometric_layers_move_boxes_as_keras_3(case):
    """Keras 3.15.1's RandomTranslation / RandomZoom / RandomRotation / RandomFlip on {"images", "bounding_boxes"}
    in training with a fixed factor (RandomFlip: the flips Keras drew, read from its output images)."""
    from kerastorch import layers as L

    layer = L.deserialize({"class_name": case["class_name"], "config": case["config"]}).to(DEVICE)
    images = torch.tensor(BOX_LAYERS["images"], device=DEVICE)
    data = {"images": images, "bounding_boxes": {"boxes": torch.tensor(case["boxes"], device=DEVICE),
                                                 "labels": torch.tensor(case["labels"], device=DEVICE)}}
    if case["class_name"] == "RandomPerspective":
        t = {k: torch.tensor(v, device=DEVICE) for k, v in case["transformation"].items()}
        boxes = layer.transform_bounding_boxes(data["bounding_boxes"], {**t, "image_size": (6, 7)})
    elif case["class_name"] == "RandomShear":
        t = {"shear_factor": torch.tensor(case["shear_factor"], device=DEVICE), "image_size": (6, 7)}
        boxes = layer.transform_bounding_boxes(data["bounding_boxes"], t)
    elif case["class_name"] == "RandomFlip":
        flips = (torch.tensor(case["out_images"], device=DEVICE) == images.flip(2)).flatten(1).all(1)
        t = {"horizontal": flips, "vertical": flips, "image_size": (6, 7)}
        boxes = layer.transform_bounding_boxes(data["bounding_boxes"], t)
    else:
        out = layer(data, training=True)
        assert_close(out["images"], torch.tensor(case["out_images"]))
        boxes = out["bounding_boxes"]
    assert_close(boxes["boxes"], torch.tensor(case["out_boxes"]), atol=1e-5)
    assert boxes["labels"].tolist() == case["out_labels"]

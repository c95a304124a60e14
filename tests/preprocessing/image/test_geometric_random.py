"""The random paths of the geometric layers: Keras's distributions (ranges, per image or per batch), seeded
reproducibility, train()/eval(), and bad arguments refused with a ValueError naming the layer."""
from __future__ import annotations

import math

import pytest
import torch

from kerastorch import _dialect
from kerastorch.layers import (
    CenterCrop, RandomCrop, RandomFlip, RandomRotation, RandomShear, RandomTranslation, RandomZoom, Resizing,
)
from kt_testing import DEVICE, assert_close

N = 400


def _images(n=N, h=6, w=7, c=1):
    return torch.arange(n * h * w * c, dtype=torch.float32, device=DEVICE).reshape(n, h, w, c)


def test_flip_rates_follow_each_version():
    x = _images()
    h, v = x.flip(2), x.flip(1)
    hv = x.flip(1).flip(2)
    same = lambda y, z: (y == z).flatten(1).all(1)  # noqa: E731
    y = RandomFlip(seed=1).to(DEVICE)(x)  # tf.keras: left-right and up-down independently, 1/2 each
    rates = [same(y, t).float().mean().item() for t in (x, h, v, hv)]
    assert all(abs(r - 0.25) < 0.07 for r in rates), rates
    with _dialect.keras_dialect("3.15.1"):
        k3 = RandomFlip(seed=1).to(DEVICE)
    y = k3(x)  # Keras 3: one draw per image flips both ways or neither
    assert abs(same(y, hv).float().mean().item() - 0.5) < 0.08
    assert (same(y, hv) | same(y, x)).all()
    y = RandomFlip("vertical", seed=2).to(DEVICE)(x)
    assert abs(same(y, v).float().mean().item() - 0.5) < 0.08 and (same(y, v) | same(y, x)).all()


def test_affine_draws_are_per_image_within_the_range():
    x = _images(64)
    layer = RandomRotation((-0.1, 0.2), seed=3).to(DEVICE)
    angles = layer.get_random_transformation(x)["angle"]
    assert angles.shape == (64,) and angles.min() >= -36.0 and angles.max() <= 72.0 and angles.std() > 10
    zoom = RandomZoom((0.1, 0.3), (-0.2, -0.1), seed=3).get_random_transformation(x)
    assert zoom["height_zoom"].min() >= 1.1 and zoom["height_zoom"].max() <= 1.3
    assert zoom["width_zoom"].min() >= 0.8 and zoom["width_zoom"].max() <= 0.9
    same = RandomZoom(0.2, seed=3).get_random_transformation(x)
    assert torch.equal(same["height_zoom"], same["width_zoom"])  # width_factor=None: one draw for both
    t = RandomTranslation(0.5, (0.1, 0.2), seed=3).get_random_transformation(x)["translations"]
    assert t[:, 1].abs().max() <= 3.0 and t[:, 0].min() >= 0.7 - 1e-5 and t[:, 0].max() <= 1.4 + 1e-5
    shear = RandomShear(0.3, seed=3).get_random_transformation(x)["shear_factor"]
    assert shear[:, 0].abs().max() <= 0.3 and (shear[:, 0] < 0).any() and (shear[:, 0] > 0).any()


def test_random_crop_offsets_cover_the_image_per_batch():
    x = _images(2, 6, 7)
    layer = RandomCrop(3, 3, seed=4).to(DEVICE)
    tops = set()
    for _ in range(60):
        y = layer(x)
        top, left = int(y[0, 0, 0, 0].item()) // 7, int(y[0, 0, 0, 0].item()) % 7
        assert torch.equal(y, x[:, top : top + 3, left : left + 3])  # one window for the batch
        tops.add((top, left))
    assert len(tops) > 10 and max(t for t, _ in tops) == 3 and max(l for _, l in tops) == 4


def test_seed_reproduces_and_train_eval_switch():
    x = torch.rand(4, 6, 7, 3, device=DEVICE)
    a, b = RandomRotation(0.3, seed=9).to(DEVICE), RandomRotation(0.3, seed=9).to(DEVICE)
    assert_close(a(x), b(x))
    a.eval()
    assert torch.equal(a(x), x)
    assert not torch.equal(a(x, training=True), x)
    # rotations by a full quarter turn of a square image are exact permutations
    sq = torch.rand(2, 5, 5, 1, device=DEVICE)
    y = RandomRotation((0.25, 0.25)).to(DEVICE)(sq)
    assert_close(y, torch.rot90(sq, k=1, dims=(1, 2)), atol=1e-5)


@pytest.mark.parametrize("make,match", [
    (lambda: RandomRotation(1.5), "RandomRotation layer .*factor"),
    (lambda: RandomRotation(0.1, fill_mode="mirror"), "RandomRotation layer .*fill_mode"),
    (lambda: RandomZoom(0.1, interpolation="bicubic"), "RandomZoom layer .*interpolation"),
    (lambda: RandomZoom(-1.0), "RandomZoom layer .*input_number=-1.0"),
    (lambda: RandomTranslation(0.1, 1.2), "RandomTranslation layer .*width_factor|input_number=1.2"),
    (lambda: RandomShear(-0.2), "RandomShear layer .*range \\[0, 1.0\\]"),
    (lambda: Resizing(4, 4, interpolation="cubic"), "Resizing layer .*interpolation"),
    (lambda: Resizing(4, 0), "Resizing layer .*width"),
    (lambda: Resizing(4, 4, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True), "Resizing layer .*Only one of"),
    (lambda: CenterCrop(2, 2.5), "CenterCrop layer .*width"),
    (lambda: RandomFlip("diagonal"), "RandomFlip layer .*mode"),
    (lambda: RandomFlip(data_format="channels_middle"), "RandomFlip layer .*data_format"),
])
def test_bad_arguments_are_refused_naming_the_layer(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_are_refused_naming_the_layer():
    with pytest.raises(ValueError, match='"random_zoom.*ndim|random_zoom.*rank'):
        RandomZoom(0.1, name="random_zoom")(torch.zeros(2, 3, 4, 5, 6))
    with pytest.raises(ValueError, match="bounding box format"):
        RandomFlip()({"images": torch.zeros(1, 4, 4, 3), "bounding_boxes": {"boxes": torch.zeros(1, 2, 4), "labels": torch.zeros(1, 2)}})
    with pytest.raises(ValueError, match="Keras 3 on TensorFlow|interpolation"):
        with _dialect.keras_dialect("3.15.1"):
            Resizing(4, 4, interpolation="gaussian")  # Keras 3 has no gaussian resize on its backends


def test_flip_moves_bounding_boxes_with_the_images():
    layer = RandomFlip("horizontal", bounding_box_format="xyxy", seed=0).to(DEVICE)
    images = torch.rand(64, 4, 10, 1, device=DEVICE)
    boxes = torch.tensor([[1.0, 0.0, 3.0, 2.0]], device=DEVICE).expand(64, 1, 4)
    out = layer({"images": images, "bounding_boxes": {"boxes": boxes, "labels": torch.zeros(64, 1, device=DEVICE)}})
    flipped = (out["images"] == images.flip(2)).flatten(1).all(1)
    assert 0 < flipped.sum() < 64
    expected = torch.where(flipped.view(-1, 1, 1), torch.tensor([7.0, 0.0, 9.0, 2.0], device=DEVICE), boxes)
    assert_close(out["bounding_boxes"]["boxes"], expected)


def test_training_paths_never_read_the_host():
    """Every layer's training path (draws, matrices, samplers, boxes) on the meta device: any host read raises."""
    from kerastorch import layers as L

    x = torch.empty(2, 9, 10, 3, device="meta")
    layers = [L.Resizing(4, 5, interpolation="bicubic"), L.Resizing(4, 4, crop_to_aspect_ratio=True), L.CenterCrop(3, 3),
              L.RandomCrop(4, 4, seed=1), L.RandomFlip(seed=2), L.RandomRotation(0.2, fill_mode="wrap", interpolation="nearest"),
              L.RandomTranslation(0.1, 0.2), L.RandomZoom(0.1, fill_mode="constant", fill_value=2.0), L.RandomShear(0.2),
              L.RandomPerspective(seed=4), L.RandomElasticTransform(factor=(1.0, 1.0)), L.Pipeline([L.RandomFlip(), L.RandomRotation(0.1)])]
    for layer in layers:
        assert layer.to("meta")(x, training=True).device.type == "meta"
    boxes = {"boxes": torch.empty(2, 3, 4, device="meta"), "labels": torch.empty(2, 3, device="meta")}
    for layer in [L.RandomRotation(0.1, bounding_box_format="xyxy"), L.RandomZoom(0.1, bounding_box_format="xyxy"),
                  L.Resizing(4, 4, bounding_box_format="xyxy", pad_to_aspect_ratio=True), L.CenterCrop(4, 4, bounding_box_format="xyxy")]:
        out = layer.to("meta")({"images": x, "bounding_boxes": boxes}, training=True)
        assert out["bounding_boxes"]["boxes"].shape == (2, 3, 4)

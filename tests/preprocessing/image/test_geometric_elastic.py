"""RandomElasticTransform: its deterministic halves against real Keras 3.15.1 (``keras.ops.image.map_coordinates``
for every fill mode and order, ``gaussian_blur``; gen/image_geometric.py ``elastic_ops``), and the layer's random
path: inference is the identity, every image moved when ``factor`` is (1, 1), none when 0, values clipped to
``value_range``, seeded draws repeat."""
from __future__ import annotations

import pytest
import torch

from kerastorch.layers import RandomElasticTransform
from kerastorch.layers.preprocessing.image_preprocessing.transforms import gaussian_blur, map_coordinates
from kt_testing import DEVICE, assert_close, load_tensors

T = "image_preprocessing/geometric_ops.safetensors"


@pytest.mark.parametrize("mode", ["constant", "nearest", "wrap", "reflect"])
def test_map_coordinates_matches_keras(mode):
    t = load_tensors(T)
    image = t["map/image"]
    for order in (0, 1):
        for last, x in ((True, image.view(1, 6, 7, 1)), (False, image.view(1, 1, 6, 7))):
            out = map_coordinates(x, t["map/rows"][None], t["map/cols"][None], order, mode, 3.0, last)
            assert_close(out.reshape(6, 7), t[f"map/{mode}/{order}"], msg=f"{mode} order {order}")


def test_gaussian_blur_matches_keras():
    t = load_tensors(T)
    fields = t["blur/input"][..., 0]
    for k, sigma in ((5, 1.3), (7, 0.8)):
        out = gaussian_blur(fields, k, torch.tensor(sigma, device=DEVICE))
        assert_close(out, t[f"blur/{k}/{sigma}"][..., 0])


def test_random_elastic_transform_draws():
    x = torch.rand(8, 12, 14, 3, device=DEVICE) * 300
    layer = RandomElasticTransform(factor=(1.0, 1.0), scale=(0.5, 0.5), seed=3).to(DEVICE)
    y = layer(x)
    assert y.shape == x.shape and y.max() <= 255 and y.min() >= 0  # clipped to value_range
    moved = (y - x.clamp(0, 255)).abs().flatten(1).amax(1) > 1e-3
    assert moved.all()  # factor (1, 1): every image (factor=1.0 is Keras's (0, 1): a probability drawn per image)
    assert_close(RandomElasticTransform(factor=(1.0, 1.0), scale=(0.5, 0.5), seed=3).to(DEVICE)(x), y)
    half = RandomElasticTransform(seed=4).to(DEVICE)(torch.rand(200, 8, 8, 1, device=DEVICE) * 255)
    assert half.shape == (200, 8, 8, 1)
    assert torch.equal(RandomElasticTransform(factor=0.0).to(DEVICE)(x), x)
    layer.eval()
    assert torch.equal(layer(x), x)
    with pytest.raises(ValueError, match="RandomElasticTransform layer .*`factor`"):
        RandomElasticTransform(factor=1.5)
    with pytest.raises(ValueError, match="RandomElasticTransform layer .*fill_mode"):
        RandomElasticTransform(fill_mode="mirror2")

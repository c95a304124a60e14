"""The shared base of the image preprocessing layers (BaseImagePreprocessingLayer): argument checks with
Keras's messages naming the layer, ranks 3/4, dict inputs, the training flag and seeded draws."""
from __future__ import annotations

import pytest
import torch

from kerastorch.layers.preprocessing.image_preprocessing.base import BaseImagePreprocessingLayer
from kt_testing import DEVICE, assert_close


class _Noise(BaseImagePreprocessingLayer):
    """A minimal subclass: adds one uniform draw in ``factor`` per image (Keras's per-image structure)."""

    def __init__(self, factor=None, seed=None, **kwargs):
        super().__init__(factor=factor, **kwargs)
        self.seed = seed

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = self._images_of(data)
        return {"delta": self._uniform((images.shape[0], 1, 1, 1), images, self.factor[0], self.factor[1])}

    def _transform_images(self, images, transformation, interpolation):
        return images + transformation["delta"]


def test_factor_parsing_follows_keras():
    assert _Noise(0.5).factor == (-0.5, 0.5)
    assert _Noise((0.3, -0.2)).factor == (-0.2, 0.3)
    assert _Noise().factor == (0.0, 0.0)
    for bad in (1.5, (0.1, 0.2, 0.3), "a", (2.0, 3.0)):
        with pytest.raises(ValueError, match=r'_Noise layer "\w+": The `factor` argument should be a number'):
            _Noise(bad, name=None)


def test_value_range_and_choices_are_checked():
    layer = _Noise()
    layer._set_value_range((0, 255))
    assert layer.value_range == [0, 255]
    with pytest.raises(ValueError, match="must be increasing"):
        layer._set_value_range((1, 0))
    with pytest.raises(ValueError, match="list of two numbers"):
        layer._set_value_range(5)
    with pytest.raises(ValueError, match=r"Unknown `fill_mode` 'mirror'"):
        layer._check_choice("fill_mode", "mirror", ("reflect", "wrap", "constant", "nearest"))
    with pytest.raises(ValueError, match="data_format"):
        _Noise(data_format="nhwc")


def test_ranks_training_flag_and_dicts():
    layer = _Noise(0.5, seed=3).to(DEVICE)
    x = torch.zeros(4, 5, 6, 3, device=DEVICE)
    y = layer(x)  # train() by default: augments
    assert y.shape == x.shape and not torch.equal(y, x)
    assert float(y.abs().max()) <= 0.5
    layer.eval()
    assert torch.equal(layer(x), x)
    assert not torch.equal(layer(x, training=True), x)  # explicit training= wins
    assert layer(x[0]).shape == (5, 6, 3)  # unbatched
    with pytest.raises(ValueError, match=r'_Noise layer .*rank 3 \(single image\) or 4|ndim'):
        layer(torch.zeros(2, 3))
    out = layer({"images": torch.zeros(2, 4, 4, 1, dtype=torch.uint8, device=DEVICE), "segmentation_masks": None}, training=False)
    assert out["images"].dtype == torch.float32  # Keras casts integer images to the compute dtype


def test_seed_reproduces_draws_per_layer():
    x = torch.zeros(8, 2, 2, 1, device=DEVICE)
    a, b = _Noise(0.5, seed=7).to(DEVICE), _Noise(0.5, seed=7).to(DEVICE)
    torch.manual_seed(0)
    ya = a(x)
    torch.rand(10)  # the global RNG moving does not change a seeded layer's draws
    assert_close(b(x), ya)
    assert not torch.equal(a(x), ya)  # the sequence goes on

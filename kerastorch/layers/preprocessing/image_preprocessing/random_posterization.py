"""``RandomPosterization`` (Keras 3): keeps the ``bits`` high bits of each 8-bit value (``value_range`` mapped
to ``[0, 255]``, truncated to uint8, shifted right then left by ``8 - bits``, mapped back); ``bits`` is an integer
drawn per image from ``[lower, upper)`` (a number ``f``: ``[1, f)``), or ``lower`` when the two are equal."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations

MAX_BITS = 8


@LAYERS.register()
class RandomPosterization(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras 3's ``RandomPosterization(factor, value_range=(0, 255), data_format=None, seed=None)``."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (1, 8)
    _KERAS3_ONLY = True

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None, seed: int | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self._init_factor_range_seed(factor, value_range, seed)

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        images = self._images_of(data)
        batch = images.shape[0]
        low, high = int(self.factor[0]), int(self.factor[1])
        if low != high:
            bits = torch.randint(low, high, (batch,), generator=self._generator(images.device), device=images.device, dtype=torch.uint8)
        else:
            bits = torch.full((batch,), low, dtype=torch.uint8, device=images.device)
        return {"shift_factor": MAX_BITS - bits}

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        shift = transformation["shift_factor"].to(device=images.device, dtype=torch.uint8).view(-1, 1, 1, 1)
        scaled = self._transform_value_range(images, self.value_range, (0, 255))
        pixels = scaled.clamp(0, 255).to(torch.uint8)  # TensorFlow's cast truncates towards zero
        pixels = torch.bitwise_left_shift(torch.bitwise_right_shift(pixels, shift), shift)
        return self._transform_value_range(pixels.to(images.dtype), (0, 255), self.value_range)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._factor_range_seed_config()}

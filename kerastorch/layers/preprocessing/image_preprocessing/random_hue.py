"""``RandomHue`` (Keras 3): shifts the hue of each image by ``±f / 2`` (sign and ``f`` drawn per image, ``f`` from
``factor``: a number ``f`` is ``[0, f]``), through TensorFlow's HSV conversion, in ``value_range`` mapped to
``[0, 1]`` and back."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations, check_channels, hsv_parts_to_rgb, rgb_to_hsv_parts


@LAYERS.register()
class RandomHue(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras 3's ``RandomHue(factor, value_range=(0, 255), data_format=None, seed=None)``."""

    _FACTOR_BOUNDS = (0, 1)
    _KERAS3_ONLY = True

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None, seed: int | None = None, **kwargs: Any):
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        self._init_factor_range_seed(None, value_range, seed)

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        sign = torch.where(self._per_image(data) > 0.5, -1.0, 1.0)
        return {"factor": sign * self._per_image(data, self.factor[0], self.factor[1]) * 0.5}

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        check_channels(self, images)
        images = self._transform_value_range(images, self.value_range, (0, 1))
        h, s, v = rgb_to_hsv_parts(images, self.data_format)
        h = h + transformation["factor"].to(images.dtype).view(-1, 1, 1, 1)
        h = torch.where(h > 1.0, h - 1.0, h)
        h = torch.where(h < 0.0, h + 1.0, h)
        images = hsv_parts_to_rgb(h, s, v, self.data_format)
        return self._transform_value_range(images.clamp(0.0, 1.0), (0, 1), self.value_range)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._factor_range_seed_config()}

"""``RandomSaturation`` (Keras 3): scales the HSV saturation of each image by ``f / (1 - f + 1e-7)``, ``f`` drawn
per image from ``factor`` (a number ``f``: ``[-f, f]``); as Keras, the HSV conversion runs on the raw values and
the scaled saturation is clipped to ``value_range``."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations, check_channels, hsv_parts_to_rgb, rgb_to_hsv_parts

EPSILON = 1e-7  # keras.backend.epsilon()


@LAYERS.register()
class RandomSaturation(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras 3's ``RandomSaturation(factor, value_range=(0, 255), data_format=None, seed=None)``."""

    _KERAS3_ONLY = True

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None, seed: int | None = None, **kwargs: Any):
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        self._init_factor_range_seed(None, value_range, seed)

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        factor = self._per_image(data, self.factor[0], self.factor[1])
        return {"factor": factor / (1 - factor + EPSILON)}

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        check_channels(self, images)
        h, s, v = rgb_to_hsv_parts(images, self.data_format)
        s = (s * transformation["factor"].to(images.dtype).view(-1, 1, 1, 1)).clamp(self.value_range[0], self.value_range[1])
        return hsv_parts_to_rgb(h, s, v, self.data_format)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._factor_range_seed_config()}

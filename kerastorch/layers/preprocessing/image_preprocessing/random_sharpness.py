"""``RandomSharpness`` (Keras 3): ``x + (1 - 2f) * (smooth(x) - x)``, ``smooth`` the 3x3 kernel
``[[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13`` with zero ``SAME`` padding, ``f`` drawn per image from ``factor`` (a number
``f``: ``[0, f]``), clipped to ``value_range``."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations, depthwise_same


@LAYERS.register()
class RandomSharpness(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras 3's ``RandomSharpness(factor, value_range=(0, 255), data_format=None, seed=None)``."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _KERAS3_ONLY = True

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None, seed: int | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self._init_factor_range_seed(factor, value_range, seed)

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        return {"factor": self._per_image(data, self.factor[0], self.factor[1])} if training else None

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        sharpness = (transformation["factor"] * 2).to(images.dtype).view(-1, 1, 1, 1)
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = torch.full((3, 3), a, dtype=images.dtype, device=images.device)
        kernel[1, 1] = b
        smoothed = depthwise_same(images, kernel, self.data_format)
        images = images + (1.0 - sharpness) * (smoothed - images)
        return images.clamp(self.value_range[0], self.value_range[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._factor_range_seed_config()}

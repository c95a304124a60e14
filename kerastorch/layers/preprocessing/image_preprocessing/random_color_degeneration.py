"""``RandomColorDegeneration`` (Keras 3): blends each image towards its grayscale version,
``x + f * (gray - x)``, ``f`` drawn per image from ``factor`` (a number ``f``: ``[-f, f]``), clipped to
``value_range``."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations, check_channels, rgb_to_grayscale


@LAYERS.register()
class RandomColorDegeneration(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras 3's ``RandomColorDegeneration(factor, value_range=(0, 255), data_format=None, seed=None)``."""

    _KERAS3_ONLY = True

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None, seed: int | None = None, **kwargs: Any):
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        self._init_factor_range_seed(None, value_range, seed)

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        return {"factor": self._per_image(data, self.factor[0], self.factor[1], rank=4)} if training else None

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        check_channels(self, images)
        factor = transformation["factor"].to(images.dtype)
        images = images + factor * (rgb_to_grayscale(images, self.data_format) - images)
        return images.clamp(self.value_range[0], self.value_range[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._factor_range_seed_config()}

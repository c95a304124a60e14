"""``RandomBrightness`` (tf.keras and Keras 3, the same transform): adds ``delta * (high - low)`` to each image,
``delta`` drawn per image from ``factor`` (a number ``f``: ``[-f, f]``), and clips to ``value_range``."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations

@LAYERS.register()
class RandomBrightness(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras's ``RandomBrightness(factor, value_range=(0, 255), seed=None)``."""

    _TF_KERAS_RANDOM = True

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None, **kwargs: Any):
        super().__init__(factor=factor, **kwargs)
        if not self._keras3 and isinstance(factor, (tuple, list)) and any(abs(f) > 1 for f in factor):
            raise self._error(  # tf.keras checks both ends; Keras 3 only that the pair overlaps [-1, 1]
                f"The `factor` argument should be a number (or a list of two numbers) in the range [-1.0, 1.0]. Got {factor}")
        self._init_factor_range_seed(None, value_range, seed)

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        delta = self._per_image(data, self.factor[0], self.factor[1], rank=4)
        return {"rgb_delta": delta * (self.value_range[1] - self.value_range[0])}

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        images = images + transformation["rgb_delta"].to(images.dtype)
        return images.clamp(self.value_range[0], self.value_range[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._factor_range_seed_config()}

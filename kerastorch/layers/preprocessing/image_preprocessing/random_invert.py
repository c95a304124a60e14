"""``RandomInvert`` (Keras 3): ``high - x`` for each image drawn to be inverted: with probability ``p``, ``p``
itself drawn per image from ``factor`` (Keras's base reads a number ``f`` as ``[0, f]``: ``RandomInvert(0.5)``
inverts a quarter of the images on average, as in Keras)."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations


@LAYERS.register()
class RandomInvert(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras 3's ``RandomInvert(factor=1.0, value_range=(0, 255), seed=None, data_format=None)``."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _KERAS3_ONLY = True

    def __init__(self, factor: Any = 1.0, value_range: Any = (0, 255), seed: int | None = None, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self._init_factor_range_seed(factor, value_range, seed)

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        probability = self._per_image(data, self.factor[0], self.factor[1])
        return {"apply_inversion": self._per_image(data) < probability}

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        apply = transformation["apply_inversion"].view(-1, 1, 1, 1)
        return torch.where(apply, self.value_range[1] - images, images)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._factor_range_seed_config()}

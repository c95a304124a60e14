"""``RandomGrayscale`` (Keras 3): each image becomes its grayscale version (broadcast over the channels) with
probability ``factor``."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations, check_channels, rgb_to_grayscale


@LAYERS.register()
class RandomGrayscale(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras 3's ``RandomGrayscale(factor=0.5, data_format=None, seed=None)``."""

    _USE_BASE_FACTOR = False
    _KERAS3_ONLY = True

    def __init__(self, factor: float = 0.5, data_format: str | None = None, seed: int | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        if not isinstance(factor, numbers.Real) or isinstance(factor, bool) or factor < 0 or factor > 1:
            raise self._error(f"`factor` should be between 0 and 1. Received: factor={factor}")
        self.factor = factor
        self.seed = seed
        self._finish_init()

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        return {"should_apply": self._per_image(data, rank=4) < self.factor} if training else None

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        check_channels(self, images, (1, 3))
        return torch.where(transformation["should_apply"], rgb_to_grayscale(images, self.data_format), images)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor}

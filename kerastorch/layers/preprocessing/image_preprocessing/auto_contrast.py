"""``AutoContrast`` (Keras 3): stretches each image so that its minimum becomes ``low`` and its maximum ``high``
of ``value_range``, per channel. As in Keras it applies in inference too (the layer is deterministic), takes the
extremes over axes 1 and 2 of the batch (height and width in ``channels_last``; channels and height in
``channels_first``, as Keras does), and keeps the input where the stretch is undefined (a constant channel)."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations


@LAYERS.register()
class AutoContrast(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras 3's ``AutoContrast(value_range=(0, 255))``."""

    _USE_BASE_FACTOR = False
    _KERAS3_ONLY = True

    def __init__(self, value_range: Any = (0, 255), **kwargs: Any):
        super().__init__(**kwargs)
        self._set_value_range(value_range)
        self._finish_init()

    def transform_images(self, images: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        original = images
        images = self._transform_value_range(images, self.value_range, (0, 255))
        low = images.amin(dim=(1, 2), keepdim=True)
        high = images.amax(dim=(1, 2), keepdim=True)
        scale = 255.0 / (high - low)
        results = (images * scale + (-low * scale)).clamp(0.0, 255.0)
        results = self._transform_value_range(results, (0, 255), self.value_range)
        return torch.where(torch.isnan(results), original, results)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "value_range": self.value_range}

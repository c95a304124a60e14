"""``RandomContrast`` (tf.keras and Keras 3): ``(x - mean) * factor + mean`` per channel, the mean over the image.

tf.keras draws one contrast factor for the whole batch from ``[1 - lower, 1 + upper]`` (``factor`` a number ``f``:
``lower = upper = f``) and clips to ``[0, 255]``. Keras 3 draws one factor per image, parses ``factor`` with its
base (a number ``f`` is ``(0, f)``: the range is ``[1, 1 + f]``) and clips to ``value_range``. A layer from a Keras 3
config or file (or given ``value_range`` / ``data_format``) follows Keras 3, every other one tf.keras."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations

def adjust_contrast(images: torch.Tensor, factor: torch.Tensor, data_format: str) -> torch.Tensor:
    """``(x - mean) * factor + mean`` with the per-image, per-channel mean over height then width (Keras's order)."""
    h_axis, w_axis = (-3, -2) if data_format == "channels_last" else (-2, -1)
    mean = images.mean(h_axis, keepdim=True).mean(w_axis, keepdim=True)
    return (images - mean) * factor.to(images.dtype) + mean

@LAYERS.register()
class RandomContrast(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras's ``RandomContrast(factor, value_range=(0, 255), seed=None)`` (``value_range``: Keras 3 only)."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _TF_KERAS_RANDOM = True

    def __init__(self, factor: Any, value_range: Any = None, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if value_range is not None:
            self._keras3 = True
        self.seed = seed
        if self._keras3:
            self._set_factor(factor)
            self._set_value_range((0, 255) if value_range is None else value_range)
            self._factor_arg = list(self.factor)
        else:
            self._factor_arg = list(factor) if isinstance(factor, tuple) else factor
            pair = factor if isinstance(factor, (tuple, list)) else (factor, factor)
            if len(pair) != 2 or not all(isinstance(f, numbers.Real) and not isinstance(f, bool) for f in pair) or (
                pair[0] < 0 or pair[1] < 0 or pair[0] > 1
            ):
                raise self._error(
                    "`factor` argument cannot have negative values or values greater than 1. "
                    f"Received: factor={factor}"
                )
            self.factor = (float(pair[0]), float(pair[1]))
            self.value_range = [0, 255]
        self._finish_init()

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        images = self._images_of(data)
        # Keras 3: one factor per image; tf.keras (tf.image.random_contrast): one for the batch
        shape = (images.shape[0], 1, 1, 1) if self._keras3 else (1, 1, 1, 1)
        return {"contrast_factor": self._uniform(shape, images, 1.0 - self.factor[0], 1.0 + self.factor[1])}

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        out = adjust_contrast(images, transformation["contrast_factor"], self.data_format)
        return out.clamp(self.value_range[0], self.value_range[1])

    def get_config(self) -> dict[str, Any]:
        if self._keras3:
            return {**super().get_config(), "factor": self._factor_arg, "value_range": self.value_range, "seed": self.seed}
        return {**super().get_config(), "factor": self._factor_arg, "seed": self.seed}

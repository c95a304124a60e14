"""``Solarization`` (Keras 3): in ``[0, 255]`` (``value_range`` mapped there and back), ``y = clip(x + a, 0, 255)``
then ``y`` where ``y < t`` else ``255 - y``, with ``a`` and ``t`` drawn per image from ``[lower, upper * 255]`` of
``addition_factor`` / ``threshold_factor`` (a number ``f`` is ``(0, f)``; as in Keras the lower end is not
scaled by 255, and the default ``threshold_factor=0`` inverts every pixel)."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations

_FACTOR_MESSAGE = (
    "The `addition_factor` and `threshold_factor` arguments should be a number (or a list of two numbers) "
    "in the range [0, 1]. "
)


@LAYERS.register()
class Solarization(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras 3's ``Solarization(addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None)``."""

    _USE_BASE_FACTOR = False
    _KERAS3_ONLY = True

    def __init__(self, addition_factor: Any = 0.0, threshold_factor: Any = 0.0, value_range: Any = (0, 255), seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.seed = seed
        self.addition_factor = self._factor_pair(addition_factor, "addition_factor")
        self.threshold_factor = self._factor_pair(threshold_factor, "threshold_factor")
        self._set_value_range(value_range)
        self._finish_init()

    def _factor_pair(self, factor: Any, name: str) -> list[float]:
        def number(value: Any) -> bool:
            return isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 <= value <= 1

        if isinstance(factor, (tuple, list)) and len(factor) == 2 and all(number(f) for f in factor):
            return sorted(factor)
        if number(factor):
            return [0, factor]
        raise self._error(_FACTOR_MESSAGE + f"Received: {name}={factor}")

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        images = self._images_of(data)
        shape = (images.shape[0], 1, 1, 1)
        add, thr = self.addition_factor, self.threshold_factor
        return {"additions": self._uniform(shape, images, add[0], add[1] * 255),
                "thresholds": self._uniform(shape, images, thr[0], thr[1] * 255)}

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        if transformation is None:
            return images
        images = self._transform_value_range(images, self.value_range, (0, 255))
        results = (images + transformation["additions"].to(images.dtype)).clamp(0, 255)
        results = torch.where(results < transformation["thresholds"].to(images.dtype), results, 255 - results)
        return self._transform_value_range(results, (0, 255), self.value_range)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "value_range": self.value_range, "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor, "seed": self.seed}

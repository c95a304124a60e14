"""``RandomElasticTransform`` (Keras 3): with probability drawn from ``factor`` per image, displaces every pixel
by ``alpha * blur(noise * sigma)`` (``alpha = 0.1 * max(h, w) * d``, ``sigma = 0.05 * min(h, w) * d``, ``d`` one
draw from ``scale`` per call) and resamples with Keras 3's ``map_coordinates`` (its fill-mode index rules), then
clips to ``value_range``.

As Keras 3 (TF backend), one noise field moves both axes (Keras draws the x and y fields from the same stateless
seed, so they are equal). Keras sizes the blur kernel ``6 * int(sigma) | 1`` from the drawn ``sigma``; a
kerastorch kernel must have a size known without reading the draw (no host sync), so it is sized from the upper
``scale`` bound and carries the drawn ``sigma``'s Gaussian: equal to Keras's when ``scale`` is a single value, a
wider truncation of the same Gaussian otherwise."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .transforms import AFFINE_INTERPOLATIONS, FILL_MODES, gaussian_blur, map_coordinates


@LAYERS.register()
class RandomElasticTransform(BaseImagePreprocessingLayer):
    """Keras 3's ``RandomElasticTransform(factor=1.0, scale=1.0, interpolation='bilinear', fill_mode='reflect',
    fill_value=0.0, value_range=(0, 255), seed=None)``."""

    _FACTOR_BOUNDS = (0, 1)
    _KERAS3_ONLY = True

    def __init__(
        self,
        factor: Any = 1.0,
        scale: Any = 1.0,
        interpolation: str = "bilinear",
        fill_mode: str = "reflect",
        fill_value: float = 0.0,
        value_range: Any = (0, 255),
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        factor_range = self.factor
        self._set_factor(scale)  # Keras's _set_factor_by_name: the same rule and bounds
        self.scale, self.factor = self.factor, factor_range
        self.interpolation = self._check_choice("interpolation", interpolation, AFFINE_INTERPOLATIONS)
        self.fill_mode = self._check_choice("fill_mode", fill_mode, FILL_MODES)
        if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
            raise self._error(f"`fill_value` must be a number. Received: fill_value={fill_value!r}")
        self.fill_value = fill_value
        self._set_value_range(value_range)
        self.seed = seed
        self._finish_init()

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training or self.scale[1] == 0 or self.factor[1] == 0:
            return None
        images = self._images_of(data)
        batch = images.shape[0]
        height, width = self._image_size(images)
        probability = self._uniform((batch,), images, self.factor[0], self.factor[1])
        apply = self._uniform((batch,), images) < probability
        distortion = self._uniform((), images, self.scale[0], self.scale[1])
        return {"apply_transform": apply, "distortion_factor": distortion, "noise": self._normal((batch, height, width), images)}

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        if transformation is None:
            return images
        height, width = self._image_size(images)
        distortion = transformation["distortion_factor"].to(images.device, torch.float32)
        alpha = max(height, width) * 0.1 * distortion
        sigma = (min(height, width) * 0.05 * distortion).clamp_min(1e-6)
        kernel_size = 6 * int(min(height, width) * 0.05 * self.scale[1]) | 1
        shift = alpha * gaussian_blur(transformation["noise"].to(images.device, torch.float32) * sigma, kernel_size, sigma)
        rows = torch.arange(height, device=images.device, dtype=torch.float32).view(1, height, 1) + shift
        cols = torch.arange(width, device=images.device, dtype=torch.float32).view(1, 1, width) + shift
        x = images if images.dtype.is_floating_point else images.to(torch.float32)
        order = 0 if interpolation == "nearest" else 1
        last = self.data_format == "channels_last"
        out = map_coordinates(x, rows, cols, order, self.fill_mode, self.fill_value, last)
        apply = transformation["apply_transform"].to(images.device).view(-1, 1, 1, 1)
        out = torch.where(apply, out, x).clamp(self.value_range[0], self.value_range[1])
        return out if out.dtype == images.dtype else out.round().to(images.dtype)

    def transform_labels(self, labels: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        return labels

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "factor": list(self.factor), "scale": list(self.scale)}
        config.update(interpolation=self.interpolation, fill_mode=self.fill_mode, fill_value=self.fill_value)
        return {**config, "value_range": self.value_range, "seed": self.seed}

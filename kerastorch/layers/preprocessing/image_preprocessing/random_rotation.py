"""``RandomRotation`` (tf.keras and Keras 3): rotates each image by its own angle drawn uniformly from
``factor * 2π`` about the image centre ``((w - 1) / 2, (h - 1) / 2)``; both versions build the same matrix (tf.keras's
``get_rotation_matrix``, Keras 3's ``_compute_affine_matrix``) and sample with ``ImageProjectiveTransformV3``."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base_affine import BaseAffineLayer
from .transforms import affine_matrix


@LAYERS.register()
class RandomRotation(BaseAffineLayer):
    """Keras's ``RandomRotation(factor, fill_mode, interpolation, seed, fill_value)``: ``factor`` ``f`` is
    ``(-|f|, |f|)`` of a full turn, a pair ``(low, high)`` (Keras 3 sorts it; tf.keras refuses ``high < low``)."""

    def __init__(
        self,
        factor: Any,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self._factor_arg = list(factor) if isinstance(factor, tuple) else factor
        if not self._keras3 and isinstance(factor, (tuple, list)) and len(factor) == 2 and factor[1] < factor[0]:
            raise self._error(f"`factor` argument cannot have a negative value. Received: factor={factor}")
        self._set_factor(factor)
        self._init_affine(fill_mode, interpolation, fill_value, seed)
        self._finish_init()

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        images = self._images_of(data)
        return {"angle": self._uniform((images.shape[0],), images, self.factor[0] * 360.0, self.factor[1] * 360.0).float()}

    def _matrix(self, transformation: Any, images: torch.Tensor) -> torch.Tensor:
        height, width = self._image_size(images)
        angle = transformation["angle"].to(device=images.device, dtype=torch.float32).reshape(-1)
        zeros = torch.zeros_like(angle)
        return affine_matrix(angle, zeros, zeros, torch.ones_like(angle), zeros, zeros, height, width)

    def get_config(self) -> dict[str, Any]:
        factor = list(self.factor) if self._keras3 else self._factor_arg
        return {**super().get_config(), "factor": factor, **self._affine_config()}

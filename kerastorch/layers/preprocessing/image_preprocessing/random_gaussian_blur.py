"""``RandomGaussianBlur`` (Keras 3): blurs each image drawn to be blurred (probability ``p``, itself drawn per image
from ``factor``) with one Gaussian kernel for the batch, ``sigma = (sx, sy)`` drawn from ``sigma`` (+1e-6), zero
``SAME`` padding, then clips to ``value_range``. ``kernel_size`` is ``(kx, ky)`` (odd); as in Keras, the
``ky x kx`` kernel is reshaped to ``(kernel_size[0], kernel_size[1])`` (see ``color_ops.gaussian_kernel``)."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations, depthwise_same, gaussian_kernel


@LAYERS.register()
class RandomGaussianBlur(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras 3's ``RandomGaussianBlur(factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255), data_format=None,
    seed=None)``."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _KERAS3_ONLY = True

    def __init__(self, factor: Any = 1.0, kernel_size: Any = 3, sigma: Any = 1.0, value_range: Any = (0, 255),
                 data_format: str | None = None, seed: int | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.kernel_size = self._kernel_size(kernel_size)
        self.sigma = self._named_factor(sigma, "sigma")
        self._set_value_range(value_range)
        self.seed = seed
        self._finish_init()

    def _kernel_size(self, size: Any) -> tuple[int, int]:
        def odd(value: Any) -> bool:
            return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0 and value % 2 == 1

        if isinstance(size, (tuple, list)) and len(size) == 2 and all(odd(s) for s in size):
            return int(size[0]), int(size[1])
        if odd(size):
            return int(size), int(size)
        raise self._error(f"kernel_size must be an odd number (or a list of two odd numbers). Received: kernel_size={size}")

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        probability = self._per_image(data, self.factor[0], self.factor[1])
        apply = self._per_image(data) < probability
        sigma = self._uniform((2,), self._images_of(data), self.sigma[0], self.sigma[1]) + 1e-6
        return {"should_apply_blur": apply, "blur_factor": sigma}

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        sigma = transformation["blur_factor"].to(device=images.device, dtype=images.dtype)
        blurred = depthwise_same(images, gaussian_kernel(self.kernel_size, sigma), self.data_format)
        images = torch.where(transformation["should_apply_blur"].view(-1, 1, 1, 1), blurred, images)
        return images.clamp(self.value_range[0], self.value_range[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": list(self.factor), "kernel_size": list(self.kernel_size),
                "sigma": list(self.sigma), "value_range": self.value_range, "seed": self.seed}

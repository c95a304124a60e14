"""``RandomErasing`` (Keras 3): fills one rectangle of each image drawn to be erased (probability ``p``, itself
drawn per image from ``factor``). The rectangle's width and height are ``sqrt(s) * size`` with ``s`` drawn per image
and axis from ``scale``, its corner uniform in the image; the fill is ``fill_value`` (a number, or one per channel)
or, by default, Gaussian noise ``N(0, 1) * high``, clipped to ``value_range``."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations, channel_axis, per_channel


def box_mask(layer: Any, images: torch.Tensor, ratio_x: torch.Tensor, ratio_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Keras's ``_compute_crop_bounds`` + ``_generate_batch_mask`` (RandomErasing, CutMix): a box of
    ``ratio * size`` per image and axis at a uniform position; returns the mask (broadcastable over the channels)
    and the box's area fraction."""
    height, width = layer._image_size(images)
    batch = images.shape[0]
    dtype = ratio_x.dtype

    def bounds(length: int, ratio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        crop = ratio * length
        start = layer._uniform((batch,), ratio) * (length - crop)
        return start, start + crop

    x0, x1 = bounds(width, ratio_x)
    y0, y1 = bounds(height, ratio_y)
    grid_y = torch.arange(height, device=images.device, dtype=dtype).view(1, -1, 1)
    grid_x = torch.arange(width, device=images.device, dtype=dtype).view(1, 1, -1)
    inside = ((grid_x >= x0.view(-1, 1, 1)) & (grid_x < x1.view(-1, 1, 1))
              & (grid_y >= y0.view(-1, 1, 1)) & (grid_y < y1.view(-1, 1, 1)))
    mask = inside.unsqueeze(channel_axis(layer.data_format))
    return mask, (x1 - x0) * (y1 - y0) / (width * height)


@LAYERS.register()
class RandomErasing(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras 3's ``RandomErasing(factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255), seed=None,
    data_format=None)``."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _KERAS3_ONLY = True

    def __init__(self, factor: Any = 1.0, scale: Any = (0.02, 0.33), fill_value: Any = None, value_range: Any = (0, 255),
                 seed: int | None = None, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.scale = self._named_factor(scale, "scale")
        if fill_value is not None and not (
            (isinstance(fill_value, numbers.Real) and not isinstance(fill_value, bool))
            or (isinstance(fill_value, (tuple, list)) and len(fill_value) == 3
                and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in fill_value))
        ):
            raise self._error(f"The `fill_value` argument should be a number (or a list of three numbers). Received: fill_value={fill_value!r}")
        self.fill_value = list(fill_value) if isinstance(fill_value, tuple) else fill_value
        self._set_value_range(value_range)
        self.seed = seed
        self._finish_init()

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        images = self._images_of(data)
        batch = images.shape[0]
        ratio = torch.sqrt(self._uniform((batch, 2), images, self.scale[0], self.scale[1]))
        mask, _ = box_mask(self, images, ratio[:, 0], ratio[:, 1])
        probability = self._per_image(data, self.factor[0], self.factor[1])
        apply = self._per_image(data) < probability
        if self.fill_value is None:
            fill = self._normal(tuple(images.shape), images) * self.value_range[1]
        else:
            like = images if images.dtype.is_floating_point else images.to(self._float_dtype(images))
            values = self.fill_value if isinstance(self.fill_value, list) else [self.fill_value]
            fill = per_channel(values, like, self.data_format)
        fill = fill.clamp(self.value_range[0], self.value_range[1])
        return {"apply_erasing": apply, "batch_masks": mask, "fill_value": fill}

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        erase = transformation["batch_masks"] & transformation["apply_erasing"].view(-1, 1, 1, 1)
        return torch.where(erase, transformation["fill_value"].to(images.dtype), images)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": list(self.factor), "scale": list(self.scale),
                "fill_value": self.fill_value, "value_range": self.value_range, "seed": self.seed}

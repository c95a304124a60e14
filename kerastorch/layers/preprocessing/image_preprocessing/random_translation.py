"""``RandomTranslation`` (tf.keras and Keras 3): shifts each image by ``height_factor * height`` and
``width_factor * width`` pixels drawn uniformly per image; matrix ``[1, 0, -dx, 0, 1, -dy, 0, 0]`` in both versions."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base_affine import BaseAffineLayer
from .bounding_boxes import clip_with_labels, convert_format

_MESSAGE = "The `factor` argument should be a number (or a list of two numbers) in the range [-1.0, 1.0]. "


@LAYERS.register()
class RandomTranslation(BaseAffineLayer):
    """Keras's ``RandomTranslation(height_factor, width_factor, fill_mode, interpolation, seed, fill_value)``."""

    def __init__(
        self,
        height_factor: Any,
        width_factor: Any,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_lower, self.height_upper = self._range_arg(height_factor, "height_factor", -1.0, 1.0, False, _MESSAGE)
        self.width_lower, self.width_upper = self._range_arg(width_factor, "width_factor", -1.0, 1.0, False, _MESSAGE)
        self._init_affine(fill_mode, interpolation, fill_value, seed)
        self._finish_init()

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        images = self._images_of(data)
        height, width = self._image_size(images)
        batch = images.shape[0]
        dy = self._uniform((batch,), images, self.height_lower, self.height_upper).float() * height
        dx = self._uniform((batch,), images, self.width_lower, self.width_upper).float() * width
        return {"translations": torch.stack([dx, dy], dim=1), "image_size": (height, width)}

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        """Keras 3's: the boxes shifted with the image (in ``xyxy``), clipped to it (labels of emptied boxes -1)."""
        if not training or transformation is None:
            return bounding_boxes
        height, width = transformation["image_size"]
        boxes = convert_format(bounding_boxes["boxes"], self.bounding_box_format, "xyxy", height, width)
        shift = transformation["translations"].to(boxes).repeat(1, 2).unsqueeze(1)  # (batch, 1, [dx, dy, dx, dy])
        out = clip_with_labels({**bounding_boxes, "boxes": boxes + shift}, height, width)
        return {**out, "boxes": convert_format(out["boxes"], "xyxy", self.bounding_box_format, height, width)}

    def _matrix(self, transformation: Any, images: torch.Tensor) -> torch.Tensor:
        translations = transformation["translations"].to(device=images.device, dtype=torch.float32)
        dx, dy = translations[:, 0], translations[:, 1]
        ones, zeros = torch.ones_like(dx), torch.zeros_like(dx)
        return torch.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], dim=1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor, **self._affine_config()}

"""``RandomRotation`` (tf.keras and Keras 3): rotates each image by its own angle drawn uniformly from
``factor * 2π`` about the image centre ``((w - 1) / 2, (h - 1) / 2)``; both versions build the same matrix (tf.keras's
``get_rotation_matrix``, Keras 3's ``_compute_affine_matrix``) and sample with ``ImageProjectiveTransformV3``."""
from __future__ import annotations

import math
from typing import Any

import torch

from ...._registry import LAYERS
from .base_affine import BaseAffineLayer
from .bounding_boxes import clip_with_labels, convert_format
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
        angle = self._uniform((images.shape[0],), images, self.factor[0] * 360.0, self.factor[1] * 360.0).float()
        return {"angle": angle, "image_size": self._image_size(images)}

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        """Keras 3's: each box's corners rotated about ``((w - 1) / 2, (h - 1) / 2)`` (its inverse affine matrix),
        the enclosing box clipped to the image (labels of emptied boxes -1). Keras reads the boxes as ``xyxy``
        whatever ``bounding_box_format`` says; kerastorch converts them first (the same for ``xyxy``)."""
        if not training or transformation is None:
            return bounding_boxes
        height, width = transformation["image_size"]
        boxes = convert_format(bounding_boxes["boxes"], self.bounding_box_format, "xyxy", height, width)
        rad = -transformation["angle"].to(boxes).reshape(-1, 1, 1) * (math.pi / 180.0)
        cos, sin = torch.cos(rad), torch.sin(rad)
        cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
        x1, y1, x2, y2 = boxes.unbind(-1)
        xs = torch.stack([x1, x2, x2, x1], dim=-1) - cx  # corners (x1, y1), (x2, y1), (x2, y2), (x1, y2)
        ys = torch.stack([y1, y1, y2, y2], dim=-1) - cy
        px, py = cos * xs - sin * ys + cx, sin * xs + cos * ys + cy
        rotated = torch.stack([px.amin(-1), py.amin(-1), px.amax(-1), py.amax(-1)], dim=-1)
        out = clip_with_labels({**bounding_boxes, "boxes": rotated}, height, width)
        return {**out, "boxes": convert_format(out["boxes"], "xyxy", self.bounding_box_format, height, width)}

    def _matrix(self, transformation: Any, images: torch.Tensor) -> torch.Tensor:
        height, width = self._image_size(images)
        angle = transformation["angle"].to(device=images.device, dtype=torch.float32).reshape(-1)
        zeros = torch.zeros_like(angle)
        return affine_matrix(angle, zeros, zeros, torch.ones_like(angle), zeros, zeros, height, width)

    def get_config(self) -> dict[str, Any]:
        factor = list(self.factor) if self._keras3 else self._factor_arg
        return {**super().get_config(), "factor": factor, **self._affine_config()}

"""``RandomPerspective`` (Keras 3): with probability drawn from ``factor`` per image, moves the four corners by up
to ``scale / 2`` of their coordinates and samples through the homography mapping the moved corners back
(Keras's ``compute_homography_matrix``: an 8x8 solve per image, batched), ``ImageProjectiveTransformV3`` with
``fill_mode='constant'``."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ...._registry import LAYERS
from .base_affine import BaseAffineLayer
from .bounding_boxes import clip_with_labels, convert_format


def homography(start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """Keras's ``compute_homography_matrix(start_points, end_points)``: ``(batch, 8)`` transforms taking output
    pixels (``end`` corners) to input pixels (``start`` corners); corners ``(batch, 4, 2)`` as ``(x, y)``."""
    sx, sy = start[..., 0], start[..., 1]
    ex, ey = end[..., 0], end[..., 1]
    one, zero = torch.ones_like(ex), torch.zeros_like(ex)
    rows_x = torch.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], dim=-1)  # (batch, 4, 8)
    rows_y = torch.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], dim=-1)
    matrix = torch.stack([rows_x, rows_y], dim=2).reshape(start.shape[0], 8, 8)  # rows x1, y1, x2, y2, ...
    target = torch.stack([sx, sy], dim=-1).reshape(start.shape[0], 8, 1)
    return torch.linalg.solve(matrix, target).reshape(-1, 8)


@LAYERS.register()
class RandomPerspective(BaseAffineLayer):
    """Keras 3's ``RandomPerspective(factor=1.0, scale=1.0, interpolation='bilinear', fill_value=0.0, seed=None)``."""

    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS = (0, 1)
    _KERAS3_ONLY = True
    _TF_KERAS_RANDOM = False
    _AFFINE = False

    def __init__(
        self,
        factor: Any = 1.0,
        scale: float = 1.0,
        interpolation: str = "bilinear",
        fill_value: float = 0.0,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not 0.0 <= scale <= 1.0:
            raise self._error(f"The `scale` argument should be a number in the range [0,1]. Received: scale={scale}")
        self.scale = scale
        self._init_affine("constant", interpolation, fill_value, seed)
        self._finish_init()

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        images = self._images_of(data)
        batch = images.shape[0]
        height, width = self._image_size(images)
        probability = self._uniform((batch,), images, self.factor[0], self.factor[1])
        apply = self._uniform((batch,), images) < probability
        moves = self._uniform((batch, 4, 2), images, -0.5 * self.scale, 0.5 * self.scale)
        start = torch.tensor([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]], device=images.device)
        start = start.expand(batch, 4, 2)
        return {"apply_perspective": apply, "start_points": start, "end_points": start + start * moves, "image_size": (height, width)}

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        """Keras 3's: each box's corners through the inverse homography, their enclosing box (for the images the
        perspective applies to), clipped to the image (labels of emptied boxes -1). Keras returns them as ``xyxy``
        whatever ``bounding_box_format`` says; kerastorch converts back (the same for ``xyxy``)."""
        if not training or transformation is None:
            return bounding_boxes
        height, width = transformation["image_size"]
        boxes = convert_format(bounding_boxes["boxes"], self.bounding_box_format, "xyxy", height, width)
        h = homography(transformation["start_points"].to(boxes), transformation["end_points"].to(boxes))
        inverse = torch.linalg.inv(torch.cat([h, torch.ones_like(h[:, :1])], dim=1).reshape(-1, 3, 3))  # (batch, 3, 3)
        x1, y1, x2, y2 = boxes.unbind(-1)
        corners = torch.stack([torch.stack([x1, x2, x1, x2], -1), torch.stack([y1, y2, y2, y1], -1), torch.ones_like(x1).unsqueeze(-1).expand(*x1.shape, 4)], -1)
        moved = torch.einsum("bij,bnkj->bnki", inverse, corners)  # (batch, boxes, 4 corners, 3)
        xs, ys = moved[..., 0] / moved[..., 2], moved[..., 1] / moved[..., 2]
        enclosing = torch.stack([xs.amin(-1), ys.amin(-1), xs.amax(-1), ys.amax(-1)], dim=-1)
        apply = transformation["apply_perspective"].to(boxes.device).view(-1, 1, 1)
        out = clip_with_labels({**bounding_boxes, "boxes": torch.where(apply, enclosing, boxes)}, height, width)
        return {**out, "boxes": convert_format(out["boxes"], "xyxy", self.bounding_box_format, height, width)}

    def _matrix(self, transformation: Any, images: torch.Tensor) -> torch.Tensor:
        start = transformation["start_points"].to(device=images.device, dtype=torch.float32)
        end = transformation["end_points"].to(device=images.device, dtype=torch.float32)
        return homography(start, end)

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        if transformation is None:
            return images
        out = self._apply_matrix(images, self._matrix(transformation, images), interpolation)
        apply = transformation["apply_perspective"].to(images.device).view(-1, 1, 1, 1)
        return torch.where(apply, out, images)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "factor": list(self.factor), "scale": self.scale}
        return {**config, "interpolation": self.interpolation, "fill_value": self.fill_value, "seed": self.seed}

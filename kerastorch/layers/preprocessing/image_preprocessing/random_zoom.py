"""``RandomZoom`` (tf.keras and Keras 3): zooms each image by ``1 + height_factor`` (and ``1 + width_factor``, or
the same draw when ``width_factor`` is None) about its centre; a positive factor zooms out. Same matrix
(``get_zoom_matrix``) in both versions."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base_affine import BaseAffineLayer
from .bounding_boxes import clip_with_labels, convert_format

_MESSAGE = (
    "The `height_factor` and `width_factor` arguments should be a number (or a list of two numbers) "
    "in the range (-1.0, 1.0]. "
)


@LAYERS.register()
class RandomZoom(BaseAffineLayer):
    """Keras's ``RandomZoom(height_factor, width_factor=None, fill_mode, interpolation, seed, fill_value)``."""

    def __init__(
        self,
        height_factor: Any,
        width_factor: Any = None,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_lower, self.height_upper = self._range_arg(height_factor, "height_factor", -1.0, 1.0, True, _MESSAGE)
        if width_factor is not None:
            self.width_lower, self.width_upper = self._range_arg(width_factor, "width_factor", -1.0, 1.0, True, _MESSAGE)
        self._init_affine(fill_mode, interpolation, fill_value, seed)
        self._finish_init()

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        images = self._images_of(data)
        batch = images.shape[0]
        zy = self._uniform((batch,), images, 1.0 + self.height_lower, 1.0 + self.height_upper).float()
        if self.width_factor is not None:
            zx = self._uniform((batch,), images, 1.0 + self.width_lower, 1.0 + self.width_upper).float()
        else:
            zx = zy
        return {"height_zoom": zy.view(-1, 1), "width_zoom": zx.view(-1, 1), "image_size": self._image_size(images)}

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        """Keras 3's: the boxes clipped to the zoom window ``[offset, zoom * size + offset]``, read relative to it
        (clipped, labels of emptied boxes -1), then back to the image's size."""
        if not training or transformation is None:
            return bounding_boxes
        height, width = transformation["image_size"]
        boxes = convert_format(bounding_boxes["boxes"], self.bounding_box_format, "xyxy", height, width)
        zx = transformation["width_zoom"].to(boxes).reshape(-1, 1)
        zy = transformation["height_zoom"].to(boxes).reshape(-1, 1)
        w_start, h_start = (width - 1.0) / 2.0 * (1.0 - zx), (height - 1.0) / 2.0 * (1.0 - zy)
        w_end, h_end = zx * width + w_start, zy * height + h_start
        x1, y1, x2, y2 = boxes.unbind(-1)
        clip = lambda v, lo, hi: torch.minimum(torch.maximum(v, lo), hi) - lo  # noqa: E731
        rel = torch.stack([clip(x1, w_start, w_end) / (w_end - w_start), clip(y1, h_start, h_end) / (h_end - h_start),
                           clip(x2, w_start, w_end) / (w_end - w_start), clip(y2, h_start, h_end) / (h_end - h_start)], -1)
        out = clip_with_labels({**bounding_boxes, "boxes": rel}, None, None, relative=True)
        return {**out, "boxes": convert_format(out["boxes"], "rel_xyxy", self.bounding_box_format, height, width)}

    def _matrix(self, transformation: Any, images: torch.Tensor) -> torch.Tensor:
        height, width = self._image_size(images)
        zx = transformation["width_zoom"].to(device=images.device, dtype=torch.float32).reshape(-1)
        zy = transformation["height_zoom"].to(device=images.device, dtype=torch.float32).reshape(-1)
        zeros = torch.zeros_like(zx)
        x_offset = (width - 1.0) / 2.0 * (1.0 - zx)
        y_offset = (height - 1.0) / 2.0 * (1.0 - zy)
        return torch.stack([zx, zeros, x_offset, zeros, zy, y_offset, zeros, zeros], dim=1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor, **self._affine_config()}

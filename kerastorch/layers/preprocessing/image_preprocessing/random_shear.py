"""``RandomShear`` (Keras 3 only): shears each image by ``x_factor`` / ``y_factor`` drawn uniformly per image, the
pair negated together with probability 1/2 (Keras's ``invert``); matrix ``[1, sx, 0, sy, 1, 0, 0, 0]`` (not centred)."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base_affine import BaseAffineLayer
from .bounding_boxes import clip_with_labels, convert_format

_MESSAGE = "The `factor` argument should be a number (or a list of two numbers) in the range [0, 1.0]. "


@LAYERS.register()
class RandomShear(BaseAffineLayer):
    """Keras 3's ``RandomShear(x_factor=0.0, y_factor=0.0, interpolation, fill_mode, fill_value, seed)``. Reads
    Keras 3's own config (whose ``(-f, f)`` pairs Keras 3 itself refuses) and writes one Keras 3 reads."""

    _KERAS3_ONLY = True
    _TF_KERAS_RANDOM = False

    def __init__(
        self,
        x_factor: Any = 0.0,
        y_factor: Any = 0.0,
        interpolation: str = "bilinear",
        fill_mode: str = "reflect",
        fill_value: float = 0.0,
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.x_factor = self._shear_arg(x_factor, "x_factor")
        self.y_factor = self._shear_arg(y_factor, "y_factor")
        self._init_affine(fill_mode, interpolation, fill_value, seed)
        self._finish_init()

    def _shear_arg(self, factor: Any, name: str) -> tuple[float, float]:
        # Keras 3 writes the parsed range (-f, f) into its config, which its own constructor refuses (entries must
        # be in [0, 1]); kerastorch reads that symmetric pair back as the factor f, so Keras 3's files load
        if isinstance(factor, (tuple, list)) and len(factor) == 2 and factor[0] == -factor[1] and factor[1] >= 0:
            factor = factor[1]
        return self._range_arg(factor, name, 0.0, 1.0, False, _MESSAGE)

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        images = self._images_of(data)
        batch = images.shape[0]
        invert = torch.where(self._uniform((batch,), images) > 0.5, -1.0, 1.0)
        shear_y = self._uniform((batch,), images, self.y_factor[0], self.y_factor[1])
        shear_x = self._uniform((batch,), images, self.x_factor[0], self.x_factor[1])
        shear = torch.stack([shear_x * invert, shear_y * invert], dim=1).float()
        return {"shear_factor": shear, "image_size": self._image_size(images)}

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        """Keras 3's ``_shear_bboxes``: in relative ``xyxy``, each edge moved by the shear of the opposite corner
        (x first, then y from the moved x), clipped to the image (labels of emptied boxes -1)."""
        if not training or transformation is None:
            return bounding_boxes
        height, width = transformation["image_size"]
        boxes = convert_format(bounding_boxes["boxes"], self.bounding_box_format, "rel_xyxy", height, width)
        shear = transformation["shear_factor"].to(boxes)
        sx, sy = shear[:, 0:1], shear[:, 1:2]
        x1, y1, x2, y2 = boxes.unbind(-1)
        x1, x2 = torch.where(sx < 0, x1 - sx * y1, x1 - sx * y2), torch.where(sx < 0, x2 - sx * y2, x2 - sx * y1)
        y1, y2 = torch.where(sy > 0, y1 - sy * x2, y1 - sy * x1), torch.where(sy > 0, y2 - sy * x1, y2 - sy * x2)
        out = clip_with_labels({**bounding_boxes, "boxes": torch.stack([x1, y1, x2, y2], dim=-1)}, None, None, relative=True)
        return {**out, "boxes": convert_format(out["boxes"], "rel_xyxy", self.bounding_box_format, height, width)}

    def _matrix(self, transformation: Any, images: torch.Tensor) -> torch.Tensor:
        shear = transformation["shear_factor"].to(device=images.device, dtype=torch.float32)
        sx, sy = shear[:, 0], shear[:, 1]
        ones, zeros = torch.ones_like(sx), torch.zeros_like(sx)
        return torch.stack([ones, sx, zeros, sy, ones, zeros, zeros, zeros], dim=1)

    def get_config(self) -> dict[str, Any]:
        # Keras 3 writes the parsed range, (-f, f), which its own constructor refuses: kerastorch writes f (the same
        # range once parsed) so that Keras 3 reads the file; an asymmetric range stays a pair
        def arg(lower: float, upper: float) -> Any:
            return upper if lower == -upper else [lower, upper]

        config = {**super().get_config(), "x_factor": arg(*self.x_factor), "y_factor": arg(*self.y_factor)}
        return {**config, "fill_mode": self.fill_mode, "interpolation": self.interpolation, "seed": self.seed, "fill_value": self.fill_value}

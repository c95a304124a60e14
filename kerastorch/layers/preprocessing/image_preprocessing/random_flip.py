"""``RandomFlip`` (tf.keras and Keras 3).

Keras 3 draws one ``uniform <= 0.5`` per image and, for ``horizontal_and_vertical``, flips that image both ways
(or neither); tf.keras (``tf.image.random_flip_left_right`` / ``_up_down``) flips each image left-right and
up-down independently, each with probability 1/2. A layer from a Keras 3 config or file follows Keras 3, every
other one tf.keras. Bounding boxes are flipped with the images (Keras 3)."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .bounding_boxes import convert_format

HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL = "horizontal", "vertical", "horizontal_and_vertical"


@LAYERS.register()
class RandomFlip(BaseImagePreprocessingLayer):
    """Keras's ``RandomFlip(mode='horizontal_and_vertical', seed=None)``."""

    _USE_BASE_FACTOR = False
    _TF_KERAS_RANDOM = True

    def __init__(self, mode: str = HORIZONTAL_AND_VERTICAL, seed: int | None = None, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self.mode = self._check_choice("mode", mode, (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL))
        self.seed = seed
        self._finish_init()

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        images = self._images_of(data)
        batch = images.shape[0]
        if self._keras3:
            flips = self._uniform((batch,), images) <= 0.5
            return {"horizontal": flips, "vertical": flips, "image_size": self._image_size(images)}
        draws = self._uniform((2, batch), images) < 0.5
        return {"horizontal": draws[0], "vertical": draws[1], "image_size": self._image_size(images)}

    def _flip(self, images: torch.Tensor, transformation: Any) -> torch.Tensor:
        h_axis, w_axis = (-3, -2) if self.data_format == "channels_last" else (-2, -1)
        shape = (-1,) + (1,) * (images.dim() - 1)
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            images = torch.where(transformation["horizontal"].view(shape), images.flip(w_axis), images)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            images = torch.where(transformation["vertical"].view(shape), images.flip(h_axis), images)
        return images

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        return images if transformation is None else self._flip(images, transformation)

    def transform_labels(self, labels: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        return labels

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        if not training or transformation is None:
            return bounding_boxes
        height, width = transformation["image_size"]
        boxes = convert_format(bounding_boxes["boxes"], self.bounding_box_format, "rel_xyxy", height, width)
        x1, y1, x2, y2 = boxes.unbind(-1)
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            flip = transformation["horizontal"].view(-1, 1)
            x1, x2 = torch.where(flip, 1 - x2, x1), torch.where(flip, 1 - x1, x2)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            flip = transformation["vertical"].view(-1, 1)
            y1, y2 = torch.where(flip, 1 - y2, y1), torch.where(flip, 1 - y1, y2)
        boxes = convert_format(torch.stack([x1, y1, x2, y2], dim=-1), "rel_xyxy", self.bounding_box_format, height, width)
        return {**bounding_boxes, "boxes": boxes}

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if self._keras3:
            return {**config, "seed": self.seed, "mode": self.mode}
        return {**config, "mode": self.mode, "seed": self.seed}

"""``MaxNumBoundingBoxes`` (Keras 3): pads or truncates the boxes (and labels) of a ``{"images", "bounding_boxes"}``
input to ``max_number`` per image, padding with ``fill_value``; images pass through unchanged."""
from __future__ import annotations

import numbers
from typing import Any

import torch
import torch.nn.functional as F

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer


@LAYERS.register()
class MaxNumBoundingBoxes(BaseImagePreprocessingLayer):
    """Keras 3's ``MaxNumBoundingBoxes(max_number, fill_value=-1)`` (``fill_value`` is not in Keras's config)."""

    _KERAS3_ONLY = True

    def __init__(self, max_number: int, fill_value: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(max_number, bool) or not isinstance(max_number, numbers.Real) or int(max_number) < 0:
            raise self._error(f"`max_number` must be a non-negative integer. Received: max_number={max_number!r}")
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)
        self._finish_init()

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> torch.Tensor:
        return images

    def transform_labels(self, labels: torch.Tensor, transformation: Any = None, training: bool = True) -> torch.Tensor:
        return labels

    def transform_segmentation_masks(self, segmentation_masks: torch.Tensor, transformation: Any = None, training: bool = True) -> torch.Tensor:
        return segmentation_masks

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any = None, training: bool = True) -> dict:
        boxes, labels = bounding_boxes["boxes"], bounding_boxes["labels"]
        pad = max(self.max_number - int(boxes.shape[1]), 0)
        boxes = F.pad(boxes[:, : self.max_number], (0, 0, 0, pad), value=self.fill_value)
        labels = F.pad(labels[:, : self.max_number], (0, pad), value=self.fill_value)
        return {**bounding_boxes, "boxes": boxes, "labels": labels}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_number": self.max_number}

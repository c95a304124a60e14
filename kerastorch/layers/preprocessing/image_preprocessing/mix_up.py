"""``MixUp`` (Keras 3): mixes each image (and its labels) with another image of the batch (a random permutation),
``w * x + (1 - w) * x[perm]``, ``w`` drawn per image from ``Beta(alpha, alpha)``."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import sample_beta


@LAYERS.register()
class MixUp(BaseImagePreprocessingLayer):
    """Keras 3's ``MixUp(alpha=0.2, data_format=None, seed=None)``.

    Bounding boxes: each image keeps its boxes and gains its partner's (``boxes`` and ``labels`` concatenated along
    the box axis; Keras concatenates the box labels along the batch axis, which breaks the ``(batch, boxes)``
    layout). Segmentation masks are mixed as the images (Keras gathers them without an axis)."""

    _KERAS3_ONLY = True

    def __init__(self, alpha: float = 0.2, data_format: str | None = None, seed: int | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        if not isinstance(alpha, numbers.Real) or isinstance(alpha, bool) or not alpha > 0:
            raise self._error(f"`alpha` must be a positive number. Received: alpha={alpha!r}")
        self.alpha = alpha
        self.seed = seed
        self._finish_init()

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        images = self._images_of(data)
        batch = images.shape[0]
        permutation = torch.randperm(batch, generator=self._generator(images.device), device=images.device)
        return {"mix_weight": sample_beta(self, (batch,), self.alpha, self.alpha, images), "permutation_order": permutation}

    def _mix(self, values: torch.Tensor, transformation: Any) -> torch.Tensor:
        dtype = values.dtype if values.dtype.is_floating_point else self.compute_dtype
        values = values.to(dtype)
        weight = transformation["mix_weight"].to(dtype).view((-1,) + (1,) * (values.dim() - 1))
        return weight * values + (1.0 - weight) * values[transformation["permutation_order"]]

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        return self._mix(images, transformation)

    def transform_labels(self, labels: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        return self._mix(labels, transformation) if training else labels

    def transform_segmentation_masks(self, segmentation_masks: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        return self._mix(segmentation_masks, transformation) if training else segmentation_masks

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        if not training:
            return bounding_boxes
        order = transformation["permutation_order"]
        boxes, labels = bounding_boxes["boxes"], bounding_boxes["labels"]
        return {**bounding_boxes, "boxes": torch.cat([boxes, boxes[order]], dim=1),
                "labels": torch.cat([labels, labels[order]], dim=1)}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha, "seed": self.seed}

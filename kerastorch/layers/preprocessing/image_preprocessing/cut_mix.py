"""``CutMix`` (Keras 3): pastes into each image a box of another image of the batch (a random permutation) and
mixes the labels by the area kept. Per batch ``alpha`` is drawn from ``factor`` (+1e-6), per image
``w ~ Beta(alpha, alpha)``; the box is ``sqrt(1 - w)`` of the height and width at a uniform position, and the labels'
weight is ``1 - box area / image area``. An unbatched image is returned as it is (no other image to mix with)."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import sample_beta
from .random_erasing import box_mask


@LAYERS.register()
class CutMix(BaseImagePreprocessingLayer):
    """Keras 3's ``CutMix(factor=1.0, seed=None, data_format=None)``."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _KERAS3_ONLY = True

    def __init__(self, factor: Any = 1.0, seed: int | None = None, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.seed = seed
        self._finish_init()

    def call(self, data: Any, training: bool = True) -> Any:
        images = self._images_of(data)
        if isinstance(images, torch.Tensor) and images.dim() == 3:
            training = False  # Keras: no transformation for a single image
        return super().call(data, training=training)

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        images = self._images_of(data)
        batch = images.shape[0]
        alpha = self._uniform((), images, self.factor[0], self.factor[1]) + 1e-6
        ratio = torch.sqrt(1.0 - sample_beta(self, (batch,), alpha, alpha, images))
        mask, area = box_mask(self, images, ratio, ratio)
        permutation = torch.randperm(batch, generator=self._generator(images.device), device=images.device)
        return {"permutation_order": permutation, "batch_masks": mask, "mix_weight": 1.0 - area}

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        return torch.where(transformation["batch_masks"], images[transformation["permutation_order"]], images)

    def transform_segmentation_masks(self, segmentation_masks: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        if not training:
            return segmentation_masks
        masks = segmentation_masks if segmentation_masks.dtype.is_floating_point else segmentation_masks.to(self.compute_dtype)
        return self._transform_images(masks, transformation, "nearest")

    def transform_labels(self, labels: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        if not training:
            return labels
        dtype = labels.dtype if labels.dtype.is_floating_point else self.compute_dtype
        weight = transformation["mix_weight"].to(dtype).view(-1, 1)
        labels = labels.to(dtype)
        return weight * labels + (1.0 - weight) * labels[transformation["permutation_order"]]

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        raise self._error("does not transform `bounding_boxes` (Keras's layer does not either).")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": list(self.factor), "seed": self.seed}

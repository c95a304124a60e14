"""``CenterCrop`` (tf.keras and Keras 3): the centred ``(height, width)`` window, starting at
``floor((size - target) / 2)``; a target larger than the input in either dim falls back to ``smart_resize``
(centred aspect-ratio crop, then bilinear resize). Integer images become float32 (both versions)."""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .bounding_boxes import clip_with_labels, convert_format
from .transforms import aspect_crop_box, smart_resize


class _TargetSize:
    """``height``/``width`` arguments, config and output shape of the crop layers."""

    def _init_size(self, height: Any, width: Any) -> None:
        for what, value in (("height", height), ("width", width)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
                raise self._error(f"`{what}` must be a positive integer. Received: {what}={value!r}")  # type: ignore[attr-defined]
        self.height, self.width = int(height), int(width)

    def _sized_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        shape = list(input_shape)
        h_axis, w_axis = (-3, -2) if self.data_format == "channels_last" else (-2, -1)  # type: ignore[attr-defined]
        shape[h_axis], shape[w_axis] = self.height, self.width
        return tuple(shape)


@LAYERS.register()
class CenterCrop(_TargetSize, BaseImagePreprocessingLayer):
    """Keras's ``CenterCrop(height, width)``."""

    _USE_BASE_FACTOR = False

    def __init__(self, height: int, width: int, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self._init_size(height, width)
        self._finish_init()

    def _crop(self, images: torch.Tensor, method: str) -> torch.Tensor:
        height, width = self._image_size(images)
        last = self.data_format == "channels_last"
        h_axis, w_axis = (1, 2) if last else (2, 3)
        if height >= self.height and width >= self.width:
            top, left = (height - self.height) // 2, (width - self.width) // 2
            rows, cols = slice(top, top + self.height), slice(left, left + self.width)
            return images[:, rows, cols] if last else images[:, :, rows, cols]
        x = images if images.dtype.is_floating_point else images.to(torch.float32)
        return smart_resize(x, self.height, self.width, method, self._keras3, channels_last=last)

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> torch.Tensor:
        return self._crop(images, "bilinear")

    def transform_segmentation_masks(self, segmentation_masks: torch.Tensor, transformation: Any = None, training: bool = True) -> torch.Tensor:
        return self._crop(segmentation_masks, "nearest")

    def transform_labels(self, labels: torch.Tensor, transformation: Any = None, training: bool = True) -> torch.Tensor:
        return labels

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        return {"image_size": self._image_size(self._images_of(data))}

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        """Keras 3's: boxes clipped to the crop window and moved to its origin (the smart_resize fallback: to the
        aspect-ratio window, then scaled to the target), clipped to the target (labels of emptied boxes -1)."""
        in_h, in_w = transformation["image_size"]
        boxes = convert_format(bounding_boxes["boxes"], self.bounding_box_format, "xyxy", in_h, in_w)
        if in_h >= self.height and in_w >= self.width:
            top, left, crop_h, crop_w = (in_h - self.height) // 2, (in_w - self.width) // 2, self.height, self.width
        else:
            top, left, crop_h, crop_w = aspect_crop_box(in_h, in_w, self.height, self.width, True)
        low = boxes.new_tensor([left, top, left, top])
        high = boxes.new_tensor([left + crop_w, top + crop_h, left + crop_w, top + crop_h])
        boxes = torch.minimum(torch.maximum(boxes, low), high) - low
        boxes = boxes * boxes.new_tensor([self.width / crop_w, self.height / crop_h] * 2)
        out = clip_with_labels({**bounding_boxes, "boxes": boxes}, self.height, self.width)
        return {**out, "boxes": convert_format(out["boxes"], "xyxy", self.bounding_box_format, self.height, self.width)}

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return self._sized_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height": self.height, "width": self.width}

"""``RandomCrop`` (tf.keras and Keras 3): in training, one random ``(height, width)`` window for the whole batch.

tf.keras: in training with an input at least the target size, offsets uniform in ``[0, size - target]``;
otherwise (inference too) ``smart_resize`` to the target. Keras 3: in training with an input strictly larger in
both dims, offsets uniform in ``[0, size - target]``; otherwise in training a target-sized window from the
aspect-ratio crop's offsets (clipped to the image) resized to the target; in inference the input unchanged. The offsets are tensors (no host sync): the window is taken
with ``index_select``. Bounding boxes are refused: Keras 3's ``RandomCrop.transform_bounding_boxes`` subtracts the
row offset from x and the column offset from y, which kerastorch does not copy."""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .center_crop import _TargetSize
from .transforms import aspect_crop_box, resize, smart_resize


@LAYERS.register()
class RandomCrop(_TargetSize, BaseImagePreprocessingLayer):
    """Keras's ``RandomCrop(height, width, seed=None)``."""

    _USE_BASE_FACTOR = False
    _TF_KERAS_RANDOM = True

    def __init__(self, height: int, width: int, seed: int | None = None, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self._init_size(height, width)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise self._error(f"`seed` must be an integer. Received: seed={seed!r}")
        self.seed = seed
        self._finish_init()

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        images = self._images_of(data)
        height, width = self._image_size(images)
        if self._keras3:
            random = training and height > self.height and width > self.width
        else:
            random = training and height >= self.height and width >= self.width
        if not random:
            return None
        u = self._uniform((2,), images).float()
        top = torch.floor(u[0] * (height - self.height + 1)).long().clamp(max=height - self.height)
        left = torch.floor(u[1] * (width - self.width + 1)).long().clamp(max=width - self.width)
        return {"top": top, "left": left}

    def _crop(self, images: torch.Tensor, transformation: Any, training: bool, method: str) -> torch.Tensor:
        last = self.data_format == "channels_last"
        h_axis, w_axis = (1, 2) if last else (2, 3)
        if transformation is None:
            if self._keras3 and not training:
                return images
            x = images if images.dtype.is_floating_point else images.to(torch.float32)
            if not self._keras3:
                return smart_resize(x, self.height, self.width, method, False, channels_last=last)
            # Keras 3 takes the aspect-ratio crop's offsets but slices a target-sized window from them (clipped to
            # the image), then resizes that window to the target
            height, width = int(x.shape[h_axis]), int(x.shape[w_axis])
            top, left, _, _ = aspect_crop_box(height, width, self.height, self.width, True)
            x = x.narrow(h_axis, top, min(self.height, height - top)).narrow(w_axis, left, min(self.width, width - left))
            return resize(x, self.height, self.width, method, channels_last=last)
        device = images.device
        rows = transformation["top"] + torch.arange(self.height, device=device)
        cols = transformation["left"] + torch.arange(self.width, device=device)
        return images.index_select(h_axis, rows).index_select(w_axis, cols)

    def transform_images(self, images: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        return self._crop(images, transformation, training, "bilinear")

    def transform_segmentation_masks(self, segmentation_masks: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        return self._crop(segmentation_masks, transformation, training, "nearest")

    def transform_labels(self, labels: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        return labels

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return self._sized_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height": self.height, "width": self.width, "seed": self.seed}

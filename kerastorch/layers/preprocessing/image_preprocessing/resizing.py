"""``Resizing`` (tf.keras and Keras 3): ``tf.image.resize`` to ``(height, width)`` with every method
(``transforms.resize``: half-pixel centres as TF, not ``F.interpolate``'s defaults), ``crop_to_aspect_ratio``
(``smart_resize``'s centred crop first), Keras 3's ``pad_to_aspect_ratio`` (``fill_value`` rows/columns on both
sides first) and ``antialias`` (TF's ``scale_and_translate`` with a widened kernel when downsampling).

Dtypes: tf.keras returns the compute dtype (float32) for integer images; Keras 3 rounds and casts the result back
to an integer input's dtype (saturating). Keras 3 on TensorFlow offers ``bilinear``, ``nearest``, ``bicubic``,
``area``, ``lanczos3``, ``lanczos5``; tf.keras also ``gaussian`` and ``mitchellcubic``. An unknown method is a
``ValueError`` at construction (Keras 3 fails only at the call)."""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .bounding_boxes import clip_with_labels, convert_format
from .transforms import RESIZE_INTERPOLATIONS, aspect_crop_box, aspect_pad, resize

_KERAS3_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")


def _saturate_cast(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    info = torch.iinfo(dtype) if not dtype == torch.bool else None
    if info is not None:
        x = x.clamp(info.min, info.max)
    return x.to(dtype)


@LAYERS.register()
class Resizing(BaseImagePreprocessingLayer):
    """Keras's ``Resizing(height, width, interpolation='bilinear', crop_to_aspect_ratio=False, ...)``."""

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False,
        fill_mode: str = "constant",
        fill_value: float = 0.0,
        antialias: bool = False,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        keras3_args = bool(pad_to_aspect_ratio) or bool(antialias) or fill_value != 0.0 or fill_mode != "constant"
        super().__init__(data_format=data_format, **kwargs)
        self._keras3 = self._keras3 or keras3_args
        for what, value in (("height", height), ("width", width)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
                raise self._error(f"`{what}` must be a positive integer. Received: {what}={value!r}")
        self.height, self.width = int(height), int(width)
        allowed = _KERAS3_INTERPOLATIONS if self._keras3 else RESIZE_INTERPOLATIONS
        self.interpolation = self._check_choice("interpolation", interpolation, allowed)
        self.fill_mode = self._check_choice("fill_mode", fill_mode, ("constant",))
        if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
            raise self._error(f"`fill_value` must be a number. Received: fill_value={fill_value!r}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise self._error("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.")
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_value = fill_value
        self.antialias = bool(antialias)
        self._matrix_cache: dict = {}  # the resampling matrices of the last input size (transforms.resize)
        self._finish_init()

    def _cast_images(self, images: torch.Tensor) -> torch.Tensor:
        return images  # transform_images decides the dtype (Keras 3 keeps an integer input's)

    def _resize(self, images: torch.Tensor, method: str) -> torch.Tensor:
        in_dtype = images.dtype
        x = images
        if not x.dtype.is_floating_point and not (method == "nearest" and self._keras3):
            x = x.to(torch.float32 if self._keras3 else self.compute_dtype)
        last = self.data_format == "channels_last"
        h_axis, w_axis = (1, 2) if last else (2, 3)
        height, width = int(x.shape[h_axis]), int(x.shape[w_axis])
        if self.crop_to_aspect_ratio:
            top, left, ch, cw = aspect_crop_box(height, width, self.height, self.width, self._keras3)
            x = x.narrow(h_axis, top, ch).narrow(w_axis, left, cw)
        elif self.pad_to_aspect_ratio:
            pad_h, pad_w = aspect_pad(height, width, self.height, self.width)
            if pad_h or pad_w:
                pads = (0, 0, pad_w, pad_w, pad_h, pad_h) if last else (pad_w, pad_w, pad_h, pad_h)
                x = F.pad(x, pads, value=float(self.fill_value))
        out = resize(x, self.height, self.width, method, self.antialias, channels_last=last, cache=self._matrix_cache)
        if self._keras3 and not in_dtype.is_floating_point and out.dtype != in_dtype:
            out = _saturate_cast(out.round(), in_dtype)
        return out

    def transform_images(self, images: torch.Tensor, transformation: Any = None, training: bool = True) -> torch.Tensor:
        return self._resize(images, self.interpolation)

    def transform_segmentation_masks(self, segmentation_masks: torch.Tensor, transformation: Any = None, training: bool = True) -> torch.Tensor:
        return self._resize(segmentation_masks, "nearest")

    def transform_labels(self, labels: torch.Tensor, transformation: Any = None, training: bool = True) -> torch.Tensor:
        return labels

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        return {"image_size": self._image_size(self._images_of(data))}

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        """Keras 3's: boxes scaled with the image (stretched, or as ``pad_to_aspect_ratio`` / ``crop_to_aspect_ratio``
        place it), clipped to the target (labels of emptied boxes -1); all-zero and all -1 (padding) boxes stay 0."""
        in_h, in_w = transformation["image_size"]
        boxes = bounding_boxes["boxes"]
        padding = ((boxes == -1).all(-1) | (boxes == 0).all(-1)).unsqueeze(-1)
        boxes = convert_format(boxes, self.bounding_box_format, "xyxy", in_h, in_w)
        height, width = float(self.height), float(self.width)
        if self.pad_to_aspect_ratio:
            ratio = min(height / in_h, width / in_w)
            scale_x = scale_y = ratio
            left, top = -((width - in_w * ratio) // 2), -((height - in_h * ratio) // 2)
        elif self.crop_to_aspect_ratio:
            source, target = in_w / in_h, width / height
            new_w, new_h = (height * source, height) if source > target else (width, width / source)
            scale_x, scale_y = new_w / in_w, new_h / in_h
            left, top = (new_w - width) // 2, (new_h - height) // 2
        else:
            scale_x, scale_y, left, top = width / in_w, height / in_h, 0.0, 0.0
        scale = boxes.new_tensor([scale_x, scale_y, scale_x, scale_y])
        shift = boxes.new_tensor([left, top, left, top])
        out = clip_with_labels({**bounding_boxes, "boxes": boxes * scale - shift}, self.height, self.width)
        boxes = torch.where(padding, torch.zeros_like(out["boxes"]), out["boxes"])
        return {**out, "boxes": convert_format(boxes, "xyxy", self.bounding_box_format, self.height, self.width)}

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        shape = list(input_shape)
        h_axis, w_axis = (-3, -2) if self.data_format == "channels_last" else (-2, -1)
        shape[h_axis], shape[w_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "height": self.height, "width": self.width, "interpolation": self.interpolation}
        config["crop_to_aspect_ratio"] = self.crop_to_aspect_ratio
        if self._keras3:
            config.update(
                pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode, fill_value=self.fill_value, antialias=self.antialias
            )
        return config

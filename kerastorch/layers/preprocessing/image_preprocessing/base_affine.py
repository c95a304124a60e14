"""The shared part of the affine augmentation layers (RandomRotation, RandomTranslation, RandomZoom, RandomShear):
``fill_mode`` / ``interpolation`` / ``fill_value`` / ``seed`` arguments and their checks, their config entries,
and the batched ``ImageProjectiveTransformV3`` call (``transforms.projective_transform``) in the layer's data
format. tf.keras and Keras 3 (TF backend) both sample through ``ImageProjectiveTransformV3``, so the image
transform of a given draw is the same in both."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from .base import BaseImagePreprocessingLayer
from .transforms import AFFINE_INTERPOLATIONS, FILL_MODES, projective_transform


class BaseAffineLayer(BaseImagePreprocessingLayer):
    """A random layer whose transformation (Keras's dict: angles, translations, zooms, shears) becomes one
    ``(batch, 8)`` projective matrix per call (``_matrix``)."""

    _USE_BASE_FACTOR = False
    _TF_KERAS_RANDOM = True
    #: the matrices have no projective part (RandomPerspective's do): sampled through one F.affine_grid
    _AFFINE = True

    def _init_affine(self, fill_mode: str, interpolation: str, fill_value: Any, seed: Any) -> None:
        self.fill_mode = self._check_choice("fill_mode", fill_mode, FILL_MODES)
        self.interpolation = self._check_choice("interpolation", interpolation, AFFINE_INTERPOLATIONS)
        if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
            raise self._error(f"`fill_value` must be a number. Received: fill_value={fill_value!r}")
        self.fill_value = fill_value
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise self._error(f"`seed` must be an integer. Received: seed={seed!r}")
        self.seed = seed

    def _range_arg(self, factor: Any, name: str, low: float, high: float, low_open: bool, message: str) -> tuple[float, float]:
        """Keras 3's ``_set_factor(factor, name)`` of these layers: a number ``f`` is ``(-|f|, |f|)``, a pair is
        sorted; each entry within ``[low, high]`` (``(low, high]`` when ``low_open``)."""

        def check(value: Any) -> None:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise self._error(message + f"Received: {name}={factor}")
            if value > high or value < low or (low_open and value == low):
                raise self._error(message + f"Received: input_number={value}")

        if isinstance(factor, (tuple, list)):
            if len(factor) != 2:
                raise self._error(message + f"Received: {name}={factor}")
            check(factor[0])
            check(factor[1])
            lower, upper = sorted(factor)
            return float(lower), float(upper)
        check(factor)
        return -abs(float(factor)), abs(float(factor))

    def _apply_matrix(self, images: torch.Tensor, matrix: torch.Tensor, interpolation: str) -> torch.Tensor:
        """``ImageProjectiveTransformV3`` of batched images in this layer's data format."""
        dtype = images.dtype
        x = images if dtype.is_floating_point else images.to(torch.float32)
        last = self.data_format == "channels_last"
        out = projective_transform(
            x, matrix, interpolation, self.fill_mode, self.fill_value, channels_last=last, affine=self._AFFINE
        )
        return out if out.dtype == dtype else out.round().to(dtype)  # segmentation masks keep their dtype

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        if transformation is None:
            return images
        return self._apply_matrix(images, self._matrix(transformation, images), interpolation)

    def _matrix(self, transformation: Any, images: torch.Tensor) -> torch.Tensor:
        """The ``(batch, 8)`` transforms of Keras's transformation dict for these (batched) images."""
        raise NotImplementedError

    def _affine_config(self) -> dict[str, Any]:
        return {"fill_mode": self.fill_mode, "fill_value": self.fill_value, "interpolation": self.interpolation, "seed": self.seed}

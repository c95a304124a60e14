"""``RandomColorJitter`` (Keras 3): Keras 3's ``RandomBrightness``, ``RandomContrast``, ``RandomSaturation`` and
``RandomHue`` in that order, each present when its factor is given, each drawing its own transformation from the
image it receives."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations
from .random_brightness import RandomBrightness
from .random_contrast import RandomContrast
from .random_hue import RandomHue
from .random_saturation import RandomSaturation

_STAGES = (("brightness_factor", RandomBrightness), ("contrast_factor", RandomContrast),
           ("saturation_factor", RandomSaturation), ("hue_factor", RandomHue))


def sub_seed(seed: int | None, index: int) -> int | None:
    """The seed of a composite layer's ``index``-th inner layer: distinct streams, reproducible from ``seed``."""
    return None if seed is None else int(seed) + 1 + index


@LAYERS.register()
class RandomColorJitter(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras 3's ``RandomColorJitter(value_range=(0, 255), brightness_factor=None, contrast_factor=None,
    saturation_factor=None, hue_factor=None, seed=None, data_format=None)``."""

    _USE_BASE_FACTOR = False
    _KERAS3_ONLY = True

    def __init__(self, value_range: Any = (0, 255), brightness_factor: Any = None, contrast_factor: Any = None,
                 saturation_factor: Any = None, hue_factor: Any = None, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self._set_value_range(value_range)
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        self.seed = seed
        stages = []
        for index, (arg, cls) in enumerate(_STAGES):
            factor = getattr(self, arg)
            if factor is None:
                continue
            try:
                stage = cls(factor=factor, value_range=self.value_range, seed=sub_seed(seed, index),
                            data_format=self.data_format, name=f"{self.name}_{arg[:-7]}")
            except ValueError as e:
                raise self._error(f"`{arg}`: {str(e).split(': ', 1)[1]}") from None
            stages.append(stage)
        self.__dict__["_stages"] = stages  # plain list: weight-free helpers, not sub-modules of the torch tree
        self._finish_init()

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        for stage in self._stages:
            images = stage.transform_images(images, stage.get_random_transformation(images), training=True)
        return images

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "value_range": self.value_range, "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor, "saturation_factor": self.saturation_factor,
                "hue_factor": self.hue_factor, "seed": self.seed}

"""``RandAugment`` (Keras 3): ``num_ops`` times, one of eleven augmentations chosen for the whole batch (shear,
translation, rotation, brightness, colour degeneration, contrast, sharpness, posterization, solarization,
auto-contrast, equalization), each built from ``factor`` as Keras builds it. Each augmentation's transformation is
drawn once per call (an op chosen twice reuses it). As in Keras, the choice is a tensor: every augmentation is
computed and the chosen one selected (``torch.where``), so nothing reads the choice back to the host."""
from __future__ import annotations

from typing import Any

import torch

from ...._registry import LAYERS
from .auto_contrast import AutoContrast
from .base import BaseImagePreprocessingLayer
from .equalization import Equalization
from .random_brightness import RandomBrightness
from .random_color_degeneration import RandomColorDegeneration
from .random_color_jitter import sub_seed
from .random_contrast import RandomContrast
from .random_posterization import RandomPosterization
from .random_rotation import RandomRotation
from .random_sharpness import RandomSharpness
from .random_shear import RandomShear
from .random_translation import RandomTranslation
from .solarization import Solarization

#: Keras 3's names and order (RandAugment._AUGMENT_LAYERS / AugMix's AUGMENT_LAYERS_ALL order differs: see aug_mix)
AUGMENT_LAYERS = ("random_shear", "random_translation", "random_rotation", "random_brightness",
                  "random_color_degeneration", "random_contrast", "random_sharpness", "random_posterization",
                  "solarization", "auto_contrast", "equalization")


def build_augmenters(owner: BaseImagePreprocessingLayer, names: Any, factor: tuple[float, float], value_range: Any,
                     interpolation: str, seed: int | None) -> dict[str, BaseImagePreprocessingLayer]:
    """The inner layers of RandAugment / AugMix as Keras 3 builds them from ``factor`` (a ``(lower, upper)`` pair),
    each with its own seed derived from ``seed``."""
    common = {"data_format": owner.data_format}
    if owner.bounding_box_format is not None:
        common["bounding_box_format"] = owner.bounding_box_format
    factor = list(factor)
    makers = {
        "random_shear": lambda s: RandomShear(x_factor=factor, y_factor=factor, interpolation=interpolation, seed=s, **common),
        "random_translation": lambda s: RandomTranslation(height_factor=factor, width_factor=factor,
                                                          interpolation=interpolation, seed=s, **common),
        "random_rotation": lambda s: RandomRotation(factor=factor, interpolation=interpolation, seed=s, **common),
        "random_brightness": lambda s: RandomBrightness(factor=factor, value_range=value_range, seed=s, **common),
        "random_color_degeneration": lambda s: RandomColorDegeneration(factor=factor, value_range=value_range, seed=s, **common),
        "random_contrast": lambda s: RandomContrast(factor=factor, value_range=value_range, seed=s, **common),
        "random_sharpness": lambda s: RandomSharpness(factor=factor, value_range=value_range, seed=s, **common),
        "random_posterization": lambda s: RandomPosterization(factor=max(1, int(8 * factor[1])), value_range=value_range,
                                                              seed=s, **common),
        "solarization": lambda s: Solarization(addition_factor=factor, threshold_factor=factor, value_range=value_range,
                                               seed=s, **common),
        "auto_contrast": lambda s: AutoContrast(value_range=value_range, **common),
        "equalization": lambda s: Equalization(value_range=value_range, **common),
    }
    layers = {}
    for index, name in enumerate(names):
        try:
            layers[name] = makers[name](sub_seed(seed, index))
        except ValueError as e:
            raise owner._error(f"{name}: {str(e).split(': ', 1)[-1]}") from None
    return layers


@LAYERS.register()
class RandAugment(BaseImagePreprocessingLayer):
    """Keras 3's ``RandAugment(value_range=(0, 255), num_ops=2, factor=0.5, interpolation='bilinear', seed=None,
    data_format=None)``."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _KERAS3_ONLY = True

    def __init__(self, value_range: Any = (0, 255), num_ops: int = 2, factor: Any = 0.5, interpolation: str = "bilinear",
                 seed: int | None = None, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self._set_value_range(value_range)
        if isinstance(num_ops, bool) or not isinstance(num_ops, int) or num_ops < 0:
            raise self._error(f"`num_ops` must be a non-negative integer. Received: num_ops={num_ops!r}")
        self.num_ops = num_ops
        self._set_factor(factor)
        self.interpolation = interpolation
        self.seed = seed
        self.__dict__["_augmenters"] = build_augmenters(self, AUGMENT_LAYERS, self.factor, self.value_range, interpolation, seed)
        self._finish_init()

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        images = self._images_of(data)
        return {"transforms": {name: layer.get_random_transformation(data, training=True) for name, layer in self._augmenters.items()},
                "layer_idxes": self._randint((self.num_ops,), images, 0, len(AUGMENT_LAYERS))}

    def _select(self, values: Any, transformation: Any, apply: Any) -> Any:
        """``num_ops`` times: every augmentation of ``values`` (``apply(layer, values, its transformation)``), the
        chosen one kept."""
        for i in range(self.num_ops):
            chosen = transformation["layer_idxes"][i]
            current = values
            for index, (name, layer) in enumerate(self._augmenters.items()):
                values = torch.where(chosen == index, apply(layer, current, transformation["transforms"][name]), values)
        return values

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        return self._select(images, transformation, lambda layer, x, t: layer.transform_images(x, t, training=True))

    def transform_labels(self, labels: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        return labels

    def transform_segmentation_masks(self, segmentation_masks: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        if not training:
            return segmentation_masks
        return self._select(segmentation_masks, transformation,
                            lambda layer, x, t: layer.transform_segmentation_masks(x, t, training=True))

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        if not training:
            return bounding_boxes
        boxes = self._select(bounding_boxes["boxes"], transformation,
                             lambda layer, x, t: layer.transform_bounding_boxes({**bounding_boxes, "boxes": x}, t, training=True)["boxes"])
        return {**bounding_boxes, "boxes": boxes}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "value_range": self.value_range, "num_ops": self.num_ops,
                "factor": list(self.factor), "interpolation": self.interpolation, "seed": self.seed}

"""``AugMix`` (Keras 3): ``num_chains`` chains of up to ``chain_depth`` augmentations (each slot one of the
augmentations or none, chosen as Keras chooses: Python's ``random.choice``), mixed with Dirichlet(``alpha``)
weights, then blended with the input by a Beta(``alpha``, ``alpha``) weight and clipped to ``value_range``.
``all_ops=False`` leaves out brightness, colour degeneration, contrast and sharpness.

The chain structure is chosen on the host per call (from the layer's own ``random.Random`` seeded with ``seed``);
under ``torch.compile`` it is fixed at trace time."""
from __future__ import annotations

import random
from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import sample_beta, sample_gamma
from .rand_augment import build_augmenters

AUGMENT_LAYERS_ALL = ("random_shear", "random_translation", "random_rotation", "random_posterization", "solarization",
                      "auto_contrast", "equalization", "random_brightness", "random_color_degeneration",
                      "random_contrast", "random_sharpness")
AUGMENT_LAYERS = AUGMENT_LAYERS_ALL[:7]


@LAYERS.register()
class AugMix(BaseImagePreprocessingLayer):
    """Keras 3's ``AugMix(value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3, alpha=1.0, all_ops=True,
    interpolation='bilinear', seed=None, data_format=None)``."""

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _KERAS3_ONLY = True

    def __init__(self, value_range: Any = (0, 255), num_chains: int = 3, chain_depth: int = 3, factor: Any = 0.3,
                 alpha: float = 1.0, all_ops: bool = True, interpolation: str = "bilinear", seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self._set_value_range(value_range)
        for name, value in (("num_chains", num_chains), ("chain_depth", chain_depth)):
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name == "num_chains" else 0):
                raise self._error(f"`{name}` must be a {'positive' if name == 'num_chains' else 'non-negative'} integer. Received: {name}={value!r}")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
            raise self._error(f"`alpha` must be a positive number. Received: alpha={alpha!r}")
        self.num_chains, self.chain_depth, self.alpha, self.all_ops = num_chains, chain_depth, alpha, bool(all_ops)
        self._set_factor(factor)
        self.interpolation = interpolation
        self.seed = seed
        names = AUGMENT_LAYERS_ALL if self.all_ops else AUGMENT_LAYERS
        self.__dict__["_augmenters"] = build_augmenters(self, names, self.factor, self.value_range, interpolation, seed)
        self.__dict__["_py_random"] = random.Random(seed)
        self._finish_init()

    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Any:
        if not training:
            return None
        images = self._images_of(data)
        gammas = sample_gamma(self, (self.num_chains,), self.alpha, images)
        choices = list(self._augmenters) + [None]
        chains = []
        for _ in range(self.num_chains):
            chain = []
            for _ in range(self.chain_depth):
                name = self._py_random.choice(choices)
                if name is not None:
                    chain.append((name, self._augmenters[name].get_random_transformation(data, training=True)))
            chains.append(chain)
        return {"chain_mixing_weights": gammas / gammas.sum(), "weight_sample": sample_beta(self, (), self.alpha, self.alpha, images),
                "chain_transforms": chains}

    def _mix(self, values: torch.Tensor, transformation: Any, apply: Any) -> torch.Tensor:
        weights = transformation["chain_mixing_weights"].to(values.dtype)
        mixed = torch.zeros_like(values)
        for index, chain in enumerate(transformation["chain_transforms"]):
            out = values
            for name, t in chain:
                out = apply(self._augmenters[name], out, t)
            mixed = mixed + out * weights[index]
        w = transformation["weight_sample"].to(values.dtype)
        return w * values + (1 - w) * mixed

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        images = self._mix(images, transformation, lambda layer, x, t: layer.transform_images(x, t, training=True))
        return images.clamp(self.value_range[0], self.value_range[1])

    def transform_labels(self, labels: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        return labels

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        return bounding_boxes

    def transform_segmentation_masks(self, segmentation_masks: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        if not training:
            return segmentation_masks
        masks = segmentation_masks if segmentation_masks.dtype.is_floating_point else segmentation_masks.to(self.compute_dtype)
        return self._mix(masks, transformation, lambda layer, x, t: layer.transform_segmentation_masks(x, t, training=True))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "value_range": self.value_range, "num_chains": self.num_chains,
                "chain_depth": self.chain_depth, "factor": list(self.factor), "alpha": self.alpha, "all_ops": self.all_ops,
                "interpolation": self.interpolation, "seed": self.seed}

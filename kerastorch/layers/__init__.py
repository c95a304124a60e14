"""Keras layers as torch modules, one subpackage per family (as Keras 3 lays them out).

``get``/``serialize``/``deserialize`` resolve layers by their Keras class name through one registry.
"""
from __future__ import annotations

from typing import Any

from .._registry import LAYERS
from .activations import ELU, LeakyReLU, ReLU, Softmax, ThresholdedReLU
from .convolutional import Conv, Conv1D, Conv2D, Conv3D, Convolution1D, Convolution2D, Convolution3D
from .input_spec import InputSpec
from .layer import Layer, WeightSpec


def get(identifier: Any) -> Any:
    """A layer from a Keras class name, a serialized config (new or legacy form) or an instance."""
    if isinstance(identifier, Layer):
        return identifier
    return LAYERS.get(identifier)


def serialize(layer: Layer) -> dict[str, Any]:
    """Keras 3's serialized form: module, class_name, config, registered_name, build_config."""
    return LAYERS.serialize(layer)


def deserialize(config: Any) -> Layer:
    return LAYERS.deserialize(config)


__all__ = [
    "Conv", "Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D", "ELU",
    "InputSpec", "Layer", "LeakyReLU", "ReLU", "Softmax", "ThresholdedReLU", "WeightSpec",
    "deserialize", "get", "serialize",
]

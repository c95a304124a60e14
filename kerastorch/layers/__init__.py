"""Keras layers as torch modules, one subpackage per family (as Keras 3 lays them out).

``get``/``serialize``/``deserialize`` resolve layers by their Keras class name through one registry.
"""
from __future__ import annotations

from typing import Any

from .._registry import LAYERS
from .activations import ELU, LeakyReLU, ReLU, Softmax, ThresholdedReLU
from .convolutional import (
    Conv, Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D, Conv3DTranspose, Convolution1D,
    Convolution1DTranspose, Convolution2D, Convolution2DTranspose, Convolution3D, Convolution3DTranspose,
    DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D, SeparableConvolution1D,
    SeparableConvolution2D,
)
from .reshaping import (
    Cropping1D, Cropping2D, Cropping3D, UpSampling1D, UpSampling2D, UpSampling3D, ZeroPadding1D, ZeroPadding2D,
    ZeroPadding3D,
)
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
    """A layer from its serialized config; a Keras 3 ``build_config`` builds it, as Keras 3 does."""
    layer = LAYERS.deserialize(config)
    if isinstance(config, dict) and isinstance(config.get("build_config"), dict):
        layer.build_from_config(config["build_config"])
    return layer


__all__ = [
    "Conv", "Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "Convolution1D",
    "Convolution1DTranspose", "Convolution2D", "Convolution2DTranspose", "Convolution3D", "Convolution3DTranspose",
    "Cropping1D", "Cropping2D", "Cropping3D", "DepthwiseConv1D", "DepthwiseConv2D", "ELU", "InputSpec", "Layer",
    "LeakyReLU", "ReLU", "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
    "Softmax", "ThresholdedReLU", "UpSampling1D", "UpSampling2D", "UpSampling3D", "WeightSpec", "ZeroPadding1D",
    "ZeroPadding2D", "ZeroPadding3D", "deserialize", "get", "serialize",
]

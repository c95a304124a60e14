"""Keras class names: which Keras class a kerastorch layer is, and how Keras files spell classes.

Resolved through the one layer registry (``kerastorch._registry.LAYERS``); a file's class names are
data, looked up there, never imported.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from ... import _naming
from ..._registry import LAYERS


def keras3_snake(name: str) -> str:
    """``keras.src.utils.naming.to_snake_case`` (Keras 3): how weight-file paths name classes."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def keras_class(layer: object) -> str:
    """The Keras class a kerastorch layer reproduces (a user subclass maps to its registered base)."""
    for cls in type(layer).__mro__:
        name = LAYERS.name_of(cls)
        if name is not None:
            return name
    return type(layer).__name__


# Keras 3.15 ``keras.layers`` classes that can hold weights (and the model classes), so that a file's
# path stem names its class in messages (``dense`` -> ``Dense``) without importing Keras.
_KERAS3_WEIGHTED_CLASSES = (
    "AdditiveAttention", "Attention", "BatchNormalization", "Bidirectional", "Conv1D", "Conv1DTranspose",
    "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
    "Dense", "DepthwiseConv1D", "DepthwiseConv2D", "EinsumDense", "Embedding", "Functional", "GRU", "GRUCell",
    "GroupNormalization", "GroupedQueryAttention", "IntegerLookup", "LSTM", "LSTMCell", "Layer",
    "LayerNormalization", "Model", "MultiHeadAttention", "Normalization", "PReLU", "RMSNormalization", "RNN",
    "ReversibleEmbedding", "SeparableConv1D", "SeparableConv2D", "Sequential", "SimpleRNN", "SimpleRNNCell",
    "SpectralNormalization", "StackedRNNCells", "StringLookup", "TextVectorization", "TimeDistributed",
)


def class_from_stem(stem: str | None) -> str | None:
    """The Keras class whose Keras 3 path stem is ``stem`` (``conv2d`` -> ``Conv2D``), if registered."""
    if stem is None:
        return None
    for name in LAYERS.names():
        if keras3_snake(name) == stem and LAYERS.name_of(LAYERS.lookup(name)) == name:
            return name
    return None


def class_name_of_stem(stem: str) -> str:
    """The Keras class name a Keras 3 path stem stands for, for messages (``dense`` -> ``Dense``):
    a registered class, a known Keras layer, else the stem in CamelCase."""
    known = class_from_stem(stem) or next((c for c in _KERAS3_WEIGHTED_CLASSES if keras3_snake(c) == stem), None)
    return known or "".join(part[:1].upper() + part[1:] for part in stem.split("_"))


def is_auto_name(layer: object) -> bool:
    """Whether a layer's name looks generated (``conv2d``, ``conv2d_3``), as Keras and kerastorch name
    unnamed layers after their class: such names say nothing about which Keras layer is meant."""
    name = getattr(layer, "name", None)
    if not isinstance(name, str):
        return True
    stems = {keras3_snake(keras_class(layer)), keras3_snake(type(layer).__name__), _naming.to_snake_case(type(layer).__name__)}
    return any(re.fullmatch(re.escape(stem) + r"(_\d+)?", name) for stem in stems)


def class_from_weights(weight_names: Sequence[str] | None, arrays: Sequence[np.ndarray]) -> str | None:
    """A convolution or Dense layer recognised by its weights alone (kernel rank), for files that
    record no class (attribute groups of subclassed Keras 3 models)."""
    if not arrays:
        return None
    if weight_names is not None and list(weight_names) not in (["kernel"], ["kernel", "bias"]):
        return None
    if len(arrays) > 2 or (len(arrays) == 2 and arrays[1].ndim != 1):
        return None
    rank = arrays[0].ndim
    if rank == 2:
        return "Dense"
    return f"Conv{rank - 2}D" if 3 <= rank <= 5 else None

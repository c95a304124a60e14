"""Keras class names: which Keras class a kerastorch layer is, and how Keras files spell classes.

Resolved through the one layer registry (``kerastorch._registry.LAYERS``); a file's class names are
data, looked up there, never imported.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

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


def class_from_stem(stem: str | None) -> str | None:
    """The Keras class whose Keras 3 path stem is ``stem`` (``conv2d`` -> ``Conv2D``), if registered."""
    if stem is None:
        return None
    for name in LAYERS.names():
        if keras3_snake(name) == stem and LAYERS.name_of(LAYERS.lookup(name)) == name:
            return name
    return None


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

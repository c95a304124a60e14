"""Keras layers as torch modules, one subpackage per family (as Keras 3 lays them out).

``get``/``serialize``/``deserialize`` resolve layers by their Keras class name through one registry.
"""
from __future__ import annotations

from typing import Any

from .._registry import LAYERS
from . import activations, attention, convolutional, core, merging, normalization, pooling, preprocessing, regularization, reshaping, rnn
from .activations import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .convolutional import *  # noqa: F401,F403
from .core import *  # noqa: F401,F403
from .merging import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .preprocessing import *  # noqa: F401,F403
from .regularization import *  # noqa: F401,F403
from .reshaping import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
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


__all__ = sorted(
    ["InputSpec", "Layer", "WeightSpec", "deserialize", "get", "serialize"]
    + [name for family in (activations, attention, convolutional, core, merging, normalization, pooling, preprocessing,
                           regularization, reshaping, rnn) for name in family.__all__]
)

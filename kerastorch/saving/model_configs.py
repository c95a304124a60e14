"""Model configs from untrusted text: ``model_from_config``/``model_from_json`` (tf.keras and Keras 3 formats).

Safety: the config's nesting depth and size are checked iteratively before anything recurses (a deep
config is a prompt ``ValueError``, never a ``RecursionError``), and every tensor allocated while building
is bounded (``untrusted.allocation_guard`` with ``untrusted.DEFAULT_LIMITS``, read at call time). The
layer entries are read by ``kerastorch.engine.serialization.deserialize_layer``.
"""
from __future__ import annotations

import contextlib
import json
from typing import Any

import torch

from ..engine.serialization import _check_json_depth, check_config_size, deserialize_layer
from . import untrusted


def model_from_json(json_str: str | bytes, custom_objects: dict[str, Any] | None = None) -> torch.nn.Module:
    """Keras ``model_from_json``: a model from ``model.to_json()`` text (tf.keras or Keras 3)."""
    if isinstance(json_str, bytes):
        json_str = json_str.decode("utf-8")
    if not isinstance(json_str, str):
        raise ValueError(f"model_from_json expects a JSON string, received {type(json_str).__name__}.")
    _check_json_depth(json_str)
    try:
        config = json.loads(json_str)
    except json.JSONDecodeError as e:
        raise ValueError(f"Invalid model JSON: {e}") from None
    return model_from_config(config, custom_objects)


def model_from_config(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> torch.nn.Module:
    """Keras ``model_from_config``: a ``{"class_name": ..., "config": ...}`` dict (tf.keras or Keras 3 format)."""
    if not isinstance(config, dict):
        raise ValueError(f"`model_from_config` expects a config dict. Received: {type(config).__name__}")
    check_config_size(config)
    if "class_name" not in config or not (isinstance(config.get("config"), dict) or (
            config.get("class_name") == "Sequential" and isinstance(config.get("config"), list))):  # Keras 2.0's list
        raise ValueError(f"Improper model config: expected keys 'class_name' and 'config', got {sorted(config)}.")
    with _allocation_bounds():
        model = deserialize_layer(config, dict(custom_objects or {}))
    refuse_empty_pooling(model)
    return model


def refuse_empty_pooling(model: torch.nn.Module) -> None:
    """Refuse a pooling layer whose window leaves no output position for the input shape the model gives it,
    naming the layer (tf.keras and Keras 3 refuse such a model when it is constructed: TF's and Keras 3's
    shape inference run on the symbolic input; kerastorch's ``compute_output_shape`` keeps tf.keras's
    zero-size answer, so without this the model would load and fail at its first call)."""
    from ..layers.pooling.base_pooling import Pooling

    for layer in model.modules():
        if not isinstance(layer, Pooling):
            continue
        shapes = [n.input_tensors[0].shape for n in layer.__dict__.get("_kt_nodes", ()) if n.input_tensors]
        if layer.built and isinstance(layer._build_shape, tuple):  # a Sequential builds its layers without nodes
            shapes.append(layer._build_shape)
        for shape in shapes:
            if shape is None or len(shape) != layer.rank + 2:
                continue
            spatial = layer._spatial(layer._output_shape(shape))
            if any(d is not None and d <= 0 for d in spatial):
                raise layer._too_small(shape, "a zero" if 0 in spatial else "a negative")


def _allocation_bounds() -> Any:
    """Bound every tensor allocated while building (``kerastorch.saving.untrusted.allocation_guard`` with
    the default ``LoadLimits``), unless a caller (``load_model``) already set its own bounds."""
    if untrusted.allocation_guard_active():
        return contextlib.nullcontext()
    return untrusted.allocation_guard(untrusted.DEFAULT_LIMITS, "model config")

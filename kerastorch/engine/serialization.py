"""Layer entries of model configs: ``deserialize_layer`` (tf.keras and Keras 3 formats) and ``serialize``.

Safety: the config's nesting depth and size are checked iteratively before anything recurses (a deep
config is a prompt ``ValueError``, never a ``RecursionError``); ``Lambda`` layers are refused (their
function is never decoded); classes resolve only through ``custom_objects``, the classes registered with
:func:`register_torch_layer`, and kerastorch's layer registry; a config's ``module`` field is never imported.
The untrusted entry points (``model_from_config``/``model_from_json``, with allocation bounds) are in
``kerastorch.saving.model_configs``; the model formats in ``functional_config.py`` and ``sequential.py``.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

import numpy as np
import torch

from .. import activations
from .._dialect import file_is_keras3
from .._registry import LAYERS
from ..layers.core.input_layer import InputLayer
from ..layers.layer import Layer
from ..layers import ops
from .base_model import _Model

MAX_DEPTH = 256  # nesting levels of lists/dicts in a model config (a 10-deep nested model uses ~70)
MAX_ITEMS = 5_000_000  # lists/dicts/values in one config

_USER_CLASSES: dict[str, type] = {}


def register_torch_layer(name: str | None = None) -> Callable[[type], type]:
    """Decorator: make a user's torch implementation loadable under a Keras class name (default: its own name).

    ``@register_torch_layer("MyPackage>MyLayer")`` matches a Keras 3 ``registered_name`` too. The class is
    built with ``cls.from_config(config)`` when it has one, else ``cls(**config)``.
    """

    def wrap(cls: type) -> type:
        _USER_CLASSES[name or cls.__name__] = cls
        return cls

    return wrap


# ----- safety -----
def check_config_size(config: Any, max_depth: int = MAX_DEPTH) -> None:
    """Refuse a config nested deeper than ``max_depth`` or bigger than ``MAX_ITEMS`` (iterative; never recurses)."""
    stack = [(config, 1)]
    count = 0
    while stack:
        x, depth = stack.pop()
        count += 1
        if count > MAX_ITEMS:
            raise ValueError(f"Model config too large: more than {MAX_ITEMS} entries.")
        if isinstance(x, dict):
            if depth > max_depth:
                raise ValueError(f"Model config nested too deeply: more than {max_depth} levels of lists/dicts.")
            stack.extend((v, depth + 1) for v in x.values())
        elif isinstance(x, (list, tuple)):
            if depth > max_depth:
                raise ValueError(f"Model config nested too deeply: more than {max_depth} levels of lists/dicts.")
            stack.extend((v, depth + 1) for v in x)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


def _check_json_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """The bracket depth of a JSON text, without parsing it (so a deep text cannot reach the recursive parser)."""
    body = _STRING.sub("", text)
    codes = np.frombuffer(body.encode("utf-8", "replace"), dtype=np.uint8)
    steps = np.zeros(len(codes), dtype=np.int64)
    steps[(codes == ord("[")) | (codes == ord("{"))] = 1
    steps[(codes == ord("]")) | (codes == ord("}"))] = -1
    if len(steps) and int(np.cumsum(steps).max()) > max_depth:
        raise ValueError(f"Model config nested too deeply: more than {max_depth} levels of lists/dicts.")


class _building:
    """Errors while building layer ``name`` from a config become a ValueError naming it: torch's
    RuntimeError/OverflowError/MemoryError on absurd sizes, the allocation bound's refusal, and a layer's
    own ValueError on an invalid argument (a BatchNormalization ``axis`` out of range, a dtype ``'float33'``)."""

    def __init__(self, name: Any, cls_name: str):
        self.name, self.cls_name = name, cls_name

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, err: Any, tb: Any) -> bool:
        if err is None:
            return False
        what = f'layer "{self.name}" ({self.cls_name})'
        if isinstance(err, ValueError) and f'"{self.name}"' not in str(err):  # an invalid argument: say whose
            raise ValueError(f"Cannot build {what} from the config: {err}") from None
        if isinstance(err, (RuntimeError, OverflowError, MemoryError)) or (
                isinstance(err, TypeError) and "Overflow" in str(err)):
            first = str(err).strip().split("\n")[0][:300]
            raise ValueError(f"Cannot build {what} from the config: its sizes are invalid or too large ({first}).") from None
        return False


_ACTIVATION_KEYS = ("activation", "recurrent_activation")


def _map_activations(config: Any, fn: Callable[[Any], Any]) -> Any:
    """A copy of a layer config with ``fn`` applied to its activation identifiers, nested layer configs
    (wrappers, RNN cells) included. The one place where Keras 3's activation names are translated."""
    if isinstance(config, dict):
        return {k: fn(v) if k in _ACTIVATION_KEYS else _map_activations(v, fn) for k, v in config.items()}
    if isinstance(config, list):
        return [_map_activations(v, fn) for v in config]
    return config


def _is_keras3_entry(entry: dict[str, Any]) -> bool:
    """Keras 3 writes ``module`` and ``registered_name`` in every layer entry; tf.keras writes neither."""
    return "module" in entry or "registered_name" in entry


def deserialize_layer(entry: dict[str, Any], custom_objects: dict[str, Any]) -> torch.nn.Module:
    """One layer (or nested model) from its config entry; resolution by name only, never by ``module``."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ValueError(f"Improper layer config: {str(entry)[:200]}")
    cls_name = entry["class_name"]
    config = entry.get("config")
    if cls_name == "Sequential" and isinstance(config, list):  # Keras 2.0-2.2: the config is the list of layers
        config = {"layers": config}
    if not isinstance(config, dict):
        raise ValueError(f"Improper config for layer class {cls_name!r}: expected a dict, got {type(config).__name__}.")
    name = config.get("name", entry.get("name"))
    module = entry.get("module") or ""
    registered = entry.get("registered_name")
    user = _user_class(cls_name, registered, custom_objects)
    if user is not None:
        return _build_user(user, dict(config), entry, name)
    if cls_name in ("Functional", "Model", "Sequential"):  # Functional.from_config / Sequential.from_config
        return LAYERS.lookup(cls_name).from_config(config, custom_objects)
    if cls_name == "Lambda":
        raise ValueError(
            f'Layer "{name}" is a Lambda layer: its function is Python bytecode or source, which kerastorch never '
            "decodes or runs. Re-implement it as a torch module and pass it in `custom_objects` under the layer's "
            "class name, or replace the Lambda in Keras."
        )
    keras3 = file_is_keras3()
    if keras3 if keras3 is not None else _is_keras3_entry(entry):  # Keras 3 names (hard_silu, ...) -> the registry's
        config = _map_activations(config, activations.from_keras3)
    if isinstance(module, str) and module.startswith(("keras.src.ops", "keras.ops")):
        return ops.keras3_op(cls_name, config)
    if cls_name in ("TFOpLambda", "SlicingOpLambda"):
        fn = config.get("function")
        if not isinstance(fn, str):
            raise ValueError(f'Layer "{name}" ({cls_name}) has no TensorFlow function name.')
        return ops.OpLayer(function=fn, name=name, dtype=config.get("dtype"))
    try:
        cls = LAYERS.lookup(cls_name)
    except ValueError:
        raise ValueError(
            f'Unknown layer class {cls_name!r} (layer "{name}"). kerastorch implements: {", ".join(LAYERS.names())}. '
            "Pass a torch implementation in `custom_objects={" + repr(cls_name) + ": MyModule}` or register one with "
            "`kerastorch.models.register_torch_layer`."
        ) from None
    with _building(name, cls_name):
        try:
            layer = cls.from_config(dict(config))
        except TypeError as e:
            if "Overflow" in str(e):
                raise
            raise ValueError(f'Invalid config for layer "{name}" ({cls_name}): {e}') from None
        build = entry.get("build_config")
        if isinstance(layer, Layer) and isinstance(build, dict) and not layer.built and build.get("input_shape") is not None:
            layer.build_from_config(build)
    return layer


def _user_class(cls_name: str, registered: Any, custom_objects: dict[str, Any]) -> Any:
    for key in (registered, cls_name):
        if isinstance(key, str):
            if key in custom_objects:
                return custom_objects[key]
            if key in _USER_CLASSES:
                return _USER_CLASSES[key]
    return None


def _build_user(cls: Any, config: dict[str, Any], entry: dict[str, Any], name: Any) -> torch.nn.Module:
    try:
        obj = cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)
    except TypeError as e:
        raise ValueError(f'Could not build layer "{name}" with custom object {cls!r}: {e}') from None
    if not isinstance(obj, torch.nn.Module):
        raise ValueError(f'Custom object for layer "{name}" must build a torch.nn.Module, got {type(obj).__name__}.')
    if getattr(obj, "name", None) is None:
        try:
            obj.name = name
        except AttributeError:
            pass
    return obj


# ----- functional graphs -----


# ----- writing Keras 3 configs -----
def serialize(layer: torch.nn.Module) -> dict[str, Any]:
    """A layer's entry in a Keras 3 config (models included)."""
    if isinstance(layer, ops.OpLayer):
        return layer.serialize()
    if isinstance(layer, _Model):
        return layer._keras3_entry()
    if isinstance(layer, Layer):
        return _map_activations(LAYERS.serialize(layer), activations.to_keras3)
    raise ValueError(f"Cannot serialize {type(layer).__name__}: a torch module without a Keras config.")


def _keras3_layer_config(layer: torch.nn.Module) -> dict[str, Any]:
    out = serialize(layer)
    if isinstance(layer, InputLayer):
        cfg = dict(out["config"])
        cfg["batch_shape"] = list(cfg.pop("batch_input_shape") or [])
        out["config"] = cfg
    return out

"""Model configs: ``model_from_config``/``model_from_json`` (tf.keras and Keras 3 formats) and ``get_config``.

Both formats are read (see tf_keras/engine/functional.py ``reconstruct_from_config`` and Keras 3
keras/src/models/functional.py ``functional_from_config``): layers are created first, then their nodes
are processed in config order, deferring a node whose inputs do not exist yet, until nothing is left
(or nothing moves: a loop or a disconnected graph is a ``ValueError``). Layers build from the known input
shapes; weights are loaded later (``kerastorch.load_keras_weights``).

Safety: the config's nesting depth and size are checked iteratively before anything recurses (a deep
config is a prompt ``ValueError``, never a ``RecursionError``); ``Lambda`` layers are refused (their
function is never decoded); classes resolve only through ``custom_objects``, the classes registered with
:func:`register_torch_layer`, and kerastorch's layer registry; a config's ``module`` field is never imported.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

import numpy as np
import torch

from .. import activations
from .._registry import LAYERS
from ..layers.core.input_layer import InputLayer
from ..layers.layer import Layer
from . import ops
from .functional import Functional, Sequential, input_tensor_of
from .keras_tensor import KerasTensor, flatten

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


# ----- entry points -----
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
    if "class_name" not in config or not isinstance(config.get("config"), dict):
        raise ValueError(f"Improper model config: expected keys 'class_name' and 'config', got {sorted(config)}.")
    with _allocation_bounds():
        return deserialize_layer(config, dict(custom_objects or {}))


def _allocation_bounds() -> Any:
    """Bound every tensor allocated while building (``kerastorch.saving.untrusted.allocation_guard`` with
    the default ``LoadLimits``), unless a caller (``load_model``) already set its own bounds."""
    import contextlib

    from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

    from ..saving.untrusted import DEFAULT_LIMITS, _AllocationGuard, allocation_guard

    if any(isinstance(m, _AllocationGuard) for m in _get_current_dispatch_mode_stack()):
        return contextlib.nullcontext()
    return allocation_guard(DEFAULT_LIMITS, "model config")


class _building:
    """Errors while building layer ``name`` from a config become a ValueError naming it: torch's
    RuntimeError/OverflowError/MemoryError on absurd sizes, and the allocation bound's refusal."""

    def __init__(self, name: Any, cls_name: str):
        self.name, self.cls_name = name, cls_name

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, err: Any, tb: Any) -> bool:
        if err is None:
            return False
        what = f'layer "{self.name}" ({self.cls_name})'
        if isinstance(err, ValueError) and "refused before allocating" in str(err) and f'"{self.name}"' not in str(err):
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
    if not isinstance(config, dict):
        raise ValueError(f"Improper config for layer class {cls_name!r}: expected a dict, got {type(config).__name__}.")
    name = config.get("name", entry.get("name"))
    module = entry.get("module") or ""
    registered = entry.get("registered_name")
    user = _user_class(cls_name, registered, custom_objects)
    if user is not None:
        return _build_user(user, dict(config), entry, name)
    if cls_name in ("Functional", "Model"):
        return functional_from_config(config, custom_objects)
    if cls_name == "Sequential":
        return sequential_from_config(config, custom_objects)
    if cls_name == "Lambda":
        raise ValueError(
            f'Layer "{name}" is a Lambda layer: its function is Python bytecode or source, which kerastorch never '
            "decodes or runs. Re-implement it as a torch module and pass it in `custom_objects` under the layer's "
            "class name, or replace the Lambda in Keras."
        )
    if _is_keras3_entry(entry):  # Keras 3 names (hard_silu, its hard_sigmoid, ...) -> kerastorch's registry names
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
def _is_ref(x: Any) -> bool:
    return isinstance(x, list) and len(x) in (3, 4) and isinstance(x[0], str) and (len(x) == 3 or isinstance(x[3], dict))


class _NotYet(Exception):
    pass


def functional_from_config(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Functional:
    """A Functional model from its config (tf.keras or Keras 3 format)."""
    custom_objects = dict(custom_objects or {})
    check_config_size(config)
    layer_entries = config.get("layers")
    if not isinstance(layer_entries, list):
        raise ValueError("Invalid Functional model configuration: 'layers' must be a list.")
    created: dict[str, torch.nn.Module] = {}
    outputs_of: dict[str, list[Any]] = {}  # layer name -> output structures of its nodes in this model
    offsets: dict[str, int] = {}
    pending: dict[str, list[Any]] = {}
    order: list[str] = []
    for entry in layer_entries:
        if not isinstance(entry, dict):
            raise ValueError(f"Invalid Functional model configuration: layer entry {str(entry)[:100]}")
        name = entry.get("name") or (entry.get("config") or {}).get("name")
        if not isinstance(name, str):
            raise ValueError("Invalid Functional model configuration: a layer has no name.")
        if name in created:
            raise ValueError(f'Invalid Functional model configuration: the layer name "{name}" is used twice.')
        layer = deserialize_layer(entry, custom_objects)
        created[name] = layer
        order.append(name)
        nodes = entry.get("inbound_nodes") or []
        if not isinstance(nodes, list):
            raise ValueError(f'Invalid Functional model configuration: inbound_nodes of "{name}" must be a list.')
        legacy = any(not isinstance(n, dict) for n in nodes)
        offsets[name] = _node_offset(layer, entry, legacy)
        outputs_of[name] = []
        if isinstance(layer, InputLayer):
            outputs_of[name].append(input_tensor_of(layer))
        pending[name] = list(nodes)

    def tensor(ref: list, in_node_args: bool = False) -> KerasTensor:
        lname, node_index, tensor_index = ref[0], ref[1], ref[2]
        if lname not in created:
            raise ValueError(f"Invalid Functional model configuration. Missing node: {lname}")
        layer = created[lname]
        if not isinstance(node_index, int) or not isinstance(tensor_index, int):
            raise ValueError(f"Invalid Functional model configuration: bad tensor reference {ref!r}.")
        made = outputs_of[lname]
        # Keras 3 counts only this model's nodes in node args (a nested model's own node is not counted),
        # but counts it in input_layers/output_layers; tf.keras counts it everywhere.
        idx = 0 if isinstance(layer, InputLayer) else node_index - (0 if in_node_args else offsets[lname])
        if idx < 0:
            raise ValueError(f"Invalid Functional model configuration: node index {node_index} of {lname!r}.")
        if idx >= len(made):
            raise _NotYet
        flat = flatten(made[idx])
        if not 0 <= tensor_index < len(flat):
            raise ValueError(f"Invalid Functional model configuration: tensor index {tensor_index} of {lname!r}.")
        return flat[tensor_index]

    def k3_value(x: Any) -> Any:
        if isinstance(x, dict):
            cls = x.get("class_name")
            if cls == "__keras_tensor__":
                history = (x.get("config") or {}).get("keras_history")
                if not (isinstance(history, list) and len(history) == 3):
                    raise ValueError(f"Invalid Functional model configuration: bad keras_history in {str(x)[:100]}")
                return tensor(history, in_node_args=True)
            if cls == "__tuple__":
                return tuple(k3_value(v) for v in (x.get("config") or {}).get("value", []))
            if cls == "__numpy__" or cls == "__tensor__":
                c = x.get("config") or {}
                return torch.as_tensor(np.asarray(c.get("value"), dtype=c.get("dtype")))
            if cls in ("__slice__", "__ellipsis__"):
                return ops._index(x)
            return {k: k3_value(v) for k, v in x.items()}
        if isinstance(x, list):
            return [k3_value(v) for v in x]
        return x

    def legacy_call(node: Any) -> tuple[tuple, dict]:
        entries: list[list] = []
        stack = [node]
        while stack:  # the flattened entries, in order
            x = stack.pop()
            if _is_ref(x):
                entries.append(x)
            elif isinstance(x, list):
                stack.extend(reversed(x))
            elif isinstance(x, dict):
                stack.extend(reversed(list(x.values())))
            else:
                raise ValueError(f"Invalid Functional model configuration: node data {str(node)[:200]}")
        inputs = []
        kwargs: dict[str, Any] = {}
        for e in entries:
            kwargs = e[3] if len(e) == 4 else {}
            if e[0] == "_CONSTANT_VALUE":
                inputs.append(e[2])
            else:
                inputs.append(tensor(e))
        kwargs = _legacy_kwargs(kwargs, tensor)
        first = inputs[0] if len(inputs) == 1 else _repack(node, iter(inputs))
        return (first,), kwargs

    def process(layer: torch.nn.Module, node: Any) -> Any:
        if isinstance(node, dict):
            args = tuple(k3_value(node.get("args") or []))
            kwargs = k3_value(node.get("kwargs") or {})
        else:
            args, kwargs = legacy_call(node)
        if isinstance(layer, ops.OpLayer):
            if layer.op.startswith("tf:"):
                kwargs = {k: v for k, v in kwargs.items() if k != "name"}
            from .keras_tensor import symbolic_call

            return symbolic_call(layer, args, kwargs)
        if not args or not flatten(args):
            raise ValueError(f'Invalid Functional model configuration: node of "{layer.name}" has no input tensors.')
        kwargs = {k: v for k, v in kwargs.items() if k not in ("mask",) or v is not None}
        if isinstance(layer, Layer):
            return layer(*args, **kwargs)
        from .keras_tensor import symbolic_call

        return symbolic_call(layer, args, kwargs)

    while any(pending.values()):
        progressed = False
        for name in order:
            queue = pending[name]
            while queue:
                try:
                    with _building(name, type(created[name]).__name__):
                        out = process(created[name], queue[0])
                except _NotYet:
                    break
                outputs_of[name].append(out)
                queue.pop(0)
                progressed = True
        if not progressed:
            stuck = [n for n in order if pending[n]]
            raise ValueError(
                "Invalid Functional model configuration. The graph of the Functional model either has loops or "
                f"disconnected nodes. The following nodes failed to be resolved: {stuck}"
            )

    def structure(spec: Any) -> Any:
        if _is_ref(spec) and len(spec) == 3:
            try:
                return tensor(spec)
            except _NotYet:
                raise ValueError(f"Invalid Functional model configuration: {spec!r} refers to a missing node.") from None
        if isinstance(spec, dict):
            return {k: structure(v) for k, v in spec.items()}
        if isinstance(spec, list):
            return [structure(v) for v in spec]
        raise ValueError(f"Invalid Functional model configuration: bad input/output spec {str(spec)[:100]}")

    inputs = structure(config.get("input_layers"))
    outputs = structure(config.get("output_layers"))
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    if isinstance(outputs, list) and len(outputs) == 1:
        outputs = outputs[0]
    return Functional(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True) is not False)


def _repack(node: Any, it: Any) -> Any:
    """The node's inputs in the node data's own structure (lists / dicts of entries)."""
    if _is_ref(node):
        return next(it)
    if isinstance(node, dict):
        return {k: _repack(v, it) for k, v in node.items()}
    out = [_repack(v, it) for v in node]
    return out[0] if len(out) == 1 else out


def _legacy_kwargs(kwargs: Any, tensor: Callable[[list], KerasTensor]) -> dict[str, Any]:
    if not isinstance(kwargs, dict):
        raise ValueError(f"Invalid Functional model configuration: call kwargs {str(kwargs)[:100]}")

    def conv(x: Any) -> Any:
        if isinstance(x, list) and len(x) == 3 and isinstance(x[0], str) and isinstance(x[1], int) and isinstance(x[2], int):
            return tensor(x)
        if isinstance(x, dict):
            return {k: conv(v) for k, v in x.items()}
        if isinstance(x, list):
            return [conv(v) for v in x]
        return x

    return {k: conv(v) for k, v in kwargs.items()}


def _node_offset(layer: torch.nn.Module, entry: dict[str, Any], legacy: bool) -> int:
    """Functional models start with a node of their own, which configs count (tf.keras: also a Sequential
    with an input layer, which is a graph network there)."""
    if isinstance(layer, Functional):
        return 1
    if isinstance(layer, Sequential) and legacy and layer.input_shape is not None:
        return 1
    return 0


def sequential_from_config(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Sequential:
    """A Sequential model from its config (tf.keras: ``layers`` may start with an InputLayer; Keras 3 too)."""
    custom_objects = dict(custom_objects or {})
    check_config_size(config)
    entries = config.get("layers")
    if not isinstance(entries, list):
        raise ValueError("Invalid Sequential model configuration: 'layers' must be a list.")
    model = Sequential(name=config.get("name"))
    for entry in entries:
        layer = deserialize_layer(entry, custom_objects)
        with _building(getattr(layer, "name", None), type(layer).__name__):
            model.add(layer)
    if config.get("build_input_shape") is not None and model.input_shape is None:
        model.build(tuple(config["build_input_shape"]))
    if config.get("trainable") is False:
        model.trainable = False
    return model


# ----- writing Keras 3 configs -----
def serialize(layer: torch.nn.Module) -> dict[str, Any]:
    """A layer's entry in a Keras 3 config (models included)."""
    if isinstance(layer, ops.OpLayer):
        return layer.serialize()
    if isinstance(layer, Functional):
        return {"module": "keras.src.models.functional", "class_name": "Functional", "config": functional_config(layer),
                "registered_name": "Functional", "build_config": {"input_shape": None}}
    if isinstance(layer, Sequential):
        out = {"module": "keras", "class_name": "Sequential", "config": sequential_config(layer), "registered_name": None}
        if layer.get_build_config() is not None:
            out["build_config"] = layer.get_build_config()
        return out
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


def functional_config(model: Functional) -> dict[str, Any]:
    """Keras 3's config of a Functional model (what ``keras.Model.get_config()`` writes)."""
    node_pos: dict[int, int] = {}  # node id -> index among its layer's nodes in this model
    per_layer: dict[int, int] = {}
    for node in model._nodes:
        k = per_layer.get(id(node.layer), 0)
        node_pos[node.id] = k
        per_layer[id(node.layer)] = k + 1

    def history(t: KerasTensor, in_node_args: bool = True) -> list:
        layer = t.node.layer
        own = 1 if isinstance(layer, Functional) and not in_node_args else 0
        index = 0 if isinstance(layer, InputLayer) else node_pos[t.node.id] + own
        return [layer.name, index, t.index]

    def ser(x: Any) -> Any:
        if isinstance(x, KerasTensor):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": None if x.shape is None else list(x.shape),
                               "dtype": str(x.dtype).replace("torch.", ""), "keras_history": history(x)}}
        if isinstance(x, slice):
            return {"class_name": "__slice__", "config": {"start": x.start, "stop": x.stop, "step": x.step}}
        if x is Ellipsis:
            return {"class_name": "__ellipsis__", "config": {}}
        if isinstance(x, dict):
            return {k: ser(v) for k, v in x.items()}
        if isinstance(x, tuple):
            return {"class_name": "__tuple__", "config": {"value": [ser(v) for v in x]}}
        if isinstance(x, list):
            return [ser(v) for v in x]
        return x

    layers = []
    for layer in model.layers:
        entry = _keras3_layer_config(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": [ser(a) for a in n.args], "kwargs": ser(dict(n.kwargs))} for n in model._nodes if n.layer is layer
        ] if not isinstance(layer, InputLayer) else []
        layers.append(entry)

    def spec(x: Any) -> Any:
        if isinstance(x, KerasTensor):
            return history(x, in_node_args=False)
        if isinstance(x, dict):
            return {k: spec(v) for k, v in x.items()}
        return [spec(v) for v in x]

    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": spec(model._inputs), "output_layers": spec(model._outputs)}


def sequential_config(model: Sequential) -> dict[str, Any]:
    """Keras 3's config of a Sequential model."""
    layers = []
    inp = model.__dict__["_input_layer"]
    if inp is not None:
        layers.append(_keras3_layer_config(inp))
    layers += [_keras3_layer_config(l) for l in model.layers]
    out: dict[str, Any] = {"name": model.name, "trainable": model.trainable, "dtype": None, "layers": layers}
    out["dtype"] = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
    if model.input_shape is not None:
        out["build_input_shape"] = list(model.input_shape)
    return out

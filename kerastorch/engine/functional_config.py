"""A Functional model's config, read (tf.keras and Keras 3 formats) and written (Keras 3's).

Both formats are read (see tf_keras/engine/functional.py ``reconstruct_from_config`` and Keras 3
keras/src/models/functional.py ``functional_from_config``): layers are created first, then their nodes
are processed in config order, deferring a node whose inputs do not exist yet, until nothing is left
(or nothing moves: a loop or a disconnected graph is a ``ValueError``). Layers build from the known input
shapes; weights are loaded later.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from ..graph.keras_tensor import KerasTensor
from ..graph.node import flatten
from ..graph.symbolic import symbolic_call
from .._registry import LAYERS
from ..layers import ops
from ..layers.ops.table import _index
from ..layers.core.input_layer import InputLayer
from ..layers.layer import Layer
from .base_model import _Model
from .construction import input_tensor_of
from .serialization import _building, _keras3_layer_config, check_config_size, deserialize_layer


def _is_ref(x: Any) -> bool:
    return isinstance(x, list) and len(x) in (3, 4) and isinstance(x[0], str) and (len(x) == 3 or isinstance(x[3], dict))


class _NotYet(Exception):
    pass


def functional_from_config(config: dict[str, Any], custom_objects: dict[str, Any] | None = None,
                           cls: type | None = None) -> _Model:
    """A Functional model (``cls``: Functional or a subclass; default ``LAYERS``' "Functional") from its config
    (tf.keras or Keras 3 format)."""
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
                return _index(x)
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
            return symbolic_call(layer, args, kwargs)
        if not args or not flatten(args):
            raise ValueError(f'Invalid Functional model configuration: node of "{layer.name}" has no input tensors.')
        kwargs = {k: v for k, v in kwargs.items() if k not in ("mask",) or v is not None}
        if isinstance(layer, Layer):
            return layer(*args, **kwargs)
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
    return (cls or LAYERS.lookup("Functional"))(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True) is not False)


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
    return layer._config_node_offset(legacy) if isinstance(layer, _Model) else 0


def functional_config(model: _Model) -> dict[str, Any]:
    """Keras 3's config of a Functional model (what ``keras.Model.get_config()`` writes)."""
    node_pos: dict[int, int] = {}  # node id -> index among its layer's nodes in this model
    per_layer: dict[int, int] = {}
    for node in model._nodes:
        k = per_layer.get(id(node.layer), 0)
        node_pos[node.id] = k
        per_layer[id(node.layer)] = k + 1

    def history(t: KerasTensor, in_node_args: bool = True) -> list:
        layer = t.node.layer
        own = layer._config_node_offset(False) if isinstance(layer, _Model) and not in_node_args else 0
        index = 0 if isinstance(layer, InputLayer) else node_pos[t.node.id] + own
        return [layer.name, index, t.index]

    def ser(x: Any) -> Any:
        if isinstance(x, KerasTensor):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": None if x.shape is None else list(x.shape),
                               "dtype": str(x.dtype).replace("torch.", ""), "keras_history": history(x)}}
        if isinstance(x, torch.Tensor):  # a constant operand of an op node (read from Keras's __numpy__/__tensor__)
            return {"class_name": "__tensor__",
                    "config": {"value": x.tolist(), "dtype": str(x.dtype).replace("torch.", "")}}
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

"""Functional graph construction: ``Input``, and the walk from a model's outputs back to its inputs
(Keras's ``map_graph``) that gives the nodes to run and ``model.layers`` in Keras's order.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from .. import _naming
from ..graph.keras_tensor import KerasTensor
from ..graph.node import Node, _Spec
from ..layers.core.input_layer import InputLayer


def Input(
    shape: Sequence[int | None] | None = None,
    batch_size: int | None = None,
    name: str | None = None,
    dtype: Any = None,
    batch_shape: Sequence[int | None] | None = None,
    **kwargs: Any,
) -> KerasTensor:
    """Keras ``Input``: a symbolic input tensor (``shape`` without the batch dim, or ``batch_shape``)."""
    if shape is None and batch_shape is None and kwargs.get("batch_input_shape") is None:
        raise ValueError("Please provide to Input a `shape` or a `batch_shape` argument. Note that `shape` does not "
                         "include the batch dimension.")
    layer = InputLayer(input_shape=shape, batch_size=batch_size, name=name, dtype=dtype, batch_shape=batch_shape, **kwargs)
    return input_tensor_of(layer)


def input_tensor_of(layer: InputLayer) -> KerasTensor:
    """The symbolic tensor an InputLayer produces (its single node, made once)."""
    nodes = layer.__dict__.get("_kt_nodes")
    if nodes:
        return nodes[0].outputs
    dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64}.get(layer.dtype, torch.float32)
    if layer.dtype in ("int32", "int64", "int8", "int16", "uint8", "bool"):
        dtype = getattr(torch, layer.dtype)
    return Node(layer, (), {}, _Spec((layer.batch_shape, dtype))).outputs


def _map_graph(in_flat: list[KerasTensor], out_flat: list[KerasTensor]) -> tuple[list[Node], list[torch.nn.Module], dict]:
    """The model's nodes to run (creation order: a topological order), its layers in Keras's order, and
    all its nodes by depth (input nodes included: Keras's ``_nodes_by_depth``).

    Keras's ``map_graph`` (tf_keras ``functional._map_graph_network``, Keras 3 ``ops/function.map_graph``),
    iteratively: a depth-first walk from the outputs (in order) back to the inputs numbers each layer when
    first reached; a node's depth is 1 + the largest depth of the nodes it feeds, a layer's depth the largest
    of its nodes'; ``layers`` is by decreasing depth, ties in walk order (model inputs that no output reaches
    come first among depth 0). This order is ``model.layers``, ``weights`` and ``summary()``'s order.
    """
    inputs = {id(t) for t in in_flat}
    layer_index: dict[int, int] = {}
    layer_of: dict[int, torch.nn.Module] = {}
    finished: set[int] = set()
    post_order: list[Node] = []
    parents: dict[int, list[Node]] = {}
    entry_nodes: set[int] = set()  # nodes that produce a model input: not run by the model
    for out in out_flat:
        if out.node is None:
            raise ValueError(f"Graph disconnected: KerasTensor {out!r} was not produced by `Input` or a layer call.")
        if out.node.id in finished:
            continue
        in_progress: set[int] = set()
        stack: list[tuple[Node, Any, bool]] = []

        def enter(t: KerasTensor) -> None:
            node = t.node
            if node is None:
                raise ValueError(f"Graph disconnected: KerasTensor {t!r} was not produced by `Input` or a layer call.")
            if node.id in finished:
                return
            if node.id in in_progress:
                raise ValueError(f"The graph has a cycle through layer {node.layer.name!r}.")
            if id(node.layer) not in layer_index:
                layer_index[id(node.layer)] = len(layer_index)
                layer_of[id(node.layer)] = node.layer
            in_progress.add(node.id)
            if id(t) in inputs:
                srcs: list[KerasTensor] = []
                entry_nodes.add(node.id)
            else:
                srcs = list(node.input_tensors)
                if not srcs and not (isinstance(node.layer, InputLayer) and id(t) in inputs):
                    raise ValueError(
                        f"Graph disconnected: cannot find parent for KerasTensor {t!r}: it is not one of the model's "
                        f"`inputs` ({[x.name for x in in_flat]}) and no input of the model leads to it."
                    )
            parents[node.id] = [s.node for s in srcs]
            stack.append((node, iter(srcs), True))

        enter(out)
        while stack:
            node, it, _ = stack[-1]
            nxt = next(it, None)
            if nxt is not None:
                enter(nxt)
                continue
            stack.pop()
            in_progress.discard(node.id)
            finished.add(node.id)
            post_order.append(node)
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(post_order):
        depth = max(node_depth.setdefault(node.id, 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[node.id] = depth
        for parent in parents[node.id]:
            node_depth[parent.id] = max(depth + 1, node_depth.get(parent.id, 0))
    for t in in_flat:
        layer = t.node.layer if t.node is not None else None
        if layer is not None and id(layer) not in layer_depth:
            layer_depth[id(layer)] = 0
            layer_index[id(layer)] = -1
            layer_of[id(layer)] = layer
    layers = sorted(layer_of.values(), key=lambda l: (-layer_depth[id(l)], layer_index[id(l)]))
    nodes = sorted((n for n in post_order if n.id not in entry_nodes), key=lambda n: n.id)
    by_depth: dict[int, list[Node]] = {}
    for n in post_order:
        by_depth.setdefault(node_depth[n.id], []).append(n)
    for t in in_flat:  # inputs no output reaches: depth 0
        if t.node is not None and t.node.id not in node_depth:
            by_depth.setdefault(0, []).append(t.node)
    return nodes, layers, by_depth


def _auto_name(base: str) -> str:
    return _naming.unique_name(base)


def _leaves(x: Any) -> list:
    return [t for item in x for t in (_leaves(item) if isinstance(item, (list, tuple)) and item else [item])]


def _as_flat(x: Any, what: str) -> list[KerasTensor]:
    if isinstance(x, KerasTensor):
        return [x]
    if isinstance(x, dict):  # Keras flattens dicts in sorted key order (tf.nest / keras.tree)
        items = [x[k] for k in sorted(x)]
    elif isinstance(x, (list, tuple)):  # nested lists (a stacked RNN's per-cell states) flatten, as Keras's outputs
        items = _leaves(x) if what == "outputs" else list(x)
    else:
        raise ValueError(f"All `{what}` of a functional model must be KerasTensors (from `Input` or a layer call). "
                         f"Received {what}={x!r}")
    bad = [t for t in items if not isinstance(t, KerasTensor)]
    if bad or not items:
        raise ValueError(f"All `{what}` of a functional model must be KerasTensors (from `Input` or a layer call). "
                         f"Received {what}={x!r}")
    return items


def _structure_of(x: Any) -> tuple[str, list]:
    if isinstance(x, KerasTensor):
        return ("single", [])
    if isinstance(x, dict):
        return ("dict", sorted(x))  # the flat order; outputs are packed back in the dict's own order
    if any(isinstance(t, (list, tuple)) for t in x):  # nested outputs: positions in the flat order, in their nesting
        count = iter(range(len(_leaves(x))))
        return ("nested", _positions(x, count))
    return ("list", [])


def _positions(x: Any, count: Any) -> list:
    return [_positions(t, count) if isinstance(t, (list, tuple)) and t else next(count) for t in x]


def pack_nested(template: list, flat: list) -> list:
    """``flat`` in the nesting of ``template`` (nested lists of flat positions, from ``_structure_of``)."""
    return [pack_nested(t, flat) if isinstance(t, list) else flat[t] for t in template]

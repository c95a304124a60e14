"""Graph nodes (Keras's ``Node``) and the nested-structure helpers of the symbolic graph."""
from __future__ import annotations

import itertools
from typing import Any, Callable

import torch

from .keras_tensor import KerasTensor

_node_ids = itertools.count()


class Node:
    """One call of ``layer`` on symbolic ``args``/``kwargs`` (nested structures with KerasTensor leaves).

    ``outputs`` is the call's output structure (a KerasTensor, or a list/tuple/dict of them);
    ``flat_outputs`` lists them in order (``KerasTensor.index`` is the position). ``id`` increases with
    creation, so sorting nodes by id is a valid topological order.
    """

    def __init__(self, layer: torch.nn.Module, args: tuple, kwargs: dict, output_spec: Any):
        self.id = next(_node_ids)
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        flat: list[KerasTensor] = []

        def make(spec: Any) -> Any:
            if isinstance(spec, _Spec):
                t = KerasTensor(spec[0], spec[1], self, len(flat))
                flat.append(t)
                return t
            if isinstance(spec, dict):
                return {k: make(v) for k, v in spec.items()}
            return type(spec)(make(v) for v in spec)

        self.outputs = make(output_spec)
        self.flat_outputs = flat
        self.input_tensors = flatten(args) + flatten(kwargs)
        layer.__dict__.setdefault("_kt_nodes", []).append(self)

    @property
    def parents(self) -> list["Node"]:
        return [t.node for t in self.input_tensors]

    def __repr__(self) -> str:
        return f"<Node {self.layer.name!r} #{self.id}>"


class _Spec(tuple):
    """(shape, dtype) of one output, as a marked tuple so that it is not read as a structure."""


def is_symbolic(x: Any) -> bool:
    """Whether ``x`` is a KerasTensor or a list/tuple/dict holding one (one level, as layer inputs are)."""
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(isinstance(t, KerasTensor) for t in x)
    if isinstance(x, dict):
        return any(isinstance(t, KerasTensor) for t in x.values())
    return False


def flatten(structure: Any) -> list[KerasTensor]:
    """The KerasTensors of a nested structure, depth first (dicts in insertion order)."""
    out: list[KerasTensor] = []
    stack = [structure]
    while stack:
        x = stack.pop()
        if isinstance(x, KerasTensor):
            out.append(x)
        elif isinstance(x, dict):
            stack.extend(reversed(list(x.values())))
        elif isinstance(x, (list, tuple)):
            stack.extend(reversed(x))
    return out


def map_structure(fn: Callable[[Any], Any], structure: Any) -> Any:
    """``fn`` applied to every leaf of nested lists/tuples/dicts (structure kept)."""
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)) and not isinstance(structure, _Spec):
        return type(structure)(map_structure(fn, v) for v in structure)
    return fn(structure)

"""The execution plan of a Functional model: steps computed once at construction (which module, where its
arguments come from, where its outputs go, which values die after it), run by one loop without per-call
graph work, so that ``torch.compile(fullgraph=True)`` and ``torch.export`` trace it straight.

Plain objects, not closures, so that a model pickles (``torch.save(model)``).
"""
from __future__ import annotations

from typing import Any, Callable

from ..graph.keras_tensor import KerasTensor
from ..graph.node import flatten, map_structure


class _Step:
    """One node of the plan: call ``module`` with arguments gathered from value slots, store its outputs."""

    __slots__ = ("key", "gather", "outputs", "flat_out", "free", "pass_training", "one")

    def __init__(self, key: str, gather: Callable[[list, Any], tuple], outputs: list[int], flat_out: Callable[[Any], list],
                 free: list[int], pass_training: bool):
        self.key = key
        self.gather = gather
        self.outputs = outputs
        self.flat_out = flat_out
        self.free = free
        self.pass_training = pass_training
        # The common node, one tensor in and one out, no other argument: (argument slot, output slot), which
        # the run loop handles without gathering or flattening; None for any other node.
        simple = (
            isinstance(gather, _Gather) and gather.kind == "one" and not gather.consts
            and isinstance(flat_out, _FlatOut) and flat_out.kind == "one" and len(outputs) == 1
        )
        self.one = (gather.index, outputs[0]) if simple else None


class _FlatOut:
    """A node's outputs as a flat list (``kind``: one tensor, a dict's values in the node's key order, a
    list, or any nesting). Plain objects, not closures, so that a model pickles (``torch.save(model)``)."""

    __slots__ = ("kind", "keys")

    def __init__(self, structure: Any):
        self.keys: list = []
        if isinstance(structure, KerasTensor):
            self.kind = "one"
        elif isinstance(structure, dict):
            self.kind, self.keys = "dict", list(structure)
        elif isinstance(structure, (list, tuple)) and all(isinstance(t, KerasTensor) for t in structure):
            self.kind = "list"
        else:
            self.kind = "nested"

    def __call__(self, out: Any) -> list:
        if self.kind == "one":
            return [out]
        if self.kind == "dict":
            return [out[k] for k in self.keys]
        if self.kind == "list":
            return list(out)
        return _flatten_values(out)


def _flatten_values(x: Any) -> list:
    if isinstance(x, dict):
        return [v for k in x for v in _flatten_values(x[k])]
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flatten_values(item)]
    return [x]


class _Gather:
    """values -> (args, kwargs) of one node, specialized for the common calls (one tensor; a list of
    tensors; constant kwargs); anything else fills a template of slot references."""

    __slots__ = ("kind", "index", "consts", "targs", "tkwargs")

    def __init__(self, args: tuple, kwargs: dict, slot: dict[int, int]):
        self.consts = {k: v for k, v in kwargs.items() if not flatten(v)}
        self.index: Any = None
        self.targs: Any = None
        self.tkwargs: Any = None
        plain_kwargs = len(self.consts) == len(kwargs)
        if len(args) == 1 and isinstance(args[0], KerasTensor) and plain_kwargs:
            self.kind, self.index = "one", slot[id(args[0])]
        elif (len(args) == 1 and isinstance(args[0], (list, tuple)) and all(isinstance(t, KerasTensor) for t in args[0])
              and plain_kwargs):
            self.kind, self.index = "list", [slot[id(t)] for t in args[0]]
        else:
            def sub(x: Any) -> Any:
                return _Ref(slot[id(x)]) if isinstance(x, KerasTensor) else x

            self.kind = "template"
            self.targs = map_structure(sub, tuple(args))
            self.tkwargs = map_structure(sub, dict(kwargs))

    def __call__(self, v: list) -> tuple:
        if self.kind == "one":
            return (v[self.index],), self.consts
        if self.kind == "list":
            return ([v[i] for i in self.index],), self.consts
        return _fill(self.targs, v), _fill(self.tkwargs, v)


class _Ref:
    __slots__ = ("i",)

    def __init__(self, i: int):
        self.i = i


def _fill(template: Any, values: list) -> Any:
    if isinstance(template, _Ref):
        return values[template.i]
    if isinstance(template, dict):
        return {k: _fill(t, values) for k, t in template.items()}
    if isinstance(template, (list, tuple)):
        return type(template)(_fill(t, values) for t in template)
    return template

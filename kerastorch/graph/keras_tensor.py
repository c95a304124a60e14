"""Symbolic tensors for functional model construction (Keras's ``KerasTensor`` and ``Node``).

``x = Input(shape=(8,))`` is a :class:`KerasTensor`: a shape and dtype with a history. Calling any
kerastorch layer on KerasTensors (``Layer.__call__`` hands them here) builds the layer from the known
shapes, as Keras does, and records a :class:`Node` (layer, call args, outputs) instead of computing.
``Functional(inputs, outputs)`` then walks the nodes back from the outputs. Python operators and
indexing on KerasTensors (``x + 1.0``, ``x[:, 1:]``) record op nodes (``kerastorch.models.ops``), as
Keras 3's ``keras.ops`` and tf.keras's ``TFOpLambda`` do.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable

import torch

_node_ids = itertools.count()

Shape = tuple  # ints / None; a KerasTensor's shape may also be None (rank unknown)


class KerasTensor:
    """A symbolic tensor: ``shape`` (batch dim included, ``None`` for unknown dims; ``None`` when even the
    rank is unknown), ``dtype`` (a torch dtype), and the node that produced it (``node``, output ``index``)."""

    _kt_symbolic = True

    def __init__(self, shape: Shape | None, dtype: torch.dtype = torch.float32, node: "Node | None" = None, index: int = 0):
        self.shape = None if shape is None else tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype
        self.node = node
        self.index = index

    @property
    def ndim(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    @property
    def name(self) -> str:
        return self.node.layer.name if self.node is not None else "keras_tensor"

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={str(self.dtype).replace('torch.', '')}, name={self.name}>"

    def __bool__(self) -> bool:
        raise TypeError("A symbolic KerasTensor has no truth value (it holds no data).")

    def __iter__(self):
        raise TypeError("A symbolic KerasTensor cannot be iterated; index it instead.")

    def __array__(self, *args: Any, **kwargs: Any):
        raise TypeError(
            "A KerasTensor is a symbolic placeholder for a functional model, not data: you cannot convert it to a "
            "numpy array or torch tensor. Use it to build a model, then call the model on real tensors."
        )

    # Operators record op nodes (ops.py), with tf.keras's python-operator semantics.
    def _op(self, name: str, *args: Any) -> "KerasTensor":
        from . import ops

        return ops.apply(name, *args)

    def __add__(self, other): return self._op("add", self, other)
    def __radd__(self, other): return self._op("add", other, self)
    def __sub__(self, other): return self._op("subtract", self, other)
    def __rsub__(self, other): return self._op("subtract", other, self)
    def __mul__(self, other): return self._op("multiply", self, other)
    def __rmul__(self, other): return self._op("multiply", other, self)
    def __truediv__(self, other): return self._op("divide", self, other)
    def __rtruediv__(self, other): return self._op("divide", other, self)
    def __pow__(self, other): return self._op("power", self, other)
    def __rpow__(self, other): return self._op("power", other, self)
    def __matmul__(self, other): return self._op("matmul", self, other)
    def __rmatmul__(self, other): return self._op("matmul", other, self)
    def __neg__(self): return self._op("negative", self)
    def __abs__(self): return self._op("absolute", self)
    def __getitem__(self, key): return self._op("getitem", self, key)


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


def _shape_of(x: Any) -> Any:
    return map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else None, x)


def _known(shape: Any) -> bool:
    if shape is None:
        return False
    if isinstance(shape, list):
        return all(_known(s) for s in shape)
    return isinstance(shape, tuple)


def output_spec(layer: torch.nn.Module, inputs: Any) -> Any:
    """The output (shape, dtype) structure of ``layer`` on symbolic ``inputs``: ``compute_output_shape`` of
    the known input shapes (``None`` shape when unknown or when the layer cannot say)."""
    dtype = next((t.dtype for t in flatten(inputs)), torch.float32)
    in_shape = _shape_of(inputs)
    if isinstance(in_shape, tuple) and not _known(in_shape):
        in_shape = None
    shape = None
    fn = getattr(layer, "compute_output_shape", None)
    if fn is not None and _known(in_shape):
        try:
            shape = fn(in_shape)
        except (NotImplementedError, TypeError, AttributeError):
            shape = None
    if getattr(layer, "_explicit_dtype", False) and dtype.is_floating_point:
        dtype = layer.compute_dtype
    return _to_spec(shape, dtype)


def _to_spec(shape: Any, dtype: torch.dtype) -> Any:
    if shape is None:
        return _Spec((None, dtype))
    if isinstance(shape, dict):
        return {k: _to_spec(v, dtype) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and all(s is None or isinstance(s, (list, tuple, torch.Size, dict)) for s in shape):
        return [_to_spec(s, dtype) for s in shape]
    return _Spec((tuple(None if d is None else int(d) for d in shape), dtype))


def symbolic_call(layer: torch.nn.Module, args: tuple, kwargs: dict) -> Any:
    """A layer called on KerasTensors: build it from the known input shapes, record and return the node's outputs.

    Keras's checks run as on real inputs (input spec, build) so that a wrong wiring fails here, at
    construction, with the layer's own message.
    """
    from ..layers.input_spec import check_shape
    from ..layers.layer import Layer

    if hasattr(layer, "symbolic_output_spec"):  # op layers: any mix of tensors and constants
        return Node(layer, args, kwargs, layer.symbolic_output_spec(args, kwargs)).outputs
    inputs = args[0]
    if any(not isinstance(t, KerasTensor) for t in (inputs if isinstance(inputs, (list, tuple)) else [])):
        raise ValueError(
            f'Layer "{getattr(layer, "name", type(layer).__name__)}" was called on a mix of symbolic KerasTensors and '
            "other values; in a functional model every input of a layer must come from `Input` or another layer."
        )
    shapes = _shape_of(inputs)
    if isinstance(layer, Layer) and not getattr(layer, "_kt_is_model", False):
        spec = layer.input_spec
        if isinstance(inputs, KerasTensor) and inputs.shape is not None:
            from ..layers.input_spec import InputSpec

            if isinstance(spec, InputSpec):
                check_shape(spec, inputs.shape, layer.name)
        if not layer.built and _known(shapes) and layer._weights_state() == "lazy":
            layer.build(shapes)
    return Node(layer, args, kwargs, output_spec(layer, inputs)).outputs

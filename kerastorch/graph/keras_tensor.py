"""Symbolic tensors for functional model construction (Keras's ``KerasTensor``).

``x = Input(shape=(8,))`` is a :class:`KerasTensor`: a shape and dtype with a history (the
:class:`~kerastorch.graph.node.Node` that produced it). Python operators and indexing on KerasTensors
(``x + 1.0``, ``x[:, 1:]``) record op nodes, as Keras 3's ``keras.ops`` and tf.keras's ``TFOpLambda`` do:
the op layers live in ``kerastorch.layers.ops``, which installs itself here with :func:`set_operator_recorder`
(this package sits below the layers and imports none of them).
"""
from __future__ import annotations

from typing import Any, Callable

import torch

Shape = tuple  # ints / None; a KerasTensor's shape may also be None (rank unknown)

_operator_recorder: Callable[..., Any] | None = None


def set_operator_recorder(fn: Callable[..., Any]) -> None:
    """Install ``fn(operator_name, *operands)``, which records a python operator on KerasTensors as an op node."""
    global _operator_recorder
    _operator_recorder = fn


class KerasTensor:
    """A symbolic tensor: ``shape`` (batch dim included, ``None`` for unknown dims; ``None`` when even the
    rank is unknown), ``dtype`` (a torch dtype), and the node that produced it (``node``, a ``graph.node.Node``,
    which imports this module; output ``index``)."""

    _kt_symbolic = True

    def __init__(self, shape: Shape | None, dtype: torch.dtype = torch.float32, node: Any = None, index: int = 0):
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

    # Operators record op nodes with tf.keras's python-operator semantics. The op layers live in
    # kerastorch.layers.ops, above this package: it installs the recorder (set_operator_recorder).
    def _op(self, name: str, *args: Any) -> "KerasTensor":
        if _operator_recorder is None:
            raise TypeError(f"Operator {name!r} on a KerasTensor needs kerastorch.layers.ops (import kerastorch).")
        return _operator_recorder(name, *args)

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

"""``WeightSpec`` (one Keras weight, declared once) and the argument checks layers share."""
from __future__ import annotations

import dataclasses
import numbers
from typing import Any, Sequence

import numpy as np
import torch

from .. import constraints, initializers, regularizers
from ..config import MAX_DIM


@dataclasses.dataclass(frozen=True)
class WeightSpec:
    """One Keras weight: its Keras name and shape, how it starts, is penalized and projected.

    ``shape`` is Keras's (``None`` where the input is not known yet). ``storage_order`` lists the
    Keras dims in the order the stored tensor holds them (``None``: Keras's own order), so that the
    stored tensor is contiguous in the layout the torch kernel reads. ``initializer=None`` means
    ``glorot_uniform``, Keras's ``add_weight`` default for floating weights.
    """

    name: str
    shape: tuple[int | None, ...]
    initializer: Any = None
    regularizer: Any = None
    constraint: Any = None
    trainable: bool = True
    storage_order: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        # Keras identifiers ('zeros', 'l2', {'class_name': ...}) are accepted, as in ``add_weight``.
        object.__setattr__(self, "initializer", initializers.get(self.initializer))
        object.__setattr__(self, "regularizer", regularizers.get(self.regularizer))
        object.__setattr__(self, "constraint", constraints.get(self.constraint))

    @property
    def storage_shape(self) -> tuple[int | None, ...]:
        return tuple(self.shape[d] for d in self.storage_order) if self.storage_order else tuple(self.shape)

    def to_keras(self, stored: torch.Tensor) -> torch.Tensor:
        """The Keras-layout view of a stored tensor."""
        return stored.permute(*np.argsort(self.storage_order).tolist()) if self.storage_order else stored

    def to_storage(self, keras_value: torch.Tensor) -> torch.Tensor:
        """The stored-layout view of a Keras-layout tensor."""
        return keras_value.permute(*self.storage_order) if self.storage_order else keras_value

    def keras_shape(self, storage_shape: Sequence[int]) -> tuple[int, ...]:
        if not self.storage_order:
            return tuple(storage_shape)
        return tuple(storage_shape[i] for i in np.argsort(self.storage_order).tolist())

    def initial_value(self, dtype: torch.dtype, device: Any) -> torch.Tensor:
        """A fresh value in Keras layout, from the initializer."""
        init = self.initializer if self.initializer is not None else initializers.GlorotUniform()
        value = torch.as_tensor(init(tuple(self.shape), dtype=dtype, device=device), dtype=dtype, device=device)
        if tuple(value.shape) != tuple(self.shape):
            raise ValueError(
                f"the initializer of `{self.name}` returned shape {tuple(value.shape)}, expected {tuple(self.shape)}"
            )
        return value


def _check_trainable(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"Expected `trainable` argument to be a boolean, but got: {value!r}")


def _input_shape_arg(value: Any, what: str) -> tuple[int | None, ...]:
    """``input_shape``-style arguments: a sequence of positive ints (or ``None``)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) and not isinstance(value, torch.Size):
        raise ValueError(f"`{what}` must be a tuple of positive integers or None. Received: {what}={value!r}")
    dims = []
    for d in value:
        if d is None:
            dims.append(None)
        elif isinstance(d, numbers.Integral) and not isinstance(d, bool) and 0 < int(d) <= MAX_DIM:
            dims.append(int(d))
        else:
            raise ValueError(
                f"`{what}` must be a tuple of positive integers (each <= {MAX_DIM}) or None. "
                f"Received: {what}={tuple(value)!r} (element {d!r})"
            )
    return tuple(dims)


def _normalize_shape(shape: Any) -> Any:
    """A build shape: a tuple of ints/None, or a list of them for multi-input layers."""
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (list, tuple, torch.Size)) for s in shape):
        return [tuple(None if d is None else int(d) for d in s) for s in shape]
    if isinstance(shape, dict) and "input_shape" in shape:  # a Keras build_config
        return _normalize_shape(shape["input_shape"])
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"Expected an input shape (a tuple of ints or None), received {shape!r}") from None

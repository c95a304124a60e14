"""tf.keras weight/activity regularizers on torch tensors: L1, L2, L1L2, OrthogonalRegularizer.

Factors are stored as float32 like tf.keras (``backend.cast_to_floatx``), so configs carry the
same float values tf.keras writes.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ._registry import Registry, Serializable

_registry = Registry("regularizer", "keras.regularizers")
register = _registry.register


def _penalty(x: Any, name: str) -> float:
    if not isinstance(x, (float, int)) or isinstance(x, bool):
        raise ValueError(f"Value {x} is not a valid regularization penalty number, expected an int or float value.")
    if math.isinf(x) or math.isnan(x):
        raise ValueError(f"Value {x} is not a valid regularization penalty number, an infinite number or NaN are not valid values.")
    return float(np.float32(x))


class Regularizer(Serializable):
    """Base class: ``__call__(x) -> scalar tensor`` plus ``get_config``/``from_config``."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(())



@register()
class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)`` (both default 0; the string ``'l1_l2'`` means 0.01 each)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _penalty(0.0 if l1 is None else l1, "l1")
        self.l2 = _penalty(0.0 if l2 is None else l2, "l2")

    def __call__(self, x):
        out = x.new_zeros(())
        if self.l1:
            out = out + self.l1 * x.abs().sum()
        if self.l2:
            out = out + self.l2 * x.square().sum()
        return out

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


@register("l1")
class L1(Regularizer):
    def __init__(self, l1: float = 0.01, **kwargs: Any):
        l1 = kwargs.pop("l", l1)
        if kwargs:
            raise TypeError(f"Argument(s) not recognized: {kwargs}")
        self.l1 = _penalty(0.01 if l1 is None else l1, "l1")

    def __call__(self, x):
        return self.l1 * x.abs().sum()

    def get_config(self):
        return {"l1": self.l1}


@register("l2")
class L2(Regularizer):
    def __init__(self, l2: float = 0.01, **kwargs: Any):
        l2 = kwargs.pop("l", l2)
        if kwargs:
            raise TypeError(f"Argument(s) not recognized: {kwargs}")
        self.l2 = _penalty(0.01 if l2 is None else l2, "l2")

    def __call__(self, x):
        return self.l2 * x.square().sum()

    def get_config(self):
        return {"l2": self.l2}


@register("orthogonal_regularizer")
class OrthogonalRegularizer(Regularizer):
    """``factor * mean |<u_i, u_j>|`` over pairs of L2-normalized rows (or columns) of a 2-D input."""

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _penalty(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(f'Invalid value for argument `mode`. Expected one of {{"rows", "columns"}}. Received: mode={mode}')
        self.mode = mode

    def __call__(self, x):
        if x.dim() != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape == {tuple(x.shape)}")
        if self.mode == "rows":
            u = torch.nn.functional.normalize(x, dim=1, eps=1e-6)
            product, size = u @ u.T, x.shape[0]
        else:
            u = torch.nn.functional.normalize(x, dim=0, eps=1e-6)
            product, size = u.T @ u, x.shape[1]
        off_diagonal = product * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * off_diagonal.abs().sum() / num_pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """tf.keras's ``l1_l2`` helper: an L1L2 with 0.01 for both factors by default."""
    return L1L2(l1=l1, l2=l2)


def serialize(regularizer: Regularizer | None) -> dict[str, Any] | None:
    return _registry.serialize(regularizer)


def deserialize(config: Any) -> Regularizer:
    if config == "l1_l2":
        return L1L2(l1=0.01, l2=0.01)
    return _registry.deserialize(config)


def get(identifier: Any) -> Any:
    """tf.keras ``regularizers.get``: ``None``, name, config dict, instance or callable."""
    if isinstance(identifier, str) and identifier == "l1_l2":
        return deserialize(identifier)
    return _registry.get(identifier)

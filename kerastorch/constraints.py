"""tf.keras weight constraints as callables on torch tensors (epsilon 1e-7, default axis 0).

Keras applies a constraint to its variable right after each optimizer update; see
``kerastorch.apply_constraints`` / ``kerastorch.attach_constraints`` for the torch side.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from . import config as _config
from ._registry import Registry, Serializable

_registry = Registry("constraint", "keras.constraints")
register = _registry.register

Axis = int | Sequence[int]


def _axes(axis: Axis) -> int | tuple[int, ...]:
    return axis if isinstance(axis, int) else tuple(int(a) for a in axis)


def _norms(w: torch.Tensor, axis: Axis) -> torch.Tensor:
    axes = _axes(axis)
    for a in (axes,) if isinstance(axes, int) else axes:
        if not -w.dim() <= a < w.dim():
            raise ValueError(f"Invalid reduction dimension {a} for input with {w.dim()} dimensions (shape {tuple(w.shape)}).")
    return w.square().sum(dim=axes, keepdim=True).sqrt()


@register()
class Constraint(Serializable):
    """Base class: ``__call__(w) -> constrained w`` plus ``get_config``/``from_config``."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w



@register("max_norm", "maxnorm")
class MaxNorm(Constraint):
    """``w * clip(n, 0, max_value) / (eps + n)`` with ``n`` the L2 norm over ``axis``."""

    def __init__(self, max_value: float = 2, axis: Axis = 0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = norms.clamp(0, self.max_value)
        return w * (desired / (_config.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


@register("non_neg", "nonneg")
class NonNeg(Constraint):
    def __call__(self, w):
        return w * (w >= 0.0).to(w.dtype)


@register("unit_norm", "unitnorm")
class UnitNorm(Constraint):
    def __init__(self, axis: Axis = 0):
        self.axis = axis

    def __call__(self, w):
        return w / (_config.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


@register("min_max_norm")
class MinMaxNorm(Constraint):
    """``w * (rate * clip(n, min, max) + (1 - rate) * n) / (eps + n)``."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Axis = 0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (_config.epsilon() + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


@register("radial_constraint")
class RadialConstraint(Constraint):
    """tf.keras RadialConstraint for ``(h, w, in, out)`` kernels, ported step for step.

    Each ``(h, w)`` slice is rebuilt from the inside out: a seed taken at ``[start-1, start-1]``
    (1x1 for odd sizes, 2x2 for even), then rings filled with ``kernel[start+i, start+i]``.
    """

    def __call__(self, w):
        if w.dim() != 4:
            raise ValueError(f"The weight tensor must have rank 4. Received weight tensor with shape: {tuple(w.shape)}")
        height, width, channels, kernels = w.shape
        slices = w.reshape(height, width, channels * kernels).permute(2, 0, 1)
        size = height
        start = int(size / 2)
        seed = slices[:, start - 1 : start, start - 1 : start]
        if size % 2:
            out, index = seed, 0
        else:
            out, index = seed.expand(-1, 2, 2), 1
        while index < start:
            ring = slices[:, start + index, start + index].reshape(-1, 1, 1)
            grown = ring.expand(-1, out.shape[1] + 2, out.shape[2] + 2).clone()
            grown[:, 1:-1, 1:-1] = out
            out, index = grown, index + 1
        if tuple(out.shape[1:]) != (height, width):
            raise ValueError(
                f"RadialConstraint needs a square kernel; received weight tensor with shape: {tuple(w.shape)}"
            )
        return out.permute(1, 2, 0).reshape(height, width, channels, kernels)


def serialize(constraint: Constraint | None) -> dict[str, Any] | None:
    return _registry.serialize(constraint)


def deserialize(config: Any) -> Constraint:
    return _registry.deserialize(config)


def get(identifier: Any) -> Any:
    """tf.keras ``constraints.get``: ``None``, name, config dict, instance or callable."""
    return _registry.get(identifier)

"""Axis arguments of the normalization layers, with tf.keras's messages (``tf_utils.validate_axis``)."""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import torch

from ... import constraints, initializers, regularizers
from ..input_spec import InputSpec
from ..layer import WeightSpec


def axis_arg(axis: Any, message: str) -> int | list[int]:
    """An int or a list of ints (tuples become lists, as tf.keras keeps them); ``message`` if not."""
    if isinstance(axis, (list, tuple)) and all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
        return [int(a) for a in axis]
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return int(axis)
    raise ValueError(message)


def validate_axis(axis: int | Sequence[int], input_shape: Sequence[Any]) -> list[int]:
    """tf.keras ``validate_axis``: non-negative axes, in range, no duplicates (in the given order)."""
    rank = len(input_shape)
    if not rank:
        raise ValueError(f"Input has undefined rank. Received: input_shape={tuple(input_shape)}")
    axes = [axis] if isinstance(axis, int) else list(axis)
    axes = [a + rank if a < 0 else a for a in axes]
    if any(a < 0 or a >= rank for a in axes):
        raise ValueError(
            "Invalid value for `axis` argument. Expected 0 <= axis < inputs.rank "
            f"(with inputs.rank={rank}). Received: axis={tuple(axes)}"
        )
    if len(axes) != len(set(axes)):
        raise ValueError(f"Duplicate axis: {tuple(axes)}")
    return axes


class AffineArgs:
    """The ``center``/``scale`` weights shared by the normalization layers (Keras order: gamma, beta)."""

    def _init_affine(self, center: bool, scale: bool, beta_initializer: Any, gamma_initializer: Any,
                     beta_regularizer: Any, gamma_regularizer: Any, beta_constraint: Any, gamma_constraint: Any) -> None:
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _affine_specs(self, shape: tuple[int | None, ...]) -> list[WeightSpec]:
        specs = []
        if self.scale:
            specs.append(WeightSpec("gamma", shape, self.gamma_initializer, self.gamma_regularizer, self.gamma_constraint))
        if self.center:
            specs.append(WeightSpec("beta", shape, self.beta_initializer, self.beta_regularizer, self.beta_constraint))
        return specs

    def _affine_config(self) -> dict[str, Any]:
        return {
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }

    def _affine_weight(self, name: str) -> Any:
        return getattr(self, name) if (self.scale if name == "gamma" else self.center) else None


class CastsEveryInput:
    """tf.keras's ``inputs = tf.cast(inputs, self.compute_dtype)`` at the top of ``call`` (BatchNormalization,
    LayerNormalization, UnitNormalization): integer and boolean inputs are accepted and cast too."""

    @staticmethod
    def _spec(**kwargs: Any) -> InputSpec:
        return InputSpec(float_only=False, **kwargs)

    def _cast(self, x: torch.Tensor) -> torch.Tensor:
        if not x.is_floating_point() and not x.is_complex():
            return x.to(self.compute_dtype)
        return super()._cast(x)  # type: ignore[misc]

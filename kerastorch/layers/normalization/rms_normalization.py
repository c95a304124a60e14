"""``RMSNormalization`` (Keras 3 ``layers.RMSNormalization``; tf.keras has none).

``x * rsqrt(mean(x ** 2, axis) + epsilon) * scale`` (``keras.ops.rms_normalization``), ``epsilon`` 1e-6, a
``scale`` weight of shape ``[input_shape[a] for a in sorted(axis)]`` (ones). As in Keras, ``scale`` multiplies
the normalized input with plain (trailing-aligned) broadcasting, and ``axis`` is kept as a sorted list once
built. Computed as ``x * x`` (its backward copies nothing, unlike ``F.rms_norm``'s ``pow``).
"""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer, WeightSpec
from ._axes import axis_arg


@LAYERS.register()
class RMSNormalization(Layer):
    """Keras 3's ``RMSNormalization`` (see the module docstring)."""

    supports_masking = True

    def __init__(self, axis: int | list[int] = -1, epsilon: float = 1e-6, **kwargs: Any):
        super().__init__(**kwargs)
        try:
            self.axis = axis_arg(axis, f"Expected an int or a list/tuple of ints for the argument 'axis', but received: {axis!r}")
            if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or epsilon < 0:
                raise ValueError(f"`epsilon` must be a non-negative number. Received: epsilon={epsilon!r}")
        except ValueError as e:
            raise ValueError(f'RMSNormalization layer "{self.name}": {e}') from None
        self.epsilon = float(epsilon)
        self.input_spec = InputSpec(min_ndim=1)
        self._finish_init()

    def _axes(self, input_shape: Any) -> list[int]:
        rank = len(input_shape)
        axes = [self.axis] if isinstance(self.axis, int) else list(self.axis)
        for a in axes:
            if a >= rank or a < -rank:
                raise ValueError(
                    f'RMSNormalization layer "{self.name}": Axis {a} is out of bounds for input shape '
                    f"{tuple(input_shape)}. Received: axis={self.axis}"
                )
        return sorted(axes)

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        n = 1 if isinstance(self.axis, int) else len(self.axis)
        shape: tuple[int | None, ...] = (None,) * n
        if input_shape is not None:
            shape = tuple(input_shape[a] for a in self._axes(input_shape))
        return [WeightSpec("scale", shape, "ones")]

    def input_shape_from_weights(self, shapes: Any) -> tuple[int | None, ...]:
        shape = tuple(shapes["scale"])
        axes = [self.axis] if isinstance(self.axis, int) else sorted(self.axis)
        # the smallest rank the axes fit (a guess when some axis is non-negative; the call rechecks)
        rank = max(max(a + 1 if a >= 0 else -a for a in axes), 1)
        out: list[int | None] = [None] * rank
        for a, d in zip(sorted(a % rank for a in axes), shape):
            out[a] = d
        return tuple(out)

    def _on_build(self, input_shape: Any) -> None:
        self.axis = self._axes(input_shape)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        self._axes(input_shape)
        return tuple(input_shape)

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        rank = inputs.dim()
        axes = sorted(a % rank for a in self._axes(tuple(inputs.shape)))
        self._dims = tuple(axes)
        scale_shape = tuple(inputs.shape[a] for a in axes)
        try:
            torch.broadcast_shapes(tuple(inputs.shape), scale_shape)
        except RuntimeError:
            raise ValueError(
                f'RMSNormalization layer "{self.name}": the scale of shape {scale_shape} (axes {self.axis}) does '
                f"not broadcast against the input of shape {tuple(inputs.shape)} (Keras multiplies them as they are)"
            ) from None

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        rrms = torch.rsqrt((inputs * inputs).mean(self._dims, keepdim=True) + self.epsilon)
        return inputs * rrms * self.scale

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"axis={self.axis}", f"epsilon={self.epsilon}"] + self._repr_common())

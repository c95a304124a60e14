"""``UnitNormalization`` (tf.keras ``layers.UnitNormalization``): ``tf.linalg.l2_normalize`` over ``axis``.

``x * rsqrt(max(sum(x ** 2, axis), 1e-12))`` over one or several axes. Weight-free: the input's floating dtype
is kept unless ``dtype`` is given (tf.keras casts to float32).
"""
from __future__ import annotations

from typing import Any

import torch

from ..._registry import LAYERS
from ..layer import Layer
from ._axes import CastsEveryInput, axis_arg, validate_axis


@LAYERS.register()
class UnitNormalization(CastsEveryInput, Layer):
    """tf.keras ``UnitNormalization`` (see the module docstring)."""

    supports_masking = True  # tf.keras passes the input mask through

    def __init__(self, axis: int | list[int] = -1, **kwargs: Any):
        super().__init__(**kwargs)
        try:
            self.axis = axis_arg(
                axis, f"Invalid value for `axis` argument: expected an int or a list/tuple of ints. Received: axis={axis}"
            )
        except ValueError as e:
            raise ValueError(f'UnitNormalization layer "{self.name}": {e}') from None
        self.input_spec = self._spec()
        self._finish_init()

    def build(self, input_shape: Any) -> None:
        validate_axis(self.axis, tuple(input_shape))
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        self._axes = tuple(validate_axis(self.axis, tuple(inputs.shape)))

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs * torch.rsqrt(torch.clamp_min((inputs * inputs).sum(self._axes, keepdim=True), 1e-12))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"axis={self.axis}"] + self._repr_common())

"""``Softmax`` layer (tf.keras ``layers.Softmax``, ``axis=-1``)."""
from __future__ import annotations

from typing import Any

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer


@LAYERS.register()
class Softmax(Layer):
    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"`axis` of a Softmax layer must be an integer. Received: axis={axis!r}")
        self.axis = axis
        self.input_spec = InputSpec()
        self._finish_init()

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.softmax(inputs, dim=self.axis)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}"

"""``Flatten`` (tf.keras): every non-batch dim into one, in channels-last (NHWC) order.

A channels_last activation is an NHWC tensor, so flattening it is a plain ``reshape`` (a view of a
contiguous input) and a ``Dense`` after it takes a Keras kernel unchanged. For ``channels_first`` data
tf.keras moves the channels last before flattening; so does this layer (one copy, as in tf.keras).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer
from ..utils import conv_utils


@LAYERS.register()
class Flatten(Layer):
    """tf.keras ``Flatten(data_format=None)``: ``(batch, ...) -> (batch, prod(...))``; ``(batch,) -> (batch, 1)``."""

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        try:
            self.data_format = conv_utils.normalize_data_format(data_format)
        except ValueError as e:
            raise ValueError(f'Flatten layer "{self.name}": {e}') from None
        self._channels_first = self.data_format == "channels_first"
        self.input_spec = InputSpec(min_ndim=1, float_only=False)
        self._finish_init()

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() == 1:
            return inputs.unsqueeze(1)
        if self._channels_first and inputs.dim() > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.flatten(1) if inputs.dim() > 2 else inputs

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        shape = list(input_shape)
        if not shape:
            raise ValueError(f'Flatten layer "{self.name}": expected an input shape with a batch dim, got ().')
        rest = shape[1:]
        return (shape[0], None if any(d is None for d in rest) else math.prod(int(d) for d in rest))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"data_format={self.data_format!r}", *self._repr_common()])

"""``RepeatVector`` (tf.keras): ``(batch, features) -> (batch, n, features)``."""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer


@LAYERS.register()
class RepeatVector(Layer):
    """tf.keras ``RepeatVector(n)``. The output is a broadcast view of the input (``expand``, no copy); its
    gradient sums over the ``n`` copies. tf.keras raises a ``TypeError`` for a non-integer ``n``; kerastorch
    raises a ``ValueError`` with the same words and also refuses booleans and negative ``n`` (which tf.keras
    accepts at construction and fails on at the call)."""

    def __init__(self, n: int, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise ValueError(f'RepeatVector layer "{self.name}": Expected an integer value for `n`, got {type(n)}.')
        if n < 0:
            raise ValueError(f'RepeatVector layer "{self.name}": `n` must be a non-negative integer. Received: n={n}')
        self.n = int(n)
        self.input_spec = InputSpec(ndim=2, float_only=False)
        self._finish_init()

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        shape = tuple(input_shape)
        if len(shape) != 2:
            raise ValueError(f'RepeatVector layer "{self.name}": expected an input shape of rank 2, got {shape}.')
        return (shape[0], self.n, shape[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n": self.n}

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"n={self.n}", *self._repr_common()])

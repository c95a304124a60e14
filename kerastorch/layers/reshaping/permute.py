"""``Permute`` (tf.keras): reorder the non-batch dims by a 1-based pattern (a view, no copy)."""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer


@LAYERS.register()
class Permute(Layer):
    """tf.keras ``Permute(dims)``: ``dims`` is a permutation of ``1..rank-1`` (``(2, 1)`` swaps two dims)."""

    def __init__(self, dims: Sequence[int], **kwargs: Any):
        super().__init__(**kwargs)
        try:
            self.dims = tuple(dims)
            valid = sorted(self.dims) == list(range(1, len(self.dims) + 1))
        except TypeError:
            valid = False
        if not valid or any(isinstance(d, bool) for d in self.dims):
            raise ValueError(
                f'Permute layer "{self.name}": Invalid permutation argument `dims` for Permute Layer. The set of '
                f"indices in `dims` must be consecutive and start from 1. Received dims={dims}"
            )
        self.dims = tuple(int(d) for d in self.dims)
        self._perm = (0, *self.dims)
        self.input_spec = InputSpec(ndim=len(self.dims) + 1, float_only=False)
        self._finish_init()

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.permute(self._perm)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        shape = tuple(input_shape)
        if len(shape) != len(self._perm):
            raise ValueError(
                f'Permute layer "{self.name}": expected an input shape of rank {len(self._perm)}, got {shape}.'
            )
        return tuple(shape[d] for d in self._perm)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": self.dims}

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"dims={self.dims}", *self._repr_common()])

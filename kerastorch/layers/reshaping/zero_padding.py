"""Rank-generic ``ZeroPadding{1,2,3}D`` (tf.keras): zeros around the spatial dims, in the input's own layout."""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from .base_spatial import SpatialLayer, normalize_pairs

_DIMS = {
    2: "(symmetric_height_pad, symmetric_width_pad), or a tuple of 2 tuples of 2 ints ((top_pad, bottom_pad), (left_pad, right_pad))",
    3: "(symmetric_dim1_pad, symmetric_dim2_pad, symmetric_dim3_pad), or a tuple of 3 tuples of 2 ints "
       "((left_dim1_pad, right_dim1_pad), (left_dim2_pad, right_dim2_pad), (left_dim3_pad, right_dim2_pad))",
}


class ZeroPadding(SpatialLayer):
    def __init__(self, rank: int, padding: Any, data_format: str | None = None, **kwargs: Any):
        super().__init__(rank, data_format, **kwargs)
        try:
            self.padding = normalize_pairs(padding, rank, "padding", _DIMS.get(rank, ""))
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {e}') from None
        # F.pad lists the last dim first; padding the tensor in its own layout keeps it (no copy of layout).
        pad: list[int] = [0, 0] if not self._channels_first else []
        for before, after in reversed(self.padding):
            pad += [before, after]
        self._pad = tuple(pad)
        self._finish_init()

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return self._map_spatial(input_shape, lambda i, n: n + sum(self.padding[i]))

    def _call_first(self, x: torch.Tensor) -> torch.Tensor:
        """``call`` on the channels-first view of a channels_last input (a graph runner's layout)."""
        return F.pad(x, self._pad[2:])

    def _layout_call(self, rank: int) -> tuple[str, Any] | None:
        return None if self._channels_first or rank != self.rank + 2 else ("first", self._call_first)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.pad(inputs, self._pad)

    def get_config(self) -> dict[str, Any]:
        padding = self.padding[0] if self.rank == 1 else self.padding
        extra: dict[str, Any] = {"padding": padding}
        if self.rank > 1 or self._channels_first:  # tf.keras's 1-D config has no data_format
            extra["data_format"] = self.data_format
        return self._config_with(**extra)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, padding={self.padding}, data_format={self.data_format!r}"

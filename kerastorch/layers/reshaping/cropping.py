"""Rank-generic ``Cropping{1,2,3}D`` (tf.keras): a slicing view of the spatial dims, no copy."""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from .base_spatial import SpatialLayer, normalize_pairs

_DIMS = {
    2: "(symmetric_height_crop, symmetric_width_crop), or a tuple of 2 tuples of 2 ints "
       "((top_crop, bottom_crop), (left_crop, right_crop))",
    3: "(symmetric_dim1_crop, symmetric_dim2_crop, symmetric_dim3_crop), or a tuple of 3 tuples of 2 ints "
       "((left_dim1_crop, right_dim1_crop), (left_dim2_crop, right_dim2_crop), (left_dim3_crop, right_dim2_crop))",
}


class Cropping(SpatialLayer):
    def __init__(self, rank: int, cropping: Any, data_format: str | None = None, **kwargs: Any):
        super().__init__(rank, data_format, **kwargs)
        try:
            self.cropping = normalize_pairs(cropping, rank, "cropping", _DIMS.get(rank, ""))
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {e}') from None
        # F.pad with negative amounts: one explicit copy that keeps the input's layout (a slicing view would
        # make the next layer copy instead), and a pad as its backward. F.pad lists the last dim first.
        crop: list[int] = [0, 0] if not self._channels_first else []
        for before, after in reversed(self.cropping):
            crop += [-before, -after]
        self._crop = tuple(crop)
        self._finish_init()

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        def crop(i: int, n: int) -> int:
            out = n - sum(self.cropping[i])
            if out <= 0:  # tf.keras's words for 1-D and 2-D; its Cropping3D returns an empty slice instead
                what = "cropping parameter of Cropping layer" if self.rank == 1 else "Argument `cropping`"
                cropping = self.cropping[0] if self.rank == 1 else self.cropping
                raise ValueError(
                    f'{type(self).__name__} layer "{self.name}": {what} must be greater than the input shape. '
                    f"Received: inputs.shape={tuple(input_shape)}, and cropping={cropping}"
                )
            return out

        return self._map_spatial(input_shape, crop)

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        self.compute_output_shape(tuple(inputs.shape))

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.pad(inputs, self._crop)

    def get_config(self) -> dict[str, Any]:
        cropping = self.cropping[0] if self.rank == 1 else self.cropping
        extra = {"cropping": cropping} if self.rank == 1 else {"cropping": cropping, "data_format": self.data_format}
        return self._config_with(**extra)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, cropping={self.cropping}, data_format={self.data_format!r}"

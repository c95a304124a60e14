"""Rank-generic ``Cropping{1,2,3}D`` (tf.keras): a slicing view of the spatial dims, no copy."""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from ..input_spec import shape_str
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

    def _cropping_arg(self) -> Any:
        return self.cropping[0] if self.rank == 1 else self.cropping

    def _over_crop(self, shape: Sequence[int | None]) -> ValueError:
        """tf.keras's Cropping1D/2D call-time error (its Cropping3D returns an empty slice instead)."""
        what = "cropping parameter of Cropping layer" if self.rank == 1 else "Argument `cropping`"
        return ValueError(
            f'{type(self).__name__} layer "{self.name}": {what} must be greater than the input shape. '
            f"Received: inputs.shape={tuple(shape)}, and cropping={self._cropping_arg()}"
        )

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        def crop(i: int, n: int) -> int:
            out = n - sum(self.cropping[i])
            if out < 0:  # tf.keras: TensorShape refuses the negative size
                raise ValueError(
                    f'{type(self).__name__} layer "{self.name}": Dimension {out} must be >= 0 (cropping='
                    f"{self._cropping_arg()} removes more than a spatial size of {n}; input shape "
                    f"{shape_str(input_shape)})."
                )
            if out == 0:  # tf.keras returns the 0; its call refuses it (Cropping1D/2D)
                raise self._over_crop(input_shape)
            return out

        return self._map_spatial(input_shape, crop)

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        spatial = [inputs.shape[a] for a in self._spatial_axes()]
        if any(n <= sum(c) for n, c in zip(spatial, self.cropping)):
            raise self._over_crop(tuple(inputs.shape))

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.pad(inputs, self._crop)

    def get_config(self) -> dict[str, Any]:
        cropping = self._cropping_arg()
        extra = {"cropping": cropping} if self.rank == 1 else {"cropping": cropping, "data_format": self.data_format}
        return self._config_with(**extra)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, cropping={self.cropping}, data_format={self.data_format!r}"

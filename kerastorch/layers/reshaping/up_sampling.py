"""Rank-generic ``UpSampling{1,2,3}D`` (tf.keras): integer-factor resizing of the spatial dims.

'nearest' (and 'area', identical for integer upscaling) repeats each element, as TF's half-pixel
nearest resize does. The other interpolations of ``UpSampling2D`` reproduce ``tf.image.resize``
(``antialias=False``, half-pixel centres): 'bilinear' is torch's ``align_corners=False`` bilinear;
'bicubic' (Keys, a = -0.5), 'lanczos3', 'lanczos5', 'gaussian' and 'mitchellcubic' apply TF's
``scale_and_translate`` sampling kernels (taps outside the image dropped, weights renormalized) as one
resampling matrix per spatial dim.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..utils import conv_utils
from .base_spatial import SpatialLayer


def _keys_cubic(x: float) -> float:
    a = -0.5
    if x < 1:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    if x < 2:
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return 0.0


def _lanczos(radius: int) -> Callable[[float], float]:
    def kernel(x: float) -> float:
        if x > radius:
            return 0.0
        if x <= 1e-3:
            return 1.0
        return radius * math.sin(math.pi * x) * math.sin(math.pi * x / radius) / (math.pi * math.pi * x * x)

    return kernel


def _gaussian(x: float) -> float:
    sigma = 1.5 / 3.0
    return math.exp(-x * x / (2 * sigma * sigma)) if x < 1.5 else 0.0


def _mitchell_cubic(x: float) -> float:
    if x >= 2:
        return 0.0
    if x >= 1:
        return (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
    return (((7.0 / 6.0) * x - 2.0) * x) * x + 8.0 / 9.0


# name -> (kernel, radius): TF's sampling kernels (tensorflow/core/kernels/image/sampling_kernels.h).
_KERNELS: dict[str, tuple[Callable[[float], float], float]] = {
    "bicubic": (_keys_cubic, 2.0),
    "lanczos3": (_lanczos(3), 3.0),
    "lanczos5": (_lanczos(5), 5.0),
    "gaussian": (_gaussian, 1.5),
    "mitchellcubic": (_mitchell_cubic, 2.0),
}
INTERPOLATIONS = ("area", "bicubic", "bilinear", "gaussian", "lanczos3", "lanczos5", "mitchellcubic", "nearest")


def resampling_matrix(length: int, factor: int, method: str) -> np.ndarray:
    """TF's ``scale_and_translate`` (no antialias) for one dim, as an ``(out, in)`` matrix."""
    kernel, radius = _KERNELS[method]
    out_len = length * factor
    matrix = np.zeros((out_len, length))
    for x in range(out_len):
        sample = (x + 0.5) / factor
        start = min(max(math.ceil(sample - radius - 0.5), 0), length - 1)
        end = min(max(math.floor(sample + radius - 0.5), 0), length - 1) + 1
        weights = np.array([kernel(abs(j + 0.5 - sample)) for j in range(start, end)])
        total = weights.sum()
        matrix[x, start:end] = weights / total if abs(total) >= 1000 * np.finfo(np.float32).tiny else weights
    return matrix


class UpSampling(SpatialLayer):
    def __init__(self, rank: int, size: Any, data_format: str | None = None, interpolation: str = "nearest", **kwargs: Any):
        super().__init__(rank, data_format, **kwargs)
        try:
            self.size = conv_utils.normalize_tuple(size, rank, "size")
            if interpolation not in INTERPOLATIONS or (rank != 2 and interpolation != "nearest"):
                allowed = INTERPOLATIONS if rank == 2 else ("nearest",)
                raise ValueError(
                    "`interpolation` argument should be one of: " + ", ".join(f'"{i}"' for i in allowed)
                    + f'. Received: "{interpolation}".'
                )
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {e}') from None
        self.interpolation = interpolation
        self._matrices: tuple[tuple[int, ...], list[torch.Tensor]] | None = None
        self._finish_init()

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return self._map_spatial(input_shape, lambda i, n: n * self.size[i])

    def _repeat(self, x: torch.Tensor) -> torch.Tensor:
        """Each element repeated ``size`` times along its dim: one expand + reshape (one copy)."""
        factors = dict(zip(self._spatial_axes(), self.size))
        expanded: list[int] = []
        out = list(x.shape)
        view = x
        for axis, n in enumerate(x.shape):
            expanded.append(n)
            if axis in factors:
                view = view.unsqueeze(len(expanded))
                expanded.append(factors[axis])
                out[axis] = n * factors[axis]
        return view.expand(expanded).reshape(out)

    def _resample(self, x: torch.Tensor) -> torch.Tensor:
        spatial = tuple(x.shape[a] for a in self._spatial_axes())
        if self._matrices is not None and self._matrices[0] == spatial and not torch.compiler.is_compiling():
            matrices = self._matrices[1]
        else:
            matrices = [
                torch.as_tensor(resampling_matrix(n, f, self.interpolation), dtype=x.dtype, device=x.device)
                for n, f in zip(spatial, self.size)
            ]
            if not torch.compiler.is_compiling():
                self._matrices = (spatial, matrices)
        for axis, matrix in zip(self._spatial_axes(), matrices):
            x = torch.movedim(torch.tensordot(x, matrix.to(x.dtype), dims=([axis], [1])), -1, axis)
        return x.contiguous()  # the input's own layout (channels_last data stays NHWC-contiguous)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.interpolation in ("nearest", "area"):
            return self._repeat(inputs)
        if self.interpolation == "bilinear":
            x = inputs if self._channels_first else inputs.permute(0, 3, 1, 2)
            y = F.interpolate(x, scale_factor=self.size, mode="bilinear", align_corners=False)
            return y if self._channels_first else y.permute(0, 2, 3, 1)
        return self._resample(inputs)

    def get_config(self) -> dict[str, Any]:
        if self.rank == 1:
            return self._config_with(size=self.size[0])
        extra: dict[str, Any] = {"size": self.size, "data_format": self.data_format}
        if self.rank == 2:
            extra["interpolation"] = self.interpolation
        return self._config_with(**extra)

    def extra_repr(self) -> str:
        interp = f", interpolation={self.interpolation!r}" if self.rank == 2 else ""
        return f"name={self.name!r}, size={self.size}, data_format={self.data_format!r}{interp}"

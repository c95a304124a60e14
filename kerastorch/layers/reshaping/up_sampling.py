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

import torch
import torch.nn.functional as F

from ..utils import conv_utils
from .base_spatial import SpatialLayer


def _keys_cubic(x: torch.Tensor) -> torch.Tensor:
    a = -0.5
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return torch.where(x < 1, near, torch.where(x < 2, far, torch.zeros_like(x)))


def _lanczos(radius: int) -> Callable[[torch.Tensor], torch.Tensor]:
    def kernel(x: torch.Tensor) -> torch.Tensor:
        safe = torch.where(x > 1e-3, x, torch.ones_like(x))
        value = radius * torch.sin(math.pi * safe) * torch.sin(math.pi * safe / radius) / (math.pi * math.pi * safe * safe)
        return torch.where(x > radius, torch.zeros_like(x), torch.where(x <= 1e-3, torch.ones_like(x), value))

    return kernel


def _gaussian(x: torch.Tensor) -> torch.Tensor:
    sigma = 1.5 / 3.0
    return torch.where(x < 1.5, torch.exp(-x * x / (2 * sigma * sigma)), torch.zeros_like(x))


def _mitchell_cubic(x: torch.Tensor) -> torch.Tensor:
    far = (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
    near = (((7.0 / 6.0) * x - 2.0) * x) * x + 8.0 / 9.0
    return torch.where(x >= 2, torch.zeros_like(x), torch.where(x >= 1, far, near))


# name -> TF's sampling kernel (tensorflow/core/kernels/image/sampling_kernels.h); each is 0 beyond its radius.
_KERNELS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "bicubic": _keys_cubic,
    "lanczos3": _lanczos(3),
    "lanczos5": _lanczos(5),
    "gaussian": _gaussian,
    "mitchellcubic": _mitchell_cubic,
}
INTERPOLATIONS = ("area", "bicubic", "bilinear", "gaussian", "lanczos3", "lanczos5", "mitchellcubic", "nearest")
_TINY = 1000 * torch.finfo(torch.float32).tiny


def resampling_matrix(length: int, factor: int, method: str, device: Any = None) -> torch.Tensor:
    """TF's ``scale_and_translate`` (no antialias) for one dim, as an ``(out, in)`` float64 matrix.

    Output ``x`` samples at ``(x + 0.5) / factor``; taps outside the input are dropped and the rest
    renormalized to sum 1. Pure torch, so ``torch.compile`` traces it.
    """
    sample = (torch.arange(length * factor, dtype=torch.float64, device=device) + 0.5) / factor
    taps = torch.arange(length, dtype=torch.float64, device=device) + 0.5
    weights = _KERNELS[method]((taps[None, :] - sample[:, None]).abs())
    total = weights.sum(dim=1, keepdim=True)
    return torch.where(total.abs() >= _TINY, weights / total, weights)


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
        self._matrices: tuple[Any, list[torch.Tensor]] | None = None
        self._finish_init()

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return self._map_spatial(input_shape, lambda i, n: n * self.size[i])

    def _resample(self, x: torch.Tensor) -> torch.Tensor:
        """The TF sampling kernels as one resampling matrix per spatial dim (cached per input size)."""
        key = (tuple(x.shape[a] for a in self._spatial_axes()), x.dtype, x.device)
        if not torch.compiler.is_compiling() and self._matrices is not None and self._matrices[0] == key:
            matrices = self._matrices[1]
        else:
            matrices = [resampling_matrix(n, f, self.interpolation, x.device).to(x.dtype) for n, f in zip(key[0], self.size)]
            if not torch.compiler.is_compiling():
                self._matrices = (key, matrices)
        for axis, matrix in zip(self._spatial_axes(), matrices):
            x = torch.movedim(torch.tensordot(x, matrix, dims=([axis], [1])), -1, axis)
        return x.contiguous()  # the input's own layout (channels_last data stays channels_last-contiguous)

    def _repeat(self, x: torch.Tensor) -> torch.Tensor:
        """Nearest for any dtype (torch's upsampling kernels take floats only): expand + reshape."""
        factors = dict(zip(self._spatial_axes(), self.size))
        view, expanded, out = x, [], list(x.shape)
        for axis, n in enumerate(x.shape):
            expanded.append(n)
            if axis in factors:
                view = view.unsqueeze(len(expanded))
                expanded.append(factors[axis])
                out[axis] = n * factors[axis]
        return view.expand(expanded).reshape(out)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if not (inputs.dtype.is_floating_point or inputs.dtype.is_complex):
            if self.interpolation in ("nearest", "area"):
                return self._repeat(inputs)  # tf.image.resize keeps the dtype for nearest
            inputs = inputs.float()  # and returns float32 for the interpolating methods
        if self.interpolation not in ("nearest", "area", "bilinear"):
            return self._resample(inputs)
        # torch's upsampling kernels on the channels-first view keep channels_last memory; a 1-D layer runs
        # as a 2-D one over (N, C, 1, L), since torch's 1-D kernel would return a channels-first copy.
        lifted = self.rank == 1
        x = inputs.unsqueeze(1) if lifted else inputs
        size = (1, *self.size) if lifted else self.size
        if not self._channels_first:
            x = x.movedim(-1, 1)
        # 'area' equals 'nearest' for integer upscaling; TF's half-pixel nearest picks floor(x / size), as torch's.
        mode = "bilinear" if self.interpolation == "bilinear" else "nearest"
        y = F.interpolate(x, scale_factor=size, mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))
        if not self._channels_first:
            y = y.movedim(1, -1)
        return y.squeeze(1) if lifted else y

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

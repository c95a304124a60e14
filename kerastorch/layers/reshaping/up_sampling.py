"""Rank-generic ``UpSampling{1,2,3}D`` (tf.keras): integer-factor resizing of the spatial dims.

'nearest' repeats each element, as TF's half-pixel nearest resize does (any dtype, kept). The other
interpolations of ``UpSampling2D`` reproduce ``tf.image.resize`` (``antialias=False``, half-pixel centres),
which returns float32 whatever the input dtype: 'area' (TF's ``ResizeArea``) equals the repeat for integer
factors; 'bilinear' is torch's ``align_corners=False`` bilinear; 'bicubic' is TF's ``ResizeBicubic`` (Keys
cubic a = -0.5 read from a 1024-entry table, so the sample position is rounded to 1/1024; taps outside the
image dropped, weights renormalized); 'lanczos3', 'lanczos5', 'gaussian' and 'mitchellcubic' apply TF's
``scale_and_translate`` sampling kernels; these five run as one resampling matrix per spatial dim.
TF registers no gradient for 'area' (nor for float64 scale-and-translate); kerastorch differentiates them.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from ..utils import conv_utils
from ..utils.tf_resize import resize_matrix
from .base_spatial import SpatialLayer


INTERPOLATIONS = ("area", "bicubic", "bilinear", "gaussian", "lanczos3", "lanczos5", "mitchellcubic", "nearest")


def resampling_matrix(length: int, factor: int, method: str, device: Any = None) -> torch.Tensor:
    """TF's resize of one dim by ``factor`` with ``method`` (not nearest/area/bilinear): an ``(out, in)`` float64
    matrix (``utils.tf_resize``, shared with ``Resizing``)."""
    return resize_matrix(length, length * factor, method, False, device)


def _size_1d(value: Any) -> int:
    """UpSampling1D's size: tf.keras runs ``int(size)`` (whose errors are kept); kerastorch then also
    refuses what is not a positive integer (``0``, ``-1``, ``2.9``, ``"3"``, ``True``), which tf.keras
    accepts as ``int(size)``."""
    try:
        as_int = int(value)
    except (TypeError, ValueError) as e:
        raise ValueError(str(e)) from None
    if isinstance(value, (bool, str)) or as_int != value or as_int <= 0:
        raise ValueError(f"The `size` argument must be a positive integer. Received: size={value!r}")
    return as_int


class UpSampling(SpatialLayer):
    def __init__(self, rank: int, size: Any, data_format: str | None = None, interpolation: str = "nearest", **kwargs: Any):
        super().__init__(rank, data_format, **kwargs)
        try:
            self.size = (_size_1d(size),) if rank == 1 else conv_utils.normalize_tuple(size, rank, "size")
            if isinstance(interpolation, str):
                interpolation = interpolation.lower()  # as tf.keras
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
        if self.interpolation != "nearest" and not inputs.dtype.is_floating_point:
            inputs = inputs.float()  # tf.image.resize returns float32 for integer inputs; floats keep their dtype
        if not inputs.dtype.is_floating_point:
            return self._repeat(inputs)  # torch's upsampling kernels take floats only
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

"""``Equalization`` (Keras 3): histogram equalization of each channel, in training.

As Keras computes it: the values are mapped from ``value_range`` to ``[0, 255]``; one histogram of ``bins`` bins
per channel over the whole batch (``int((v * (bins - 1)) / 255)``); a channel with at most one occupied bin is
left as it is; otherwise the lookup table is ``round((cdf - cdf_min) * 255 / (cdf[-1] - cdf_min))`` (``cdf_min``
the first non-zero cdf value; half to even, in float32), read at ``int(v / 255 * (bins - 1))``; then back to
``value_range``. All channels' histograms are one ``scatter_add`` (channel offsets), no per-channel loop."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations, channel_axis


def _scale(values: torch.Tensor, source: Any, target: Any) -> torch.Tensor:
    """Keras's ``_scale_values``: the linear map of ``source`` onto ``target`` (scale and offset as Python floats)."""
    scale = (target[1] - target[0]) / (source[1] - source[0])
    offset = target[0] - source[0] * scale
    if scale == 1.0 and offset == 0.0:  # values * 1.0 + 0.0: the values themselves
        return values
    return values * scale + offset


@LAYERS.register()
class Equalization(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras 3's ``Equalization(value_range=(0, 255), bins=256, data_format=None)``."""

    _USE_BASE_FACTOR = False
    _KERAS3_ONLY = True

    def __init__(self, value_range: Any = (0, 255), bins: int = 256, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        if not isinstance(bins, numbers.Integral) or isinstance(bins, bool) or bins < 2:
            raise self._error(f"`bins` must be an integer >= 2. Received: bins={bins}")
        self.bins = int(bins)
        self._set_value_range(value_range)
        self._finish_init()

    def _transform_images(self, images: torch.Tensor, transformation: Any, interpolation: str) -> torch.Tensor:
        bins = self.bins
        axis = channel_axis(self.data_format)
        channels = images.shape[axis]
        # each channel's histogram over the whole batch (Keras histograms images[..., i] of the batch), all channels
        # in one scatter_add: bin index + channel * bins, in the images' own layout
        shape = [1, 1, 1, 1]
        shape[axis] = channels
        offsets = (torch.arange(channels, device=images.device) * bins).reshape(shape)
        scaled = _scale(images, self.value_range, (0, 255))
        hist_index = (scaled.float() * (bins - 1) / 255.0).to(torch.int32).clamp(0, bins - 1) + offsets
        flat = hist_index.reshape(-1)
        hist = torch.zeros(channels * bins, dtype=torch.int64, device=images.device)
        hist = hist.scatter_add(0, flat, torch.ones_like(flat)).reshape(channels, bins)
        occupied = (hist > 0).sum(1)
        cdf = hist.cumsum(1)
        cdf_min = torch.where(cdf > 0, cdf, cdf[:, -1:]).amin(1, keepdim=True)
        denominator = cdf[:, -1:] - cdf_min
        denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
        table = torch.round(((cdf - cdf_min) * 255).float() / denominator.float()).clamp(0, 255)
        lookup_index = ((scaled / 255.0) * (bins - 1)).clamp(0, bins - 1).to(torch.int32) + offsets
        equalized = table.reshape(-1)[lookup_index].to(images.dtype)
        equalized = torch.where((occupied <= 1).reshape(shape), scaled, equalized)
        return _scale(equalized, (0, 255), self.value_range)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "bins": self.bins, "value_range": self.value_range}

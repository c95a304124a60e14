"""``ContrastLimitedAdaptiveHistogramEqualization`` (Keras 3): CLAHE on a ``tile_grid_size`` grid of tiles, as
Keras computes it (it applies in inference too: the layer is deterministic).

Values are mapped from ``value_range`` to ``[0, 255]``; the image is padded at the bottom/right to whole tiles
(numpy's ``symmetric`` mode); each tile-channel gets a 256-bin histogram of the truncated values, clipped at
``clip_limit * tile_pixels / 256`` with the excess spread evenly (``clip_limit > 0``), and a cdf mapping
``(cdf - cdf_min) * 255 / (tile_pixels - cdf_min)``; each pixel reads the mappings of its four nearest tile
centres (edge tiles replicated) and interpolates them bilinearly. All tiles' histograms are one ``scatter_add``;
the lookups are batched gathers."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from ...._registry import LAYERS
from .base import BaseImagePreprocessingLayer
from .color_ops import PassThroughAnnotations

BINS = 256


def _symmetric_index(size: int, padded: int, device: torch.device) -> torch.Tensor:
    """Indices of numpy's ``pad(mode='symmetric')`` at the end of an axis (edge repeated, any pad length)."""
    i = torch.arange(padded, device=device) % (2 * size)
    return torch.where(i >= size, 2 * size - 1 - i, i)


def _interp_grid(length: int, tile: int, grid: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keras's tile-centre coordinates along one axis: the two neighbouring (edge-padded) tile indices and the weight
    of the second."""
    pos = (torch.arange(length, device=device, dtype=torch.float32) - tile / 2.0) / tile + 1.0
    lower = torch.floor(pos)
    weight = pos - lower
    return lower.clamp(0, grid + 1).long(), (lower + 1.0).clamp(0, grid + 1).long(), weight


@LAYERS.register()
class ContrastLimitedAdaptiveHistogramEqualization(PassThroughAnnotations, BaseImagePreprocessingLayer):
    """Keras 3's ``ContrastLimitedAdaptiveHistogramEqualization(value_range=(0, 255), clip_limit=4.0,
    tile_grid_size=(8, 8), data_format=None)``."""

    _USE_BASE_FACTOR = False
    _KERAS3_ONLY = True

    def __init__(self, value_range: Any = (0, 255), clip_limit: float = 4.0, tile_grid_size: Any = (8, 8),
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self._set_value_range(value_range)
        if not isinstance(clip_limit, numbers.Real) or isinstance(clip_limit, bool):
            raise self._error(f"`clip_limit` must be a number. Received: clip_limit={clip_limit!r}")
        self.clip_limit = clip_limit
        if (not isinstance(tile_grid_size, (tuple, list)) or len(tile_grid_size) != 2
                or not all(isinstance(g, numbers.Integral) and not isinstance(g, bool) and g > 0 for g in tile_grid_size)):
            raise self._error(f"`tile_grid_size` must be two positive integers. Received: tile_grid_size={tile_grid_size!r}")
        self.tile_grid_size = tuple(int(g) for g in tile_grid_size)
        self._finish_init()

    def transform_images(self, images: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        dtype = images.dtype
        nchw = images.permute(0, 3, 1, 2) if self.data_format == "channels_last" else images
        out = self._clahe(self._transform_value_range(nchw.float(), self.value_range, (0, 255)))
        out = self._transform_value_range(out, (0, 255), self.value_range).to(dtype)
        return out.permute(0, 2, 3, 1) if self.data_format == "channels_last" else out

    def _clahe(self, images: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = images.shape
        device = images.device
        grid_h, grid_w = self.tile_grid_size
        tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
        padded_h, padded_w = tile_h * grid_h, tile_w * grid_w
        if padded_h != height or padded_w != width:
            images = images.index_select(2, _symmetric_index(height, padded_h, device))
            images = images.index_select(3, _symmetric_index(width, padded_w, device))
        # histograms: (B, C, grid_h, grid_w, 256), one scatter_add over every tile of every channel
        # Keras truncates to int32 then clips (histograms), clips then truncates (lookups): the same integers
        pix = images.clamp(0, BINS - 1).long()
        tiles = pix.reshape(batch, channels, grid_h, tile_h, grid_w, tile_w).transpose(3, 4)
        tile_id = torch.arange(batch * channels * grid_h * grid_w, device=device).reshape(batch, channels, grid_h, grid_w, 1, 1)
        flat = (tile_id * BINS + tiles).reshape(-1)
        hist = torch.zeros(batch * channels * grid_h * grid_w * BINS, dtype=torch.float32, device=device)
        hist = hist.scatter_add(0, flat, torch.ones_like(flat, dtype=torch.float32))
        hist = hist.reshape(batch, channels, grid_h, grid_w, BINS)
        pixels = tile_h * tile_w
        if self.clip_limit > 0:
            limit = float(np.float32(self.clip_limit * pixels / 256.0))
            clipped = hist.clamp(0, limit)
            hist = clipped + (hist - clipped).sum(-1, keepdim=True) / 256.0
        cdf = hist.cumsum(-1)
        cdf_min = cdf.amin(-1, keepdim=True)
        denominator = float(pixels) - cdf_min
        denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
        cdf = ((cdf - cdf_min) * 255.0 / denominator).clamp(0, 255)
        # edge tiles replicated: (B, C, grid_h + 2, grid_w + 2, 256)
        cdf = torch.cat([cdf[:, :, :1], cdf, cdf[:, :, -1:]], dim=2)
        cdf = torch.cat([cdf[:, :, :, :1], cdf, cdf[:, :, :, -1:]], dim=3)
        y0, y1, wy = _interp_grid(padded_h, tile_h, grid_h, device)
        x0, x1, wx = _interp_grid(padded_w, tile_w, grid_w, device)
        # flat index of (b, c, y, x, pixel) in the padded cdf table
        stride_x = BINS
        stride_y = stride_x * (grid_w + 2)
        stride_c = stride_y * (grid_h + 2)
        base = (torch.arange(batch * channels, device=device) * stride_c).reshape(batch, channels, 1, 1) + pix
        table = cdf.reshape(-1)
        ry0, ry1 = (y0 * stride_y).view(-1, 1), (y1 * stride_y).view(-1, 1)
        rx0, rx1 = x0 * stride_x, x1 * stride_x
        wy, wx = wy.view(-1, 1), wx.view(1, -1)
        # the four corner offsets are (H, W) tables: one full-size add per corner
        top = table[base + (ry0 + rx0)] * (1.0 - wx) + table[base + (ry0 + rx1)] * wx
        bottom = table[base + (ry1 + rx0)] * (1.0 - wx) + table[base + (ry1 + rx1)] * wx
        result = top * (1.0 - wy) + bottom * wy
        return result[:, :, :height, :width]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "value_range": self.value_range, "clip_limit": self.clip_limit,
                "tile_grid_size": list(self.tile_grid_size), "data_format": self.data_format}

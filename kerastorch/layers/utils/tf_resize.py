"""TensorFlow's resize kernels as resampling matrices (``tf.image.resize``: ResizeBicubic, ResizeArea and
``scale_and_translate``'s sampling kernels, tensorflow/core/kernels/image/), shared by ``UpSampling2D`` (reshaping)
and ``Resizing`` (image preprocessing). Pure torch, so ``torch.compile`` traces them.

``resize_matrix(in_len, out_len, method, antialias)`` is one dim's ``(out, in)`` float64 matrix: half-pixel
centres; ``bicubic`` (no antialias) is ``ResizeBicubic`` (Keys a = -0.5 read from a 1024-entry table, so the sample
position is rounded to 1/1024; taps outside dropped, the rest renormalized); ``area`` is ``ResizeArea`` (exact box
overlaps); the others (and every antialiased method) are ``scale_and_translate``: output ``x`` samples at
``(x + 0.5) * in / out``, the kernel widened by ``in / out`` when downsampling with antialias, taps outside the input
dropped and the rest renormalized.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch

__all__ = ["resize_matrix"]


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


def _triangle(x: torch.Tensor) -> torch.Tensor:
    return (1.0 - x).clamp(min=0.0)


# scale_and_translate's sampling kernels (sampling_kernels.h), by tf.image.resize method, and their radii
_KERNELS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], float]] = {
    "bilinear": (_triangle, 1.0),
    "bicubic": (_keys_cubic, 2.0),
    "lanczos3": (_lanczos(3), 3.0),
    "lanczos5": (_lanczos(5), 5.0),
    "gaussian": (_gaussian, 1.5),
    "mitchellcubic": (_mitchell_cubic, 2.0),
}
_TINY = 1000 * torch.finfo(torch.float32).tiny


def _normalize(weights: torch.Tensor) -> torch.Tensor:
    total = weights.sum(dim=1, keepdim=True)
    return torch.where(total.abs() >= _TINY, weights / total, weights)


def _scale_and_translate_matrix(in_len: int, out_len: int, method: str, antialias: bool, device: Any) -> torch.Tensor:
    kernel, radius = _KERNELS[method]
    scale = out_len / in_len
    kernel_scale = max(1.0 / scale, 1.0) if antialias else 1.0
    sample = (torch.arange(out_len, dtype=torch.float64, device=device) + 0.5) / scale
    taps = torch.arange(in_len, dtype=torch.float64, device=device) + 0.5
    distance = (taps[None, :] - sample[:, None]).abs() / kernel_scale
    # the span: taps within radius * kernel_scale of the sample (ceil(s - r - 0.5) .. floor(s + r - 0.5))
    within = distance <= radius
    return _normalize(torch.where(within, kernel(distance), torch.zeros_like(distance)))


def _bicubic_matrix(in_len: int, out_len: int, device: Any) -> torch.Tensor:
    """``ResizeBicubic(half_pixel_centers=True)``: position in float32, fraction rounded to 1/1024 (TF's table)."""
    scale = torch.tensor(float(in_len), dtype=torch.float32) / float(out_len)
    position = (torch.arange(out_len, dtype=torch.float32, device=device) + 0.5) * scale.to(device) - 0.5
    floor = torch.floor(position)
    t = torch.round((position - floor) * 1024).double() / 1024
    distance = torch.stack([1 + t, t, 1 - t, 2 - t], dim=1)
    index = floor.long()[:, None] + torch.arange(-1, 3, device=device)
    inside = (index >= 0) & (index < in_len)
    weights = _normalize(_keys_cubic(distance).float().double() * inside)
    matrix = torch.zeros(out_len, in_len, dtype=torch.float64, device=device)
    return matrix.scatter_add_(1, index.clamp(0, in_len - 1), weights)


def _area_matrix(in_len: int, out_len: int, device: Any) -> torch.Tensor:
    """``ResizeArea``: output ``y`` averages ``[y s, (y + 1) s)`` (``s = in / out``) by exact overlaps."""
    s = in_len / out_len
    start = torch.arange(out_len, dtype=torch.float64, device=device)[:, None] * s
    lo = torch.arange(in_len, dtype=torch.float64, device=device)[None, :]
    overlap = (torch.minimum(lo + 1, start + s) - torch.maximum(lo, start)).clamp(min=0.0)
    return overlap / s


def resize_matrix(in_len: int, out_len: int, method: str, antialias: bool = False, device: Any = None) -> torch.Tensor:
    """``tf.image.resize`` of one dim from ``in_len`` to ``out_len`` as an ``(out, in)`` float64 matrix."""
    if method == "area":
        return _area_matrix(in_len, out_len, device)
    if method == "bicubic" and not antialias:
        return _bicubic_matrix(in_len, out_len, device)
    return _scale_and_translate_matrix(in_len, out_len, method, antialias, device)

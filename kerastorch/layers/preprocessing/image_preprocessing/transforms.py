"""Pure tensor helpers of the image layers: TensorFlow's ``ImageProjectiveTransformV3`` (the affine/projective
sampler behind tf.keras's and Keras 3's geometric layers) and ``tf.image.resize`` (every method, antialias), on
batched tensors in their own layout (NHWC or NCHW), in batched torch ops (gathers for the sampler, one matmul per
spatial dim for resizing).

Conventions reproduced from TensorFlow (tensorflow/core/kernels/image/image_ops.h, scale_and_translate_op.cc,
resize_*_op.cc):

- projective transform: output pixel ``(x, y)`` (integer pixel indices, no half-pixel shift) samples the input
  at ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``, ``k = c0 x + c1 y + 1``; the fill modes map that
  coordinate into the image first (``reflect`` ``dcba|abcd|dcba``, ``wrap``, ``nearest`` clamps; TF's exact
  integer arithmetic kept), ``constant`` reads ``fill_value`` for every tap outside; ``nearest`` rounds half
  away from zero (``std::round``);
- resize: half-pixel centres. ``bilinear`` (torch's ``align_corners=False``) and ``nearest`` (``floor((x + 0.5)
  * in / out)``) without antialias; ``bicubic`` is ``ResizeBicubic`` (Keys a = -0.5 from a 1024-entry table,
  taps outside dropped and renormalized); ``area`` is ``ResizeArea`` (exact box overlaps); ``lanczos3``,
  ``lanczos5``, ``gaussian``, ``mitchellcubic`` and every antialiased method are ``scale_and_translate``
  (kernel widened by ``in / out`` when downsampling with antialias).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from ...utils.tf_resize import resize_matrix

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
AFFINE_INTERPOLATIONS = ("nearest", "bilinear")
#: tf.image.resize's methods (tf.keras's Resizing takes all of them; Keras 3's TF backend the first six)
RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")


# ----------------------------------------------------------------------------------------------------------------
# ImageProjectiveTransformV3
# ----------------------------------------------------------------------------------------------------------------
def _map_coordinate(coord: torch.Tensor, length: int, fill_mode: str) -> torch.Tensor:
    """TF's ``MapCoordinate<mode>`` on float32 coordinates (C++ integer truncation kept)."""
    if fill_mode == "constant":
        return coord
    if length <= 1:
        return torch.zeros_like(coord)
    last = float(length - 1)
    if fill_mode == "reflect":  # dcba|abcd|dcba: TF's integer-truncation formula equals a floor-mod by 2 * length
        size2 = 2.0 * length
        folded = torch.remainder(coord, size2)
        coord = torch.where(folded < length, folded, (size2 - 1) - folded)
    elif fill_mode == "wrap":
        neg = coord + length * (torch.trunc(-coord / last) + 1)
        pos = coord - length * torch.trunc(coord / last)
        coord = torch.where(coord < 0, neg, torch.where(coord > last, pos, coord))
    return coord.clamp(0.0, last)


_TORCH_PADDING = {"reflect": "reflection", "nearest": "border", "constant": "zeros"}


def _affine_grid(transforms: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """grid_sample's ``align_corners=False`` grid ``(batch, height, width, 2)`` of an affine transform: the
    normalization folded into the coefficients, so each coordinate is one broadcast add over the image."""
    device = transforms.device
    x = torch.arange(width, device=device, dtype=torch.float32).view(1, 1, width)
    y = torch.arange(height, device=device, dtype=torch.float32).view(1, height, 1)
    col = lambda i: transforms[:, i].view(-1, 1, 1)  # noqa: E731
    gx = (col(0) * (2.0 / width)) * x + (col(2) * (2.0 / width) + (1.0 / width - 1.0)) + (col(1) * (2.0 / width)) * y
    gy = (col(3) * (2.0 / height)) * x + (col(5) * (2.0 / height) + (1.0 / height - 1.0)) + (col(4) * (2.0 / height)) * y
    return torch.stack([gx, gy], dim=-1)


def _pixel_coordinates(transforms: torch.Tensor, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Input pixel coordinates ``(x, y)``, each ``(batch, height, width)``, of every output pixel (projective)."""
    device = transforms.device
    y = torch.arange(height, device=device, dtype=torch.float32).view(1, height, 1)
    x = torch.arange(width, device=device, dtype=torch.float32).view(1, 1, width)
    col = lambda i: transforms[:, i].view(-1, 1, 1)  # noqa: E731
    projection = col(6) * x + col(7) * y + 1.0
    # a zero projection (a point at infinity) reads fill_value: sent far outside the image
    safe = torch.where(projection == 0, torch.ones_like(projection), projection)
    far = torch.where(projection == 0, torch.full_like(projection, -1e9), torch.zeros_like(projection))
    return (col(0) * x + col(1) * y + col(2)) / safe + far, (col(3) * x + col(4) * y + col(5)) / safe + far


def projective_transform(
    images: torch.Tensor,
    transforms: torch.Tensor,
    interpolation: str = "bilinear",
    fill_mode: str = "reflect",
    fill_value: float = 0.0,
    channels_last: bool = False,
    affine: bool = False,
) -> torch.Tensor:
    """TF's ``ImageProjectiveTransformV3`` on batched floating ``images`` (NHWC when ``channels_last``, else NCHW)
    with ``transforms`` ``(batch or 1, 8)``; output size = input size, in the input's layout and dtype.

    One ``F.grid_sample`` for the batch. TF maps a sample coordinate into the image by ``fill_mode`` before
    interpolating; grid_sample's own paddings are the same maps with ``align_corners=False`` (``reflection``
    reflects about -0.5 and len - 0.5 then clamps, as TF's ``reflect``; ``border`` clamps, as TF's ``nearest``;
    ``zeros`` on ``images - fill_value`` reads ``fill_value`` outside, as TF's ``constant``), so a bilinear affine
    transform needs only its grid. ``wrap``, ``nearest`` interpolation (TF rounds half away from zero, grid_sample
    half to even) and projective transforms map the pixel coordinates here first. ``affine`` says the transforms
    have no projective part."""
    if channels_last:
        batch, height, width, _ = images.shape
        nchw = images.permute(0, 3, 1, 2)  # a view: torch's channels_last memory format
    else:
        batch, _, height, width = images.shape
        nchw = images
    t = transforms.to(device=images.device, dtype=torch.float32)
    if t.shape[0] == 1 and batch != 1:
        t = t.expand(batch, 8)
    if affine and interpolation == "bilinear" and fill_mode != "wrap":
        grid, padding = _affine_grid(t, height, width), _TORCH_PADDING[fill_mode]
    else:
        in_x, in_y = _pixel_coordinates(t, height, width)
        in_x, in_y = _map_coordinate(in_x, width, fill_mode), _map_coordinate(in_y, height, fill_mode)
        if interpolation == "nearest":  # std::round
            in_x = torch.sign(in_x) * torch.floor(in_x.abs() + 0.5)
            in_y = torch.sign(in_y) * torch.floor(in_y.abs() + 0.5)
        grid = torch.stack([(2 * in_x + 1) / width - 1, (2 * in_y + 1) / height - 1], dim=-1)
        padding = "zeros"
    fill = float(fill_value) if fill_mode == "constant" else 0.0
    out = F.grid_sample(nchw - fill if fill else nchw, grid.to(images.dtype), mode=interpolation, padding_mode=padding, align_corners=False)
    if fill:
        out = out + fill
    return out.permute(0, 2, 3, 1).contiguous() if channels_last else out


def affine_matrix(
    angle: torch.Tensor,
    translate_x: torch.Tensor,
    translate_y: torch.Tensor,
    scale: torch.Tensor,
    shear_x: torch.Tensor,
    shear_y: torch.Tensor,
    height: int,
    width: int,
    center_x: float = 0.5,
    center_y: float = 0.5,
) -> torch.Tensor:
    """Keras 3's ``_compute_affine_matrix`` (angles and shears in degrees): ``(batch, 8)`` transforms."""
    rad = math.pi / 180.0
    angle, shear_x, shear_y = angle * rad, torch.tan(shear_x * rad), torch.tan(shear_y * rad)
    cx, cy = center_x * (width - 1), center_y * (height - 1)
    cos, sin = torch.cos(angle), torch.sin(angle)
    a0 = scale * (cos + shear_x * sin)
    a1 = scale * (-sin + shear_x * cos)
    a2 = translate_x + cx - cx * a0 - cy * a1
    b0 = scale * (shear_y * cos + sin)
    b1 = scale * (shear_y * -sin + cos)
    b2 = translate_y + cy - cx * b0 - cy * b1
    zeros = torch.zeros_like(a0)
    return torch.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], dim=1)


# ----------------------------------------------------------------------------------------------------------------
# tf.image.resize
# ----------------------------------------------------------------------------------------------------------------
def _nearest_index(in_len: int, out_len: int, device: Any) -> torch.Tensor:
    scale = torch.tensor(in_len / out_len, dtype=torch.float32)
    index = torch.floor((torch.arange(out_len, dtype=torch.float32, device=device) + 0.5) * scale.to(device))
    return index.long().clamp(max=in_len - 1)


def _matrices(in_h: int, in_w: int, height: int, width: int, method: str, antialias: bool, like: torch.Tensor, cache: dict | None):
    key = (in_h, in_w, height, width, method, antialias, like.dtype, like.device)
    if cache is not None and not torch.compiler.is_compiling() and key in cache:
        return cache[key]
    mh = resize_matrix(in_h, height, method, antialias, like.device).to(like.dtype)
    mw = resize_matrix(in_w, width, method, antialias, like.device).to(like.dtype)
    if cache is not None and not torch.compiler.is_compiling():
        cache.clear()  # one input size at a time, as the layers see them
        cache[key] = (mh, mw)
    return mh, mw


def resize(
    images: torch.Tensor,
    height: int,
    width: int,
    method: str = "bilinear",
    antialias: bool = False,
    channels_last: bool = False,
    cache: dict | None = None,
) -> torch.Tensor:
    """``tf.image.resize(images, (height, width), method, antialias)`` on batched images, NHWC
    (``channels_last``) or NCHW, in their own layout (no copy to another one): the resampling matrices
    multiply the height and width axes in place of a layout change; ``cache`` keeps them per input size."""
    h_axis, w_axis = (1, 2) if channels_last else (2, 3)
    in_h, in_w = int(images.shape[h_axis]), int(images.shape[w_axis])
    if (in_h, in_w) == (height, width) and method in ("nearest", "bilinear", "bicubic", "area") and not antialias:
        return images  # an unchanged size: TF's resize kernels copy the input
    if method == "nearest":
        rows = _nearest_index(in_h, height, images.device)
        cols = _nearest_index(in_w, width, images.device)
        return images.index_select(h_axis, rows).index_select(w_axis, cols)
    if method == "bilinear" and not antialias:
        x = images.permute(0, 3, 1, 2) if channels_last else images  # NHWC data as torch's channels_last format
        out = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False, antialias=False)
        return out.permute(0, 2, 3, 1) if channels_last else out
    mh, mw = _matrices(in_h, in_w, height, width, method, antialias, images, cache)
    batch = images.shape[0]
    if channels_last:
        channels = images.shape[3]
        x = torch.matmul(mh, images.reshape(batch, in_h, in_w * channels))  # (B, height, W*C)
        x = torch.matmul(mw, x.reshape(batch * height, in_w, channels))  # (B*height, width, C)
        return x.reshape(batch, height, width, channels)
    return torch.matmul(torch.matmul(mh, images), mw.t())


def aspect_crop_box(height: int, width: int, target_height: int, target_width: int, at_least_one: bool) -> tuple[int, int, int, int]:
    """``smart_resize``'s / ``crop_to_aspect_ratio``'s centred crop ``(top, left, crop_height, crop_width)``: the
    largest window of the target's aspect ratio (sizes computed in float32 and truncated, as TF does); Keras 3
    keeps at least one pixel (``at_least_one``), tf.keras does not."""
    f32 = lambda v: float(np.float32(v))  # noqa: E731
    crop_height = min(height, int(f32(f32(width * target_height) / f32(target_width))))
    crop_width = min(width, int(f32(f32(height * target_width) / f32(target_height))))
    if at_least_one:
        crop_height, crop_width = max(crop_height, 1), max(crop_width, 1)
    return int((height - crop_height) / 2), int((width - crop_width) / 2), crop_height, crop_width


def aspect_pad(height: int, width: int, target_height: int, target_width: int) -> tuple[int, int]:
    """Keras 3's ``pad_to_aspect_ratio``: the rows / columns of ``fill_value`` added on each side."""
    f32 = lambda v: float(np.float32(v))  # noqa: E731
    pad_height = max(height, int(f32(f32(width * target_height) / f32(target_width))))
    pad_width = max(width, int(f32(f32(height * target_width) / f32(target_height))))
    return int((pad_height - height) / 2), int((pad_width - width) / 2)


def smart_resize(
    images: torch.Tensor, height: int, width: int, method: str = "bilinear", at_least_one: bool = True, channels_last: bool = False
) -> torch.Tensor:
    """Keras's ``smart_resize`` on batched images: the centred crop of the target's aspect ratio, then resize."""
    h_axis, w_axis = (1, 2) if channels_last else (2, 3)
    top, left, ch, cw = aspect_crop_box(int(images.shape[h_axis]), int(images.shape[w_axis]), height, width, at_least_one)
    cropped = images.narrow(h_axis, top, ch).narrow(w_axis, left, cw)
    return resize(cropped, height, width, method, channels_last=channels_last)


# ----------------------------------------------------------------------------------------------------------------
# keras.ops.image.map_coordinates / gaussian_blur (Keras 3's TensorFlow backend), batched
# ----------------------------------------------------------------------------------------------------------------
def _fix_index(index: torch.Tensor, size: int, fill_mode: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Keras 3's ``process_coordinates`` on integer tap indices: the index to read and, for ``constant``, whether
    it is inside (Keras's ``reflect`` maps ``-1`` to ``1``: it reflects ``|i|``, as its code does)."""
    if fill_mode == "constant":
        return index.clamp(0, size - 1), (index >= 0) & (index < size)
    if fill_mode == "nearest":
        return index.clamp(0, size - 1), None
    if fill_mode in ("reflect", "mirror"):
        folded = torch.remainder(index.abs(), 2 * size)
        under = folded < size
        index = torch.where(under, folded, 2 * size - folded)
        if fill_mode == "reflect":
            index = torch.where(under, index, index - 1)
        return index.clamp(0, size - 1), None
    return torch.remainder(index, size), None  # wrap


def map_coordinates(
    images: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, order: int, fill_mode: str, fill_value: float, channels_last: bool
) -> torch.Tensor:
    """Keras 3's ``map_coordinates(image, [rows, cols], order, fill_mode, fill_value)`` for every image and channel
    at once: ``images`` batched (NHWC / NCHW), ``rows``/``cols`` ``(batch, height, width)`` sample positions.
    ``order`` 0 rounds half to even (``tf.round``), 1 is linear; ``constant`` reads ``fill_value`` for a tap outside."""
    if channels_last:
        batch, height, width, channels = images.shape
        flat, dim = images.reshape(batch, height * width, channels), 1
    else:
        batch, channels, height, width = images.shape
        flat, dim = images.reshape(batch, channels, height * width), 2
    expand = (lambda v: v.reshape(batch, -1, 1)) if channels_last else (lambda v: v.reshape(batch, 1, -1))  # noqa: E731
    shape = (batch, rows[0].numel(), channels) if channels_last else (batch, channels, rows[0].numel())
    if order == 0:
        row_taps = [(torch.round(rows).long(), None)]
        col_taps = [(torch.round(cols).long(), None)]
    else:
        r0, c0 = torch.floor(rows), torch.floor(cols)
        rw, cw = rows - r0, cols - c0
        row_taps = [(r0.long(), 1 - rw), (r0.long() + 1, rw)]
        col_taps = [(c0.long(), 1 - cw), (c0.long() + 1, cw)]
    fill = torch.tensor(float(fill_value), dtype=images.dtype, device=images.device)
    out = None
    for r, rweight in row_taps:
        ri, rvalid = _fix_index(r, height, fill_mode)
        for c, cweight in col_taps:
            ci, cvalid = _fix_index(c, width, fill_mode)
            values = flat.gather(dim, expand(ri * width + ci).expand(shape))
            if rvalid is not None:
                values = torch.where(expand(rvalid & cvalid), values, fill)
            if rweight is not None:
                values = values * expand(rweight * cweight).to(values.dtype)
            out = values if out is None else out + values
    return out.reshape(images.shape)


def gaussian_blur(fields: torch.Tensor, kernel_size: int, sigma: torch.Tensor) -> torch.Tensor:
    """Keras 3's ``gaussian_blur`` (TF backend) of ``(batch, height, width)`` fields: a ``kernel_size`` Gaussian
    (``exp(-x^2 / 2 sigma^2)`` normalized, ``x`` centred), ``'same'`` zero padding, as two 1-D convolutions."""
    x = torch.arange(kernel_size, dtype=fields.dtype, device=fields.device) - (kernel_size - 1) / 2
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    kernel = kernel / kernel.sum()
    pad = kernel_size // 2
    out = F.conv2d(fields.unsqueeze(1), kernel.view(1, 1, 1, -1), padding=(0, pad))
    out = F.conv2d(out, kernel.view(1, 1, -1, 1), padding=(pad, 0))
    return out.squeeze(1)

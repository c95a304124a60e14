"""Emitters of the image preprocessing and augmentation layers (``layers/preprocessing/image_preprocessing``).

Each layer becomes one call of a small helper written into ``model.py`` (only the helpers its configuration
needs): TensorFlow's resize kernels as resampling matrices (``tf_resize``), ``ImageProjectiveTransformV3`` as one
``F.grid_sample`` (``transforms``), the colour kernels (``color_ops``). The helpers take batched NCHW images:
a ``channels_last`` layer reads the channels-first view of its input (the ``CF`` layout, the same one the
convolutions after it read, so no permute is written between them), a ``channels_first`` one its input as it is.

Training follows ``nn.Module.training`` (``self.training``; an explicit ``training=`` of the call wins): in eval
the random layers are the identity (or Keras's deterministic transform), in training they draw their
transformations from torch's global generator with the distribution and per-image / per-batch structure of the
loaded layer (its Keras version decides where tf.keras and Keras 3 differ). The helpers draw the numbers an unseeded
kerastorch layer draws, in the same order and shapes, so after one ``torch.manual_seed`` both give the same training
outputs (AugMix aside: kerastorch picks its chains with Python's ``random``). A layer's ``seed`` is not carried
over: the ejected model draws from ``torch.manual_seed``'s stream, as ``nn.Dropout`` does.

Composite layers: RandomColorJitter chains its stages' forms; RandAugment / AugMix hold ``(draw, apply)`` lambda
pairs of their inner augmentations in ``__init__`` (Keras draws a transformation apart from applying it, and
RandAugment applies every op and keeps the chosen one, without reading the choice on the host); Pipeline holds one
lambda per stage.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from ..layers.preprocessing.image_preprocessing.color_ops import GRAY_WEIGHTS
from .emitters import CF, EMITTERS, KERAS, Call, Emitted, _training, fmt, spatial_layout, tup
from .helpers import register_helpers

_PI_OVER_180 = "0.017453292519943295"  # math.pi / 180 (model.py imports torch only)

_SOURCES: dict[str, str] = {
    # ------------------------------------------------------------------------------------------ tf.image.resize
    "resize_nearest_tf": '''
def resize_nearest_tf(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """tf.image.resize(method="nearest") of an NCHW batch: output pixel i reads input floor((i + 0.5) * in / out)
    (TensorFlow's half-pixel centres, in float32), not F.interpolate's floor(i * in / out)."""
    def index(n_in: int, n_out: int) -> torch.Tensor:
        scale = torch.full((), n_in / n_out, dtype=torch.float32, device=x.device)
        i = torch.floor((torch.arange(n_out, dtype=torch.float32, device=x.device) + 0.5) * scale)
        return i.long().clamp(max=n_in - 1)

    return x.index_select(2, index(x.shape[2], height)).index_select(3, index(x.shape[3], width))
''',
    "resize_tf": '''
def resize_tf(x: torch.Tensor, height: int, width: int, matrix, *args) -> torch.Tensor:
    """tf.image.resize of an NCHW batch as two matrix products: matrix(n_in, n_out, device, *args) is one
    dim's (n_out, n_in) resampling matrix (float64, cast to the images' dtype)."""
    rows = matrix(x.shape[2], height, x.device, *args).to(x.dtype)
    cols = matrix(x.shape[3], width, x.device, *args).to(x.dtype)
    return torch.matmul(torch.matmul(rows, x), cols.t())
''',
    "normalize_rows": '''
def normalize_rows(weights: torch.Tensor) -> torch.Tensor:
    """TensorFlow's resize kernels drop the taps outside the image and renormalize the rest (unless they sum to ~0)."""
    total = weights.sum(dim=1, keepdim=True)
    return torch.where(total.abs() >= 1000 * torch.finfo(torch.float32).tiny, weights / total, weights)
''',
    "keys_cubic": '''
def keys_cubic(x: torch.Tensor) -> torch.Tensor:
    """Keys' cubic kernel with a = -0.5 (TensorFlow's bicubic)."""
    a = -0.5
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return torch.where(x < 1, near, torch.where(x < 2, far, torch.zeros_like(x)))
''',
    "area_resize_matrix": '''
def area_resize_matrix(n_in: int, n_out: int, device: torch.device) -> torch.Tensor:
    """TensorFlow's ResizeArea: output y averages the input span [y s, (y + 1) s), s = n_in / n_out, by exact
    overlaps."""
    s = n_in / n_out
    start = torch.arange(n_out, dtype=torch.float64, device=device)[:, None] * s
    lo = torch.arange(n_in, dtype=torch.float64, device=device)[None, :]
    return (torch.minimum(lo + 1, start + s) - torch.maximum(lo, start)).clamp(min=0.0) / s
''',
    "bicubic_resize_matrix": '''
def bicubic_resize_matrix(n_in: int, n_out: int, device: torch.device) -> torch.Tensor:
    """TensorFlow's ResizeBicubic (half-pixel centres): the sample position in float32, its fraction rounded to
    1/1024 (TensorFlow reads the Keys kernel from a 1024-entry table), taps outside dropped and renormalized."""
    scale = torch.full((), float(n_in), dtype=torch.float32, device=device) / float(n_out)
    position = (torch.arange(n_out, dtype=torch.float32, device=device) + 0.5) * scale - 0.5
    floor = torch.floor(position)
    t = torch.round((position - floor) * 1024).double() / 1024
    distance = torch.stack([1 + t, t, 1 - t, 2 - t], dim=1)
    index = floor.long()[:, None] + torch.arange(-1, 3, device=device)
    inside = (index >= 0) & (index < n_in)
    weights = normalize_rows(keys_cubic(distance).float().double() * inside)
    matrix = torch.zeros(n_out, n_in, dtype=torch.float64, device=device)
    return matrix.scatter_add_(1, index.clamp(0, n_in - 1), weights)
''',
    "scale_and_translate_matrix": '''
def scale_and_translate_matrix(n_in: int, n_out: int, device: torch.device, kernel, radius: float,
                               antialias: bool) -> torch.Tensor:
    """TensorFlow's scale_and_translate (lanczos, gaussian, mitchellcubic, and every antialiased method): output x
    samples at (x + 0.5) * n_in / n_out; antialias widens the kernel by n_in / n_out when downsampling."""
    scale = n_out / n_in
    kernel_scale = max(1.0 / scale, 1.0) if antialias else 1.0
    sample = (torch.arange(n_out, dtype=torch.float64, device=device) + 0.5) / scale
    taps = torch.arange(n_in, dtype=torch.float64, device=device) + 0.5
    distance = (taps[None, :] - sample[:, None]).abs() / kernel_scale
    return normalize_rows(torch.where(distance <= radius, kernel(distance), torch.zeros_like(distance)))
''',
    "triangle_kernel": '''
def triangle_kernel(x: torch.Tensor) -> torch.Tensor:
    """The bilinear (tent) kernel."""
    return (1.0 - x).clamp(min=0.0)
''',
    "lanczos_kernel": '''
def lanczos_kernel(x: torch.Tensor, radius: int) -> torch.Tensor:
    """TensorFlow's Lanczos kernel of the given radius (1 within 1e-3 of the centre)."""
    pi = 3.141592653589793
    safe = torch.where(x > 1e-3, x, torch.ones_like(x))
    value = radius * torch.sin(pi * safe) * torch.sin(pi * safe / radius) / (pi * pi * safe * safe)
    return torch.where(x > radius, torch.zeros_like(x), torch.where(x <= 1e-3, torch.ones_like(x), value))
''',
    "lanczos3": '''
def lanczos3(x: torch.Tensor) -> torch.Tensor:
    return lanczos_kernel(x, 3)
''',
    "lanczos5": '''
def lanczos5(x: torch.Tensor) -> torch.Tensor:
    return lanczos_kernel(x, 5)
''',
    "gaussian_resize_kernel": '''
def gaussian_resize_kernel(x: torch.Tensor) -> torch.Tensor:
    """TensorFlow's resize Gaussian: sigma 0.5, radius 1.5."""
    sigma = 1.5 / 3.0
    return torch.where(x < 1.5, torch.exp(-x * x / (2 * sigma * sigma)), torch.zeros_like(x))
''',
    "mitchell_cubic": '''
def mitchell_cubic(x: torch.Tensor) -> torch.Tensor:
    """TensorFlow's Mitchell-Netravali cubic (B = C = 1/3)."""
    far = (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
    near = (((7.0 / 6.0) * x - 2.0) * x) * x + 8.0 / 9.0
    return torch.where(x >= 2, torch.zeros_like(x), torch.where(x >= 1, far, near))
''',
    "float32_ratio": '''
def float32_ratio(a: int, b: int, c: int) -> int:
    """int(a * b / c) computed in float32, as TensorFlow sizes its aspect-ratio crops and pads (float64 truncates
    differently once a * b passes 2 ** 23). Each step is rounded to float32 by Veltkamp's split of the double."""
    def f32(v: float) -> float:
        t = v * 536870913.0  # 2 ** 29 + 1: keeps the top 24 bits
        return t - (t - v)

    a, b, c = int(a), int(b), int(c)  # Python floats (a traced size would compute in float32)
    return int(f32(f32(a * b) / c))
''',
    "aspect_crop_box": '''
def aspect_crop_box(in_h: int, in_w: int, height: int, width: int, at_least_one: bool) -> tuple:
    """Keras's centred crop of the target's aspect ratio (crop_to_aspect_ratio, smart_resize): (top, left,
    crop height, crop width); Keras 3 keeps at least one pixel, tf.keras does not."""
    crop_h = min(in_h, float32_ratio(in_w, height, width))
    crop_w = min(in_w, float32_ratio(in_h, width, height))
    if at_least_one:
        crop_h, crop_w = max(crop_h, 1), max(crop_w, 1)
    return (in_h - crop_h) // 2, (in_w - crop_w) // 2, crop_h, crop_w
''',
    "aspect_crop": '''
def aspect_crop(x: torch.Tensor, height: int, width: int, at_least_one: bool) -> torch.Tensor:
    """The centred window of an NCHW batch with the aspect ratio of (height, width) (aspect_crop_box)."""
    top, left, crop_h, crop_w = aspect_crop_box(x.shape[2], x.shape[3], height, width, at_least_one)
    return x[:, :, top:top + crop_h, left:left + crop_w]
''',
    "aspect_pad": '''
def aspect_pad(x: torch.Tensor, height: int, width: int, value: float) -> torch.Tensor:
    """Keras 3's pad_to_aspect_ratio: rows or columns of `value` added evenly on both sides of an NCHW batch
    until it has the aspect ratio of (height, width)."""
    in_h, in_w = x.shape[2], x.shape[3]
    pad_h = (max(in_h, float32_ratio(in_w, height, width)) - in_h) // 2
    pad_w = (max(in_w, float32_ratio(in_h, width, height)) - in_w) // 2
    return F.pad(x, (pad_w, pad_w, pad_h, pad_h), value=value) if pad_h or pad_w else x
''',
    "center_crop_images": '''
def center_crop_images(x: torch.Tensor, height: int, width: int, at_least_one: bool) -> torch.Tensor:
    """Keras CenterCrop of an NCHW batch: the centred (height, width) window; when the input is smaller in either dim,
    Keras's smart_resize (the aspect-ratio crop, then a bilinear resize) instead."""
    in_h, in_w = x.shape[2], x.shape[3]
    if in_h >= height and in_w >= width:
        top, left = (in_h - height) // 2, (in_w - width) // 2
        return x[:, :, top:top + height, left:left + width]
    cropped = aspect_crop(x, height, width, at_least_one)
    return F.interpolate(cropped, size=(height, width), mode="bilinear", align_corners=False)
''',
    "random_window": '''
def random_window(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """One (height, width) window of an NCHW batch at a uniform random offset, the same for the whole batch
    (offsets stay tensors: no host sync)."""
    in_h, in_w = x.shape[2], x.shape[3]
    u = torch.rand(2, device=x.device)
    top = torch.floor(u[0] * (in_h - height + 1)).long().clamp(max=in_h - height)
    left = torch.floor(u[1] * (in_w - width + 1)).long().clamp(max=in_w - width)
    rows = top + torch.arange(height, device=x.device)
    cols = left + torch.arange(width, device=x.device)
    return x.index_select(2, rows).index_select(3, cols)
''',
    "random_crop_tf": '''
def random_crop_tf(x: torch.Tensor, height: int, width: int, training: bool) -> torch.Tensor:
    """tf.keras RandomCrop: in training, a random window when the input is at least the target size; otherwise
    (and in inference) smart_resize to the target (the aspect-ratio crop, then a bilinear resize)."""
    if training and x.shape[2] >= height and x.shape[3] >= width:
        return random_window(x, height, width)
    cropped = aspect_crop(x, height, width, False)
    return F.interpolate(cropped, size=(height, width), mode="bilinear", align_corners=False)
''',
    "random_crop_keras3": '''
def random_crop_keras3(x: torch.Tensor, height: int, width: int, training: bool) -> torch.Tensor:
    """Keras 3 RandomCrop: the input unchanged in inference; in training a random window when the input is larger
    in both dims, else a target-sized window from the aspect-ratio crop's offsets (clipped to the image) resized to
    the target (bilinear)."""
    if not training:
        return x
    in_h, in_w = x.shape[2], x.shape[3]
    if in_h > height and in_w > width:
        return random_window(x, height, width)
    top, left, _, _ = aspect_crop_box(in_h, in_w, height, width, True)
    window = x[:, :, top:top + min(height, in_h - top), left:left + min(width, in_w - left)]
    return F.interpolate(window, size=(height, width), mode="bilinear", align_corners=False)
''',
    "constants": '''
def constants(values: tuple, like: torch.Tensor) -> torch.Tensor:
    """A 1-D tensor of values on like's device and dtype, written by fills (torch.tensor(values, device=cuda) would
    copy from the host and synchronize)."""
    out = torch.empty(len(values), dtype=like.dtype, device=like.device)
    for i, value in enumerate(values):
        out[i] = value
    return out
''',
    # ------------------------------------------------------------------------------------------ flips
    "flip_images": '''
def flip_images(x: torch.Tensor, horizontal: bool, vertical: bool, joint: bool) -> torch.Tensor:
    """Keras RandomFlip of an NCHW batch in training. joint (Keras 3): one draw per image, which flips that image
    every requested way or not at all; else (tf.keras) an independent draw per image and direction. p = 1/2."""
    batch = x.shape[0]
    if joint:
        flip_h = flip_v = (torch.rand(batch, device=x.device) <= 0.5).view(-1, 1, 1, 1)
    else:
        draws = torch.rand(2, batch, device=x.device) < 0.5
        flip_h, flip_v = draws[0].view(-1, 1, 1, 1), draws[1].view(-1, 1, 1, 1)
    if horizontal:
        x = torch.where(flip_h, x.flip(3), x)
    if vertical:
        x = torch.where(flip_v, x.flip(2), x)
    return x
''',
    # ------------------------------------------------------------------------------------------ affine transforms
    "uniform": '''
def uniform(shape: tuple, low: float, high: float, x: torch.Tensor) -> torch.Tensor:
    """float32 draws, uniform in [low, high), on x's device (Keras draws its factors in float32)."""
    return low + (high - low) * torch.rand(shape, device=x.device)
''',
    "affine_sample": '''
def affine_sample(x: torch.Tensor, transforms: torch.Tensor, fill_mode: str, fill_value: float) -> torch.Tensor:
    """TensorFlow's ImageProjectiveTransformV3 (bilinear, affine transforms) of an NCHW batch as one F.grid_sample.
    Output pixel (x, y) (integer indices) reads the input at (a0 x + a1 y + a2, b0 x + b1 y + b2), transforms
    (batch, 8) = [a0, a1, a2, b0, b1, b2, 0, 0]; grid_sample's paddings with align_corners=False are TF's fill modes
    ("reflection" = reflect, "border" = nearest, "zeros" on x - fill_value = constant)."""
    _, _, height, width = x.shape
    xs = torch.arange(width, device=x.device, dtype=torch.float32).view(1, 1, width)
    ys = torch.arange(height, device=x.device, dtype=torch.float32).view(1, height, 1)
    a = [transforms[:, i].view(-1, 1, 1) for i in range(6)]
    gx = (a[0] * (2.0 / width)) * xs + (a[2] * (2.0 / width) + (1.0 / width - 1.0)) + (a[1] * (2.0 / width)) * ys
    gy = (a[3] * (2.0 / height)) * xs + (a[5] * (2.0 / height) + (1.0 / height - 1.0)) + (a[4] * (2.0 / height)) * ys
    grid = torch.stack([gx, gy], dim=-1).to(x.dtype)
    padding = {"reflect": "reflection", "nearest": "border", "constant": "zeros"}[fill_mode]
    fill = fill_value if fill_mode == "constant" else 0.0
    out = F.grid_sample(x - fill if fill else x, grid, mode="bilinear", padding_mode=padding, align_corners=False)
    return out + fill if fill else out
''',
    "tf_map_coordinate": '''
def tf_map_coordinate(coord: torch.Tensor, length: int, fill_mode: str) -> torch.Tensor:
    """TensorFlow's MapCoordinate<fill_mode> of sample coordinates into [0, length - 1] (reflect dcba|abcd|dcba,
    wrap, nearest clamps; constant leaves them: the sampler reads fill_value outside)."""
    if fill_mode == "constant":
        return coord
    if length <= 1:
        return torch.zeros_like(coord)
    last = float(length - 1)
    if fill_mode == "reflect":
        folded = torch.remainder(coord, 2.0 * length)
        coord = torch.where(folded < length, folded, (2.0 * length - 1) - folded)
    elif fill_mode == "wrap":
        below = coord + length * (torch.trunc(-coord / last) + 1)
        above = coord - length * torch.trunc(coord / last)
        coord = torch.where(coord < 0, below, torch.where(coord > last, above, coord))
    return coord.clamp(0.0, last)
''',
    "projective_sample": '''
def projective_sample(x: torch.Tensor, transforms: torch.Tensor, interpolation: str, fill_mode: str,
                      fill_value: float) -> torch.Tensor:
    """TensorFlow's ImageProjectiveTransformV3 of an NCHW batch: output pixel (x, y) reads the input at
    ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k), k = c0 x + c1 y + 1, transforms (batch, 8); the coordinate is
    mapped into the image by fill_mode first (tf_map_coordinate), "nearest" rounds half away from zero as TF does,
    and one F.grid_sample reads it ("constant": fill_value outside)."""
    _, _, height, width = x.shape
    ys = torch.arange(height, device=x.device, dtype=torch.float32).view(1, height, 1)
    xs = torch.arange(width, device=x.device, dtype=torch.float32).view(1, 1, width)
    a = [transforms[:, i].view(-1, 1, 1) for i in range(8)]
    projection = a[6] * xs + a[7] * ys + 1.0
    safe = torch.where(projection == 0, torch.ones_like(projection), projection)
    far = torch.where(projection == 0, torch.full_like(projection, -1e9), torch.zeros_like(projection))  # at infinity
    in_x = tf_map_coordinate((a[0] * xs + a[1] * ys + a[2]) / safe + far, width, fill_mode)
    in_y = tf_map_coordinate((a[3] * xs + a[4] * ys + a[5]) / safe + far, height, fill_mode)
    if interpolation == "nearest":
        in_x = torch.sign(in_x) * torch.floor(in_x.abs() + 0.5)
        in_y = torch.sign(in_y) * torch.floor(in_y.abs() + 0.5)
    grid = torch.stack([(2 * in_x + 1) / width - 1, (2 * in_y + 1) / height - 1], dim=-1).to(x.dtype)
    fill = fill_value if fill_mode == "constant" else 0.0
    out = F.grid_sample(x - fill if fill else x, grid, mode=interpolation, padding_mode="zeros", align_corners=False)
    return out + fill if fill else out
''',
    "rotation_transforms": f'''
def rotation_transforms(x: torch.Tensor, factor: tuple) -> torch.Tensor:
    """Keras RandomRotation: one angle per image, uniform in factor (fractions of a full turn), about the image
    centre ((w - 1) / 2, (h - 1) / 2); (batch, 8) transforms."""
    _, _, height, width = x.shape
    angle = uniform((x.shape[0],), factor[0] * 360.0, factor[1] * 360.0, x) * {_PI_OVER_180}
    cos, sin = torch.cos(angle), torch.sin(angle)
    cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
    zeros = torch.zeros_like(angle)
    return torch.stack([cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos, zeros, zeros], dim=1)
''',
    "zoom_transforms": '''
def zoom_transforms(x: torch.Tensor, height_range: tuple, width_range: tuple | None) -> torch.Tensor:
    """Keras RandomZoom: per image, zoom 1 + U(height_range) (and 1 + U(width_range), or the same draw when it is
    None) about the image centre; a zoom above 1 zooms out. (batch, 8) transforms."""
    _, _, height, width = x.shape
    zy = uniform((x.shape[0],), 1.0 + height_range[0], 1.0 + height_range[1], x)
    zx = zy if width_range is None else uniform((x.shape[0],), 1.0 + width_range[0], 1.0 + width_range[1], x)
    zeros = torch.zeros_like(zx)
    x_offset = (width - 1.0) / 2.0 * (1.0 - zx)
    y_offset = (height - 1.0) / 2.0 * (1.0 - zy)
    return torch.stack([zx, zeros, x_offset, zeros, zy, y_offset, zeros, zeros], dim=1)
''',
    "translation_transforms": '''
def translation_transforms(x: torch.Tensor, height_range: tuple, width_range: tuple) -> torch.Tensor:
    """Keras RandomTranslation: per image, a shift of U(height_range) * height rows and U(width_range) * width
    columns. (batch, 8) transforms."""
    _, _, height, width = x.shape
    dy = uniform((x.shape[0],), height_range[0], height_range[1], x) * height
    dx = uniform((x.shape[0],), width_range[0], width_range[1], x) * width
    ones, zeros = torch.ones_like(dx), torch.zeros_like(dx)
    return torch.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], dim=1)
''',
    "shear_transforms": '''
def shear_transforms(x: torch.Tensor, x_range: tuple, y_range: tuple) -> torch.Tensor:
    """Keras 3 RandomShear: per image, shears U(x_range) and U(y_range), both negated with probability 1/2 (not
    centred). (batch, 8) transforms."""
    batch = x.shape[0]
    invert = torch.where(torch.rand(batch, device=x.device) > 0.5, -1.0, 1.0)
    sy = uniform((batch,), y_range[0], y_range[1], x) * invert
    sx = uniform((batch,), x_range[0], x_range[1], x) * invert
    ones, zeros = torch.ones_like(sx), torch.zeros_like(sx)
    return torch.stack([ones, sx, zeros, sy, ones, zeros, zeros, zeros], dim=1)
''',
    "perspective_images": '''
def perspective_images(x: torch.Tensor, factor: tuple, scale: float, interpolation: str,
                       fill_value: float) -> torch.Tensor:
    """Keras 3 RandomPerspective of an NCHW batch in training: each image, with a probability drawn from factor,
    has its four corners moved by up to scale / 2 of their coordinates and is sampled through the homography that
    maps the moved corners back (one 8x8 solve per image), fill_mode "constant"."""
    batch, _, height, width = x.shape
    probability = uniform((batch,), factor[0], factor[1], x)
    apply = torch.rand(batch, device=x.device) < probability
    moves = uniform((batch, 4, 2), -0.5 * scale, 0.5 * scale, x)
    corners = (0.0, 0.0, width - 1.0, 0.0, 0.0, height - 1.0, width - 1.0, height - 1.0)
    start = constants(corners, moves).view(1, 4, 2).expand(batch, 4, 2)
    end = start + start * moves
    sx, sy, ex, ey = start[..., 0], start[..., 1], end[..., 0], end[..., 1]
    one, zero = torch.ones_like(ex), torch.zeros_like(ex)
    rows_x = torch.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], dim=-1)
    rows_y = torch.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], dim=-1)
    system = torch.stack([rows_x, rows_y], dim=2).reshape(batch, 8, 8)
    target = torch.stack([sx, sy], dim=-1).reshape(batch, 8, 1)
    transforms = torch.linalg.solve(system, target).reshape(batch, 8)
    out = projective_sample(x, transforms, interpolation, "constant", fill_value)
    return torch.where(apply.view(-1, 1, 1, 1), out, x)
''',
    # ------------------------------------------------------------------------------------------ colour
    "contrast_images": '''
def contrast_draw(x: torch.Tensor, factor: tuple, per_image: bool, value_range: tuple) -> torch.Tensor:
    """RandomContrast's factor: uniform in [1 - factor[0], 1 + factor[1]), per image (Keras 3) or per batch."""
    return uniform((x.shape[0] if per_image else 1, 1, 1, 1), 1.0 - factor[0], 1.0 + factor[1], x)


def contrast_images(x: torch.Tensor, factor: tuple, per_image: bool, value_range: tuple, draw=None) -> torch.Tensor:
    """Keras RandomContrast of an NCHW batch in training: (x - mean) * c + mean per channel (mean over height,
    then width), c from contrast_draw (or the given draw), clipped to value_range."""
    c = (contrast_draw(x, factor, per_image, value_range) if draw is None else draw).to(x.dtype)
    mean = x.mean(2, keepdim=True).mean(3, keepdim=True)
    return ((x - mean) * c + mean).clamp(value_range[0], value_range[1])
''',
    "brightness_images": '''
def brightness_draw(x: torch.Tensor, factor: tuple, value_range: tuple) -> torch.Tensor:
    """RandomBrightness's shift: uniform in factor per image, times the value_range width."""
    return uniform((x.shape[0], 1, 1, 1), factor[0], factor[1], x) * (value_range[1] - value_range[0])


def brightness_images(x: torch.Tensor, factor: tuple, value_range: tuple, draw=None) -> torch.Tensor:
    """Keras RandomBrightness in training: adds brightness_draw's shift (or the given draw) to each image, clipped
    to value_range."""
    delta = brightness_draw(x, factor, value_range) if draw is None else draw
    return (x + delta.to(x.dtype)).clamp(value_range[0], value_range[1])
''',
    "grayscale": f'''
def grayscale(x: torch.Tensor) -> torch.Tensor:
    """Keras's rgb_to_grayscale of an NCHW batch: {GRAY_WEIGHTS[0]} r + {GRAY_WEIGHTS[1]} g + {GRAY_WEIGHTS[2]} b, one
    channel."""
    weights = constants({GRAY_WEIGHTS!r}, x).view(1, 3, 1, 1)
    return (x * weights).sum(1, keepdim=True) if x.shape[1] == 3 else x
''',
    "grayscale_images": '''
def grayscale_images(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Keras 3 RandomGrayscale in training: each image becomes its grayscale (on every channel) with probability
    factor."""
    apply = torch.rand(x.shape[0], 1, 1, 1, device=x.device) < factor
    return torch.where(apply, grayscale(x), x)
''',
    "rgb_to_hsv": '''
def rgb_to_hsv(x: torch.Tensor) -> tuple:
    """TensorFlow's RGBToHSV of an NCHW batch as (h, s, v), one channel each, hue in [0, 1)."""
    r, g, b = x.split(1, dim=1)
    v = torch.maximum(torch.maximum(r, g), b)
    spread = v - torch.minimum(torch.minimum(r, g), b)
    s = torch.where(v > 0, spread / torch.where(v > 0, v, torch.ones_like(v)), torch.zeros_like(v))
    norm = (1.0 / torch.where(spread > 0, spread, torch.ones_like(spread))) * (1.0 / 6.0)
    h = torch.where(r == v, norm * (g - b), torch.where(g == v, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0))
    h = torch.where(spread > 0, h, torch.zeros_like(h))
    return torch.where(h < 0, h + 1.0, h), s, v
''',
    "hsv_to_rgb": '''
def hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """TensorFlow's HSVToRGB: (1 - s + s d) v with d = clip(a |6h - k| + c, 0, 1) per channel."""
    a = constants((1.0, -1.0, -1.0), h).view(1, 3, 1, 1)
    k = constants((3.0, 2.0, 4.0), h).view(1, 3, 1, 1)
    c = constants((-1.0, 2.0, 2.0), h).view(1, 3, 1, 1)
    d = (a * (h * 6.0 - k).abs() + c).clamp(0.0, 1.0)
    return (1.0 - s + s * d) * v
''',
    "hue_images": '''
def hue_images(x: torch.Tensor, factor: tuple, value_range: tuple) -> torch.Tensor:
    """Keras 3 RandomHue in training: each image's hue shifted by +-U(factor) / 2 (sign and size per image), in
    value_range mapped to [0, 1] and back."""
    sign = torch.where(torch.rand(x.shape[0], device=x.device) > 0.5, -1.0, 1.0)
    shift = (sign * uniform((x.shape[0],), factor[0], factor[1], x) * 0.5).to(x.dtype).view(-1, 1, 1, 1)
    lo, hi = value_range
    h, s, v = rgb_to_hsv((x - lo) / (hi - lo))
    h = h + shift
    h = torch.where(h > 1.0, h - 1.0, h)
    h = torch.where(h < 0.0, h + 1.0, h)
    return hsv_to_rgb(h, s, v).clamp(0.0, 1.0) * (hi - lo) + lo
''',
    "saturation_images": '''
def saturation_images(x: torch.Tensor, factor: tuple, value_range: tuple) -> torch.Tensor:
    """Keras 3 RandomSaturation in training: each image's HSV saturation scaled by f / (1 - f + 1e-7), f uniform in
    factor per image, clipped to value_range (as Keras, on the raw values)."""
    f = uniform((x.shape[0],), factor[0], factor[1], x)
    factor = (f / (1 - f + 1e-7)).to(x.dtype).view(-1, 1, 1, 1)
    h, s, v = rgb_to_hsv(x)
    return hsv_to_rgb(h, (s * factor).clamp(value_range[0], value_range[1]), v)
''',
    "solarize_images": '''
def solarize_draw(x: torch.Tensor, addition: tuple, threshold: tuple, value_range: tuple) -> tuple:
    """Solarization's (addition, threshold) per image: uniform in [addition[0], addition[1] * 255) and
    [threshold[0], threshold[1] * 255) (Keras scales only the upper ends)."""
    shape = (x.shape[0], 1, 1, 1)
    return uniform(shape, addition[0], addition[1] * 255, x), uniform(shape, threshold[0], threshold[1] * 255, x)


def solarize_images(x: torch.Tensor, addition: tuple, threshold: tuple, value_range: tuple, draw=None) -> torch.Tensor:
    """Keras 3 Solarization in training: in [0, 255], y = clip(x + a, 0, 255), then y below t else 255 - y, (a, t)
    from solarize_draw (or the given draw), value_range mapped to [0, 255] and back."""
    add, limit = solarize_draw(x, addition, threshold, value_range) if draw is None else draw
    add, limit = add.to(x.dtype), limit.to(x.dtype)
    lo, hi = value_range
    if (lo, hi) != (0, 255):
        x = (x - lo) / (hi - lo) * 255
    y = (x + add).clamp(0, 255)
    y = torch.where(y < limit, y, 255 - y)
    return y if (lo, hi) == (0, 255) else y / 255 * (hi - lo) + lo
''',
    "value_range_map": '''
def value_range_map(x: torch.Tensor, source: tuple, target: tuple) -> torch.Tensor:
    """Keras's _transform_value_range: source mapped linearly onto target (the values themselves when equal)."""
    if tuple(source) == tuple(target):
        return x
    return (x - source[0]) / (source[1] - source[0]) * (target[1] - target[0]) + target[0]
''',
    "degenerate_images": '''
def degenerate_draw(x: torch.Tensor, factor: tuple, value_range: tuple) -> torch.Tensor:
    return uniform((x.shape[0], 1, 1, 1), factor[0], factor[1], x)


def degenerate_images(x: torch.Tensor, factor: tuple, value_range: tuple, draw=None) -> torch.Tensor:
    """Keras 3 RandomColorDegeneration in training: each image moved towards its grayscale by f, uniform in factor
    per image (degenerate_draw, or the given draw), clipped to value_range."""
    f = (degenerate_draw(x, factor, value_range) if draw is None else draw).to(x.dtype)
    return (x + f * (grayscale(x) - x)).clamp(value_range[0], value_range[1])
''',
    "invert_images": '''
def invert_images(x: torch.Tensor, factor: tuple, value_range: tuple) -> torch.Tensor:
    """Keras 3 RandomInvert in training: each image becomes value_range[1] - x with a probability drawn per image
    from factor."""
    probability = uniform((x.shape[0],), factor[0], factor[1], x)
    apply = (torch.rand(x.shape[0], device=x.device) < probability).view(-1, 1, 1, 1)
    return torch.where(apply, value_range[1] - x, x)
''',
    "posterize_images": '''
def posterize_draw(x: torch.Tensor, bits: tuple, value_range: tuple) -> torch.Tensor:
    """RandomPosterization's shift 8 - b per image, b uniform in [bits[0], bits[1]) (bits[0] when equal)."""
    batch = x.shape[0]
    if bits[0] != bits[1]:
        kept = torch.randint(bits[0], bits[1], (batch,), device=x.device, dtype=torch.uint8)
    else:
        kept = torch.full((batch,), bits[0], dtype=torch.uint8, device=x.device)
    return 8 - kept


def posterize_images(x: torch.Tensor, bits: tuple, value_range: tuple, draw=None) -> torch.Tensor:
    """Keras 3 RandomPosterization in training: each image keeps the top b bits of its 8-bit values (in value_range
    mapped to [0, 255], truncated to uint8), b from posterize_draw (or the given draw)."""
    shift = (posterize_draw(x, bits, value_range) if draw is None else draw).view(-1, 1, 1, 1)
    pixels = value_range_map(x, value_range, (0, 255)).clamp(0, 255).to(torch.uint8)
    pixels = torch.bitwise_left_shift(torch.bitwise_right_shift(pixels, shift), shift)
    return value_range_map(pixels.to(x.dtype), (0, 255), value_range)
''',
    "depthwise_same": '''
def depthwise_same(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """One 2-D kernel (odd sizes) on every channel of an NCHW batch, TensorFlow's SAME zero padding."""
    channels, (kh, kw) = x.shape[1], kernel.shape
    weight = kernel.to(x.dtype).reshape(1, 1, kh, kw).expand(channels, 1, kh, kw)
    return F.conv2d(x, weight, padding=((kh - 1) // 2, (kw - 1) // 2), groups=channels)
''',
    "sharpen_images": '''
def sharpen_draw(x: torch.Tensor, factor: tuple, value_range: tuple) -> torch.Tensor:
    return uniform((x.shape[0],), factor[0], factor[1], x) * 2


def sharpen_images(x: torch.Tensor, factor: tuple, value_range: tuple, draw=None) -> torch.Tensor:
    """Keras 3 RandomSharpness in training: x + (1 - s) (smoothed - x), s = 2 f, f uniform in factor per image
    (sharpen_draw, or the given draw), the smoothing kernel 1/13 with 5/13 in the centre; clipped to value_range."""
    sharpness = (sharpen_draw(x, factor, value_range) if draw is None else draw).to(x.dtype).view(-1, 1, 1, 1)
    kernel = torch.full((3, 3), 1.0 / 13.0, dtype=x.dtype, device=x.device)
    kernel[1, 1] = 5.0 / 13.0
    x = x + (1.0 - sharpness) * (depthwise_same(x, kernel) - x)
    return x.clamp(value_range[0], value_range[1])
''',
    "blur_images": '''
def blur_images(x: torch.Tensor, factor: tuple, kernel_size: tuple, sigma: tuple,
                         value_range: tuple) -> torch.Tensor:
    """Keras 3 RandomGaussianBlur in training: with a probability drawn per image from factor, each image blurred by
    one Gaussian for the batch (sigma x, y uniform in sigma, + 1e-6; Keras reshapes its (ky, kx) outer product to
    (kernel_size[0], kernel_size[1])), SAME zero padding; then clipped to value_range."""
    probability = uniform((x.shape[0],), factor[0], factor[1], x)
    apply = (torch.rand(x.shape[0], device=x.device) < probability).view(-1, 1, 1, 1)
    s = (uniform((2,), sigma[0], sigma[1], x) + 1e-6).to(x.dtype)

    def one(size: int, sd: torch.Tensor) -> torch.Tensor:
        t = torch.arange(size, device=x.device, dtype=x.dtype) - (size - 1) / 2
        k = torch.exp(-0.5 * (t / sd) ** 2)
        return k / k.sum()

    kernel = torch.outer(one(kernel_size[1], s[1]), one(kernel_size[0], s[0])).reshape(kernel_size[0], kernel_size[1])
    return torch.where(apply, depthwise_same(x, kernel), x).clamp(value_range[0], value_range[1])
''',
    "box_mask": '''
def box_mask(x: torch.Tensor, ratio_x: torch.Tensor, ratio_y: torch.Tensor) -> tuple:
    """Keras's crop bounds of RandomErasing / CutMix: per image a box of ratio * size along each axis at a uniform
    position; (mask (batch, 1, height, width), the box's area fraction)."""
    batch, _, height, width = x.shape

    def bounds(length: int, ratio: torch.Tensor) -> tuple:
        crop = ratio * length
        start = torch.rand(batch, device=x.device, dtype=ratio.dtype) * (length - crop)
        return start.view(-1, 1, 1, 1), (start + crop).view(-1, 1, 1, 1)

    x0, x1 = bounds(width, ratio_x)
    y0, y1 = bounds(height, ratio_y)
    cols = torch.arange(width, device=x.device, dtype=ratio_x.dtype).view(1, 1, 1, -1)
    rows = torch.arange(height, device=x.device, dtype=ratio_x.dtype).view(1, 1, -1, 1)
    mask = (cols >= x0) & (cols < x1) & (rows >= y0) & (rows < y1)
    return mask, ((x1 - x0) * (y1 - y0)).view(-1) / (width * height)
''',
    "erase_images": '''
def erase_images(x: torch.Tensor, factor: tuple, scale: tuple, fill_value, value_range: tuple,
                 channels_last: bool) -> torch.Tensor:
    """Keras 3 RandomErasing in training: with a probability drawn per image from factor, a box of sqrt(U(scale))
    of each side at a uniform position is filled with fill_value (per channel), or, when it is None, Gaussian
    noise times value_range[1] (drawn in the images' Keras layout); the fill clipped to value_range."""
    ratio = torch.sqrt(uniform((x.shape[0], 2), scale[0], scale[1], x))
    mask, _ = box_mask(x, ratio[:, 0], ratio[:, 1])
    probability = uniform((x.shape[0],), factor[0], factor[1], x)
    apply = (torch.rand(x.shape[0], device=x.device) < probability).view(-1, 1, 1, 1)
    if fill_value is None:
        batch, channels, height, width = x.shape
        if channels_last:
            fill = torch.randn(batch, height, width, channels, device=x.device).permute(0, 3, 1, 2) * value_range[1]
        else:
            fill = torch.randn(x.shape, device=x.device) * value_range[1]
    else:
        fill = constants(fill_value if isinstance(fill_value, tuple) else (fill_value,), x).view(1, -1, 1, 1)
    fill = fill.clamp(value_range[0], value_range[1]).to(x.dtype)
    return torch.where(mask & apply, fill, x)
''',
    "log_gamma": '''
def log_gamma(shape: tuple, alpha, x: torch.Tensor) -> torch.Tensor:
    """log of Gamma(alpha, 1) draws in plain tensor ops (torch's own gamma sampler has no fake kernel, so
    torch.compile / the meta device cannot trace it): Marsaglia-Tsang for alpha + 1 with 8 proposals (the first
    accepted one kept; none accepted has a ~1e-11 chance), boosted by U ** (1 / alpha); alpha a number or a tensor."""
    if not isinstance(alpha, torch.Tensor):
        alpha = torch.full((), float(alpha), device=x.device)
    d = alpha + 1.0 - 1.0 / 3.0
    c = 1.0 / torch.sqrt(9.0 * d)
    z = torch.randn((8, *shape), device=x.device)
    u = 1.0 - torch.rand((8, *shape), device=x.device)
    v = (1.0 + c * z) ** 3
    log_v = torch.log(torch.where(v > 0, v, torch.ones_like(v)))
    accept = (v > 0) & (torch.log(u) < 0.5 * z * z + d - d * v + d * log_v)
    rank = torch.arange(8, device=x.device).view((-1,) + (1,) * len(shape))
    first = torch.where(accept, rank, 7).amin(0)
    log_g = (torch.log(d) + log_v).gather(0, first.unsqueeze(0)).squeeze(0)
    return log_g + torch.log(1.0 - torch.rand(shape, device=x.device)) / alpha
''',
    "beta": '''
def beta(shape: tuple, a, b, x: torch.Tensor) -> torch.Tensor:
    """Beta(a, b) draws: X / (X + Y) of two gamma draws, in log space."""
    return torch.sigmoid(log_gamma(shape, a, x) - log_gamma(shape, b, x))
''',
    "mix_up_images": '''
def mix_up_images(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """Keras 3 MixUp of the images in training: w x + (1 - w) x[perm], w ~ Beta(alpha, alpha) per image, perm a
    random permutation of the batch."""
    batch = x.shape[0]
    permutation = torch.randperm(batch, device=x.device)
    w = beta((batch,), alpha, alpha, x).to(x.dtype).view(-1, 1, 1, 1)
    return w * x + (1.0 - w) * x[permutation]
''',
    "cut_mix_images": '''
def cut_mix_images(x: torch.Tensor, factor: tuple) -> torch.Tensor:
    """Keras 3 CutMix of the images in training: alpha uniform in factor (+ 1e-6) for the batch, w ~ Beta(alpha,
    alpha) per image; a box of sqrt(1 - w) of each side at a uniform position is pasted from x[perm]."""
    batch = x.shape[0]
    alpha = uniform((), factor[0], factor[1], x) + 1e-6
    ratio = torch.sqrt(1.0 - beta((batch,), alpha, alpha, x))
    mask, _ = box_mask(x, ratio, ratio)
    return torch.where(mask, x[torch.randperm(batch, device=x.device)], x)
''',
    "auto_contrast_images": '''
def auto_contrast_images(x: torch.Tensor, dims: tuple, value_range: tuple) -> torch.Tensor:
    """Keras 3 AutoContrast (in inference too): each image and channel stretched so that its min and max over dims
    become 0 and 255 (in value_range mapped to [0, 255] and back); a flat channel (nan) stays as it was."""
    original = x
    x = value_range_map(x, value_range, (0, 255))
    low = x.amin(dim=dims, keepdim=True)
    scale = 255.0 / (x.amax(dim=dims, keepdim=True) - low)
    out = value_range_map((x * scale + (-low * scale)).clamp(0.0, 255.0), (0, 255), value_range)
    return torch.where(torch.isnan(out), original, out)
''',
    "equalize_images": '''
def equalize_images(x: torch.Tensor, bins: int, value_range: tuple) -> torch.Tensor:
    """Keras 3 Equalization in training: one histogram per channel over the whole batch (in value_range mapped to
    [0, 255]); a channel with more than one occupied bin is read through
    round((cdf - cdf_min) * 255 / (n - cdf_min))."""
    channels = x.shape[1]
    offsets = (torch.arange(channels, device=x.device) * bins).view(1, -1, 1, 1)
    scaled = value_range_map(x, value_range, (0, 255))
    index = (scaled.float() * (bins - 1) / 255.0).to(torch.int32).clamp(0, bins - 1) + offsets
    flat = index.reshape(-1)
    hist = torch.zeros(channels * bins, dtype=torch.int64, device=x.device)
    hist = hist.scatter_add(0, flat, torch.ones_like(flat, dtype=torch.int64)).reshape(channels, bins)
    cdf = hist.cumsum(1)
    cdf_min = torch.where(cdf > 0, cdf, cdf[:, -1:]).amin(1, keepdim=True)
    denominator = cdf[:, -1:] - cdf_min
    denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
    table = torch.round(((cdf - cdf_min) * 255).float() / denominator.float()).clamp(0, 255)
    lookup = ((scaled / 255.0) * (bins - 1)).clamp(0, bins - 1).to(torch.int32) + offsets
    equalized = table.reshape(-1)[lookup].to(x.dtype)
    equalized = torch.where(((hist > 0).sum(1) <= 1).view(1, -1, 1, 1), scaled, equalized)
    return value_range_map(equalized, (0, 255), value_range)
''',
    "clahe_images": '''
def clahe_images(x: torch.Tensor, clip_limit: float, grid: tuple, value_range: tuple) -> torch.Tensor:
    """Keras 3 ContrastLimitedAdaptiveHistogramEqualization (in inference too) of an NCHW batch, in value_range
    mapped to [0, 255]: the image padded to whole tiles (numpy's symmetric padding), one 256-bin histogram per tile
    and channel, clipped at clip_limit * tile pixels / 256 with the excess spread evenly, each tile's cdf as a
    lookup table, and each pixel read from the four nearest tile centres' tables (bilinear weights)."""
    dtype = x.dtype
    images = value_range_map(x.float(), value_range, (0, 255))
    batch, channels, height, width = images.shape
    device = images.device
    tile_h, tile_w = -(-height // grid[0]), -(-width // grid[1])
    padded_h, padded_w = tile_h * grid[0], tile_w * grid[1]

    def symmetric(size: int, padded: int) -> torch.Tensor:
        i = torch.arange(padded, device=device) % (2 * size)
        return torch.where(i >= size, 2 * size - 1 - i, i)

    if (padded_h, padded_w) != (height, width):
        images = images.index_select(2, symmetric(height, padded_h)).index_select(3, symmetric(width, padded_w))
    pix = images.clamp(0, 255).long()
    tiles = pix.reshape(batch, channels, grid[0], tile_h, grid[1], tile_w).transpose(3, 4)
    tile_id = torch.arange(batch * channels * grid[0] * grid[1], device=device).reshape(batch, channels, *grid, 1, 1)
    flat = (tile_id * 256 + tiles).reshape(-1)
    hist = torch.zeros(batch * channels * grid[0] * grid[1] * 256, dtype=torch.float32, device=device)
    hist = hist.scatter_add(0, flat, torch.ones_like(flat, dtype=torch.float32)).reshape(batch, channels, *grid, 256)
    pixels = tile_h * tile_w
    if clip_limit > 0:
        clipped = hist.clamp(0, clip_limit * pixels / 256.0)
        hist = clipped + (hist - clipped).sum(-1, keepdim=True) / 256.0
    cdf = hist.cumsum(-1)
    cdf_min = cdf.amin(-1, keepdim=True)
    denominator = float(pixels) - cdf_min
    denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
    cdf = ((cdf - cdf_min) * 255.0 / denominator).clamp(0, 255)
    cdf = torch.cat([cdf[:, :, :1], cdf, cdf[:, :, -1:]], dim=2)  # edge tiles repeated
    cdf = torch.cat([cdf[:, :, :, :1], cdf, cdf[:, :, :, -1:]], dim=3)

    def centres(length: int, tile: int, count: int) -> tuple:
        pos = (torch.arange(length, device=device, dtype=torch.float32) - tile / 2.0) / tile + 1.0
        lower = torch.floor(pos)
        return lower.clamp(0, count + 1).long(), (lower + 1.0).clamp(0, count + 1).long(), pos - lower

    y0, y1, wy = centres(padded_h, tile_h, grid[0])
    x0, x1, wx = centres(padded_w, tile_w, grid[1])
    stride_y = 256 * (grid[1] + 2)
    stride_c = stride_y * (grid[0] + 2)
    base = (torch.arange(batch * channels, device=device) * stride_c).reshape(batch, channels, 1, 1) + pix
    table = cdf.reshape(-1)
    ry0, ry1 = (y0 * stride_y).view(-1, 1), (y1 * stride_y).view(-1, 1)
    rx0, rx1 = x0 * 256, x1 * 256
    wy, wx = wy.view(-1, 1), wx.view(1, -1)
    top = table[base + (ry0 + rx0)] * (1.0 - wx) + table[base + (ry0 + rx1)] * wx
    bottom = table[base + (ry1 + rx0)] * (1.0 - wx) + table[base + (ry1 + rx1)] * wx
    out = (top * (1.0 - wy) + bottom * wy)[:, :, :height, :width]
    return value_range_map(out, (0, 255), value_range).to(dtype)
''',
    "keras_tap_index": '''
def keras_tap_index(index: torch.Tensor, size: int, fill_mode: str) -> tuple:
    """Keras 3's map_coordinates fill modes on integer tap indices: (the index to read, and for "constant" whether
    it is inside); Keras's "reflect" reflects |i| (-1 reads 1)."""
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
''',
    "map_coordinates_keras": '''
def map_coordinates_keras(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, order: int, fill_mode: str,
                          fill_value: float) -> torch.Tensor:
    """Keras 3's map_coordinates of every image and channel of an NCHW batch at (rows, cols), each (batch, height,
    width): order 0 rounds half to even, order 1 is linear; "constant" reads fill_value for a tap outside."""
    batch, channels, height, width = x.shape
    flat = x.reshape(batch, channels, height * width)
    shape = (batch, channels, rows[0].numel())
    if order == 0:
        row_taps, col_taps = [(torch.round(rows).long(), None)], [(torch.round(cols).long(), None)]
    else:
        r0, c0 = torch.floor(rows), torch.floor(cols)
        rw, cw = rows - r0, cols - c0
        row_taps = [(r0.long(), 1 - rw), (r0.long() + 1, rw)]
        col_taps = [(c0.long(), 1 - cw), (c0.long() + 1, cw)]
    fill = torch.full((), float(fill_value), dtype=x.dtype, device=x.device)
    out = None
    for r, row_weight in row_taps:
        ri, row_inside = keras_tap_index(r, height, fill_mode)
        for c, col_weight in col_taps:
            ci, col_inside = keras_tap_index(c, width, fill_mode)
            values = flat.gather(2, (ri * width + ci).reshape(batch, 1, -1).expand(shape))
            if row_inside is not None:
                values = torch.where((row_inside & col_inside).reshape(batch, 1, -1), values, fill)
            if row_weight is not None:
                values = values * (row_weight * col_weight).reshape(batch, 1, -1).to(values.dtype)
            out = values if out is None else out + values
    return out.reshape(x.shape)
''',
    "elastic_images": '''
def elastic_images(x: torch.Tensor, factor: tuple, scale: tuple, interpolation: str, fill_mode: str, fill_value: float,
                   value_range: tuple) -> torch.Tensor:
    """Keras 3 RandomElasticTransform in training: with a probability drawn per image from factor, each image resampled
    at its pixel grid plus one displacement field (Keras shifts rows and columns by the same field): Gaussian noise
    times sigma, blurred by a Gaussian of sigma (kernel sized from scale[1]), times alpha; alpha and sigma 10% and 5%
    of the image size times a distortion drawn for the batch from scale; clipped to value_range."""
    batch, _, height, width = x.shape
    probability = uniform((batch,), factor[0], factor[1], x)
    apply = (torch.rand(batch, device=x.device) < probability).view(-1, 1, 1, 1)
    distortion = uniform((), scale[0], scale[1], x)
    noise = torch.randn(batch, height, width, device=x.device)
    alpha = max(height, width) * 0.1 * distortion
    sigma = (min(height, width) * 0.05 * distortion).clamp_min(1e-6)
    size = 6 * int(min(height, width) * 0.05 * scale[1]) | 1
    taps = torch.arange(size, dtype=torch.float32, device=x.device) - (size - 1) / 2
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / kernel.sum()
    field = F.conv2d((noise * sigma).unsqueeze(1), kernel.view(1, 1, 1, -1), padding=(0, size // 2))
    shift = alpha * F.conv2d(field, kernel.view(1, 1, -1, 1), padding=(size // 2, 0)).squeeze(1)
    rows = torch.arange(height, device=x.device, dtype=torch.float32).view(1, height, 1) + shift
    cols = torch.arange(width, device=x.device, dtype=torch.float32).view(1, 1, width) + shift
    out = map_coordinates_keras(x, rows, cols, 0 if interpolation == "nearest" else 1, fill_mode, fill_value)
    return torch.where(apply, out, x).clamp(value_range[0], value_range[1])
''',
    "run_stages": '''
def run_stages(x: torch.Tensor, stages: list, training: bool) -> torch.Tensor:
    """Keras 3 Pipeline: its layers one after the other (each stage takes the images and the training flag)."""
    for stage in stages:
        x = stage(x, training)
    return x
''',
    "rand_augment_images": '''
def rand_augment_images(x: torch.Tensor, ops: list, num_ops: int) -> torch.Tensor:
    """Keras 3 RandAugment in training: each op's transformation drawn once for the call (ops: (draw, apply) pairs),
    then num_ops times one op chosen for the whole batch; as Keras, every op is applied and the chosen one kept
    (torch.where: no host sync), and an op chosen twice applies its transformation twice."""
    draws = [draw(x) for draw, _ in ops]
    chosen = torch.randint(0, len(ops), (num_ops,), device=x.device)
    for i in range(num_ops):
        current = x
        for index, ((_, apply), d) in enumerate(zip(ops, draws)):
            x = torch.where(chosen[i] == index, apply(current, d), x)
    return x
''',
    "aug_mix_images": '''
def aug_mix_images(x: torch.Tensor, ops: list, num_chains: int, chain_depth: int, alpha: float,
            value_range: tuple) -> torch.Tensor:
    """Keras 3 AugMix in training: num_chains chains of chain_depth slots, each slot one of ops or none (uniform,
    drawn for the batch; every op computed and the drawn one kept), the chains mixed with Dirichlet(alpha) weights,
    blended with the input by a Beta(alpha, alpha) weight, clipped to value_range. ops: (draw, apply) pairs."""
    gammas = torch.exp(log_gamma((num_chains,), alpha, x))
    weights = (gammas / gammas.sum()).to(x.dtype)  # Dirichlet(alpha)
    w = beta((), alpha, alpha, x).to(x.dtype)
    mixed = torch.zeros_like(x)
    for chain in range(num_chains):
        out = x
        for _ in range(chain_depth):
            chosen = torch.randint(len(ops) + 1, (), device=x.device)  # len(ops): no op in this slot
            current = out
            for index, (draw, apply) in enumerate(ops):
                out = torch.where(chosen == index, apply(current, draw(current)), out)
        mixed = mixed + out * weights[chain]
    return (w * x + (1 - w) * mixed).clamp(value_range[0], value_range[1])
''',
}

_REQUIRES = {
    "resize_tf": (), "bicubic_resize_matrix": ("normalize_rows", "keys_cubic"),
    "scale_and_translate_matrix": ("normalize_rows",), "lanczos3": ("lanczos_kernel",), "lanczos5": ("lanczos_kernel",),
    "aspect_crop_box": ("float32_ratio",), "aspect_pad": ("float32_ratio",), "aspect_crop": ("aspect_crop_box",),
    "center_crop_images": ("aspect_crop",),
    "random_crop_tf": ("random_window", "aspect_crop"), "random_crop_keras3": ("random_window", "aspect_crop_box"),
    "projective_sample": ("tf_map_coordinate",), "rotation_transforms": ("uniform",), "zoom_transforms": ("uniform",),
    "translation_transforms": ("uniform",), "shear_transforms": ("uniform",),
    "perspective_images": ("uniform", "projective_sample", "constants"), "contrast_images": ("uniform",),
    "brightness_images": ("uniform",), "grayscale": ("constants",), "grayscale_images": ("grayscale",),
    "hsv_to_rgb": ("constants",), "hue_images": ("uniform", "rgb_to_hsv", "hsv_to_rgb"),
    "saturation_images": ("uniform", "rgb_to_hsv", "hsv_to_rgb"), "solarize_images": ("uniform",),
    "degenerate_images": ("uniform", "grayscale"), "invert_images": ("uniform",),
    "posterize_images": ("value_range_map",), "sharpen_images": ("uniform", "depthwise_same"),
    "blur_images": ("uniform", "depthwise_same"), "erase_images": ("uniform", "box_mask", "constants"),
    "beta": ("log_gamma",), "mix_up_images": ("beta",), "aug_mix_images": ("log_gamma", "beta"),
    "cut_mix_images": ("uniform", "box_mask", "beta"), "auto_contrast_images": ("value_range_map",),
    "equalize_images": ("value_range_map",), "clahe_images": ("value_range_map",),
    "map_coordinates_keras": ("keras_tap_index",), "elastic_images": ("uniform", "map_coordinates_keras"),
}
register_helpers(_SOURCES, _REQUIRES)


# ---------------------------------------------------------------------------------------------- shared pieces
def _image_call(layer: Any, call: Call) -> tuple[str, str]:
    """(layout, input expression) of an image layer's call: the NCHW view (``CF`` for channels_last data), and the
    cast of integer images to float32 (Keras's compute dtype) where the layer casts them."""
    if len(call.shapes) != 1:
        raise call.fail("a call on several tensors (a dict of images and bounding boxes / masks / labels) has no "
                        "ejected form: the ejected model transforms images")
    if call.rank != 4:
        raise call.fail(f"an image layer in a model takes batched rank-4 images; the input has rank {call.rank}")
    x = "{x}" if call.dtypes[0].is_floating_point else "{x}.float()"
    return spatial_layout(layer), x


def _channels(layer: Any, call: Call) -> int | None:
    return call.shape[-1] if layer.data_format == "channels_last" else call.shape[1]


def _random(call: Call, expr: str, x: str = "{x}") -> str:
    """A training-only transform: ``expr`` in training, the input in inference (an explicit ``training=`` of the
    call decides at generation)."""
    training = _training(call)
    if training == "True":
        return expr
    if training == "False":
        return x
    return f"{expr} if {training} else {x}"


def _emitted(forward: str, layout: str, helpers: tuple) -> Emitted:
    return Emitted(forward, layout_in=layout, layout_out=layout, helpers=helpers)


def _num(value: Any) -> str:
    """A factor as the exact Python float the layer holds (the helpers do Keras's arithmetic on it)."""
    return repr(float(value))


def _pair(values: Any) -> str:
    return "(" + ", ".join(_num(v) for v in values) + ")"


# ---------------------------------------------------------------------------------------------- resizing / crops
_MATRIX_METHODS = {  # method -> (matrix helper, kernel helper, radius) of resize_tf
    "area": ("area_resize_matrix", None, None),
    "lanczos3": ("scale_and_translate_matrix", "lanczos3", 3.0),
    "lanczos5": ("scale_and_translate_matrix", "lanczos5", 5.0),
    "gaussian": ("scale_and_translate_matrix", "gaussian_resize_kernel", 1.5),
    "mitchellcubic": ("scale_and_translate_matrix", "mitchell_cubic", 2.0),
    "bicubic": ("scale_and_translate_matrix", "keys_cubic", 2.0),
    "bilinear": ("scale_and_translate_matrix", "triangle_kernel", 1.0),
}


def resize_expr(x: str, height: int, width: int, method: str, antialias: bool) -> tuple[str, tuple]:
    """(expression, helpers) of ``tf.image.resize`` of the NCHW batch ``x`` (kerastorch's ``transforms.resize``)."""
    if method == "nearest":
        return f"resize_nearest_tf({x}, {height}, {width})", ("resize_nearest_tf",)
    if method == "bilinear" and not antialias:
        return f'F.interpolate({x}, size=({height}, {width}), mode="bilinear", align_corners=False)', ()
    if method == "bicubic" and not antialias:
        return f"resize_tf({x}, {height}, {width}, bicubic_resize_matrix)", ("resize_tf", "bicubic_resize_matrix")
    matrix, kernel, radius = _MATRIX_METHODS[method]
    if kernel is None:
        return f"resize_tf({x}, {height}, {width}, {matrix})", ("resize_tf", matrix)
    return (f"resize_tf({x}, {height}, {width}, {matrix}, {kernel}, {radius!r}, {antialias})",
            ("resize_tf", matrix, kernel))


_INT_RANGES = {"torch.uint8": (0, 255), "torch.int8": (-128, 127), "torch.int16": (-32768, 32767),
               "torch.int32": (-2**31, 2**31 - 1)}


@EMITTERS.register("Resizing")
def resizing(layer: Any, call: Call) -> Emitted:
    """Keras Resizing: TF's kernels for every interpolation, crop_to_aspect_ratio / pad_to_aspect_ratio first; a
    Keras 3 layer rounds and casts the result back to an integer input's dtype (saturating), tf.keras returns
    float32."""
    layout, _ = _image_call(layer, call)
    dtype = call.dtypes[0]
    method = layer.interpolation
    x = "{x}"
    if not dtype.is_floating_point and not (method == "nearest" and layer._keras3):
        x = "{x}.float()"
    helpers: tuple = ()
    if layer.crop_to_aspect_ratio:
        x, helpers = f"aspect_crop({x}, {layer.height}, {layer.width}, {layer._keras3})", ("aspect_crop",)
    elif layer.pad_to_aspect_ratio:
        x, helpers = f"aspect_pad({x}, {layer.height}, {layer.width}, {_num(layer.fill_value)})", ("aspect_pad",)
    expr, more = resize_expr(x, layer.height, layer.width, method, layer.antialias)
    if layer._keras3 and not dtype.is_floating_point and not method == "nearest":
        if str(dtype) not in _INT_RANGES:
            raise call.fail(f"a Keras 3 Resizing of {dtype} images has no ejected form")
        lo, hi = _INT_RANGES[str(dtype)]
        expr = f"{expr}.round().clamp({lo}, {hi}).to({dtype})"
    return _emitted(expr, layout, helpers + more)


@EMITTERS.register("CenterCrop")
def center_crop(layer: Any, call: Call) -> Emitted:
    """Keras CenterCrop: a static slice when the input size is known and large enough, else the helper (which falls
    back to smart_resize for a smaller input)."""
    layout, x = _image_call(layer, call)
    sizes = call.shape[1:3] if layer.data_format == "channels_last" else call.shape[2:4]
    h, w = layer.height, layer.width
    if all(s is not None for s in sizes) and sizes[0] >= h and sizes[1] >= w:
        top, left = (sizes[0] - h) // 2, (sizes[1] - w) // 2
        if (top, left, h, w) == (0, 0, *sizes):
            return _emitted(x, layout, ())
        return _emitted(f"{x}[:, :, {top}:{top + h}, {left}:{left + w}]", layout, ())
    return _emitted(f"center_crop_images({x}, {h}, {w}, {layer._keras3})", layout, ("center_crop_images",))


@EMITTERS.register("RandomCrop")
def random_crop(layer: Any, call: Call) -> Emitted:
    layout, x = _image_call(layer, call)
    helper = "random_crop_keras3" if layer._keras3 else "random_crop_tf"
    return _emitted(f"{helper}({x}, {layer.height}, {layer.width}, {_training(call)})", layout, (helper,))


# ---------------------------------------------------------------------------------------------- geometric
@EMITTERS.register("RandomFlip")
def random_flip(layer: Any, call: Call) -> Emitted:
    layout, x = _image_call(layer, call)
    horizontal = layer.mode in ("horizontal", "horizontal_and_vertical")
    vertical = layer.mode in ("vertical", "horizontal_and_vertical")
    expr = f"flip_images({x}, {horizontal}, {vertical}, joint={bool(layer._keras3)})"
    return _emitted(_random(call, expr, x), layout, ("flip_images",))


def _sampler(layer: Any) -> tuple[str, str]:
    """(expression over ``{X}`` (the images) and ``{T}`` (the transforms), helper) of the sampler a BaseAffineLayer's
    fill mode and interpolation need."""
    fill_mode, fill_value = fmt(layer.fill_mode), _num(layer.fill_value)
    if layer.interpolation == "bilinear" and layer.fill_mode != "wrap":
        return f"affine_sample({{X}}, {{T}}, {fill_mode}, {fill_value})", "affine_sample"
    return (f"projective_sample({{X}}, {{T}}, {fmt(layer.interpolation)}, {fill_mode}, {fill_value})",
            "projective_sample")


_AFFINE: dict[str, Callable[[Any], tuple[str, str, tuple]]] = {}  # class -> (transforms, sampler, helpers)


def _affine_layer(name: str, transforms: Callable[[Any], str], helper: str) -> None:
    """Register a BaseAffineLayer: its random transforms (over ``{X}``) through its sampler, in training."""
    def parts(layer: Any) -> tuple[str, str, tuple]:
        sampler, sampler_helper = _sampler(layer)
        return transforms(layer), sampler, (helper, sampler_helper)

    def emit(layer: Any, call: Call) -> Emitted:
        layout, x = _image_call(layer, call)
        t, sampler, helpers = parts(layer)
        expr = sampler.replace("{T}", t).replace("{X}", x)
        return _emitted(_random(call, expr, x), layout, helpers)

    _AFFINE[name] = parts
    EMITTERS.alias(name, emit)


def _ranges(layer: Any, width_optional: bool = False) -> str:
    """RandomZoom / RandomTranslation's (height range, width range) arguments."""
    height = _pair((layer.height_lower, layer.height_upper))
    if width_optional and layer.width_factor is None:
        return f"{height}, None"
    return f"{height}, {_pair((layer.width_lower, layer.width_upper))}"


_affine_layer("RandomRotation", lambda l: f"rotation_transforms({{X}}, {_pair(l.factor)})", "rotation_transforms")
_affine_layer("RandomZoom", lambda l: f"zoom_transforms({{X}}, {_ranges(l, True)})", "zoom_transforms")
_affine_layer("RandomTranslation", lambda l: f"translation_transforms({{X}}, {_ranges(l)})", "translation_transforms")
_affine_layer("RandomShear", lambda l: f"shear_transforms({{X}}, {_pair(l.x_factor)}, {_pair(l.y_factor)})",
              "shear_transforms")


@EMITTERS.register("RandomPerspective")
def random_perspective(layer: Any, call: Call) -> Emitted:
    layout, x = _image_call(layer, call)
    expr = (f"perspective_images({x}, {_pair(layer.factor)}, {_num(layer.scale)}, {fmt(layer.interpolation)}, "
            f"{_num(layer.fill_value)})")
    return _emitted(_random(call, expr, x), layout, ("perspective_images",))


# ---------------------------------------------------------------------------------------------- colour, mixing
def _value_range(layer: Any) -> str:
    return _pair(layer.value_range)


def _rgb(layer: Any, call: Call, allowed: tuple) -> None:
    if _channels(layer, call) not in allowed:
        raise call.fail(f"it takes images with {' or '.join(map(str, allowed))} channels; the input has "
                        f"{_channels(layer, call)}")


def _training_only(helper: str, arguments: Callable[[Any], str], channels: tuple | None = None):
    """The emitter of a layer that transforms in training only: ``helper(x, arguments(layer))``."""
    def emit(layer: Any, call: Call) -> Emitted:
        if channels is not None:
            _rgb(layer, call, channels)
        layout, x = _image_call(layer, call)
        return _emitted(_random(call, f"{helper}({x}, {arguments(layer)})", x), layout, (helper,))

    return emit


def _factor_range(layer: Any) -> str:
    return f"{_pair(layer.factor)}, {_value_range(layer)}"


_TRAINING_ONLY = {  # class -> (helper, its arguments after the images, the channel counts it takes)
    "RandomContrast": ("contrast_images", lambda l: f"{_pair(l.factor)}, {bool(l._keras3)}, {_value_range(l)}", None),
    "RandomBrightness": ("brightness_images", _factor_range, None),
    "RandomGrayscale": ("grayscale_images", lambda l: _num(l.factor), (1, 3)),
    "RandomHue": ("hue_images", _factor_range, (3,)),
    "RandomSaturation": ("saturation_images", _factor_range, (3,)),
    "Solarization": ("solarize_images", lambda l: f"{_pair(l.addition_factor)}, {_pair(l.threshold_factor)}, "
                                               f"{_value_range(l)}", None),
    "RandomColorDegeneration": ("degenerate_images", _factor_range, (3,)),
    "RandomInvert": ("invert_images", _factor_range, None),
    "RandomPosterization": ("posterize_images",
                            lambda l: f"({int(l.factor[0])}, {int(l.factor[1])}), {_value_range(l)}", None),
    "RandomSharpness": ("sharpen_images", _factor_range, None),
    "RandomGaussianBlur": ("blur_images", lambda l: f"{_pair(l.factor)}, {tup(l.kernel_size)}, "
                                                             f"{_pair(l.sigma)}, {_value_range(l)}", None),
    "RandomErasing": ("erase_images", lambda l: f"{_pair(l.factor)}, {_pair(l.scale)}, "
                                                  f"{_fill(l.fill_value)}, {_value_range(l)}, "
                                                  f"{l.data_format == 'channels_last'}", None),
    "MixUp": ("mix_up_images", lambda l: _num(l.alpha), None),
    "CutMix": ("cut_mix_images", lambda l: _pair(l.factor), None),
    "Equalization": ("equalize_images", lambda l: f"{l.bins}, {_value_range(l)}", None),
}


def _fill(value: Any) -> str:
    if value is None:
        return "None"
    return _pair(value) if isinstance(value, (list, tuple)) else _num(value)


for _name, (_helper, _arguments, _allowed) in _TRAINING_ONLY.items():
    EMITTERS.alias(_name, _training_only(_helper, _arguments, _allowed))


@EMITTERS.register("AutoContrast")
def auto_contrast(layer: Any, call: Call) -> Emitted:
    """Keras 3 AutoContrast, in inference too. Keras takes the min / max over axes (1, 2) whatever the data format:
    height and width of channels_last images, channels and height of channels_first ones."""
    layout, x = _image_call(layer, call)
    dims = (2, 3) if layer.data_format == "channels_last" else (1, 2)
    return _emitted(f"auto_contrast_images({x}, {dims}, {_value_range(layer)})", layout, ("auto_contrast_images",))


@EMITTERS.register("ContrastLimitedAdaptiveHistogramEqualization")
def clahe(layer: Any, call: Call) -> Emitted:
    """Keras 3 CLAHE, in inference too."""
    layout, x = _image_call(layer, call)
    expr = f"clahe_images({x}, {_num(layer.clip_limit)}, {tup(layer.tile_grid_size)}, {_value_range(layer)})"
    return _emitted(expr, layout, ("clahe_images",))


def _inner(stage: Any, call: Call) -> Emitted:
    """The training-mode form of a composite layer's inner layer on the same images."""
    emit = EMITTERS.lookup(type(stage).__name__)
    return emit(stage, Call(stage, call.shapes, call.layouts, call.out_shapes, {"training": True}, [torch.float32]))


@EMITTERS.register("RandomColorJitter")
def random_color_jitter(layer: Any, call: Call) -> Emitted:
    """Keras 3 RandomColorJitter: its brightness, contrast, saturation and hue stages in that order, each drawing
    its own transformation (the stages' own emitters, chained)."""
    layout, x = _image_call(layer, call)
    expr, helpers = x, []
    for stage in layer._stages:
        em = _inner(stage, call)
        expr = em.forward.replace("{x}", expr)
        helpers += em.helpers
    return _emitted(_random(call, expr, x) if layer._stages else x, layout, tuple(helpers))


_DRAWN = {"RandomBrightness", "RandomColorDegeneration", "RandomContrast", "RandomSharpness", "RandomPosterization",
          "Solarization"}  # their helpers take a transformation drawn apart: (name)_draw(x, ...), draw=


def _draw_apply(stage: Any, call: Call) -> tuple[str, str, tuple]:
    """(draw, apply, helpers) of a composite layer's inner layer as two lambdas' bodies over ``v`` (and the draw
    ``d``): the transformation drawn apart from its application, as Keras's ``get_random_transformation`` /
    ``transform_images``."""
    name = type(stage).__name__
    if name in _AFFINE:
        transforms, sampler, helpers = _AFFINE[name](stage)
        return transforms.replace("{X}", "v"), sampler.replace("{X}", "v").replace("{T}", "d"), helpers
    em = _inner(stage, call)
    forward = em.forward.replace("{x}", "v")
    if name not in _DRAWN:
        return "None", forward, em.helpers
    helper, arguments, _ = _TRAINING_ONLY[name]
    draw = helper.replace("_images", "_draw")
    return f"{draw}(v, {arguments(stage)})", f"{forward[:-1]}, draw=d)", em.helpers


def _with_ops(layer: Any, call: Call, helper: str, arguments: str) -> Emitted:
    """RandAugment / AugMix: ``helper(x, self.<attr>_ops, arguments)`` in training; ``self.<attr>_ops`` (set in
    ``__init__``): per inner augmentation, in Keras's order, a (draw, apply) pair of lambdas."""
    layout, x = _image_call(layer, call)
    lines = [f"self.{{a}}_ops = [  # Keras 3's augmentations at factor {_pair(layer.factor)}: (draw, apply)"]
    helpers = [helper]
    for stage in layer._augmenters.values():
        draw, apply, more = _draw_apply(stage, call)
        lines += [f"    (lambda v: {draw},", f"     lambda v, d: {apply}),"]
        helpers += more
    expr = _random(call, f"{helper}({x}, self.{{a}}_ops, {arguments})", x)
    return Emitted(expr, layout_in=layout, layout_out=layout, helpers=helpers, init=(*lines, "]"))


@EMITTERS.register("RandAugment")
def rand_augment(layer: Any, call: Call) -> Emitted:
    return _with_ops(layer, call, "rand_augment_images", str(layer.num_ops))


@EMITTERS.register("AugMix")
def aug_mix(layer: Any, call: Call) -> Emitted:
    arguments = f"{layer.num_chains}, {layer.chain_depth}, {_num(layer.alpha)}, {_value_range(layer)}"
    return _with_ops(layer, call, "aug_mix_images", arguments)


@EMITTERS.register("MaxNumBoundingBoxes")
def max_num_bounding_boxes(layer: Any, call: Call) -> Emitted:
    """Keras 3 MaxNumBoundingBoxes on images: the images as they are (float32 for integer ones); it pads / truncates
    bounding boxes only, which the ejected model does not take."""
    layout, x = _image_call(layer, call)
    return _emitted(x, call.layouts[0] if x == "{x}" else layout, ())


@EMITTERS.register("Pipeline")
def pipeline(layer: Any, call: Call) -> Emitted:
    """Keras 3 Pipeline: ``self.<attr>_stages``, one lambda per layer (its own ejected form, taking the training
    flag), run in order by ``run_stages``."""
    layout, x = _image_call(layer, call)
    lines = ["self.{a}_stages = [  # Keras 3 Pipeline: each stage (images, training)"]
    helpers, shape = ["run_stages"], call.shape
    for stage in layer.layers:
        name = type(stage).__name__
        if name not in EMITTERS or spatial_layout(stage) != layout:
            raise call.fail(f"its {name} layer has no ejected form in a Pipeline (image layers of one data format "
                            "have)")
        out_shape = tuple(stage.compute_output_shape(shape))
        view = Call(stage, [shape], [layout], [out_shape], dict(call.consts), [torch.float32])
        em = EMITTERS.lookup(name)(stage, view)
        if em.init or em.module or em.weights or "{m}" in em.forward or "{a}" in em.forward:
            raise call.fail(f"its {name} layer holds modules or state of its own, which a Pipeline stage cannot")
        forward = em.forward.replace("{x}", "v").replace("{x0}", "v").replace("{training}", "training")
        lines.append(f"    lambda v, training: {forward},")
        helpers += em.helpers
        shape = out_shape
    return Emitted(f"run_stages({x}, self.{{a}}_stages, {_training(call)})", layout_in=layout, layout_out=layout,
                   helpers=tuple(helpers), init=(*lines, "]"))


@EMITTERS.register("RandomElasticTransform")
def random_elastic_transform(layer: Any, call: Call) -> Emitted:
    layout, x = _image_call(layer, call)
    if layer.scale[1] == 0 or layer.factor[1] == 0:  # Keras draws no transformation then
        return _emitted(x, layout, ())
    expr = (f"elastic_images({x}, {_pair(layer.factor)}, {_pair(layer.scale)}, {fmt(layer.interpolation)}, "
            f"{fmt(layer.fill_mode)}, {_num(layer.fill_value)}, {_value_range(layer)})")
    return _emitted(_random(call, expr, x), layout, ("elastic_images",))

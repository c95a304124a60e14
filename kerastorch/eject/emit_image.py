"""Emitters of the image preprocessing and augmentation layers (``layers/preprocessing/image_preprocessing``).

Each layer becomes one call of a small helper written into ``model.py`` (only the helpers its configuration
needs): TensorFlow's resize kernels as resampling matrices (``tf_resize``), ``ImageProjectiveTransformV3`` as one
``F.grid_sample`` (``transforms``), the colour kernels (``color_ops``). The helpers take batched NCHW images:
a ``channels_last`` layer reads the channels-first view of its input (the ``CF`` layout, the same one the
convolutions after it read, so no permute is written between them), a ``channels_first`` one its input as it is.

Training follows ``nn.Module.training`` (``self.training``; an explicit ``training=`` of the call wins): in eval
the random layers are the identity (or Keras's deterministic transform), in training they draw their
transformations from torch's global generator with the distribution and per-image / per-batch structure of the
loaded layer (its Keras version decides where tf.keras and Keras 3 differ). A layer's ``seed`` is not carried over:
the ejected model draws from ``torch.manual_seed``'s stream, as ``nn.Dropout`` does.
"""
from __future__ import annotations

from typing import Any

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
        scale = torch.tensor(n_in / n_out, dtype=torch.float32, device=x.device)
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
    """TensorFlow's ResizeArea: output y averages the input span [y s, (y + 1) s), s = n_in / n_out, by exact overlaps."""
    s = n_in / n_out
    start = torch.arange(n_out, dtype=torch.float64, device=device)[:, None] * s
    lo = torch.arange(n_in, dtype=torch.float64, device=device)[None, :]
    return (torch.minimum(lo + 1, start + s) - torch.maximum(lo, start)).clamp(min=0.0) / s
''',
    "bicubic_resize_matrix": '''
def bicubic_resize_matrix(n_in: int, n_out: int, device: torch.device) -> torch.Tensor:
    """TensorFlow's ResizeBicubic (half-pixel centres): the sample position in float32, its fraction rounded to
    1/1024 (TensorFlow reads the Keys kernel from a 1024-entry table), taps outside dropped and renormalized."""
    scale = torch.tensor(float(n_in), dtype=torch.float32, device=device) / float(n_out)
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
    "aspect_crop_box": '''
def aspect_crop_box(in_h: int, in_w: int, height: int, width: int, at_least_one: bool) -> tuple:
    """Keras's centred crop of the target's aspect ratio (crop_to_aspect_ratio, smart_resize): (top, left,
    crop height, crop width); Keras 3 keeps at least one pixel, tf.keras does not."""
    crop_h = min(in_h, int(in_w * height / width))
    crop_w = min(in_w, int(in_h * width / height))
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
    pad_h = (max(in_h, int(in_w * height / width)) - in_h) // 2
    pad_w = (max(in_w, int(in_h * width / height)) - in_w) // 2
    return F.pad(x, (pad_w, pad_w, pad_h, pad_h), value=value) if pad_h or pad_w else x
''',
    "center_crop": '''
def center_crop(x: torch.Tensor, height: int, width: int, at_least_one: bool) -> torch.Tensor:
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
    # ------------------------------------------------------------------------------------------ flips
    "random_flip": '''
def random_flip(x: torch.Tensor, horizontal: bool, vertical: bool, joint: bool) -> torch.Tensor:
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
    "random_perspective": '''
def random_perspective(x: torch.Tensor, factor: tuple, scale: float, interpolation: str, fill_value: float) -> torch.Tensor:
    """Keras 3 RandomPerspective of an NCHW batch in training: each image, with a probability drawn from factor,
    has its four corners moved by up to scale / 2 of their coordinates and is sampled through the homography that
    maps the moved corners back (one 8x8 solve per image), fill_mode "constant"."""
    batch, _, height, width = x.shape
    probability = uniform((batch,), factor[0], factor[1], x)
    apply = torch.rand(batch, device=x.device) < probability
    moves = uniform((batch, 4, 2), -0.5 * scale, 0.5 * scale, x)
    start = torch.tensor([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]], device=x.device)
    start = start.expand(batch, 4, 2)
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
    "random_contrast": '''
def random_contrast(x: torch.Tensor, factor: tuple, per_image: bool, value_range: tuple) -> torch.Tensor:
    """Keras RandomContrast of an NCHW batch in training: (x - mean) * c + mean per channel (mean over height,
    then width), c uniform in [1 - factor[0], 1 + factor[1]), one per image (Keras 3) or one for the batch
    (tf.keras), clipped to value_range."""
    shape = (x.shape[0] if per_image else 1, 1, 1, 1)
    c = uniform(shape, 1.0 - factor[0], 1.0 + factor[1], x).to(x.dtype)
    mean = x.mean(2, keepdim=True).mean(3, keepdim=True)
    return ((x - mean) * c + mean).clamp(value_range[0], value_range[1])
''',
    "random_brightness": '''
def random_brightness(x: torch.Tensor, low: float, high: float, value_range: tuple) -> torch.Tensor:
    """Keras RandomBrightness in training: adds delta * (value_range width) to each image, delta uniform in
    [low, high) per image, clipped to value_range."""
    delta = uniform((x.shape[0], 1, 1, 1), low, high, x) * (value_range[1] - value_range[0])
    return (x + delta.to(x.dtype)).clamp(value_range[0], value_range[1])
''',
    "grayscale": f'''
def grayscale(x: torch.Tensor) -> torch.Tensor:
    """Keras's rgb_to_grayscale of an NCHW batch: {GRAY_WEIGHTS[0]} r + {GRAY_WEIGHTS[1]} g + {GRAY_WEIGHTS[2]} b, one channel."""
    weights = torch.tensor({GRAY_WEIGHTS!r}, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * weights).sum(1, keepdim=True) if x.shape[1] == 3 else x
''',
    "random_grayscale": '''
def random_grayscale(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Keras 3 RandomGrayscale in training: each image becomes its grayscale (on every channel) with probability factor."""
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
    a = torch.tensor([1.0, -1.0, -1.0], dtype=h.dtype, device=h.device).view(1, 3, 1, 1)
    k = torch.tensor([3.0, 2.0, 4.0], dtype=h.dtype, device=h.device).view(1, 3, 1, 1)
    c = torch.tensor([-1.0, 2.0, 2.0], dtype=h.dtype, device=h.device).view(1, 3, 1, 1)
    d = (a * (h * 6.0 - k).abs() + c).clamp(0.0, 1.0)
    return (1.0 - s + s * d) * v
''',
    "random_hue": '''
def random_hue(x: torch.Tensor, low: float, high: float, value_range: tuple) -> torch.Tensor:
    """Keras 3 RandomHue in training: each image's hue shifted by +-U(low, high) / 2 (sign and size per image), in
    value_range mapped to [0, 1] and back."""
    sign = torch.where(torch.rand(x.shape[0], device=x.device) > 0.5, -1.0, 1.0)
    shift = (sign * uniform((x.shape[0],), low, high, x) * 0.5).to(x.dtype).view(-1, 1, 1, 1)
    lo, hi = value_range
    h, s, v = rgb_to_hsv((x - lo) / (hi - lo))
    h = h + shift
    h = torch.where(h > 1.0, h - 1.0, h)
    h = torch.where(h < 0.0, h + 1.0, h)
    return hsv_to_rgb(h, s, v).clamp(0.0, 1.0) * (hi - lo) + lo
''',
    "random_saturation": '''
def random_saturation(x: torch.Tensor, low: float, high: float, value_range: tuple) -> torch.Tensor:
    """Keras 3 RandomSaturation in training: each image's HSV saturation scaled by f / (1 - f + 1e-7), f uniform in
    [low, high) per image, clipped to value_range (as Keras, on the raw values)."""
    f = uniform((x.shape[0],), low, high, x)
    factor = (f / (1 - f + 1e-7)).to(x.dtype).view(-1, 1, 1, 1)
    h, s, v = rgb_to_hsv(x)
    return hsv_to_rgb(h, (s * factor).clamp(value_range[0], value_range[1]), v)
''',
    "solarization": '''
def solarization(x: torch.Tensor, addition: tuple, threshold: tuple, value_range: tuple) -> torch.Tensor:
    """Keras 3 Solarization in training: in [0, 255], y = clip(x + a, 0, 255), then y below t else 255 - y, a and t
    uniform per image in [addition[0], addition[1] * 255) and [threshold[0], threshold[1] * 255) (Keras scales only
    the upper ends), value_range mapped to [0, 255] and back."""
    shape = (x.shape[0], 1, 1, 1)
    add = uniform(shape, addition[0], addition[1] * 255, x).to(x.dtype)
    limit = uniform(shape, threshold[0], threshold[1] * 255, x).to(x.dtype)
    lo, hi = value_range
    if (lo, hi) != (0, 255):
        x = (x - lo) / (hi - lo) * 255
    y = (x + add).clamp(0, 255)
    y = torch.where(y < limit, y, 255 - y)
    return y if (lo, hi) == (0, 255) else y / 255 * (hi - lo) + lo
''',
}

_REQUIRES = {
    "resize_tf": (), "bicubic_resize_matrix": ("normalize_rows", "keys_cubic"),
    "scale_and_translate_matrix": ("normalize_rows",), "lanczos3": ("lanczos_kernel",), "lanczos5": ("lanczos_kernel",),
    "aspect_crop": ("aspect_crop_box",), "center_crop": ("aspect_crop",),
    "random_crop_tf": ("random_window", "aspect_crop"), "random_crop_keras3": ("random_window", "aspect_crop_box"),
    "projective_sample": ("tf_map_coordinate",), "rotation_transforms": ("uniform",), "zoom_transforms": ("uniform",),
    "translation_transforms": ("uniform",), "shear_transforms": ("uniform",),
    "random_perspective": ("uniform", "projective_sample"), "random_contrast": ("uniform",),
    "random_brightness": ("uniform",), "random_grayscale": ("grayscale",), "random_hue": ("uniform", "rgb_to_hsv", "hsv_to_rgb"),
    "random_saturation": ("uniform", "rgb_to_hsv", "hsv_to_rgb"), "solarization": ("uniform",),
}
register_helpers(_SOURCES, _REQUIRES)


# ---------------------------------------------------------------------------------------------- shared pieces
def _image_call(layer: Any, call: Call) -> tuple[str, str]:
    """(layout, input expression) of an image layer's call: the NCHW view (``CF`` for channels_last data), and the
    cast of integer images to float32 (Keras's compute dtype) where the layer casts them."""
    if call.rank != 4:
        raise call.fail(f"an image layer in a model takes batched rank-4 images; this call's input has rank {call.rank}")
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
    Keras 3 layer rounds and casts the result back to an integer input's dtype (saturating), tf.keras returns float32."""
    if call.rank != 4:
        raise call.fail(f"an image layer in a model takes batched rank-4 images; this call's input has rank {call.rank}")
    layout = spatial_layout(layer)
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
    return _emitted(f"center_crop({x}, {h}, {w}, {layer._keras3})", layout, ("center_crop",))


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
    expr = f"random_flip({x}, {horizontal}, {vertical}, joint={bool(layer._keras3)})"
    return _emitted(_random(call, expr, x), layout, ("random_flip",))


def _affine(layer: Any, call: Call, transforms: str, helper: str) -> Emitted:
    """A BaseAffineLayer: its transforms through the sampler its fill mode and interpolation need."""
    layout, x = _image_call(layer, call)
    transforms = transforms.replace("{X}", x)
    fill_mode, fill_value = layer.fill_mode, _num(layer.fill_value)
    if layer.interpolation == "bilinear" and fill_mode != "wrap":
        expr, sampler = f"affine_sample({x}, {transforms}, {fmt(fill_mode)}, {fill_value})", "affine_sample"
    else:
        expr = f"projective_sample({x}, {transforms}, {fmt(layer.interpolation)}, {fmt(fill_mode)}, {fill_value})"
        sampler = "projective_sample"
    return _emitted(_random(call, expr, x), layout, (helper, sampler))


@EMITTERS.register("RandomRotation")
def random_rotation(layer: Any, call: Call) -> Emitted:
    return _affine(layer, call, f"rotation_transforms({{X}}, {_pair(layer.factor)})", "rotation_transforms")


@EMITTERS.register("RandomZoom")
def random_zoom(layer: Any, call: Call) -> Emitted:
    width = "None" if layer.width_factor is None else _pair((layer.width_lower, layer.width_upper))
    return _affine(layer, call, f"zoom_transforms({{X}}, {_pair((layer.height_lower, layer.height_upper))}, {width})",
                   "zoom_transforms")


@EMITTERS.register("RandomTranslation")
def random_translation(layer: Any, call: Call) -> Emitted:
    rows, cols = _pair((layer.height_lower, layer.height_upper)), _pair((layer.width_lower, layer.width_upper))
    return _affine(layer, call, f"translation_transforms({{X}}, {rows}, {cols})", "translation_transforms")


@EMITTERS.register("RandomShear")
def random_shear(layer: Any, call: Call) -> Emitted:
    return _affine(layer, call, f"shear_transforms({{X}}, {_pair(layer.x_factor)}, {_pair(layer.y_factor)})",
                   "shear_transforms")


@EMITTERS.register("RandomPerspective")
def random_perspective(layer: Any, call: Call) -> Emitted:
    layout, x = _image_call(layer, call)
    expr = (f"random_perspective({x}, {_pair(layer.factor)}, {_num(layer.scale)}, {fmt(layer.interpolation)}, "
            f"{_num(layer.fill_value)})")
    return _emitted(_random(call, expr, x), layout, ("random_perspective",))


# ---------------------------------------------------------------------------------------------- colour
def _value_range(layer: Any) -> str:
    return _pair(layer.value_range)


@EMITTERS.register("RandomContrast")
def random_contrast(layer: Any, call: Call) -> Emitted:
    layout, x = _image_call(layer, call)
    expr = f"random_contrast({x}, {_pair(layer.factor)}, {bool(layer._keras3)}, {_value_range(layer)})"
    return _emitted(_random(call, expr, x), layout, ("random_contrast",))


@EMITTERS.register("RandomBrightness")
def random_brightness(layer: Any, call: Call) -> Emitted:
    layout, x = _image_call(layer, call)
    expr = f"random_brightness({x}, {_num(layer.factor[0])}, {_num(layer.factor[1])}, {_value_range(layer)})"
    return _emitted(_random(call, expr, x), layout, ("random_brightness",))


def _rgb(layer: Any, call: Call, allowed: tuple = (3,)) -> None:
    if _channels(layer, call) not in allowed:
        raise call.fail(f"it takes images with {' or '.join(map(str, allowed))} channels; the input has "
                        f"{_channels(layer, call)}")


@EMITTERS.register("RandomGrayscale")
def random_grayscale(layer: Any, call: Call) -> Emitted:
    _rgb(layer, call, (1, 3))
    layout, x = _image_call(layer, call)
    return _emitted(_random(call, f"random_grayscale({x}, {_num(layer.factor)})", x), layout, ("random_grayscale",))


@EMITTERS.register("RandomHue")
def random_hue(layer: Any, call: Call) -> Emitted:
    _rgb(layer, call)
    layout, x = _image_call(layer, call)
    expr = f"random_hue({x}, {_num(layer.factor[0])}, {_num(layer.factor[1])}, {_value_range(layer)})"
    return _emitted(_random(call, expr, x), layout, ("random_hue",))


@EMITTERS.register("RandomSaturation")
def random_saturation(layer: Any, call: Call) -> Emitted:
    _rgb(layer, call)
    layout, x = _image_call(layer, call)
    expr = f"random_saturation({x}, {_num(layer.factor[0])}, {_num(layer.factor[1])}, {_value_range(layer)})"
    return _emitted(_random(call, expr, x), layout, ("random_saturation",))


@EMITTERS.register("Solarization")
def solarization(layer: Any, call: Call) -> Emitted:
    layout, x = _image_call(layer, call)
    expr = (f"solarization({x}, {_pair(layer.addition_factor)}, {_pair(layer.threshold_factor)}, "
            f"{_value_range(layer)})")
    return _emitted(_random(call, expr, x), layout, ("solarization",))


@EMITTERS.register("RandomColorJitter")
def random_color_jitter(layer: Any, call: Call) -> Emitted:
    """Keras 3 RandomColorJitter: its brightness, contrast, saturation and hue stages in that order, each drawing
    its own transformation (the stages' own emitters, chained)."""
    layout, x = _image_call(layer, call)
    expr, helpers = x, []
    for stage in layer._stages:
        em = EMITTERS.lookup(type(stage).__name__)(stage, Call(stage, call.shapes, call.layouts, call.out_shapes,
                                                                 {"training": True}, [torch.float32]))
        expr = em.forward.replace("{x}", expr)
        helpers += em.helpers
    return _emitted(_random(call, expr, x) if layer._stages else x, layout, tuple(helpers))

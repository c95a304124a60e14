"""Image ops the colour layers share, as Keras 3's TensorFlow backend computes them (``keras.ops.image`` on
``tf.image``), on batched tensors in either data format; plus the gamma/beta draws of the mixing layers.

- ``rgb_to_grayscale``: ``0.2989 r + 0.5870 g + 0.1140 b`` (one channel kept; a one-channel image is returned
  as it is);
- ``rgb_to_hsv`` / ``hsv_to_rgb``: TensorFlow's ``RGBToHSV`` / ``HSVToRGB`` kernels (hue in ``[0, 1)``);
- ``depthwise_same``: one 2-D kernel applied to every channel with TensorFlow's ``SAME`` zero padding;
- ``gaussian_kernel``: Keras's ``gaussian_blur`` kernel, including its reshape of the ``(ky, kx)`` outer product
  into ``(kernel_size[0], kernel_size[1])``;
- ``sample_gamma`` / ``sample_beta``: Marsaglia-Tsang gamma draws from the layer's generator (vectorized, a fixed
  number of proposals, no host sync), beta as a ratio of gammas in log space.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)


def channel_axis(data_format: str) -> int:
    """The channel axis of a batched image tensor."""
    return -1 if data_format == "channels_last" else 1


def check_channels(layer: Any, images: torch.Tensor, allowed: Sequence[int] = (3,)) -> None:
    """A ValueError naming ``layer`` unless the images have one of the ``allowed`` channel counts."""
    channels = images.shape[channel_axis(layer.data_format)]
    if channels not in allowed:
        raise layer._error(
            f"expects images with {' or '.join(map(str, allowed))} channels (RGB) in `{layer.data_format}` format. "
            f"Received: images.shape={tuple(images.shape)}"
        )


def constants(values: Sequence[float], like: torch.Tensor) -> torch.Tensor:
    """A 1-D tensor of ``values`` on ``like``'s device and dtype, written by fills (no host-to-device copy, which
    would synchronize a CUDA stream)."""
    out = torch.empty(len(values), dtype=like.dtype, device=like.device)
    for i, value in enumerate(values):
        out[i] = value
    return out


def per_channel(values: Sequence[float], like: torch.Tensor, data_format: str) -> torch.Tensor:
    """Per-channel constants shaped to broadcast along the channel axis of a batched image tensor."""
    shape = [1, 1, 1, 1]
    shape[channel_axis(data_format)] = len(values)
    return constants(values, like).reshape(shape)


def rgb_to_grayscale(images: torch.Tensor, data_format: str) -> torch.Tensor:
    """Keras's ``ops.image.rgb_to_grayscale``: the luma, with a channel axis of size one."""
    axis = channel_axis(data_format)
    if images.shape[axis] == 1:
        return images
    return (images * per_channel(GRAY_WEIGHTS, images, data_format)).sum(axis, keepdim=True)


def rgb_to_hsv_parts(images: torch.Tensor, data_format: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """TensorFlow's ``rgb_to_hsv`` as ``(h, s, v)``, each with a channel axis of size one (any value scale: ``v`` is
    the max, ``s`` and ``h`` scale-free)."""
    axis = channel_axis(data_format)
    r, g, b = images.split(1, dim=axis)
    # maximum/minimum chains rather than amax/amin, whose backward casts its tie mask (a copy of the image)
    v = torch.maximum(torch.maximum(r, g), b)
    spread = v - torch.minimum(torch.minimum(r, g), b)
    s = torch.where(v > 0, spread / torch.where(v > 0, v, torch.ones_like(v)), torch.zeros_like(v))
    norm = (1.0 / torch.where(spread > 0, spread, torch.ones_like(spread))) * (1.0 / 6.0)
    h = torch.where(r == v, norm * (g - b), torch.where(g == v, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0))
    h = torch.where(spread > 0, h, torch.zeros_like(h))
    h = torch.where(h < 0, h + 1.0, h)
    return h, s, v


def hsv_parts_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor, data_format: str) -> torch.Tensor:
    """TensorFlow's ``hsv_to_rgb`` of ``(h, s, v)`` (channel axes of size one): ``(1 - s + s * d) * v`` with
    ``d = clip(a * |6h - k| + c, 0, 1)``, ``(a, k, c)`` = ``(1, 3, -1)``, ``(-1, 2, 2)``, ``(-1, 4, 2)`` for r, g, b
    (TensorFlow's ``|6h - 3| - 1``, ``2 - |6h - 2|``, ``2 - |6h - 4|``), all three channels in one pass."""
    a = per_channel((1.0, -1.0, -1.0), h, data_format)
    k = per_channel((3.0, 2.0, 4.0), h, data_format)
    c = per_channel((-1.0, 2.0, 2.0), h, data_format)
    d = (a * (h * 6.0 - k).abs() + c).clamp(0.0, 1.0)
    return (1.0 - s + s * d) * v


def depthwise_same(images: torch.Tensor, kernel: torch.Tensor, data_format: str) -> torch.Tensor:
    """``kernel`` (``kh, kw``, odd sizes) applied to each channel, zero ``SAME`` padding (TensorFlow's
    ``depthwise_conv2d(padding="SAME")``), in the images' layout."""
    nchw = images.permute(0, 3, 1, 2) if data_format == "channels_last" else images
    channels = nchw.shape[1]
    kh, kw = int(kernel.shape[-2]), int(kernel.shape[-1])
    # (C, 1, kh, kw) written by a product, not an expand conv2d would copy
    weight = kernel.to(dtype=images.dtype).reshape(1, 1, kh, kw) * images.new_ones(channels, 1, 1, 1)
    out = F.conv2d(nchw, weight, padding=((kh - 1) // 2, (kw - 1) // 2), groups=channels)
    return out.permute(0, 2, 3, 1) if data_format == "channels_last" else out


def gaussian_kernel(kernel_size: Sequence[int], sigma: torch.Tensor) -> torch.Tensor:
    """Keras's (TensorFlow backend) ``gaussian_blur`` kernel for ``kernel_size = (kx, ky)`` and ``sigma = (sx, sy)``
    (a tensor): the outer product ``ky x kx`` of normalized 1-D Gaussians, reshaped (not transposed) to
    ``(kernel_size[0], kernel_size[1])`` as Keras does."""
    def one(size: int, s: torch.Tensor) -> torch.Tensor:
        x = torch.arange(size, device=sigma.device, dtype=sigma.dtype) - (size - 1) / 2
        k = torch.exp(-0.5 * (x / s) ** 2)
        return k / k.sum()

    kx, ky = int(kernel_size[0]), int(kernel_size[1])
    return torch.outer(one(ky, sigma[1]), one(kx, sigma[0])).reshape(kx, ky)


# ----- gamma / beta draws -----
_PROPOSALS = 8  # Marsaglia-Tsang accepts > 95% of proposals for shape >= 1: 8 leave a ~1e-11 chance of none


def _log_gamma_draws(layer: Any, shape: Sequence[int], alpha: Any, like: torch.Tensor) -> torch.Tensor:
    """``log`` of Gamma(alpha, 1) draws: Marsaglia-Tsang for ``alpha + 1``, boosted by ``U ** (1 / alpha)``
    (valid for every ``alpha > 0``; in log space, so a tiny ``alpha`` does not underflow)."""
    shape = tuple(int(s) for s in shape)
    dtype = torch.float32 if not like.dtype.is_floating_point or like.dtype in (torch.float16, torch.bfloat16) else like.dtype
    if isinstance(alpha, torch.Tensor):
        alpha = alpha.to(dtype)
    else:  # a fill, not a host-to-device copy
        alpha = torch.full((), float(alpha), dtype=dtype, device=like.device)
    d = alpha + 1.0 - 1.0 / 3.0
    c = 1.0 / torch.sqrt(9.0 * d)
    probe = torch.empty((), dtype=dtype, device=like.device)
    x = layer._normal((_PROPOSALS, *shape), probe)
    u = 1.0 - layer._uniform((_PROPOSALS, *shape), probe)  # (0, 1]
    v = (1.0 + c * x) ** 3
    log_v = torch.log(torch.where(v > 0, v, torch.ones_like(v)))
    accept = (v > 0) & (torch.log(u) < 0.5 * x * x + d - d * v + d * log_v)
    # the first accepted proposal (the last one if none is)
    rank = torch.arange(_PROPOSALS, device=like.device).view((-1,) + (1,) * len(shape))
    first = torch.where(accept, rank, _PROPOSALS - 1).amin(0)
    log_dv = torch.log(d) + log_v
    log_g = log_dv.gather(0, first.unsqueeze(0)).squeeze(0)
    boost = 1.0 - layer._uniform(shape, probe)
    return log_g + torch.log(boost) / alpha


def sample_gamma(layer: Any, shape: Sequence[int], alpha: Any, like: torch.Tensor) -> torch.Tensor:
    """Gamma(alpha, 1) draws of ``shape`` from ``layer``'s generator (Keras's ``random.gamma``)."""
    return torch.exp(_log_gamma_draws(layer, shape, alpha, like))


def sample_beta(layer: Any, shape: Sequence[int], alpha: Any, beta: Any, like: torch.Tensor) -> torch.Tensor:
    """Beta(alpha, beta) draws of ``shape`` (Keras's ``random.beta``: ``X / (X + Y)`` of two gammas)."""
    log_x = _log_gamma_draws(layer, shape, alpha, like)
    log_y = _log_gamma_draws(layer, shape, beta, like)
    return torch.sigmoid(log_x - log_y)


class PassThroughAnnotations:
    """Mixin for the colour layers (on ``BaseImagePreprocessingLayer``): labels, bounding boxes and segmentation
    masks pass unchanged (Keras 3's colour layers return them as they are); the ``(factor, value_range, seed)``
    arguments most of them share, their config entries, and their per-image draws."""

    def _init_factor_range_seed(self, factor: Any, value_range: Any, seed: Any) -> None:
        """Keras's ``_set_factor(factor)`` (unless ``factor`` is None: the base parsed it), ``value_range``, ``seed``;
        then the end of construction."""
        if factor is not None:
            self._set_factor(factor)
        self._set_value_range(value_range)
        self.seed = seed
        self._finish_init()

    def _named_factor(self, value: Any, name: str) -> tuple[float, float]:
        """Keras's ``_set_factor_by_name``: ``_set_factor``'s parsing for another argument (``sigma``, ``scale``),
        returned instead of set, the message naming that argument."""
        saved = self.__dict__.get("factor")
        try:
            self._set_factor(value)
        except ValueError as e:
            raise self._error(str(e).split(": ", 1)[1].replace("`factor`", f"`{name}`")) from None
        parsed = self.factor
        if saved is not None:
            self.factor = saved
        return parsed

    def _factor_range_seed_config(self) -> dict[str, Any]:
        return {"factor": list(self.factor), "value_range": self.value_range, "seed": self.seed}

    def _per_image(self, data: Any, low: Any = 0.0, high: Any = 1.0, rank: int = 1) -> torch.Tensor:
        """Uniform draws in ``[low, high)``, one per image of ``data``, shaped ``(batch,)`` or ``(batch, 1, 1, 1)``."""
        images = self._images_of(data)
        return self._uniform((images.shape[0],) + (1,) * (rank - 1), images, low, high)

    def transform_labels(self, labels: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        return labels

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Any, training: bool = True) -> dict:
        return bounding_boxes

    def transform_segmentation_masks(self, segmentation_masks: torch.Tensor, transformation: Any, training: bool = True) -> torch.Tensor:
        return segmentation_masks

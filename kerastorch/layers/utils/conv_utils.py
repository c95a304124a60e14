"""Argument normalization, output lengths and TF 'same' padding, shared by every conv rank.

Reproduces ``tf_keras/utils/conv_utils.py`` (messages included) plus the TF 'same' split
``total = max((out - 1) * s + dk - n, 0)``, ``before = total // 2`` (extra row/col after).
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

from ... import config
from . import bounds


def normalize_tuple(value: Any, n: int, name: str, allow_zero: bool = False) -> tuple[int, ...]:
    """An int or an iterable of ``n`` ints -> tuple of ``n`` ints, with tf.keras's checks."""
    error_msg = f"The `{name}` argument must be a tuple of {n} integers. Received: {value}"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value_tuple = (int(value),) * n
    else:
        try:  # a string iterates too, as in tf.keras: 'a' fails on its element, 'ab' on its length
            value_tuple = tuple(value)
        except TypeError:
            raise ValueError(error_msg) from None
        if len(value_tuple) != n:
            raise ValueError(error_msg)
        for single in value_tuple:
            if not isinstance(single, numbers.Integral) or isinstance(single, bool):
                raise ValueError(error_msg + f"including element {single} of type {type(single)}")
        value_tuple = tuple(int(v) for v in value_tuple)
    bad = {v for v in value_tuple if (v < 0 if allow_zero else v <= 0)}
    if bad:
        requirement = ">= 0" if allow_zero else "> 0"
        raise ValueError(error_msg + f" including {bad} that does not satisfy the requirement `{requirement}`.")
    huge = bounds.over_max(value_tuple)
    if huge:
        raise ValueError(error_msg + f" including {huge} that does not satisfy the requirement `{bounds.requirement()}`.")
    return value_tuple


def normalize_padding(value: Any) -> str:
    """'valid' / 'same' in any case; 'causal' passes here and is refused by the layer, as in Keras."""
    padding = value.lower() if isinstance(value, str) else value
    if padding not in ("valid", "same", "causal"):
        raise ValueError(
            'The `padding` argument must be one of "valid", "same" (or "causal", only for `Conv1D). '
            f"Received: {padding}"
        )
    return padding


def normalize_data_format(value: str | None) -> str:
    if value is None:
        value = config.image_data_format()
    data_format = value.lower() if isinstance(value, str) else value
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            f'The `data_format` argument must be one of "channels_first", "channels_last". Received: {value}'
        )
    return data_format


def dilated_kernel_size(kernel: int, dilation: int) -> int:
    return kernel + (kernel - 1) * (dilation - 1)


def conv_output_length(length: int | None, kernel: int, padding: str, stride: int, dilation: int = 1) -> int | None:
    """tf.keras ``conv_output_length``; ``None`` stays ``None``."""
    if length is None:
        return None
    if padding in ("same", "causal"):
        out = length
    else:
        out = length - dilated_kernel_size(kernel, dilation) + 1
    return (out + stride - 1) // stride


def same_padding(length: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TF's 'same' split for one dim: ``(before, after)``, the odd pixel going after."""
    out = (length + stride - 1) // stride
    total = max((out - 1) * stride + dilated_kernel_size(kernel, dilation) - length, 0)
    return total // 2, total - total // 2


def spatial_output_shape(
    spatial: Sequence[int | None],
    kernel_size: Sequence[int],
    padding: str,
    strides: Sequence[int],
    dilation_rate: Sequence[int],
) -> list[int | None]:
    return [
        conv_output_length(n, k, padding, s, d)
        for n, k, s, d in zip(spatial, kernel_size, strides, dilation_rate)
    ]


def deconv_output_length(
    length: int | None, kernel: int, padding: str, output_padding: int | None = None, stride: int = 1, dilation: int = 1
) -> int | None:
    """tf.keras ``deconv_output_length``: a transposed convolution's output length (``None`` stays)."""
    if length is None:
        return None
    dk = dilated_kernel_size(kernel, dilation)
    if output_padding is None:
        return length * stride + max(dk - stride, 0) if padding == "valid" else length * stride
    pad = dk // 2 if padding == "same" else 0
    return (length - 1) * stride + dk - 2 * pad + output_padding


def transpose_padding(length: int, out: int, kernel: int, padding: str, stride: int, dilation: int) -> tuple[int, int, int]:
    """How torch's ``conv_transpose`` reproduces TF's transposed conv for one dim.

    TF computes the full transposed result, of length ``(n - 1) * s + dk``, and keeps ``out`` values
    from offset ``before`` (TF's 'same' split of the forward conv; 0 for 'valid'). torch crops
    ``padding`` at the start and ``padding - output_padding`` at the end, with ``output_padding <
    max(stride, dilation)``. Returns ``(padding, output_padding, extra_end_crop)``.
    """
    dk = dilated_kernel_size(kernel, dilation)
    full = (length - 1) * stride + dk
    before = max(full - out, 0) // 2 if padding == "same" else 0
    end_crop = full - before - out  # negative: TF's output extends past the full result (zeros + bias)
    output_padding = before - end_crop
    if output_padding < 0:
        return before, 0, -output_padding
    return before, output_padding, 0

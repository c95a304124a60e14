"""Upper bounds for sizes taken from arguments and configs (``units``, ``kernel_size``, ``strides``, ...).

Keras accepts any Python int and fails later (TensorFlow at the call, or in an allocation); torch's
kernels take 32-bit sizes for pooling and 64-bit ones elsewhere, and a ``strides`` of ``2**63`` from a
damaged file would fail only at the first call ("Overflow when unpacking long long"). Every size-like
argument is therefore refused above :data:`MAX_DIM` when the layer is made, with the same message for a
hand-made layer and one built from a file.
"""
from __future__ import annotations

from typing import Iterable

from ...config import MAX_DIM  # the largest size, stride, dilation, unit count or shape dimension accepted


def over_max(values: Iterable[int]) -> set[int]:
    """The values above :data:`MAX_DIM` (empty: all fit)."""
    return {v for v in values if v > MAX_DIM}


def requirement() -> str:
    """The requirement appended to a size argument's message when it is too large."""
    return f"<= {MAX_DIM}"

"""``UpSampling2D``: tf.keras's layer as a ``torch.nn.Module`` (see ``up_sampling``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .up_sampling import UpSampling


@LAYERS.register()
class UpSampling2D(UpSampling):
    """tf.keras ``UpSampling2D(size: Any = (2, 2), data_format: str | None = None, interpolation: str = "nearest")``."""

    def __init__(self, size: Any = (2, 2), data_format: str | None = None, interpolation: str = "nearest", **kwargs: Any):
        super().__init__(2, size, data_format, interpolation, **kwargs)

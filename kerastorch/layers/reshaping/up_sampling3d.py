"""``UpSampling3D``: tf.keras's layer as a ``torch.nn.Module`` (see ``up_sampling``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .up_sampling import UpSampling


@LAYERS.register()
class UpSampling3D(UpSampling):
    """tf.keras ``UpSampling3D(size: Any = (2, 2, 2), data_format: str | None = None)``."""

    def __init__(self, size: Any = (2, 2, 2), data_format: str | None = None, **kwargs: Any):
        super().__init__(3, size, data_format, **kwargs)

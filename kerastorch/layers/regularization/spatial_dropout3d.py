"""``SpatialDropout3D``: tf.keras's layer as a ``torch.nn.Module`` (see ``spatial_dropout``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .spatial_dropout import SpatialDropout


@LAYERS.register()
class SpatialDropout3D(SpatialDropout):
    """tf.keras `SpatialDropout3D(rate, data_format=None)`: drops whole channels in training."""

    def __init__(self, rate: float, data_format: str | None = None, **kwargs: Any):
        super().__init__(3, rate, data_format, **kwargs)

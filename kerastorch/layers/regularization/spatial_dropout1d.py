"""``SpatialDropout1D``: tf.keras's layer as a ``torch.nn.Module`` (see ``spatial_dropout``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .spatial_dropout import SpatialDropout


@LAYERS.register()
class SpatialDropout1D(SpatialDropout):
    """tf.keras `SpatialDropout1D(rate)` (channels_last `(batch, steps, channels)`): drops whole channels in training."""

    def __init__(self, rate: float, **kwargs: Any):
        super().__init__(1, rate, **kwargs)

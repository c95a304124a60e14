"""``UpSampling1D``: tf.keras's layer as a ``torch.nn.Module`` (see ``up_sampling``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .up_sampling import UpSampling


@LAYERS.register()
class UpSampling1D(UpSampling):
    """tf.keras ``UpSampling1D(size: Any = 2)``."""

    def __init__(self, size: Any = 2, **kwargs: Any):
        super().__init__(1, size, **kwargs)

"""``Cropping1D``: tf.keras's layer as a ``torch.nn.Module`` (see ``cropping``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .cropping import Cropping


@LAYERS.register()
class Cropping1D(Cropping):
    """tf.keras ``Cropping1D(cropping: Any = (1, 1))``."""

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any):
        super().__init__(1, cropping, **kwargs)

"""``Cropping2D``: tf.keras's layer as a ``torch.nn.Module`` (see ``cropping``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .cropping import Cropping


@LAYERS.register()
class Cropping2D(Cropping):
    """tf.keras ``Cropping2D(cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None)``."""

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any):
        super().__init__(2, cropping, data_format, **kwargs)

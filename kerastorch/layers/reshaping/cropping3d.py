"""``Cropping3D``: tf.keras's layer as a ``torch.nn.Module`` (see ``cropping``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .cropping import Cropping


@LAYERS.register()
class Cropping3D(Cropping):
    """tf.keras ``Cropping3D(cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None)``."""

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None, **kwargs: Any):
        super().__init__(3, cropping, data_format, **kwargs)

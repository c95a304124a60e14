"""``GlobalAveragePooling3D``: tf.keras's global average pooling over 3 spatial dim(s) (see ``base_global_pooling``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .base_global_pooling import GlobalAveragePooling


@LAYERS.register("GlobalAvgPool3D")
class GlobalAveragePooling3D(GlobalAveragePooling):
    """tf.keras ``GlobalAveragePooling3D(data_format=None, keepdims=False)``."""

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(3, data_format=data_format, keepdims=keepdims, **kwargs)


GlobalAvgPool3D = GlobalAveragePooling3D

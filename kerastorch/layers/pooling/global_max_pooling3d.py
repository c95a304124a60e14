"""``GlobalMaxPooling3D``: tf.keras's global max pooling over 3 spatial dim(s) (see ``base_global_pooling``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .base_global_pooling import GlobalMaxPooling


@LAYERS.register("GlobalMaxPool3D")
class GlobalMaxPooling3D(GlobalMaxPooling):
    """tf.keras ``GlobalMaxPooling3D(data_format=None, keepdims=False)``."""

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(3, data_format=data_format, keepdims=keepdims, **kwargs)


GlobalMaxPool3D = GlobalMaxPooling3D

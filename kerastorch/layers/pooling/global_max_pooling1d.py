"""``GlobalMaxPooling1D``: tf.keras's global max pooling over 1 spatial dim(s) (see ``base_global_pooling``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .base_global_pooling import GlobalMaxPooling


@LAYERS.register("GlobalMaxPool1D")
class GlobalMaxPooling1D(GlobalMaxPooling):
    """tf.keras ``GlobalMaxPooling1D(data_format='channels_last', keepdims=False)``."""

    def __init__(self, data_format: str | None = "channels_last", keepdims: bool = False, **kwargs: Any):
        super().__init__(1, data_format=data_format, keepdims=keepdims, **kwargs)


GlobalMaxPool1D = GlobalMaxPooling1D

"""``ZeroPadding1D``: tf.keras's layer as a ``torch.nn.Module`` (see ``zero_padding``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .zero_padding import ZeroPadding


@LAYERS.register()
class ZeroPadding1D(ZeroPadding):
    """tf.keras ``ZeroPadding1D(padding: Any = 1)``; Keras 3's ``data_format`` too (its configs write it).

    ``data_format=None`` is channels_last, as in tf.keras (Keras 3 reads its global image data format).
    """

    _data_format_1d = True

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any):
        super().__init__(1, padding, data_format=data_format, **kwargs)

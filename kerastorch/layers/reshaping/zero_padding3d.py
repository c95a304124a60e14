"""``ZeroPadding3D``: tf.keras's layer as a ``torch.nn.Module`` (see ``zero_padding``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .zero_padding import ZeroPadding


@LAYERS.register()
class ZeroPadding3D(ZeroPadding):
    """tf.keras ``ZeroPadding3D(padding: Any = (1, 1, 1), data_format: str | None = None)``."""

    def __init__(self, padding: Any = (1, 1, 1), data_format: str | None = None, **kwargs: Any):
        super().__init__(3, padding, data_format, **kwargs)

"""``ZeroPadding1D``: tf.keras's layer as a ``torch.nn.Module`` (see ``zero_padding``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .zero_padding import ZeroPadding


@LAYERS.register()
class ZeroPadding1D(ZeroPadding):
    """tf.keras ``ZeroPadding1D(padding: Any = 1)``."""

    def __init__(self, padding: Any = 1, **kwargs: Any):
        super().__init__(1, padding, **kwargs)

"""``MaxPooling1D``: tf.keras's 1-D max pooling as a ``torch.nn.Module`` (see ``base_pooling``)."""
from __future__ import annotations

from typing import Any, Sequence

from ..._registry import LAYERS
from .base_pooling import MaxPooling


@LAYERS.register("MaxPool1D")
class MaxPooling1D(MaxPooling):
    """tf.keras ``MaxPooling1D(pool_size=2, strides=None, padding='valid', data_format='channels_last')``.

    ``strides=None`` means ``pool_size``; 'same' is TF's padding (padded positions are never picked).
    """

    def __init__(
        self,
        pool_size: int | Sequence[int] = 2,
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = "channels_last",
        **kwargs: Any,
    ):
        super().__init__(1, pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


MaxPool1D = MaxPooling1D

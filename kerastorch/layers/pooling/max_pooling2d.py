"""``MaxPooling2D``: tf.keras's 2-D max pooling as a ``torch.nn.Module`` (see ``base_pooling``)."""
from __future__ import annotations

from typing import Any, Sequence

from ..._registry import LAYERS
from .base_pooling import MaxPooling


@LAYERS.register("MaxPool2D")
class MaxPooling2D(MaxPooling):
    """tf.keras ``MaxPooling2D(pool_size=(2, 2), strides=None, padding='valid', data_format=None)``.

    ``strides=None`` means ``pool_size``; 'same' is TF's padding (padded positions are never picked).
    """

    def __init__(
        self,
        pool_size: int | Sequence[int] = (2, 2),
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(2, pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


MaxPool2D = MaxPooling2D

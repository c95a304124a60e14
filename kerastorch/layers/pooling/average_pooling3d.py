"""``AveragePooling3D``: tf.keras's 3-D average pooling as a ``torch.nn.Module`` (see ``base_pooling``)."""
from __future__ import annotations

from typing import Any, Sequence

from ..._registry import LAYERS
from .base_pooling import AveragePooling


@LAYERS.register("AvgPool3D")
class AveragePooling3D(AveragePooling):
    """tf.keras ``AveragePooling3D(pool_size=(2, 2, 2), strides=None, padding='valid', data_format=None)``.

    ``strides=None`` means ``pool_size``; 'same' is TF's padding (padded positions are not counted).
    """

    def __init__(
        self,
        pool_size: int | Sequence[int] = (2, 2, 2),
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(3, pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


AvgPool3D = AveragePooling3D

"""What the rank-generic resampling, padding and cropping layers share: rank, data format, input spec,
and the per-dimension ``(before, after)`` argument spellings Keras accepts."""
from __future__ import annotations

import numbers
from typing import Any, Sequence

from ..input_spec import InputSpec
from ..layer import Layer
from ..utils import conv_utils

_ORDINALS = ("1st", "2nd", "3rd")


def normalize_pairs(value: Any, rank: int, name: str, dims: str) -> tuple[tuple[int, int], ...]:
    """tf.keras's padding/cropping spellings -> ``((before, after),) * rank`` of non-negative ints.

    An int (same on every side), ``rank`` ints (symmetric per dim), or ``rank`` pairs; a 1-D layer takes
    an int or one ``(before, after)`` pair.
    """
    if rank == 1:
        return (conv_utils.normalize_tuple(value, 2, name, allow_zero=True),)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{name}` cannot contain negative values. Received: {value}.")
        return tuple((int(value), int(value)) for _ in range(rank))
    if hasattr(value, "__len__") and not isinstance(value, str):
        if len(value) != rank:
            count = {2: "two", 3: "3"}[rank]
            raise ValueError(f"`{name}` should have {count} elements. Received: {value}.")
        return tuple(
            conv_utils.normalize_tuple(v, 2, f"{_ORDINALS[i]} entry of {name}", allow_zero=True)
            for i, v in enumerate(value)
        )
    raise ValueError(f"`{name}` should be either an int, a tuple of {rank} ints {dims}. Received: {value}.")


class SpatialLayer(Layer):
    """A weight-free layer over the ``rank`` spatial dims of channels_last or channels_first data."""

    def __init__(self, rank: int, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.rank = rank
        try:
            self.data_format = conv_utils.normalize_data_format(data_format)
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {e}') from None
        self._channels_first = self.data_format == "channels_first"
        self.input_spec = InputSpec(ndim=rank + 2, float_only=False)

    def _spatial_axes(self) -> tuple[int, ...]:
        """Tensor axes of the spatial dims (batch first)."""
        start = 2 if self._channels_first else 1
        return tuple(range(start, start + self.rank))

    def _map_spatial(self, input_shape: Sequence[int | None], fn: Any) -> tuple[int | None, ...]:
        shape = list(input_shape)
        for i, axis in enumerate(self._spatial_axes()):
            shape[axis] = None if shape[axis] is None else fn(i, int(shape[axis]))
        return tuple(shape)

    def _config_with(self, **extra: Any) -> dict[str, Any]:
        return {**super().get_config(), **extra}

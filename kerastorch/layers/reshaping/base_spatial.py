"""What the rank-generic resampling, padding and cropping layers share: rank, data format, input spec,
and the per-dimension ``(before, after)`` argument spellings Keras accepts."""
from __future__ import annotations

import numbers
from typing import Any, Sequence

from ..input_spec import InputSpec
from ..layer import Layer
from ..utils import conv_utils

_ORDINALS = ("1st", "2nd", "3rd")
_COUNTS = {2: "two", 3: "3"}  # tf.keras's "`padding` should have two elements" / "should have 3 elements"


def normalize_pairs(value: Any, rank: int, name: str, dims: str) -> tuple[tuple[int, int], ...]:
    """tf.keras's padding/cropping spellings -> ``((before, after),) * rank`` of non-negative ints.

    An int (same on every side), ``rank`` ints (symmetric per dim), or ``rank`` pairs; a 1-D layer takes
    an int or one ``(before, after)`` pair. Anything with a length (a string too) is checked as a sequence,
    as tf.keras does. A negative int is refused (tf.keras's 2-D/3-D layers accept it and fail or return an
    empty tensor at the call).
    """
    if rank == 1:
        return (conv_utils.normalize_tuple(value, 2, name, allow_zero=True),)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{name}` cannot contain negative values. Received: {value}.")
        return tuple((int(value), int(value)) for _ in range(rank))
    if hasattr(value, "__len__"):
        if len(value) != rank:
            raise ValueError(f"`{name}` should have {_COUNTS[rank]} elements. Received: {value}.")
        return tuple(
            conv_utils.normalize_tuple(v, 2, f"{_ORDINALS[i]} entry of {name}", allow_zero=True)
            for i, v in enumerate(value)
        )
    raise ValueError(f"`{name}` should be either an int, a tuple of {rank} ints {dims}. Received: {value}.")


class SpatialLayer(Layer):
    """A weight-free layer over the ``rank`` spatial dims of channels_last or channels_first data.

    tf.keras's 1-D layers (``UpSampling1D``, ``ZeroPadding1D``, ``Cropping1D``) are channels_last and take
    no ``data_format``; Keras 3's ``ZeroPadding1D`` takes one (``_data_format_1d``) and writes it in its config.
    """

    _data_format_1d = False

    def __init__(self, rank: int, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.rank = rank
        try:
            if rank == 1 and data_format is not None and not self._data_format_1d:
                raise ValueError(f"Keyword argument not understood: 'data_format' ({type(self).__name__} is channels_last).")
            self.data_format = conv_utils.normalize_data_format(
                "channels_last" if rank == 1 and data_format is None else data_format)
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

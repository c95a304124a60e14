"""The rank-generic base of ``SpatialDropout1D/2D/3D`` (tf.keras): ``Dropout`` whose mask covers whole
channels, ``(batch, 1, ..., 1, channels)`` for channels_last data and ``(batch, channels, 1, ..., 1)``
for channels_first."""
from __future__ import annotations

from typing import Any, Sequence

from ..input_spec import InputSpec
from ..utils import conv_utils
from .dropout import Dropout


class SpatialDropout(Dropout):
    """Drops entire feature maps of ``rank``-D data (tf.keras's ``SpatialDropout1D`` is channels_last only).

    tf.keras accepts a ``noise_shape`` here and ignores it; kerastorch refuses one that is not ``None``.
    tf.keras's 2-D/3-D configs omit ``data_format`` (a channels_first layer comes back channels_last from
    its own config); kerastorch's keep it, as Keras 3's do.
    """

    def __init__(self, rank: int, rate: float, data_format: str | None = None, noise_shape: Any = None, **kwargs: Any):
        # read by ``_configure``, which runs inside ``Dropout.__init__`` (before an ``input_shape=`` build)
        self.rank = rank
        self._args = (data_format, noise_shape)
        super().__init__(rate, **kwargs)

    def _configure(self) -> None:
        data_format, noise_shape = self._args
        del self._args
        if self.rank == 1 and data_format is not None:  # tf.keras's SpatialDropout1D takes no data_format
            raise TypeError("Keyword argument not understood: 'data_format'")
        if noise_shape is not None:
            raise ValueError(
                f"`noise_shape` is set by the layer (whole channels are dropped); received noise_shape={noise_shape}."
            )
        if data_format is not None and data_format not in ("channels_last", "channels_first"):
            # tf.keras's own check: no lower-casing here, unlike the convolutions
            raise ValueError(
                f'`data_format` must be "channels_last" or "channels_first". Received: data_format={data_format}.'
            )
        self.data_format = conv_utils.normalize_data_format("channels_last" if self.rank == 1 else data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2, float_only=False)

    def _noise_dims(self, input_shape: Sequence[int]) -> tuple[int | None, ...]:
        ones = (1,) * self.rank
        return (None, None, *ones) if self.data_format == "channels_first" else (None, *ones, None)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        return config if self.rank == 1 else {**config, "data_format": self.data_format}

    def extra_repr(self) -> str:
        fmt = f", data_format={self.data_format!r}" if self.rank > 1 else ""
        return f"{super().extra_repr()}{fmt}"

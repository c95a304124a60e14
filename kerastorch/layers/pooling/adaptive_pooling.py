"""Keras 3's ``AdaptiveAveragePooling{1,2,3}D`` / ``AdaptiveMaxPooling{1,2,3}D`` (tf.keras has none).

Keras 3 (3.15) pools output cell ``i`` of an axis of length ``L`` over ``[floor(i * L / out),
ceil((i + 1) * L / out))`` (``keras/src/backend/tensorflow/nn.py``, ``_compute_static_gather_indices``), the
same bins as torch's adaptive pooling: checked for every ``1 <= out <= L <= 20`` against Keras 3's TensorFlow
backend (``AdaptiveMaxPooling1D`` there crashes the process with a floating point exception when
``ceil(L / out) + 1 > L``, e.g. ``out=1``; torch's answer is the plain pooling Keras means). So
``F.adaptive_{avg,max}_pool{n}d`` run here, on a channels-first view for ``channels_last`` (no copy of the
input; the 1-D/2-D outputs come back in the input's layout, the 3-D ones are copied into it).
"""
from __future__ import annotations

import numbers
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer
from ..utils import conv_utils

_AVG: dict[int, Callable] = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
_MAX: dict[int, Callable] = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


class AdaptivePooling(Layer):
    """Rank-generic base: ``_pool`` is ``"avg"`` or ``"max"``."""

    rank = 1
    _pool = "avg"

    def __init__(self, output_size: int | Sequence[int], data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        n = self.rank
        names = {1: "an integer or (length,) tuple", 2: "an integer or (height, width) tuple",
                 3: "an integer or (depth, height, width) tuple"}
        if isinstance(output_size, numbers.Integral) and not isinstance(output_size, bool):
            size = (int(output_size),) * n
        elif isinstance(output_size, (list, tuple)) and len(output_size) == n and all(
            isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in output_size
        ):
            size = tuple(int(d) for d in output_size)
        else:
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": `output_size` must be {names[n]}. '
                f"Received: output_size={output_size!r}"
            )
        if any(d <= 0 for d in size):
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": `output_size` must hold positive integers. '
                f"Received: output_size={output_size!r}"
            )
        try:
            self.data_format = conv_utils.normalize_data_format(data_format)
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {e}') from None
        self.output_size = size
        self._channels_first = self.data_format == "channels_first"
        self.input_spec = InputSpec(ndim=n + 2)
        self._finish_init()

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        if self._channels_first:
            return (input_shape[0], input_shape[1], *self.output_size)
        return (input_shape[0], *self.output_size, input_shape[-1])

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        if not inputs.dtype.is_floating_point:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": expects a floating point input. '
                             f"Received dtype {inputs.dtype}.")
        spatial = inputs.shape[2:] if self._channels_first else inputs.shape[1:-1]
        if 0 in tuple(spatial):
            raise ValueError(f'{type(self).__name__} layer "{self.name}": the input has an empty spatial axis. '
                             f"Received: input shape {tuple(inputs.shape)}")

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        fn = (_AVG if self._pool == "avg" else _MAX)[self.rank]  # looked up: torch's max pools do not pickle
        if self._channels_first:
            return fn(inputs, self.output_size)
        y = fn(inputs.movedim(-1, 1), self.output_size).movedim(1, -1)
        # torch's 3-D adaptive pools answer a channels-first output whatever the input's layout: the (pooled,
        # small) output is laid out channels_last once, so that the next layer gets Keras's layout
        return y if self.rank < 3 else y.contiguous()

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "output_size": list(self.output_size), "data_format": self.data_format}

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"output_size={self.output_size}",
                          f"data_format={self.data_format!r}"] + self._repr_common())


@LAYERS.register()
class AdaptiveAveragePooling1D(AdaptivePooling):
    """Keras 3's ``AdaptiveAveragePooling1D``."""

    rank, _pool = 1, "avg"


@LAYERS.register()
class AdaptiveAveragePooling2D(AdaptivePooling):
    """Keras 3's ``AdaptiveAveragePooling2D``."""

    rank, _pool = 2, "avg"


@LAYERS.register()
class AdaptiveAveragePooling3D(AdaptivePooling):
    """Keras 3's ``AdaptiveAveragePooling3D``."""

    rank, _pool = 3, "avg"


@LAYERS.register()
class AdaptiveMaxPooling1D(AdaptivePooling):
    """Keras 3's ``AdaptiveMaxPooling1D``."""

    rank, _pool = 1, "max"


@LAYERS.register()
class AdaptiveMaxPooling2D(AdaptivePooling):
    """Keras 3's ``AdaptiveMaxPooling2D``."""

    rank, _pool = 2, "max"


@LAYERS.register()
class AdaptiveMaxPooling3D(AdaptivePooling):
    """Keras 3's ``AdaptiveMaxPooling3D``."""

    rank, _pool = 3, "max"

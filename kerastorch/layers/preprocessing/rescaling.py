"""``Rescaling`` (tf.keras preprocessing): ``inputs * scale + offset`` in the layer's compute dtype."""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer
from ..utils.mask_rules import keras3_config


def _numbers(value: Any, what: str, layer: str) -> Any:
    """A scalar, or a (nested) list of numbers broadcast against the input's last axes, as tf.cast reads it."""
    if isinstance(value, bool):
        raise ValueError(f'Rescaling layer "{layer}": `{what}` must be a number or a list of numbers. Received: {value!r}')
    if isinstance(value, numbers.Real):
        return value
    try:
        torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(
            f'Rescaling layer "{layer}": `{what}` must be a number or a list of numbers. Received: {value!r}'
        ) from None
    return value.tolist() if hasattr(value, "tolist") else value


@LAYERS.register()
class Rescaling(Layer):
    """tf.keras ``Rescaling(scale, offset=0.0)``: ``x * scale + offset``; ``scale``/``offset`` are numbers or
    per-channel lists (broadcast against the last axes).

    Integer inputs become the compute dtype (float32 unless ``dtype=`` says otherwise), as tf.keras. A
    floating input keeps its dtype unless ``dtype`` is given (tf.keras casts it to float32: kerastorch's
    weight-free layers follow their input, see the README). ``scale`` and ``offset`` are rounded to that
    dtype first (tf.keras's ``tf.cast``).
    """

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.supports_masking = keras3_config(kwargs)  # tf.keras drops the mask, Keras 3 passes it (mask_rules)
        self.scale = _numbers(scale, "scale", self.name)
        self.offset = _numbers(offset, "offset", self.name)
        # a scalar zero offset (the common ``scale=1/255``) is not added: one pass over the data instead of two
        self._adds_offset = not (isinstance(self.offset, numbers.Real) and self.offset == 0)
        self.input_spec = InputSpec(float_only=False)
        self._consts: tuple[torch.Tensor, torch.Tensor] | None = None
        self._finish_init()

    def _out_dtype(self, inputs: torch.Tensor) -> torch.dtype:
        if inputs.dtype.is_floating_point:
            return inputs.dtype
        return self.compute_dtype

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        dtype = self._out_dtype(inputs)
        scale = torch.as_tensor(self.scale, dtype=torch.float64).to(dtype=dtype, device=inputs.device)
        offset = torch.as_tensor(self.offset, dtype=torch.float64).to(dtype=dtype, device=inputs.device)
        try:
            torch.broadcast_shapes(inputs.shape, scale.shape, offset.shape)
        except RuntimeError:
            raise ValueError(
                f'Rescaling layer "{self.name}": `scale` (shape {tuple(scale.shape)}) and `offset` (shape '
                f"{tuple(offset.shape)}) do not broadcast against the input of shape {tuple(inputs.shape)}."
            ) from None
        self._consts = (scale, offset)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        scale, offset = self._consts
        if scale.device != inputs.device:
            scale, offset = scale.to(inputs.device), offset.to(inputs.device)
            self._consts = (scale, offset)
        if not inputs.dtype.is_floating_point:
            inputs = inputs.to(scale.dtype)
        return inputs * scale + offset if self._adds_offset else inputs * scale

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"scale={self.scale}", f"offset={self.offset}", *self._repr_common()])

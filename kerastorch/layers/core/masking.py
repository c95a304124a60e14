"""``Masking``: tf.keras's layer that masks the timesteps whose features all equal ``mask_value``.

Reproduces ``tf_keras/layers/core/masking.py`` (Keras 3 alike): the output mask is
``any(inputs != mask_value, axis=-1)`` and the output is the input with the fully masked steps zeroed
(``inputs * mask``, so their gradient is zero too).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer


@LAYERS.register()
class Masking(Layer):
    """tf.keras ``Masking(mask_value=0.0)``: ``compute_mask(x)`` = ``any(x != mask_value, -1)``."""

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        try:
            self.mask_value = float(mask_value)
        except (TypeError, ValueError):
            raise ValueError(f'Masking layer "{self.name}": `mask_value` must be a number. '
                             f"Received: mask_value={mask_value!r}") from None
        self.input_spec = InputSpec(min_ndim=1, float_only=False)
        self._finish_init()

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        keep = (inputs != self.mask_value).any(dim=-1, keepdim=True)
        return torch.where(keep, inputs, 0)  # tf.keras: inputs * mask

    def produces_mask(self, input_masked: Any) -> bool:
        return True

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        return (inputs != self.mask_value).any(dim=-1)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mask_value": self.mask_value}

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"mask_value={self.mask_value}"] + self._repr_common())

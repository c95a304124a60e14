"""``ELU`` layer (tf.keras ``layers.ELU``, ``alpha=1.0``)."""
from __future__ import annotations

from typing import Any

import torch

from ... import activations
from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer
from .relu import float32_arg


@LAYERS.register()
class ELU(Layer):
    """tf.keras ``ELU``: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` below."""

    supports_masking = True  # tf.keras passes the input mask through

    def __init__(self, alpha: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.alpha = float32_arg(
            alpha, "alpha", "ELU", minimum=None,
            none_message="Alpha of an ELU layer cannot be None, expecting a float. Received: {value}",
        )
        self.input_spec = InputSpec()
        self._finish_init()

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return activations.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, alpha={self.alpha}"

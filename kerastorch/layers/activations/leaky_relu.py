"""``LeakyReLU`` layer: tf.keras's default slope ``alpha=0.3`` (the ``leaky_relu`` function's is 0.2)."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer
from .relu import float32_arg


@LAYERS.register()
class LeakyReLU(Layer):
    def __init__(self, alpha: float = 0.3, **kwargs: Any):
        super().__init__(**kwargs)
        self.alpha = float32_arg(alpha, "alpha", "LeakyReLU", minimum=None)
        self.input_spec = InputSpec()
        self._finish_init()

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(inputs, negative_slope=self.alpha)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, alpha={self.alpha}"

"""``ThresholdedReLU`` layer (tf.keras: ``x if x > theta else 0``, ``theta=1.0``)."""
from __future__ import annotations

from typing import Any

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer
from .relu import float32_arg


@LAYERS.register()
class ThresholdedReLU(Layer):
    def __init__(self, theta: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        if theta is None:
            raise ValueError("Theta of a Thresholded ReLU layer cannot be None, expecting a float. Received: None")
        self.theta = float32_arg(theta, "theta", "ThresholdedReLU")
        self.input_spec = InputSpec()
        self._finish_init()

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.where(inputs > self.theta, inputs, 0.0)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "theta": self.theta}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, theta={self.theta}"

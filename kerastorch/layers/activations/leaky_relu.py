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
    """tf.keras ``LeakyReLU``: ``x`` for ``x > 0``, ``alpha * x`` below (any sign of ``alpha``, as tf.keras).

    Keras 3 names the slope ``negative_slope`` (its configs say so); either name is accepted, not both.
    """

    supports_masking = True  # tf.keras passes the input mask through

    def __init__(self, alpha: float = 0.3, **kwargs: Any):
        if "negative_slope" in kwargs:
            negative_slope = kwargs.pop("negative_slope")
            if alpha != 0.3:
                raise ValueError(
                    f"LeakyReLU: give the slope as `alpha` (tf.keras) or `negative_slope` (Keras 3), not both. "
                    f"Received: alpha={alpha}, negative_slope={negative_slope}"
                )
            alpha = negative_slope
        super().__init__(**kwargs)
        self.alpha = float32_arg(
            alpha, "alpha", "LeakyReLU", minimum=None,
            none_message="The alpha value of a Leaky ReLU layer cannot be None, Expecting a float. Received: {value}",
        )
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

"""``GaussianDropout`` (tf.keras ``layers.GaussianDropout``): multiplies by ``N(1, rate / (1 - rate))`` noise."""
from __future__ import annotations

import math
from typing import Any

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer
from .dropout import require_float, rate_arg, seed_arg


@LAYERS.register()
class GaussianDropout(Layer):
    """tf.keras ``GaussianDropout(rate, seed=None)``: ``x * N(1, sqrt(rate / (1 - rate)))`` in training when
    ``0 < rate < 1``; the identity otherwise (``rate=1`` included, as in tf.keras) and in inference.

    tf.keras accepts any ``rate`` (outside ``(0, 1)`` the layer does nothing); kerastorch refuses one outside
    ``[0, 1]`` with Keras 3's message.
    """

    supports_masking = True  # tf.keras passes the input mask through

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        try:
            self.rate = rate_arg(rate, keras3_message=True)
            self.seed = seed_arg(seed)
        except ValueError as e:
            raise ValueError(f'GaussianDropout layer "{self.name}": {e}') from None
        self._active = 0 < self.rate < 1
        self._stddev = math.sqrt(self.rate / (1.0 - self.rate)) if self._active else 0.0
        self.input_spec = InputSpec(float_only=False)
        self._finish_init()

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if not training or not self._active:
            return inputs
        require_float(self, inputs)
        return inputs * torch.empty_like(inputs).normal_(1.0, self._stddev)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, rate={self.rate}"

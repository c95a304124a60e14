"""``GaussianNoise`` (tf.keras ``layers.GaussianNoise``): adds ``N(0, stddev)`` noise in training."""
from __future__ import annotations

from typing import Any

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer
from .dropout import require_float, number_arg, seed_arg


@LAYERS.register()
class GaussianNoise(Layer):
    """tf.keras ``GaussianNoise(stddev, seed=None)``: ``x + N(0, stddev)`` in training, the identity in inference.

    tf.keras accepts a negative ``stddev`` (and Keras 3 refuses ``stddev > 1``); kerastorch refuses negatives only.
    """

    supports_masking = True  # tf.keras passes the input mask through

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        try:
            self.stddev = number_arg(stddev, "stddev")
            if self.stddev < 0:
                raise ValueError(
                    f"Invalid value received for argument `stddev`. Expected a non-negative float value. Received: stddev={stddev}"
                )
            self.seed = seed_arg(seed)
        except ValueError as e:
            raise ValueError(f'GaussianNoise layer "{self.name}": {e}') from None
        self.input_spec = InputSpec(float_only=False)
        self._finish_init()

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if not training or self.stddev == 0:
            return inputs
        require_float(self, inputs)
        return inputs + torch.empty_like(inputs).normal_(0.0, self.stddev)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, stddev={self.stddev}"

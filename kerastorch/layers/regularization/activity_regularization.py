"""``ActivityRegularization`` (tf.keras ``layers.ActivityRegularization``): the identity that adds
``(l1 * sum|x| + l2 * sum(x**2)) / batch_size`` to ``layer.losses`` at each call."""
from __future__ import annotations

from typing import Any

import torch

from ... import regularizers
from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer


@LAYERS.register()
class ActivityRegularization(Layer):
    """tf.keras ``ActivityRegularization(l1=0.0, l2=0.0)``: its activity regularizer is ``L1L2(l1, l2)``, so the
    loss is recorded by ``Layer`` like any layer's activity loss (in training and in inference, as tf.keras)."""

    supports_masking = True  # tf.keras passes the input mask through

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any):
        if "activity_regularizer" in kwargs:
            raise TypeError("ActivityRegularization got multiple values for keyword argument 'activity_regularizer'")
        super().__init__(**kwargs)
        try:
            self.activity_regularizer = regularizers.L1L2(l1=l1, l2=l2)
        except ValueError as e:
            raise ValueError(f'ActivityRegularization layer "{self.name}": {e}') from None
        self.l1, self.l2 = l1, l2
        self.input_spec = InputSpec()
        self._finish_init()

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, l1={self.l1}, l2={self.l2}"

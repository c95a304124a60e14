"""``ReLU`` layer (tf.keras ``layers.ReLU``): ``max_value``, ``negative_slope``, ``threshold``."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from ... import activations
from ..._registry import LAYERS
from ..call_pipeline import inplace_form
from ..input_spec import InputSpec
from ..layer import Layer


def float32_arg(
    value: Any,
    what: str,
    layer: str,
    allow_none: bool = False,
    minimum: float | None = 0.0,
    none_message: str | None = None,
    negative_message: str | None = None,
) -> float | None:
    """A float argument stored as tf.keras stores it (float32-rounded), with Keras's checks and messages.

    ``none_message``/``negative_message`` are tf.keras's own wording for ``None`` and for a value below
    ``minimum`` (``{value}`` is filled in); the defaults are ReLU's.
    """
    if value is None and allow_none:
        return None
    negative = negative_message or f"{what} of a {layer} layer cannot be a negative value. Received: {{value}}"
    if value is None:
        raise ValueError((none_message or negative).format(value=value))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} of a {layer} layer must be a number. Received: {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(negative.format(value=value))
    return float(np.float32(value))


@LAYERS.register()
class ReLU(Layer):
    """tf.keras ``ReLU``: ``x`` above ``threshold`` (clipped at ``max_value``), ``negative_slope * (x - threshold)`` below."""

    supports_masking = True  # tf.keras passes the input mask through

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_value = float32_arg(max_value, "max_value", "ReLU", allow_none=True)
        self.negative_slope = float32_arg(negative_slope, "negative_slope", "ReLU")
        self.threshold = float32_arg(threshold, "threshold", "ReLU")
        self.input_spec = InputSpec(float_only=False)
        self._finish_init()

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return activations.relu(inputs, alpha=self.negative_slope, max_value=self.max_value, threshold=self.threshold)

    def _layout_call(self, rank: int) -> tuple[str, Any]:
        return ("follow", self.call)  # elementwise

    def _inplace_call(self) -> Any:
        if self.negative_slope != 0.0 or self.threshold != 0.0 or self.max_value not in (None, 6.0):
            return None
        return inplace_form(activations.relu if self.max_value is None else activations.relu6)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope, "threshold": self.threshold}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, max_value={self.max_value}, negative_slope={self.negative_slope}, threshold={self.threshold}"

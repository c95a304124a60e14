"""``Identity``: tf.keras's placeholder layer that returns its input (``layers.Identity``)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from ..layer import Layer
from ..utils.mask_rules import keras3_config


@LAYERS.register()
class Identity(Layer):
    """Returns ``inputs`` unchanged: a tensor of any dtype, or a list/tuple of tensors (no copy)."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.supports_masking = keras3_config(kwargs)  # tf.keras drops the mask, Keras 3 passes it (mask_rules)
        self._finish_init()

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            return [tuple(s) for s in input_shape]
        return tuple(input_shape)

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}"] + self._repr_common())

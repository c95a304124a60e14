"""``Activation``: tf.keras's layer applying an activation function (``layers.Activation``)."""
from __future__ import annotations

from typing import Any

import torch

from ... import activations
from ..._registry import LAYERS, describe
from ..call_pipeline import inplace_form, is_elementwise
from ..input_spec import InputSpec
from ..layer import Layer

# The Keras activations TensorFlow computes on integer tensors (the others fail in tf.keras)
_INTEGER_ACTIVATIONS = (activations.linear, activations.relu, activations.relu6)


@LAYERS.register()
class Activation(Layer):
    """``activation(inputs)``, elementwise activations keeping the input's memory layout.

    ``activation``: a Keras name (``'relu'``), a serialized config, a callable, or ``None`` (linear), as
    ``tf.keras.layers.Activation``. Integer inputs are accepted where TensorFlow computes the activation on
    integers (``linear``, ``relu``, ``relu6``) and by a plain callable (tf.keras calls it as it is); for the other
    Keras activations they are refused with a ValueError (tf.keras fails inside TensorFlow).
    """

    supports_masking = True  # tf.keras passes the input mask through

    def __init__(self, activation: Any, **kwargs: Any):
        super().__init__(**kwargs)
        try:
            self.activation = activations.get(activation)
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {e}') from None
        self.input_spec = InputSpec(float_only=self._float_only())
        self._finish_init()

    def _float_only(self) -> bool:
        """Integer inputs are refused for a Keras activation TensorFlow computes in floating point only; a
        plain callable or an activation layer (which checks its own input) is called as it is."""
        fn = self.activation
        is_keras = not isinstance(fn, torch.nn.Module) and getattr(fn, "__module__", None) == activations.__name__
        return is_keras and fn not in _INTEGER_ACTIVATIONS

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(inputs)

    def _layout_call(self, rank: int) -> tuple[str, Any] | None:
        return ("follow", self.activation) if is_elementwise(self.activation) else None

    def _inplace_call(self) -> Any:
        return inplace_form(self.activation)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}

    def extra_repr(self) -> str:
        if isinstance(self.activation, torch.nn.Module):
            return f"name={self.name!r}"
        try:
            act = repr(activations.serialize(self.activation))
        except ValueError:
            act = describe(self.activation)
        return ", ".join([f"name={self.name!r}", f"activation={act}"] + self._repr_common())

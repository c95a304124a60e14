"""``Dense``: tf.keras's densely-connected layer as one ``F.linear`` on the last axis.

Reproduces ``tf_keras/layers/core/dense.py``: ``units`` checks and messages, the Keras kernel
``(input_dim, units)`` (applied to the last axis of an input of any rank >= 2, as ``tf.tensordot``
does), bias, activation, initializers/regularizers/constraints, the activity regularizer, integer
inputs cast to the compute dtype, configs (Keras 3's ``quantization_config=None`` / no LoRA load too).

Speed: the kernel is stored as the contiguous ``(units, input_dim)`` tensor ``F.linear`` reads
(``storage_order=(1, 0)``); its Keras layout is a view. An input of any rank goes straight to
``F.linear`` (no reshape, no copy for a contiguous input such as a channels_last activation's NHWC view).
"""
from __future__ import annotations

import numbers
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F

from ... import activations, constraints, initializers, regularizers
from ..._registry import LAYERS
from ..input_spec import InputSpec, shape_str
from ..layer import Layer, WeightSpec
from ..utils import bounds


def _units(units: Any) -> int:
    """tf.keras's ``int(units)`` with its negative check (bools and non-integral floats refused)."""
    if isinstance(units, float) and units.is_integer():
        units = int(units)
    if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units < 0:
        raise ValueError(
            f"Received an invalid value for `units`, expected a positive integer. Received: units={units}"
        )
    if bounds.over_max([int(units)]):
        raise ValueError(f"Received an invalid value for `units`, expected an integer {bounds.requirement()}. Received: units={units}")
    return int(units)


@LAYERS.register()
class Dense(Layer):
    """``activation(inputs @ kernel + bias)`` on the last axis, with tf.keras semantics.

    Arguments are those of ``tf.keras.layers.Dense``: ``units, activation=None, use_bias=True,
    kernel_initializer='glorot_uniform', bias_initializer='zeros', kernel_regularizer=None,
    bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None``
    plus ``name``, ``trainable``, ``dtype`` and ``input_shape``/``input_dim`` (which build the layer at once).
    Keras 3's ``lora_rank``/``lora_alpha``/``quantization_config`` are accepted when unset.
    """

    supports_masking = True  # tf.keras passes the input mask through

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        try:
            self.units = _units(units)
            if lora_rank or lora_alpha is not None or quantization_config is not None:
                raise ValueError(
                    "Keras 3's LoRA and quantization (`lora_rank`, `lora_alpha`, `quantization_config`) are not "
                    f"supported. Received: lora_rank={lora_rank}, lora_alpha={lora_alpha}, "
                    f"quantization_config={quantization_config}"
                )
            self.activation = activations.get(activation)
            self.use_bias = bool(use_bias)
            self.kernel_initializer = initializers.get(kernel_initializer)
            self.bias_initializer = initializers.get(bias_initializer)
            self.kernel_regularizer = regularizers.get(kernel_regularizer)
            self.bias_regularizer = regularizers.get(bias_regularizer)
            self.kernel_constraint = constraints.get(kernel_constraint)
            self.bias_constraint = constraints.get(bias_constraint)
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {e}') from None
        self._has_activation = self.activation is not activations.linear
        self._mixed = self._dtype_policy.is_mixed
        # tf.keras's Dense casts any input (integers too) to its compute dtype.
        self.input_spec = InputSpec(min_ndim=2, float_only=False)
        if not self.use_bias:
            self.register_parameter("bias", None)
        self._finish_init()

    # ----- shapes and weights -----
    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        """``input_shape[:-1] + (units,)`` (tf.keras's rank and last-dimension checks)."""
        input_shape = tuple(None if d is None else int(d) for d in input_shape)
        if len(input_shape) < 2:
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": Shape {shape_str(input_shape)} must have rank at least 2'
            )
        if input_shape[-1] is None:
            raise ValueError(
                "The last dimension of the input shape of a Dense layer should be defined. Found None. "
                f"Received: input_shape={shape_str(input_shape)}"
            )
        return (*input_shape[:-1], self.units)

    def weight_specs(self, input_shape: Sequence[int | None] | None) -> list[WeightSpec]:
        last = None
        if input_shape is not None:
            input_shape = tuple(input_shape)
            last = input_shape[-1]
            if last is None:
                raise ValueError(
                    "The last dimension of the inputs to a Dense layer should be defined. Found None. "
                    f"Full input shape received: {shape_str(input_shape)}"
                )
        specs = [WeightSpec("kernel", (last, self.units), self.kernel_initializer, self.kernel_regularizer,
                            self.kernel_constraint, storage_order=(1, 0))]
        if self.use_bias:
            specs.append(WeightSpec("bias", (self.units,), self.bias_initializer, self.bias_regularizer, self.bias_constraint))
        return specs

    def input_shape_from_weights(self, shapes: Mapping[str, tuple[int, ...]]) -> tuple[int | None, ...]:
        kernel = tuple(shapes.get("kernel", ()))
        if len(kernel) != 2 or kernel[1] != self.units:
            raise ValueError(
                f'Layer "{self.name}": kernel shape {kernel} does not match the layer configuration '
                f"(expected (input_dim, {self.units}) for units={self.units})."
            )
        return (None, kernel[0])

    def _on_build(self, input_shape: Sequence[int | None]) -> None:
        self.input_spec = InputSpec(min_ndim=2, axes={-1: int(input_shape[-1])}, float_only=False)

    # ----- call -----
    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        kernel, bias = self._current("kernel"), self._current("bias")
        if self._mixed:  # a mixed policy keeps float32 variables and computes in its compute dtype
            dtype = self._dtype_policy.compute_dtype
            kernel, bias = kernel.to(dtype), None if bias is None else bias.to(dtype)
        if not inputs.is_floating_point():
            inputs = inputs.to(kernel.dtype)
        y = F.linear(inputs, kernel, bias)
        return self.activation(y) if self._has_activation else y

    # ----- config / repr -----
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                **self._components_config("kernel", "bias"),
            }
        )
        return config

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"units={self.units}"]
        parts += self._components_repr("kernel", "bias")
        if self.built:
            parts.append(f"input_dim={self.input_spec.axes[-1]}")
        return ", ".join(parts + self._repr_common())

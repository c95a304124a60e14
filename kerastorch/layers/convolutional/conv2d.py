"""``Conv2D``: tf.keras's 2-D convolution layer as a ``torch.nn.Module``."""
from __future__ import annotations

from typing import Any, Sequence

from ..._registry import LAYERS
from .base_conv import Conv


@LAYERS.register("Convolution2D")
class Conv2D(Conv):
    """2-D convolution with tf.keras semantics (channels_last by default, TF 'same' padding).

    Arguments are those of ``tf.keras.layers.Conv2D``: ``filters, kernel_size, strides=(1, 1),
    padding='valid', data_format=None, dilation_rate=(1, 1), groups=1, activation=None,
    use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros',
    kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
    kernel_constraint=None, bias_constraint=None`` plus ``name``, ``trainable``, ``dtype`` and
    ``input_shape`` (which builds the layer at once).
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = (1, 1),
        groups: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(
            2, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, groups=groups, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )


Convolution2D = Conv2D

"""``Conv1D``: tf.keras's 1-D convolution layer as a ``torch.nn.Module``."""
from __future__ import annotations

from typing import Any, Sequence

from ..._registry import LAYERS
from .base_conv import Conv


@LAYERS.register("Convolution1D")
class Conv1D(Conv):
    """1-D convolution with tf.keras semantics (channels_last by default, TF 'same' and 'causal' padding).

    Arguments are those of ``tf.keras.layers.Conv1D``: ``filters, kernel_size, strides=1,
    padding='valid' (or 'same', 'causal'), data_format='channels_last', dilation_rate=1, groups=1, activation=None,
    use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros',
    kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
    kernel_constraint=None, bias_constraint=None`` plus ``name``, ``trainable``, ``dtype`` and
    ``input_shape`` (which builds the layer at once).
    """

    _allows_causal = True

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = "channels_last",
        dilation_rate: int | Sequence[int] = 1,
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
            1, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, groups=groups, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )


Convolution1D = Conv1D

"""``Conv1DTranspose``: tf.keras's 1-D transposed convolution as a ``torch.nn.Module``."""
from __future__ import annotations

from typing import Any, Sequence

from ..._registry import LAYERS
from .base_conv_transpose import ConvTranspose


@LAYERS.register("Convolution1DTranspose")
class Conv1DTranspose(ConvTranspose):
    """1-D transposed convolution with tf.keras semantics (output length and placement as TF).

    Arguments are those of ``tf.keras.layers.Conv1DTranspose``: ``filters, kernel_size, strides=1,
    padding='valid', output_padding=None, data_format="channels_last", dilation_rate=1, activation=None,
    use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros', kernel_regularizer=None,
    bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None``.
    """

    _allows_causal = True  # a Conv1D subclass in tf.keras: 'causal' passes Conv's check (ConvTranspose refuses it)

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        output_padding: int | Sequence[int] | None = None,
        data_format: str | None = "channels_last",
        dilation_rate: int | Sequence[int] = 1,
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
            1, filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )


Convolution1DTranspose = Conv1DTranspose

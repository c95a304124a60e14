"""``Conv3DTranspose``: tf.keras's 3-D transposed convolution as a ``torch.nn.Module``."""
from __future__ import annotations

from typing import Any, Sequence

from ..._registry import LAYERS
from ..utils import conv_utils
from ..utils.mask_rules import keras3_config
from .base_conv_transpose import ConvTranspose


@LAYERS.register("Convolution3DTranspose")
class Conv3DTranspose(ConvTranspose):
    """3-D transposed convolution with tf.keras semantics (output length and placement as TF).

    Arguments are those of ``tf.keras.layers.Conv3DTranspose``: ``filters, kernel_size, strides=(1, 1, 1),
    padding='valid', output_padding=None, data_format=None, dilation_rate=(1, 1, 1), activation=None,
    use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros', kernel_regularizer=None,
    bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None``.

    ``dilation_rate`` is accepted, ignored and left out of the config, as tf.keras's Conv3DTranspose does;
    a Keras 3 config (whose Conv3DTranspose does dilate) with a dilation other than 1 is refused.
    """

    _uses_dilation = False

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = (1, 1, 1),
        padding: str = "valid",
        output_padding: int | Sequence[int] | None = None,
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = (1, 1, 1),
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
        keras3 = keras3_config(kwargs)
        super().__init__(
            3, filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )
        if keras3 and conv_utils.normalize_tuple(dilation_rate, 3, "dilation_rate") != (1, 1, 1):
            raise ValueError(
                f'Conv3DTranspose layer "{self.name}": a Keras 3 config with dilation_rate={dilation_rate}. Keras 3 '
                "dilates this layer's kernel, tf.keras ignores the argument; kerastorch computes tf.keras's "
                "Conv3DTranspose and refuses rather than compute something else."
            )


Convolution3DTranspose = Conv3DTranspose

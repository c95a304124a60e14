"""``DepthwiseConv1D``: tf.keras's 1-D depthwise convolution as a ``torch.nn.Module``."""
from __future__ import annotations

from typing import Any, Sequence

from ..._registry import LAYERS
from .base_depthwise_conv import DepthwiseConv


@LAYERS.register()
class DepthwiseConv1D(DepthwiseConv):
    """1-D depthwise convolution with tf.keras semantics (output channel ``c * depth_multiplier + m``).

    Arguments are those of ``tf.keras.layers.DepthwiseConv1D``: ``kernel_size, strides=1,
    padding='valid', depth_multiplier=1, data_format=None, dilation_rate=1, activation=None,
    use_bias=True, depthwise_initializer='glorot_uniform', bias_initializer='zeros',
    depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
    depthwise_constraint=None, bias_constraint=None``.
    """

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(
            1, kernel_size, strides=strides, padding=padding, depth_multiplier=depth_multiplier,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            depthwise_initializer=depthwise_initializer, bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, depthwise_constraint=depthwise_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )

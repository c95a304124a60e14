"""``SeparableConv1D``: tf.keras's 1-D depthwise-separable convolution as a ``torch.nn.Module``."""
from __future__ import annotations

from typing import Any, Sequence

from ..._registry import LAYERS
from .base_separable_conv import SeparableConv


@LAYERS.register("SeparableConvolution1D")
class SeparableConv1D(SeparableConv):
    """1-D separable convolution with tf.keras semantics: depthwise, then a 1-wide pointwise conv.

    Arguments are those of ``tf.keras.layers.SeparableConv1D``: ``filters, kernel_size, strides=1,
    padding='valid', data_format=None, dilation_rate=1, depth_multiplier=1, activation=None,
    use_bias=True, depthwise_initializer='glorot_uniform', pointwise_initializer='glorot_uniform',
    bias_initializer='zeros', depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
    activity_regularizer=None, depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None``.
    """

    _allows_causal = True

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        depth_multiplier: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(
            1, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, depth_multiplier=depth_multiplier, activation=activation,
            use_bias=use_bias, depthwise_initializer=depthwise_initializer,
            pointwise_initializer=pointwise_initializer, bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer, pointwise_regularizer=pointwise_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint, pointwise_constraint=pointwise_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )


SeparableConvolution1D = SeparableConv1D

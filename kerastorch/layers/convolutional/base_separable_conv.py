"""Rank-generic Keras separable convolution: a depthwise convolution, then a 1x1 pointwise one.

Reproduces tf.keras's ``SeparableConv{1,2}D``: ``depthwise_kernel`` ``(*k, in, M)``,
``pointwise_kernel`` ``(*1, in * M, filters)``, ``bias`` ``(filters,)``, padding, strides and
dilation on the depthwise step (Conv1D's 'causal' too), and tf.keras's config. Both kernels are
stored in the layout their torch kernel reads (see ``DepthwiseConv`` and ``Conv``).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ... import constraints, initializers, regularizers
from ..._registry import describe
from ..input_spec import InputSpec
from ..layer import WeightSpec
from .base_conv import Conv, check_positive_int
from .base_depthwise_conv import DepthwiseConv


class SeparableConv(DepthwiseConv):
    """Keras ``SeparableConv`` base for ``rank`` spatial dims."""

    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
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
        self._pointwise_args = (filters, pointwise_initializer, pointwise_regularizer, pointwise_constraint)
        super().__init__(
            rank, kernel_size, strides=strides, padding=padding, depth_multiplier=depth_multiplier,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            depthwise_initializer=depthwise_initializer, bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, depthwise_constraint=depthwise_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )

    def _validate_init(self) -> None:
        filters, initializer, regularizer, constraint = self.__dict__.pop("_pointwise_args")
        self.filters = check_positive_int(filters, "filters")
        super()._validate_init()
        self.pointwise_initializer = initializers.get(initializer)
        self.pointwise_regularizer = regularizers.get(regularizer)
        self.pointwise_constraint = constraints.get(constraint)

    _exact_rank_subject = " to `SeparableConv`"  # stricter: tf.keras runs (or fails in TF) on other ranks
    _channel_subject = ""
    _negative_output = Conv._negative_output  # tf.keras uses Conv's compute_output_shape

    def _input_spec(self, channels: int | None = None) -> InputSpec:
        # tf.keras: Conv's min_ndim until built, the exact rank after.
        if channels is None:
            return InputSpec(min_ndim=self.rank + 2)
        return InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})

    def _output_channels(self, input_channels: int | None) -> int | None:
        return self.filters

    def weight_specs(self, input_shape: Sequence[int | None] | None) -> list[WeightSpec]:
        channels = self._input_channels(input_shape)
        r = self.rank
        mid = None if channels is None else channels * self.depth_multiplier
        # Pointwise: a Conv kernel (*1, in * M, filters), stored as Conv stores its kernel.
        order = (r + 1, r, *range(r)) if self._channels_first else (r + 1, *range(r), r)
        specs = [
            self._depthwise_spec(channels),
            WeightSpec("pointwise_kernel", (*(1,) * r, mid, self.filters), self.pointwise_initializer,
                       self.pointwise_regularizer, self.pointwise_constraint, storage_order=order),
        ]
        if self.use_bias:
            specs.append(WeightSpec("bias", (self.filters,), self.bias_initializer, self.bias_regularizer, self.bias_constraint))
        return specs

    def _convolve(self, x: torch.Tensor, conv_args: tuple[Any, ...]) -> torch.Tensor:
        y = self._depthwise(x, conv_args, None)
        return self._conv(y, self._kernel_for_torch("pointwise_kernel", self._torch_weight), self._weight("bias"))

    def get_config(self) -> dict[str, Any]:
        config = super(DepthwiseConv, self).get_config()  # Conv's keys, then tf.keras's separable ones
        config.update(
            {
                "filters": self.filters,
                "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
                "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
            }
        )
        return config

    def extra_repr(self) -> str:
        text = super().extra_repr()
        for label in ("pointwise_regularizer", "pointwise_constraint"):
            value = getattr(self, label)
            if value is not None:
                text += f", {label}={describe(value)}"
        return text

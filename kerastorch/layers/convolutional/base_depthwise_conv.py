"""Rank-generic Keras depthwise convolution: one grouped torch convolution (groups = input channels).

Reproduces tf.keras's ``DepthwiseConv{1,2}D``: ``depth_multiplier``, the Keras kernel
``(*kernel_size, in, depth_multiplier)`` named ``depthwise_kernel``, output channel ``c * M + m``,
TF 'same' padding, configs without ``filters``/``kernel_*``. The kernel is stored contiguous as
``(in, M, *k)``, which *is* torch's grouped weight ``(in * M, 1, *k)`` (a reshape view) in both
memory formats.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ... import constraints, initializers, regularizers
from ..._registry import describe
from ..input_spec import shape_str
from ..layer import WeightSpec
from ..utils import conv_utils
from .base_conv import Conv, check_positive_int

_UNSET = object()


class DepthwiseConv(Conv):
    """Keras ``DepthwiseConv`` base for ``rank`` spatial dims."""

    _takes_filters = False
    _exact_rank_subject = " to `DepthwiseConv`"  # tf.keras's build refuses any other rank
    _channel_subject = " to `DepthwiseConv`"  # in tf.keras's undefined-channel message

    def __init__(
        self,
        rank: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: Any = 1,
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
        # tf.keras passes `filters=None` to Conv itself, so a `filters` argument fails there (a TypeError).
        filters = kwargs.pop("filters", _UNSET)
        self._depthwise_args = (depth_multiplier, depthwise_initializer, depthwise_regularizer, depthwise_constraint, filters)
        super().__init__(
            rank, None, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs,
        )

    def _validate_init(self) -> None:
        super()._validate_init()
        multiplier, initializer, regularizer, constraint, filters = self.__dict__.pop("_depthwise_args")
        if filters is not _UNSET:
            raise ValueError(
                f"Keyword argument not understood: 'filters' ({type(self).__name__} has no `filters`: it outputs "
                "input channels * depth_multiplier channels)."
            )
        self.depth_multiplier = check_positive_int(multiplier, "depth_multiplier")
        self.depthwise_initializer = initializers.get(initializer)
        self.depthwise_regularizer = regularizers.get(regularizer)
        self.depthwise_constraint = constraints.get(constraint)

    def _output_channels(self, input_channels: int | None) -> int | None:
        return None if input_channels is None else input_channels * self.depth_multiplier

    def _negative_output(self, shape: Sequence[Any], spatial: Sequence[int | None]) -> ValueError:
        """tf.keras's DepthwiseConv has its own ``compute_output_shape``: TensorShape refuses the negative size."""
        size = next(d for d in spatial if d is not None and d < 0)
        return ValueError(
            f'{type(self).__name__} layer "{self.name}": Dimension {size} must be >= 0 (output size for the input '
            f"shape {shape_str(shape)}: a spatial dimension is smaller than the dilated kernel "
            f"{tuple(map(conv_utils.dilated_kernel_size, self.kernel_size, self.dilation_rate))})."
        )

    def _input_channels(self, input_shape: Sequence[int | None] | None) -> int | None:
        if input_shape is None:
            return None
        self._check_exact_rank(input_shape)
        channels = tuple(input_shape)[self._channel_axis]
        if channels is None:
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": The channel dimension of the inputs{self._channel_subject} '
                f"should be defined. The input_shape received is {shape_str(input_shape)}, where axis "
                f"{self._channel_axis} (0-based) is the channel dimension, which found to be `None`."
            )
        self.compute_output_shape(input_shape)
        return int(channels)

    def _depthwise_spec(self, channels: int | None) -> WeightSpec:
        r = self.rank
        # Keras dims: k_0..k_{r-1} = 0..r-1, in = r, multiplier = r+1; stored (in, M, *k).
        return WeightSpec(
            "depthwise_kernel", (*self.kernel_size, channels, self.depth_multiplier), self.depthwise_initializer,
            self.depthwise_regularizer, self.depthwise_constraint, storage_order=(r, r + 1, *range(r)),
        )

    def weight_specs(self, input_shape: Sequence[int | None] | None) -> list[WeightSpec]:
        channels = self._input_channels(input_shape)
        specs = [self._depthwise_spec(channels)]
        if self.use_bias:
            out = None if channels is None else channels * self.depth_multiplier
            specs.append(WeightSpec("bias", (out,), self.bias_initializer, self.bias_regularizer, self.bias_constraint))
        return specs

    def input_shape_from_weights(self, shapes: Any) -> tuple[int | None, ...]:
        kernel = tuple(shapes.get("depthwise_kernel", ()))
        pattern = (*self.kernel_size, None, self.depth_multiplier)
        if len(kernel) != self.rank + 2 or any(e is not None and e != k for e, k in zip(pattern, kernel)):
            raise ValueError(
                f'Layer "{self.name}": depthwise_kernel shape {kernel} does not match the layer configuration '
                f"(expected {shape_str(pattern)} for kernel_size={self.kernel_size}, "
                f"depth_multiplier={self.depth_multiplier})."
            )
        shape: list[int | None] = [None] * (self.rank + 2)
        shape[self._channel_axis] = kernel[self.rank]
        return tuple(shape)

    def _depthwise_weight(self, kernel: torch.Tensor) -> torch.Tensor:
        """The stored ``(in, M, *k)`` kernel as torch's ``(in * M, 1, *k)`` view."""
        channels = kernel.shape[0]
        if self._channels_first or self.rank == 1:
            return kernel.reshape(channels * self.depth_multiplier, 1, *self._t_kernel)
        # the same memory with channels_last strides (the size-1 dim strided 1), which torch.compile keeps
        return kernel.reshape(channels * self.depth_multiplier, *self._t_kernel, 1).movedim(-1, 1)

    def _depthwise(self, x: torch.Tensor, conv_args: tuple[Any, ...], bias: torch.Tensor | None) -> torch.Tensor:
        weight = self._kernel_for_torch("depthwise_kernel", self._depthwise_weight)
        channels = weight.shape[0] // self.depth_multiplier
        if self._restride_one_channel:  # the torch bug of ``Conv._convolve``: NCHW-strided views
            x, weight = x.squeeze(1).unsqueeze(1), weight.squeeze(1).unsqueeze(1)
        stride, padding, dilation, _ = conv_args
        return self._conv(x, weight, bias, stride, padding, dilation, channels)

    def _convolve(self, x: torch.Tensor, conv_args: tuple[Any, ...]) -> torch.Tensor:
        return self._depthwise(x, conv_args, self._weight("bias"))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for key in ("filters", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(key)
        config["depth_multiplier"] = self.depth_multiplier
        config["depthwise_initializer"] = initializers.serialize(self.depthwise_initializer)
        config["depthwise_regularizer"] = regularizers.serialize(self.depthwise_regularizer)
        config["depthwise_constraint"] = constraints.serialize(self.depthwise_constraint)
        return config

    def extra_repr(self) -> str:
        text = super().extra_repr().replace("filters=None, ", "")
        extra = [f"depth_multiplier={self.depth_multiplier}"]
        for label in ("depthwise_regularizer", "depthwise_constraint"):
            value = getattr(self, label)
            if value is not None:
                extra.append(f"{label}={describe(value)}")
        return text + ", " + ", ".join(extra)

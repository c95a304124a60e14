"""Rank-generic Keras convolution on ``torch.nn.functional.conv{1,2,3}d``.

Reproduces ``tf_keras/layers/convolutional/base_conv.py``: argument checks and messages, kernel
layout ``(*kernel_size, in // groups, filters)``, TF 'same' padding for any stride/dilation, bias,
activation in the output's own layout, activity regularization, configs.

Speed: channels_last inputs are handed to torch as permuted views (channels_last memory format,
no copies); the kernel is stored so that its permuted ``(out, in, *k)`` view is already in the
memory format the data format wants; padding plans are cached per spatial shape; an explicit pad
happens only when TF's split is asymmetric.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from .. import activations, constraints, initializers, regularizers
from . import conv_utils
from .layer import Layer

_CONV_FUNCTIONS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _shape_str(shape: Sequence[Any]) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


class Conv(Layer):
    """Keras ``Conv`` base for ``rank`` spatial dims."""

    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = None,
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
        super().__init__(**kwargs)
        self.rank = rank
        try:
            self.activity_regularizer = regularizers.get(activity_regularizer)
            self.filters = self._check_filters(filters)
            self.groups = self._check_groups(groups)
            self.kernel_size = conv_utils.normalize_tuple(kernel_size, rank, "kernel_size")
            self.strides = conv_utils.normalize_tuple(strides, rank, "strides", allow_zero=True)
            self.padding = conv_utils.normalize_padding(padding)
            self.data_format = conv_utils.normalize_data_format(data_format)
            self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, rank, "dilation_rate")
            self.activation = activations.get(activation)
            self.use_bias = bool(use_bias)
            self.kernel_initializer = initializers.get(kernel_initializer)
            self.bias_initializer = initializers.get(bias_initializer)
            self.kernel_regularizer = regularizers.get(kernel_regularizer)
            self.bias_regularizer = regularizers.get(bias_regularizer)
            self.kernel_constraint = constraints.get(kernel_constraint)
            self.bias_constraint = constraints.get(bias_constraint)
            self._validate_init()
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {e}') from None

        self._channels_first = self.data_format == "channels_first"
        self._channel_axis = -1 - rank if self._channels_first else -1
        # Keras (k..., in, out) <-> torch (out, in, k...).
        self._kernel_to_torch = (rank + 1, rank, *range(rank))
        # NHWC <-> NCHW views for channels_last.
        self._to_channels_first = (0, rank + 1, *range(1, rank + 1))
        self._to_channels_last = (0, *range(2, rank + 2), 1)
        self._conv = _CONV_FUNCTIONS[rank]
        self._act = None if self.activation is activations.linear else self.activation
        self._mixed = self._dtype_policy.is_mixed
        self._input_channels: int | None = None
        self._plans: dict[tuple[int, ...], tuple[tuple[int, ...] | None, tuple[Any, ...]]] = {}

        self._declare_weight("kernel", self.kernel_regularizer, self.kernel_constraint)
        if self.use_bias:
            self._declare_weight("bias", self.bias_regularizer, self.bias_constraint)
        else:
            self.register_parameter("bias", None)
        self._finish_init()

    # ----- argument checks (tf.keras wording) -----
    @staticmethod
    def _check_filters(filters: Any) -> int:
        if isinstance(filters, float) and filters.is_integer():
            filters = int(filters)
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received filters={filters}."
            )
        return filters

    @staticmethod
    def _check_groups(groups: Any) -> int:
        groups = groups or 1
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"The argument `groups` must be a positive integer. Received: groups={groups}")
        return groups

    def _validate_init(self) -> None:
        if self.filters % self.groups != 0:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={self.groups}, filters={self.filters}"
            )
        if not all(self.strides):
            raise ValueError(f"The argument `strides` cannot contains 0(s). Received: {self.strides}")
        if self.padding == "causal":
            raise ValueError("Causal padding is only supported for `Conv1D`and `SeparableConv1D`.")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )

    def _incompatible(self, detail: str) -> ValueError:
        return ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: {detail}')

    def _too_small(self, shape: Sequence[Any]) -> ValueError:
        return ValueError(
            f"One of the dimensions in the output is <= 0 due to downsampling in {self.name}. "
            f"Consider increasing the input size. Received input shape {list(shape)} which would "
            "produce output shape with a zero or negative value in a dimension."
        )

    def _check_rank(self, shape: Sequence[Any]) -> None:
        if len(shape) < self.rank + 2:
            raise self._incompatible(
                f"expected min_ndim={self.rank + 2}, found ndim={len(shape)}. Full shape received: {_shape_str(shape)}"
            )

    def _check_input(self, inputs: Any) -> None:
        if not isinstance(inputs, torch.Tensor):
            raise ValueError(f'Layer "{self.name}" expects a torch.Tensor input, but received {type(inputs).__name__}.')
        self._check_rank(inputs.shape)
        if self.built and inputs.shape[self._channel_axis] != self._input_channels:
            raise self._incompatible(
                f"expected axis {self._channel_axis} of input shape to have value {self._input_channels}, "
                f"but received input with shape {_shape_str(inputs.shape)}"
            )
        if not (inputs.dtype.is_floating_point or inputs.dtype.is_complex):
            raise self._incompatible(f"expected a floating-point input, found dtype={inputs.dtype}")

    # ----- shapes -----
    def _spatial_axes(self, ndim: int) -> slice:
        return slice(ndim - self.rank, ndim) if self._channels_first else slice(ndim - self.rank - 1, ndim - 1)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        """Output shape for ``input_shape`` (batch dims included); ``None`` dims stay ``None``."""
        input_shape = tuple(None if d is None else int(d) for d in input_shape)
        self._check_rank(input_shape)
        spatial = conv_utils.spatial_output_shape(
            input_shape[self._spatial_axes(len(input_shape))],
            self.kernel_size, self.padding, self.strides, self.dilation_rate,
        )
        if any(d is not None and d < 0 for d in spatial):  # tf.keras lets a 0-sized output through here
            raise self._too_small(input_shape)
        batch = input_shape[: len(input_shape) - self.rank - 1]
        if self._channels_first:
            return (*batch, self.filters, *spatial)
        return (*batch, *spatial, self.filters)

    def build(self, input_shape: Sequence[int | None]) -> None:
        """Create the weights for ``input_shape`` (batch dim included, ``None`` allowed)."""
        if self.built:
            return
        input_shape = tuple(input_shape)
        self._check_rank(input_shape)
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(
                "The channel dimension of the inputs should be defined. The input_shape received is "
                f"{_shape_str(input_shape)}, where axis {self._channel_axis} (0-based) is the channel "
                "dimension, which found to be `None`."
            )
        channels = int(channels)
        if channels % self.groups != 0:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of groups. "
                f"Received groups={self.groups}, but the input has {channels} channels "
                f"(full input shape is {_shape_str(input_shape)})."
            )
        self.compute_output_shape(input_shape)
        self._create_weights(channels)

    def _create_weights(self, channels: int) -> None:
        r = self.rank
        # Keras dims: k_0..k_{r-1} = 0..r-1, in = r, out = r+1. Memory order makes the torch view
        # (out, in, k...) channels_last-contiguous for channels_last data, plain-contiguous otherwise.
        order = (r + 1, r, *range(r)) if self._channels_first else (r + 1, *range(r), r)
        specs = [("kernel", (*self.kernel_size, channels // self.groups, self.filters), self.kernel_initializer, order)]
        if self.use_bias:
            specs.append(("bias", (self.filters,), self.bias_initializer, None))
        self._materialize_weights(specs)
        self._input_channels = channels
        self.built = True
        self._drop_lazy_hooks()

    def _expected_weight_shapes(self, shapes: Sequence[tuple[int, ...]]) -> list[tuple[int, ...]]:
        """Weight shapes this layer takes when built for the kernel in ``shapes`` (no side effects)."""
        kernel_shape = tuple(shapes[0]) if shapes else ()
        pattern = (*self.kernel_size, None, self.filters)
        if len(kernel_shape) != self.rank + 2 or any(e is not None and e != k for e, k in zip(pattern, kernel_shape)):
            raise ValueError(
                f'Layer "{self.name}": kernel shape {kernel_shape} does not match the layer configuration '
                f"(expected {_shape_str(pattern)} for kernel_size={self.kernel_size}, filters={self.filters})."
            )
        expected = [kernel_shape]
        if self.use_bias:
            expected.append((self.filters,))
        return expected

    def _build_from_weight_shapes(self, shapes: Sequence[tuple[int, ...]]) -> None:
        kernel_shape = self._expected_weight_shapes(shapes)[0]
        shape: list[int | None] = [None] * (self.rank + 2)
        shape[self._channel_axis] = kernel_shape[self.rank] * self.groups
        self.build(tuple(shape))

    # ----- forward -----
    def _plan(self, spatial: tuple[int, ...]) -> tuple[tuple[int, ...] | None, tuple[Any, ...]]:
        """(explicit F.pad tuple or None, the conv's stride/padding/dilation/groups) for one spatial shape."""
        if self.padding == "valid":
            return None, self._conv_args(0)
        splits = [conv_utils.same_padding(n, k, s, d) for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)]
        conv_padding = tuple(before for before, _ in splits)
        extra = [after - before for before, after in splits]
        if not any(extra):
            return None, self._conv_args(conv_padding)
        pad: list[int] = []
        for e in reversed(extra):  # F.pad lists the last dim first
            pad += [0, e]
        return tuple(pad), self._conv_args(conv_padding)

    def _conv_args(self, padding: int | tuple[int, ...]) -> tuple[Any, ...]:
        # torch parses a plain int faster than a tuple: pass ints where all dims agree.
        def compact(v: Any) -> Any:
            return v[0] if isinstance(v, tuple) and len(set(v)) == 1 else v

        return compact(self.strides), compact(padding), compact(self.dilation_rate), self.groups

    def _prepare(self, inputs: torch.Tensor) -> torch.Tensor:
        """Slow path: validate, fold extra batch dims, cast to the compute dtype."""
        self._check_input(inputs)
        if not self.built and self._weights_state() == "lazy":
            self.build(tuple(inputs.shape))
        if inputs.dtype != self.compute_dtype and not torch.is_autocast_enabled(inputs.device.type):
            inputs = inputs.to(self.compute_dtype)
        return inputs

    def _new_plan(self, shape: Sequence[int]) -> tuple[tuple[int, ...] | None, tuple[Any, ...]]:
        spatial = tuple(shape[2:]) if self._channels_first else tuple(shape[1:-1])
        self._check_output_size(shape, spatial)
        plan = self._plan(spatial)
        if not torch.compiler.is_compiling():
            if len(self._plans) >= 64:  # inputs of ever-changing shapes: keep the cache bounded
                self._plans.clear()
            self._plans[tuple(shape)] = plan
        return plan

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        params = self._parameters  # direct dict access: Module.__getattr__ is slow on the hot path
        kernel, bias = params["kernel"], params["bias"]
        shape = getattr(inputs, "shape", None)
        if (
            shape is None
            or len(shape) != self.rank + 2
            or shape[self._channel_axis] != self._input_channels
            or inputs.dtype is not kernel.dtype
            or self._mixed
        ):
            inputs = self._prepare(inputs)
            shape = inputs.shape
            if len(shape) > self.rank + 2:
                batch = shape[: len(shape) - self.rank - 1]
                out = self.forward(inputs.reshape(-1, *shape[len(batch):]))
                return out.reshape(*batch, *out.shape[1:])
            if self._mixed:
                kernel = kernel.to(self._dtype_policy.compute_dtype)
                bias = None if bias is None else bias.to(self._dtype_policy.compute_dtype)

        # Never read the cache while tracing: shapes may be symbolic (export) and dynamo would guard on it.
        plan = None if torch.compiler.is_compiling() else self._plans.get(shape)
        pad, conv_args = plan if plan is not None else self._new_plan(shape)
        x = inputs if self._channels_first else inputs.permute(self._to_channels_first)
        if pad is not None:
            x = F.pad(x, pad)
        y = self._conv(x, kernel.permute(self._kernel_to_torch), bias, *conv_args)
        if not self._channels_first:
            y = y.permute(self._to_channels_last)
        if self._act is not None:
            y = self._act(y)
        if self.activity_regularizer is not None:
            self._record_activity(y)
        return y

    def _check_output_size(self, shape: Sequence[int], spatial: Sequence[int]) -> None:
        """Refuse inputs whose output would be empty (tf.keras fails inside TF ops or returns garbage)."""
        if self.padding == "valid" and any(
            n < conv_utils.dilated_kernel_size(k, d) for n, k, d in zip(spatial, self.kernel_size, self.dilation_rate)
        ):
            raise self._too_small(shape)

    # ----- config / repr -----
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "groups": self.groups,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
            }
        )
        return config

    def extra_repr(self) -> str:
        parts = [
            f"name={self.name!r}",
            f"filters={self.filters}",
            f"kernel_size={self.kernel_size}",
            f"strides={self.strides}",
            f"padding={self.padding!r}",
            f"data_format={self.data_format!r}",
        ]
        if max(self.dilation_rate) > 1:
            parts.append(f"dilation_rate={self.dilation_rate}")
        if self.groups != 1:
            parts.append(f"groups={self.groups}")
        parts.append(f"activation={activations.serialize(self.activation)!r}")
        parts.append(f"use_bias={self.use_bias}")
        for label in ("kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"):
            value = getattr(self, label)
            if value is not None:
                parts.append(f"{label}={value!r}")
        if not self.trainable:
            parts.append("trainable=False")
        if self.dtype != "float32":
            parts.append(f"dtype={self.dtype!r}")
        parts.append(f"input_channels={self._input_channels}" if self.built else "built=False")
        return ", ".join(parts)

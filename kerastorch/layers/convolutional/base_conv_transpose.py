"""Rank-generic Keras transposed convolution on ``torch.nn.functional.conv_transpose{1,2,3}d``.

Reproduces tf.keras's ``Conv{1,2,3}DTranspose``: the Keras kernel ``(*kernel_size, filters, in)``,
``output_padding``, TF's output length (``deconv_output_length``) and TF's placement of the
result for 'valid' and 'same' with any stride, kernel parity and output_padding (see
``conv_utils.transpose_padding``). The kernel is stored as ``(in, *k, filters)`` for channels_last
(its ``(in, filters, *k)`` view is channels_last-contiguous) and ``(in, filters, *k)``, torch's
``nn.ConvTranspose`` layout, for channels_first.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from ..input_spec import InputSpec, shape_str
from ..layer import WeightSpec
from ..utils import conv_utils
from .base_conv import Conv

_CONV_TRANSPOSE_FUNCTIONS = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


class ConvTranspose(Conv):
    """Keras ``Conv{r}DTranspose`` base: ``Conv``'s arguments plus ``output_padding`` (no groups)."""

    _functions = _CONV_TRANSPOSE_FUNCTIONS
    _exact_rank_subject = ""  # tf.keras: "Inputs should have rank N"
    _uses_dilation = True  # tf.keras's Conv3DTranspose accepts dilation_rate and ignores it

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 output_padding: Any = None, **kwargs: Any):
        self._output_padding_arg = output_padding
        super().__init__(rank, filters, kernel_size, strides=strides, padding=padding, **kwargs)

    def _validate_init(self) -> None:
        super()._validate_init()
        if self.padding == "causal":
            raise ValueError('The `padding` argument must be one of "valid", "same". Received: causal')
        op = self._output_padding_arg
        self.output_padding = None
        if op is not None:
            self.output_padding = conv_utils.normalize_tuple(op, self.rank, "output_padding", allow_zero=True)
            for stride, out_pad in zip(self.strides, self.output_padding):
                if out_pad >= stride:
                    raise ValueError(
                        "Strides must be greater than output padding. "
                        f"Received strides={self.strides}, output_padding={self.output_padding}."
                    )
        if not self._uses_dilation:
            self.dilation_rate = (1,) * self.rank

    def _plan_depends_on_size(self) -> bool:
        return True  # TF's placement of the result depends on the input size

    def _input_spec(self, channels: int | None = None) -> InputSpec:
        # tf.keras: Conv's min_ndim until built (build then refuses any other rank), the exact rank after.
        if channels is None:
            return InputSpec(min_ndim=self.rank + 2)
        return InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})

    def _conv_args(self, padding: Any) -> tuple[Any, ...]:
        stride, pad, dilation, _ = super()._conv_args(padding)
        return stride, pad, dilation, 1  # tf.keras accepts `groups` here and ignores it

    # ----- shapes and weights -----
    def _output_spatial(self, spatial: Sequence[int | None]) -> list[int | None]:
        op = self.output_padding or (None,) * self.rank
        return [
            conv_utils.deconv_output_length(n, k, self.padding, p, s, d)
            for n, k, p, s, d in zip(spatial, self.kernel_size, op, self.strides, self.dilation_rate)
        ]

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        input_shape = tuple(None if d is None else int(d) for d in input_shape)
        self._check_rank(input_shape)
        spatial = self._output_spatial(self._spatial(input_shape))
        if self._channels_first:
            return (input_shape[0], self.filters, *spatial)
        return (input_shape[0], *spatial, self.filters)

    def weight_specs(self, input_shape: Sequence[int | None] | None) -> list[WeightSpec]:
        channels = None
        if input_shape is not None:
            self._check_exact_rank(input_shape)
            channels = tuple(input_shape)[self._channel_axis]
            if channels is None:
                raise ValueError(
                    f"The channel dimension of the inputs to `{type(self).__name__}` should be defined. The "
                    f"input_shape received is {shape_str(input_shape)}, where axis {self._channel_axis} (0-based) "
                    "is the channel dimension, which found to be `None`."
                )
        r = self.rank
        # Keras dims: k_0..k_{r-1} = 0..r-1, filters = r, in = r+1.
        order = (r + 1, r, *range(r)) if self._channels_first else (r + 1, *range(r), r)
        kernel = (*self.kernel_size, self.filters, channels)
        specs = [WeightSpec("kernel", kernel, self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint, storage_order=order)]
        if self.use_bias:
            specs.append(WeightSpec("bias", (self.filters,), self.bias_initializer, self.bias_regularizer, self.bias_constraint))
        return specs

    def input_shape_from_weights(self, shapes: Any) -> tuple[int | None, ...]:
        kernel = tuple(shapes.get("kernel", ()))
        pattern = (*self.kernel_size, self.filters, None)
        if len(kernel) != self.rank + 2 or any(e is not None and e != k for e, k in zip(pattern, kernel)):
            raise ValueError(
                f'Layer "{self.name}": kernel shape {kernel} does not match the layer configuration '
                f"(expected {shape_str(pattern)} for kernel_size={self.kernel_size}, filters={self.filters})."
            )
        shape: list[int | None] = [None] * (self.rank + 2)
        shape[self._channel_axis] = kernel[-1]
        return tuple(shape)

    # ----- plan -----
    def _make_plan(self, spatial: Sequence[int] | None) -> Any:
        if spatial is None:
            return None
        out = self._torch_out(spatial)
        splits = [
            conv_utils.transpose_padding(n, o, k, self.padding, s, d)
            for n, o, k, s, d in zip(spatial, out, self._t_kernel, self._t_strides, self._t_dilation)
        ]
        padding = tuple(p for p, _, _ in splits)
        output_padding = tuple(op for _, op, _ in splits)
        ends = [-c for _, _, c in splits]  # F.pad amount at the end of each dim: negative crops, positive pads
        bias_after = False
        if all(k == 1 for k in self._t_kernel) and any(output_padding):
            # torch's CPU (oneDNN) backward of a 1x1 transposed conv with output_padding corrupts memory (wrong
            # gradients, crashes; torch 2.x). With a 1x1 kernel the padded end lies past the full result: it is
            # zeros (plus the bias), so pad it explicitly.
            ends = [e + op for e, op in zip(ends, output_padding)]
            output_padding, bias_after = (0,) * len(output_padding), self.use_bias
        # An F.pad keeps the memory format (as the conv's explicit pad).
        crop = tuple(v for e in reversed(ends) for v in (0, e)) if any(ends) else None
        stride, pad, dilation, groups = self._conv_args(padding)
        compact = output_padding[0] if len(set(output_padding)) == 1 else output_padding
        return crop, (stride, pad, compact, groups, dilation), bias_after

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        self._check_exact_rank(tuple(inputs.shape))
        if self.rank == 2 and self.dilation_rate[0] != self.dilation_rate[1]:  # TF's conv2d_transpose
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": Expected the 2 dimensions of the `dilation_rate` argument '
                f"to be equal to each other. Received: dilation_rate={self.dilation_rate}"
            )
        spatial = self._spatial(tuple(inputs.shape))
        for n, o, k, s, d in zip(spatial, self._output_spatial(spatial), self.kernel_size, self.strides, self.dilation_rate):
            # TF computes the result as the gradient of the forward conv: that conv must map the output
            # size back to the input size, or TF refuses ("Size of out_backprop doesn't match computed").
            if n and conv_utils.conv_output_length(o, k, self.padding, s, d) != n:
                raise ValueError(
                    f'{type(self).__name__} layer "{self.name}": an input of spatial size {n} gives an output of size '
                    f"{o} (kernel_size={self.kernel_size}, strides={self.strides}, padding={self.padding!r}, "
                    f"output_padding={self.output_padding}), which the matching convolution does not map back to {n}; "
                    "TF refuses it too."
                )
        spatial = self._torch_spatial(spatial)
        if spatial != self._plan_spatial and not torch.compiler.is_compiling():
            self._plan, self._plan_spatial = self._make_plan(spatial), spatial

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self._to_torch(inputs)
        y = self._from_torch(self._torch_compute(x, self._checked_plan(x)))
        if self._has_activation:
            y = self.activation(y)
        return y

    def _checked_plan(self, x: torch.Tensor) -> Any:
        spatial = tuple(x.shape[2:])
        if torch.compiler.is_compiling() or spatial != self._plan_spatial:
            return self._make_plan(spatial)
        return self._plan

    def _torch_compute(self, x: torch.Tensor, plan: Any) -> torch.Tensor:
        crop, conv_args, bias_after = plan
        spatial = x.shape[2:]
        if 0 in spatial:  # nothing to transpose (torch refuses it): TF's result is the bias alone
            y, bias_after = self._add_bias(x.new_zeros((x.shape[0], self.filters, *self._torch_out(tuple(spatial))))), False
        elif bias_after:
            y = self._conv(x, self._kernel_for_torch("kernel", self._torch_weight), None, *conv_args)
        else:
            y = self._convolve(x, conv_args)
        if crop is not None:
            y = F.pad(y, crop)
        if bias_after:
            y = self._add_bias(y)
        return y

    def _torch_out(self, spatial: tuple[int, ...]) -> tuple[int, ...]:
        """The output's torch-side spatial dims for the torch-side input dims ``spatial``."""
        return self._torch_spatial(self._output_spatial(spatial[1:] if self._lifted else spatial))

    def _add_bias(self, y: torch.Tensor) -> torch.Tensor:
        bias = self._weight("bias")
        return y if bias is None else y + bias.view(-1, *(1,) * (y.dim() - 2))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if not self._uses_dilation:
            config.pop("dilation_rate")
        config["output_padding"] = self.output_padding
        return config

    def extra_repr(self) -> str:
        extra = f", output_padding={self.output_padding}" if self.output_padding is not None else ""
        return super().extra_repr() + extra

"""Rank-generic Keras convolution on ``torch.nn.functional.conv{1,2,3}d``.

Reproduces ``tf_keras/layers/convolutional/base_conv.py``: argument checks and messages, the Keras
kernel ``(*kernel_size, in // groups, filters)``, TF 'same' and Conv1D 'causal' padding for any
stride/dilation, bias, activation in the output's own layout, configs.

Speed: channels_last inputs are handed to torch as permuted views (channels_last memory format, no
copies). The kernel is stored contiguous in the order the torch kernel reads it: ``(filters, *k, in)``
for channels_last (its permuted ``(filters, in, *k)`` view is channels_last-contiguous) and
``(filters, in, *k)``, torch's own ``nn.Conv`` layout, for channels_first. Padding is decided at build
(and again only when the spatial size changes and the stride makes TF's split depend on it); an
explicit pad happens only when TF's split is asymmetric.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F

from ... import activations, constraints, initializers, regularizers
from ..input_spec import InputSpec, check_shape, shape_str
from ..call_pipeline import is_elementwise
from ..layer import Layer, WeightSpec
from ..utils import bounds, conv_utils

_CONV_FUNCTIONS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}

# (explicit F.pad tuple or None, the conv's stride/padding/dilation/groups)
Plan = tuple[tuple[int, ...] | None, tuple[Any, ...]]


def check_positive_int(value: Any, name: str) -> int:
    """``filters``-style arguments: a positive integer (numpy integers and integral floats too)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a strictly positive value. Received {name}={value!r}."
        )
    if bounds.over_max([int(value)]):
        raise ValueError(f"Invalid value for argument `{name}`. Expected a value {bounds.requirement()}. Received {name}={value!r}.")
    return int(value)


class _ViewCache(dict):
    """A layer's kept kernel views (``Conv._kernel_for_torch``): copies and pickles start empty (the views are
    made again from the copy's own weights)."""

    def __deepcopy__(self, memo: dict) -> "_ViewCache":
        return _ViewCache()

    def __copy__(self) -> "_ViewCache":
        return _ViewCache()

    def __reduce__(self) -> tuple:
        return _ViewCache, ()


class Conv(Layer):
    """Keras ``Conv`` base for ``rank`` spatial dims."""

    _functions = _CONV_FUNCTIONS  # torch kernel per rank
    _takes_filters = True  # depthwise convolutions have no `filters`
    _allows_causal = False  # tf.keras: only Conv1D (and its subclasses) and SeparableConv1D
    # Subject of tf.keras's exact-rank message ("Inputs{subject} should have rank N"), for the layers whose
    # input must have exactly rank + 2 dims; None: extra leading batch dims are folded (Conv).
    _exact_rank_subject: str | None = None

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
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        try:
            self.filters = check_positive_int(filters, "filters") if self._takes_filters else None
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
        # torch's conv1d copies a channels_last (N, L, C) input to make it contiguous; a 2-D conv over the
        # (N, C, 1, L) channels_last view does not. So a channels_last 1-D layer runs as a 2-D one with a
        # leading spatial dim of 1 ("lifted"): the _t_* tuples are the torch-side geometry.
        self._lifted = rank == 1 and not self._channels_first
        t_rank = rank + self._lifted
        self._t_kernel, self._t_strides, self._t_dilation = (
            ((1,) + t if self._lifted else t) for t in (self.kernel_size, self.strides, self.dilation_rate)
        )
        # Stored (filters, *k, in) -> the (filters, in, *k) view torch's conv reads (channels_last only).
        self._kernel_view = None if self._channels_first else (0, t_rank + 1, *range(1, t_rank + 1))
        # NHWC <-> NCHW views for channels_last.
        self._to_channels_first = (0, t_rank + 1, *range(1, t_rank + 1))
        self._to_channels_last = (0, *range(2, t_rank + 2), 1)
        # torch 2.13's CPU conv2d computes garbage for a one-channel input with channels_last strides (an NHWC
        # tensor's view, or a permuted one given to a channels_first layer) when the output is one column wide at
        # a column stride > 1: such calls get NCHW-strided views (_on_new_input)
        self._restride_one_channel = False
        self._conv = self._functions[t_rank]
        self._has_activation = self.activation is not activations.linear
        self._mixed = self._dtype_policy.is_mixed
        self._plan_varies = self._plan_depends_on_size()
        self._plan: Plan | None = None if self._plan_varies else self._make_plan(None)
        self._plan_spatial: tuple[int, ...] | None = None
        self.input_spec = self._input_spec()
        if not self.use_bias:
            self.register_parameter("bias", None)
        self._finish_init()

    def _plan_depends_on_size(self) -> bool:
        """Only where a stride makes TF's 'same' split depend on the input size."""
        return self.padding == "same" and max(self.strides) > 1

    def _input_spec(self, channels: int | None = None) -> InputSpec:
        """Keras's input spec: at least ``rank + 2`` dims (extra leading batch dims are folded)."""
        return InputSpec(min_ndim=self.rank + 2, axes={} if channels is None else {self._channel_axis: channels})

    # ----- argument checks (tf.keras wording) -----
    @staticmethod
    def _check_groups(groups: Any) -> int:
        groups = groups or 1
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
            raise ValueError(f"The argument `groups` must be a positive integer. Received: groups={groups!r}")
        return int(groups)

    def _validate_init(self) -> None:
        if self.filters is not None and self.filters % self.groups != 0:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={self.groups}, filters={self.filters}"
            )
        if not all(self.strides):
            raise ValueError(f"The argument `strides` cannot contains 0(s). Received: {self.strides}")
        if self.padding == "causal" and not self._allows_causal:
            raise ValueError("Causal padding is only supported for `Conv1D`and `SeparableConv1D`.")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )

    def _too_small(self, shape: Sequence[Any]) -> ValueError:
        return ValueError(
            f"One of the dimensions in the output is <= 0 due to downsampling in {self.name}. "
            f"Consider increasing the input size. Received input shape {list(shape)} which would "
            "produce output shape with a zero or negative value in a dimension."
        )

    def _negative_output(self, shape: Sequence[Any], spatial: Sequence[int | None]) -> ValueError:
        """``compute_output_shape``'s error for a negative output size (tf.keras's Conv wording)."""
        return self._too_small(shape)

    def _check_exact_rank(self, shape: Sequence[Any]) -> None:
        """Refuse an input of another rank than ``rank + 2`` where tf.keras does (see ``_exact_rank_subject``)."""
        if self._exact_rank_subject is not None and len(shape) != self.rank + 2:
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": Inputs{self._exact_rank_subject} should have rank '
                f"{self.rank + 2}. Received input_shape={shape_str(shape)}."
            )

    # ----- shapes and weights -----
    def _spatial(self, shape: Sequence[Any]) -> tuple[Any, ...]:
        n = len(shape)
        return tuple(shape[n - self.rank:] if self._channels_first else shape[n - self.rank - 1: n - 1])

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        """Output shape for ``input_shape`` (batch dims included); ``None`` dims stay ``None``."""
        input_shape = tuple(None if d is None else int(d) for d in input_shape)
        self._check_rank(input_shape)
        spatial = conv_utils.spatial_output_shape(
            self._spatial(input_shape), self.kernel_size, self.padding, self.strides, self.dilation_rate
        )
        if any(d is not None and d < 0 for d in spatial):  # tf.keras lets a 0-sized output through here
            raise self._negative_output(input_shape, spatial)
        batch = input_shape[: len(input_shape) - self.rank - 1]
        channels = self._output_channels(input_shape[self._channel_axis])
        if self._channels_first:
            return (*batch, channels, *spatial)
        return (*batch, *spatial, channels)

    def _output_channels(self, input_channels: int | None) -> int | None:
        return self.filters

    def _check_rank(self, shape: Sequence[Any]) -> None:
        check_shape(self.input_spec, shape, self.name)

    def weight_specs(self, input_shape: Sequence[int | None] | None) -> list[WeightSpec]:
        channels = None
        if input_shape is not None:
            input_shape = tuple(input_shape)
            channels = input_shape[self._channel_axis]
            if channels is None:
                raise ValueError(
                    "The channel dimension of the inputs should be defined. The input_shape received is "
                    f"{shape_str(input_shape)}, where axis {self._channel_axis} (0-based) is the channel "
                    "dimension, which found to be `None`."
                )
            if channels % self.groups != 0:
                raise ValueError(
                    "The number of input channels must be evenly divisible by the number of groups. "
                    f"Received groups={self.groups}, but the input has {channels} channels "
                    f"(full input shape is {shape_str(input_shape)})."
                )
            self.compute_output_shape(input_shape)
        r = self.rank
        # Keras dims: k_0..k_{r-1} = 0..r-1, in = r, out = r+1.
        order = (r + 1, r, *range(r)) if self._channels_first else (r + 1, *range(r), r)
        kernel = (*self.kernel_size, None if channels is None else channels // self.groups, self.filters)
        specs = [WeightSpec("kernel", kernel, self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint, storage_order=order)]
        if self.use_bias:
            specs.append(WeightSpec("bias", (self.filters,), self.bias_initializer, self.bias_regularizer, self.bias_constraint))
        return specs

    def input_shape_from_weights(self, shapes: Any) -> tuple[int | None, ...]:
        kernel = tuple(shapes.get("kernel", ()))
        pattern = (*self.kernel_size, None, self.filters)
        if len(kernel) != self.rank + 2 or any(e is not None and e != k for e, k in zip(pattern, kernel)):
            raise ValueError(
                f'Layer "{self.name}": kernel shape {kernel} does not match the layer configuration '
                f"(expected {shape_str(pattern)} for kernel_size={self.kernel_size}, filters={self.filters})."
            )
        shape: list[int | None] = [None] * (self.rank + 2)
        shape[self._channel_axis] = kernel[self.rank] * self.groups
        return tuple(shape)

    def _on_build(self, input_shape: Sequence[int | None]) -> None:
        self.input_spec = self._input_spec(int(input_shape[self._channel_axis]))
        spatial = self._torch_spatial(self._spatial(input_shape))
        if self._plan_varies and None not in spatial:
            self._plan, self._plan_spatial = self._make_plan(spatial), spatial

    def _torch_spatial(self, spatial: Sequence[Any]) -> tuple[Any, ...]:
        """Keras spatial dims -> those of the tensor handed to torch (a lifted 1-D layer adds a 1)."""
        return (1, *spatial) if self._lifted else tuple(spatial)

    def _to_torch(self, inputs: torch.Tensor) -> torch.Tensor:
        """The channels-first view torch's kernels read (no copy)."""
        if self._channels_first:
            return inputs
        return (inputs.unsqueeze(1) if self._lifted else inputs).permute(self._to_channels_first)

    def _from_torch(self, y: torch.Tensor) -> torch.Tensor:
        if self._channels_first:
            return y
        y = y.permute(self._to_channels_last)
        return y.squeeze(1) if self._lifted else y

    def _torch_weight(self, stored: torch.Tensor) -> torch.Tensor:
        """A stored conv-style kernel ``(out, *k, in)`` / ``(out, in, *k)`` as torch's ``(out, in, *k)`` view."""
        if self._lifted:
            stored = stored.unsqueeze(1)
        return stored if self._kernel_view is None else stored.permute(self._kernel_view)

    # ----- padding plan -----
    def _make_plan(self, spatial: Sequence[int] | None) -> Plan:
        if self.padding == "valid":
            return None, self._conv_args(0)
        if self.padding == "causal":  # left-pad by the dilated kernel extent minus one
            return (conv_utils.dilated_kernel_size(self.kernel_size[0], self.dilation_rate[0]) - 1, 0), self._conv_args(0)
        if spatial is None:  # stride 1: TF's split does not depend on the input size
            spatial = (0,) * len(self._t_kernel)
        splits = [conv_utils.same_padding(n, k, s, d) for n, k, s, d in zip(spatial, self._t_kernel, self._t_strides, self._t_dilation)]
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

        return compact(self._t_strides), compact(padding), compact(self._t_dilation), self.groups

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        """Refuse inputs whose output would be empty; re-plan 'same' padding for a new size."""
        shape = tuple(inputs.shape)
        self._check_exact_rank(shape)
        if len(shape) > self.rank + 2:
            shape = (-1, *shape[len(shape) - self.rank - 1:])
        spatial = self._spatial(shape)
        if any(n == 0 for n in spatial) or (
            self.padding == "valid"
            and any(n < conv_utils.dilated_kernel_size(k, d) for n, k, d in zip(spatial, self.kernel_size, self.dilation_rate))
        ):
            raise self._too_small(inputs.shape)
        spatial = self._torch_spatial(spatial)
        if len(spatial) == 2:
            width = conv_utils.conv_output_length(
                spatial[-1], self._t_kernel[-1], self.padding, self._t_strides[-1], self._t_dilation[-1])
            self._keep_state(
                _restride_one_channel=shape[self._channel_axis] == 1 and width == 1 and self._t_strides[-1] > 1)
        if self._plan_varies and spatial != self._plan_spatial and not torch.compiler.is_compiling():
            self._plan, self._plan_spatial = self._make_plan(spatial), spatial

    # ----- call -----
    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() != self.rank + 2:  # Keras folds extra leading batch dims
            batch = inputs.shape[: inputs.dim() - self.rank - 1]
            out = self.call(inputs.reshape(-1, *inputs.shape[len(batch):]))
            return out.reshape(*batch, *out.shape[1:])
        x = self._to_torch(inputs)
        y = self._from_torch(self._torch_compute(x, self._checked_plan(x)))
        if self._has_activation:
            y = self.activation(y)
        return y

    def _checked_plan(self, x: torch.Tensor) -> Any:
        """The padding plan for the channels-first view ``x``.

        (eager: ``_on_new_input`` re-planned for this size already; the compare, a torch.Size slice against a
        tuple, only guards a direct ``call``)"""
        if self._plan_varies and (torch.compiler.is_compiling() or x.shape[2:] != self._plan_spatial):
            return self._make_plan(tuple(x.shape[2:]))
        return self._plan

    def _torch_compute(self, x: torch.Tensor, plan: Any) -> torch.Tensor:
        """The convolution on the channels-first view ``x`` with its plan; returns the channels-first output."""
        pad, conv_args = plan
        if pad is not None:
            x = F.pad(x, pad)
        return self._convolve(x, conv_args)

    def _call_first(self, x: torch.Tensor) -> torch.Tensor:
        """``call`` on the channels-first view, for a graph runner (the plan is this input size's; a trace, which
        keeps no per-size state, makes it)."""
        y = self._torch_compute(x, self._checked_plan(x) if torch.compiler.is_compiling() else self._plan)
        return self.activation(y) if self._has_activation else y

    def _layout_call(self, rank: int) -> tuple[str, Any] | None:
        direct = (
            not self._channels_first and not self._lifted and rank == self.rank + 2
            and not self._restride_one_channel and is_elementwise(self.activation)
        )
        return ("first", self._call_first) if direct else None

    def _output_is_fresh(self) -> bool:
        return not self._has_activation

    def _weight(self, name: str) -> torch.Tensor | None:
        """Weight ``name`` in the compute dtype (a mixed policy keeps float32 variables)."""
        w = self._current(name)
        return w.to(self._dtype_policy.compute_dtype) if self._mixed and w is not None else w

    def _kernel_for_torch(self, name: str, make: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """Weight ``name`` as the view torch's kernel reads (``make`` of the stored tensor).

        Without autograd (inference), the view is made once and kept while the stored tensor is the same
        Parameter on the same memory: an in-place update (an optimizer step, ``load_state_dict``) shows
        through it; ``.to()``, ``param.data = ...``, a parametrization or a mixed policy's cast give another
        tensor or memory, hence a new view. (A view made per call costs ~2 us per convolution at batch 1.)"""
        w = self._parameters.get(name)  # None under a parametrization: the attribute computes it
        if (w is None or torch.is_grad_enabled() or self._mixed or torch.compiler.is_compiling()
                or torch.jit.is_tracing()):
            return make(self._weight(name))
        views = self.__dict__.get("_kernel_views")
        if views is None:
            views = self.__dict__["_kernel_views"] = _ViewCache()
        cached = views.get(name)
        if cached is not None and cached[0] is w and cached[1] == w.data_ptr():
            return cached[2]
        view = make(w.data)  # outside autograd (a no_grad view of w would refuse a later deepcopy)
        if view.untyped_storage().data_ptr() == w.untyped_storage().data_ptr():  # a view, not a copy
            views[name] = (w, w.data_ptr(), view)
        return view

    def _convolve(self, x: torch.Tensor, conv_args: tuple[Any, ...]) -> torch.Tensor:
        """The torch kernel on the channels-first view ``x`` (already padded)."""
        weight = self._kernel_for_torch("kernel", self._torch_weight)
        if self._restride_one_channel:  # (N, 1, H, W) views with NCHW strides: the same memory
            x, weight = x.squeeze(1).unsqueeze(1), weight.squeeze(1).unsqueeze(1)
        return self._conv(x, weight, self._weight("bias"), *conv_args)

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
                **self._components_config("kernel", "bias"),
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
        parts += self._components_repr("kernel", "bias")
        if self.built:
            parts.append(f"input_channels={self.input_spec.axes[self._channel_axis]}")
        return ", ".join(parts + self._repr_common())

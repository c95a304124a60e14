"""Rank-generic tf.keras ``MaxPooling{1,2,3}D`` / ``AveragePooling{1,2,3}D`` on torch's pooling kernels.

Reproduces ``tf_keras/layers/pooling/base_pooling{1,2,3}d.py``: ``pool_size``/``strides``/``padding``/
``data_format`` checks with tf.keras's messages (``strides=None`` means ``pool_size``), the exact input rank,
``compute_output_shape`` and configs; and TF's pooling: 'same' splits the padding as TF does (the odd
position after), max pooling never picks a padded position, average pooling divides by the number of real
input positions in each window (padding excluded). An average pooling whose 'valid' output is empty returns
the empty tensor (as tf.keras); max pooling refuses it (TF's CPU kernel fails).

Speed: channels_last inputs go to torch as their channels-first view (channels_last memory format, no
copy); 1-D layers run as 2-D ones over a ``(N, C, 1, L)`` view, as torch's own 1-D pooling does. No pad is
ever written: TF's symmetric split is torch's ``padding``; an asymmetric one (one more position after)
is, with a stride > 1, torch's ``ceil_mode`` window that overhangs the end (clipped, so it neither picks
nor counts padding), and, with stride 1 (an even pool), torch's symmetric padding by the larger half,
whose one extra leading output is sliced off (a view: the output of such a layer is not contiguous; measured
faster than writing a padded copy, forward and backward). torch pads with -inf for max and
``count_include_pad=False`` counts only real positions, which is TF's definition. The one exception:
torch's ``avg_pool3d`` refuses a window larger than the unpadded input, so a 3-D average over a dim
smaller than its pool sums an explicitly zero-padded input and divides by TF's counts (a precomputed
map). The plan is made per input size, outside the hot path.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from ..input_spec import InputSpec, check_shape
from ..layer import Layer
from ..utils import conv_utils

# looked up at call time: a layer holds no function object (F.max_pool2d is a local boolean_dispatch
# closure, which would make the layer unpicklable)
_POOLS = {("max", 2): F.max_pool2d, ("max", 3): F.max_pool3d, ("avg", 2): F.avg_pool2d, ("avg", 3): F.avg_pool3d}


class _Plan:
    """How one input size is pooled.

    ``padding``/``ceil_mode``: torch's arguments; ``narrow``: ``(dim, length)`` slices of the output in the
    layer's layout (the stride-1 asymmetric dims); ``pad``/``inv_count``: the explicit-pad fallback (3-D average only);
    ``empty``: the output shape (Keras layout) when it has no element; ``upcast``: the half dtype a CPU 3-D
    average runs in float32 for (torch's CPU avg_pool3d has no float16/bfloat16 kernel; TF's has). A plan depends on the input's
    shape without its batch dim (the call key of ``Layer``), never on the batch size.
    """

    __slots__ = ("padding", "ceil_mode", "narrow", "pad", "inv_count", "empty", "upcast")

    def __init__(self, padding: tuple[int, ...], ceil_mode: bool = False, narrow: tuple[tuple[int, int], ...] = (),
                 pad: tuple[int, ...] | None = None, inv_count: torch.Tensor | None = None,
                 empty: tuple[int, ...] | None = None) -> None:
        self.padding, self.ceil_mode, self.narrow = padding, ceil_mode, narrow
        self.pad, self.inv_count, self.empty = pad, inv_count, empty
        self.upcast: torch.dtype | None = None  # compute in float32, return this dtype


def _window_counts(length: int, kernel: int, stride: int, before: int) -> list[int]:
    """TF's 'same' divisor: per output position, how many real inputs its window ``[i*s - before, +k)`` covers."""
    out = conv_utils.conv_output_length(length, kernel, "same", stride)
    return [min(i * stride - before + kernel, length) - max(i * stride - before, 0) for i in range(out)]


class Pooling(Layer):
    """tf.keras's ``Pooling{1,2,3}D`` base: ``_mode`` is 'max' or 'avg'."""

    _mode = "max"

    def __init__(
        self,
        rank: int,
        pool_size: int | Sequence[int],
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.rank = rank
        try:
            if strides is None:
                strides = pool_size
            self.pool_size = conv_utils.normalize_tuple(pool_size, rank, "pool_size")
            self.strides = conv_utils.normalize_tuple(strides, rank, "strides", allow_zero=True)
            self.padding = conv_utils.normalize_padding(padding)
            self.data_format = conv_utils.normalize_data_format(data_format)
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {e}') from None
        self._channels_first = self.data_format == "channels_first"
        self._lifted = rank == 1  # torch's 1-D pooling is the 2-D kernel over a (N, C, 1, L) view
        t_rank = rank + self._lifted
        self._t_kernel = (1, *self.pool_size) if self._lifted else self.pool_size
        self._t_strides = (1, *self.strides) if self._lifted else self.strides
        self._to_channels_first = (0, t_rank + 1, *range(1, t_rank + 1))
        self._to_channels_last = (0, *range(2, t_rank + 2), 1)
        self._pool_key = (self._mode, t_rank)
        self._plan: _Plan | None = None
        self.input_spec = InputSpec(ndim=rank + 2)
        self._finish_init()

    # ----- shapes -----
    def _spatial(self, shape: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(shape[2:] if self._channels_first else shape[1:-1])

    def _output_shape(self, input_shape: Sequence[Any]) -> tuple[Any, ...]:
        spatial = [conv_utils.conv_output_length(n, k, self.padding, s)
                   for n, k, s in zip(self._spatial(input_shape), self.pool_size, self.strides)]
        if self._channels_first:
            return (*input_shape[:2], *spatial)
        return (input_shape[0], *spatial, input_shape[-1])

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        """tf.keras's output shape; ``None`` dims stay ``None``. A negative size is refused (tf.keras returns it)."""
        input_shape = tuple(None if d is None else int(d) for d in input_shape)
        check_shape(self.input_spec, input_shape, self.name)
        self._check_strides()
        out = self._output_shape(input_shape)
        if any(d is not None and d < 0 for d in self._spatial(out)):
            raise self._too_small(input_shape, "a negative")
        return out

    def _too_small(self, shape: Sequence[Any], what: str) -> ValueError:
        return ValueError(
            f'{type(self).__name__} layer "{self.name}": the pooling window {self.pool_size} is larger than the '
            f"input's spatial dims {list(self._spatial(shape))} with padding='{self.padding}' (input shape "
            f"{list(shape)}): the output would have {what} size."
        )

    def _check_strides(self) -> None:
        # tf.keras accepts strides=0 at construction (normalize_tuple(allow_zero=True)) and TF fails in the op.
        if not all(self.strides):
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": the `strides` argument cannot contain 0(s). '
                f"Received: strides={self.strides}"
            )
        if self.padding == "causal":  # normalize_padding lets it through; TF's pooling ops refuse it
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": Invalid padding: causal (pooling layers take '
                '"valid" or "same").'
            )

    # ----- padding plan -----
    def _on_new_input(self, inputs: torch.Tensor) -> None:
        if torch.compiler.is_compiling():
            return
        self._check_strides()
        self._plan = self._make_plan(tuple(inputs.shape), inputs.dtype, inputs.device)

    def _make_plan(self, shape: tuple[int, ...], dtype: torch.dtype, device: Any) -> _Plan:
        upcast = (self._mode == "avg" and self.rank == 3 and dtype in (torch.float16, torch.bfloat16)
                  and torch.device(device).type == "cpu")
        plan = self._plan_for(shape, torch.float32 if upcast else dtype, device)
        plan.upcast = dtype if upcast else None
        return plan

    def _plan_for(self, shape: tuple[int, ...], dtype: torch.dtype, device: Any) -> _Plan:
        out = self._output_shape(shape)
        if 0 in self._spatial(out):
            if self._mode == "max":  # TF's CPU max pooling fails here
                raise self._too_small(shape, "a zero")
            return _Plan((), empty=out)  # tf.keras's empty average: no window to compute
        if 0 in shape[1:]:  # no channels (torch's kernels refuse it; an empty batch they take)
            return _Plan((), empty=out)
        spatial = self._spatial(shape)
        spatial = (1, *spatial) if self._lifted else tuple(spatial)
        if self.padding == "valid":
            return _Plan((0,) * len(spatial))
        splits = [conv_utils.same_padding(n, k, s, 1) for n, k, s in zip(spatial, self._t_kernel, self._t_strides)]
        if self._mode == "avg" and len(spatial) == 3 and any(n < k for n, k in zip(spatial, self._t_kernel)):
            # torch's avg_pool3d refuses a window larger than the unpadded input: sum a zero-padded input
            # (divisor_override=1) and divide by TF's counts
            inv = torch.ones((), dtype=torch.float64)
            for n, k, s, (before, _) in zip(spatial, self._t_kernel, self._t_strides, splits):
                counts = torch.tensor(_window_counts(n, k, s, before), dtype=torch.float64)
                inv = inv.unsqueeze(-1) * (1.0 / counts)
            pad = tuple(v for before, after in reversed(splits) for v in (before, after))  # F.pad: last dim first
            return _Plan((0,) * 3, pad=pad, inv_count=inv.to(dtype=dtype, device=device))
        padding, narrow, ceil_mode = [], [], False
        t_out = (1, *self._spatial(out)) if self._lifted else self._spatial(out)
        for d, ((before, after), s, n_out) in enumerate(zip(splits, self._t_strides, t_out)):
            if after == before:
                padding.append(before)
            elif s > 1:  # the overhanging last window of ceil_mode (harmless on the other dims: exact there)
                padding.append(before)
                ceil_mode = True
            else:  # stride 1, even pool: pad both sides by `after`, drop the first output
                padding.append(after)
                narrow.append(((2 if self._channels_first else 1) + d - self._lifted, n_out))
        return _Plan(tuple(padding), ceil_mode, tuple(narrow))

    # ----- call -----
    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        plan = self._plan
        if torch.compiler.is_compiling() or plan is None:
            plan = self._make_plan(tuple(inputs.shape), inputs.dtype, inputs.device)
        if plan.empty is not None:  # a view with no element, still part of the graph
            return inputs.as_strided(plan.empty, (0,) * len(plan.empty))
        x = inputs.unsqueeze(2 if self._channels_first else 1) if self._lifted else inputs
        if not self._channels_first:
            x = x.permute(self._to_channels_first)
        y = self._pool(x, plan)
        if not self._channels_first:
            y = y.permute(self._to_channels_last)
        if self._lifted:
            y = y.squeeze(2 if self._channels_first else 1)
        # sliced in the output's own layout, so that the slice's backward writes a gradient in the pooling
        # kernel's memory format (no layout conversion before its backward)
        for dim, length in plan.narrow:
            y = y.narrow(dim, 1, length)
        return y

    def _pool(self, x: torch.Tensor, plan: _Plan) -> torch.Tensor:
        """torch's pooling of the channels-first view ``x`` (TF's padding by ``plan``)."""
        pool = _POOLS[self._pool_key]
        if plan.upcast is not None:
            x = x.float()
        if plan.pad is not None:
            y = pool(F.pad(x, plan.pad), self._t_kernel, self._t_strides, 0, divisor_override=1)
            y = y * plan.inv_count.to(device=y.device)  # a no-op unless the layer's input changed device
        elif self._mode == "max":
            y = pool(x, self._t_kernel, self._t_strides, plan.padding, ceil_mode=plan.ceil_mode)
        else:
            y = pool(x, self._t_kernel, self._t_strides, plan.padding, ceil_mode=plan.ceil_mode,
                     count_include_pad=False)
        return y if plan.upcast is None else y.to(plan.upcast)

    def _call_first(self, x: torch.Tensor) -> torch.Tensor:
        """``call`` on the channels-first view, for a graph runner (the plan is this input size's; a trace, which
        keeps no per-size state, makes it)."""
        plan = self._plan
        if torch.compiler.is_compiling():
            plan = self._make_plan((x.shape[0], *x.shape[2:], x.shape[1]), x.dtype, x.device)
            if plan.empty is not None:  # no window: the empty output's channels-first view
                e = plan.empty
                return x.as_strided((e[0], e[-1], *e[1:-1]), (0,) * len(e))
        y = self._pool(x, plan)
        for dim, length in plan.narrow:  # the channels-last dim d + 1 is the channels-first dim d + 2
            y = y.narrow(dim + 1, 1, length)
        return y

    def _layout_call(self, rank: int) -> tuple[str, Any] | None:
        direct = not self._channels_first and not self._lifted and (
            torch.compiler.is_compiling() or (self._plan is not None and self._plan.empty is None))  # traced: planned
        return ("first", self._call_first) if direct and rank == self.rank + 2 else None

    def _output_is_fresh(self) -> bool:
        return True

    # ----- config / repr -----
    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"pool_size={self.pool_size}", f"strides={self.strides}",
                 f"padding={self.padding!r}", f"data_format={self.data_format!r}"]
        return ", ".join(parts + self._repr_common())


class MaxPooling(Pooling):
    """Max pooling: TF's 'same' padding is never picked (torch pads with -inf)."""

    _mode = "max"


class AveragePooling(Pooling):
    """Average pooling: the divisor counts only real input positions (TF's 'same' semantics)."""

    _mode = "avg"

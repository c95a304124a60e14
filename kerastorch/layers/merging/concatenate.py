"""``Concatenate``: tf.keras's ``layers.Concatenate`` (one ``torch.cat``)."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ..._registry import LAYERS
from .base_merge import Merge, Shape, shapes_of


@LAYERS.register()
class Concatenate(Merge):
    """Concatenation of the inputs along ``axis`` (default -1), with tf.keras's shape checks.

    Layout: ``torch.cat`` of contiguous channels_last activations (NHWC, the channels_last NCHW view of
    a conv's output) along the channels axis writes a contiguous NHWC result, i.e. again the
    channels_last view the next convolution reads without a copy.
    """

    _elementwise = False

    def __init__(self, axis: int = -1, **kwargs: Any):
        self.axis = axis
        super().__init__(**kwargs)

    def _validate_args(self) -> None:
        if isinstance(self.axis, bool) or not isinstance(self.axis, numbers.Integral):
            raise ValueError(f"`axis` must be an integer. Received: axis={self.axis!r}")
        self.axis = int(self.axis)

    def _not_a_list(self, input_shape: Any) -> ValueError:
        return ValueError(
            f"A `Concatenate` layer should be called on a list of at least 1 input. Received: input_shape={input_shape}"
        )

    def _check_shapes(self, shapes: list[Shape]) -> None:
        if len(shapes) < 1:
            raise ValueError(
                f"A `Concatenate` layer should be called on a list of at least 1 input. Received: input_shape={shapes}"
            )
        message = (
            "A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis. "
            f"Received: input_shape={shapes}"
        )
        reduced = set()
        for s in shapes:
            if not -len(s) <= self.axis < len(s):
                raise ValueError(
                    f"`axis` {self.axis} is out of range for an input of rank {len(s)}. Received: input_shape={shapes}"
                )
            dims = list(s)
            del dims[self.axis]
            reduced.add(tuple(dims))
        if len(reduced) != 1:
            if len({len(r) for r in reduced}) != 1:
                raise ValueError(message)
            for dims in zip(*reduced):
                if len({d for d in dims if d is not None}) > 1:
                    raise ValueError(message)

    def call(self, inputs: Any) -> torch.Tensor:
        self._check_inputs(inputs)
        return torch.cat(list(inputs), dim=self.axis)

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        """tf.keras: each input's mask (all-true where an input has none, broadcast over the input's trailing
        axes) concatenated along ``axis``, then ANDed over the last axis (ORed for a Keras 3 config)."""
        if mask is None or all(m is None for m in mask):
            return None
        full = []
        for x, m in zip(inputs, mask):
            if m is None:
                full.append(torch.ones(x.shape, dtype=torch.bool, device=x.device))
            else:
                while m.dim() < x.dim():
                    m = m.unsqueeze(-1)
                full.append(m.expand(x.shape))
        joined = torch.cat(full, dim=self.axis)
        return joined.any(dim=-1) if self._keras3_masks else joined.all(dim=-1)

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        shapes = shapes_of(input_shape)
        if not shapes:
            raise self._named_error(self._not_a_list(input_shape))
        out = list(shapes[0])
        for s in shapes[1:]:
            if out[self.axis] is None or s[self.axis] is None:
                out[self.axis] = None
                break
            out[self.axis] += s[self.axis]
        return tuple(out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"axis={self.axis}"] + self._repr_common())

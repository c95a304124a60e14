"""Rank-generic tf.keras ``GlobalMaxPooling{1,2,3}D`` / ``GlobalAveragePooling{1,2,3}D``.

Reproduces ``tf_keras/layers/pooling/base_global_pooling{1,2,3}d.py``: the exact input rank, the
refusal of an empty reduction axis at build (tf.keras's message), ``keepdims``, ``compute_output_shape``
and configs. The reduction is ``amax``/``mean`` over the spatial dims of the tensor as it is (no layout
change); ``amax`` splits the gradient evenly between tied maxima, as TF's ``reduce_max`` gradient does.
``GlobalAveragePooling1D`` takes tf.keras's ``mask`` call argument (``(batch, steps)``, 1 = keep):
``sum(x * mask) / sum(mask)`` over the steps.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ..input_spec import InputSpec, check_shape
from ..layer import Layer
from ..utils import conv_utils


class GlobalPooling(Layer):
    """tf.keras's ``GlobalPooling{1,2,3}D`` base: ``_reduce`` is ``torch.amax`` or ``torch.mean``."""

    _reduce = staticmethod(torch.amax)

    def __init__(self, rank: int, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.rank = rank
        try:
            self.data_format = conv_utils.normalize_data_format(data_format)
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {e}') from None
        self.keepdims = keepdims
        self._channels_first = self.data_format == "channels_first"
        start = 2 if self._channels_first else 1
        self._axes = tuple(range(start, start + rank))
        self._first_axes = tuple(range(2, 2 + rank))
        self._keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=rank + 2)
        self._finish_init()

    def _on_build(self, input_shape: Any) -> None:
        self._check_reduction_axes(input_shape)

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        # tf.keras checks at build only (a later empty input gives -inf / NaN); torch's amax would fail raw
        self._check_reduction_axes(tuple(inputs.shape))

    def _check_reduction_axes(self, input_shape: Any) -> None:
        shape = list(input_shape)
        for axis in self._axes:
            if shape[axis] == 0:
                raise ValueError(
                    f'{type(self).__name__} layer "{self.name}": Incorrect input shape {shape} '
                    f"with dimension 0 at reduction axis {axis}."
                )

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        """tf.keras's output shape: the spatial dims dropped (or 1 with ``keepdims``)."""
        input_shape = tuple(None if d is None else int(d) for d in input_shape)
        check_shape(self.input_spec, input_shape, self.name)
        if self._keepdims:
            return tuple(1 if axis in self._axes else d for axis, d in enumerate(input_shape))
        return tuple(d for axis, d in enumerate(input_shape) if axis not in self._axes)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return self._reduce(inputs, dim=self._axes, keepdim=self._keepdims)

    def _call_first(self, x: torch.Tensor) -> torch.Tensor:
        """``call`` on the channels-first view of a channels_last input (the spatial dims follow the channels)."""
        return self._reduce(x, dim=self._first_axes, keepdim=self._keepdims)

    def _layout_call(self, rank: int) -> tuple[str, Any] | None:
        return None if self._channels_first or rank != self.rank + 2 else ("first", self._call_first)

    def _output_is_fresh(self) -> bool:
        return True

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"data_format={self.data_format!r}", f"keepdims={self.keepdims}"]
        return ", ".join(parts + self._repr_common())


class GlobalMaxPooling(GlobalPooling):
    """Global max pooling: ``amax`` over the spatial dims."""

    _reduce = staticmethod(torch.amax)


class GlobalAveragePooling(GlobalPooling):
    """Global average pooling: ``mean`` over the spatial dims."""

    _reduce = staticmethod(torch.mean)

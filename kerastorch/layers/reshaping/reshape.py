"""``Reshape`` (tf.keras): ``(batch, ...) -> (batch, *target_shape)``, with at most one ``-1`` inferred."""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer


@LAYERS.register()
class Reshape(Layer):
    """tf.keras ``Reshape(target_shape)``; the output is a view of a contiguous input (``torch.reshape``).

    tf.keras checks the target at the call (or in ``compute_output_shape``); kerastorch refuses a target
    that can never be valid (not integers, an entry below -1, two ``-1``) at construction, with
    tf.keras's message.
    """

    def __init__(self, target_shape: Sequence[int], **kwargs: Any):
        super().__init__(**kwargs)
        try:
            target = tuple(target_shape)
        except TypeError:
            raise ValueError(
                f'Reshape layer "{self.name}": `target_shape` must be a tuple of integers. Received: target_shape={target_shape!r}'
            ) from None
        if any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < -1 for d in target):
            raise ValueError(
                f'Reshape layer "{self.name}": `target_shape` must be a tuple of positive integers or -1. '
                f"Received: target_shape={target!r}"
            )
        self.target_shape = tuple(int(d) for d in target)
        if self.target_shape.count(-1) > 1:
            raise ValueError(
                f'Reshape layer "{self.name}": There must be at most one unknown dimension in output_shape. '
                f"Received: output_shape={list(self.target_shape)}."
            )
        self.input_spec = InputSpec(min_ndim=1, float_only=False)
        self._resolved: tuple[int, ...] = self.target_shape
        self._finish_init()

    def _fix_unknown_dimension(self, input_shape: Sequence[int]) -> list[int]:
        """tf.keras's (numpy's) rule: the ``-1`` takes what is left; the total size must not change."""
        output = list(self.target_shape)
        known = original = 1
        for d in output:  # plain loops: torch.compile traces this (no generator expressions)
            if d != -1:
                known *= d
        for d in input_shape:
            original *= int(d)
        if -1 in output:
            if known == 0 or original % known != 0:
                raise self._size_error(input_shape)
            output[output.index(-1)] = original // known
        elif original != known:
            raise self._size_error(input_shape)
        return output

    def _size_error(self, input_shape: Sequence[int]) -> ValueError:
        return ValueError(
            f'Reshape layer "{self.name}": total size of new array must be unchanged, '
            f"input_shape = {[int(d) for d in input_shape]}, output_shape = {list(self.target_shape)}"
        )

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        self._resolved = tuple(self._fix_unknown_dimension(inputs.shape[1:]))

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.reshape(inputs.shape[0], *self._resolved)

    def _call_first(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C)`` -> the channels-first view of ``(N, 1, ..., 1, C)`` (a graph runner's layout)."""
        return x.reshape(x.shape[0], x.shape[1], *self._resolved[:-1])

    def _layout_call(self, rank: int) -> tuple[str, Any] | None:
        """Squeeze-and-excitation's ``Reshape((1, 1, C))`` of a pooled ``(N, C)``: made channels-first directly."""
        target = self._resolved
        return ("first", self._call_first) if rank == 2 and len(target) >= 2 and set(target[:-1]) == {1} else None

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        shape = list(input_shape)
        if any(d is None for d in shape[1:]):
            return (shape[0], *(None if d == -1 else d for d in self.target_shape))
        return (shape[0], *self._fix_unknown_dimension(shape[1:]))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": self.target_shape}

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"target_shape={self.target_shape}", *self._repr_common()])

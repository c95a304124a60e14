"""``Softmax`` layer (tf.keras ``layers.Softmax``): ``axis`` an int or a list of ints, an optional ``mask``."""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer


def _large_negative(dtype: torch.dtype) -> float:
    """tf.keras's ``_large_compatible_negative``: -1e9, or half of float16's lowest (no overflow)."""
    return torch.finfo(torch.float16).min / 2.0 if dtype == torch.float16 else -1e9


@LAYERS.register()
class Softmax(Layer):
    """tf.keras ``Softmax(axis=-1, robust_masking=False)``.

    A list of several axes normalizes over all of them (``exp(x - logsumexp(x, axis))``, as tf.keras); a
    one-element list is that axis. ``call(inputs, mask=...)`` pushes masked-out positions (mask 0) to a
    large negative number first: added (``(1 - mask) * -1e9``) or, with ``robust_masking``, substituted.
    """

    supports_masking = True  # tf.keras passes the input mask through

    def __init__(self, axis: int | list[int] = -1, robust_masking: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes):
            raise ValueError(
                f'Softmax layer "{self.name}": `axis` must be an integer or a list of integers. Received: axis={axis!r}'
            )
        self.axis = [int(a) for a in axis] if isinstance(axis, (list, tuple)) else int(axis)
        self._dims = tuple(int(a) for a in axes)
        self.robust_masking = bool(robust_masking)
        self.input_spec = InputSpec()
        self._finish_init()

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        rank = inputs.dim()
        bad = [a for a in self._dims if not -rank <= a < rank]
        if bad or len({a % max(rank, 1) for a in self._dims}) != len(self._dims):
            raise ValueError(
                f'Softmax layer "{self.name}": `axis` {self.axis} is out of range (or repeats an axis) for an input '
                f"of rank {rank} (shape {tuple(inputs.shape)})."
            )

    def _check_mask(self, mask: torch.Tensor, inputs: torch.Tensor) -> None:
        """The mask must broadcast to the input's shape (tf.keras would broadcast the input up instead)."""
        try:
            ok = torch.broadcast_shapes(mask.shape, inputs.shape) == inputs.shape
        except RuntimeError:
            ok = False
        if not ok:
            raise ValueError(
                f'Softmax layer "{self.name}": the mask (shape {tuple(mask.shape)}) must be broadcastable to the '
                f"input's shape {tuple(inputs.shape)}."
            )

    def call(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        if mask is not None:
            if not isinstance(mask, torch.Tensor):
                mask = torch.as_tensor(mask, device=inputs.device)
            self._check_mask(mask, inputs)
            negative = _large_negative(inputs.dtype)
            if self.robust_masking:
                keep = mask if mask.dtype == torch.bool else mask > 0.5
                inputs = torch.where(keep, inputs, torch.full((), negative, dtype=inputs.dtype, device=inputs.device))
            else:
                inputs = inputs + (1.0 - mask.to(inputs.dtype)) * negative
        if len(self._dims) > 1:
            return torch.exp(inputs - torch.logsumexp(inputs, dim=self._dims, keepdim=True))
        return torch.softmax(inputs, dim=self._dims[0])

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "axis": self.axis}
        if self.robust_masking:
            config["robust_masking"] = True
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}"

"""``GlobalAveragePooling1D``: tf.keras's global average pooling over the steps (see ``base_global_pooling``)."""
from __future__ import annotations

from typing import Any

import torch

from ..._registry import LAYERS
from .base_global_pooling import GlobalAveragePooling


@LAYERS.register("GlobalAvgPool1D")
class GlobalAveragePooling1D(GlobalAveragePooling):
    """tf.keras ``GlobalAveragePooling1D(data_format='channels_last', keepdims=False)``.

    ``call(inputs, mask=None)``: a ``(batch, steps)`` mask (bool or 0/1) averages over the kept steps only,
    as tf.keras (``sum(inputs * mask) / sum(mask)``: a row with no kept step gives NaN there too).
    """

    def __init__(self, data_format: str | None = "channels_last", keepdims: bool = False, **kwargs: Any):
        super().__init__(1, data_format=data_format, keepdims=keepdims, **kwargs)

    def call(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        if mask is None:
            return torch.mean(inputs, dim=self._axes, keepdim=self._keepdims)
        mask = torch.as_tensor(mask, device=inputs.device)
        steps = self._axes[0]
        if mask.shape != (inputs.shape[0], inputs.shape[steps]):
            raise ValueError(
                f'GlobalAveragePooling1D layer "{self.name}": the mask must have shape (batch, steps) = '
                f"{(inputs.shape[0], inputs.shape[steps])}. Received: mask.shape={tuple(mask.shape)}"
            )
        mask = mask.to(inputs.dtype).unsqueeze(1 if self._channels_first else 2)
        return (inputs * mask).sum(steps, keepdim=self._keepdims) / mask.sum(steps, keepdim=self._keepdims)


GlobalAvgPool1D = GlobalAveragePooling1D

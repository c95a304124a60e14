"""``Average``: tf.keras's ``layers.Average`` merge layer (see ``base_merge``)."""
from __future__ import annotations

import torch

from ..._registry import LAYERS
from .base_merge import Merge


@LAYERS.register()
class Average(Merge):
    """Mean of the inputs: their sum divided by their count, as tf.keras; inputs broadcast as in tf.keras.

    Integer inputs give TensorFlow's true division dtype: float64 for 32/64-bit integers, else float32.
    """

    def _merge_function(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        if not out.is_floating_point():
            out = out.to(torch.float64 if out.dtype in (torch.int32, torch.int64) else torch.float32)
        return out / len(inputs)

"""``Add``: tf.keras's ``layers.Add`` merge layer (see ``base_merge``)."""
from __future__ import annotations

import torch

from ..._registry import LAYERS
from .base_merge import Merge


@LAYERS.register()
class Add(Merge):
    """Sum of the inputs (tf.keras's ``output += x``); inputs broadcast as in tf.keras."""

    def _merge_function(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out

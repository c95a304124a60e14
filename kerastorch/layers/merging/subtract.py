"""``Subtract``: tf.keras's ``layers.Subtract`` merge layer (see ``base_merge``)."""
from __future__ import annotations

import torch

from ..._registry import LAYERS
from .base_merge import Merge


@LAYERS.register()
class Subtract(Merge):
    """``inputs[0] - inputs[1]``: exactly two inputs, as tf.keras; inputs broadcast as in tf.keras."""

    _exact_inputs = 2

    def _merge_function(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return inputs[0] - inputs[1]

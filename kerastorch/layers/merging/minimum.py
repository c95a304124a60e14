"""``Minimum``: tf.keras's ``layers.Minimum`` merge layer (see ``base_merge``)."""
from __future__ import annotations

import torch

from ..._registry import LAYERS
from ._extremum import extremum
from .base_merge import Merge


@LAYERS.register()
class Minimum(Merge):
    """Elementwise minimum of the inputs (``tf.minimum`` pairwise), inputs broadcast as in
    tf.keras; at a tie the gradient goes to the earlier input, as TF's."""

    def _merge_masked(self, inputs: list[torch.Tensor], masks: list) -> torch.Tensor:
        return self._extremum_masked(inputs, masks, lambda a, b: extremum(a, b, is_min=True))

    def _merge_function(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = extremum(out, x, is_min=True)
        return out

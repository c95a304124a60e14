"""``Multiply``: tf.keras's ``layers.Multiply`` merge layer (see ``base_merge``)."""
from __future__ import annotations

import torch

from ..._registry import LAYERS
from .base_merge import Merge


@LAYERS.register()
class Multiply(Merge):
    """Product of the inputs; inputs broadcast as in tf.keras."""

    def _merge_masked(self, inputs: list[torch.Tensor], masks: list) -> torch.Tensor:
        """Keras 3: masked-out elements count as 1, and are 0 in the output where no input keeps them."""
        all_masked = all(m is not None for m in masks)
        output, output_mask = None, None
        for x, m in zip(inputs, masks):
            if m is not None:
                m = m[..., None].expand(x.shape)
                x = torch.where(m, x, torch.ones((), dtype=x.dtype, device=x.device))
                if all_masked:
                    output_mask = m if output_mask is None else torch.logical_or(output_mask, m)
            output = x if output is None else output * x
        if all_masked:
            output = torch.where(output_mask, output, torch.zeros((), dtype=output.dtype, device=output.device))
        return output

    def _merge_function(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out

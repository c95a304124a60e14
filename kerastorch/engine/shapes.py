"""A module's output shape for an input shape, or ``None`` when it cannot say (Sequential chains, summaries)."""
from __future__ import annotations

from typing import Any

import torch


def out_shape(layer: torch.nn.Module, shape: Any) -> Any:
    if shape is None:
        return None
    fn = getattr(layer, "compute_output_shape", None)
    if fn is None:
        return None
    try:
        return fn(shape)
    except (NotImplementedError, TypeError, AttributeError):
        return None


_out_shape = out_shape  # the name summary and older code use

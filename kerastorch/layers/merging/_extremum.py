"""Elementwise maximum/minimum with TensorFlow's gradient at ties.

``tf.maximum(x, y)``'s gradient goes to ``x`` wherever ``x >= y`` and to ``y`` elsewhere (``tf.minimum``:
``x <= y``), so at a tie the first argument takes all of it; ``torch.maximum`` splits it in halves. The
forward pass is ``torch.maximum``/``torch.minimum`` itself (NaN propagates, as in TF); only the
backward pass differs, and only when a gradient is being recorded.
"""
from __future__ import annotations

from typing import Any

import torch


class _Extremum(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, y: torch.Tensor, is_min: bool) -> torch.Tensor:
        return torch.minimum(x, y) if is_min else torch.maximum(x, y)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: torch.Tensor) -> None:
        x, y, is_min = inputs
        ctx.save_for_backward(x, y)
        ctx.is_min = is_min

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple:
        x, y = ctx.saved_tensors
        to_x = (x <= y) if ctx.is_min else (x >= y)
        zero = grad.new_zeros(())
        gx = torch.where(to_x, grad, zero).sum_to_size(x.shape) if ctx.needs_input_grad[0] else None
        gy = torch.where(to_x, zero, grad).sum_to_size(y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy, None


def extremum(x: torch.Tensor, y: torch.Tensor, is_min: bool) -> torch.Tensor:
    """``tf.minimum(x, y)`` (``is_min``) or ``tf.maximum(x, y)``, gradients included."""
    if torch.is_grad_enabled() and (x.requires_grad or y.requires_grad):
        return _Extremum.apply(x, y, is_min)
    return torch.minimum(x, y) if is_min else torch.maximum(x, y)

"""Keras's implicit training behaviour, made explicit for torch loops.

``collect_losses(model)`` gathers every kerastorch layer's ``losses`` in a module tree (what
``model.losses`` is in Keras); ``attach_constraints(optimizer, model)`` applies weight constraints
after each ``optimizer.step()`` (what Keras optimizers do after each update).
"""
from __future__ import annotations

from typing import Any

import torch

from .layers.layer import Layer


def _layers(module: torch.nn.Module) -> list[Layer]:
    # models (kerastorch.models) are Layers whose losses are their layers': count each layer once
    return [m for m in module.modules() if isinstance(m, Layer) and not getattr(m, "_kt_is_model", False)]


def collect_losses(module: torch.nn.Module) -> list[torch.Tensor]:
    """Every kerastorch loss in ``module``'s tree, in ``module.modules()`` order."""
    out: list[torch.Tensor] = []
    for layer in _layers(module):
        out.extend(layer.losses)
    return out


def regularization_loss(module: torch.nn.Module) -> torch.Tensor:
    """The sum of ``collect_losses(module)``: a 0-dim tensor (a CPU zero, which adds to a loss on any device, when there are none)."""
    losses = collect_losses(module)
    return sum(losses[1:], losses[0]) if losses else torch.zeros(())


def apply_constraints(module: torch.nn.Module) -> None:
    """Project every constrained trainable weight in ``module``'s tree now."""
    for layer in _layers(module):
        layer.apply_constraints()


def attach_constraints(optimizer: torch.optim.Optimizer, module: torch.nn.Module) -> Any:
    """Apply ``module``'s constraints after every ``optimizer.step()``; returns a removable handle."""

    def hook(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        apply_constraints(module)

    return optimizer.register_step_post_hook(hook)

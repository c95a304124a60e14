"""The graph runner while ``torch.compile`` traces a model: activations stay channels-first between layers.

Eager calls record a direct plan (``engine/direct.py``) after one checked pass; a trace must not depend on that
history, so it decides the same layouts as it goes: every node is checked (``Layer._prepare``: input spec, build,
per-shape state; free at run time) on the Keras-layout view of its input, then computed in the layer's layout form
(``Layer._layout_call``): conv/BN/pooling on the channels-first view, elementwise layers in whatever layout they get.
A value is turned back into Keras's layout (a ``permute`` view) only where a node has no layout form, or for the
model's outputs.

Why it matters: inductor's layout optimization gives every 4-D tensor that feeds a convolution channels_last
strides *for its logical shape*. On a Keras-layout (N, H, W, C) tensor that is a transposed layout (H innermost):
each value read by two nodes (a residual block's output, read by the next block's conv and its shortcut) was
written transposed and then copied back for the convolution, ~19 such pairs of kernels per ResNet50 forward.
"""
from __future__ import annotations

from typing import Any

import torch

from .direct import _hooked, direct_capable, to_first, to_last


def run(model: Any, values: list, training: bool | None) -> None:
    """Run ``model``'s steps (a Functional's, or a :class:`~.direct.Chain`'s) over ``values`` (the inputs in their
    slots); the output slots end in Keras's layout."""
    modules = model._modules
    first = [False] * model._n_slots  # the slot holds the channels-first view of a channels-last value
    for step in model._steps:
        module = modules[step.key]
        g = step.gather
        y = None
        if (direct_capable(module) and module.activity_regularizer is None and not _hooked(module)
                and len(step.outputs) == 1 and step.flat_out.kind == "one" and not g.consts
                and g.kind in ("one", "list")):
            train = (module.training if training is None else bool(training)) if module._call_takes_training else None
            y, y_first = _one(module, g.index, values, first, train) if g.kind == "one" else _merge(
                module, list(g.index), values, first)
        if y is not None:
            s = step.outputs[0]
            values[s], first[s] = y, y_first
        else:
            # the slots it reads (a template's: every live channels-first one; dynamo can't walk its template)
            for s in (g.index if g.kind == "list" else [g.index]) if g.kind in ("one", "list") else range(len(first)):
                if first[s] and values[s] is not None:
                    values[s], first[s] = values[s].permute(to_last(values[s].dim())), False
            args, kwargs = g(values)
            if training is not None and step.pass_training:
                kwargs = {**kwargs, "training": training}
            out = module(*args, **kwargs)
            for s, o in zip(step.outputs, step.flat_out(out)):
                values[s], first[s] = o, False
        for s in step.free:
            values[s] = None
    for s in model._out_slots:
        if first[s]:
            values[s] = values[s].permute(to_last(values[s].dim()))


def _one(module: Any, s: int, values: list, first: list, train: bool | None) -> tuple[Any, bool]:
    """A one-tensor node in its layout form; ``(None, False)`` when it has none (or its input is cast)."""
    x = values[s]
    if not isinstance(x, torch.Tensor):
        return None, False
    r = x.dim()
    logical = x.permute(to_last(r)) if first[s] else x
    if module._prepare(logical) is not logical:  # a cast: the checked call
        return None, False
    layout = module._layout_call(r)
    if layout is None or (layout[0] == "follow" and r < 3):
        return None, False
    how, fn = layout
    if how == "first" and r >= 3 and not first[s]:
        x = x.permute(to_first(r))
    y = fn(x) if train is None else fn(x, train)
    return y, (y.dim() >= 3 if how == "first" else first[s])


def _merge(module: Any, slots: list[int], values: list, first: list) -> tuple[Any, bool]:
    """An elementwise merge of same-rank tensors, in the channels-first layout when any input has it."""
    xs = [values[s] for s in slots]
    if not all(isinstance(t, torch.Tensor) for t in xs) or len({t.dim() for t in xs}) != 1:
        return None, False
    r = xs[0].dim()
    logical = [t.permute(to_last(r)) if first[s] else t for s, t in zip(slots, xs)]
    if any(c is not t for c, t in zip(module._prepare(logical), logical)):
        return None, False
    layout = module._layout_call(r)
    if r < 3 or layout is None or layout[0] != "follow":
        return None, False
    cf = any(first[s] for s in slots)
    return layout[1]([t.permute(to_first(r)) if cf and not first[s] else t for s, t in zip(slots, xs)]), cf

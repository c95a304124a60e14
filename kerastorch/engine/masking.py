"""Keras's masks along a graph's edges, planned once when the graph is built.

Keras attaches a mask to a layer's output (``layer.compute_mask(inputs, input_mask)``) and hands it to the
next layer's ``call(..., mask=...)`` when that call takes one. kerastorch computes the same masks beside the
values, never as tensor attributes, and decides *statically*, from the graph alone, which nodes can see a
mask: a node does mask work only when one of its inputs may carry a mask or the layer can create one
(``Layer.produces_mask``: Embedding(mask_zero=True), Masking). A model without mask sources has no mask
plan at all and runs exactly as before (no per-call mask work).

A plan is a list with one entry per step of the graph runner: ``None`` (no mask work) or a
:class:`MaskStep`.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

from ..layers.call_pipeline import CallPipeline


class MaskStep:
    """The mask work of one node.

    ``arg``: where the node's first argument's masks come from (a slot index, or a list of slot indices for a
    list input); ``pass_mask``: hand them to ``call(mask=...)``; ``produce``: compute the output mask(s);
    ``joint``: the module is a model, run with its masks in one pass (``run_with_masks``); ``named``:
    ``(parameter, slot)`` pairs, each tensor argument's mask for its ``<argument>_mask`` parameter
    (:func:`named_mask_args`).
    """

    __slots__ = ("arg", "pass_mask", "produce", "joint", "named")

    def __init__(self, arg: Any, pass_mask: bool, produce: bool, joint: bool, named: Sequence[tuple[str, int]] = ()):
        self.arg = arg
        self.pass_mask = pass_mask
        self.produce = produce
        self.joint = joint
        self.named = tuple(named)

    def input_mask(self, masks: list) -> Any:
        return [masks[i] for i in self.arg] if isinstance(self.arg, list) else masks[self.arg]


def takes_mask(module: Any) -> bool:
    """Whether ``module``'s call (``call`` of a kerastorch layer, else ``forward``) has a ``mask`` parameter."""
    flag = getattr(module, "_call_takes_mask", None)
    if flag is not None:
        return bool(flag)
    fn = getattr(module, "call", None) or getattr(module, "forward", None)
    try:
        return "mask" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def named_mask_args(module: Any, args: tuple, kwargs: dict, slot_of: Callable[[Any], int | None]) -> list[tuple[str, int]]:
    """Keras 3's rule for a call with several tensor arguments (``Layer.__call__``, "populate mask
    arguments"): an argument ``k`` whose layer's call has a ``k_mask`` parameter, not given explicitly, gets
    ``k``'s mask (``MultiHeadAttention(query, value, key)`` -> ``query_mask``, ``value_mask``, ``key_mask``;
    tf.keras reads the same masks from ``query._keras_mask`` ...). ``slot_of`` gives a graph tensor's slot
    (``None`` for anything else). Returns ``(parameter, slot)`` pairs, decided once when the graph is built."""
    fn = module.call if type(module).forward is CallPipeline.forward else module.forward
    try:
        sig = inspect.signature(fn)
        bound = sig.bind_partial(*args, **kwargs).arguments
    except (TypeError, ValueError):
        return []
    tensors = {k: slot_of(v) for k, v in bound.items()}
    tensors = {k: s for k, s in tensors.items() if s is not None}
    if len(tensors) < 2:
        return []
    return [(f"{k}_mask", s) for k, s in tensors.items() if f"{k}_mask" in sig.parameters and f"{k}_mask" not in kwargs]


def output_mask_flags(module: Any, input_masked: Any, n_outputs: int) -> list[bool]:
    """Which of ``module``'s (flat) outputs may carry a mask, given which inputs do (the inputs' structure of
    bools). A plain torch module has no ``compute_mask``: it drops masks, as a Keras layer without mask
    support does."""
    fn = getattr(module, "produces_mask", None)
    if fn is None:
        return [False] * n_outputs
    flags = fn(input_masked)
    if isinstance(flags, (list, tuple)):
        flags = [bool(f) for f in flags]
        return (flags + [False] * n_outputs)[:n_outputs]
    return [bool(flags)] * n_outputs


def any_flag(flags: Any) -> bool:
    if isinstance(flags, (list, tuple)):
        return any(any_flag(f) for f in flags)
    if isinstance(flags, dict):
        return any(any_flag(f) for f in flags.values())
    return bool(flags)


def store_masks(masks: list, slots: Sequence[int], out_masks: Any) -> None:
    """Write a node's output mask(s) into the mask slots of its flat outputs (one mask for a single output,
    a list for several: Keras's ``compute_mask`` returns one per output, e.g. an RNN with ``return_state``)."""
    if len(slots) == 1:
        masks[slots[0]] = out_masks[0] if isinstance(out_masks, (list, tuple)) and len(out_masks) == 1 else out_masks
        return
    if isinstance(out_masks, (list, tuple)):
        for s, m in zip(slots, out_masks):
            masks[s] = m
    else:
        for s in slots:
            masks[s] = out_masks

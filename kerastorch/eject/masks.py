"""Keras masks in the ejected ``forward``: what each layer's ``compute_mask`` gives, as source.

Which values carry a mask is decided from the graph alone, with the rules kerastorch's models run
(``engine/masking.py``: ``takes_mask``, ``named_mask_args``, ``output_mask_flags``); a mask is a boolean
``(batch, steps)`` tensor variable of ``forward`` (``embed_mask = tokens != 0``). A rule here gives a layer's
output masks from its inputs' (expressions with ``{x0}``, ``{x1}`` ... for the inputs, in Keras's layout);
a layer whose ``compute_mask`` is Keras's default passes its input's mask on (``supports_masking``) or drops
it. A layer that overrides ``compute_mask`` without a rule here cannot be ejected with a mask.
"""
from __future__ import annotations

from typing import Any, Callable

from ..layers.call_pipeline import CallPipeline
from .emitters import Call, fmt

#: class name -> rule(layer, call, masks) -> output masks (expression or None, one per output); ``masks`` is the
#: layer's first argument's masks (a name or None; a list for a list argument)
MASK_RULES: dict[str, Callable[[Any, Call, Any], list]] = {}


def mask_rule(*names: str) -> Callable:
    def register(fn: Callable) -> Callable:
        for n in names:
            MASK_RULES[n] = fn
        return fn

    return register


def output_masks(layer: Any, call: Call, masks: Any, n_out: int) -> list:
    """The output masks (source expressions or None) of one call of ``layer``."""
    for cls in type(layer).__mro__:
        if cls.__name__ in MASK_RULES:
            out = MASK_RULES[cls.__name__](layer, call, masks)
            return (list(out) + [None] * n_out)[:n_out]
        if cls is CallPipeline or "compute_mask" in cls.__dict__:
            break
    if type(layer).compute_mask is not CallPipeline.compute_mask:
        raise call.fail("its output mask (Keras's compute_mask) has no ejected form yet")
    if not layer.supports_masking:
        return [None] * n_out
    if isinstance(masks, list) and len(masks) > 1:  # Keras would hand the whole list on as one output's mask
        raise call.fail("a list input's masks passed through as its output mask have no ejected form")
    return [masks[0] if isinstance(masks, list) else masks] * n_out


def _first(masks: Any) -> Any:
    return masks[0] if isinstance(masks, list) else masks


@mask_rule("Embedding")
def _embedding(layer: Any, call: Call, masks: Any) -> list:
    return ["{x0} != 0" if layer.mask_zero else None]


@mask_rule("Masking")
def _masking(layer: Any, call: Call, masks: Any) -> list:
    return [f"({{x0}} != {fmt(float(layer.mask_value))}).any(dim=-1)"]


@mask_rule("Merge")
def _merge(layer: Any, call: Call, masks: Any) -> list:
    """tf.keras: the AND of the masks there are; a Keras 3 layer: the OR when every input has one, else none."""
    given = [m for m in masks if m is not None]
    if not given or (layer._keras3_masks and len(given) < len(masks)):
        return [None]
    given = list(dict.fromkeys(given))  # one mask met twice (x + f(x)) combines to itself
    op = " | " if layer._keras3_masks else " & "
    return [given[0] if len(given) == 1 else "(" + op.join(given) + ")"]


@mask_rule("Concatenate")
def _concatenate(layer: Any, call: Call, masks: Any) -> list:
    """Each input's mask (all true where an input has none) broadcast to its shape, concatenated along the axis,
    then ANDed (tf.keras) / ORed (Keras 3) over the last axis: along the features, the AND of the masks there
    are (tf.keras), the OR of all of them or all true where one is missing (Keras 3)."""
    given = [m for m in masks if m is not None]
    if not given:
        return [None]
    rank = len(call.shapes[0])
    axis = layer.axis % rank
    if axis == rank - 1:
        full = len(given) == len(masks)
        given = list(dict.fromkeys(given))
        if not layer._keras3_masks:
            return [given[0] if len(given) == 1 else "(" + " & ".join(given) + ")"]
        if not full:
            return [f"torch.ones_like({given[0]})"]
        return [given[0] if len(given) == 1 else "(" + " | ".join(given) + ")"]
    parts = []
    for i, (m, shape) in enumerate(zip(masks, call.shapes)):
        parts.append(f"torch.ones_like({{x{i}}}, dtype=torch.bool)" if m is None
                     else f"{m}{'[..., None]' * (len(shape) - 2)}.expand_as({{x{i}}})")
    joined = f"torch.cat([{', '.join(parts)}], dim={axis})"
    return [f"{joined}.{'any' if layer._keras3_masks else 'all'}(dim=-1)"]


@mask_rule("BaseRNN", "Bidirectional")
def _recurrent(layer: Any, call: Call, masks: Any) -> list:
    """The time mask passes through with return_sequences (``[mask, None, ...]`` with states)."""
    out = _first(masks) if layer.return_sequences else None
    n = 2 if type(layer).__name__ == "Bidirectional" and layer.merge_mode is None else 1
    return [out] * n + [None] * 8


@mask_rule("TimeDistributed")
def _time_distributed(layer: Any, call: Call, masks: Any) -> list:
    """The input mask (tf.keras: the inner layer's mask when it makes one, which eject refuses)."""
    inner = layer.layer
    if not layer._keras3_masks and type(inner).compute_mask is not CallPipeline.compute_mask:
        raise call.fail(f"the mask of its inner {type(inner).__name__} has no ejected form yet")
    return [_first(masks)]


@mask_rule("Attention", "MultiHeadAttention")
def _attention(layer: Any, call: Call, masks: Any) -> list:
    """The query's mask."""
    return [_first(masks)]


@mask_rule("Dot")
def _dot(layer: Any, call: Call, masks: Any) -> list:
    return [None]

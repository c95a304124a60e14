"""A layer called on KerasTensors: ``symbolic_call`` builds it from the known shapes and records a node.

``Layer.__call__`` hands symbolic inputs here. Layer-specific checks (input spec, build) are the layer's
own ``_symbolic_build(inputs, shapes)`` hook, so that this package needs no layer class; a plain torch
module (a user's ``custom_objects`` class) has no hook and is recorded as it is.
"""
from __future__ import annotations

from typing import Any

import torch

from .keras_tensor import KerasTensor
from .node import Node, _Spec, flatten, map_structure


def _shape_of(x: Any) -> Any:
    return map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else None, x)


def _known(shape: Any) -> bool:
    if shape is None:
        return False
    if isinstance(shape, list):
        return all(_known(s) for s in shape)
    return isinstance(shape, tuple)


def output_spec(layer: torch.nn.Module, inputs: Any) -> Any:
    """The output (shape, dtype) structure of ``layer`` on symbolic ``inputs``: ``compute_output_shape`` of
    the known input shapes (``None`` shape when unknown or when the layer cannot say)."""
    dtype = next((t.dtype for t in flatten(inputs)), torch.float32)
    in_shape = _shape_of(inputs)
    if isinstance(in_shape, tuple) and not _known(in_shape):
        in_shape = None
    shape = None
    fn = getattr(layer, "compute_output_shape", None)
    if fn is not None and _known(in_shape):
        try:
            shape = fn(in_shape)
        except (NotImplementedError, TypeError, AttributeError):
            shape = None
    if getattr(layer, "_explicit_dtype", False) and dtype.is_floating_point:
        dtype = layer.compute_dtype
    return _to_spec(shape, dtype)


def _to_spec(shape: Any, dtype: torch.dtype) -> Any:
    if shape is None:
        return _Spec((None, dtype))
    if isinstance(shape, dict):
        return {k: _to_spec(v, dtype) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and all(s is None or isinstance(s, (list, tuple, torch.Size, dict)) for s in shape):
        return [_to_spec(s, dtype) for s in shape]
    return _Spec((tuple(None if d is None else int(d) for d in shape), dtype))


def symbolic_call(layer: torch.nn.Module, args: tuple, kwargs: dict) -> Any:
    """A layer called on KerasTensors: build it from the known input shapes, record and return the node's outputs.

    Keras's checks run as on real inputs (input spec, build) so that a wrong wiring fails here, at
    construction, with the layer's own message.
    """
    if hasattr(layer, "symbolic_output_spec"):  # op layers: any mix of tensors and constants
        return Node(layer, args, kwargs, layer.symbolic_output_spec(args, kwargs)).outputs
    inputs = args[0]
    if any(not isinstance(t, KerasTensor) for t in (inputs if isinstance(inputs, (list, tuple)) else [])):
        raise ValueError(
            f'Layer "{getattr(layer, "name", type(layer).__name__)}" was called on a mix of symbolic KerasTensors and '
            "other values; in a functional model every input of a layer must come from `Input` or another layer."
        )
    shapes = _shape_of(inputs)
    hook = getattr(layer, "_symbolic_build", None)  # kerastorch layers: input spec check, build
    if hook is not None:
        hook(inputs, shapes if _known(shapes) else None)
    return Node(layer, args, kwargs, output_spec(layer, inputs)).outputs

"""A layer called on KerasTensors: ``symbolic_call`` builds it from the known shapes and records a node.

``Layer.__call__`` hands symbolic inputs here. Layer-specific checks (input spec, build) are the layer's
own ``_symbolic_build(inputs, shapes)`` hook (and ``_symbolic_check_arguments(args, kwargs)`` where a layer checks
its other arguments, e.g. a recurrent layer's ``initial_state``), so that this package needs no layer class; a plain torch
module (a user's ``custom_objects`` class) has no hook and is recorded as it is.
"""
from __future__ import annotations

import inspect
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
    # a sequence holding a nested shape (or a dict) is a list of shapes; one of dims only (None or ints, e.g.
    # ``(None,)``, ``(None, None)``) is one shape
    if isinstance(shape, (list, tuple)) and any(isinstance(s, (list, tuple, torch.Size, dict)) for s in shape):
        return [_to_spec(s, dtype) for s in shape]
    return _Spec((tuple(None if d is None else int(d) for d in shape), dtype))


def check_call_arguments(layer: torch.nn.Module, args: tuple, kwargs: dict) -> None:
    """Keras binds a node's arguments to the layer's ``call`` when it builds the graph, so a node passing
    an extra tensor, an unknown keyword or several tensors to a one-tensor layer (a damaged or hand-edited
    config) fails there, at load, instead of at the first call: the same check here, with the signature of
    the layer's ``call`` (``forward`` for a model or a plain torch module)."""
    name = getattr(layer, "name", None) or type(layer).__name__
    cls = type(layer)
    is_model = bool(getattr(layer, "_kt_is_model", False))
    call = getattr(cls, "call", None)
    # what a call runs: ``forward`` where the most derived class defining either overrides forward (a model, a
    # layer with its own forward such as MultiHeadAttention, a plain torch module), else the pipeline's ``call``
    defines = next((k for k in cls.__mro__ if "call" in vars(k) or "forward" in vars(k)), cls)
    target = call if callable(call) and not is_model and "forward" not in vars(defines) else cls.forward
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # a builtin or C-implemented forward: nothing to bind against
        return
    bound_kwargs = {k: v for k, v in kwargs.items() if not (k == "training" and target is call)}  # the pipeline's own
    if target is call and getattr(layer, "_call_takes_training", False) and "training" in signature.parameters:
        bound_kwargs["training"] = False  # the pipeline passes it by name: a positional argument in its place clashes
    try:
        bound = signature.bind(layer, *args, **bound_kwargs).arguments
    except TypeError as e:
        raise ValueError(f'Layer "{name}" ({cls.__name__}) cannot be called with these arguments: {e}') from None
    mask = bound.get("mask")
    several = isinstance(mask, (list, tuple)) and args and isinstance(args[0], (list, tuple))  # one per input
    masks = list(mask) if several else [mask]
    if not all(m is None or isinstance(m, KerasTensor) for m in masks):  # e.g. a damaged node's `{}`, 7 or [None]
        raise ValueError(f'Layer "{name}" ({cls.__name__}): `mask` must be a tensor or None; received {mask!r}.')
    received = len(flatten(args[0])) if args else 0
    if is_model:
        expected = getattr(layer, "_n_inputs", None)
        if expected is None and getattr(layer, "_kt_model_kind", None) == "sequential":
            expected = 1
        received = len(flatten(args))
    else:
        params = list(signature.parameters.values())[1:2]
        one = bool(params) and params[0].annotation in ("torch.Tensor", torch.Tensor)
        expected = 1 if one and isinstance(args[0], (list, tuple, dict)) else None
    if expected is not None and received != expected:
        raise ValueError(f'Layer "{name}" expects {expected} input(s), but it received {received} input tensors.')


def symbolic_call(layer: torch.nn.Module, args: tuple, kwargs: dict) -> Any:
    """A layer called on KerasTensors: build it from the known input shapes, record and return the node's outputs.

    Keras's checks run as on real inputs (input spec, build) so that a wrong wiring fails here, at
    construction, with the layer's own message.
    """
    if hasattr(layer, "symbolic_output_spec"):  # op layers: any mix of tensors and constants
        return Node(layer, args, kwargs, layer.symbolic_output_spec(args, kwargs)).outputs
    check_call_arguments(layer, args, kwargs)
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
    check = getattr(layer, "_symbolic_check_arguments", None)  # layers with checks on their other arguments
    if check is not None:
        check(args, kwargs)
    return Node(layer, args, kwargs, output_spec(layer, inputs)).outputs

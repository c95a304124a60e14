"""Keras ``InputSpec`` and ``assert_input_compatibility``, with Keras's messages.

A layer declares what it accepts (rank, fixed axis sizes, float input); ``Layer.forward`` checks
every input against it before building or calling, so the messages live here once.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import torch


def shape_str(shape: Sequence[Any]) -> str:
    """A shape as Keras prints it: ``(None, 8, 8, 3)``, ``(5,)``."""
    dims = ["None" if d is None else str(int(d)) for d in shape]
    return "(" + ", ".join(dims) + (",)" if len(dims) == 1 else ")")


@dataclasses.dataclass
class InputSpec:
    """What one input of a layer must look like (Keras ``InputSpec``).

    ``axes`` maps an axis (negative allowed) to its required size; ``float_only`` refuses integer
    and boolean tensors (Keras layers compute in a floating dtype); complex tensors are refused unless
    ``allow_complex``.
    """

    ndim: int | None = None
    min_ndim: int | None = None
    max_ndim: int | None = None
    axes: dict[int, int] = dataclasses.field(default_factory=dict)
    float_only: bool = True
    allow_complex: bool = False


def _incompatible(index: int, layer_name: str, detail: str) -> ValueError:
    return ValueError(f'Input {index} of layer "{layer_name}" is incompatible with the layer: {detail}')


def check_shape(spec: InputSpec | None, shape: Sequence[Any], layer_name: str, index: int = 0) -> None:
    """Keras's rank and axis checks for one input shape (``None`` dims are not checked)."""
    if spec is None:
        return
    ndim = len(shape)
    if spec.ndim is not None and ndim != spec.ndim:
        raise _incompatible(index, layer_name, f"expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: {shape_str(shape)}")
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise _incompatible(index, layer_name, f"expected max_ndim={spec.max_ndim}, found ndim={ndim}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise _incompatible(index, layer_name, f"expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full shape received: {shape_str(shape)}")
    for axis, value in spec.axes.items():
        dim = shape[axis] if -ndim <= axis < ndim else None
        if dim is not None and value is not None and int(dim) != value:
            raise _incompatible(
                index,
                layer_name,
                f"expected axis {axis} of input shape to have value {value}, "
                f"but received input with shape {shape_str(shape)}",
            )


def check_tensor(spec: InputSpec | None, x: Any, layer_name: str, index: int = 0) -> None:
    """``check_shape`` plus the tensor type and dtype kind."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(
            f'Layer "{layer_name}" expects a torch.Tensor input, but input {index} is a {type(x).__name__}.'
        )
    if spec is not None and (
        (x.dtype.is_complex and not spec.allow_complex)
        or (spec.float_only and not x.dtype.is_floating_point and not x.dtype.is_complex)
    ):
        kind = "complex" if x.dtype.is_complex else "integer or boolean"
        expected = "a floating-point" if spec.float_only else "a real (non-complex)"
        raise _incompatible(index, layer_name, f"expected {expected} input, found dtype={x.dtype} (a {kind} tensor)")
    check_shape(spec, tuple(x.shape), layer_name, index)


def assert_input_compatibility(
    specs: InputSpec | Sequence[InputSpec] | None, inputs: Any, layer_name: str
) -> None:
    """Check a tensor or a list of tensors against one spec (applied to each) or a list of specs."""
    tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if isinstance(specs, (list, tuple)):
        if len(specs) != len(tensors):
            raise ValueError(
                f'Layer "{layer_name}" expects {len(specs)} input(s), but it received {len(tensors)} input tensors.'
            )
        pairs = list(zip(specs, tensors))
    else:
        pairs = [(specs, t) for t in tensors]
    for i, (spec, x) in enumerate(pairs):
        check_tensor(spec, x, layer_name, i)

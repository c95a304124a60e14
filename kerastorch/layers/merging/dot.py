"""``Dot``: tf.keras's ``layers.Dot``, the batchwise dot product of two tensors (``backend.batch_dot``)."""
from __future__ import annotations

import math
import numbers
from typing import Any

import torch

from ..._registry import LAYERS
from .base_merge import Merge, Shape, shapes_of


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def l2_normalize(x: torch.Tensor, axis: int) -> torch.Tensor:
    """``tf.linalg.l2_normalize``: ``x * rsqrt(max(sum(x**2), 1e-12))`` (``x * x``: its backward copies nothing)."""
    return x * torch.rsqrt((x * x).sum(dim=axis, keepdim=True).clamp_min(1e-12))


def _column_major(t: torch.Tensor) -> bool:
    """A ``(B, m, n)`` view whose transpose is contiguous (a channels-first operand read transposed)."""
    return not t.is_contiguous() and t.transpose(1, 2).is_contiguous()


class _BatchMatmul(torch.autograd.Function):
    """``torch.bmm`` whose gradients come back in the layout of its operands (torch's bmm backward always
    returns row-major gradients, so a transposed operand's gradient would reach the input strided)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.bmm(a, b)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: torch.Tensor) -> None:
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple:
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = (torch.bmm(b, grad.transpose(1, 2)).transpose(1, 2) if _column_major(a)
                  else torch.bmm(grad, b.transpose(1, 2)))
        if ctx.needs_input_grad[1]:
            gb = (torch.bmm(grad.transpose(1, 2), a).transpose(1, 2) if _column_major(b)
                  else torch.bmm(a.transpose(1, 2), grad))
        return ga, gb


def batch_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``torch.bmm(a, b)``; gradients in the operands' own layouts."""
    if torch.is_grad_enabled() and (a.requires_grad or b.requires_grad):
        return _BatchMatmul.apply(a, b)
    return torch.bmm(a, b)


@LAYERS.register()
class Dot(Merge):
    """Dot product of two inputs along ``axes`` (an int, or one axis per input), optionally of their
    L2-normalized values (``normalize=True``: cosine proximity), as tf.keras's ``batch_dot``.
    Integer inputs are accepted (tf.keras too), except with ``normalize=True`` (tf.keras fails there).

    The output holds the batch dim, then the first input's other dims, then the second's; a result
    with only the batch dim gets a trailing dim of 1. Computed as one ``torch.bmm`` of views when the
    contracted axes allow it (gradients come back in the inputs' layouts).
    """

    _elementwise = False

    _exact_inputs = 2

    def produces_mask(self, input_masked: Any) -> bool:
        return False

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        """tf.keras's Dot drops the mask (Keras 3 too)."""
        return None

    def __init__(self, axes: int | tuple[int, int] | list[int], normalize: bool = False, **kwargs: Any):
        self.axes = axes
        self.normalize = bool(normalize)
        super().__init__(**kwargs)

    def _validate_args(self) -> None:
        """tf.keras's ``axes`` checks (its TypeError for a wrong type is a ValueError here)."""
        axes = self.axes
        if not _is_int(axes):
            if not isinstance(axes, (list, tuple)):
                raise ValueError(f"Invalid type for argument `axes`: it should be a list or an int. Received: axes={axes}")
            if len(axes) != 2:
                raise ValueError(f"Invalid format for argument `axes`: it should contain two elements. Received: axes={axes}")
            if not _is_int(axes[0]) or not _is_int(axes[1]):
                raise ValueError(
                    f"Invalid format for argument `axes`: list elements should be integers. Received: axes={axes}"
                )
        self.axes = int(axes) if _is_int(axes) else [int(a) for a in axes]

    def _not_a_list(self, input_shape: Any) -> ValueError:
        return ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: input_shape={input_shape}")

    def _refuses_integers(self) -> bool:
        # tf.keras's l2_normalize fails on integers ("Cannot convert 1e-12 to EagerTensor of dtype int32")
        return self.normalize

    def _axes(self, shape1: Shape, shape2: Shape) -> list[int]:
        """Non-negative axes for inputs of these ranks (tf.keras: ``axis % rank`` for negative ones)."""
        axes = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        return [a % len(s) if a < 0 else a for a, s in zip(axes, (shape1, shape2))]

    def _check_shapes(self, shapes: list[Shape]) -> None:
        """``Dot.build``'s checks, then ``batch_dot``'s (which tf.keras runs at the first call)."""
        if len(shapes) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: input_shape={shapes}")
        shape1, shape2 = shapes
        if min(len(shape1), len(shape2)) == 0:
            raise ValueError(
                f"Cannot do batch_dot on inputs with rank < 2. Received inputs with shapes {shape1} and {shape2}."
            )
        a0, a1 = self._axes(shape1, shape2)
        if a0 >= len(shape1) or a1 >= len(shape2):
            raise ValueError(
                f"Invalid `axes` {self.axes} for inputs of shapes {shape1} and {shape2}: an axis is out of range."
            )
        if shape1[a0] != shape2[a1] and shape1[a0] is not None and shape2[a1] is not None:
            raise ValueError(
                f"Incompatible input shapes: axis values {shape1[a0]} (at axis {a0}) != {shape2[a1]} (at axis {a1}). "
                f"Full input shapes: {shape1}, {shape2}"
            )
        if len(shape1) < 2 or len(shape2) < 2:
            raise ValueError(
                f"Cannot do batch_dot on inputs with rank < 2. Received inputs with shapes {shape1} and {shape2}."
            )
        if shape1[0] is not None and shape2[0] is not None and shape1[0] != shape2[0]:
            raise ValueError(
                "Cannot do batch_dot on inputs with different batch sizes. "
                f"Received inputs with shapes {shape1} and {shape2}."
            )
        if 0 in (a0, a1):
            raise ValueError(
                "Cannot perform batch_dot over axis 0. If your inputs are not batched, add a dummy batch "
                "dimension to your inputs using K.expand_dims(x, 0)"
            )

    def call(self, inputs: Any) -> torch.Tensor:
        self._check_inputs(inputs)
        x, y = inputs
        a0, a1 = self._axes(x.shape, y.shape)
        if self.normalize:
            x, y = l2_normalize(x, a0), l2_normalize(y, a1)
        x_rest = x.shape[1:a0] + x.shape[a0 + 1:]
        y_rest = y.shape[1:a1] + y.shape[a1 + 1:]
        batch, depth = x.shape[0], x.shape[a0]
        # (B, x_rest, d) @ (B, d, y_rest) -> (B, x_rest, y_rest)
        xm = x.movedim(a0, -1).reshape(batch, math.prod(x_rest), depth)
        ym = y.movedim(a1, 1).reshape(batch, depth, math.prod(y_rest))
        out = batch_matmul(xm, ym).reshape(batch, *x_rest, *y_rest)
        return out.unsqueeze(-1) if out.dim() == 1 else out

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        shapes = shapes_of(input_shape)
        if shapes is None or len(shapes) != 2:
            raise self._named_error(self._not_a_list(input_shape if shapes is None else shapes))
        shape1, shape2 = (list(s) for s in shapes)
        a0, a1 = self._named(self._axes, shape1, shape2)
        self._named(self._check_shapes, shapes)
        shape1.pop(a0)
        shape2.pop(a1)
        shape2.pop(0)
        out = shape1 + shape2
        return tuple(out + [1] if len(out) == 1 else out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"axes={self.axes}", f"normalize={self.normalize}"] + self._repr_common())

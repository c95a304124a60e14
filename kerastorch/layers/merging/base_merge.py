"""The base of tf.keras's merging layers (``tf_keras/layers/merging/base_merge.py``).

A merge layer takes a list of tensors. Reproduced: the build checks and messages ("A merge layer
should be called on a list of inputs", different batch sizes, incompatible shapes), the elementwise
output shape (dims of 1 broadcast, ``None`` stays unknown), inputs of different ranks (the
lower-rank ones get size-1 dims inserted after the batch dim, as tf.keras's ``expand_dims(x, 1)``)
and ``compute_output_shape``.

tf.keras checks shapes only when it builds; kerastorch checks them again whenever the input shapes
change, so that a later mismatch is a Keras ``ValueError`` and never a torch ``RuntimeError``.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ..input_spec import InputSpec
from ..layer import Layer
from ..utils.mask_rules import keras3_config

Shape = tuple  # ints / None
_NOT_A_LIST = "A merge layer should be called on a list of inputs."


def shapes_of(input_shape: Any) -> list[Shape] | None:
    """A list of shapes (tuples), or ``None`` when ``input_shape`` is a single shape."""
    if isinstance(input_shape, (list, tuple)) and input_shape and all(
        isinstance(s, (list, tuple, torch.Size)) for s in input_shape
    ):
        return [tuple(None if d is None else int(d) for d in s) for s in input_shape]
    if isinstance(input_shape, (list, tuple)) and not input_shape:
        return []
    return None


class Merge(Layer):
    """Elementwise merge of a list of tensors; subclasses give ``_merge_function(tensors)``."""

    _elementwise = True  # each output element from the same position of each input (not Concatenate, Dot)

    _min_inputs = 1
    _exact_inputs: int | None = None  # Subtract: 2
    supports_masking = True

    def produces_mask(self, input_masked: Any) -> bool:
        flags = list(input_masked) if isinstance(input_masked, (list, tuple)) else [bool(input_masked)]
        return all(flags) if self._keras3_masks else any(flags)

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        """tf.keras: the AND of the inputs' masks that exist. A layer from a Keras 3 config: the OR of the masks
        when every input has one, else none (``utils/mask_rules.py``)."""
        given = list(mask) if isinstance(mask, (list, tuple)) else [mask]
        if self._keras3_masks and any(m is None for m in given):
            return None
        masks = [m for m in given if m is not None]
        if not masks:
            return None
        combine = torch.logical_or if self._keras3_masks else torch.logical_and
        out = masks[0]
        for m in masks[1:]:
            out = combine(out, m)
        return out

    def __init__(self, **kwargs: Any):
        self._keras3_masks = keras3_config(kwargs)
        super().__init__(**kwargs)
        self._named(self._validate_args)
        # tf.keras merges integer tensors too (no autocast for them); complex is refused.
        self.input_spec = InputSpec(float_only=self._refuses_integers())
        self._checked_shapes: tuple | None = None
        self._finish_init()

    def _validate_args(self) -> None:
        """Subclass hook: check the constructor arguments (a ``ValueError`` gets the layer's name)."""

    def _refuses_integers(self) -> bool:
        """Subclass hook: whether integer inputs are refused (where tf.keras fails on them)."""
        return False

    # ----- shape rules (tf.keras's messages) -----
    def _not_a_list(self, input_shape: Any) -> ValueError:
        """tf.keras's error for a single tensor (or shape) where a list is expected."""
        return ValueError(f"{_NOT_A_LIST} Received: input_shape={_fmt(input_shape)} (not a list of shapes)")

    def _elemwise_shape(self, shape1: Shape | None, shape2: Shape | None) -> Shape | None:
        """``_compute_elemwise_op_output_shape``: right-aligned broadcasting of the non-batch dims."""
        if shape1 is None or shape2 is None:
            return None
        if len(shape1) < len(shape2):
            return self._elemwise_shape(shape2, shape1)
        if not shape2:
            return shape1
        out = list(shape1[: -len(shape2)])
        for i, j in zip(shape1[-len(shape2):], shape2):
            if i is None or j is None:
                out.append(None)
            elif i == 1:
                out.append(j)
            elif j == 1 or i == j:
                out.append(i)
            else:
                raise ValueError(f"Inputs have incompatible shapes. Received shapes {shape1} and {shape2}")
        return tuple(out)

    def _check_shapes(self, shapes: list[Shape]) -> None:
        """tf.keras's build checks for ``shapes`` (a list of full shapes)."""
        if len(shapes) < self._min_inputs:
            raise ValueError(
                f"A merge layer should be called on a list of at least {self._min_inputs} input. "
                f"Got {len(shapes)} inputs. Full input_shape received: {shapes}"
            )
        batch_sizes = {s[0] for s in shapes if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(f"Cannot merge tensors with different batch sizes. Got tensors with shapes {shapes}")
        out: Shape | None = shapes[0][1:]
        for s in shapes[1:]:
            out = self._elemwise_shape(out, s[1:])
        if self._exact_inputs is not None and len(shapes) != self._exact_inputs:
            raise ValueError(
                f"A `{type(self).__name__}` layer should be called on exactly {self._exact_inputs} inputs. "
                f"Received: input_shape={shapes}"
            )

    def _named_error(self, error: ValueError) -> ValueError:
        return ValueError(f'{type(self).__name__} layer "{self.name}": {error}')

    def _named(self, check: Any, *args: Any) -> Any:
        """``check(*args)``, its ``ValueError`` naming this layer."""
        try:
            return check(*args)
        except ValueError as e:
            raise self._named_error(e) from None

    # ----- build / call -----
    def build(self, input_shape: Any) -> None:
        shapes = shapes_of(input_shape)
        if shapes is None:
            raise self._named_error(self._not_a_list(input_shape))
        self._named(self._check_shapes, shapes)
        self._checked_shapes = tuple(shapes)

    def _symbolic_build(self, inputs: Any, shapes: Any) -> None:
        """When the graph is built: the build checks, also for a layer built before (a config's ``build_config``),
        as a call on other shapes would run them (a file whose inputs no longer fit is refused at load)."""
        super()._symbolic_build(inputs, shapes)
        if isinstance(shapes, list) and shapes and all(isinstance(s, tuple) for s in shapes):
            self._named(self._check_shapes, list(shapes))

    def _check_inputs(self, inputs: Any) -> None:
        """The build checks again for inputs shaped differently from the last checked ones."""
        if not isinstance(inputs, (list, tuple)):
            raise self._named_error(self._not_a_list(tuple(getattr(inputs, "shape", ()))))
        checked = self._checked_shapes
        if checked is not None and len(checked) == len(inputs) and all(t.shape == s for t, s in zip(inputs, checked)):
            return
        shapes = tuple(tuple(int(d) for d in t.shape) for t in inputs)  # ints, also while tracing (sizes are tensors)
        self._named(self._check_shapes, list(shapes))
        self._checked_shapes = shapes

    def _on_new_inputs(self, inputs: Any) -> None:
        # the checked path (new input shapes, and always while tracing): tf.keras's build checks again
        self._check_inputs(inputs)

    def call(self, inputs: Sequence[torch.Tensor], mask: Any = None) -> torch.Tensor:
        # The shapes were checked on the layer's checked path (``_on_new_inputs``: the eager fast path only
        # skips it for the same shapes and dtypes as the last checked ones); here only what costs nothing.
        if not isinstance(inputs, (list, tuple)):
            raise self._named_error(self._not_a_list(tuple(getattr(inputs, "shape", ()))))
        top = inputs[0].dim() if inputs else 0
        for t in inputs:
            if t.dim() != top:  # tf.keras: expand_dims(x, 1) until every input has the top rank
                top = max(t.dim() for t in inputs)
                inputs = [t.reshape(*t.shape[:1], *(1,) * (top - t.dim()), *t.shape[1:]) if t.dim() else t for t in inputs]
                break
        if mask is not None and self._keras3_masks and type(self)._merge_masked is not Merge._merge_masked:
            masks = list(mask) if isinstance(mask, (list, tuple)) else [mask]
            if any(m is not None for m in masks):
                return self._merge_masked(list(inputs), masks)
        return self._merge_function(inputs if type(inputs) is list else list(inputs))

    def _layout_call(self, rank: int) -> tuple[str, Any] | None:
        """An elementwise merge of inputs of one rank (the runner checks it) computes in any layout."""
        return ("follow", self._merge_function) if self._elementwise else None

    def _output_is_fresh(self) -> bool:
        return self._elementwise

    def _merge_masked(self, inputs: list[torch.Tensor], masks: list[torch.Tensor | None]) -> torch.Tensor:
        """Keras 3's masked merge (``Maximum``/``Minimum``/``Multiply`` read the input masks); only for layers
        from a Keras 3 config: tf.keras's merge ignores masks."""
        raise NotImplementedError

    def _extremum_masked(self, inputs: list[torch.Tensor], masks: list, op: Any) -> torch.Tensor:
        """Keras 3 ``_apply_merge_op_and_or_mask``: a masked-out element takes the other operand's value."""
        output, output_mask = inputs[0], None if masks[0] is None else masks[0][..., None].expand(inputs[0].shape)
        for x, m in zip(inputs[1:], masks[1:]):
            m = None if m is None else m[..., None].expand(x.shape)
            if m is not None:
                x = torch.where(m, x, output)
            if output_mask is not None:
                output = torch.where(output_mask, output, x)
            output_mask = torch.logical_or(output_mask, m) if m is not None and output_mask is not None else None
            output = op(output, x)
        return output

    def _merge_function(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        """tf.keras's elementwise output shape (the batch dim known when all inputs agree on one)."""
        shapes = shapes_of(input_shape)
        if not shapes:
            raise self._named_error(self._not_a_list(input_shape))
        out = shapes[0][1:]
        for s in shapes[1:]:
            out = self._named(self._elemwise_shape, out, s[1:])
        batch_sizes = {s[0] for s in shapes} - {None}
        return ((batch_sizes.pop() if len(batch_sizes) == 1 else None), *out)

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}"] + self._repr_common())


def _fmt(shape: Any) -> str:
    return str(tuple(shape)) if isinstance(shape, (tuple, torch.Size)) else str(shape)

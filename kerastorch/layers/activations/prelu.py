"""``PReLU`` layer (tf.keras ``layers.PReLU``): a learned slope ``alpha`` for the negative part."""
from __future__ import annotations

import numbers
from typing import Any, Mapping

import torch
import torch.nn.functional as F

from ... import constraints, initializers, regularizers
from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer, WeightSpec


@LAYERS.register()
class PReLU(Layer):
    """tf.keras ``PReLU``: ``relu(x) - alpha * relu(-x)`` (tf.keras's formula, so the gradient at 0 is 0).

    ``alpha`` has the input's non-batch shape, with 1 on each of the 1-based ``shared_axes``; the other
    axes are then fixed by the input spec, as tf.keras's build does.
    """

    supports_masking = True  # tf.keras passes the input mask through

    def __init__(
        self,
        alpha_initializer: Any = "zeros",
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: int | list[int] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        try:
            self.alpha_initializer = initializers.get(alpha_initializer)
            self.alpha_regularizer = regularizers.get(alpha_regularizer)
            self.alpha_constraint = constraints.get(alpha_constraint)
        except ValueError as e:
            raise ValueError(f'PReLU layer "{self.name}": {e}') from None
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes):
                raise ValueError(
                    f'PReLU layer "{self.name}": `shared_axes` must be an integer or a list of integers (1-based, '
                    f"the batch axis excluded). Received: shared_axes={shared_axes!r}"
                )
            self.shared_axes = [int(a) for a in axes]
        self.input_spec = InputSpec(float_only=True)
        self._prelu_dim: int | None = None
        self._finish_init()

    def _shared_dims(self, rank: int) -> list[int]:
        """The dims of ``alpha`` (the input's non-batch dims, 0-based) that ``shared_axes`` makes 1.

        tf.keras (and Keras 3) set ``param_shape[axis - 1] = 1``: Python indexing, so ``shared_axes=[0]``
        shares the LAST axis; an axis past the rank is refused (tf.keras: an IndexError).
        """
        dims = []
        for axis in self.shared_axes or ():
            if not -rank <= axis - 1 < rank:
                raise ValueError(
                    f'PReLU layer "{self.name}": `shared_axes` {self.shared_axes} refers to an axis beyond the '
                    f"input's rank {rank + 1} (input shape with {rank} non-batch dims)."
                )
            dims.append((axis - 1) % rank)
        return dims

    def _alpha_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        shape = list(input_shape[1:])
        for d in self._shared_dims(len(shape)):
            shape[d] = 1
        return tuple(shape)

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        shape = (None,) if input_shape is None else self._alpha_shape(input_shape)
        return [WeightSpec("alpha", shape, self.alpha_initializer, self.alpha_regularizer, self.alpha_constraint)]

    def input_shape_from_weights(self, shapes: Mapping[str, tuple[int, ...]]) -> Any:
        alpha = list(shapes["alpha"])
        for d in self._shared_dims(len(alpha)):
            alpha[d] = None  # a shared axis takes any size
        return (None, *alpha)

    def build(self, input_shape: Any) -> None:
        if isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError(
                f'PReLU layer "{self.name}": expected one input of rank >= 2, received input shape {input_shape}.'
            )
        super().build(input_shape)

    def _on_build(self, input_shape: Any) -> None:
        shared = set(self.shared_axes or ())
        axes = {i: int(d) for i, d in enumerate(input_shape) if i > 0 and i not in shared and d is not None}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        # without gradients, torch's one-kernel prelu computes the same values (up to the sign of a zero) when
        # alpha varies along at most one axis: that axis becomes torch's channel dim 1 (a view, no copy)
        varying = [i + 1 for i, d in enumerate(self.weight_spec("alpha").shape) if d != 1]
        self._prelu_dim = None if len(varying) > 1 else (varying[0] if varying else 0)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        dim = self._prelu_dim
        if dim is not None and not (torch.is_grad_enabled() and (inputs.requires_grad or self.alpha.requires_grad)):
            if dim == 0:
                return F.prelu(inputs, self.alpha.reshape(1))
            return F.prelu(inputs.movedim(dim, 1), self.alpha.reshape(-1)).movedim(1, dim)
        # tf.keras's relu(x) - alpha * relu(-x) (so the gradient at x == 0 is 0, not alpha) with the product and
        # the difference in one op; one of the two relus is 0 at every element, so addcmul's single rounding
        # gives tf.keras's value bit for bit
        return torch.addcmul(F.relu(inputs), self.alpha, F.relu(-inputs), value=-1.0)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"shared_axes={self.shared_axes}", *self._repr_common()])

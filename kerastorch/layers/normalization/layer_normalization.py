"""``LayerNormalization`` (tf.keras ``layers.LayerNormalization``).

Reproduces ``tf_keras/layers/normalization/layer_normalization.py``: one or several ``axis`` (weights of shape
``[input_shape[a] for a in axis]``, in the given order, laid over the input by a *reshape* as tf.keras does),
biased variance, ``epsilon`` 1e-3, ``center``/``scale``. Trailing axes run as one ``F.layer_norm`` call; other
axes as a ``var_mean`` reduction. Keras 3's ``rms_scaling`` (deprecated there, absent from tf.keras) loads
when False; True is refused with a ValueError.
"""
from __future__ import annotations

import numbers
from typing import Any

import torch
import torch.nn.functional as F

from ..._registry import LAYERS, describe
from ..layer import Layer, WeightSpec
from ._axes import AffineArgs, CastsEveryInput, axis_arg, validate_axis


@LAYERS.register()
class LayerNormalization(CastsEveryInput, AffineArgs, Layer):
    """tf.keras ``LayerNormalization`` (see the module docstring)."""

    supports_masking = True  # tf.keras passes the input mask through

    def __init__(
        self,
        axis: int | list[int] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        rms_scaling: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        try:
            self.axis = axis_arg(axis, f"Expected an int or a list/tuple of ints for the argument 'axis', but received: {axis!r}")
            if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
                raise ValueError(f"`epsilon` must be a number. Received: epsilon={epsilon!r}")
            if rms_scaling:
                raise ValueError(
                    "`rms_scaling=True` (deprecated in Keras 3, absent from tf.keras) is not supported by kerastorch."
                )
            self.epsilon = epsilon
            self._init_affine(center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                              beta_constraint, gamma_constraint)
        except ValueError as e:
            raise ValueError(f'LayerNormalization layer "{self.name}": {e}') from None
        self.input_spec = self._spec()
        self._finish_init()

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        n = 1 if isinstance(self.axis, int) else len(self.axis)
        shape: tuple[int | None, ...] = (None,) * n
        if input_shape is not None:
            shape = tuple(input_shape[a] for a in validate_axis(self.axis, tuple(input_shape)))
        return self._affine_specs(shape)

    def input_shape_from_weights(self, shapes: Any) -> tuple[int | None, ...]:
        shape = tuple(next(iter(shapes.values())))
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        rank = max(max(a + 1 if a >= 0 else -a for a in axes), 1) + (1 if all(a < 0 for a in axes) else 0)
        out: list[int | None] = [None] * rank
        for a, d in zip(axes, shape):
            out[a] = d
        self._rank_known = False  # a guess: the axes are made non-negative at the first call
        return tuple(out)

    def _on_build(self, input_shape: Any) -> None:
        if self.__dict__.get("_rank_known", True):
            self.axis = validate_axis(self.axis, tuple(input_shape))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        rank = inputs.dim()
        axes = validate_axis(self.axis, tuple(inputs.shape))
        if not self.__dict__.get("_rank_known", True):
            self.axis, self._rank_known = axes, True
        k = len(axes)
        self._trailing = sorted(axes) == list(range(rank - k, rank))
        self._normalized = tuple(inputs.shape[rank - k:])
        self._axes = tuple(axes)
        bshape = [1] * rank
        for a in axes:
            bshape[a] = int(inputs.shape[a])
        self._bshape = tuple(bshape)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        gamma = self.gamma if self.scale else None  # attribute access: a parametrization applies
        beta = self.beta if self.center else None
        if self._trailing:
            return F.layer_norm(
                inputs, self._normalized, None if gamma is None else gamma.reshape(self._normalized),
                None if beta is None else beta.reshape(self._normalized), self.epsilon,
            )
        var, mean = torch.var_mean(inputs, self._axes, correction=0, keepdim=True)
        inv = torch.rsqrt(var + self.epsilon)
        if gamma is not None:
            inv = inv * gamma.reshape(self._bshape)
        y = (inputs - mean) * inv
        return y if beta is None else y + beta.reshape(self._bshape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, **self._affine_config()}

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"axis={self.axis}", f"epsilon={self.epsilon}"]
        parts += [f"{k}=False" for k in ("center", "scale") if not getattr(self, k)]
        for label in ("gamma_regularizer", "beta_regularizer", "gamma_constraint", "beta_constraint"):
            if getattr(self, label) is not None:
                parts.append(f"{label}={describe(getattr(self, label))}")
        return ", ".join(parts + self._repr_common())

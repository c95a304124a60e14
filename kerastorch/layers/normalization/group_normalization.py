"""``GroupNormalization`` (tf.keras ``layers.GroupNormalization``).

Reproduces ``tf_keras/layers/normalization/group_normalization.py``: the channel ``axis`` split into ``groups``
consecutive groups (``groups=-1``: one per channel, and the config then says the channel count, as tf.keras's
does after build), biased group statistics, ``epsilon`` 1e-3, ``gamma``/``beta`` of shape ``(channels,)``.
Channels at axis 1 run as one ``F.group_norm`` call; a channels_last input as ``F.group_norm`` on its
channels-first view (rank 3 to 5), any other axis as a grouped ``var_mean`` reduction.
"""
from __future__ import annotations

import numbers
from typing import Any

import torch
import torch.nn.functional as F

from ..._registry import LAYERS, describe
from ..input_spec import InputSpec, shape_str
from ..layer import Layer, WeightSpec
from ._axes import AffineArgs, validate_axis

_TO_FIRST = {3: (0, 2, 1), 4: (0, 3, 1, 2), 5: (0, 4, 1, 2, 3)}
_TO_LAST = {3: (0, 2, 1), 4: (0, 2, 3, 1), 5: (0, 2, 3, 4, 1)}


@LAYERS.register()
class GroupNormalization(AffineArgs, Layer):
    """tf.keras ``GroupNormalization`` (see the module docstring)."""

    supports_masking = True  # tf.keras passes the input mask through

    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        try:
            if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or not (groups == -1 or groups > 0):
                raise ValueError(f"`groups` must be a positive integer or -1. Received: groups={groups!r}")
            if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
                raise ValueError(f"`axis` must be an integer. Received: axis={axis!r}")
            if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
                raise ValueError(f"`epsilon` must be a number. Received: epsilon={epsilon!r}")
            self.groups = int(groups)
            self.axis = int(axis)
            self.epsilon = epsilon
            self._init_affine(center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                              beta_constraint, gamma_constraint)
        except ValueError as e:
            raise ValueError(f'GroupNormalization layer "{self.name}": {e}') from None
        self.input_spec = InputSpec()
        self._finish_init()

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        dim = None
        if input_shape is not None:
            input_shape = tuple(input_shape)
            validate_axis(self.axis, input_shape)
            dim = input_shape[self.axis]
            if dim is None:
                raise ValueError(
                    f"Axis {self.axis} of input tensor should have a defined dimension but the layer received an "
                    f"input with shape {shape_str(input_shape)}."
                )
            groups = dim if self.groups == -1 else self.groups
            if dim < groups:
                raise ValueError(f"Number of groups ({groups}) cannot be more than the number of channels ({dim}).")
            if dim % groups != 0:
                raise ValueError(f"Number of groups ({groups}) must be a multiple of the number of channels ({dim}).")
        return self._affine_specs((dim,))

    def input_shape_from_weights(self, shapes: Any) -> tuple[int | None, ...]:
        (dim,) = tuple(next(iter(shapes.values())))
        rank = self.axis + 1 if self.axis >= 0 else max(-self.axis + 1, 2)
        self._rank_known = False  # a guess: the input's rank is fixed at the first call
        return tuple(dim if i == self.axis % rank else None for i in range(rank))

    def _on_build(self, input_shape: Any) -> None:
        dim = int(input_shape[self.axis])
        if self.groups == -1:
            self.groups = dim
        rank_known = self.__dict__.get("_rank_known", True)
        self.input_spec = InputSpec(ndim=len(input_shape) if rank_known else None, axes={self.axis: dim})

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        rank = inputs.dim()
        if not self.__dict__.get("_rank_known", True):
            self.input_spec = InputSpec(ndim=rank, axes={self.axis: int(inputs.shape[self.axis])})
            self._rank_known = True
        axis = self.axis % rank
        channels = int(inputs.shape[axis])
        self._mode = "first" if axis == 1 else "last" if axis == rank - 1 and rank in _TO_FIRST else "general"
        if self._mode == "last" and not self.scale:  # torch 2.13's channels_last group_norm backward fails without a weight
            self._mode = "general"
        self._perms = (_TO_FIRST.get(rank), _TO_LAST.get(rank))
        group_shape = list(inputs.shape)
        group_shape[axis: axis + 1] = [self.groups, channels // self.groups]
        self._group_shape = tuple(group_shape[1:])
        self._reduce = tuple(i for i in range(1, rank + 1) if i != axis)
        self._bshape = tuple(channels if i == axis else 1 for i in range(rank))

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        gamma = self.gamma if self.scale else None  # attribute access: a parametrization applies
        beta = self.beta if self.center else None
        if self._mode == "first":
            return F.group_norm(inputs, self.groups, gamma, beta, self.epsilon)
        if self._mode == "last" and (inputs.requires_grad or not torch.is_grad_enabled()
                                     or not any(w is not None and w.requires_grad for w in (gamma, beta))):
            # torch 2.13's CPU channels_last group_norm backward crashes (segfault) when the input needs no
            # gradient but a weight does: that case takes the general path below
            to_first, to_last = self._perms
            return F.group_norm(inputs.permute(to_first), self.groups, gamma, beta, self.epsilon).permute(to_last)
        x = inputs.reshape(inputs.shape[0], *self._group_shape)
        var, mean = torch.var_mean(x, self._reduce, correction=0, keepdim=True)
        y = ((x - mean) * torch.rsqrt(var + self.epsilon)).reshape(inputs.shape)
        if gamma is not None:
            y = y * gamma.reshape(self._bshape)
        return y if beta is None else y + beta.reshape(self._bshape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
                **self._affine_config()}

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"groups={self.groups}", f"axis={self.axis}", f"epsilon={self.epsilon}"]
        parts += [f"{k}=False" for k in ("center", "scale") if not getattr(self, k)]
        for label in ("gamma_regularizer", "beta_regularizer", "gamma_constraint", "beta_constraint"):
            if getattr(self, label) is not None:
                parts.append(f"{label}={describe(getattr(self, label))}")
        return ", ".join(parts + self._repr_common())

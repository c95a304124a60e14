"""``BatchNormalization`` (tf.keras ``layers.BatchNormalization``) on one ``F.batch_norm`` call.

Reproduces ``tf_keras/layers/normalization/batch_normalization.py``: any ``axis`` (several too, then the
weights have the input's rank with 1s elsewhere), weights ``gamma, beta, moving_mean, moving_variance``
(the last two non-trainable buffers), training with the batch statistics and the update
``moving = moving * momentum + batch * (1 - momentum)``, ``trainable=False`` running in inference mode.
tf.keras's moving variance takes the *unbiased* batch variance on its fused path (4-D/5-D input, one
channel axis 1 or last, float16/bfloat16/float32, ``fused`` not False) and the *biased* one elsewhere
(other ranks or axes, several axes, float64, ``fused=False``, ``synchronized=True``): both are reproduced.
The output is always normalized with the biased batch variance.

Speed: a channels_last input is handed to torch as its channels_last NCHW view (no copy); another single
axis as a ``(A, C, B)`` view. torch's running-variance update is unbiased; on the biased path the buffer is
rescaled by ``n/(n-1)`` before and ``(n-1)/n`` after the call (two in-place ops on C numbers).
``renorm``, ``virtual_batch_size`` and ``adjustment`` are refused with a ValueError (not implemented).
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ... import initializers
from ..._registry import LAYERS, describe
from ..layer import Layer, WeightSpec
from ._axes import AffineArgs, CastsEveryInput, axis_arg, validate_axis

_FUSED_AXES = (-4, -3, -1, 1, 3, 4)
_HALF = (torch.float16, torch.bfloat16)


def _view_plan(axis: int, shape: torch.Size) -> tuple:
    """How an input with its single channel axis at ``axis`` is handed to ``F.batch_norm`` as a view (no copy).

    ``("same",)``: as it is (channels at dim 1); ``("last", rank)``: a channels_last input's
    channels-first view (rank 3 as ``(N, C, 1, L)``, rank > 5 folded to ``(N, C, 1, -1)``);
    ``("fold", channels, inner)``: another axis as an ``(A, C, B)`` view. Plain data, so a layer pickles.
    """
    rank = len(shape)
    if axis == 1:
        return ("same",)
    if axis == rank - 1:
        return ("last", rank)
    return ("fold", int(shape[axis]), int(shape[axis + 1:].numel()))


_TO_FIRST = {4: (0, 3, 1, 2), 5: (0, 4, 1, 2, 3)}
_TO_LAST = {4: (0, 2, 3, 1), 5: (0, 2, 3, 4, 1)}


def _to_torch(x: torch.Tensor, plan: tuple) -> torch.Tensor:
    kind = plan[0]
    if kind == "same":
        return x
    if kind == "fold":
        return x.reshape(-1, plan[1], plan[2])
    rank = plan[1]
    if rank == 3:
        return x.unsqueeze(1).permute(0, 3, 1, 2)
    if rank in _TO_FIRST:
        return x.permute(_TO_FIRST[rank])
    return x.reshape(x.shape[0], 1, -1, x.shape[-1]).permute(0, 3, 1, 2)


def _from_torch(y: torch.Tensor, plan: tuple, shape: torch.Size) -> torch.Tensor:
    kind = plan[0]
    if kind == "same":
        return y
    if kind == "fold":
        return y.reshape(shape)
    rank = plan[1]
    if rank == 3:
        return y.permute(0, 2, 3, 1).squeeze(1)
    if rank in _TO_LAST:
        return y.permute(_TO_LAST[rank])
    return y.permute(0, 2, 3, 1).reshape(shape)


@LAYERS.register()
class BatchNormalization(CastsEveryInput, AffineArgs, Layer):
    """tf.keras ``BatchNormalization`` (see the module docstring)."""

    supports_masking = True  # tf.keras passes the input mask through

    _call_takes_training = True

    def __init__(
        self,
        axis: int | list[int] = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        synchronized: bool = False,
        renorm: bool = False,
        renorm_clipping: dict | None = None,
        renorm_momentum: float = 0.99,
        fused: bool | None = None,
        virtual_batch_size: int | None = None,
        adjustment: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        try:
            self.axis = axis_arg(axis, f"Expected an int or a list/tuple of ints for the argument 'axis', but received: {axis!r}")
            for what, value in (("momentum", momentum), ("epsilon", epsilon)):
                if isinstance(value, bool) or not isinstance(value, numbers.Real):
                    raise ValueError(f"`{what}` must be a number. Received: {what}={value!r}")
            if not 0 <= epsilon:  # torch's batch_norm refuses it at the call (Keras would compute NaNs)
                raise ValueError(f"`epsilon` must be a non-negative number. Received: epsilon={epsilon!r}")
            if synchronized and fused:
                raise ValueError("`fused=True` is not supported when `synchronized=True`.")
            self.synchronized = bool(synchronized)
            if self.synchronized:
                fused = False
            self.momentum = momentum
            # tf.keras makes ``1 - momentum`` a float32 tensor (then casts it to the variables' dtype)
            self._decay = float(np.float32(1.0 - momentum))
            self.epsilon = epsilon
            self._init_affine(center, scale, beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                              beta_constraint, gamma_constraint)
            self.moving_mean_initializer = initializers.get(moving_mean_initializer)
            self.moving_variance_initializer = initializers.get(moving_variance_initializer)
            self.renorm = bool(renorm)
            self.virtual_batch_size = virtual_batch_size
            self.adjustment = adjustment
            if fused:
                self._raise_if_fused_cannot_be_used()
            elif fused is None and not self._fused_can_be_used():
                fused = False
            self.fused = fused  # None: decided at build (tf.keras's rule)
            if self.renorm:
                renorm_clipping = renorm_clipping or {}
                keys = ["rmax", "rmin", "dmax"]
                if set(renorm_clipping) - set(keys):
                    raise ValueError(
                        f"Received invalid keys for `renorm_clipping` argument: {renorm_clipping}. Supported values: {keys}."
                    )
            self._refuse_unsupported()
        except ValueError as e:
            raise ValueError(f'BatchNormalization layer "{self.name}": {e}') from None
        self._rank_known = True
        self._param_shape: tuple[int, ...] | None = None
        self._perm: tuple | None = None  # set per input shape (``_on_new_input``)
        self.input_spec = self._spec()
        self._finish_init()

    # ----- tf.keras's argument rules -----
    def _raise_if_fused_cannot_be_used(self) -> None:
        if self.renorm:
            raise ValueError("Passing both `fused=True` and `renorm=True` is not supported")
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        if len(axes) > 1 or axes[0] not in _FUSED_AXES:
            raise ValueError(
                "Passing `fused=True` is only supported when axis is 1 or 3 for input rank = 4 or 1 or 4 for input "
                f"rank = 5. Got axis {axes}"
            )
        if self.virtual_batch_size is not None:
            raise ValueError("Passing `fused=True` is not supported when `virtual_batch_size` is specified.")
        if self.adjustment is not None:
            raise ValueError("Passing `fused=True` is not supported when `adjustment` is specified.")
        if self._dtype_policy.compute_dtype not in (torch.float16, torch.bfloat16, torch.float32):
            raise ValueError(
                "Passing `fused=True` is only supported when the compute dtype is float16, bfloat16, or float32. "
                f"Got dtype: {self.dtype}"
            )

    def _fused_can_be_used(self) -> bool:
        try:
            self._raise_if_fused_cannot_be_used()
            return True
        except ValueError:
            return False

    def _refuse_unsupported(self) -> None:
        """What kerastorch does not implement, after tf.keras's own checks of the same arguments."""
        if self.virtual_batch_size is not None:
            if self.virtual_batch_size <= 0:
                raise ValueError(
                    "`virtual_batch_size` must be a positive integer that divides the true batch size of the input "
                    f"tensor. Received: virtual_batch_size={self.virtual_batch_size}"
                )
            if 0 in ([self.axis] if isinstance(self.axis, int) else self.axis):
                raise ValueError(
                    "When using `virtual_batch_size`, the batch dimension must be 0 and thus axis cannot include 0. "
                    f"Received axis={[self.axis] if isinstance(self.axis, int) else self.axis}"
                )
            raise ValueError("`virtual_batch_size` (ghost batch normalization) is not supported by kerastorch.")
        if self.renorm:
            raise ValueError("`renorm=True` (batch renormalization) is not supported by kerastorch.")
        if self.adjustment is not None:
            raise ValueError("`adjustment` is not supported by kerastorch.")

    # ----- shapes and weights -----
    def _resolve(self, input_shape: tuple) -> tuple[list[int], bool]:
        """tf.keras's build: the normalized axes and whether its fused kernel runs (errors as tf.keras words them)."""
        axes = validate_axis(self.axis, input_shape)
        rank = len(input_shape)
        fused = self.fused
        if fused in (None, True):
            if fused and rank not in (4, 5):
                raise ValueError(
                    "Batch normalization layers with `fused=True` only support 4D or 5D input tensors. "
                    f"Received tensor with shape: {tuple(input_shape)}"
                )
            fused = rank in (4, 5)
        if fused:
            if not (axes == [1] or axes == [rank - 1]):
                if rank == 5:
                    fused = False
                else:
                    raise ValueError(
                        "Unsupported axis. The use of `fused=True` is only possible with `axis=1` or `axis=3` for 4D "
                        f"input tensors. Received: axis={tuple(axes)}"
                    )
        return axes, bool(fused)

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        shape: tuple[int | None, ...] = (None,)
        if input_shape is not None:
            input_shape = tuple(input_shape)
            axes, _ = self._resolve(input_shape)
            dims = {a: input_shape[a] for a in axes}
            if any(d is None for d in dims.values()):
                raise ValueError(
                    f"Input has undefined `axis` dimension. Received input with shape {tuple(input_shape)} and "
                    f"axis={tuple(axes)}"
                )
            shape = (dims[axes[0]],) if len(axes) == 1 else tuple(dims.get(i, 1) for i in range(len(input_shape)))
        return self._affine_specs(shape) + [
            WeightSpec("moving_mean", shape, self.moving_mean_initializer, trainable=False),
            WeightSpec("moving_variance", shape, self.moving_variance_initializer, trainable=False),
        ]

    def input_shape_from_weights(self, shapes: Any) -> tuple[int | None, ...]:
        shape = tuple(shapes.get("moving_mean") or next(iter(shapes.values())))
        if len(shape) > 1:  # several axes: the weights have the input's rank
            return tuple(d if d != 1 else None for d in shape)
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        if len(axes) != 1:
            raise ValueError(f'Layer "{self.name}": weights of shape {shape} do not fit axis={self.axis}.')
        a = axes[0]
        rank = max(2, a + 1 if a >= 0 else -a)
        self._rank_known = False  # the input's rank is only known at the first call
        return tuple(shape[0] if i == a % rank else None for i in range(rank))

    def _on_build(self, input_shape: Any) -> None:
        if self._rank_known:
            self._fix_rank(tuple(input_shape))
        else:
            a = self.axis if isinstance(self.axis, int) else self.axis[0]
            self.input_spec = self._spec(min_ndim=max(2, a + 1 if a >= 0 else -a), axes={a: self._param_count()})
        self._shape_key: tuple | None = None

    def _param_count(self) -> int:
        return int(self._stored("moving_mean").shape[0])

    def _fix_rank(self, input_shape: tuple) -> None:
        axes, self._fused = self._resolve(input_shape)
        self.axis = axes
        self._param_shape = tuple(int(d) for d in self._stored("moving_mean").shape)
        self.input_spec = self._spec(ndim=len(input_shape), axes={a: int(input_shape[a]) for a in axes})
        self._rank_known = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    # ----- call -----
    def _on_new_input(self, inputs: torch.Tensor) -> None:
        """Per input shape: the torch view, the reduction layout and the moving-variance rule."""
        if not self._rank_known:
            self._fix_rank(tuple(inputs.shape))
        rank = inputs.dim()
        axes = self.axis
        single = len(axes) == 1
        perm = view = None
        if single:
            view = _view_plan(axes[0], inputs.shape)
            if view[0] == "last" and view[1] in _TO_FIRST:  # channels_last 4-D/5-D: two permuted views
                perm = (_TO_FIRST[rank], _TO_LAST[rank])
        self._keep_state(
            _unbiased=self._fused and not self.synchronized, _single=single, _perm=perm,
            _view=view, _reduce=tuple(i for i in range(rank) if i not in axes),
            _bshape=tuple(int(inputs.shape[i]) if i in axes else 1 for i in range(rank)),
        )

    def _affine(self, dtype: torch.dtype) -> tuple[Any, Any]:
        gamma = self._current("gamma") if self.scale else None
        beta = self._current("beta") if self.center else None
        stats = self._current("moving_mean").dtype
        if dtype is not stats and not (dtype in _HALF and stats is torch.float32):
            gamma = None if gamma is None else gamma.to(dtype)
            beta = None if beta is None else beta.to(dtype)
        # else a float16/bfloat16 input (mixed policy, torch.autocast) with float32 weights: torch's mixed-type
        # kernel computes in float32 and returns the input's dtype, as Keras (float32 statistics, output cast)
        return gamma, beta

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if self._perm is not None:  # a channels_last 4-D/5-D input (the common case): its channels-first view
            to_first, to_last = self._perm
            return self._call_first(inputs.permute(to_first), training).permute(to_last)
        if training:
            training = self.trainable  # tf.keras: a frozen BatchNormalization runs in inference mode
        gamma, beta = self._affine(inputs.dtype)
        n = inputs.numel() // max(self.moving_mean.numel(), 1)
        if not self._single or (training and (n < 2 or self._distributed())):
            return self._call_general(inputs, training, gamma, beta, n)
        y = self._batch_norm(_to_torch(inputs, self._view), training, gamma, beta, n)
        return _from_torch(y, self._view, inputs.shape)

    def _call_first(self, x: torch.Tensor, training: bool = False) -> torch.Tensor:
        """``call`` on the channels-first view of a channels_last 4-D/5-D input (torch's own layout), for
        ``call`` and for a graph runner."""
        if training:
            training = self.trainable
        gamma, beta = self._affine(x.dtype)
        if not training:
            return torch.batch_norm(
                x, gamma, beta, self._current("moving_mean"), self._current("moving_variance"), False, 0.0,
                self.epsilon, torch.backends.cudnn.enabled,
            )
        n = x.numel() // max(self.moving_mean.numel(), 1)
        if n < 2 or self._distributed():
            to_first, to_last = self._perm
            return self._call_general(x.permute(to_last), training, gamma, beta, n).permute(to_first)
        return self._batch_norm(x, training, gamma, beta, n)

    def _batch_norm(self, x: torch.Tensor, training: bool, gamma: Any, beta: Any, n: int) -> torch.Tensor:
        """torch's batch norm over dim 1 of ``x``, updating the moving statistics as Keras does."""
        mean, var = self.moving_mean, self.moving_variance
        if not training:
            return F.batch_norm(x, mean, var, gamma, beta, False, 0.0, self.epsilon)
        if self._unbiased:
            return F.batch_norm(x, mean, var, gamma, beta, True, self._decay, self.epsilon)
        # torch updates with the unbiased variance: scale it so that the update is the biased one
        scaled = var * (n / (n - 1))
        y = F.batch_norm(x, mean, scaled, gamma, beta, True, self._decay, self.epsilon)
        with torch.no_grad():
            torch.mul(scaled, (n - 1) / n, out=var)
        return y

    def _layout_call(self, rank: int) -> tuple[str, Any] | None:
        return ("first", self._call_first) if self._perm is not None and rank == len(self._perm[0]) else None

    def _output_is_fresh(self) -> bool:
        return True

    def _distributed(self) -> bool:
        return (
            self.synchronized and torch.distributed.is_available() and torch.distributed.is_initialized()
            and torch.distributed.get_world_size() > 1
        )

    def _call_general(self, inputs: torch.Tensor, training: bool, gamma: Any, beta: Any, n: int) -> torch.Tensor:
        """tf.keras's non-fused path: several axes, a batch of one value per channel, synchronized replicas."""
        bshape = self._bshape
        if training:
            x = inputs if inputs.dtype not in (torch.float16, torch.bfloat16) else inputs.float()
            if self._distributed():  # tf.keras ``synchronized``: global statistics (differentiable all-reduce)
                from torch.distributed.nn.functional import all_reduce

                count = torch.tensor([float(n)], dtype=x.dtype, device=x.device)
                stats = torch.cat([x.sum(self._reduce, keepdim=True).reshape(-1), (x * x).sum(self._reduce, keepdim=True).reshape(-1), count])
                stats = all_reduce(stats)
                c = self.moving_mean.numel()
                total = stats[-1]
                mean = (stats[:c] / total).reshape(bshape)
                var = (stats[c:2 * c] / total).reshape(bshape) - mean * mean
                n = total  # the global count stays a tensor: reading it would sync with the device
            else:
                var, mean = torch.var_mean(x, self._reduce, correction=0, keepdim=True)
            with torch.no_grad():
                decay = self._decay
                moving_var = var * _bessel(n) if self._unbiased else var
                self.moving_mean.sub_((self.moving_mean - mean.reshape(self._param_shape)) * decay)
                self.moving_variance.sub_((self.moving_variance - moving_var.reshape(self._param_shape)) * decay)
        else:
            x = inputs if inputs.dtype not in _HALF else inputs.float()
            mean, var = self.moving_mean.reshape(bshape), self.moving_variance.reshape(bshape)
        inv = torch.rsqrt(var.to(x.dtype) + self.epsilon)
        if gamma is not None:
            inv = inv * gamma.reshape(bshape).to(x.dtype)
        y = (x - mean.to(x.dtype)) * inv
        if beta is not None:
            y = y + beta.reshape(bshape).to(x.dtype)
        return y.to(inputs.dtype)

    # ----- config / repr -----
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            **self._affine_config(),
        })
        keys = list(config)
        keys.insert(keys.index("beta_regularizer"), "moving_mean_initializer")
        keys.insert(keys.index("beta_regularizer"), "moving_variance_initializer")
        config["moving_mean_initializer"] = initializers.serialize(self.moving_mean_initializer)
        config["moving_variance_initializer"] = initializers.serialize(self.moving_variance_initializer)
        return {k: config[k] for k in keys}

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"axis={self.axis}", f"momentum={self.momentum}", f"epsilon={self.epsilon}"]
        if not self.center:
            parts.append("center=False")
        if not self.scale:
            parts.append("scale=False")
        if self.synchronized:
            parts.append("synchronized=True")
        for label in ("gamma_regularizer", "beta_regularizer", "gamma_constraint", "beta_constraint"):
            value = getattr(self, label)
            if value is not None:
                parts.append(f"{label}={describe(value)}")
        return ", ".join(parts + self._repr_common())


def _bessel(n: int | torch.Tensor) -> float | torch.Tensor:
    """``n / (n - 1)`` for ``n > 1``, else 1: an int count, or the all-reduced count of synchronized replicas."""
    if isinstance(n, torch.Tensor):
        return torch.where(n > 1, n / (n - 1), torch.ones_like(n))
    return n / (n - 1) if n > 1 else 1.0

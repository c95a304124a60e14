"""``Dropout`` (tf.keras ``layers.Dropout``): ``rate``, ``noise_shape``, ``seed``; plus the argument checks
and noise-shape handling the other dropout layers share.

Training follows torch: ``module.train()``/``.eval()`` decide, ``training=`` on a call overrides; in
inference the layer is the identity. In training, kept values are scaled by ``1 / (1 - rate)`` (as
``tf.nn.dropout`` and ``torch.nn.functional.dropout`` both do). Random draws come from torch's global
generator (``torch.manual_seed``), as ``torch.nn.Dropout``'s: ``seed`` is kept for the config only,
since a per-layer ``torch.Generator`` cannot be traced by ``torch.compile(fullgraph=True)``.
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from ..._registry import LAYERS
from ..input_spec import InputSpec, shape_str
from ..layer import Layer


def number_arg(value: Any, what: str) -> float:
    """A real number argument (bools and strings refused, where tf.keras fails later at the call)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Invalid value received for argument `{what}`. Expected a float value. Received: {what}={value!r}")
    return float(value)


def rate_arg(value: Any, keras3_message: bool = False) -> float:
    """``rate`` in [0, 1]; tf.keras's message (Dropout) or Keras 3's (the layers tf.keras does not check)."""
    rate = number_arg(value, "rate")
    if not 0 <= rate <= 1:
        if keras3_message:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. Received: rate={value}"
            )
        raise ValueError(f"Invalid value {value} received for `rate`, expected a value between 0 and 1.")
    return rate


def seed_arg(value: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
        raise ValueError(f"Argument `seed` must be an integer. Received: seed={value}")
    return None if value is None else int(value)


def noise_shape_arg(noise_shape: Any) -> tuple[int | None, ...] | None:
    """Keras 3's ``noise_shape`` check: a sequence of positive ints or ``None`` (tf.keras checks nothing)."""
    if noise_shape is None:
        return None
    if isinstance(noise_shape, str):
        raise ValueError(
            "Invalid value received for argument `noise_shape`. Expected a tuple or list of integers. "
            f"Received: noise_shape={noise_shape}"
        )
    try:
        dims = tuple(noise_shape)
    except TypeError:
        raise ValueError(
            "Invalid value received for argument `noise_shape`. Expected an iterable of integers "
            f"(e.g., a tuple or list). Received: noise_shape={noise_shape}"
        ) from None
    for i, dim in enumerate(dims):
        if dim is None:
            continue
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise ValueError(
                "Invalid value received for argument `noise_shape`. Expected all elements to be integers or None. "
                f"Received element at index {i}: {dim} (type: {type(dim).__name__})"
            )
        if dim <= 0:
            raise ValueError(
                "Invalid value received for argument `noise_shape`. Expected all dimensions to be positive integers "
                f"or None. Received negative or zero value at index {i}: {dim}"
            )
    return tuple(None if d is None else int(d) for d in dims)


def require_float(layer: Layer, inputs: torch.Tensor) -> None:
    """tf.keras's refusal of integer inputs where noise is drawn (inference passes them through)."""
    if not inputs.dtype.is_floating_point:
        raise ValueError(
            f'{type(layer).__name__} layer "{layer.name}": `x.dtype` must be a floating point tensor as `x` will be '
            f"scaled. Received: x_dtype={inputs.dtype}"
        )


class NoiseShaped(Layer):
    """A random layer drawing one mask of ``noise_shape`` (``None`` entries: the input's size) per call.

    The non-batch part of the mask shape is resolved once per input shape (``_on_new_input``); a
    ``noise_shape`` that does not broadcast to the input raises a ``ValueError`` naming the layer when the
    layer is about to draw (training), as tf.keras fails only then.
    """

    supports_masking = True  # tf.keras passes the input mask through

    _call_takes_training = True

    def _init_noise(self, noise_shape: Any) -> None:
        self.noise_shape = noise_shape
        self._noise_rest: tuple[int, ...] | None = None
        self._noise_batch: int | None = None
        self._noise_error: str | None = None

    def _noise_dims(self, input_shape: Sequence[int]) -> tuple[int | None, ...] | None:
        """The mask shape for ``input_shape`` before filling: ``None`` means the input's own shape."""
        return self.noise_shape

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        shape = tuple(inputs.shape)
        dims = self._noise_dims(shape)
        self._noise_rest, self._noise_error = None, None
        if dims is None:
            return
        if len(dims) != len(shape):
            self._noise_error = (
                f"`noise_shape` {shape_str(dims)} must have as many entries as the input has dimensions; "
                f"received an input of shape {shape_str(shape)}."
            )
            return
        filled = tuple(s if d is None else d for d, s in zip(dims, shape))
        if any(d != 1 and d != s for d, s in zip(filled[1:], shape[1:])):  # not `in`: see attention.py
            self._noise_error = (
                f"`noise_shape` {shape_str(dims)} is not broadcastable to the input shape {shape_str(shape)}."
            )
            return
        self._noise_rest = filled[1:]
        self._noise_batch = dims[0]

    def _check_drawable(self, inputs: torch.Tensor) -> None:
        """What tf.keras refuses when it draws: integer inputs and a ``noise_shape`` that does not fit."""
        require_float(self, inputs)
        if self._noise_error is not None:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {self._noise_error}')
        if self._noise_rest is not None and self._noise_batch not in (None, 1) and self._noise_batch != inputs.shape[0]:
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": `noise_shape` {shape_str(self.noise_shape)} is not '
                f"broadcastable to the input shape {shape_str(tuple(inputs.shape))}."
            )

    def _mask_shape(self, inputs: torch.Tensor) -> tuple[int, ...] | None:
        """The mask's shape for this call (``None``: one draw per element)."""
        if self._noise_rest is None:
            return None
        return (inputs.shape[0] if self._noise_batch is None else self._noise_batch, *self._noise_rest)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)


@LAYERS.register()
class Dropout(NoiseShaped):
    """tf.keras ``Dropout(rate, noise_shape=None, seed=None)``: zeroes a ``rate`` fraction of the input in
    training and scales the rest by ``1 / (1 - rate)``; ``noise_shape`` masks whole slices (its ``None``
    entries take the input's size, as tf.keras fills them)."""

    def __init__(self, rate: float, noise_shape: Sequence[int | None] | None = None, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        try:
            self.rate = rate_arg(rate)
            self.seed = seed_arg(seed)
            self._init_noise(noise_shape_arg(noise_shape))
            self._configure()
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {e}') from None
        self._finish_init()

    def _configure(self) -> None:
        """Subclass hook: the remaining arguments and the input spec, before any build."""
        self.input_spec = InputSpec(float_only=False)

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if not training or self.rate == 0:
            return inputs
        self._check_drawable(inputs)
        if self.rate == 1:
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": `rate` must be a scalar tensor or a float in the range '
                f"[0, 1). Received: rate={self.rate}"
            )
        shape = self._mask_shape(inputs)
        if shape is None:
            return F.dropout(inputs, self.rate, training=True)
        keep = 1.0 - self.rate
        mask = torch.empty(shape, dtype=inputs.dtype, device=inputs.device).bernoulli_(keep).mul_(1.0 / keep)
        return inputs * mask

    def _layout_call(self, rank: int) -> tuple[str, Any] | None:
        """No noise, or one draw per sample (``noise_shape`` 1 on every other dim): the same in any layout."""
        rest = self._noise_rest
        return ("follow", self.call) if self.rate == 0 or (rest is not None and all(d == 1 for d in rest)) else None

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}

    def extra_repr(self) -> str:
        noise = f", noise_shape={self.noise_shape}" if self.noise_shape is not None else ""
        return f"name={self.name!r}, rate={self.rate}{noise}"

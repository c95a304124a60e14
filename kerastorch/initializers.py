"""tf.keras initializers producing torch tensors, with tf.keras formulas, defaults and configs.

An initializer is called as ``init(shape, dtype=None, device=None)``. With ``seed`` set, every call
returns the same values (tf.keras's seeded behaviour); without, it draws from torch's global RNG,
so ``torch.manual_seed`` makes it reproducible.
"""
from __future__ import annotations

import abc
import contextlib
import contextvars
import inspect
import math
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch

from ._registry import Registry, Serializable

_registry = Registry("initializer", "keras.initializers")
register = _registry.register

# Keras 3 adds these to some configs; tf.keras has no use for them.
_KERAS3_EXTRA_KEYS = ("input_axes", "output_axes")


def _compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """tf.keras ``_compute_fans``: receptive field times the last two dims."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = math.prod(int(d) for d in shape[:-2])
    return int(shape[-2]) * receptive, int(shape[-1]) * receptive


def _float_dtype(dtype: torch.dtype | None) -> torch.dtype:
    dtype = dtype or torch.get_default_dtype()
    if not dtype.is_floating_point:
        raise ValueError(f"Expected a floating dtype for initialization, received dtype={dtype}")
    return dtype


class Initializer(Serializable, abc.ABC):
    """Base class: subclasses implement ``__call__(shape, dtype, device)`` and ``get_config``."""

    @abc.abstractmethod
    def __call__(
        self, shape: Sequence[int], dtype: torch.dtype | None = None, device: Any = None
    ) -> torch.Tensor:
        """Return a new tensor of ``shape``."""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Initializer":
        config = {k: v for k, v in config.items() if k not in _KERAS3_EXTRA_KEYS}
        config.pop("dtype", None)  # legacy tf.keras v1 configs carry a dtype
        return cls(**config)


class _Seeded(Initializer):
    def __init__(self, seed: int | None = None):
        if seed is not None and not isinstance(seed, int):
            raise ValueError(f"`seed` must be an integer or None. Received: seed={seed!r}")
        self.seed = seed

    def _generator(self) -> torch.Generator | None:
        if self.seed is None:
            return None
        return torch.Generator().manual_seed(self.seed)

    @staticmethod
    def _sample_dtype(dtype: torch.dtype) -> torch.dtype:
        # Draw half-precision values in float32, then cast (torch's CPU RNG lacks some half kernels).
        return torch.float64 if dtype == torch.float64 else torch.float32

    def _finish(self, values: torch.Tensor, dtype: torch.dtype, device: Any) -> torch.Tensor:
        return values.to(dtype=dtype, device=device)


@register("zeros", "zero")
class Zeros(Initializer):
    def __call__(self, shape, dtype=None, device=None):
        return torch.zeros(tuple(shape), dtype=_float_dtype(dtype), device=device)


@register("ones", "one")
class Ones(Initializer):
    def __call__(self, shape, dtype=None, device=None):
        return torch.ones(tuple(shape), dtype=_float_dtype(dtype), device=device)


@register("constant")
class Constant(Initializer):
    def __init__(self, value: float = 0):
        self.value = value

    def __call__(self, shape, dtype=None, device=None):
        return torch.full(tuple(shape), float(self.value), dtype=_float_dtype(dtype), device=device)

    def get_config(self):
        return {"value": self.value}


@register("random_normal", "normal")
class RandomNormal(_Seeded):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None, device=None):
        dtype = _float_dtype(dtype)
        out = torch.empty(tuple(shape), dtype=self._sample_dtype(dtype))
        out.normal_(self.mean, self.stddev, generator=self._generator())
        return self._finish(out, dtype, device)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


@register("random_uniform", "uniform")
class RandomUniform(_Seeded):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None, device=None):
        dtype = _float_dtype(dtype)
        out = torch.empty(tuple(shape), dtype=self._sample_dtype(dtype))
        out.uniform_(self.minval, self.maxval, generator=self._generator())
        return self._finish(out, dtype, device)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(shape, mean, stddev, dtype, generator) -> torch.Tensor:
    """TF's ``truncated_normal``: normal draws, those more than two standard deviations from the mean
    drawn again until none is. Only the rejected values (~4.6% per round) are redrawn, and the
    rejection test runs in numpy on the CPU: torch's ``trunc_normal_`` redraws and tests the whole
    tensor each round (several rounds for a large weight), 7-30x slower than this (most of the build
    time of EfficientNet-sized models; worst where torch's threads wait for a busy CPU)."""
    out = torch.empty(tuple(shape), dtype=dtype).normal_(mean, stddev, generator=generator)
    if out.numel() == 0 or out.device.type == "meta":
        return out
    # the bounds as the sample dtype holds them, so that the test below is the one the values meet
    lo, hi = (torch.tensor(b, dtype=dtype).item() for b in (mean - 2 * stddev, mean + 2 * stddev))
    on_cpu = out.device.type == "cpu"
    flat = out.view(-1).numpy() if on_cpu else out.view(-1)
    rejected = np.flatnonzero((flat < lo) | (flat > hi)) if on_cpu else ((flat < lo) | (flat > hi)).nonzero().squeeze(1)
    while len(rejected):
        redrawn = torch.empty(len(rejected), dtype=dtype, device=out.device).normal_(mean, stddev, generator=generator)
        redrawn = redrawn.numpy() if on_cpu else redrawn
        flat[rejected] = redrawn
        rejected = rejected[(redrawn < lo) | (redrawn > hi)]
    return out


@register("truncated_normal")
class TruncatedNormal(_Seeded):
    """Normal cut at two standard deviations, redrawn (like TF's ``truncated_normal``)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None, device=None):
        dtype = _float_dtype(dtype)
        out = _truncated_normal(shape, self.mean, self.stddev, self._sample_dtype(dtype), self._generator())
        return self._finish(out, dtype, device)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


@register("variance_scaling")
class VarianceScaling(_Seeded):
    """tf.keras VarianceScaling: ``scale / max(1, fan)`` with a truncated-normal, normal or uniform draw."""

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("normal", "uniform", "truncated_normal", "untruncated_normal")

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ):
        super().__init__(seed)
        if scale <= 0.0:
            raise ValueError(f"`scale` must be positive float. Received: scale={scale}.")
        mode = mode.lower()
        if mode not in self._MODES:
            raise ValueError(f"Invalid `mode` argument: expected on of {set(self._MODES)}. Received: mode={mode}")
        distribution = distribution.lower()
        if distribution == "normal":  # tf.keras maps the historical name to truncated_normal
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"Invalid `distribution` argument: expected one of {set(self._DISTRIBUTIONS)}. "
                f"Received: distribution={distribution}"
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=None, device=None):
        dtype = _float_dtype(dtype)
        fan_in, fan_out = _compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, fan)
        sample_dtype, generator = self._sample_dtype(dtype), self._generator()
        if self.distribution == "truncated_normal":
            # 0.879... is the stddev of a unit normal truncated to (-2, 2).
            stddev = math.sqrt(scale) / 0.87962566103423978
            out = _truncated_normal(shape, 0.0, stddev, sample_dtype, generator)
        elif self.distribution == "untruncated_normal":
            out = torch.empty(tuple(shape), dtype=sample_dtype).normal_(0.0, math.sqrt(scale), generator=generator)
        else:
            limit = math.sqrt(3.0 * scale)
            out = torch.empty(tuple(shape), dtype=sample_dtype).uniform_(-limit, limit, generator=generator)
        return self._finish(out, dtype, device)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


class _VarianceScalingPreset(VarianceScaling):
    """A VarianceScaling with fixed arguments; its config holds only the seed (as tf.keras's presets)."""

    _ARGS: tuple[float, str, str] = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed: int | None = None):
        scale, mode, distribution = self._ARGS
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


@register("glorot_uniform")
class GlorotUniform(_VarianceScalingPreset):
    """VarianceScaling(1, fan_avg, uniform)."""

    _ARGS = (1.0, "fan_avg", "uniform")


@register("glorot_normal")
class GlorotNormal(_VarianceScalingPreset):
    """VarianceScaling(1, fan_avg, truncated_normal)."""

    _ARGS = (1.0, "fan_avg", "truncated_normal")


@register("lecun_uniform")
class LecunUniform(_VarianceScalingPreset):
    """VarianceScaling(1, fan_in, uniform)."""

    _ARGS = (1.0, "fan_in", "uniform")


@register("lecun_normal")
class LecunNormal(_VarianceScalingPreset):
    """VarianceScaling(1, fan_in, truncated_normal)."""

    _ARGS = (1.0, "fan_in", "truncated_normal")


@register("he_uniform")
class HeUniform(_VarianceScalingPreset):
    """VarianceScaling(2, fan_in, uniform)."""

    _ARGS = (2.0, "fan_in", "uniform")


@register("he_normal")
class HeNormal(_VarianceScalingPreset):
    """VarianceScaling(2, fan_in, truncated_normal)."""

    _ARGS = (2.0, "fan_in", "truncated_normal")


@register("orthogonal")
class Orthogonal(_Seeded):
    """tf.keras Orthogonal: sign-corrected QR of a normal matrix over ``(prod(shape[:-1]), shape[-1])``."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None, device=None):
        dtype = _float_dtype(dtype)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={tuple(shape)} of rank {len(shape)}."
            )
        rows, cols = math.prod(int(d) for d in shape[:-1]), int(shape[-1])
        flat = torch.empty(max(rows, cols), min(rows, cols), dtype=torch.float64)
        flat.normal_(generator=self._generator())
        q, r = torch.linalg.qr(flat, mode="reduced")
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return self._finish(self.gain * q.reshape(tuple(shape)), dtype, device)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


@register("identity")
class Identity(Initializer):
    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None, device=None):
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={tuple(shape)} of rank {len(shape)}."
            )
        return self.gain * torch.eye(*shape, dtype=_float_dtype(dtype), device=device)

    def get_config(self):
        return {"gain": self.gain}


class DeferredInitialization:
    """The weights created (allocated, not yet initialized) inside :func:`deferred_initialization`.

    Each is recorded with its version counter; :meth:`finish` runs the initializer of every one that
    nothing has written since (a weight the file being loaded does not hold), so no uninitialized
    value is ever left in a module.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[torch.Tensor, int, Callable[[], None]]] = []

    def record(self, tensor: torch.Tensor, initialize: Callable[[], None]) -> None:
        """``tensor`` was allocated uninitialized; ``initialize()`` fills it from its initializer."""
        self._pending.append((tensor, tensor._version, initialize))

    def unwritten(self) -> int:
        """How many recorded tensors nothing has written to yet."""
        return sum(t._version == v for t, v, _ in self._pending)

    def finish(self) -> None:
        """Initialize every recorded tensor nothing has written to (an in-place write bumps the version)."""
        pending, self._pending = self._pending, []
        with torch.no_grad():
            for tensor, version, initialize in pending:
                if tensor._version == version:
                    initialize()


_DEFERRAL: contextvars.ContextVar[DeferredInitialization | None] = contextvars.ContextVar("kt_deferral", default=None)


def active_deferral() -> DeferredInitialization | None:
    """The :class:`DeferredInitialization` of the innermost active :func:`deferred_initialization`."""
    return _DEFERRAL.get()


@contextlib.contextmanager
def deferred_initialization() -> Iterator[DeferredInitialization]:
    """Layers built inside allocate their weights without running initializers (for loads that
    overwrite them from a file). Call ``finish()`` on the yielded object once the values are copied:
    it initializes whatever was not written. Under ``torch.inference_mode`` (tensors without a version
    counter) initializers run as usual and nothing is deferred."""
    deferral = DeferredInitialization()
    token = _DEFERRAL.set(None if torch.is_inference_mode_enabled() else deferral)
    try:
        yield deferral
    finally:
        _DEFERRAL.reset(token)


# tf.keras also accepts every class under a "V2" alias (e.g. 'GlorotUniformV2', 'glorot_uniformV2').
for _name in _registry.names():
    _registry.alias(_name + "V2", _registry.lookup(_name))
del _name


def serialize(initializer: Initializer | None) -> dict[str, Any] | None:
    return _registry.serialize(initializer)


def deserialize(config: Any) -> Initializer:
    return _registry.deserialize(config)


def get(identifier: Any) -> Any:
    """tf.keras ``initializers.get``: name, config dict, instance/callable or ``None``."""
    if inspect.isclass(identifier) and issubclass(identifier, Initializer):
        return identifier()
    return _registry.get(identifier)

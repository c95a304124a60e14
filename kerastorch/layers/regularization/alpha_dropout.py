"""``AlphaDropout`` (tf.keras ``layers.AlphaDropout``): dropout that keeps SELU's self-normalizing mean and
variance, ``a * (x * keep + alpha_p * (1 - keep)) + b``."""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from .dropout import NoiseShaped, noise_shape_arg, rate_arg, seed_arg

_ALPHA = 1.6732632423543772848170429916717
_SCALE = 1.0507009873554804934193349852946


@LAYERS.register()
class AlphaDropout(NoiseShaped):
    """tf.keras ``AlphaDropout(rate, noise_shape=None, seed=None)``, in training when ``0 < rate < 1``: dropped
    units are set to SELU's saturation ``alpha_p = -alpha * scale``, then everything goes through
    ``a * x + b`` with ``a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5`` and ``b = -a * alpha_p * rate``.

    Differences from tf.keras, all refusals or fixes of inputs it fails on: a ``rate`` outside ``[0, 1]`` is
    refused with Keras 3's message (tf.keras accepts it and does nothing); ``None`` entries of ``noise_shape``
    take the input's size (as Keras 3 and ``Dropout`` do; tf.keras fails); the config keeps ``noise_shape``
    when one is set (tf.keras's config drops it, so its round trip loses it).
    """

    def __init__(self, rate: float, noise_shape: Sequence[int | None] | None = None, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        try:
            self.rate = rate_arg(rate, keras3_message=True)
            self.seed = seed_arg(seed)
            self._init_noise(noise_shape_arg(noise_shape))
        except ValueError as e:
            raise ValueError(f'AlphaDropout layer "{self.name}": {e}') from None
        self._active = 0 < self.rate < 1
        alpha_p = -_ALPHA * _SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5 if self._active else 1.0
        b = -a * alpha_p * self.rate
        # a * (x * keep + alpha_p * (1 - keep)) + b == x * (a * keep) + (a * alpha_p + b - a * alpha_p * keep)
        self._a, self._shift_dropped, self._shift_kept = a, a * alpha_p + b, b
        self.input_spec = InputSpec(float_only=False)
        self._finish_init()

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if not training or not self._active:
            return inputs
        self._check_drawable(inputs)
        shape = self._mask_shape(inputs)
        u = torch.rand(tuple(inputs.shape) if shape is None else shape, dtype=inputs.dtype, device=inputs.device)
        keep = (u >= self.rate).to(inputs.dtype)
        scale = keep * self._a
        shift = keep * (self._shift_kept - self._shift_dropped) + self._shift_dropped
        return torch.addcmul(shift, inputs, scale)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "rate": self.rate, "seed": self.seed}
        return config if self.noise_shape is None else {**config, "noise_shape": self.noise_shape}

    def extra_repr(self) -> str:
        noise = f", noise_shape={self.noise_shape}" if self.noise_shape is not None else ""
        return f"name={self.name!r}, rate={self.rate}{noise}"

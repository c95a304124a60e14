"""Keras 3 ``MelSpectrogram``: ``|STFT|**mag_exp`` on a mel filterbank, optionally in decibels, on ``torch.stft``.

Reproduced from Keras 3 (TensorFlow backend, the one that writes files): the signal is reflect-padded by
``fft_length // 2`` on both sides (``center=True``), framed every ``sequence_stride`` samples, windowed by a
*periodic* ``'hann'``/``'hamming'`` window of ``sequence_length`` centred in ``fft_length`` (no window: a
rectangle over the whole ``fft_length`` frame, as ``tf.signal.stft`` without ``window_fn``); the filterbank is
Keras's own ``linear_to_mel_weight_matrix`` (HTK mel scale ``1127 ln(1 + f / 700)``, the DC bin zeroed, triangles
peaking at 1); ``power_to_db`` is ``10 log10(max(S, min_power)) - 10 log10(max(|ref_power|, min_power))`` clipped
below at ``max - top_db``, where the max is over the whole call (every sample of the batch), as Keras computes it.
The output is ``(..., num_mel_bins, frames)``.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer

_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _hertz_to_mel(frequencies: np.ndarray) -> np.ndarray:
    return _MEL_HIGH_FREQUENCY_Q * np.log(1.0 + frequencies / _MEL_BREAK_FREQUENCY_HERTZ)


def linear_to_mel_weight_matrix(num_mel_bins: int, num_spectrogram_bins: int, sampling_rate: float,
                                lower_edge_hertz: float, upper_edge_hertz: float) -> np.ndarray:
    """Keras 3's ``MelSpectrogram.linear_to_mel_weight_matrix``: ``(num_spectrogram_bins, num_mel_bins)``,
    computed in float32 as Keras computes it."""
    f32 = np.float32
    nyquist = f32(sampling_rate) / f32(2.0)
    linear = np.linspace(f32(0.0), nyquist, num_spectrogram_bins, dtype=f32)[1:]
    bins_mel = _hertz_to_mel(linear).astype(f32)[:, None]
    edges = np.linspace(_hertz_to_mel(f32(lower_edge_hertz)), _hertz_to_mel(f32(upper_edge_hertz)), num_mel_bins + 2,
                        dtype=f32)
    lower, center, upper = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    lower_slopes = (bins_mel - lower) / (center - lower)
    upper_slopes = (upper - bins_mel) / (upper - center)
    weights = np.maximum(f32(0.0), np.minimum(lower_slopes, upper_slopes)).astype(f32)
    return np.pad(weights, [[1, 0], [0, 0]])


@LAYERS.register()
class MelSpectrogram(Layer):
    """Keras 3 ``MelSpectrogram(fft_length=2048, sequence_stride=512, sequence_length=None, window='hann',
    sampling_rate=16000, num_mel_bins=128, min_freq=20.0, max_freq=None, power_to_db=True, top_db=80.0,
    mag_exp=2.0, min_power=1e-10, ref_power=1.0)`` on inputs ``(..., samples)``; output ``(..., num_mel_bins,
    frames)`` with ``frames = 1 + samples // sequence_stride``."""

    def __init__(self, fft_length: int = 2048, sequence_stride: int = 512, sequence_length: int | None = None,
                 window: str | None = "hann", sampling_rate: int = 16000, num_mel_bins: int = 128,
                 min_freq: float = 20.0, max_freq: float | None = None, power_to_db: bool = True,
                 top_db: float = 80.0, mag_exp: float = 2.0, min_power: float = 1e-10, ref_power: float = 1.0,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError(
                f'MelSpectrogram layer "{self.name}": `fft_length` must be greater than or equal to `sequence_length`. '
                f"Received: `sequence_length`={self.sequence_length}, `fft_length`={self.fft_length}."
            )
        if window is not None and window not in ("hann", "hamming"):
            raise ValueError(
                f'MelSpectrogram layer "{self.name}": If a string is passed to `window`, it must be one of "hann", '
                f'"hamming". Received: window={window!r}'
            )
        if not isinstance(sequence_stride, int) or sequence_stride < 1:
            raise ValueError(f'MelSpectrogram layer "{self.name}": `sequence_stride` must be a positive integer. '
                             f"Received: {sequence_stride!r}")
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        self.input_spec = InputSpec(min_ndim=1)
        matrix, win = self._constants()
        self.register_buffer("_mel_matrix", matrix, persistent=False)
        self.register_buffer("_window", win, persistent=False)
        self._finish_init()

    def _constants(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The mel filterbank and the window: float32 values (Keras's), in the layer's dtype, on the default device
        (``torch.device('meta')`` included)."""
        matrix = linear_to_mel_weight_matrix(self.num_mel_bins, self.fft_length // 2 + 1, self.sampling_rate,
                                             self.min_freq, self.max_freq)
        if self.window is None:  # tf.signal.stft without window_fn: the whole fft_length frame, unweighted
            win = torch.ones(self.fft_length, dtype=torch.float64, device="cpu")
        else:
            make = torch.hann_window if self.window == "hann" else torch.hamming_window
            win = make(self.sequence_length, periodic=True, dtype=torch.float64, device="cpu")
        dtype = self._dtype_policy.variable_dtype
        return torch.tensor(matrix).to(dtype), torch.tensor(win.float().tolist()).to(dtype)

    def reset_parameters(self) -> None:
        """The filterbank and window buffers again (after ``to_empty``), on their device."""
        super().reset_parameters()
        if self._window.device.type != "meta":
            matrix, win = self._constants()
            with torch.no_grad():
                self._mel_matrix.copy_(matrix)
                self._window.copy_(win)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        dtype = inputs.dtype if inputs.dtype in (torch.float32, torch.float64) else torch.float32
        x = inputs.to(dtype)
        lead, samples = x.shape[:-1], x.shape[-1]
        win = self._window.to(device=x.device, dtype=dtype)
        spec = torch.stft(x.reshape(-1, samples), n_fft=self.fft_length, hop_length=self.sequence_stride,
                          win_length=win.shape[0], window=win, center=True, pad_mode="reflect", return_complex=True)
        magnitude = spec.abs().transpose(-1, -2)  # (n, frames, bins)
        if self.mag_exp != 1:
            magnitude = magnitude.pow(self.mag_exp)
        mel = magnitude @ self._mel_matrix.to(device=x.device, dtype=dtype)
        if self.power_to_db:
            log_spec = 10.0 * torch.log10(mel.clamp(min=self.min_power))
            log_spec = log_spec - 10.0 * math.log10(max(abs(self.ref_power), self.min_power))
            mel = torch.maximum(log_spec, log_spec.amax() - self.top_db)
        out = mel.transpose(-1, -2).reshape(*lead, self.num_mel_bins, mel.shape[-2])
        return out.to(inputs.dtype) if inputs.dtype.is_floating_point else out

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        samples = input_shape[-1]
        frames = None if samples is None else 1 + samples // self.sequence_stride
        return (*tuple(input_shape[:-1]), self.num_mel_bins, frames)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length, "window": self.window, "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins, "min_freq": self.min_freq, "max_freq": self.max_freq,
                "power_to_db": self.power_to_db, "top_db": self.top_db, "mag_exp": self.mag_exp,
                "min_power": self.min_power, "ref_power": self.ref_power}

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"fft_length={self.fft_length}", f"sequence_stride={self.sequence_stride}",
                 f"num_mel_bins={self.num_mel_bins}", f"sampling_rate={self.sampling_rate}"]
        return ", ".join(parts + self._repr_common())

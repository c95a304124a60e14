"""Keras 3 ``STFTSpectrogram``: a short-time Fourier transform as a strided 1-D convolution with two kernels.

Keras 3 keeps the DFT as weights: ``real_kernel``/``imag_kernel`` of shape ``(frame_length, 1, fft_length // 2 + 1)``
(``cos``/``sin`` of ``-2 pi t f / fft_length`` times the window, divided by the scaling), *trainable* by default
(``trainable=False`` makes them constants), saved under the layer's ``vars/0`` and ``vars/1`` (just one when
``mode`` is ``'real'`` or ``'imag'``). The call convolves every channel with them (``'valid'`` or TF-``'same'``
padding, stride ``frame_step``) and forms the output mode; kerastorch does the same with ``F.conv1d``, so a kernel
read from a file (even a trained one) computes what Keras computes.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ... import config as kt_config
from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer, WeightSpec
from ..utils.conv_utils import conv_output_length, same_padding

MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
_WINDOWS = {"hann": torch.hann_window, "hamming": torch.hamming_window, "blackman": torch.blackman_window,
            "bartlett": torch.bartlett_window, "boxcar": lambda n, periodic, dtype: torch.ones(n, dtype=dtype)}


def make_window(name: Any, length: int, periodic: bool, layer: str) -> torch.Tensor | None:
    """``scipy.signal.get_window(name, length, fftbins=periodic)`` for the windows torch has (float64), an explicit
    window (a list/array of ``length`` values), or ``None``."""
    if name is None:
        return None
    if isinstance(name, str):
        make = _WINDOWS.get(name)
        if make is None:
            raise ValueError(
                f"{layer} layer: window {name!r} is not supported by kerastorch; expected one of {sorted(_WINDOWS)} "
                "or an explicit list of values."
            )
        return make(length, periodic=periodic, dtype=torch.float64)
    values = torch.as_tensor(np.asarray(name, dtype=np.float64))
    if values.dim() != 1 or values.shape[0] != length:
        raise ValueError(
            f"{layer} layer: the shape of `window` must be equal to [frame_length] = [{length}]. Received: window "
            f"shape={tuple(values.shape)}"
        )
    return values


def stft_kernel(side: str, window_arg: Any, scaling: str | None, periodic: bool,
                shape: Sequence[int], dtype: torch.dtype | None = None, device: Any = None) -> torch.Tensor:
    """Keras 3's ``initializers.STFT(side, window, scaling, periodic)`` for a kernel of ``shape``
    ``(frame_length, 1, bins)``."""
    frame_length, _, bins = (int(s) for s in shape)
    f32 = torch.float32  # Keras's op order in float32: the near-zero sines of the Nyquist bin depend on it
    freq = torch.arange(bins, dtype=f32).reshape(1, 1, bins) / float((bins - 1) * 2)
    time = torch.arange(frame_length, dtype=f32).reshape(frame_length, 1, 1)
    args = (-2 * time) * freq * torch.tensor(math.pi, dtype=f32)
    kernel = torch.cos(args) if side == "real" else torch.sin(args)
    win = make_window(window_arg, frame_length, periodic, "STFTSpectrogram")
    if win is not None:
        win = win.to(f32).reshape(frame_length, 1, 1)
        scale = torch.sqrt(win.square().sum()) if scaling == "density" else (win.abs().sum() if scaling == "spectrum" else 1)
        kernel = kernel * win / scale
    return kernel.to(dtype=dtype or f32, device=device)


class _STFTInit:
    """The STFT kernel initializer (a callable ``(shape, dtype, device) -> tensor``; Keras's ``STFT`` config)."""

    def __init__(self, side: str, window_arg: Any, scaling: str | None, periodic: bool):
        self.side, self.window, self.scaling, self.periodic = side, window_arg, scaling, periodic

    def __call__(self, shape: Sequence[int], dtype: torch.dtype | None = None, device: Any = None, **_: Any) -> torch.Tensor:
        return stft_kernel(self.side, self.window, self.scaling, self.periodic, shape, dtype, device)

    def get_config(self) -> dict[str, Any]:
        return {"side": self.side, "window": self.window, "periodic": self.periodic, "scaling": self.scaling}


@LAYERS.register()
class STFTSpectrogram(Layer):
    """Keras 3 ``STFTSpectrogram(mode='log', frame_length=256, frame_step=None, fft_length=None, window='hann',
    periodic=False, scaling='density', padding='valid', expand_dims=False, data_format=None)``.

    Input ``(batch, time, channels)`` (``channels_first``: ``(batch, channels, time)``). Output: ``(batch, frames,
    channels * bins)`` (``bins`` doubled for ``'stft'``: real then imaginary parts), or with ``expand_dims``
    ``(batch, frames, bins, channels)``; ``channels_first`` moves the channel/feature axis first.
    """

    def __init__(self, mode: str = "log", frame_length: int = 256, frame_step: int | None = None,
                 fft_length: int | None = None, window: Any = "hann", periodic: bool = False,
                 scaling: str | None = "density", padding: str = "valid", expand_dims: bool = False,
                 data_format: str | None = None, **kwargs: Any):
        name = "STFTSpectrogram"
        if not isinstance(frame_length, int) or frame_length < 1:
            raise ValueError(f"{name} layer: `frame_length` must be a positive integer. Received: {frame_length!r}")
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError(
                f"{name} layer: `frame_step` should be a positive integer not greater than `frame_length`. "
                f"Received frame_step={frame_step}, frame_length={frame_length}"
            )
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(
                f"{name} layer: `fft_length` should be not less than `frame_length`. Received fft_length={fft_length}, "
                f"frame_length={frame_length}"
            )
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn(f"`fft_length` is recommended to be a power of two. Received fft_length={fft_length}")
        if mode not in MODES:
            raise ValueError(f"{name} layer: Output mode is invalid, it must be one of {', '.join(MODES)}. Received: mode={mode}")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(f"{name} layer: Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received scaling={scaling}")
        if padding not in ("valid", "same"):
            raise ValueError(f"{name} layer: Padding is invalid, it should be 'valid', 'same'. Received: padding={padding}")
        data_format = data_format or kt_config.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"{name} layer: invalid `data_format` {data_format!r}; expected 'channels_last' or 'channels_first'.")
        window_value = window.tolist() if isinstance(window, np.ndarray) else window
        make_window(window_value, frame_length, bool(periodic), name)  # refuse a bad window now
        super().__init__(**kwargs)
        self.window = window_value
        self.frame_length = frame_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.scaling = scaling
        self.periodic = bool(periodic)
        self.mode = mode
        self.frame_step = frame_step
        self._frame_step = frame_step or frame_length // 2
        self.fft_length = fft_length
        self.padding = padding
        self.expand_dims = bool(expand_dims)
        self.data_format = data_format
        self.input_spec = InputSpec(ndim=3)
        self._finish_init()

    @property
    def bins(self) -> int:
        return self._fft_length // 2 + 1

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        shape = (self.frame_length, 1, self.bins)
        specs = []
        for side in ("real", "imag"):
            if self.mode != ("imag" if side == "real" else "real"):
                init = _STFTInit(side, self.window, self.scaling, self.periodic)
                specs.append(WeightSpec(f"{side}_kernel", shape, init))
        return specs

    def input_shape_from_weights(self, shapes: Mapping[str, tuple[int, ...]]) -> Any:
        return (None, None, None)

    def _conv(self, signal: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """``(batch * channels, 1, time)`` -> ``(batch * channels, bins, frames)``."""
        weight = kernel.to(signal.dtype).permute(2, 1, 0)  # (bins, 1, frame_length)
        return F.conv1d(signal, weight, stride=self._frame_step)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.data_format == "channels_last":
            batch, time, channels = inputs.shape
            signal = inputs.transpose(1, 2)
        else:
            batch, channels, time = inputs.shape
            signal = inputs
        signal = signal.reshape(-1, 1, time)
        if self.padding == "same":
            signal = F.pad(signal, same_padding(time, self.frame_length, self._frame_step, 1))
        real = self._conv(signal, self.real_kernel) if self.mode != "imag" else None
        imag = self._conv(signal, self.imag_kernel) if self.mode != "real" else None
        if self.mode == "real":
            out = real
        elif self.mode == "imag":
            out = imag
        elif self.mode == "angle":
            out = torch.atan2(imag, real)
        elif self.mode == "stft":
            out = torch.cat([real, imag], dim=1)
        else:
            power = real.square() + imag.square()
            if self.mode == "psd":
                out = power + F.pad(power[:, 1:-1], (0, 0, 1, 1))
            else:
                eps = kt_config.epsilon()
                out = torch.sqrt(power.clamp(min=eps))
                if self.mode == "log":
                    out = torch.log(out.clamp(min=eps))
        return self._adjust(out.reshape(batch, channels, out.shape[1], out.shape[2]))

    def _adjust(self, out: torch.Tensor) -> torch.Tensor:
        """``(batch, channels, features, frames)`` -> Keras's output layout."""
        batch, channels, features, frames = out.shape
        if self.data_format == "channels_last":
            if self.expand_dims:
                return out.permute(0, 3, 2, 1).contiguous()
            return out.reshape(batch, channels * features, frames).transpose(1, 2).contiguous()
        if self.expand_dims:
            return out.transpose(2, 3).contiguous()
        return out.reshape(batch, channels * features, frames)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        if self.data_format == "channels_last":
            batch, time, channels = input_shape
        else:
            batch, channels, time = input_shape
        features = self.bins * (2 if self.mode == "stft" else 1)
        frames = conv_output_length(time, self.frame_length, self.padding, self._frame_step, 1)
        if self.expand_dims:
            if self.data_format == "channels_last":
                return (batch, frames, features, channels)
            return (batch, channels, frames, features)
        flat = None if channels is None else features * channels
        return (batch, frames, flat) if self.data_format == "channels_last" else (batch, flat, frames)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length, "window": self.window,
                "periodic": self.periodic, "scaling": self.scaling, "padding": self.padding,
                "data_format": self.data_format, "expand_dims": self.expand_dims}

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"mode={self.mode!r}", f"frame_length={self.frame_length}",
                 f"frame_step={self._frame_step}", f"fft_length={self._fft_length}", f"window={self.window!r}"]
        return ", ".join(parts + self._repr_common())

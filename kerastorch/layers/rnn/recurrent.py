"""``SimpleRNN``, ``LSTM`` and ``GRU``: tf.keras's recurrent layers (``tf_keras/layers/rnn/{simple_rnn,lstm,gru}.py``,
Keras 3 alike), each an :class:`~.rnn.OwnCellRNN` over its cell (arguments, defaults and math are the cell's;
sequence handling is ``base_rnn``'s)."""
from __future__ import annotations

import dataclasses
from typing import Any

import torch

from ... import initializers
from ..._registry import LAYERS
from .rnn import OwnCellRNN
from .cells import GRUCell, LSTMCell, SimpleRNNCell, _UnitForgetBias

_COMMON = ("activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
           "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
           "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "seed")


@LAYERS.register()
class SimpleRNN(OwnCellRNN):
    """Fully-connected RNN: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Fused torch kernel for ``activation`` ``tanh`` or ``relu``."""

    _cell_class = SimpleRNNCell
    _cell_args = _COMMON


@LAYERS.register()
class LSTM(OwnCellRNN):
    """Long Short-Term Memory (Hochreiter 1997), Keras gates ``[i, f, c, o]``; states ``[h, c]``.

    Fused torch kernel (``torch._VF.lstm``) with ``tanh``/``sigmoid`` activations."""

    _cell_class = LSTMCell
    _cell_args = _COMMON + ("recurrent_activation", "unit_forget_bias")


@LAYERS.register()
class GRU(OwnCellRNN):
    """Gated Recurrent Unit, Keras gates ``[z, r, h]``; ``reset_after=True`` (default, CuDNN-compatible, bias
    ``(2, 3U)``) or ``False`` (reset before the recurrent matmul, bias ``(3U,)``).

    Fused torch kernel (``torch._VF.gru``) with ``tanh``/``sigmoid`` and ``reset_after=True``."""

    _cell_class = GRUCell
    _cell_args = _COMMON + ("recurrent_activation", "reset_after")


class _CuDNNWeights:
    """Keras's legacy ``CuDNNLSTM``/``CuDNNGRU`` (tf.keras 1.x / Keras 2): weights kept as the file holds them,
    in cuDNN's layout (per gate, the input kernel's memory in the transposed order, recurrent kernels
    transposed, input and recurrent biases as one vector), converted on each call into the plain layer's --
    exactly tf.keras's ``hdf5_format._convert_rnn_weights``; the computation is the LSTM / GRU(reset_after=True)
    with tanh/sigmoid that cuDNN runs. Configs have no activation or dropout arguments."""

    keras_sublayer_paths = None  # tf.keras names them lstm/kernel:0 (no cell scope)

    def _cudnn_init(self, kwargs: dict) -> dict:
        for key in ("activation", "recurrent_activation", "dropout", "recurrent_dropout", "use_bias", "unroll",
                    "reset_after", "implementation"):
            if key in kwargs:
                raise TypeError(f"Keyword argument not understood: {key!r}")
        return kwargs

    def weight_specs(self, input_shape: Any) -> list:
        specs = super().weight_specs(input_shape)
        u, gates = self._cell.units, self._cell._gates
        bias = dataclasses.replace(specs[2], shape=(2 * gates * u,), initializer=self._cudnn_bias_initializer())
        return [dataclasses.replace(specs[0], storage_order=None), dataclasses.replace(specs[1], storage_order=None), bias]

    def _cudnn_bias_initializer(self) -> Any:
        return self._cell.bias_initializer

    def _step_weights(self):
        u, gates = self._cell.units, self._cell._gates
        features = self.kernel.shape[0]
        # input kernel, per gate: the (in, U) block's memory read as (U, in) is the plain layer's torch layout
        kernel = torch.cat([k.contiguous().reshape(u, features) for k in self.kernel.split(u, dim=1)])
        # recurrent kernel, per gate: the Keras block is the file's block transposed; torch stores it transposed
        recurrent = torch.cat(list(self.recurrent_kernel.split(u, dim=1)))
        return kernel, recurrent, self._plain_bias(self.bias, gates * u)

    def get_config(self) -> dict:
        config = super().get_config()
        for key in ("activation", "recurrent_activation", "use_bias", "dropout", "recurrent_dropout", "implementation",
                    "unroll", "reset_after"):
            config.pop(key, None)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Any:
        return cls(**config)


@LAYERS.register()
class CuDNNLSTM(_CuDNNWeights, LSTM):
    """Legacy ``CuDNNLSTM``: an ``LSTM`` (tanh/sigmoid) whose weights are in cuDNN's layout, bias ``(8U,)``."""

    def __init__(self, units: int, **kwargs: Any):
        super().__init__(units, **self._cudnn_init(kwargs))

    def _cudnn_bias_initializer(self) -> Any:
        base = _UnitForgetBias(self._cell.bias_initializer, self._cell.units) if self._cell.unit_forget_bias else (
            self._cell.bias_initializer)
        return _Doubled(base)

    @staticmethod
    def _plain_bias(bias: torch.Tensor, n: int) -> torch.Tensor:
        return bias[:n] + bias[n:]


@LAYERS.register()
class CuDNNGRU(_CuDNNWeights, GRU):
    """Legacy ``CuDNNGRU``: a ``GRU(reset_after=True)`` (tanh/sigmoid) in cuDNN's layout, bias ``(6U,)``."""

    def __init__(self, units: int, **kwargs: Any):
        super().__init__(units, **self._cudnn_init(kwargs))

    @staticmethod
    def _plain_bias(bias: torch.Tensor, n: int) -> torch.Tensor:
        return bias.reshape(2, n)


class _Doubled(initializers.Initializer):
    """cuDNN's bias pair: Keras's CuDNNLSTM initializes the input half and zeros the recurrent half."""

    def __init__(self, base: Any):
        self.base = base

    def __call__(self, shape, dtype=None, device=None):
        n = shape[0] // 2
        return torch.cat([torch.as_tensor(self.base((n,), dtype=dtype, device=device)),
                          torch.zeros(n, dtype=dtype, device=device)])

    def get_config(self) -> dict:
        return {}

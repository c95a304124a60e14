"""``SimpleRNN``, ``LSTM`` and ``GRU``: tf.keras's recurrent layers (``tf_keras/layers/rnn/{simple_rnn,lstm,gru}.py``,
Keras 3 alike), each an :class:`~.base_rnn.OwnCellRNN` over its cell (arguments, defaults and math are the cell's;
sequence handling is ``base_rnn``'s)."""
from __future__ import annotations

from typing import Any

from ..._registry import LAYERS
from .base_rnn import OwnCellRNN
from .cells import GRUCell, LSTMCell, SimpleRNNCell

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

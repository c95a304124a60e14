"""The layer contract (tests/layer_contract.py) on the recurrent layers that own their weights: SimpleRNN, LSTM,
GRU (both reset_after), ConvLSTM2D; masks, dropout, states and wrappers are covered by test_rnn_parity.py and
test_rnn_semantics.py. ``zero_copy`` is off:
torch's fused kernels (``aten::lstm``/``gru``/``rnn_tanh``) transpose a batch-first input inside themselves, as
they do under ``torch.nn.LSTM(batch_first=True)``; the step loop slices one step at a time."""
from __future__ import annotations

from layer_contract import CHECKS, LayerCase, parametrize_contract, run_check

from kerastorch.layers import GRU, LSTM, ConvLSTM2D, SimpleRNN

CASES = [
    LayerCase(SimpleRNN, dict(units=3), (2, 4, 5), id="SimpleRNN", expected_output_shape=(2, 3), expected_num_weights=3, zero_copy=False),
    LayerCase(LSTM, dict(units=3, return_sequences=True), (2, 4, 5), id="LSTM-seq", expected_output_shape=(2, 4, 3),
              expected_num_weights=3, zero_copy=False),
    LayerCase(LSTM, dict(units=2, activation="relu", recurrent_activation="hard_sigmoid", use_bias=False,
                         kernel_regularizer="l2", recurrent_constraint="max_norm"), (2, 3, 4),
              id="LSTM-loop-regularized", expected_output_shape=(2, 2), expected_num_weights=2, zero_copy=False),
    LayerCase(GRU, dict(units=3), (2, 4, 5), id="GRU", expected_output_shape=(2, 3), expected_num_weights=3, zero_copy=False),
    LayerCase(GRU, dict(units=3, reset_after=False, return_sequences=True, go_backwards=True), (2, 4, 5),
              id="GRU-reset_before-backwards", expected_output_shape=(2, 4, 3), expected_num_weights=3,
              zero_copy=False),
]
# ConvLSTM2D names `activation` in its signature (tf.keras's), but applies it inside the gates, not to the output:
# the plain-callable activation checks (output == activation(linear layer's output)) do not describe it.
CONV_CASES = [LayerCase(ConvLSTM2D, dict(filters=2, kernel_size=3, padding="same"), (2, 3, 4, 4, 2), id="ConvLSTM2D",
                        expected_output_shape=(2, 4, 4, 2), expected_num_weights=3, zero_copy=False)]
CONV_CHECKS = [name for name in CHECKS if not name.startswith("activation_callable")]


@parametrize_contract(CASES)
def test_layer_contract(case, check):
    run_check(case, check)


@parametrize_contract(CONV_CASES, only=CONV_CHECKS)
def test_conv_lstm_layer_contract(case, check):
    run_check(case, check)

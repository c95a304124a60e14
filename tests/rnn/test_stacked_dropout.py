"""RNN over StackedRNNCells in training: Keras's per-sequence dropout masks, one input mask and one recurrent
mask per cell for the whole sequence (Keras's RNN resets each cell's cached masks once per call), not a new
draw at every step."""
from __future__ import annotations

import torch

import kerastorch.layers as L
from kerastorch.layers.rnn import base_rnn


def test_one_dropout_mask_per_cell_per_sequence(monkeypatch):
    torch.manual_seed(0)
    cells = [L.LSTMCell(4, dropout=0.5, recurrent_dropout=0.3), L.GRUCell(3, dropout=0.2)]
    layer = L.RNN(cells, return_sequences=True)
    x = torch.randn(2, 7, 5)
    layer(x)
    drawn = []

    def recording(like, rate):
        m = (torch.rand(like.shape) > rate).to(like.dtype) / (1 - rate)
        drawn.append((tuple(like.shape), rate, m))
        return m

    monkeypatch.setattr(base_rnn, "dropout_mask", recording)
    y = layer(x, training=True)
    # LSTMCell: input (2, 5) and recurrent (2, 4) masks; GRUCell: input (2, 4) mask; 7 steps, drawn once.
    assert [(s, r) for s, r, _ in drawn] == [((2, 5), 0.5), ((2, 4), 0.3), ((2, 4), 0.2)]
    # The same masks applied by hand at every step give the same sequence.
    (_, _, m_in0), (_, _, m_rec0), (_, _, m_in1) = drawn
    lstm, gru = layer.cell.cells
    h0, c0, h1 = torch.zeros(2, 4), torch.zeros(2, 4), torch.zeros(2, 3)
    k0, rk0, b0 = lstm.step_weights()
    k1, rk1, b1 = gru.step_weights()
    outs = []
    for t in range(7):
        o0, (h0, c0) = lstm.step(lstm.project_inputs(x[:, t] * m_in0, k0, b0), [h0, c0], rk0, b0, m_rec0)
        o1, (h1,) = gru.step(gru.project_inputs(o0 * m_in1, k1, b1), [h1], rk1, b1, None)
        outs.append(o1)
    torch.testing.assert_close(y, torch.stack(outs, 1))
    # Inference: no dropout at all.
    drawn.clear()
    layer.eval()(x)
    assert drawn == []

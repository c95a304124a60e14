"""A recurrent layer's ``initial_state`` is checked when the graph is built (Keras checks it against the cell's
state sizes when the layer is called on symbolic tensors), so a damaged or hand-edited model file with an extra or
wrong-sized state tensor is refused at load, naming the layer, not at the first call (fuzzer mutant: an extra
tensor in the inbound node of a seq2seq decoder LSTM)."""
from __future__ import annotations

import pytest
import torch

import kerastorch as kt
import kerastorch.layers as L


def test_incompatible_initial_state_is_refused_at_construction():
    x, h, c = kt.models.Input((5, 3)), kt.models.Input((4,)), kt.models.Input((4,))
    with pytest.raises(ValueError, match=r'Layer "dec" \(LSTM\): an `initial_state` .* expected 2 state tensor\(s\).*received 3'):
        L.LSTM(4, name="dec")(x, initial_state=[h, c, kt.models.Input((4, 2))])
    with pytest.raises(ValueError, match=r'Layer "gru" \(GRU\): an `initial_state` .*received 1 of shapes \[\(None, 5\)\]'):
        L.GRU(4, name="gru")([x, kt.models.Input((5,))])
    out = L.LSTM(4, name="ok")(x, initial_state=[h, c])  # states that fit are accepted
    model = kt.models.Model([x, h, c], out)
    assert model([torch.randn(2, 5, 3), torch.zeros(2, 4), torch.zeros(2, 4)]).shape == (2, 4)

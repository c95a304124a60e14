"""An output shape of unknown dimensions only (``(None,)``, ``(None, None)``) is one shape, not a list of unknown
shapes: IntegerLookup on a rank-1 input and TextVectorization (int mode, no output_sequence_length) give one
KerasTensor in a Functional model, as Keras does."""
from __future__ import annotations

import torch

import kerastorch as kt
import kerastorch.layers as L


def test_unknown_dims_output_is_one_tensor():
    x = kt.models.Input(shape=(), dtype="int64")
    y = L.IntegerLookup(vocabulary=[1, 2, 3])(x)
    assert y.shape == (None,)
    assert kt.models.Model(x, y)(torch.tensor([1, 3, 7])).tolist() == [1, 3, 0]
    s = kt.models.Input(shape=(1,), dtype="string")
    t = L.TextVectorization(vocabulary=["a", "b"])(s)
    assert t.shape == (None, None)
    assert kt.models.Model(s, t)([["a b c"], ["b"]]).tolist() == [[2, 3, 1], [3, 0, 0]]

"""The layer contract (tests/layer_contract.py) on Rescaling and Normalization (static and adaptable).

The adaptable Normalization's ``count`` is an int64 weight (tf.keras's and Keras 3's); the contract's
``weights_round_trip`` sets every weight to random floats and wants them back unchanged, which an integer
weight cannot give (-0.55 is stored as 0). That one check is replaced, for those cases, by
``test_normalization_weights_round_trip`` below (the same checks with an integral ``count``).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from layer_contract import CHECKS, LayerCase, contract_params, run_check

from kerastorch.layers import Normalization, Rescaling

CASES = [
    LayerCase(Rescaling, dict(scale=1.0 / 255), (2, 3, 4, 3), id="Rescaling", expected_output_shape=(2, 3, 4, 3),
              expected_num_weights=0, float_only=False),
    LayerCase(Rescaling, dict(scale=[0.5, 0.25, 2.0], offset=[0.1, 0.2, 0.3]), (2, 4, 3), id="Rescaling-per-channel",
              expected_output_shape=(2, 4, 3), expected_num_weights=0, float_only=False),
    LayerCase(Normalization, dict(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0]), (2, 4, 3), id="Normalization-static",
              expected_output_shape=(2, 4, 3), expected_num_weights=0, float_only=False),
    LayerCase(Normalization, dict(axis=None, mean=2.0, variance=4.0, invert=True), (2, 5), id="Normalization-invert",
              expected_output_shape=(2, 5), expected_num_weights=0, float_only=False),
]
ADAPTABLE = [  # an int64 `count` weight: see the module docstring
    LayerCase(Normalization, {}, (2, 4, 3), id="Normalization-adaptable", expected_output_shape=(2, 4, 3),
              expected_num_weights=3, float_only=False),
    LayerCase(Normalization, dict(axis=(1, 2)), (2, 3, 2), id="Normalization-axes", expected_output_shape=(2, 3, 2),
              expected_num_weights=3, float_only=False),
]
PARAMS = contract_params(CASES) + contract_params(ADAPTABLE, only=set(CHECKS) - {"weights_round_trip"})


@pytest.mark.parametrize("case,check", PARAMS)
def test_layer_contract(case, check):
    run_check(case, check)


@pytest.mark.parametrize("case", ADAPTABLE, ids=lambda c: c.id)
def test_normalization_weights_round_trip(case):
    """The contract's weights round trip with an integral ``count``: Keras order and shapes, set_weights builds
    an unbuilt layer, built and unbuilt layers then compute the same, wrong lengths are refused unchanged."""
    layer = case.built()
    assert layer.weight_names == ["mean", "variance", "count"]
    weights = layer.get_weights()
    assert [w.shape for w in weights] == [tuple(layer.weight_spec(n).shape) for n in layer.weight_names]
    assert weights[2].shape == () and weights[2].dtype == np.int64
    rng = np.random.default_rng(5)
    new = [rng.standard_normal(weights[0].shape).astype(np.float32),
           rng.uniform(0.5, 2.0, weights[1].shape).astype(np.float32), np.array(7, np.int64)]
    fresh = case.new()
    fresh.set_weights(new)
    assert fresh.built and not fresh.has_uninitialized_params()
    for a, b in zip(fresh.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    layer.set_weights(new)
    x = case.input()
    torch.testing.assert_close(fresh(x), layer(x))
    before = layer.get_weights()
    for bad in (new[:-1], new + [np.zeros((1,), np.float32)]):
        with pytest.raises(ValueError, match=layer.name):
            layer.set_weights(bad)
        assert all(np.array_equal(a, b) for a, b in zip(layer.get_weights(), before))

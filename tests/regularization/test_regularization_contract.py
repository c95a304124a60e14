"""The layer contract (tests/layer_contract.py) on the regularization layers.

The battery builds its layers in training mode (a fresh torch module) and compares calls with each
other (config and weight round trips, compile, training vs eval), so its cases are the configurations
that draw nothing in training: ``rate=0``, ``stddev=0``, ``rate=1`` for GaussianDropout and AlphaDropout
(the identity in tf.keras), and ActivityRegularization. Random training calls are covered by
test_regularization_properties.py (masks, statistics, gradients, ``torch.compile``).
"""
from __future__ import annotations

from layer_contract import LayerCase, parametrize_contract, run_check

from kerastorch.layers import (
    ActivityRegularization, AlphaDropout, Dropout, GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D,
    SpatialDropout3D,
)

# Dropout-like layers pass integer tensors through in inference (tf.keras does too): not float-only
OPEN = dict(expected_num_weights=0, float_only=False)

CASES = [
    LayerCase(Dropout, dict(rate=0.0), (2, 3, 4), id="Dropout-rate0", expected_output_shape=(2, 3, 4), **OPEN),
    LayerCase(Dropout, dict(rate=0.0, noise_shape=(None, 1, 4)), (2, 3, 4), id="Dropout-rate0-noise_shape",
              expected_output_shape=(2, 3, 4), **OPEN),
    LayerCase(SpatialDropout1D, dict(rate=0.0), (2, 5, 3), id="SpatialDropout1D-rate0", **OPEN),
    LayerCase(SpatialDropout2D, dict(rate=0.0, data_format="channels_first"), (2, 3, 4, 4), id="SpatialDropout2D-cf",
              **OPEN),
    LayerCase(SpatialDropout3D, dict(rate=0.0), (2, 2, 3, 2, 3), id="SpatialDropout3D-rate0", **OPEN),
    LayerCase(GaussianNoise, dict(stddev=0.0), (2, 3, 4), id="GaussianNoise-stddev0", **OPEN),
    LayerCase(GaussianDropout, dict(rate=0.0), (2, 3, 4), id="GaussianDropout-rate0", **OPEN),
    LayerCase(GaussianDropout, dict(rate=1.0), (2, 6), id="GaussianDropout-rate1", **OPEN),
    LayerCase(AlphaDropout, dict(rate=0.0), (2, 3, 4), id="AlphaDropout-rate0", **OPEN),
    LayerCase(AlphaDropout, dict(rate=1.0, noise_shape=(None, 1, 4)), (2, 3, 4), id="AlphaDropout-rate1", **OPEN),
    LayerCase(ActivityRegularization, dict(l1=0.1, l2=0.2), (2, 3, 4), id="ActivityRegularization",
              expected_output_shape=(2, 3, 4), expected_num_weights=0),
]


@parametrize_contract(CASES)
def test_layer_contract(case, check):
    run_check(case, check)

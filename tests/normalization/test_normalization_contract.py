"""The layer contract (tests/layer_contract.py) on the normalization layers: BatchNormalization (fused
channels_last and channels_first, rank 2/3, several axes, no affine), LayerNormalization (trailing and
non-trailing axes), GroupNormalization (channels_last/first) and UnitNormalization."""
from __future__ import annotations

from layer_contract import LayerCase, parametrize_contract, run_check

from kerastorch.layers import BatchNormalization, GroupNormalization, LayerNormalization, UnitNormalization

# BatchNormalization: training uses batch statistics, so its output depends on `training`
BN = dict(training_invariant=False, float_only=False)

CASES = [
    LayerCase(BatchNormalization, {}, (4, 3, 3, 2), id="BatchNormalization", expected_output_shape=(4, 3, 3, 2),
              expected_num_weights=4, **BN),
    LayerCase(BatchNormalization, dict(axis=1), (4, 2, 3, 3), id="BatchNormalization-axis1",
              expected_output_shape=(4, 2, 3, 3), expected_num_weights=4, **BN),
    LayerCase(BatchNormalization, dict(momentum=0.9, epsilon=1e-5), (6, 5), id="BatchNormalization-rank2",
              expected_output_shape=(6, 5), expected_num_weights=4, **BN),
    LayerCase(BatchNormalization, dict(axis=1, center=False), (4, 3, 5), id="BatchNormalization-rank3-axis1-nocenter",
              expected_output_shape=(4, 3, 5), expected_num_weights=3, **BN),
    LayerCase(BatchNormalization, dict(axis=[1, 3], scale=False), (4, 2, 3, 2), id="BatchNormalization-multi-axis",
              expected_output_shape=(4, 2, 3, 2), expected_num_weights=3, **BN),
    LayerCase(LayerNormalization, {}, (2, 3, 4), id="LayerNormalization", expected_output_shape=(2, 3, 4),
              expected_num_weights=2, float_only=False),
    LayerCase(LayerNormalization, dict(axis=[1, 2]), (2, 3, 4, 2), id="LayerNormalization-middle-axes",
              expected_output_shape=(2, 3, 4, 2), expected_num_weights=2, float_only=False),
    LayerCase(LayerNormalization, dict(axis=1, center=False, gamma_regularizer="l2"), (2, 5),
              id="LayerNormalization-nocenter-regularized", expected_output_shape=(2, 5), expected_num_weights=1,
              float_only=False),
    LayerCase(GroupNormalization, dict(groups=2), (2, 3, 3, 4), id="GroupNormalization",
              expected_output_shape=(2, 3, 3, 4), expected_num_weights=2),
    LayerCase(GroupNormalization, dict(groups=-1, axis=1), (2, 4, 3), id="GroupNormalization-axis1",
              expected_output_shape=(2, 4, 3), expected_num_weights=2),
    LayerCase(UnitNormalization, {}, (2, 3, 4), id="UnitNormalization", expected_output_shape=(2, 3, 4),
              expected_num_weights=0, float_only=False),
    LayerCase(UnitNormalization, dict(axis=[1, 2]), (2, 3, 4), id="UnitNormalization-axes",
              expected_output_shape=(2, 3, 4), expected_num_weights=0, float_only=False),
]


@parametrize_contract(CASES)
def test_layer_contract(case, check):
    run_check(case, check)

"""The layer contract (tests/layer_contract.py) on Attention (dot and concat, with key, dropout),
AdditiveAttention, RMSNormalization (trailing and middle axes) and the adaptive poolings (1-D to 3-D, average and max, both
data formats; every class is in the parity test)."""
from __future__ import annotations

from layer_contract import CHECKS, LayerCase, parametrize_contract, run_check

from kerastorch.layers import (
    AdaptiveAveragePooling2D, AdaptiveAveragePooling3D, AdaptiveMaxPooling1D, AdaptiveMaxPooling3D, AdditiveAttention, Attention, RMSNormalization,
)

QV = [(2, 3, 4), (2, 5, 4)]

CASES = [
    LayerCase(Attention, {}, QV, id="Attention", expected_output_shape=(2, 3, 4), expected_num_weights=0),
    LayerCase(AdditiveAttention, {}, QV, id="AdditiveAttention", expected_output_shape=(2, 3, 4),
              expected_num_weights=1),
    LayerCase(RMSNormalization, {}, (2, 3, 4), id="RMSNormalization", expected_output_shape=(2, 3, 4),
              expected_num_weights=1),
    LayerCase(RMSNormalization, dict(axis=[1, 2]), (2, 3, 4), id="RMSNormalization-axes",
              expected_output_shape=(2, 3, 4), expected_num_weights=1),
    # a middle axis: Keras multiplies the scale (4,) onto the last axis, as here
    LayerCase(RMSNormalization, dict(axis=1), (2, 4, 4), id="RMSNormalization-middle-axis",
              expected_output_shape=(2, 4, 4), expected_num_weights=1),
    LayerCase(AdaptiveMaxPooling1D, dict(output_size=3, data_format="channels_first"), (2, 3, 7),
              expected_output_shape=(2, 3, 3)),
    LayerCase(AdaptiveAveragePooling2D, dict(output_size=(2, 3)), (2, 5, 7, 3), expected_output_shape=(2, 2, 3, 3)),
    LayerCase(AdaptiveAveragePooling3D, dict(output_size=2, data_format="channels_first"), (2, 3, 4, 5, 3),
              expected_output_shape=(2, 3, 2, 2, 2)),
    # torch's 3-D adaptive pools write a channels-first output: the pooled output is copied to channels_last
    LayerCase(AdaptiveMaxPooling3D, dict(output_size=(1, 2, 3)), (2, 4, 5, 6, 3),
              expected_output_shape=(2, 1, 2, 3, 3), zero_copy=False),
]


@parametrize_contract(CASES)
def test_layer_contract(case, check):
    run_check(case, check)


# Attention's weights are 0-d: torch's weight_norm, spectral_norm and pruning do not take 0-d tensors
SCALAR_WEIGHTS = [LayerCase(Attention, dict(use_scale=True, score_mode="concat"), [(2, 3, 4), (2, 5, 6), (2, 5, 4)],
                            id="Attention-concat-key", expected_output_shape=(2, 3, 6), expected_num_weights=2)]


@parametrize_contract(SCALAR_WEIGHTS, only=[c for c in CHECKS if c not in ("weight_norm", "spectral_norm",
                                                                         "prune_l1_unstructured")])
def test_layer_contract_scalar_weights(case, check):
    run_check(case, check)

"""The layer contract (tests/layer_contract.py) on the core layers: Dense (ranks 2 to 4, no bias,
regularized/constrained, a callable activation), Activation, Identity and InputLayer-free Lambda.

InputLayer is not a computing layer (it only declares the model's input) and Lambda's config is refused on
purpose (tests/core/test_core_ported.py), so neither runs the round-trip battery."""
from __future__ import annotations

from layer_contract import LayerCase, parametrize_contract, run_check

from kerastorch.layers import Activation, Dense, Identity

CASES = [
    LayerCase(Dense, dict(units=3), (2, 4), id="Dense", expected_output_shape=(2, 3), expected_num_weights=2,
              float_only=False),
    LayerCase(Dense, dict(units=3, activation="relu"), (2, 5, 4), id="Dense-rank3-relu", expected_output_shape=(2, 5, 3),
              expected_num_weights=2, float_only=False),
    LayerCase(Dense, dict(units=2, use_bias=False), (2, 3, 3, 4), id="Dense-rank4-nobias",
              expected_output_shape=(2, 3, 3, 2), expected_num_weights=1, float_only=False),
    LayerCase(Dense, dict(units=3, kernel_regularizer="l2", bias_regularizer="l1", activity_regularizer="l2",
                          kernel_constraint="max_norm", bias_constraint="non_neg"), (2, 4),
              id="Dense-regularized", expected_output_shape=(2, 3), expected_num_weights=2, float_only=False),
    LayerCase(Activation, dict(activation="tanh"), (2, 3, 4), id="Activation-tanh", expected_output_shape=(2, 3, 4),
              expected_num_weights=0),
    LayerCase(Activation, dict(activation="softmax"), (2, 3, 4), id="Activation-softmax",
              expected_output_shape=(2, 3, 4), expected_num_weights=0),
    LayerCase(Activation, dict(activation="gelu"), (2, 5), id="Activation-gelu", expected_output_shape=(2, 5),
              expected_num_weights=0),
    # TF computes relu on integers (tf.keras's Activation('relu') takes an int32 tensor)
    LayerCase(Activation, dict(activation="relu"), (2, 3, 4), id="Activation-relu", expected_output_shape=(2, 3, 4),
              expected_num_weights=0, float_only=False),
    # Identity returns any tensor as it is (tf.keras's too, complex included)
    LayerCase(Identity, {}, (2, 3, 4), id="Identity", expected_output_shape=(2, 3, 4), expected_num_weights=0,
              float_only=False, accepts_complex=True),
]


@parametrize_contract(CASES)
def test_layer_contract(case, check):
    run_check(case, check)

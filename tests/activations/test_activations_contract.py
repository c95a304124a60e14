"""The layer contract (tests/layer_contract.py) on the activation layers' configurations that
tests/layers/test_contract.py does not run: PReLU (a learned weight), ReLU's other arguments, Softmax over
several axes and ThresholdedReLU/ELU/LeakyReLU on other ranks."""
from __future__ import annotations

from layer_contract import LayerCase, parametrize_contract, run_check

from kerastorch.layers import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU

CASES = [
    LayerCase(PReLU, {}, (2, 3, 4), id="PReLU", expected_output_shape=(2, 3, 4), expected_num_weights=1),
    LayerCase(PReLU, dict(shared_axes=[1, 2]), (2, 3, 4, 2), id="PReLU-shared_axes",
              expected_output_shape=(2, 3, 4, 2), expected_num_weights=1),
    LayerCase(PReLU, dict(alpha_regularizer="l2", alpha_constraint="non_neg", alpha_initializer="ones"), (2, 5),
              id="PReLU-regularized", expected_output_shape=(2, 5), expected_num_weights=1),
    LayerCase(ReLU, dict(threshold=0.5), (2, 3, 4, 2), id="ReLU-threshold", float_only=False,
              expected_output_shape=(2, 3, 4, 2), expected_num_weights=0),
    LayerCase(ReLU, dict(max_value=6.0), (2, 5), id="ReLU6", float_only=False, expected_output_shape=(2, 5),
              expected_num_weights=0),
    LayerCase(LeakyReLU, dict(negative_slope=0.1), (2, 3, 4, 2), id="LeakyReLU-keras3-arg",
              expected_output_shape=(2, 3, 4, 2), expected_num_weights=0),
    LayerCase(ELU, {}, (2, 5), id="ELU-rank2", expected_output_shape=(2, 5), expected_num_weights=0),
    LayerCase(Softmax, dict(axis=[1, 2]), (2, 3, 4), id="Softmax-axes", expected_output_shape=(2, 3, 4),
              expected_num_weights=0),
    LayerCase(Softmax, dict(axis=[-1]), (2, 3, 4, 2), id="Softmax-one-axis-list", expected_output_shape=(2, 3, 4, 2),
              expected_num_weights=0),
    LayerCase(ThresholdedReLU, {}, (2, 5), id="ThresholdedReLU-rank2", expected_output_shape=(2, 5),
              expected_num_weights=0),
]


@parametrize_contract(CASES)
def test_layer_contract(case, check):
    run_check(case, check)

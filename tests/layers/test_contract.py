"""Every layer runs the layer contract (tests/layer_contract.py): one line per configuration.

A new layer joins by adding a ``LayerCase``; each applicable check becomes its own test id,
``<case id>-<check>`` (e.g. ``Conv2D-same-strides2-zero_copy``). Shapes are tiny to keep it fast.
"""
from __future__ import annotations

from layer_contract import LayerCase, parametrize_contract, run_check

from kerastorch.layers import ELU, Conv1D, Conv2D, Conv3D, LeakyReLU, ReLU, Softmax, ThresholdedReLU

CASES = [
    # ----- convolutions (kernel + bias, or kernel only) -----
    LayerCase(Conv1D, dict(filters=3, kernel_size=2), (2, 5, 2), id="Conv1D",
              expected_output_shape=(2, 4, 3), expected_num_weights=2),
    LayerCase(Conv1D, dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2), (2, 6, 2), id="Conv1D-causal",
              expected_output_shape=(2, 6, 3), expected_num_weights=2),
    LayerCase(Conv2D, dict(filters=4, kernel_size=3), (2, 5, 5, 3), id="Conv2D",
              expected_output_shape=(2, 3, 3, 4), expected_num_weights=2),
    LayerCase(Conv2D, dict(filters=4, kernel_size=(2, 3), data_format="channels_first"), (2, 3, 5, 6),
              id="Conv2D-channels_first", expected_output_shape=(2, 4, 4, 4), expected_num_weights=2),
    LayerCase(Conv2D, dict(filters=4, kernel_size=3, padding="same", groups=2, use_bias=False), (2, 4, 4, 4),
              id="Conv2D-groups-nobias", expected_output_shape=(2, 4, 4, 4), expected_num_weights=1),
    # stride 2 on an even size: TF's 'same' split is (0, 1), an explicit pad
    LayerCase(Conv2D, dict(filters=3, kernel_size=3, strides=2, padding="same"), (2, 6, 6, 2),
              id="Conv2D-same-strides2", expected_output_shape=(2, 3, 3, 3), expected_num_weights=2),
    LayerCase(Conv3D, dict(filters=2, kernel_size=2), (2, 3, 3, 3, 2), id="Conv3D",
              expected_output_shape=(2, 2, 2, 2, 2), expected_num_weights=2),
    # ----- activation layers (no weights) -----
    # integer ReLU is well defined (torch.relu and tf.nn.relu take integer tensors): not float-only
    LayerCase(ReLU, dict(max_value=2.0, negative_slope=0.1), (2, 3, 4), id="ReLU", float_only=False,
              expected_output_shape=(2, 3, 4), expected_num_weights=0),
    LayerCase(LeakyReLU, dict(alpha=0.2), (2, 3, 4), id="LeakyReLU", expected_output_shape=(2, 3, 4), expected_num_weights=0),
    LayerCase(ELU, dict(alpha=0.5), (2, 3, 4), id="ELU", expected_output_shape=(2, 3, 4), expected_num_weights=0),
    LayerCase(Softmax, dict(axis=1), (2, 3, 4), id="Softmax", expected_output_shape=(2, 3, 4), expected_num_weights=0),
    LayerCase(ThresholdedReLU, dict(theta=0.5), (2, 3, 4), id="ThresholdedReLU",
              expected_output_shape=(2, 3, 4), expected_num_weights=0),
]


@parametrize_contract(CASES)
def test_layer_contract(case, check):
    run_check(case, check)

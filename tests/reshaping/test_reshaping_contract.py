"""The layer contract (tests/layer_contract.py) on Flatten, Reshape, Permute and RepeatVector.

Permute and RepeatVector return views on purpose (a permuted-stride view and an ``expand``): the contract's
zero-copy check also demands a contiguous output, which a view cannot be; their no-copy property is checked
in test_reshaping_layout.py instead. Flatten with ``channels_first`` moves the channels last first, which is a
copy for a contiguous NCHW input (tf.keras transposes too); the channels_last-memory-format case is checked
copy-free in test_reshaping_layout.py.
"""
from __future__ import annotations

from layer_contract import LayerCase, parametrize_contract, run_check

from kerastorch.layers import Flatten, Permute, RepeatVector, Reshape

CASES = [
    LayerCase(Flatten, {}, (2, 3, 4, 2), id="Flatten", expected_output_shape=(2, 24), expected_num_weights=0,
              float_only=False),
    LayerCase(Flatten, {}, (2, 5), id="Flatten-rank2", expected_output_shape=(2, 5), expected_num_weights=0,
              float_only=False),
    LayerCase(Flatten, dict(data_format="channels_first"), (2, 3, 4, 2), id="Flatten-channels_first",
              expected_output_shape=(2, 24), expected_num_weights=0, float_only=False, zero_copy=False),
    LayerCase(Reshape, dict(target_shape=(4, -1)), (2, 3, 4), id="Reshape", expected_output_shape=(2, 4, 3),
              expected_num_weights=0, float_only=False),
    LayerCase(Reshape, dict(target_shape=(2, 3, 2)), (2, 12), id="Reshape-up", expected_output_shape=(2, 2, 3, 2),
              expected_num_weights=0, float_only=False),
    LayerCase(Permute, dict(dims=(2, 1)), (2, 3, 4), id="Permute", expected_output_shape=(2, 4, 3),
              expected_num_weights=0, float_only=False, zero_copy=False),
    LayerCase(Permute, dict(dims=(3, 1, 2)), (2, 3, 4, 2), id="Permute-to-channels_first",
              expected_output_shape=(2, 2, 3, 4), expected_num_weights=0, float_only=False, zero_copy=False),
    LayerCase(RepeatVector, dict(n=3), (2, 4), id="RepeatVector", expected_output_shape=(2, 3, 4),
              expected_num_weights=0, float_only=False, zero_copy=False),
]


@parametrize_contract(CASES)
def test_layer_contract(case, check):
    run_check(case, check)

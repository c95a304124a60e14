"""Every pooling class runs the layer contract (tests/layer_contract.py), one line per configuration.

Kept beside the family until the lead moves these rows into tests/layers/test_contract.py. The configurations
cover each plan branch: symmetric 'same', ceil_mode (stride > 1, odd total), the stride-1 even-pool slice,
'valid', channels_first, and 3-D average with a window larger than a dim (the explicit-pad fallback).
"""
from __future__ import annotations

from layer_contract import LayerCase, parametrize_contract, run_check

from kerastorch.layers import (
    AveragePooling1D, AveragePooling2D, AveragePooling3D, GlobalAveragePooling1D, GlobalAveragePooling2D,
    GlobalAveragePooling3D, GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, MaxPooling1D, MaxPooling2D,
    MaxPooling3D,
)

CASES = [
    LayerCase(MaxPooling1D, dict(pool_size=2), (2, 5, 3), id="MaxPooling1D", expected_output_shape=(2, 2, 3),
              expected_num_weights=0),
    LayerCase(MaxPooling1D, dict(pool_size=3, strides=2, padding="same", data_format="channels_first"), (2, 3, 6),
              id="MaxPooling1D-same-cf", expected_output_shape=(2, 3, 3), expected_num_weights=0),
    LayerCase(AveragePooling1D, dict(pool_size=3, strides=2, padding="same"), (2, 6, 3), id="AveragePooling1D-same",
              expected_output_shape=(2, 3, 3), expected_num_weights=0),
    LayerCase(MaxPooling2D, dict(pool_size=3, strides=2, padding="same"), (2, 6, 5, 3), id="MaxPooling2D-same-strides2",
              expected_output_shape=(2, 3, 3, 3), expected_num_weights=0),
    LayerCase(MaxPooling2D, dict(pool_size=(2, 3), data_format="channels_first"), (2, 3, 5, 6), id="MaxPooling2D-cf",
              expected_output_shape=(2, 3, 2, 2), expected_num_weights=0),
    LayerCase(AveragePooling2D, dict(pool_size=2), (2, 5, 4, 3), id="AveragePooling2D", expected_output_shape=(2, 2, 2, 3),
              expected_num_weights=0),
    LayerCase(AveragePooling2D, dict(pool_size=3, strides=1, padding="same"), (2, 4, 4, 2), id="AveragePooling2D-same-strides1",
              expected_output_shape=(2, 4, 4, 2), expected_num_weights=0),
    # stride 1 with an even pool: the output is a slice of torch's (a view, not contiguous): no zero-copy claim
    LayerCase(MaxPooling2D, dict(pool_size=2, strides=1, padding="same"), (2, 4, 5, 2), id="MaxPooling2D-same-even-strides1",
              expected_output_shape=(2, 4, 5, 2), expected_num_weights=0, zero_copy=False),
    LayerCase(MaxPooling3D, dict(pool_size=2, strides=2, padding="same"), (2, 3, 4, 5, 2), id="MaxPooling3D-same",
              expected_output_shape=(2, 2, 2, 3, 2), expected_num_weights=0),
    # torch's CPU avg_pool3d copies a channels_last_3d input itself (hand-written torch too): no zero-copy claim
    LayerCase(AveragePooling3D, dict(pool_size=2), (2, 4, 4, 4, 2), id="AveragePooling3D", expected_output_shape=(2, 2, 2, 2, 2),
              expected_num_weights=0, zero_copy=False),
    LayerCase(AveragePooling3D, dict(pool_size=(2, 4, 3), strides=(1, 2, 3), padding="same", data_format="channels_first"),
              (2, 2, 3, 3, 7), id="AveragePooling3D-window-larger-than-input-cf", expected_output_shape=(2, 2, 3, 2, 3),
              expected_num_weights=0, zero_copy=False),
    # global max: torch's amax backward (TF's even split between tied maxima) converts its bool mask of the
    # maxima to the input dtype (aten::to copies; hand-written x.amax(dims) does the same): no zero-copy claim
    LayerCase(GlobalMaxPooling1D, dict(), (2, 5, 3), id="GlobalMaxPooling1D", expected_output_shape=(2, 3),
              expected_num_weights=0, zero_copy=False),
    LayerCase(GlobalAveragePooling1D, dict(keepdims=True), (2, 5, 3), id="GlobalAveragePooling1D-keepdims",
              expected_output_shape=(2, 1, 3), expected_num_weights=0),
    LayerCase(GlobalMaxPooling2D, dict(data_format="channels_first"), (2, 3, 4, 5), id="GlobalMaxPooling2D-cf",
              expected_output_shape=(2, 3), expected_num_weights=0, zero_copy=False),
    LayerCase(GlobalAveragePooling2D, dict(), (2, 4, 5, 3), id="GlobalAveragePooling2D", expected_output_shape=(2, 3),
              expected_num_weights=0),
    LayerCase(GlobalMaxPooling3D, dict(keepdims=True), (2, 2, 3, 4, 3), id="GlobalMaxPooling3D-keepdims",
              expected_output_shape=(2, 1, 1, 1, 3), expected_num_weights=0, zero_copy=False),
    LayerCase(GlobalAveragePooling3D, dict(data_format="channels_first"), (2, 3, 2, 3, 4), id="GlobalAveragePooling3D-cf",
              expected_output_shape=(2, 3), expected_num_weights=0),
]


@parametrize_contract(CASES)
def test_pooling_contract(case, check):
    run_check(case, check)

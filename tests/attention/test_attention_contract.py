"""The layer contract battery (tests/layer_contract.py) on EinsumDense, and MultiHeadAttention through a wrapper
module taking one list input (the battery's calling convention): building, configs, weights round trips, torch
citizenship (pickle, meta device, float64, optimizers, compile fullgraph, no hidden copies), errors."""
from __future__ import annotations

from typing import Any

import pytest

from kerastorch.layers import EinsumDense
from layer_contract import LayerCase, parametrize_contract, run_check

CASES = [
    LayerCase(EinsumDense, dict(equation="abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de"), (2, 4, 5),
              expected_output_shape=(2, 4, 2, 3), expected_num_weights=2, float_only=False),
    LayerCase(EinsumDense, dict(equation="...b,bc->...c", output_shape=6, activation="relu"), (2, 3, 5),
              expected_output_shape=(2, 3, 6), expected_num_weights=1, float_only=False),
    # an equation that permutes the output axes: the matmul computes (a, b, d); writing (a, d, b) is one copy
    # that the equation itself asks for (Keras's einsum makes it too), so the no-hidden-copy check is off
    LayerCase(EinsumDense, dict(equation="abc,cd->adb", output_shape=(4, None), bias_axes="d"), (2, 3, 5),
              expected_output_shape=(2, 4, 3), expected_num_weights=2, float_only=False, zero_copy=False),
]


@parametrize_contract(CASES)
def test_einsum_dense_contract(case: Any, check: str) -> None:
    run_check(case, check)

"""Merging layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot) against cases recorded from real tf.keras 2.21.

Outputs, gradients, weights, compute_output_shape, tf.keras's get_config and losses
(compat_fixtures/gen/merging.py); error parity; Keras 3's configs load through from_config.
"""
from __future__ import annotations

import pytest
import torch

from kt_testing import tolerance
from layer_parity import Family


def _tolerance(case: dict) -> float:
    # tf.keras's float32 layers cast float64 inputs to float32 (autocast); a kerastorch weight-free layer keeps
    # float64 (README, deliberate differences), so those cases compare at the recorded float32 precision
    return tolerance(torch.float32)[0] if case["output_dtype"] == "float32" else 0.0


FAMILY = Family(["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot"],
                tolerance=_tolerance)


@pytest.mark.parametrize("case", FAMILY.cases, ids=FAMILY.id)
def test_matches_tf_keras(case):
    FAMILY.check_case(case)


@pytest.mark.parametrize("case", FAMILY.keras3_cases, ids=FAMILY.id)
def test_keras3_config_loads(case):
    FAMILY.check_keras3_config(case)


@pytest.mark.parametrize("case", FAMILY.errors, ids=FAMILY.id)
def test_error_parity(case):
    """tf.keras's errors (a ValueError naming the layer); what tf.keras accepts is accepted."""
    if case["keras_error_type"] is None:
        FAMILY.check_accepted(case)
    else:
        FAMILY.check_error(case)

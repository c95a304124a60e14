"""Core layers (Dense, Activation, Identity, InputLayer) against cases recorded from real tf.keras 2.21.

Outputs, gradients, weights, compute_output_shape, tf.keras's get_config and losses
(compat_fixtures/gen/core.py); error parity; Keras 3's configs load through from_config.
"""
from __future__ import annotations

import pytest
import torch

from kt_testing import tolerance
from layer_parity import Family


def _tolerance(case: dict) -> float:
    # a float32 layer casts float64 inputs to float32 (tf.keras's autocast): compare at float32 precision
    if case["output_dtype"] == "float32":
        return tolerance(torch.float32)[0]
    # tf.nn.gelu casts its 0.7071067811865476 constant through float32 first (see the conv family tests)
    if case["dtype"] == "float64" and case["args"].get("activation") == "gelu":
        return 1e-7
    return 0.0


FAMILY = Family(["Dense", "Activation", "Identity", "InputLayer"], tolerance=_tolerance)


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

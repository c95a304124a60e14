"""ReLU etc against cases recorded from real tf.keras 2.21
(compat_fixtures/gen/reshaping.py): outputs, gradients, compute_output_shape, get_config; error parity;
Keras 3's configs load through from_config; the Conv2D -> Flatten -> Dense model takes Keras weights unchanged."""
from __future__ import annotations

import pytest

import torch

from kt_testing import tolerance
from layer_parity import Family


def _tolerance(case: dict) -> float:
    # a float32 layer (tf.keras's default dtype policy) computes float64 inputs in float32: compare at the
    # recorded output's precision
    return tolerance(torch.float32)[0] if case["output_dtype"] == "float32" else 0.0

FAMILY = Family(["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "ThresholdedReLU"], tolerance=_tolerance)


@pytest.mark.parametrize("case", FAMILY.cases, ids=FAMILY.id)
def test_matches_tf_keras(case):
    FAMILY.check_case(case)


@pytest.mark.parametrize("case", FAMILY.keras3_cases, ids=FAMILY.id)
def test_keras3_config_loads(case):
    FAMILY.check_keras3_config(case)


# tf.keras accepts these and fails later with a raw error; kerastorch refuses them at once, as Keras 3 does
# (its ValueError's wording is in the fixture). See the README's deliberate differences.
REFUSED_EARLY = {
    # tf.keras stores the string as the regularizer and fails at the first call ("'str' object is not callable")
    ("PReLU", "init", "alpha_regularizer"),
}


def _refused_early(case: dict) -> bool:
    return any(case["class"] == cls and case["kind"] == kind and key in case["args"] for cls, kind, key in REFUSED_EARLY)


@pytest.mark.parametrize("case", FAMILY.errors, ids=FAMILY.id)
def test_error_parity(case):
    """tf.keras's ValueErrors with its words; its other errors as ValueErrors naming the layer; what it
    accepts is accepted (with its output shape)."""
    if _refused_early(case):
        assert case["keras_error_type"] is None and case["keras3_error_type"] == "ValueError"
        with pytest.raises(ValueError, match=case["args"]["name"]) as err:
            FAMILY.stage(case)
        assert "regularizer" in str(err.value) and "not_a_regularizer" in str(err.value)
    elif case["keras_error_type"] is None:
        FAMILY.check_accepted(case)
    else:
        FAMILY.check_error(case)


@pytest.mark.parametrize("cls", FAMILY.classes)
def test_fixture_coverage(cls):
    """Every class is recorded in at least 10 configurations, float64 ones among them, with error cases."""
    cases = [c for c in FAMILY.cases if c["class"] == cls]
    assert len(cases) >= 10
    assert any(c["dtype"] == "float64" for c in cases)
    assert [e for e in FAMILY.errors if e["class"] == cls]

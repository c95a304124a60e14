"""Rescaling, Normalization against cases recorded from real tf.keras 2.21."""
from __future__ import annotations

import pytest
import torch

from kt_testing import tolerance
from layer_parity import Family


def _tolerance(case: dict) -> float:
    return tolerance(torch.float32)[0] if case["output_dtype"] == "float32" else 0.0


class PreprocessingFamily(Family):
    def tensors(self, case: dict) -> dict[str, torch.Tensor]:
        # the recorder's np.ascontiguousarray stores Normalization's 0-d `count` as shape (1,): give the
        # recorded weights back their recorded Keras shapes (case["weight_shapes"])
        T = dict(super().tensors(case))
        for name, shape in zip(case["weight_names"], case["weight_shapes"]):
            for key in (f"{case['id']}.weight.{name}", f"{case['id']}.after.{name}"):
                if key in T:
                    T[key] = T[key].reshape(shape)
        return T


FAMILY = PreprocessingFamily(["Rescaling", "Normalization"], tolerance=_tolerance)


@pytest.mark.parametrize("case", FAMILY.cases, ids=FAMILY.id)
def test_matches_tf_keras(case):
    FAMILY.check_case(case)


@pytest.mark.parametrize("case", FAMILY.keras3_cases, ids=FAMILY.id)
def test_keras3_config_loads(case):
    FAMILY.check_keras3_config(case)


@pytest.mark.parametrize("case", FAMILY.errors, ids=FAMILY.id)
def test_error_parity(case):
    if case["keras_error_type"] is None:
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

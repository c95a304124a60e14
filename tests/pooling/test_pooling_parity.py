"""Pooling layers against the cases recorded from real tf.keras / Keras 3 (compat_fixtures/gen/pooling.py)."""
from __future__ import annotations

import pytest
from layer_parity import Family, keras_core

CLASSES = [f"{kind}{rank}D" for kind in ("MaxPooling", "AveragePooling", "GlobalMaxPooling", "GlobalAveragePooling")
           for rank in (1, 2, 3)]
FAMILY = Family(CLASSES)

# tf.keras's message offers explicit padding lists, which kerastorch refuses (README, deliberate differences):
# the rest of the message is compared
_LIST_PADDING = ('The `padding` argument must be a list/tuple or one of "valid", "same"',
                 'The `padding` argument must be one of "valid", "same"')


def _core(message: str) -> str:
    return keras_core(message).replace(*_LIST_PADDING)


@pytest.mark.parametrize("case", FAMILY.cases, ids=FAMILY.id)
def test_matches_tf_keras(case):
    FAMILY.check_case(case)


@pytest.mark.parametrize("case", FAMILY.keras3_cases, ids=FAMILY.id)
def test_keras3_config_loads_and_computes_the_same(case):
    FAMILY.check_keras3_config(case)


@pytest.mark.parametrize("case", FAMILY.value_errors, ids=FAMILY.id)
def test_tf_keras_value_errors(case):
    FAMILY.check_error(case, core=_core)


@pytest.mark.parametrize("case", FAMILY.other_errors, ids=FAMILY.id)
def test_tf_keras_other_errors_are_value_errors_naming_the_layer(case):
    FAMILY.check_error(case)


def refused_reason(case: dict) -> str | None:
    """Why kerastorch refuses what tf.keras accepts (README, deliberate differences), or None."""
    shape = case.get("keras_output_shape")
    if case["kind"] == "compute_output_shape" and shape is not None and any(d is not None and d < 0 for d in shape):
        return "a negative output size (tf.keras's compute_output_shape answers it)"
    if case["kind"] == "build" and len(case["input_shapes"][0]) != int(case["class"][-2]) + 2:
        return "a build shape of the wrong rank (tf.keras's pooling build checks nothing; the rank is checked at the call)"
    return None


@pytest.mark.parametrize("case", FAMILY.accepted, ids=FAMILY.id)
def test_what_tf_keras_accepts(case):
    if refused_reason(case) is None:
        FAMILY.check_accepted(case)
        return
    with pytest.raises(ValueError, match=case["args"]["name"]):
        FAMILY.stage(case)


def test_fixture_counts():
    """The recorded coverage the task asks for: >= 15 local / >= 10 global configs per class, errors for each."""
    for cls in CLASSES:
        cases = [c for c in FAMILY.cases if c["class"] == cls]
        assert len(cases) >= (10 if cls.startswith("Global") else 15), cls
        assert {c["args"].get("data_format", "channels_last") for c in cases} == {"channels_first", "channels_last"}
        if not cls.startswith("Global"):
            assert {c["args"].get("padding", "valid").lower() for c in cases} == {"valid", "same"}, cls
        assert sum(c["class"] == cls for c in FAMILY.errors) >= 5, cls

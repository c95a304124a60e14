"""Regularization layers against real tf.keras 2.21 (and Keras 3) fixtures (compat_fixtures/gen/regularization.py).

The recorded calls are the deterministic ones (inference, ``rate=0``/``stddev=0`` training calls, the
``rate`` values tf.keras turns into the identity, ActivityRegularization's losses): outputs, input
gradients, compute_output_shape, get_config and losses. Random training behaviour is tested by
properties in test_regularization_properties.py.
"""
from __future__ import annotations

import pytest
import torch

import kerastorch.layers as L
from kt_testing import jsonable, load_json
from layer_parity import DTYPES, Family, keras_core

CLASSES = ["Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
           "AlphaDropout", "ActivityRegularization"]
FAMILY = Family(CLASSES)
TRAINING_ERRORS = load_json("regularization_training_errors.json")


def _bare(args: dict) -> dict:
    return {k: v for k, v in args.items() if k != "name"}


def test_every_class_has_enough_fixtures():
    for cls in CLASSES:
        assert sum(c["class"] == cls for c in FAMILY.cases) >= 10, cls
        assert sum(c["class"] == cls for c in FAMILY.errors) >= 5, cls


@pytest.mark.parametrize("case", FAMILY.cases, ids=FAMILY.id)
def test_matches_tf_keras(case):
    if case["class"] == "AlphaDropout" and case["args"].get("noise_shape") is not None:
        # Deliberate: tf.keras's AlphaDropout.get_config drops noise_shape (its round trip loses it); ours keeps it.
        assert "noise_shape" not in case["config"]
        case = {**case, "config": {**case["config"], "noise_shape": case["args"]["noise_shape"]}}
    if case["class"] in ("SpatialDropout2D", "SpatialDropout3D"):
        # Deliberate: tf.keras's config omits data_format (a channels_first layer comes back channels_last);
        # ours keeps it, as Keras 3's does.
        assert "data_format" not in case["config"]
        case = {**case, "config": {**case["config"], "data_format": case["args"].get("data_format", "channels_last")}}
    y = FAMILY.check_case(case)
    if case["training"] is False or case["group"] in ("rate0", "stddev0", "rate1"):
        # deterministic calls are the identity in tf.keras; ours hands back the input tensor itself
        assert torch.equal(y, FAMILY.inputs(case))


@pytest.mark.parametrize("case", FAMILY.keras3_cases, ids=FAMILY.id)
def test_keras3_config_loads(case):
    FAMILY.check_keras3_config(case)


@pytest.mark.parametrize("case", FAMILY.value_errors, ids=FAMILY.id)
def test_value_errors(case):
    FAMILY.check_error(case)


@pytest.mark.parametrize("case", FAMILY.other_errors, ids=FAMILY.id)
def test_other_errors(case):
    if case["keras_error_type"] == "TypeError" and case["kind"] == "init":
        # tf.keras's unknown/duplicate keyword arguments are TypeErrors; the shared Layer base keeps the type
        with pytest.raises(TypeError) as err:
            FAMILY.stage(case)
        unknown = [k for k in _bare(case["args"]) if k not in ("rate", "l1", "l2", "stddev")]
        assert any(k in str(err.value) for k in unknown)
    else:
        FAMILY.check_error(case)


def refused_reason(case: dict) -> str | None:
    """Why kerastorch refuses what tf.keras accepts (README, deliberate differences), or None."""
    cls, args, kind = case["class"], _bare(case["args"]), case["kind"]
    for key in ("rate", "stddev"):
        if key in args and not isinstance(args[key], (int, float)):
            return f"a non-number `{key}` (tf.keras fails at the first training call)"
    if kind == "init" and "noise_shape" in args and cls.startswith("SpatialDropout"):
        return "a noise_shape given to SpatialDropout (tf.keras ignores it)"
    if kind == "init" and args.get("noise_shape") is not None:
        return "an invalid noise_shape (Keras 3's check; tf.keras fails at the first training call)"
    if "seed" in args and not isinstance(args["seed"], int):
        return "a non-integer seed (Keras 3's check)"
    if cls in ("GaussianDropout", "AlphaDropout") and not 0 <= args["rate"] <= 1:
        return "a rate outside [0, 1] (Keras 3's check; tf.keras does nothing)"
    if cls == "GaussianNoise" and args["stddev"] < 0:
        return "a negative stddev"
    if kind == "build" and cls.startswith("SpatialDropout"):
        return "a build shape of the wrong rank (tf.keras checks the rank at the call only)"
    return None


@pytest.mark.parametrize("case", FAMILY.accepted, ids=FAMILY.id)
def test_accepted_like_tf_keras(case):
    if refused_reason(case) is None:
        if case["kind"] == "call":
            # the recorder called tf.keras without `training` (inference); a fresh torch module trains
            layer = getattr(L, case["class"])(**case["args"]).eval()
            y = layer(torch.zeros(case["input_shapes"][0], dtype=DTYPES[case["dtype"]]))
            assert list(y.shape) == case["keras_output_shape"]
        else:
            FAMILY.check_accepted(case)
        return
    with pytest.raises(ValueError) as err:
        FAMILY.stage(case)
    assert case["args"]["name"] in str(err.value)
    if case["keras3_error_type"] == "ValueError" and not (case["class"] == "GaussianNoise" and "stddev" in str(err.value)):
        assert keras_core(case["keras3_message"]) in str(err.value)  # Keras 3's words where we adopt its check


def test_refusals_are_the_documented_ones():
    refused = [c for c in FAMILY.accepted if refused_reason(c)]
    assert len(refused) >= 10 and all(c["kind"] in ("init", "build") for c in refused)


def _training_call(rec: dict) -> torch.Tensor:
    layer = getattr(L, rec["class"])(**rec["args"])
    return layer(torch.ones(rec["input_shape"], dtype=DTYPES[rec["dtype"]]), training=True)


def _training_id(rec: dict) -> str:
    return f"{rec['class']}-{rec['id']}"


@pytest.mark.parametrize("rec", TRAINING_ERRORS, ids=_training_id)
def test_training_call_errors(rec):
    """What tf.keras refuses only when it draws (``training=True``): ``rate=1``, integer inputs, a bad noise_shape."""
    noise = rec["args"].get("noise_shape")
    if rec["keras_error_type"] is None:
        if noise is not None and len(noise) != len(rec["input_shape"]):
            # Deliberate: a noise_shape of another rank is refused (tf.keras broadcasts it from the right
            # but fills its None entries from the left).
            with pytest.raises(ValueError, match=rec["args"]["name"]):
                _training_call(rec)
            return
        assert list(_training_call(rec).shape) == rec["keras_output_shape"]
        return
    if rec["class"] == "AlphaDropout" and noise is not None and None in noise:
        # Deliberate: None entries take the input's size (Keras 3 and Dropout do; tf.keras's AlphaDropout fails)
        assert rec["keras3_error_type"] is None
        assert list(_training_call(rec).shape) == rec["input_shape"]
        return
    with pytest.raises(ValueError) as err:
        _training_call(rec)
    assert rec["args"]["name"] in str(err.value)
    if rec["keras_error_type"] == "ValueError":
        # the dtype is printed as torch prints it, not as TF's <dtype: 'int32'>
        assert keras_core(rec["keras_message"]).split(" Received: x_dtype")[0] in str(err.value)


def test_training_errors_recorded():
    assert len(TRAINING_ERRORS) >= 10
    assert {r["keras_error_type"] for r in TRAINING_ERRORS} >= {None, "ValueError", "InvalidArgumentError", "TypeError"}
    assert jsonable(TRAINING_ERRORS[0]["input_shape"]) == [2, 3]

"""Conv1D, Conv2D and Conv3D against configurations and error cases recorded from real tf.keras 2.21.

Each case: outputs, gradients of sum(output * upstream) w.r.t. input, kernel and bias, output
shapes, compute_output_shape (batch and spatial dims None), get_config and layer.losses.
"""
from __future__ import annotations

import pytest
import torch

from kerastorch.layers import Conv1D, Conv2D, Conv3D
from kt_testing import assert_close, jsonable, keras_grad, load_json, load_tensors, tolerance

LAYERS = {1: Conv1D, 2: Conv2D, 3: Conv3D}


def _load(rank):
    cases = load_json(f"conv{rank}d_cases.json")
    errors = load_json(f"conv{rank}d_errors.json")
    for c in cases + errors:
        c["rank"] = rank
    return cases, errors


CASES, ERRORS = [], []
for _rank in LAYERS:
    _cases, _errors = _load(_rank)
    CASES += _cases
    ERRORS += _errors
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def close(actual, expected, what, rtol):
    # The suite's tolerance, with the absolute slack relative to the tensor's scale (at least 1).
    scale = expected.abs().max().item() if expected.numel() else 0.0
    assert_close(actual, expected, rtol=rtol, atol=rtol * max(scale, 1.0), msg=what)


def _supported(case):
    return case["args"].get("activation") != "PReLU"


def _id(case):
    return f"conv{case['rank']}d-{case['id']}"


def _tensors(case):
    return load_tensors(f"conv{case['rank']}d_tensors.safetensors")


@pytest.mark.parametrize("case", [c for c in CASES if _supported(c)], ids=_id)
def test_conv_matches_tf_keras(case):
    dtype = DTYPES[case["dtype"]]
    rtol = tolerance(dtype)[0]
    if dtype == torch.float64 and case["xla"] and case["args"].get("activation") == "gelu":
        rtol = 1e-6  # XLA's float64 erf is a float32-accurate approximation (1e-7 relative)
    cid = case["id"]
    T = _tensors(case)
    layer = LAYERS[case["rank"]](**case["args"])
    x = T[f"{cid}.input"].clone().requires_grad_(True)
    weights = [T[f"{cid}.kernel"]] + ([T[f"{cid}.bias"]] if f"{cid}.bias" in T else [])
    layer.build(tuple(x.shape))
    layer.set_weights(weights)
    assert layer.kernel.dtype == dtype and list(layer.keras_weight("kernel").shape) == case["kernel_shape"]

    y = layer(x)
    assert list(y.shape) == case["output_shape"] and y.dtype == dtype
    close(y, T[f"{cid}.output"], "output", rtol)
    loss = (y * T[f"{cid}.upstream"]).sum()
    loss.backward()
    close(x.grad, T[f"{cid}.grad_input"], "grad_input", rtol)
    close(keras_grad(layer, "kernel"), T[f"{cid}.grad_kernel"], "grad_kernel", rtol)
    if layer.bias is not None:
        close(layer.bias.grad, T[f"{cid}.grad_bias"], "grad_bias", rtol)

    n = len(case["input_shape"])
    assert list(layer.compute_output_shape([None] + case["input_shape"][1:])) == case["compute_output_shape"]
    none_spatial = list(case["input_shape"])
    none_spatial[0] = None
    spatial = range(2, n) if layer.data_format == "channels_first" else range(1, n - 1)
    for i in spatial:
        none_spatial[i] = None
    assert list(layer.compute_output_shape(none_spatial)) == case["compute_output_shape_none_spatial"]

    assert jsonable(layer.get_config()) == case["config"]
    losses = layer.losses
    assert len(losses) == len(case["losses"])
    for ours, theirs in zip(losses, case["losses"]):
        close(ours, torch.tensor(theirs, dtype=ours.dtype), "loss", max(rtol, 1e-6))


def test_prelu_activation_cases_are_refused():
    prelu = [c for c in CASES if not _supported(c)]
    assert prelu, "the fixtures record PReLU-activated cases"
    for case in prelu:
        with pytest.raises(ValueError, match="PReLU has trainable weights"):
            LAYERS[case["rank"]](**case["args"])


@pytest.mark.parametrize("rank,minimum", [(1, 30), (2, 150), (3, 25)])
def test_fixture_coverage(rank, minimum):
    # The recorded space really spans what the parity claim says it does.
    cases = [c for c in CASES if c["rank"] == rank]
    args = [c["args"] for c in cases]
    assert len(cases) >= minimum
    assert {a.get("data_format") for a in args} >= {"channels_first", "channels_last"}
    assert {a.get("groups", 1) for a in args} >= {1, 2}
    paddings = {str(a.get("padding", "valid")).lower() for a in args}
    assert paddings == ({"valid", "same", "causal"} if rank == 1 else {"valid", "same"})
    assert any(a.get("use_bias") is False for a in args)
    assert {c["dtype"] for c in cases} == {"float32", "float64"} or rank == 3
    assert [c for c in ERRORS if c["rank"] == rank], "error cases recorded"


# ---------------- errors ----------------
def _stage(case):
    """Run the case up to the stage where tf.keras failed; return the layer."""
    layer = LAYERS[case["rank"]](**case["args"])
    shape = case.get("input_shape")
    if case["kind"] == "build":
        layer.build(tuple(shape))
    elif case["kind"] in ("call", "losses"):
        if case.get("build_shape"):
            layer.build(tuple(case["build_shape"]))
        x = torch.randn(*shape, dtype=DTYPES.get(case["args"].get("dtype", "float32"), torch.float32))
        layer(x)
        if case["kind"] == "losses":
            layer.losses
    return layer


# Where tf.keras's own message names an option we don't offer (explicit padding lists), the core
# of the message is compared instead.
_MESSAGE_CORE = {
    'The `padding` argument must be a list/tuple or one of "valid", "same" (or "causal", only for `Conv1D). Received: full':
        'one of "valid", "same" (or "causal", only for `Conv1D). Received: full',
    # A TF-internal shape message for groups=-2; ours says which argument is wrong.
    "Dimension -2 must be >= 0": "The argument `groups` must be a positive integer. Received: groups=-2",
}


def _keras_core(message: str) -> str:
    message = _MESSAGE_CORE.get(message, message)
    return message.split(" See https")[0]


@pytest.mark.parametrize("case", [c for c in ERRORS if c["keras_error_type"] == "ValueError"], ids=_id)
def test_value_errors_match_tf_keras(case):
    with pytest.raises(ValueError) as err:
        _stage(case)
    assert _keras_core(case["keras_message"]) in str(err.value)


# tf.keras fails with a non-ValueError (TypeError deep in TF ops, InvalidArgumentError from a
# zero-sized BiasAdd, AttributeError): we give a clear ValueError instead, at the same stage or earlier.
@pytest.mark.parametrize(
    "case", [c for c in ERRORS if c["keras_error_type"] not in (None, "ValueError")], ids=_id
)
def test_other_tf_errors_are_clear_value_errors(case):
    with pytest.raises(ValueError) as err:
        _stage(case)
    assert case["args"].get("name", f"conv{case['rank']}d") in str(err.value)  # names the layer


# Inputs tf.keras accepts: so do we, except the documented differences below.
_STRICTER = {
    "kernel_regularizer": "Unknown regularizer: 'nope'",  # tf.keras keeps the string, fails later
    "bias_regularizer": "Unknown regularizer: 'nope'",
    "activity_regularizer": "Unknown regularizer: 'nope'",
}


@pytest.mark.parametrize("case", [c for c in ERRORS if c["keras_error_type"] is None], ids=_id)
def test_accepted_inputs(case):
    stricter = [msg for key, msg in _STRICTER.items() if case["args"].get(key) == "nope"]
    if stricter:
        with pytest.raises(ValueError, match=stricter[0]):
            _stage(case)
        return
    if case["kind"] == "call" and "use_bias" in case["args"] and case["args"]["use_bias"] is False:
        # Zero-sized output: eager TF returns a tensor shaped like the *input* (see the fixture's note).
        with pytest.raises(ValueError, match="output is <= 0"):
            _stage(case)
        return
    layer = _stage(case)
    if "keras_output_shape" in case:
        shape = case["input_shape"]
        out = layer(torch.randn(*shape, dtype=layer.kernel.dtype))
        assert list(out.shape) == case["keras_output_shape"]
        if "keras_output_dtype" in case and case["keras_output_dtype"] != str(out.dtype).replace("torch.", ""):
            # tf.keras's activation *layers* compute in float32 inside a float64 conv; kerastorch keeps
            # the layer's dtype end to end.
            assert out.dtype == torch.float64 and case["keras_output_dtype"] == "float32"

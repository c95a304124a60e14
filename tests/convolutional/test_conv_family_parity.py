"""The rest of the convolutional module against cases and errors recorded from real tf.keras 2.21.

Transposed, depthwise and separable convolutions, up-sampling, zero padding and cropping: outputs,
gradients of sum(output * upstream) w.r.t. the input and every weight, weight names and shapes,
compute_output_shape, get_config (tf.keras's) and losses (compat_fixtures/gen/conv_family.py).
"""
from __future__ import annotations

import pytest
import torch

import kerastorch.layers as L
from kt_testing import assert_close, jsonable, keras_grad, load_json, load_tensors, tolerance

CLASSES = [
    "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
    "SeparableConv1D", "SeparableConv2D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
]
SNAKE = {
    "Conv1DTranspose": "conv1d_transpose", "Conv2DTranspose": "conv2d_transpose", "Conv3DTranspose": "conv3d_transpose",
    "DepthwiseConv1D": "depthwise_conv1d", "DepthwiseConv2D": "depthwise_conv2d",
    "SeparableConv1D": "separable_conv1d", "SeparableConv2D": "separable_conv2d",
    "UpSampling1D": "up_sampling1d", "UpSampling2D": "up_sampling2d", "UpSampling3D": "up_sampling3d",
    "ZeroPadding1D": "zero_padding1d", "ZeroPadding2D": "zero_padding2d", "ZeroPadding3D": "zero_padding3d",
    "Cropping1D": "cropping1d", "Cropping2D": "cropping2d", "Cropping3D": "cropping3d",
}
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _load():
    cases, errors = [], []
    for cls in CLASSES:
        for kind, out in (("cases", cases), ("errors", errors)):
            for c in load_json(f"{SNAKE[cls]}_{kind}.json"):
                out.append({**c, "class": cls})
    return cases, errors


CASES, ERRORS = _load()


def _id(case):
    return f"{case['class']}-{case['id']}"


def _tensors(case):
    return load_tensors(f"{SNAKE[case['class']]}_tensors.safetensors")


def close(actual, expected, what, rtol):
    scale = expected.abs().max().item() if expected.numel() else 0.0
    assert_close(actual, expected, rtol=rtol, atol=rtol * max(scale, 1.0), msg=what)


# tf.keras's own input gradient is wrong here (checked against finite differences of tf.keras's layer): for
# these the input gradient is checked against finite differences of kerastorch's layer instead.
_TF_WRONG_INPUT_GRADIENT = {
    # Conv3DTranspose, kernel 1, strides (2, 1, 3), 'same', float64: TF's Conv3DBackpropInputV2 gradient is off
    # by up to 2.5 while its forward output matches exactly.
    ("Conv3DTranspose", "c063"),
}


def _tolerance(case) -> float:
    # tf.image.resize computes in float32 whatever the input dtype: compare at float32 precision then.
    dtype = torch.float32 if "float32" in (case["dtype"], case["output_dtype"]) else torch.float64
    rtol = tolerance(dtype)[0]
    if case["class"].startswith("UpSampling") and case["args"].get("interpolation", "nearest").lower() not in ("nearest", "area", "bilinear"):
        rtol = max(rtol, 1e-5)  # TF computes the sampling weights in float32; kerastorch in float64
    if dtype == torch.float64 and case["args"].get("activation") == "gelu":
        # tf.nn.gelu multiplies by math_ops.cast(0.7071067811865476, dtype): the constant goes through
        # float32 first, so TF's float64 gelu is off by ~1e-8 relative (kerastorch uses the exact value).
        rtol = max(rtol, 1e-7)
    return rtol


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_matches_tf_keras(case):
    stricter = _stricter(case)
    if stricter:
        with pytest.raises(ValueError, match=stricter):
            getattr(L, case["class"])(**case["args"])(_tensors(case)[f"{case['id']}.input"])
        return
    rtol = _tolerance(case)
    T, cid = _tensors(case), case["id"]
    layer = getattr(L, case["class"])(**case["args"])
    x = T[f"{cid}.input"].clone()
    layer.build(tuple(x.shape))
    assert layer.weight_names == case["weight_names"]
    layer.set_weights([T[f"{cid}.weight.{n}"] for n in case["weight_names"]])
    assert [list(w.shape) for w in layer.get_weights()] == case["weight_shapes"]

    floating = x.dtype.is_floating_point
    x.requires_grad_(floating)
    y = layer(x)
    assert list(y.shape) == case["output_shape"]
    if x.dtype.is_floating_point and case["output_dtype"] != case["dtype"]:
        # tf.image.resize returns float32 for a float64 input (every method but nearest); kerastorch's
        # weight-free layers keep their input's floating dtype (README), so the comparison is in float32.
        assert y.dtype == x.dtype and case["output_dtype"] == "float32"
    else:
        assert str(y.dtype).replace("torch.", "") == case["output_dtype"]
    close(y, T[f"{cid}.output"], "output", rtol)
    # "grad_error": tf.keras cannot differentiate the call (no gradient for ResizeArea, none for float64
    # ScaleAndTranslate); kerastorch can, and only its output is compared.
    if floating and "grad_error" not in case:
        (y * T[f"{cid}.upstream"]).sum().backward()
        if (case["class"], cid) in _TF_WRONG_INPUT_GRADIENT:
            probe = T[f"{cid}.input"].clone().requires_grad_(True)
            assert torch.autograd.gradcheck(layer, (probe,))
        else:
            close(x.grad, T[f"{cid}.grad_input"], "grad_input", rtol)
        for n in case["weight_names"]:
            close(keras_grad(layer, n), T[f"{cid}.grad.{n}"], f"grad {n}", rtol)

    assert list(layer.compute_output_shape([None] + case["input_shape"][1:])) == case["compute_output_shape"]
    if case.get("compute_output_shape_none_spatial") is not None:
        shape = [None] + case["input_shape"][1:]
        first = case["args"].get("data_format") == "channels_first"
        rank = len(shape) - 2
        for i in (range(2, 2 + rank) if first else range(1, 1 + rank)):
            shape[i] = None
        assert list(layer.compute_output_shape(shape)) == case["compute_output_shape_none_spatial"]
    assert jsonable(layer.get_config()) == case["config"]
    losses = layer.losses
    assert len(losses) == len(case["losses"])
    for ours, theirs in zip(losses, case["losses"]):
        close(ours, torch.tensor(theirs, dtype=ours.dtype), "loss", max(rtol, 1e-6))


def test_fixture_coverage():
    for cls in CLASSES:
        cases = [c for c in CASES if c["class"] == cls]
        weighted = not cls.startswith(("UpSampling", "ZeroPadding", "Cropping"))
        assert len(cases) >= (25 if weighted else 12), cls
        if cls not in ("UpSampling1D", "ZeroPadding1D", "Cropping1D"):
            assert {c["args"].get("data_format", "channels_last") for c in cases} >= {"channels_first", "channels_last"}, cls
        assert [c for c in ERRORS if c["class"] == cls], f"{cls}: error cases recorded"
    interpolations = {c["args"].get("interpolation", "nearest").lower() for c in CASES if c["class"] == "UpSampling2D"}
    assert interpolations == {"nearest", "bilinear", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic"}


# ---------------- errors ----------------
def _stage(case):
    """Run the case up to the stage where tf.keras failed; return the layer."""
    layer = getattr(L, case["class"])(**case["args"])
    shape = case.get("input_shape")
    if case["kind"] == "compute_output_shape":
        case["_computed"] = list(layer.compute_output_shape(shape))
    elif case["kind"] == "build":
        layer.build(tuple(shape))
    elif case["kind"] in ("call", "losses"):
        if case.get("build_shape"):
            layer.build(tuple(case["build_shape"]))
        layer(torch.randn(*shape, dtype=DTYPES.get(case["args"].get("dtype", "float32"), torch.float32)))
        if case["kind"] == "losses":
            layer.losses
    return layer


# Where tf.keras's message names an option kerastorch does not offer (explicit padding lists), or wraps
# the message in its call-time report, the core of the message is compared.
_MESSAGE_CORE = {
    'The `padding` argument must be a list/tuple or one of "valid", "same"': 'The `padding` argument must be one of "valid", "same"',
}


def _keras_core(message: str) -> str:
    if message.startswith("Exception encountered when calling layer"):
        message = message.split("\n\n")[1].strip()
    for theirs, ours in _MESSAGE_CORE.items():
        message = message.replace(theirs, ours)
    return message.replace("ListWrapper(", "").replace("])", "]").split(" See https")[0]


@pytest.mark.parametrize("case", [c for c in ERRORS if c["keras_error_type"] == "ValueError"], ids=_id)
def test_value_errors_match_tf_keras(case):
    with pytest.raises(ValueError) as err:
        _stage(case)
    assert _keras_core(case["keras_message"]) in str(err.value)


# ZeroPadding1D's data_format: tf.keras refuses it, Keras 3 writes it in every config; kerastorch reads it
# (tests/layers/test_layer_configs.py).
@pytest.mark.parametrize("case", [c for c in ERRORS if c["keras_error_type"] not in (None, "ValueError")
                                  and not (c["class"] == "ZeroPadding1D" and "data_format" in c["args"])], ids=_id)
def test_other_tf_errors_are_clear_value_errors(case):
    with pytest.raises(ValueError) as err:
        _stage(case)
    assert case["args"].get("name", SNAKE[case["class"]]) in str(err.value)  # names the layer


# ---------------- deliberately stricter than tf.keras ----------------
# Inputs tf.keras accepts but that only give garbage later (an obscure failure, nonsense or an empty
# output): kerastorch refuses them with a ValueError naming the layer (README, "Differences from tf.keras").
# One row per decision: (classes, which cases, what tf.keras does, kerastorch's message).
_DEPTHWISE_LIKE = ("DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D")


def _kind(case) -> str:
    return case.get("kind", "call")  # an output case (no "kind") is a call


def _rank(case) -> int:
    return int(case["class"][-2])


def _spatial(case) -> list:
    shape, r = case["input_shape"], _rank(case)
    return shape[2:2 + r] if case["args"].get("data_format") == "channels_first" else shape[1:1 + r]


def _per_dim(value, r: int) -> list:
    return [value] * r if isinstance(value, int) else list(value)


def _pairs(spec, r: int) -> list:
    """(before, after) per spatial dim of a padding/cropping spelling."""
    if r == 1:
        return [_per_dim(spec, 2)]
    return [[e, e] if isinstance(e, int) else list(e) for e in _per_dim(spec, r)]


def _empty_conv_output(case) -> bool:
    a, r = case["args"], _rank(case)
    if _kind(case) != "call" or a.get("padding", "valid") != "valid" or len(case["input_shape"]) != r + 2:
        return False
    k, d = _per_dim(a["kernel_size"], r), _per_dim(a.get("dilation_rate", 1), r)
    return any(n - di * (ki - 1) == 0 for n, ki, di in zip(_spatial(case), k, d))


def _not_positive_int(v) -> bool:
    integral = isinstance(v, int) or (isinstance(v, float) and v.is_integer())
    return isinstance(v, (bool, str)) or not integral or v <= 0


_STRICTER = [
    (("Conv1DTranspose",), lambda c: c["args"].get("padding") == "causal",
     "passes the constructor (a Conv1D subclass), then an AssertionError at the first call",
     'The `padding` argument must be one of "valid", "same". Received: causal'),
    (_DEPTHWISE_LIKE, lambda c: c["args"].get("depth_multiplier", 1) in (0, -1),
     "depth_multiplier 0 / -1 accepted at init and build (a zero-sized or negative kernel)",
     r"Invalid value for argument `depth_multiplier`. Expected a strictly positive value"),
    (_DEPTHWISE_LIKE, _empty_conv_output,
     "an output of spatial size exactly 0 passes; eager TF returns a tensor of another shape (the input's)",
     "One of the dimensions in the output is <= 0"),
    (("SeparableConv2D",), lambda c: _kind(c) == "call" and len(c["input_shape"]) > 4,
     "a rank-5 input passes Conv's min_ndim spec and returns a rank-4 tensor of meaningless shape",
     "Inputs to `SeparableConv` should have rank 4"),
    (("UpSampling1D",), lambda c: _not_positive_int(c["args"].get("size", 2)),
     "runs int(size): 0 and -1 accepted (the call fails in TF), '3' -> 3, 2.9 -> 2",
     "The `size` argument must be a positive integer"),
    (("UpSampling3D",), lambda c: _kind(c) == "call" and len(c["input_shape"]) != 5,
     "its input_spec is reset by Layer.__init__: any rank passes and axes 1..3 are repeated, channels or not",
     "expected ndim=5"),
    (("ZeroPadding2D", "ZeroPadding3D"), lambda c: c["args"].get("padding") == -1,
     "a negative int padding is not validated at init; the call fails in TF's Pad op",
     "`padding` cannot contain negative values"),
    (("Cropping2D", "Cropping3D"), lambda c: c["args"].get("cropping") == -1,
     "a negative int cropping is not validated; the call returns an empty slice",
     "`cropping` cannot contain negative values"),
    (("Cropping3D",), lambda c: _kind(c) == "call" and c["args"].get("cropping") != -1 and any(
        n <= sum(p) for n, p in zip(_spatial(c), _pairs(c["args"].get("cropping", 1), 3))),
     "cropping >= the input size returns an empty slice (its Cropping1D/2D raise)",
     "Argument `cropping` must be greater than the input shape"),
    (("Cropping2D",), lambda c: _kind(c) == "compute_output_shape" and 0 in _spatial(c),
     "compute_output_shape reads a 0 spatial size as unknown and returns None",
     "Dimension -2 must be >= 0"),
]


def _stricter(case) -> str | None:
    """kerastorch's message where it deliberately refuses what tf.keras accepts, else None."""
    for classes, applies, _tf_keras, message in _STRICTER:
        if case["class"] in classes and applies(case):
            return message
    return None


@pytest.mark.parametrize("case", [c for c in ERRORS if c["keras_error_type"] is None], ids=_id)
def test_accepted_inputs(case):
    stricter = _stricter(case)
    if stricter:
        with pytest.raises(ValueError, match=stricter):
            _stage(case)
        return
    layer = _stage(case)
    if case["kind"] == "compute_output_shape":
        assert case["_computed"] == case["keras_output_shape"]
    elif "keras_output_shape" in case:
        out = layer(torch.randn(*case["input_shape"]))
        assert list(out.shape) == case["keras_output_shape"]

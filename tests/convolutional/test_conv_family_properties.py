"""Properties of the rest of the convolutional module (transposed, depthwise, separable, up-sampling,
zero padding, cropping).

- ``torch.autograd.gradcheck`` in float64 w.r.t. the input and every stored parameter (through
  ``torch.func.functional_call``) on small cases of each family;
- a transposed convolution is the adjoint of the convolution with the same arguments: with the
  Conv kernel ``(*k, in, out)`` installed as the ConvTranspose kernel ``(*k, filters=in, in=out)``
  (the same array: tf.keras's transposed layout already swaps the roles of the last two dims, so no
  transposition is needed), ``<conv(x), y> == <x, conv_transpose(y)>`` and ``conv_transpose(y)`` is the
  vector-Jacobian product of ``conv`` with ``y`` -- for 'valid' without output_padding (as asked),
  and for 'same' and output_padding too, wherever TF's ``conv_transpose`` is defined (the conv of its
  output has the input's size); where it is not, TF refuses the call;
- output shapes equal ``compute_output_shape`` and tf.keras's ``deconv_output_length`` (written out
  below independently of kerastorch);
- channels_first on permuted data equals channels_last;
- depthwise with multiplier M == per-channel convs concatenated in channel order c*M + m;
  separable == depthwise (no bias) then a 1x1 conv;
- ZeroPadding then Cropping by the same amounts is the identity; UpSampling 'nearest' (and 'area')
  is ``repeat_interleave``; every UpSampling2D interpolation keeps a constant image constant.

Every architectural choice avoids what tf.keras does not support, so each property is one tf.keras
has: Conv3DTranspose gets no dilation (tf.keras ignores it) and Conv2DTranspose only equal dilation
rates (tf.keras's atrous transposed conv takes one rate).
"""
from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kerastorch.layers import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    Cropping1D,
    Cropping2D,
    Cropping3D,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from kt_testing import assert_close, tolerance

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
# The three layer-vs-layer comparisons build several layers per example: fewer examples keep the file fast.
SETTINGS_COMPARE = settings(SETTINGS, max_examples=25)
F64 = torch.float64

CONV = {1: Conv1D, 2: Conv2D, 3: Conv3D}
CONV_T = {1: Conv1DTranspose, 2: Conv2DTranspose, 3: Conv3DTranspose}
DEPTHWISE = {1: DepthwiseConv1D, 2: DepthwiseConv2D}
SEPARABLE = {1: SeparableConv1D, 2: SeparableConv2D}
UPSAMPLING = {1: UpSampling1D, 2: UpSampling2D, 3: UpSampling3D}
ZERO_PADDING = {1: ZeroPadding1D, 2: ZeroPadding2D, 3: ZeroPadding3D}
CROPPING = {1: Cropping1D, 2: Cropping2D, 3: Cropping3D}


# ---------------------------------------------------------------------------------------------
# tf.keras's length formulas (tf_keras/utils/conv_utils.py), written out independently
# ---------------------------------------------------------------------------------------------
def deconv_output_length(input_length, filter_size, padding, output_padding=None, stride=0, dilation=1):
    if input_length is None:
        return None
    filter_size = filter_size + (filter_size - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return input_length * stride + max(filter_size - stride, 0)
        if padding == "full":
            return input_length * stride - (stride + filter_size - 2)
        return input_length * stride  # same
    pad = {"same": filter_size // 2, "valid": 0, "full": filter_size - 1}[padding]
    return (input_length - 1) * stride + filter_size - 2 * pad + output_padding


def conv_output_length(input_length, filter_size, padding, stride, dilation=1):
    dilated = filter_size + (filter_size - 1) * (dilation - 1)
    if padding == "same":
        return -(-input_length // stride)
    return (input_length - dilated + stride) // stride  # valid


def _shape(batch, channels, spatial, data_format):
    return (batch, channels, *spatial) if data_format == "channels_first" else (batch, *spatial, channels)


def _spatial(shape, data_format):
    return tuple(shape[2:]) if data_format == "channels_first" else tuple(shape[1:-1])


def _to_first(x):
    return x.movedim(-1, 1)


# =============================================================================================
# (a) gradcheck in float64, w.r.t. the input and every parameter
# =============================================================================================
GRAD_CASES = [
    pytest.param(Conv1DTranspose, dict(filters=2, kernel_size=3, strides=2, output_padding=1), (2, 3, 2),
                 id="Conv1DTranspose-valid-output_padding"),
    pytest.param(Conv2DTranspose, dict(filters=2, kernel_size=3, strides=2, padding="same", output_padding=1), (1, 3, 2, 2),
                 id="Conv2DTranspose-same-k3-s2-output_padding"),
    pytest.param(Conv2DTranspose, dict(filters=2, kernel_size=3, strides=2, padding="same"), (1, 3, 3, 2),
                 id="Conv2DTranspose-same-k3-s2"),
    pytest.param(Conv2DTranspose, dict(filters=2, kernel_size=(2, 3), strides=(2, 3), output_padding=(1, 2),
                                       data_format="channels_first"), (1, 2, 2, 2),
                 id="Conv2DTranspose-valid-output_padding-channels_first"),
    pytest.param(Conv2DTranspose, dict(filters=1, kernel_size=2, dilation_rate=2, padding="same"), (1, 3, 3, 2),
                 id="Conv2DTranspose-same-dilated"),
    pytest.param(Conv3DTranspose, dict(filters=1, kernel_size=3, strides=2, padding="same", output_padding=1),
                 (1, 2, 1, 2, 2), id="Conv3DTranspose-same-output_padding"),
    pytest.param(DepthwiseConv2D, dict(kernel_size=3, depth_multiplier=2, strides=2, padding="same"), (1, 4, 3, 2),
                 id="DepthwiseConv2D-M2-same-s2"),
    pytest.param(DepthwiseConv2D, dict(kernel_size=2, depth_multiplier=2, data_format="channels_first"), (1, 2, 3, 3),
                 id="DepthwiseConv2D-M2-channels_first"),
    pytest.param(DepthwiseConv1D, dict(kernel_size=2, depth_multiplier=2, dilation_rate=2, padding="same"), (2, 4, 2),
                 id="DepthwiseConv1D-M2-dilated-same"),
    pytest.param(SeparableConv2D, dict(filters=2, kernel_size=3, depth_multiplier=2, strides=2, padding="same"),
                 (1, 4, 3, 2), id="SeparableConv2D-M2-same-s2"),
    pytest.param(SeparableConv1D, dict(filters=2, kernel_size=3, depth_multiplier=2, padding="causal"), (2, 4, 2),
                 id="SeparableConv1D-M2-causal"),
    pytest.param(UpSampling1D, dict(size=3), (2, 3, 2), id="UpSampling1D"),
    pytest.param(UpSampling2D, dict(size=(2, 3)), (1, 3, 2, 2), id="UpSampling2D-nearest"),
    pytest.param(UpSampling2D, dict(size=(2, 3), interpolation="bilinear"), (1, 3, 4, 2), id="UpSampling2D-bilinear"),
    pytest.param(UpSampling2D, dict(size=(2, 3), interpolation="bilinear", data_format="channels_first"), (1, 2, 3, 2),
                 id="UpSampling2D-bilinear-channels_first"),
    pytest.param(UpSampling2D, dict(size=(3, 2), interpolation="bicubic"), (1, 4, 3, 2), id="UpSampling2D-bicubic"),
    pytest.param(UpSampling3D, dict(size=(2, 1, 2)), (1, 2, 2, 2, 2), id="UpSampling3D"),
    pytest.param(ZeroPadding1D, dict(padding=(2, 1)), (2, 3, 2), id="ZeroPadding1D"),
    pytest.param(ZeroPadding2D, dict(padding=((1, 2), (0, 3))), (1, 3, 2, 2), id="ZeroPadding2D"),
    pytest.param(ZeroPadding3D, dict(padding=((1, 0), (0, 1), (2, 1)), data_format="channels_first"), (1, 2, 2, 2, 2),
                 id="ZeroPadding3D-channels_first"),
    pytest.param(Cropping1D, dict(cropping=(1, 2)), (2, 5, 2), id="Cropping1D"),
    pytest.param(Cropping2D, dict(cropping=((1, 0), (2, 1))), (1, 4, 5, 2), id="Cropping2D"),
    pytest.param(Cropping3D, dict(cropping=((1, 1), (0, 2), (1, 0)), data_format="channels_first"), (1, 2, 3, 4, 3),
                 id="Cropping3D-channels_first"),
]


@pytest.mark.parametrize("layer_cls, kwargs, shape", GRAD_CASES)
def test_gradcheck_input_and_every_weight(layer_cls, kwargs, shape):
    torch.manual_seed(0)
    weighted = layer_cls.__name__.startswith(("Conv", "Depthwise", "Separable"))
    extra = dict(dtype="float64", bias_initializer="random_normal") if weighted else {}
    layer = layer_cls(**kwargs, **extra)
    x = torch.randn(shape, dtype=F64)
    layer(x)  # build
    names = [name for name, _ in layer.named_parameters()]
    assert names == [n for n in layer.weight_names if getattr(layer, n) is not None]
    assert bool(names) == weighted
    params = [p.detach().clone().requires_grad_(True) for _, p in layer.named_parameters()]

    def fn(inp, *weights):
        return torch.func.functional_call(layer, dict(zip(names, weights)), (inp,))

    # fast_mode: compares v^T J u for random u, v against finite differences instead of every entry of
    # J (torch's recommended mode; a wrong gradient fails it with probability 1). The full Jacobian
    # costs one backward per output element, which torch's CPU transposed convs make slow in float64.
    assert torch.autograd.gradcheck(fn, (x.clone().requires_grad_(True), *params), fast_mode=True)


# =============================================================================================
# (b) hypothesis properties
# =============================================================================================
@st.composite
def transpose_setup(draw, paddings=("valid",), output_padding=False):
    """Random transposed-conv arguments that tf.keras supports (see the module docstring)."""
    rank = draw(st.sampled_from([1, 2, 3]))
    kernel = tuple(draw(st.integers(1, 4 if rank < 3 else 3)) for _ in range(rank))
    if rank < 3 and draw(st.booleans()):
        dilation, strides = (draw(st.integers(2, 3)),) * rank, (1,) * rank  # equal rates (Conv2DTranspose)
    else:
        dilation, strides = (1,) * rank, tuple(draw(st.integers(1, 3)) for _ in range(rank))
    op = None
    if output_padding and draw(st.booleans()):
        op = tuple(draw(st.integers(0, s - 1)) for s in strides)
    return dict(
        rank=rank,
        kwargs=dict(kernel_size=kernel, strides=strides, dilation_rate=dilation, padding=draw(st.sampled_from(paddings)),
                    data_format=draw(st.sampled_from(["channels_last", "channels_first"]))),
        output_padding=op,
        cin=draw(st.integers(1, 3)),
        filters=draw(st.integers(1, 3)),
        n_y=tuple(draw(st.integers(1, 4 if rank < 3 else 3)) for _ in range(rank)),
        batch=draw(st.integers(1, 2)),
    )


def _conv_pair(setup):
    """(conv, conv_transpose, y): conv maps `cin` -> `filters` channels, conv_transpose back, same kernel array."""
    kw, fmt = setup["kwargs"], setup["kwargs"]["data_format"]
    conv_t = CONV_T[setup["rank"]](filters=setup["cin"], output_padding=setup["output_padding"], use_bias=False,
                                   dtype="float64", **kw)
    y = torch.randn(_shape(setup["batch"], setup["filters"], setup["n_y"], fmt), dtype=F64)
    x_t = conv_t(y)
    conv = CONV[setup["rank"]](filters=setup["filters"], use_bias=False, dtype="float64", **kw)
    conv.build((None, *x_t.shape[1:]))
    (kernel,) = conv_t.get_weights()
    assert kernel.shape == conv.get_weights()[0].shape  # (*k, cin, filters) for both
    conv.set_weights([kernel])
    return conv, conv_t, y, x_t


def _check_adjoint(conv, y, x_t):
    x = torch.randn(x_t.shape, dtype=F64, requires_grad=True)
    out = conv(x)
    assert out.shape == y.shape, f"conv of the transposed output has shape {tuple(out.shape)}, not {tuple(y.shape)}"
    (vjp,) = torch.autograd.grad(out, x, y)
    assert_close(x_t, vjp)  # conv_transpose(y) == J_conv^T y, elementwise
    lhs, rhs = (out * y).sum(), (x * x_t).sum()
    # A float64 sum of products is exact to ~eps * n * sum|terms|; the suite's float64 "layer" rtol
    # (1e-10) applied to sum|terms| bounds it with ample room (the scalar itself may be near 0).
    rtol, _ = tolerance(F64)
    assert_close(lhs, rhs, atol=rtol * (x * x_t).abs().sum().item())


@SETTINGS
@given(transpose_setup())
def test_conv_transpose_is_adjoint_of_conv_valid(setup):
    torch.manual_seed(0)
    conv, _, y, x_t = _conv_pair(setup)
    _check_adjoint(conv, y, x_t.detach())


@SETTINGS
@given(transpose_setup(paddings=("valid", "same"), output_padding=True))
def test_conv_transpose_is_adjoint_of_conv_same_and_output_padding(setup):
    kw = setup["kwargs"]
    out = [deconv_output_length(n, k, kw["padding"], None if setup["output_padding"] is None else p, s, d)
           for n, k, p, s, d in zip(setup["n_y"], kw["kernel_size"], setup["output_padding"] or (None,) * setup["rank"],
                                    kw["strides"], kw["dilation_rate"])]
    back = [conv_output_length(o, k, kw["padding"], s, d)
            for o, k, s, d in zip(out, kw["kernel_size"], kw["strides"], kw["dilation_rate"])]
    assume(min(out) > 0 and tuple(back) == setup["n_y"])  # where TF's conv_transpose is defined
    torch.manual_seed(0)
    conv, _, y, x_t = _conv_pair(setup)
    _check_adjoint(conv, y, x_t.detach())


@st.composite
def undefined_transpose_setup(draw):
    """'same' with output_padding where the conv of the requested output size is not the input's size:
    in some dim an even dilated kernel with output_padding 0 (output (n - 1) * s, whose 'same' conv
    has n - 1 positions)."""
    setup = draw(transpose_setup(paddings=("same",), output_padding=True))
    kw, rank = dict(setup["kwargs"]), setup["rank"]
    i = draw(st.integers(0, rank - 1))
    kernel = list(kw["kernel_size"])
    kernel[i] = draw(st.sampled_from([2, 4]))
    if kw["dilation_rate"][0] % 2 == 0:  # an even rate makes every dilated kernel odd
        kw["dilation_rate"] = (1,) * rank
    kw["kernel_size"] = tuple(kernel)
    op = list(setup["output_padding"] or (0,) * rank)
    op[i] = 0
    n_y = tuple(max(n, 2) for n in setup["n_y"])  # every output dim > 0
    return dict(setup, kwargs=kw, output_padding=tuple(op), n_y=n_y)


# tf.keras's transposed conv is TF's conv_backprop_input, which checks that the conv of the requested
# output size has the input's size (InvalidArgumentError "Conv2DSlowBackpropInput: Size of out_backprop
# doesn't match computed"): there is no adjoint to compute then. kerastorch refuses with ValueError.
@SETTINGS
@given(undefined_transpose_setup())
def test_conv_transpose_without_a_matching_conv_is_refused(setup):
    kw, op = setup["kwargs"], setup["output_padding"]
    out = [deconv_output_length(n, k, "same", p, s, d)
           for n, k, p, s, d in zip(setup["n_y"], kw["kernel_size"], op, kw["strides"], kw["dilation_rate"])]
    back = [conv_output_length(o, k, "same", s) for o, k, s in zip(out, kw["kernel_size"], kw["strides"])]
    assert min(out) > 0 and tuple(back) != setup["n_y"]
    layer = CONV_T[setup["rank"]](filters=2, output_padding=op, **kw)
    with pytest.raises(ValueError):
        layer(torch.zeros(_shape(setup["batch"], setup["cin"], setup["n_y"], kw["data_format"])))


@SETTINGS
@given(transpose_setup(paddings=("valid", "same"), output_padding=True), st.booleans())
def test_conv_transpose_shape_matches_compute_output_shape_and_tf_formula(setup, use_bias):
    kw, op = setup["kwargs"], setup["output_padding"] or (None,) * setup["rank"]
    expected = [deconv_output_length(n, k, kw["padding"], p, s, d)
                for n, k, p, s, d in zip(setup["n_y"], kw["kernel_size"], op, kw["strides"], kw["dilation_rate"])]
    back = [conv_output_length(o, k, kw["padding"], s, d)
            for o, k, s, d in zip(expected, kw["kernel_size"], kw["strides"], kw["dilation_rate"])]
    assume(min(expected) > 0 and tuple(back) == setup["n_y"])
    layer = CONV_T[setup["rank"]](filters=setup["filters"], output_padding=setup["output_padding"], use_bias=use_bias, **kw)
    shape = _shape(setup["batch"], setup["cin"], setup["n_y"], kw["data_format"])
    y = layer(torch.randn(shape))
    assert tuple(y.shape) == layer.compute_output_shape(shape)
    assert _spatial(y.shape, kw["data_format"]) == tuple(expected)
    unknown = _shape(None, setup["cin"], (None,) * setup["rank"], kw["data_format"])
    assert layer.compute_output_shape(unknown) == _shape(None, setup["filters"], (None,) * setup["rank"], kw["data_format"])


@st.composite
def depthwise_setup(draw, rank_choices=(1, 2)):
    rank = draw(st.sampled_from(rank_choices))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    if draw(st.booleans()):
        strides, dilation = tuple(draw(st.integers(1, 3)) for _ in range(rank)), (1,) * rank
    else:
        strides, dilation = (1,) * rank, tuple(draw(st.integers(1, 3)) for _ in range(rank))
    padding = draw(st.sampled_from(["valid", "same"]))
    dk = [k + (k - 1) * (d - 1) for k, d in zip(kernel, dilation)]
    low = dk if padding == "valid" else [1] * rank
    spatial = tuple(draw(st.integers(lo, lo + 4)) for lo in low)
    return dict(
        rank=rank,
        kwargs=dict(kernel_size=kernel, strides=strides, dilation_rate=dilation, padding=padding,
                    depth_multiplier=draw(st.integers(1, 3)), use_bias=draw(st.booleans())),
        channels=draw(st.integers(1, 3)),
        spatial=spatial,
        batch=draw(st.integers(1, 2)),
    )


def _conv_args(kwargs):
    return {k: kwargs[k] for k in ("kernel_size", "strides", "dilation_rate", "padding")}


@SETTINGS_COMPARE
@given(depthwise_setup())
def test_depthwise_is_per_channel_convs_in_order_c_times_m_plus_m(setup):
    torch.manual_seed(0)
    kw, m, c = setup["kwargs"], setup["kwargs"]["depth_multiplier"], setup["channels"]
    layer = DEPTHWISE[setup["rank"]](**kw, bias_initializer="random_normal", dtype="float64")
    x = torch.randn((setup["batch"], *setup["spatial"], c), dtype=F64)
    y = layer(x)
    weights = layer.get_weights()
    kernel = weights[0]  # (*k, c, m)
    parts = []
    for ch in range(c):
        single = CONV[setup["rank"]](filters=m, use_bias=kw["use_bias"], dtype="float64", **_conv_args(kw))
        single.build((None, *setup["spatial"], 1))
        single.set_weights([kernel[..., ch : ch + 1, :]] + ([weights[1][ch * m : (ch + 1) * m]] if kw["use_bias"] else []))
        parts.append(single(x[..., ch : ch + 1]))  # output channels ch*m .. ch*m + m - 1
    assert_close(y, torch.cat(parts, dim=-1))


@SETTINGS_COMPARE
@given(depthwise_setup(), st.integers(1, 3))
def test_separable_is_depthwise_then_pointwise(setup, filters):
    torch.manual_seed(0)
    kw, rank = setup["kwargs"], setup["rank"]
    layer = SEPARABLE[rank](filters=filters, **kw, bias_initializer="random_normal", dtype="float64")
    x = torch.randn((setup["batch"], *setup["spatial"], setup["channels"]), dtype=F64)
    y = layer(x)
    weights = layer.get_weights()
    depthwise = DEPTHWISE[rank](**{**kw, "use_bias": False}, dtype="float64")
    depthwise.build(tuple(x.shape))
    depthwise.set_weights([weights[0]])
    pointwise = CONV[rank](filters=filters, kernel_size=1, use_bias=kw["use_bias"], dtype="float64")
    mid = depthwise(x)
    pointwise.build(tuple(mid.shape))
    pointwise.set_weights(weights[1:])
    assert_close(y, pointwise(mid))


@st.composite
def family_layer(draw):
    """A random transposed / depthwise / separable layer and a valid channels_last input shape."""
    kind = draw(st.sampled_from(["transpose", "depthwise", "separable"]))
    if kind == "transpose":
        setup = draw(transpose_setup(paddings=("valid", "same")))
        kw = {k: v for k, v in setup["kwargs"].items() if k != "data_format"}
        return CONV_T[setup["rank"]], dict(filters=setup["filters"], **kw), (setup["batch"], *setup["n_y"], setup["cin"])
    setup = draw(depthwise_setup())
    shape = (setup["batch"], *setup["spatial"], setup["channels"])
    if kind == "depthwise":
        return DEPTHWISE[setup["rank"]], dict(setup["kwargs"]), shape
    return SEPARABLE[setup["rank"]], dict(setup["kwargs"], filters=draw(st.integers(1, 3))), shape


@SETTINGS_COMPARE
@given(family_layer())
def test_channels_first_equals_channels_last(case):
    torch.manual_seed(0)
    layer_cls, kwargs, shape = case
    last = layer_cls(**kwargs, bias_initializer="random_normal", dtype="float64")
    x = torch.randn(shape, dtype=F64)
    y = last(x)
    first = layer_cls(**kwargs, data_format="channels_first", dtype="float64")
    first.build((None, shape[-1], *shape[1:-1]))
    first.set_weights(last.get_weights())
    assert_close(first(_to_first(x)), _to_first(y))


@st.composite
def spatial_setup(draw):
    rank = draw(st.sampled_from([1, 2, 3]))
    data_format = "channels_last" if rank == 1 else draw(st.sampled_from(["channels_last", "channels_first"]))
    spatial = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    return rank, data_format, spatial, draw(st.integers(1, 2)), draw(st.integers(1, 3))


def _fmt_kwargs(rank, data_format):
    return {} if rank == 1 else {"data_format": data_format}


@SETTINGS
@given(spatial_setup(), st.data())
def test_zero_padding_then_cropping_is_identity(setup, data):
    rank, data_format, spatial, batch, channels = setup
    pairs = tuple((data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))) for _ in range(rank))
    amounts = pairs[0] if rank == 1 else pairs
    x = torch.randn(_shape(batch, channels, spatial, data_format), dtype=F64)
    padded = ZERO_PADDING[rank](amounts, **_fmt_kwargs(rank, data_format))(x)
    assert _spatial(padded.shape, data_format) == tuple(n + a + b for n, (a, b) in zip(spatial, pairs))
    assert torch.equal(CROPPING[rank](amounts, **_fmt_kwargs(rank, data_format))(padded), x)


@SETTINGS
@given(spatial_setup(), st.data())
def test_upsampling_nearest_is_repeat_interleave(setup, data):
    rank, data_format, spatial, batch, channels = setup
    size = tuple(data.draw(st.integers(1, 3)) for _ in range(rank))
    interpolation = data.draw(st.sampled_from(["nearest", "area"])) if rank == 2 else None
    kwargs = dict(_fmt_kwargs(rank, data_format), **({"interpolation": interpolation} if interpolation else {}))
    x = torch.randn(_shape(batch, channels, spatial, data_format), dtype=F64)
    y = UPSAMPLING[rank](size[0] if rank == 1 else size, **kwargs)(x)
    expected = x
    first = 2 if data_format == "channels_first" else 1
    for i, s in enumerate(size):
        expected = expected.repeat_interleave(s, dim=first + i)
    assert torch.equal(y, expected)


@SETTINGS
@given(spatial_setup(), st.data())
def test_upsampling2d_interpolations_keep_constants(setup, data):
    _, data_format, _, batch, channels = setup
    spatial = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)))
    size = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    interpolation = data.draw(
        st.sampled_from(["area", "bicubic", "bilinear", "gaussian", "lanczos3", "lanczos5", "mitchellcubic", "nearest"])
    )
    value = data.draw(st.floats(-10, 10, allow_nan=False))
    x = torch.full(_shape(batch, channels, spatial, data_format), value, dtype=F64)
    y = UpSampling2D(size, data_format=data_format, interpolation=interpolation)(x)
    assert _spatial(y.shape, data_format) == tuple(n * s for n, s in zip(spatial, size))
    assert_close(y, torch.full(y.shape, value, dtype=F64))


def test_tf_formula_reference_values():
    # Pins the independent formula on the tf.keras test expectations (conv_transpose_test.py).
    assert deconv_output_length(6, 3, "valid", None, 1) == 8
    assert deconv_output_length(6, 3, "same", None, 1) == 6
    assert deconv_output_length(6, 3, "valid", None, 2) == 13
    assert deconv_output_length(6, 3, "valid", None, 1, 2) == 10
    assert deconv_output_length(5, 3, "valid", 1, 2) == 12
    assert conv_output_length(7, 3, "valid", 2) == 3
    assert conv_output_length(7, 3, "same", 2) == 4

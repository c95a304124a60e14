"""Hypothesis properties over the whole Conv2D argument space.

- the output shape always equals compute_output_shape (and tf.keras's length formula);
- channels_first on transposed data equals channels_last;
- a grouped conv equals the concatenation of per-group convs;
- arbitrary (often invalid) arguments and inputs raise ValueError/TypeError or work: never a raw
  torch RuntimeError from inside.
"""
from __future__ import annotations

import math

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerastorch.layers import Conv2D
from kt_testing import assert_close

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def conv_setup(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin = groups * draw(st.integers(1, 3))
    filters = groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    if draw(st.booleans()):
        strides, dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3))), (1, 1)
    else:
        strides, dilation = (1, 1), (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["valid", "same"]))
    dk = [k + (k - 1) * (d - 1) for k, d in zip(kernel, dilation)]
    low = dk if padding == "valid" else [1, 1]
    h, w = draw(st.integers(low[0], low[0] + 7)), draw(st.integers(low[1], low[1] + 7))
    n = draw(st.integers(1, 2))
    return dict(filters=filters, kernel_size=kernel, strides=strides, dilation_rate=dilation, padding=padding, groups=groups,
                use_bias=draw(st.booleans())), (n, h, w, cin)


@SETTINGS
@given(conv_setup())
def test_shape_matches_compute_output_shape_and_tf_formula(setup):
    kwargs, shape = setup
    layer = Conv2D(**kwargs)
    y = layer(torch.randn(shape))
    assert tuple(y.shape) == layer.compute_output_shape(shape)
    for n, k, s, d, out in zip(shape[1:3], kwargs["kernel_size"], kwargs["strides"], kwargs["dilation_rate"], y.shape[1:3]):
        dk = k + (k - 1) * (d - 1)
        assert out == (math.ceil(n / s) if kwargs["padding"] == "same" else math.ceil((n - dk + 1) / s))


@SETTINGS
@given(conv_setup())
def test_channels_first_equals_channels_last(setup):
    kwargs, shape = setup
    last = Conv2D(**kwargs, bias_initializer="random_normal")
    x = torch.randn(shape)
    y = last(x)
    first = Conv2D(**kwargs, data_format="channels_first")
    first.build((None, shape[3], shape[1], shape[2]))
    first.set_weights(last.get_weights())
    assert_close(first(x.permute(0, 3, 1, 2)), y.permute(0, 3, 1, 2), rtol=1e-5, atol=1e-5)


@SETTINGS
@given(conv_setup())
def test_grouped_conv_is_concatenation_of_group_convs(setup):
    kwargs, shape = setup
    g = kwargs["groups"]
    layer = Conv2D(**kwargs, bias_initializer="random_normal")
    x = torch.randn(shape)
    y = layer(x)
    weights = layer.get_weights()
    cin_g, f_g = shape[3] // g, kwargs["filters"] // g
    parts = []
    for i in range(g):
        single = Conv2D(**{**kwargs, "filters": f_g, "groups": 1})
        single.build((None, None, None, cin_g))
        w = [weights[0][..., i * f_g:(i + 1) * f_g]] + ([weights[1][i * f_g:(i + 1) * f_g]] if kwargs["use_bias"] else [])
        single.set_weights(w)
        parts.append(single(x[..., i * cin_g:(i + 1) * cin_g]))
    assert_close(torch.cat(parts, dim=-1), y, rtol=1e-5, atol=1e-5)


_any_int = st.one_of(st.integers(-2, 6), st.tuples(st.integers(-1, 5), st.integers(-1, 5)),
                     st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)), st.just("a"), st.none())


@settings(max_examples=250, deadline=None)
@given(
    filters=st.one_of(st.integers(-1, 6), st.just(2.5), st.just("x")),
    kernel_size=_any_int,
    strides=_any_int,
    dilation_rate=_any_int,
    groups=st.integers(-1, 4),
    padding=st.sampled_from(["valid", "same", "SAME", "causal", "full", 3]),
    data_format=st.sampled_from(["channels_last", "channels_first", "nchw", None]),
    input_shape=st.lists(st.integers(0, 7), min_size=1, max_size=5),
    dtype=st.sampled_from([torch.float32, torch.float64, torch.int64, torch.bool]),
)
def test_fuzz_only_clear_errors_escape(filters, kernel_size, strides, dilation_rate, groups, padding, data_format, input_shape, dtype):
    try:
        layer = Conv2D(filters, kernel_size, strides=strides, dilation_rate=dilation_rate, groups=groups,
                       padding=padding, data_format=data_format)
    except (ValueError, TypeError):
        return
    try:
        y = layer(torch.zeros(input_shape, dtype=dtype))
    except ValueError:
        return
    assert y.shape == layer.compute_output_shape(tuple(input_shape))

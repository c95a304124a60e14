"""torch 2.13's CPU ``conv2d`` returns garbage for a one-channel input with channels_last strides when the output
is one column wide at a column stride > 1 (e.g. kernel (1, 5), strides (1, 2) on a 5-wide NHWC image). kerastorch
hands such calls NCHW-strided views of the same memory. Checked against a float64 computation of the same conv."""
import itertools

import pytest
import torch
import torch.nn.functional as F

from kerastorch.layers import Conv1D, Conv2D, DepthwiseConv2D
from kt_testing import assert_close


def test_torch_still_has_the_bug_this_works_around() -> None:
    """If this fails, torch fixed the bug and the workaround in ``Conv._on_new_input`` can go."""
    torch.manual_seed(0)
    x = torch.randn(2, 5, 5, 1).permute(0, 3, 1, 2)
    w = torch.randn(1, 1, 1, 5)
    wrong = F.conv2d(x, w, None, (1, 2))
    right = F.conv2d(x.double(), w.double(), None, (1, 2)).float()
    assert not torch.allclose(wrong, right, atol=1e-3)


@pytest.mark.parametrize("height,width,kernel,strides,filters,padding", [
    (h, w, k, s, f, p) for h, w, k, s, f, p in itertools.product(
        (1, 5), (3, 5, 6), ((1, 5), (3, 3), (1, 3)), ((1, 2), (2, 2), (1, 3)), (1, 3), ("valid", "same"))
    if k[0] <= h and k[1] <= w
])
def test_one_channel_conv2d_matches_float64(height, width, kernel, strides, filters, padding) -> None:
    torch.manual_seed(0)
    layer = Conv2D(filters, kernel, strides=strides, padding=padding, bias_initializer="random_normal")
    x = torch.randn(2, height, width, 1)
    y = layer(x)
    ref = layer.double()(x.double())
    assert_close(y.double(), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("length,kernel,strides", [(5, 5, 2), (3, 3, 2), (6, 5, 3), (7, 3, 2)])
def test_one_channel_conv1d_matches_float64(length, kernel, strides) -> None:
    torch.manual_seed(0)
    layer = Conv1D(3, kernel, strides=strides)
    x = torch.randn(2, length, 1)
    assert_close(layer(x).double(), layer.double()(x.double()), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("width,kernel,strides", [(5, (1, 5), (1, 2)), (3, (3, 3), (1, 2)), (8, (3, 3), (2, 2))])
def test_one_channel_depthwise_matches_float64(width, kernel, strides) -> None:
    torch.manual_seed(0)
    layer = DepthwiseConv2D(kernel, strides=strides, depth_multiplier=2)
    x = torch.randn(2, 5, width, 1)
    assert_close(layer(x).double(), layer.double()(x.double()), rtol=1e-5, atol=1e-5)


def test_one_channel_separable_matches_float64() -> None:
    from kerastorch.layers import SeparableConv2D

    torch.manual_seed(0)
    layer = SeparableConv2D(3, (1, 5), strides=(1, 2))
    x = torch.randn(2, 5, 5, 1)
    assert_close(layer(x).double(), layer.double()(x.double()), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("width,kernel,strides", [(4, (2, 3), (1, 2)), (5, (1, 5), (1, 2))])
def test_one_channel_channels_first_on_a_permuted_input(width, kernel, strides) -> None:
    """A channels_first layer given an NHWC tensor's permuted view: the same torch bug."""
    torch.manual_seed(0)
    layer = Conv2D(1, kernel, strides=strides, data_format="channels_first", use_bias=False)
    x = torch.randn(2, 5, width, 1).permute(0, 3, 1, 2)
    assert_close(layer(x).double(), layer.double()(x.double()), rtol=1e-5, atol=1e-5)

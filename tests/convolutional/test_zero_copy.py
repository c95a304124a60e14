"""The hot path does what hand-written torch does, plus one view: no hidden copies, no host syncs.

Profiles one forward+backward of a kerastorch Conv2D and of the hand-written channels_last
``F.conv2d`` with the same math, and compares the aten ops that ran. The only extra work allowed
is the kernel's ``permute`` view (Keras shape -> torch shape, no data movement) and its backward
node; everything else, including any copies torch's own conv kernels make internally, must be the
same on both sides.
"""
from __future__ import annotations

from collections import Counter

import pytest
import torch
from kt_testing import assert_close, keras_grad
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

from kerastorch.layers import Conv2D
from kerastorch.layers.utils import conv_utils

KERNEL_VIEW = Counter({"aten::permute": 1, "aten::as_strided": 1})
KERNEL_VIEW_BACKWARD = Counter({"aten::permute": 2, "aten::as_strided": 2, "PermuteBackward0": 1,  # view + its backward
                                "autograd::engine::evaluate_function: PermuteBackward0": 1})
SYNCS = {"aten::item", "aten::_local_scalar_dense"}


def _ops(fn, x0, backward):
    fn(x0)  # warm: plans cached, lazy state settled
    x = x0.clone().requires_grad_(backward)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        if backward:
            y = fn(x)
            y.backward(torch.ones_like(y))
        else:
            with torch.no_grad():
                y = fn(x)
    return Counter(e.name for e in prof.events()), y


def _hand_written(layer):
    """What an expert writes in torch for the same layer (OIHW weights in the data's memory format)."""
    first = layer.data_format == "channels_first"
    layout = torch.contiguous_format if first else torch.channels_last
    w = layer.keras_weight("kernel").detach().permute(3, 2, 0, 1).clone(memory_format=layout).requires_grad_()
    b = None if layer.bias is None else layer.bias.detach().clone().requires_grad_()

    def fn(x):
        spatial = x.shape[2:] if first else x.shape[1:3]
        v = x if first else x.permute(0, 3, 1, 2)
        pads = [conv_utils.same_padding(n, k, s, d) if layer.padding == "same" else (0, 0)
                for n, k, s, d in zip(spatial, layer.kernel_size, layer.strides, layer.dilation_rate)]
        if any(a != b_ for a, b_ in pads):
            v = F.pad(v, (0, pads[1][1] - pads[1][0], 0, pads[0][1] - pads[0][0]))
        y = F.conv2d(v, w, b, layer.strides, tuple(p[0] for p in pads), layer.dilation_rate, layer.groups)
        return y if first else y.permute(0, 2, 3, 1)

    return fn


CASES = [
    dict(filters=8, kernel_size=3, padding="same"),  # symmetric split: conv padding only
    dict(filters=8, kernel_size=3, padding="same", strides=2),  # TF split (0, 1): one explicit pad
    dict(filters=8, kernel_size=3, padding="valid", strides=2),
    dict(filters=8, kernel_size=4, padding="same", strides=2),
    dict(filters=8, kernel_size=1),
    dict(filters=8, kernel_size=3, padding="same", groups=2, dilation_rate=2),
    dict(filters=8, kernel_size=3, padding="same", data_format="channels_first"),
]


@pytest.mark.parametrize("backward", [False, True], ids=["fwd", "fwd+bwd"])
@pytest.mark.parametrize("kwargs", CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_same_ops_as_hand_written_torch_plus_at_most_one_view(kwargs, backward):
    first = kwargs.get("data_format") == "channels_first"
    layer = Conv2D(**kwargs, input_shape=(4, 32, 32) if first else (32, 32, 4))
    x = torch.randn((2, 4, 32, 32) if first else (2, 32, 32, 4))
    ours, y = _ops(layer, x, backward)
    theirs, y_ref = _ops(_hand_written(layer), x, backward)
    assert_close(y, y_ref)
    # channels_last reads the stored (out, kh, kw, in) kernel through one permuted view; channels_first
    # stores torch's own (out, in, kh, kw) layout and runs exactly the hand-written ops.
    expected = Counter() if first else (KERNEL_VIEW_BACKWARD if backward else KERNEL_VIEW)
    assert ours - theirs == expected
    assert not theirs - ours
    assert not SYNCS & set(ours)
    if backward:  # gradients arrive in the parameter's own (strided) layout: no copy in AccumulateGrad
        assert layer.kernel.grad.stride() == layer.kernel.stride()


def test_channels_last_output_is_a_contiguous_nhwc_view():
    y = Conv2D(8, 3, padding="same", input_shape=(16, 16, 4))(torch.randn(2, 16, 16, 4))
    assert y.is_contiguous()

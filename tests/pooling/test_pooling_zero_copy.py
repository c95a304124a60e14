"""The pooling hot path runs what hand-written channels_last torch runs: no hidden copies, no host syncs.

Profiles one forward (and forward+backward) of a kerastorch pooling layer and of the hand-written torch
(``F.max_pool2d`` / ``F.avg_pool2d`` on ``x.permute(0, 3, 1, 2)``, TF's 'same' split written as torch's
``padding``, ``ceil_mode`` for a stride > 1, and for a stride-1 even pool the symmetric padding by the larger
half with its first output sliced off), and compares the aten ops that ran: they must be the same multiset.
The forward writes nothing but the pooling output (no pad, no layout copy).
"""
from __future__ import annotations

from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

import kerastorch.layers as L
from kt_testing import assert_close
from kerastorch.layers.utils import conv_utils

SYNCS = {"aten::item", "aten::_local_scalar_dense"}
COPIES = {"aten::copy_", "aten::contiguous", "aten::clone", "aten::constant_pad_nd"}


def _ops(fn, x0, backward):
    fn(x0)  # warm: the plan is made for this size
    x = x0.clone().requires_grad_(backward)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        if backward:
            y = fn(x)
            (grad,) = torch.autograd.grad(y, x, torch.ones_like(y))
        else:
            with torch.no_grad():
                y = fn(x)
            grad = None
    return Counter(e.name for e in prof.events()), y, grad


def _hand_written(cls: str, kwargs: dict, shape: tuple):
    """What an expert writes in torch for TF's pooling of one input size."""
    pool_size, strides = kwargs["pool_size"], kwargs.get("strides", kwargs["pool_size"])
    first = kwargs.get("data_format") == "channels_first"
    spatial = shape[2:] if first else shape[1:-1]
    rank = len(spatial)
    k, s = (pool_size,) * rank, (strides,) * rank
    padding, ceil, crop = [], False, []
    for n, ki, si in zip(spatial, k, s):
        before, after = conv_utils.same_padding(n, ki, si, 1) if kwargs.get("padding") == "same" else (0, 0)
        padding.append(after if after != before and si == 1 else before)
        ceil |= after != before and si > 1
        crop.append(after != before and si == 1)
    maxp = cls.startswith("Max")
    pool = {(2, True): F.max_pool2d, (2, False): F.avg_pool2d, (3, True): F.max_pool3d, (3, False): F.avg_pool3d}[rank, maxp]
    extra = {} if maxp else {"count_include_pad": False}
    to_first, to_last = (0, rank + 1, *range(1, rank + 1)), (0, *range(2, rank + 2), 1)
    off = 2 if first else 1

    def fn(x):
        y = pool(x if first else x.permute(to_first), k, s, padding, ceil_mode=ceil, **extra)
        y = y if first else y.permute(to_last)
        for d, c in enumerate(crop):
            if c:
                y = y.narrow(off + d, 1, y.shape[off + d] - 1)
        return y

    return fn


CASES = [
    ("MaxPooling2D", dict(pool_size=2)),
    ("MaxPooling2D", dict(pool_size=3, strides=2, padding="same")),  # TF split (0, 1), stride 2: ceil_mode
    ("MaxPooling2D", dict(pool_size=2, strides=1, padding="same")),  # stride 1 even pool: padding 1, first row/col off
    ("MaxPooling2D", dict(pool_size=3, strides=1, padding="same", data_format="channels_first")),
    ("AveragePooling2D", dict(pool_size=2)),
    ("AveragePooling2D", dict(pool_size=3, strides=2, padding="same")),
    ("AveragePooling2D", dict(pool_size=2, strides=1, padding="same")),
    ("AveragePooling2D", dict(pool_size=2, strides=1, padding="same", data_format="channels_first")),
    ("MaxPooling3D", dict(pool_size=2, strides=2, padding="same")),
    ("MaxPooling3D", dict(pool_size=2, strides=1, padding="same")),
    ("AveragePooling3D", dict(pool_size=3, strides=2, padding="same")),
]


def _id(v):
    return v if isinstance(v, str) else ",".join(f"{a}={b}" for a, b in v.items())


@pytest.mark.parametrize("backward", [False, True], ids=["fwd", "fwd+bwd"])
@pytest.mark.parametrize("cls,kwargs", CASES, ids=_id)
def test_same_ops_as_hand_written_torch(cls, kwargs, backward):
    layer = getattr(L, cls)(**kwargs)
    rank = 3 if cls.endswith("3D") else 2
    first = kwargs.get("data_format") == "channels_first"
    spatial = (9, 8, 7)[:rank]
    shape = (2, 8, *spatial) if first else (2, *spatial, 8)
    x = torch.randn(shape)
    ours, y, g = _ops(layer, x, backward)
    theirs, y_ref, g_ref = _ops(_hand_written(cls, kwargs, shape), x, backward)
    assert_close(y, y_ref)
    if backward:
        assert_close(g, g_ref)
    assert ours == theirs, f"extra: {ours - theirs}, missing: {theirs - ours}"
    assert not SYNCS & set(ours)
    # torch's CPU avg_pool3d makes a contiguous copy of a channels_last_3d input itself (hand-written torch
    # too, as compared above) and returns NCDHW memory; every other kernel keeps the input's layout
    if not backward and cls != "AveragePooling3D":
        assert not COPIES & set(ours), COPIES & set(ours)
    sliced = kwargs.get("padding") == "same" and kwargs.get("strides") == 1 and kwargs["pool_size"] % 2 == 0
    if cls != "AveragePooling3D" and not sliced:  # a sliced output is a view of the contiguous pooling output
        assert y.is_contiguous()
    if backward and cls != "AveragePooling3D":
        assert g.is_contiguous()  # the input gradient comes back in the input's layout


@pytest.mark.parametrize("cls", ["MaxPooling1D", "AveragePooling1D"])
@pytest.mark.parametrize("kwargs", [dict(pool_size=3, strides=2, padding="same"), dict(pool_size=2, strides=1, padding="same")],
                         ids=_id)
def test_1d_channels_last_runs_on_the_channels_last_view(cls, kwargs):
    """A 1-D layer runs torch's 2-D kernel over the (N, C, 1, L) view of (N, L, C): no layout copy."""
    layer = getattr(L, cls)(**kwargs)
    x = torch.randn(2, 16, 8)
    ops, y, g = _ops(layer, x, backward=True)
    assert not {"aten::contiguous", "aten::clone", "aten::constant_pad_nd"} & set(ops)
    assert g.is_contiguous()
    fwd_ops, _, _ = _ops(layer, x, backward=False)
    assert not COPIES & set(fwd_ops)


@pytest.mark.parametrize("cls,op", [("GlobalMaxPooling2D", "amax"), ("GlobalAveragePooling2D", "mean"),
                                    ("GlobalMaxPooling3D", "amax"), ("GlobalAveragePooling1D", "mean")])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_pooling_is_the_one_reduction(cls, op, data_format):
    """The same ops as ``x.amax(dims)`` / ``x.mean(dims)`` on the tensor as it is (torch's ``mean`` copies its
    small (N, C) result internally: the hand-written reduction does the same)."""
    layer = getattr(L, cls)(data_format=data_format)
    rank = int(cls[-2])
    first = data_format == "channels_first"
    dims = tuple(range(2, 2 + rank)) if first else tuple(range(1, 1 + rank))
    x = torch.randn(2, *(6, 5, 4)[:rank], 8) if not first else torch.randn(2, 8, *(6, 5, 4)[:rank])
    for backward in (False, True):
        ours, y, g = _ops(layer, x, backward)
        theirs, y_ref, g_ref = _ops(lambda t: getattr(t, op)(dims), x, backward)
        assert ours == theirs, f"extra: {ours - theirs}, missing: {theirs - ours}"
        assert_close(y, y_ref)
        assert ours[f"aten::{op}"] == 1 and not SYNCS & set(ours)

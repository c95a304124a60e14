"""TF's pooling semantics over many sizes, against a direct numpy transcription of TF's definition.

TF 'same': ``out = ceil(n / s)``, ``total = max((out - 1) * s + k - n, 0)``, ``before = total // 2``; max
pooling ignores padded positions, average pooling divides by the real positions of each window. The layers
reach this through torch's symmetric padding, ``ceil_mode`` or an explicit pad (see ``base_pooling``); this
sweep covers every branch (stride 1 with even pools, strides > 1 with odd totals, pools larger than the
input, strides larger than the pool) in both data formats, and float64 gradients by ``gradcheck``.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import kerastorch.layers as L
from kt_testing import assert_close


def tf_pool(x: np.ndarray, pool, strides, padding, mode, channels_first=False) -> np.ndarray:
    """TF's pooling of a channels_last array, written from its definition (loops over output positions)."""
    if channels_first:
        x = np.moveaxis(x, 1, -1)
    spatial = x.shape[1:-1]
    ranges = []
    for n, k, s in zip(spatial, pool, strides):
        if padding == "same":
            out = -(-n // s)
            before = max((out - 1) * s + k - n, 0) // 2
        else:
            out, before = (n - k) // s + 1, 0
        ranges.append([(max(i * s - before, 0), min(i * s - before + k, n)) for i in range(out)])
    y = np.zeros((x.shape[0], *[len(r) for r in ranges], x.shape[-1]), x.dtype)
    for idx in itertools.product(*[range(len(r)) for r in ranges]):
        window = x[(slice(None), *[slice(*ranges[d][i]) for d, i in enumerate(idx)])]
        axes = tuple(range(1, 1 + len(idx)))
        y[(slice(None), *idx)] = window.max(axis=axes) if mode == "max" else window.mean(axis=axes)
    return np.moveaxis(y, -1, 1) if channels_first else y


def layer_cls(mode: str, rank: int):
    return getattr(L, f"{'MaxPooling' if mode == 'max' else 'AveragePooling'}{rank}D")


CONFIGS = [
    (n, k, s, padding)
    for n in (1, 2, 4, 5, 7)
    for k in (1, 2, 3, 5)
    for s in (1, 2, 3)
    for padding in ("valid", "same")
    if padding == "same" or n >= k
]


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("channels_first", [False, True], ids=["cl", "cf"])
def test_1d_sweep_matches_tf_definition(mode, channels_first):
    rng = np.random.default_rng(0)
    for n, k, s, padding in CONFIGS:
        x = rng.standard_normal((2, 3, n) if channels_first else (2, n, 3)).astype(np.float64)
        layer = layer_cls(mode, 1)(k, s, padding, data_format="channels_first" if channels_first else "channels_last")
        y = layer(torch.from_numpy(x))
        assert_close(y, tf_pool(x, (k,), (s,), padding, mode, channels_first), msg=f"n={n} k={k} s={s} {padding}")


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_2d_mixed_splits_match_tf_definition(mode):
    """Per-dim combinations of the three 'same' branches (symmetric, ceil_mode, explicit pad)."""
    rng = np.random.default_rng(1)
    for (n1, k1, s1), (n2, k2, s2) in itertools.product([(5, 2, 1), (6, 3, 2), (5, 3, 1), (4, 5, 2)], repeat=2):
        for channels_first in (False, True):
            shape = (2, 3, n1, n2) if channels_first else (2, n1, n2, 3)
            x = rng.standard_normal(shape)
            layer = layer_cls(mode, 2)((k1, k2), (s1, s2), "same",
                                       data_format="channels_first" if channels_first else "channels_last")
            expected = tf_pool(x, (k1, k2), (s1, s2), "same", mode, channels_first)
            assert_close(layer(torch.from_numpy(x)), expected, msg=str((n1, k1, s1, n2, k2, s2, channels_first)))


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_3d_mixed_splits_match_tf_definition(mode):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 6, 4, 2))
    for pool, strides in [((2, 3, 5), (1, 2, 2)), ((3, 2, 2), (2, 1, 3)), ((4, 4, 1), (3, 2, 1))]:
        y = layer_cls(mode, 3)(pool, strides, "same")(torch.from_numpy(x))
        assert_close(y, tf_pool(x, pool, strides, "same", mode), msg=str((pool, strides)))


GRADCHECK = [
    (1, 2, 1, (2, 5, 3)),  # stride 1, even pool: the explicit pad (and, for average, the divisor map)
    (1, 3, 2, (2, 6, 2)),  # stride 2, odd total: ceil_mode
    (2, (2, 3), (1, 2), (1, 5, 6, 2)),  # one dim of each
    (3, (2, 3, 1), (1, 2, 2), (1, 3, 4, 5, 2)),
]


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("rank,pool,strides,shape", GRADCHECK, ids=lambda v: str(v))
def test_float64_gradcheck_asymmetric_same(mode, rank, pool, strides, shape):
    layer = layer_cls(mode, rank)(pool, strides, "same")
    n = int(np.prod(shape))
    # distinct values: max pooling is differentiable away from ties
    x = (torch.randperm(n, generator=torch.Generator().manual_seed(3)).double() / n).reshape(shape).requires_grad_()
    assert torch.autograd.gradcheck(layer, (x,))
    if mode == "avg" and rank < 3:  # second order: the divisor map is a constant factor
        assert torch.autograd.gradgradcheck(layer, (x,))


@pytest.mark.parametrize("cls", ["GlobalMaxPooling2D", "GlobalAveragePooling2D"])
def test_global_float64_gradcheck(cls):
    x = (torch.randperm(48, generator=torch.Generator().manual_seed(4)).double() / 48).reshape(2, 4, 3, 2)
    assert torch.autograd.gradcheck(getattr(L, cls)(keepdims=True), (x.requires_grad_(),))


def test_max_pooling_same_never_picks_padding():
    """All-negative inputs: a padded position (0 in a zero-padding implementation) must never win."""
    x = -1 - torch.rand(1, 5, 5, 1)
    for layer in (L.MaxPooling2D(2, 1, "same"), L.MaxPooling2D(3, 2, "same"), L.MaxPooling2D(4, 3, "same")):
        assert (layer(x) < -1).all()


def test_plan_follows_the_input_size():
    """The padding plan is made per spatial size; a new size (or batch) gets its own."""
    layer = L.AveragePooling2D(2, 1, "same")
    for n in (4, 5, 3, 5):
        x = torch.randn(2, n, n + 1, 3, dtype=torch.float64)
        assert_close(layer(x), tf_pool(x.numpy(), (2, 2), (1, 1), "same", "avg"))
    x = torch.randn(3, 5, 6, 3, dtype=torch.float64)
    assert_close(layer(x), tf_pool(x.numpy(), (2, 2), (1, 1), "same", "avg"))
    layer32 = layer(x.float())  # a new dtype: the divisor map follows
    assert layer32.dtype == torch.float32


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("channels_first", [False, True], ids=["cl", "cf"])
def test_3d_windows_larger_than_the_input(mode, channels_first):
    """torch's avg_pool3d refuses a window larger than the unpadded input: the explicit-pad fallback."""
    rng = np.random.default_rng(5)
    for pool, strides, spatial in [((5, 2, 3), (2, 1, 3), (4, 5, 7)), ((4, 4, 4), (1, 2, 3), (3, 2, 1)),
                                   ((2, 6, 1), (1, 1, 1), (3, 5, 2))]:
        shape = (2, 2, *spatial) if channels_first else (2, *spatial, 2)
        x = rng.standard_normal(shape)
        layer = layer_cls(mode, 3)(pool, strides, "same", data_format="channels_first" if channels_first else "channels_last")
        expected = tf_pool(x, pool, strides, "same", mode, channels_first)
        assert_close(layer(torch.from_numpy(x)), expected, msg=str((pool, strides, spatial)))
    xg = torch.from_numpy(rng.standard_normal((1, 3, 2, 4, 2) if not channels_first else (1, 2, 3, 2, 4)))
    layer = layer_cls(mode, 3)((4, 3, 5), (2, 1, 2), "same", data_format="channels_first" if channels_first else "channels_last")
    assert torch.autograd.gradcheck(layer, (xg.requires_grad_(),))


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_valid_average_smaller_than_its_window_is_empty_as_tf_keras(rank):
    """tf.keras returns an empty tensor (recorded: average_pooling*d_errors.json e011); max pooling fails in TF."""
    x = torch.randn(2, *([1] * rank), 3, requires_grad=True)
    y = getattr(L, f"AveragePooling{rank}D")(2)(x)
    assert tuple(y.shape) == (2, *([0] * rank), 3)
    y.sum().backward()
    assert torch.equal(x.grad, torch.zeros_like(x))
    layer = getattr(L, f"MaxPooling{rank}D")(2)
    with pytest.raises(ValueError, match=f'"{layer.name}".*larger than the input'):
        layer(x)


def test_empty_batch():
    for layer in (L.MaxPooling2D(2, 1, "same"), L.AveragePooling2D(3, 2, "same"), L.GlobalMaxPooling2D()):
        y = layer(torch.randn(0, 5, 4, 3))
        assert tuple(y.shape) == layer.compute_output_shape((0, 5, 4, 3))


def test_global_average_pooling1d_mask_checks_its_shape():
    layer = L.GlobalAveragePooling1D()
    with pytest.raises(ValueError, match=f'"{layer.name}".*mask must have shape'):
        layer(torch.randn(2, 5, 3), torch.ones(2, 4, dtype=torch.bool))


def test_the_plan_is_made_once_per_input_size():
    """No per-call Python work that depends only on config and shape: the plan is reused until the size changes."""
    layer = L.AveragePooling2D(2, 1, "same")
    x = torch.randn(2, 5, 6, 3)
    layer(x)
    plan = layer._plan
    layer(x)
    layer(torch.randn(2, 5, 6, 3))
    assert layer._plan is plan
    layer(torch.randn(2, 6, 6, 3))
    assert layer._plan is not plan


def test_repr_and_config():
    layer = L.MaxPooling2D((2, 3), padding="same", name="pool")
    assert repr(layer) == ("MaxPooling2D(name='pool', pool_size=(2, 3), strides=(2, 3), padding='same', "
                           "data_format='channels_last', built=False)")
    assert "keepdims=True" in repr(L.GlobalAveragePooling3D(keepdims=True))
    clone = L.MaxPooling2D.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_empty_batch_then_a_real_one():
    """The plan follows the shape without the batch (the layer's call key): batch 0 and batch 2 share it."""
    for layer in (L.AveragePooling3D((4, 2, 2), 1, "same"), L.MaxPooling2D(2, 1, "same"), L.AveragePooling1D(3, 2, "same")):
        rank = int(type(layer).__name__[-2])
        shape = (5, 4, 3)[:rank]
        assert tuple(layer(torch.randn(0, *shape, 2)).shape) == layer.compute_output_shape((0, *shape, 2))
        x = torch.randn(2, *shape, 2, dtype=torch.float64)
        assert_close(layer(x), tf_pool(x.numpy(), layer.pool_size, layer.strides, "same",
                                       "max" if "Max" in type(layer).__name__ else "avg"))


@pytest.mark.parametrize("cls", ["GlobalMaxPooling2D", "GlobalAveragePooling2D"])
def test_global_pooling_refuses_an_empty_reduction_axis_after_build_too(cls):
    layer = getattr(L, cls)()
    layer(torch.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match=f'"{layer.name}".*Incorrect input shape \\[2, 0, 4, 5\\]'):
        layer(torch.randn(2, 0, 4, 5))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
@pytest.mark.parametrize("cls", ["MaxPooling1D", "AveragePooling1D", "MaxPooling2D", "AveragePooling2D",
                                 "MaxPooling3D", "AveragePooling3D"])
def test_half_precision(cls, dtype):
    """TF pools float16/bfloat16; torch's CPU avg_pool3d has no half kernel, so that one runs in float32."""
    rank = int(cls[-2])
    x = torch.randn(2, *(7, 6, 5)[:rank], 3).to(dtype)
    for kwargs in (dict(pool_size=2, strides=1, padding="same"), dict(pool_size=3, strides=2, padding="same"),
                   dict(pool_size=5, strides=2, padding="same")):
        y = getattr(L, cls)(**kwargs)(x.requires_grad_())
        assert y.dtype == dtype
        expected = getattr(L, cls)(**kwargs)(x.detach().float())
        assert_close(y, expected.to(dtype), kind="half")
        (g,) = torch.autograd.grad(y.float().sum(), x)
        assert g.dtype == dtype

"""The pooling tests of tf-keras 2.21 (``tf_keras/layers/pooling/*_test.py``) and Keras 3.15.1
(``keras/src/layers/pooling/{max,average,global_max,global_average}_pooling_test.py``), ported.

``layer_test`` / ``run_layer_test`` become the matching checks of the layer contract (lazy and explicit
build, ``compute_output_shape`` against the actual output, config and serialization round trips) with the
expected output shape; the Keras 3 correctness tests keep Keras 3's numpy references as they are written
(they pad 'same' after the input only, which is TF's split for every configuration they use: a total padding
of at most 1). Not ported: the ragged-tensor tests (torch has no ragged tensors), graph mode, and Keras's
``Masking`` layer (kerastorch has no implicit masks: the mask is passed to the call explicitly).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import as_strided

import kerastorch.layers as L
from kt_testing import assert_close
from layer_contract import LayerCase, run_check

LAYER_TEST = ["lazy_build", "explicit_build", "compute_output_shape", "config_round_trip", "serialize_round_trip"]


def layer_test(cls, kwargs, input_shape, expected_output_shape=None):
    """tf-keras ``layer_test`` / Keras 3 ``run_layer_test`` (shapes, build, config) on the contract's checks."""
    case = LayerCase(cls, dict(kwargs), tuple(input_shape), expected_output_shape=expected_output_shape,
                     expected_num_weights=0)
    for name in LAYER_TEST:
        run_check(case, name)
    layer = cls(**kwargs)
    y = layer(torch.randn(input_shape))
    if expected_output_shape is not None:
        assert tuple(y.shape) == tuple(expected_output_shape)
    assert layer.get_weights() == [] and layer.losses == []


# ------------------------------------------------------------------------------------------------
# tf-keras: max_pooling_test.py, average_pooling_test.py
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [L.MaxPooling1D, L.AveragePooling1D])
def test_tf_keras_pooling_1d(cls):
    for padding in ["valid", "same"]:
        for stride in [1, 2]:
            layer_test(cls, {"strides": stride, "padding": padding}, (3, 5, 4))
    layer_test(cls, {"data_format": "channels_first"}, (3, 2, 6))


def test_tf_keras_max_pooling_2d():
    for strides in [(1, 1), (2, 2)]:
        layer_test(L.MaxPooling2D, {"strides": strides, "padding": "valid", "pool_size": (3, 3)}, (3, 5, 6, 4))


def test_tf_keras_average_pooling_2d():
    layer_test(L.AveragePooling2D, {"strides": (2, 2), "padding": "same", "pool_size": (2, 2)}, (3, 5, 6, 4))
    layer_test(L.AveragePooling2D, {"strides": (2, 2), "padding": "valid", "pool_size": (3, 3)}, (3, 5, 6, 4))
    # GPU-only in tf-keras (TF's CPU kernels refuse NCHW); torch runs it anywhere
    layer_test(L.AveragePooling2D, {"strides": (1, 1), "padding": "valid", "pool_size": (2, 2),
                                    "data_format": "channels_first"}, (3, 4, 5, 6))


@pytest.mark.parametrize("cls", [L.MaxPooling3D, L.AveragePooling3D])
def test_tf_keras_pooling_3d(cls):
    pool_size = (3, 3, 3)
    layer_test(cls, {"strides": 2, "padding": "valid", "pool_size": pool_size}, (3, 11, 12, 10, 4))
    layer_test(cls, {"strides": 3, "padding": "valid", "data_format": "channels_first", "pool_size": pool_size},
               (3, 4, 11, 12, 10))


# ------------------------------------------------------------------------------------------------
# tf-keras: global_max_pooling_test.py, global_average_pooling_test.py
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["GlobalMaxPooling", "GlobalAveragePooling"])
def test_tf_keras_global_pooling(kind):
    layer_test(getattr(L, f"{kind}1D"), {}, (3, 4, 5))
    layer_test(getattr(L, f"{kind}1D"), {"data_format": "channels_first"}, (3, 4, 5))
    layer_test(getattr(L, f"{kind}2D"), {"data_format": "channels_first"}, (3, 4, 5, 6))
    layer_test(getattr(L, f"{kind}2D"), {"data_format": "channels_last"}, (3, 5, 6, 4))
    layer_test(getattr(L, f"{kind}3D"), {"data_format": "channels_first"}, (3, 4, 3, 4, 3))
    layer_test(getattr(L, f"{kind}3D"), {"data_format": "channels_last"}, (3, 4, 3, 4, 3))


@pytest.mark.parametrize("kind", ["GlobalMaxPooling", "GlobalAveragePooling"])
def test_tf_keras_global_pooling_keepdims(kind):
    layer_test(getattr(L, f"{kind}1D"), {"keepdims": True}, (3, 4, 5), (3, 1, 5))
    layer_test(getattr(L, f"{kind}1D"), {"data_format": "channels_first", "keepdims": True}, (3, 4, 5), (3, 4, 1))
    layer_test(getattr(L, f"{kind}2D"), {"data_format": "channels_first", "keepdims": True}, (3, 4, 5, 6), (3, 4, 1, 1))
    layer_test(getattr(L, f"{kind}2D"), {"data_format": "channels_last", "keepdims": True}, (3, 4, 5, 6), (3, 1, 1, 6))
    layer_test(getattr(L, f"{kind}3D"), {"data_format": "channels_first", "keepdims": True}, (3, 4, 3, 4, 3),
               (3, 4, 1, 1, 1))
    layer_test(getattr(L, f"{kind}3D"), {"data_format": "channels_last", "keepdims": True}, (3, 4, 3, 4, 3),
               (3, 1, 1, 1, 3))


@pytest.mark.parametrize("kind", ["GlobalMaxPooling", "GlobalAveragePooling"])
def test_tf_keras_global_pooling_invalid_input_dimension(kind):
    with pytest.raises(ValueError, match="Incorrect input shape"):
        getattr(L, f"{kind}1D")().build((None, 0, 2))
    with pytest.raises(ValueError, match="Incorrect input shape"):
        getattr(L, f"{kind}3D")(keepdims=True).build((None, 0, 16, 16, 3))


@pytest.mark.parametrize("keepdims", [False, True])
def test_tf_keras_global_average_pooling_1d_masking_support(keepdims):
    """tf-keras's Masking(mask_value=0) + GlobalAveragePooling1D, with the mask passed explicitly."""
    rng = np.random.default_rng(0)
    model_input = rng.random((2, 3, 4))
    model_input[0, 1:, :] = 0
    x = torch.from_numpy(model_input).float()
    mask = (x != 0).any(-1)  # what Masking(mask_value=0.0) computes
    output = L.GlobalAveragePooling1D(keepdims=keepdims)(x, mask=mask)
    if keepdims:
        assert tuple(output.shape) == (2, 1, 4)
        output = output[:, 0]
    assert_close(output[0], model_input[0, 0, :].astype("float32"))


def test_tf_keras_global_average_pooling_1d_mixed_float16_policy():
    layer = L.GlobalAveragePooling1D(dtype="mixed_float16")
    x = torch.randn(2, 36, 512, dtype=torch.float16)
    mask = torch.rand(2, 36) > 0.5
    y = layer(x, mask)
    assert y.dtype == torch.float16 and tuple(y.shape) == (2, 512)


# ------------------------------------------------------------------------------------------------
# Keras 3: {max,average}_pooling_test.py (numpy references as written there)
# ------------------------------------------------------------------------------------------------
def _same_padding(input_size, pool_size, stride):
    if input_size % stride == 0:
        return max(pool_size - stride, 0)
    return max(pool_size - (input_size % stride), 0)


def np_pool(x, pool_size, strides, padding, data_format, mode):
    """Keras 3's ``np_{max,avg}pool{1,2,3}d`` in one: after-only 'same' padding (-inf for max, edge for average)."""
    rank = x.ndim - 2
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    pool_size = (pool_size,) * rank if isinstance(pool_size, int) else tuple(pool_size)
    strides = (strides,) * rank if isinstance(strides, int) else tuple(strides)
    if padding == "same":
        npad = [(0, 0)] + [(0, _same_padding(n, k, s)) for n, k, s in zip(x.shape[1:-1], pool_size, strides)] + [(0, 0)]
        x = (np.pad(x, npad, mode="constant", constant_values=-np.inf) if mode == "max"
             else np.pad(x, npad, mode="edge"))
    out = [int((n - k) / s) + 1 for n, k, s in zip(x.shape[1:-1], pool_size, strides)]
    shape = (x.shape[0], *out, x.shape[-1], *pool_size)
    st = (x.strides[0], *[s * xs for s, xs in zip(strides, x.strides[1:-1])], x.strides[-1], *x.strides[1:-1])
    windows = as_strided(x, shape=shape, strides=st)
    axes = tuple(range(rank + 2, 2 * rank + 2))
    y = windows.max(axis=axes) if mode == "max" else windows.mean(axis=axes)
    return np.moveaxis(y, -1, 1) if data_format == "channels_first" else y


BASIC = {  # Keras 3's MaxPoolingBasicTest / AveragePoolingBasicTest parameters
    "MaxPooling1D": [(2, 1, "valid", "channels_last", (3, 5, 4), (3, 4, 4)),
                     (2, 1, "same", "channels_first", (3, 5, 4), (3, 5, 4)),
                     ((2,), (2,), "valid", "channels_last", (3, 5, 4), (3, 2, 4))],
    "MaxPooling2D": [(2, 1, "valid", "channels_last", (3, 5, 5, 4), (3, 4, 4, 4)),
                     (2, 1, "same", "channels_first", (3, 5, 5, 4), (3, 5, 5, 4)),
                     ((2, 3), (2, 2), "valid", "channels_last", (3, 5, 5, 4), (3, 2, 2, 4))],
    "MaxPooling3D": [(2, 1, "valid", "channels_last", (3, 5, 5, 5, 4), (3, 4, 4, 4, 4)),
                     (2, 1, "same", "channels_first", (3, 5, 5, 5, 4), (3, 5, 5, 5, 4)),
                     ((2, 3, 2), (2, 2, 1), "valid", "channels_last", (3, 5, 5, 5, 4), (3, 2, 2, 4, 4))],
    "AveragePooling1D": [(2, 1, "valid", "channels_last", (3, 5, 4), (3, 4, 4)),
                         (2, 1, "same", "channels_first", (3, 5, 4), (3, 5, 4)),
                         ((2,), (2,), "valid", "channels_last", (3, 5, 4), (3, 2, 4))],
    "AveragePooling2D": [(2, 1, "valid", "channels_last", (3, 5, 5, 4), (3, 4, 4, 4)),
                         (2, 1, "same", "channels_last", (3, 5, 5, 4), (3, 5, 5, 4)),
                         (2, 1, "valid", "channels_first", (3, 5, 5, 4), (3, 5, 4, 3)),
                         (2, 1, "same", "channels_first", (3, 5, 5, 4), (3, 5, 5, 4)),
                         ((2, 3), (2, 2), "valid", "channels_last", (3, 5, 5, 4), (3, 2, 2, 4)),
                         ((2, 3), (2, 2), "same", "channels_last", (3, 5, 5, 4), (3, 3, 3, 4)),
                         ((2, 3), (3, 3), "same", "channels_first", (3, 5, 5, 4), (3, 5, 2, 2))],
    "AveragePooling3D": [(2, 1, "valid", "channels_last", (3, 5, 5, 5, 4), (3, 4, 4, 4, 4)),
                         (2, 1, "same", "channels_first", (3, 5, 5, 5, 4), (3, 5, 5, 5, 4)),
                         ((2, 3, 2), (2, 2, 1), "valid", "channels_last", (3, 5, 5, 5, 4), (3, 2, 2, 4, 4))],
}


@pytest.mark.parametrize("cls,params", [(c, p) for c, ps in BASIC.items() for p in ps],
                         ids=lambda v: v if isinstance(v, str) else "-".join(map(str, v[:4])))
def test_keras3_pooling_basic(cls, params):
    pool_size, strides, padding, data_format, input_shape, output_shape = params
    layer_test(getattr(L, cls), {"pool_size": pool_size, "strides": strides, "padding": padding,
                                 "data_format": data_format}, input_shape, output_shape)


CORRECTNESS = {  # Keras 3's *CorrectnessTest parameters (the 'same' ones included: TF's backend runs them)
    ("MaxPooling1D", (2, 3, 4)): [(2, 1, "valid", "channels_last"), (2, 1, "valid", "channels_first"),
                                  (2, 1, "same", "channels_last"), (2, 1, "same", "channels_first"),
                                  ((2,), (2,), "valid", "channels_last"), ((2,), (2,), "valid", "channels_first")],
    ("MaxPooling2D", (1, 5, 5, 4)): [(2, 1, "valid", "channels_last"), (2, 1, "valid", "channels_first"),
                                     ((2, 2), (2, 2), "same", "channels_last"), ((2, 2), (2, 2), "same", "channels_first"),
                                     ((2, 3), (3, 3), "same", "channels_last")],
    ("MaxPooling3D", (2, 3, 4, 5, 2)): [(2, 1, "valid", "channels_last"), (2, 1, "same", "channels_first"),
                                        ((2, 3, 2), (2, 2, 1), "valid", "channels_last"),
                                        ((2, 3, 2), (2, 2, 1), "valid", "channels_first")],
    ("AveragePooling1D", (2, 3, 4)): [(2, 1, "valid", "channels_last"), (2, 1, "valid", "channels_first"),
                                      ((2,), (2,), "valid", "channels_last"), ((2,), (2,), "valid", "channels_first"),
                                      (2, 1, "same", "channels_last"), (2, 1, "same", "channels_first"),
                                      ((2,), (2,), "same", "channels_last"), ((2,), (2,), "same", "channels_first")],
    ("AveragePooling2D", (1, 4, 4, 1)): [(2, 1, "valid", "channels_last"), ((2, 3), (2, 2), "valid", "channels_last"),
                                         (2, (2, 1), "same", "channels_last"), (2, (2, 1), "same", "channels_first"),
                                         ((2, 2), (2, 2), "same", "channels_last"),
                                         ((2, 2), (2, 2), "same", "channels_first")],
    ("AveragePooling3D", (2, 3, 4, 5, 2)): [(2, 1, "valid", "channels_last"), (2, 1, "valid", "channels_first"),
                                            ((2, 3, 2), (2, 2, 1), "valid", "channels_last"),
                                            ((2, 3, 2), (2, 2, 1), "valid", "channels_first"),
                                            (2, 1, "same", "channels_last"), (2, 1, "same", "channels_first"),
                                            ((2, 2, 2), (2, 2, 1), "same", "channels_last"),
                                            ((2, 2, 2), (2, 2, 1), "same", "channels_first")],
}


@pytest.mark.parametrize("key,params", [(k, p) for k, ps in CORRECTNESS.items() for p in ps],
                         ids=lambda v: v[0] if isinstance(v[0], str) else "-".join(map(str, v)))
def test_keras3_pooling_correctness(key, params):
    cls, shape = key
    pool_size, strides, padding, data_format = params
    inputs = np.arange(int(np.prod(shape)), dtype="float32").reshape(shape)
    layer = getattr(L, cls)(pool_size=pool_size, strides=strides, padding=padding, data_format=data_format)
    expected = np_pool(inputs, pool_size, strides, padding, data_format, "max" if cls.startswith("Max") else "avg")
    assert_close(layer(torch.from_numpy(inputs)), expected)


# ------------------------------------------------------------------------------------------------
# Keras 3: global_{max,average}_pooling_test.py
# ------------------------------------------------------------------------------------------------
GLOBAL_BASIC = [
    ("channels_last", False, (3, 5, 4), (3, 4)), ("channels_last", True, (3, 5, 4), (3, 1, 4)),
    ("channels_first", False, (3, 5, 4), (3, 5)),
    ("channels_last", False, (3, 5, 6, 4), (3, 4)), ("channels_last", True, (3, 5, 6, 4), (3, 1, 1, 4)),
    ("channels_first", False, (3, 5, 6, 4), (3, 5)),
    ("channels_last", False, (3, 5, 6, 5, 4), (3, 4)), ("channels_last", True, (3, 5, 6, 5, 4), (3, 1, 1, 1, 4)),
    ("channels_first", False, (3, 5, 6, 5, 4), (3, 5)),
]


@pytest.mark.parametrize("kind", ["GlobalMaxPooling", "GlobalAveragePooling"])
@pytest.mark.parametrize("data_format,keepdims,input_shape,output_shape", GLOBAL_BASIC)
def test_keras3_global_pooling_basic(kind, data_format, keepdims, input_shape, output_shape):
    cls = getattr(L, f"{kind}{len(input_shape) - 2}D")
    layer_test(cls, {"data_format": data_format, "keepdims": keepdims}, input_shape, output_shape)


@pytest.mark.parametrize("kind,reduce", [("GlobalMaxPooling", np.max), ("GlobalAveragePooling", np.mean)])
@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 4, 4), (2, 3, 3, 5, 4)], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_keras3_global_pooling_correctness(kind, reduce, shape, data_format, keepdims):
    inputs = np.arange(int(np.prod(shape)), dtype="float32").reshape(shape)
    rank = len(shape) - 2
    axes = list(range(1, 1 + rank)) if data_format == "channels_last" else list(range(2, 2 + rank))
    expected = np.apply_over_axes(reduce, inputs, axes)
    if not keepdims:
        expected = expected.squeeze()
    layer = getattr(L, f"{kind}{rank}D")(data_format=data_format, keepdims=keepdims)
    assert_close(layer(torch.from_numpy(inputs)), expected)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_keras3_global_average_pooling1d_mask(data_format, keepdims):
    def np_gap1d(x, mask=None):
        steps_axis = 1 if data_format == "channels_last" else 2
        if mask is not None:
            mask = np.expand_dims(mask, 2 if data_format == "channels_last" else 1)
            x = x * mask
            res = np.sum(x, axis=steps_axis) / np.sum(mask, axis=steps_axis)
        else:
            res = np.mean(x, axis=steps_axis)
        return np.expand_dims(res, axis=steps_axis) if keepdims else res

    inputs = np.arange(24, dtype="float32").reshape((2, 3, 4))
    layer = L.GlobalAveragePooling1D(data_format=data_format, keepdims=keepdims)
    assert_close(layer(torch.from_numpy(inputs)), np_gap1d(inputs))
    if data_format == "channels_last":
        mask = np.array([[1, 1, 0], [0, 1, 0]], dtype="int32")
    else:
        mask = np.array([[1, 1, 0, 0], [0, 1, 0, 1]], dtype="int32")
    assert_close(layer(torch.from_numpy(inputs), torch.from_numpy(mask)), np_gap1d(inputs, mask))

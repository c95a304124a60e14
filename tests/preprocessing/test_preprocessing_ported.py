"""tf-keras 2.21's and Keras 3.15's own tests of Rescaling and Normalization, ported to torch.

Sources: tf_keras/layers/preprocessing/normalization_test.py (its expected values come from tf.keras),
keras/src/layers/preprocessing/{normalization,rescaling}_test.py. Where the two differ kerastorch follows
tf.keras and the test says so.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from kerastorch.layers import Normalization, Rescaling
from kt_testing import assert_close


def t(values, dtype=torch.float32):
    return torch.as_tensor(np.asarray(values), dtype=dtype)


# ----------------------------------------------------------------------------------------- Rescaling
def test_rescaling_correctness_keras3():
    x = torch.rand(3, 10, 10, 3) * 255
    assert_close(Rescaling(scale=1.0 / 255, offset=0.5)(x), x / 255 + 0.5)


@pytest.mark.parametrize("kwargs,dtype", [
    (dict(scale=2, offset=0.5), torch.float32),
    (dict(scale=1.0, offset=2), torch.float32),
    (dict(scale=1.0 / 255, offset=0.5), torch.int16),
    (dict(scale=np.array(1.0 / 255.0), offset=np.array(0.5)), torch.float32),  # keras issue 20072
])
def test_rescaling_dtypes_keras3(kwargs, dtype):
    layer = Rescaling(**kwargs)
    x = (torch.rand(2, 3) * 100).to(dtype)
    y = layer(x)
    assert y.shape == (2, 3) and y.dtype == torch.float32 and layer.get_weights() == [] and layer.losses == []
    scale, offset = float(np.asarray(kwargs["scale"])), float(np.asarray(kwargs["offset"]))
    assert_close(y, x.float() * scale + offset)
    clone = Rescaling.from_config(layer.get_config())
    assert_close(clone(x), y)


def test_rescaling_vector_scale_channels_first_keras3():
    """A per-channel scale broadcasts against the LAST axis (no data_format): a channels_first (2, 3, 10, 10)
    input takes a 3-vector only if the last axis is 3; here it is 10, so it is refused clearly."""
    layer = Rescaling(scale=[1.0 / 255, 1.5 / 255, 2.0 / 255], offset=0.5)
    assert layer(torch.rand(2, 10, 10, 3)).shape == (2, 10, 10, 3)
    with pytest.raises(ValueError, match="rescaling"):
        Rescaling(scale=[1.0 / 255, 1.5 / 255, 2.0 / 255])(torch.rand(2, 3, 10, 10))


def test_rescaling_float64_input_keeps_dtype_and_uint8_images():
    x = torch.randint(0, 256, (2, 4, 4, 3), dtype=torch.uint8)
    y = Rescaling(1.0 / 255)(x)
    assert y.dtype == torch.float32 and float(y.max()) <= 1.0
    assert Rescaling(0.5, dtype="float64")(x).dtype == torch.float64


# ----------------------------------------------------------------------------------------- Normalization
def test_normalization_basics_keras3():
    adapted = Normalization(axis=-1)
    adapted(torch.rand(2, 3))
    assert len(adapted.get_weights()) == 3 and not any(w.requires_grad for w in adapted.weights)
    static = Normalization(axis=-1, mean=np.array([0.5, 0.2, -0.1]), variance=np.array([0.1, 0.2, 0.3]))
    x = torch.rand(2, 3)
    assert_close(static(x), (x - t([0.5, 0.2, -0.1])) / t([0.1, 0.2, 0.3]).sqrt())
    assert static.get_weights() == [] and static.get_config()["mean"] == [0.5, 0.2, -0.1]
    inverse = Normalization(axis=-1, mean=np.array([0.5, 0.2, -0.1]), variance=np.array([0.1, 0.2, 0.3]), invert=True)
    assert_close(inverse(static(x)), x)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_normalization_adapt_keras3(as_tensor):
    rng = np.random.default_rng(0)
    x = rng.random((32, 4))
    layer = Normalization()
    layer.adapt(torch.from_numpy(x) if as_tensor else x)
    assert layer.built
    out = layer(torch.from_numpy(x).float()).numpy()
    np.testing.assert_allclose(np.var(out, axis=0), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.mean(out, axis=0), 0.0, atol=1e-5)
    x = rng.random((32, 4, 3, 5))
    layer = Normalization(axis=(1, 2))
    layer.adapt(x)
    out = layer(torch.from_numpy(x).float()).numpy()
    np.testing.assert_allclose(np.var(out, axis=(0, 3)), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.mean(out, axis=(0, 3)), 0.0, atol=1e-5)


def test_normalization_adapt_batches_iterable():
    """adapt() over an iterator of batches (what tf.keras does with a batched dataset); a list is data."""
    x = np.random.default_rng(1).random((32, 4)).astype(np.float32)
    whole, batched = Normalization(), Normalization()
    whole.adapt(x)
    batched.adapt(iter([x[i:i + 8] for i in range(0, 32, 8)]))
    for a, b in zip(whole.get_weights(), batched.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5)


@pytest.mark.parametrize("kwargs,match", [
    (dict(mean=0.5), "both `mean` and `variance` must be set"),
    (dict(variance=0.1), "both `mean` and `variance` must be set"),
])
def test_normalization_mean_or_variance_only(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Normalization(**kwargs)


@pytest.mark.parametrize("axis,shape", [(3, (2, 2)), (-4, (2, 3, 4)), ((1, 3), (None, 2, 3)), ((1, -4), (None, 2, 3))])
def test_normalization_bad_axis_fails_build(axis, shape):
    with pytest.raises(ValueError, match="in the range"):
        Normalization(axis=axis).build(shape)


def test_normalization_unknown_axis_shape():
    with pytest.raises(ValueError, match="axis.*must have known shape"):
        Normalization(axis=1).build((None, None))
    with pytest.raises(ValueError, match="axis.*must have known shape"):
        Normalization(axis=-1).build((None,))


def test_normalization_adapt_incompatible_shape_keras3():
    layer = Normalization(axis=-1)
    layer.build((10, 5))
    before = layer.get_weights()
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(np.random.random((10, 3)))
    # a refused adapt leaves the state as it was (reset_state would have run first in Keras)
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in before]


def test_normalization_scalar_mean_var_keras3():
    assert_close(Normalization(mean=3.0, variance=2.0)(t([[1, 2, 3]])), (t([[1, 2, 3]]) - 3.0) / 2.0 ** 0.5)


def test_broadcasting_during_direct_setting_tf_keras():
    layer = Normalization(axis=-1, mean=[1.0], variance=[1.0])
    assert_close(layer(t([[1.0, 2.0]])), t([[0.0, 1.0]]))
    assert layer.get_weights() == []


def test_1d_and_0d_data_tf_keras():
    y = Normalization(mean=1.0, variance=1.0)(t([0.0, 2.0, 0.0, 2.0]))
    assert y.shape == (4,)
    assert_close(y, t([-1, 1, -1, 1]))
    y = Normalization(axis=None, mean=1.0, variance=1.0)(torch.tensor(0.0))
    assert y.shape == ()
    assert_close(y, torch.tensor(-1.0))


def test_list_input_tf_keras():
    with pytest.raises(ValueError, match="normalization"):
        Normalization()([torch.tensor([1.0]), torch.tensor([2.0])])
    with pytest.raises(ValueError, match="Normalization only accepts a single input"):
        Normalization().build([(None, 3), (None, 3)])


def test_scalar_input_tf_keras():
    with pytest.raises(ValueError, match="axis.*values must be in the range"):
        Normalization()(torch.tensor(1.0))


def test_output_dtype_tf_keras():
    x = torch.ones(16, 1, dtype=torch.float64)
    assert Normalization(mean=1.0, variance=1.0, dtype="float16")(x).dtype == torch.float16
    assert Normalization(mean=1.0, variance=1.0, dtype="float64")(x).dtype == torch.float64


def test_invert_tf_keras():
    data = t([0.0, 4.0, 0.0, 4.0])
    out = Normalization(mean=2.0, variance=4.0)(data)
    back = Normalization(mean=2.0, variance=4.0, invert=True)(out)
    assert back.shape == (4,)
    assert_close(back, data)


def test_invert_adapt_tf_keras():
    data = [[0.0], [4.0], [0.0], [4.0]]
    norm, inv = Normalization(axis=-1), Normalization(axis=-1, invert=True)
    norm.adapt(data)
    inv.adapt(data)
    back = inv(norm(t(data)))
    assert back.shape == (4, 1)
    assert_close(back, t(data))


def test_layer_api_compatibility_tf_keras():
    layer = Normalization(axis=-1)
    layer.adapt(np.array([[1, 2, 1], [2, 3, 4], [1, 2, 1], [2, 3, 4]]))
    y = layer(t([[3, 1, 2], [6, 5, 4]]))
    assert_close(y, t([[3.0, -3.0, -0.33333333], [9.0, 5.0, 1.0]]), rtol=1e-5)


LAYER_COMPUTATION = [  # tf-keras _get_layer_computation_test_cases (values from tf.keras)
    ("2d_single_element", [[1.0], [2.0], [3.0], [4.0], [5.0]], np.float32, -1, [[1.0], [2.0], [3.0]],
     [[-1.414214], [-0.707107], [0]]),
    ("2d_int_data", [[1], [2], [3], [4], [5]], np.int32, -1, [[1], [2], [3]], [[-1.414214], [-0.707107], [0]]),
    ("2d_single_element_none_axis", [[1.0], [2.0], [3.0], [4.0], [5.0]], np.float32, None, [[1.0], [2.0], [3.0]],
     [[-1.414214], [-0.707107], [0]]),
    ("2d_single_element_none_axis_flat_data", [[1.0, 2.0, 3.0, 4.0, 5.0]], np.float32, None, [[1.0], [2.0], [3.0]],
     [[-1.414214], [-0.707107], [0]]),
    ("3d_internal_axis", [[[1.0, 2.0, 3.0], [2.0, 3.0, 4.0]], [[3.0, 4.0, 5.0], [4.0, 5.0, 6.0]]], np.float32, 1,
     [[[1.0, 2.0, 3.0], [2.0, 3.0, 4.0]], [[3.0, 4.0, 5.0], [4.0, 5.0, 6.0]]],
     [[[-1.549193, -0.774597, 0.0], [-1.549193, -0.774597, 0.0]], [[0.0, 0.774597, 1.549193], [0.0, 0.774597, 1.549193]]]),
    ("3d_multiple_axis", [[[1.0, 0.0, 3.0], [2.0, 3.0, 4.0]], [[3.0, -1.0, 5.0], [4.0, 5.0, 8.0]]], np.float32, (1, 2),
     [[[3.0, 1.0, -1.0], [2.0, 5.0, 4.0]], [[3.0, 0.0, 5.0], [2.0, 5.0, 8.0]]],
     [[[1.0, 3.0, -5.0], [-1.0, 1.0, -1.0]], [[1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]]]),
    ("zero_variance", np.zeros((3, 4)).tolist(), np.float64, -1, np.zeros((3, 4)).tolist(), np.zeros((3, 4)).tolist()),
]


@pytest.mark.parametrize("adapt_data,dtype,axis,test_data,expected", [c[1:] for c in LAYER_COMPUTATION],
                         ids=[c[0] for c in LAYER_COMPUTATION])
@pytest.mark.parametrize("use_batches", [False, True])
def test_layer_computation_tf_keras(adapt_data, dtype, axis, test_data, expected, use_batches):
    data = np.array(adapt_data, dtype=dtype)
    layer = Normalization(axis=axis)
    if use_batches:  # tf-keras crosses each case with a batched dataset (batch = len(test_data) // 2)
        size = max(len(test_data) // 2, 1)
        layer.adapt(data[i:i + size] for i in range(0, len(data), size))
    else:
        layer.adapt(data)
    x = torch.as_tensor(np.array(test_data, dtype=dtype))
    assert_close(layer(x), t(expected), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("axis", [(1, 2), (2, 1), (1, -1), (-1, 1)])
def test_axis_permutations_tf_keras(axis):
    data = np.array([[[0.0, 1.0, 2.0], [0.0, 2.0, 6.0]], [[2.0, 3.0, 4.0], [3.0, 6.0, 10.0]]])
    expect = t([[[-1.0, -1.0, -1.0], [-1.0, -1.0, -1.0]], [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]])
    layer = Normalization(axis=axis)
    layer.adapt(data)
    assert_close(layer(t(data)), expect)


def test_multiple_adapts_tf_keras():
    layer = Normalization(axis=-1)
    layer.adapt([[0], [2], [0], [2]])
    x = torch.tensor([[2], [2]], dtype=torch.int32)
    assert_close(layer(x), t([[1], [1]]))
    layer.adapt([[2], [4], [2], [4]])
    assert_close(layer(x), t([[-1], [-1]]))


@pytest.mark.parametrize("adapted", [True, False])
def test_saving_state_dict_and_config(adapted):
    """tf-keras test_saving_keras, the torch way: config + state_dict into a fresh layer."""
    data = [[0.0], [2.0], [0.0], [2.0]]
    layer = Normalization(axis=-1) if adapted else Normalization(mean=1.0, variance=1.0)
    if adapted:
        layer.adapt(data)
    x = t(data)
    assert_close(layer(x), t([[-1.0], [1.0], [-1.0], [1.0]]))
    fresh = Normalization.from_config(layer.get_config())
    fresh.load_state_dict(layer.state_dict())
    assert_close(fresh(x), t([[-1.0], [1.0], [-1.0], [1.0]]))
    assert set(layer.state_dict()) == ({"mean", "variance", "count"} if adapted else set())


def test_static_mean_of_wrong_shape_names_the_layer():
    with pytest.raises(ValueError, match='normalization.*operands could not be broadcast'):
        Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0]).build((None, 3))


def test_adapt_static_layer_refused_tf_keras():
    layer = Normalization(mean=1.0, variance=1.0)
    layer.build((None, 1))
    with pytest.raises(ValueError, match="Cannot `adapt` a Normalization layer that is initialized with static"):
        layer.update_state(np.ones((2, 1)))


@pytest.mark.parametrize("layer,text", [
    (lambda: Rescaling(scale=0.5, offset=0.1), "scale=0.5, offset=0.1"),
    (lambda: Normalization(axis=(1, 2), invert=True), "axis=(1, 2), invert=True"),
])
def test_extra_repr(layer, text):
    assert text in repr(layer())

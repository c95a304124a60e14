"""tf-keras 2.21's and Keras 3.15's own tests of Flatten, Reshape, Permute and RepeatVector, ported to torch.

Sources: tf_keras/layers/reshaping/{flatten,reshape,permute,repeat_vector}_test.py and
keras/src/layers/reshaping/{flatten,reshape,permute,repeat_vector}_test.py. Where the two differ kerastorch
follows tf.keras and the test says so.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import kerastorch as kt
from kerastorch.layers import Flatten, Permute, RepeatVector, Reshape
from kt_testing import assert_close


# ----------------------------------------------------------------------------------------- Flatten
def test_flatten_tf_keras_and_keras3():
    inputs = np.random.default_rng(0).random((10, 3, 5, 5)).astype("float32")
    inputs = inputs * (inputs >= 0.8)
    x = torch.from_numpy(inputs)
    assert_close(Flatten()(x), torch.from_numpy(inputs.reshape(-1, 75)))
    assert_close(Flatten(data_format="channels_last")(x), torch.from_numpy(inputs.reshape(-1, 75)))
    expected = np.reshape(np.transpose(inputs, (0, 2, 3, 1)), (-1, 75))
    assert_close(Flatten(data_format="channels_first")(x), torch.from_numpy(expected))
    assert Flatten()(torch.randn(3, 2, 4)).shape == (3, 8)


@pytest.mark.parametrize("data_format", [None, "channels_last", "channels_first"])
def test_flatten_scalar_channels(data_format):
    x = torch.rand(10)
    assert_close(Flatten(data_format=data_format)(x), x.unsqueeze(-1))


def test_flatten_dynamic_shapes_keras3():
    assert Flatten().compute_output_shape((None, 2, 3)) == (None, 6)
    assert Flatten().compute_output_shape((5, 2, None)) == (5, None)
    layer = Flatten()
    assert layer(torch.ones(3, 5, 7)).shape == (3, 35)
    assert layer(torch.ones(2, 7, 5)).shape == (2, 35)  # no spec fixed on the non-batch dims


def test_flatten_bad_data_format():
    with pytest.raises(ValueError, match="channels_middle"):
        Flatten(data_format="channels_middle")


# ----------------------------------------------------------------------------------------- Reshape
@pytest.mark.parametrize("target,shape,expected", [
    ((8, 1), (3, 2, 4), (3, 8, 1)), ((-1, 1), (3, 2, 4), (3, 8, 1)), ((1, -1), (3, 2, 4), (3, 1, 8)),
    ((8,), (3, 2, 4), (3, 8)), ((2, 4), (3, 8), (3, 2, 4)), ((-1,), (3, 2, 4), (3, 8)), ((2, -1), (3, 2, 4), (3, 2, 4)),
])
def test_reshape_tf_keras_and_keras3(target, shape, expected):
    x = torch.randn(shape)
    y = Reshape(target)(x)
    assert y.shape == expected
    assert_close(y, x.reshape(expected))
    assert Reshape(target).compute_output_shape((None, *shape[1:])) == (None, *expected[1:])


def test_reshape_unknown_dims_tf_keras():
    """tf-keras: Reshape((-1, 1)) on input_shape (None, None, 2)."""
    assert Reshape((-1, 1)).compute_output_shape((None, None, 2)) == (None, None, 1)
    assert Reshape((-1, 3)).compute_output_shape((4, 6, None, 3)) == (4, None, 3)
    assert Reshape((-1, 8)).compute_output_shape((None, 6, 4)) == (None, 3, 8)
    assert Reshape((1, 100)).compute_output_shape((1, None)) == (1, 1, 100)  # the batch dim is kept


def test_reshape_varying_input_size_and_minus_one_keras3():
    layer = Reshape((-1, 8))
    assert layer(torch.ones(1, 6, 4)).shape == (1, 3, 8)
    assert layer(torch.ones(1, 10, 4)).shape == (1, 5, 8)
    with pytest.raises(ValueError, match="total size of new array must be unchanged"):
        layer(torch.ones(1, 5, 3))


def test_reshape_rejects_invalid_target_shape_keras3():
    with pytest.raises(ValueError, match="-1"):
        Reshape(target_shape=(-2, 5))
    with pytest.raises(ValueError, match="at most one unknown dimension"):
        Reshape(target_shape=(-1, -1, 5))


def test_reshape_trains_with_varying_input_size_keras3():
    model = torch.nn.Sequential(Reshape((-1, 8)))
    for seq_len, first in [(12, 3), (20, 5), (24, 6)]:
        x = torch.randn(1, seq_len, 2, requires_grad=True)
        y = model(x)
        assert y.shape == (1, first, 8)
        y.sum().backward()
        assert x.grad.shape == x.shape


# ----------------------------------------------------------------------------------------- Permute
def test_permute_keras3():
    inputs = np.random.default_rng(1).random((10, 3, 5, 5)).astype("float32")
    inputs = inputs * (inputs >= 0.8)
    y = Permute((3, 1, 2))(torch.from_numpy(inputs))
    assert_close(y, torch.from_numpy(np.transpose(inputs, (0, 3, 1, 2))))
    assert Permute((2, 1)).compute_output_shape((None, 3, 5)) == (None, 5, 3)


@pytest.mark.parametrize("dims", [(0, 1, 2), (1, 4, 2)])
def test_permute_invalid_dims_keras3(dims):
    with pytest.raises(ValueError, match=r"Invalid permutation .*dims.*"):
        Permute(dims)


def test_permute_wrong_rank_input():
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=4"):
        Permute((2, 1))(torch.randn(2, 3, 4, 5))


# ----------------------------------------------------------------------------------------- RepeatVector
def test_repeat_vector_keras3():
    inputs = np.random.default_rng(2).random((2, 5)).astype("float32")
    y = RepeatVector(3)(torch.from_numpy(inputs))
    assert_close(y, torch.from_numpy(np.repeat(inputs.reshape(2, 1, 5), 3, axis=1)))
    assert RepeatVector(n=3).compute_output_shape((None, 5)) == (None, 3, 5)
    assert RepeatVector(n=3).compute_output_shape((2, None)) == (2, 3, None)


@pytest.mark.parametrize("n", ["3", 3.5, [3], True])
def test_repeat_vector_invalid_n(n):
    """tf.keras and Keras 3 raise a TypeError ("Expected an integer value for `n`"); kerastorch a ValueError with
    the same words (the house rule: bad arguments are ValueErrors naming the layer)."""
    with pytest.raises(ValueError, match="Expected an integer value for `n`"):
        RepeatVector(n=n)


def test_repeat_vector_zero_like_tf_keras_negative_refused():
    """tf.keras accepts n=0 (recorded: an empty middle axis); Keras 3 refuses it. n=-1 fails in tf.keras's call."""
    assert RepeatVector(0)(torch.randn(2, 4)).shape == (2, 0, 4)
    with pytest.raises(ValueError, match="repeat_vector"):
        RepeatVector(-1)


def test_repeat_vector_gradient_sums_the_copies():
    x = torch.randn(2, 4, requires_grad=True)
    RepeatVector(3)(x).sum().backward()
    assert_close(x.grad, torch.full((2, 4), 3.0))


# ----------------------------------------------------------------------------------------- all of them
@pytest.mark.parametrize("layer,text", [
    (lambda: Flatten(data_format="channels_first"), "data_format='channels_first'"),
    (lambda: Reshape((4, -1)), "target_shape=(4, -1)"),
    (lambda: Permute((2, 1)), "dims=(2, 1)"),
    (lambda: RepeatVector(3), "n=3"),
])
def test_extra_repr(layer, text):
    assert text in repr(layer())


@pytest.mark.parametrize("layer", [lambda: Flatten(), lambda: Reshape((4, -1)), lambda: Permute((2, 1)),
                                   lambda: RepeatVector(3)])
def test_serialize_round_trip(layer):
    original = layer()
    clone = kt.layers.deserialize(kt.layers.serialize(original))
    assert type(clone) is type(original) and clone.get_config() == original.get_config()

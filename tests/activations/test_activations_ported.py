"""tf-keras 2.21's and Keras 3.15's own tests of the activation layers, ported to torch.

Sources: tf_keras/layers/activation/{relu,prelu,softmax,thresholded_relu,elu,leaky_relu}_test.py and
keras/src/layers/activations/{relu,leaky_relu,prelu,elu,softmax}_test.py. Where the two Kerases differ,
kerastorch follows tf.keras and the test says so (Keras 3's expectation is noted next to it). The values
asserted are the Keras tests' own.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import kerastorch as kt
from kerastorch.layers import ELU, Dense, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from kt_testing import assert_close


def t(values, dtype=torch.float32):
    return torch.tensor(values, dtype=dtype)


# ----------------------------------------------------------------------------------------- ReLU
def test_relu_correctness_keras3():
    x = t([-10, -5, 0.0, 5, 10])
    assert_close(ReLU(max_value=10, negative_slope=0.0, threshold=0)(x), t([0.0, 0.0, 0.0, 5.0, 10.0]))
    assert_close(ReLU(max_value=10, negative_slope=0.5, threshold=0)(x), t([-5.0, -2.5, 0.0, 5.0, 10.0]))
    assert_close(ReLU(max_value=8, negative_slope=0.0, threshold=5)(t([6.0, 7.0, 0.0, 5, 10])),
                 t([6.0, 7.0, 0.0, 0.0, 8.0]))
    assert_close(ReLU()(t([-3.0, -1.0, 0.0, 1.0, 3.0])), t([0.0, 0.0, 0.0, 1.0, 3.0]))
    big = t([0.0, 100.0, 1000.0, 99999.0])
    assert_close(ReLU(max_value=None)(big), big)
    assert_close(ReLU()(torch.zeros(3, 4)), torch.zeros(3, 4))
    assert_close(ReLU()(t([[-1.0, 2.0], [3.0, -4.0]])), t([[0.0, 2.0], [3.0, 0.0]]))


@pytest.mark.parametrize("kwargs,message", [
    # tf.keras's words (Keras 3 says "cannot be None or a negative value. Received: max_value=-10")
    (dict(max_value=-10), "max_value of a ReLU layer cannot be a negative value. Received: -10"),
    (dict(negative_slope=None), "negative_slope of a ReLU layer cannot be a negative value. Received: None"),
    (dict(negative_slope=-10), "negative_slope of a ReLU layer cannot be a negative value. Received: -10"),
    (dict(threshold=None), "threshold of a ReLU layer cannot be a negative value. Received: None"),
    (dict(threshold=-10), "threshold of a ReLU layer cannot be a negative value. Received: -10"),
])
def test_relu_invalid_arguments_tf_keras(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ReLU(**kwargs)


def test_relu_config_keras3():
    config = ReLU(max_value=5.0, negative_slope=0.2, threshold=1.0).get_config()
    assert config["max_value"] == 5.0 and config["threshold"] == 1.0
    assert config["negative_slope"] == pytest.approx(0.2)  # tf.keras stores float32(0.2)
    defaults = ReLU().get_config()
    assert defaults["max_value"] is None and defaults["negative_slope"] == 0.0 and defaults["threshold"] == 0.0
    layer = ReLU(max_value=5.0, negative_slope=0.2, threshold=1.0)
    restored = ReLU.from_config(layer.get_config())
    assert (restored.max_value, restored.negative_slope, restored.threshold) == (
        layer.max_value, layer.negative_slope, layer.threshold)


def test_relu_compute_output_shape_keras3():
    layer = ReLU()
    assert layer.compute_output_shape((2, 3)) == (2, 3)
    assert layer.compute_output_shape((4, 5, 6)) == (4, 5, 6)
    assert layer.compute_output_shape((1,)) == (1,)


def test_relu_layer_as_activation_tf_keras():
    """tf-keras test_relu_layer_as_activation: Dense(1, activation=ReLU()) trains."""
    torch.manual_seed(0)
    layer = Dense(1, activation=ReLU())
    x, y = torch.ones(10, 10), torch.ones(10, 1)
    layer(x)
    with torch.no_grad():
        layer.bias.fill_(0.5)  # start in the active region (a zero-initialized dense may be all-negative)
    opt = torch.optim.SGD(layer.parameters(), lr=0.01)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = ((layer(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


# ----------------------------------------------------------------------------------------- LeakyReLU
def test_leaky_relu_correctness_keras3():
    x = t([-10, -5, 0.0, 5, 10])
    assert_close(LeakyReLU(negative_slope=0.5)(x), t([-5.0, -2.5, 0.0, 5.0, 10.0]))
    assert_close(LeakyReLU(alpha=0.5)(x), t([-5.0, -2.5, 0.0, 5.0, 10.0]))


def test_leaky_relu_none_tf_keras():
    with pytest.raises(ValueError, match="The alpha value of a Leaky ReLU layer cannot be None"):
        LeakyReLU(alpha=None)
    with pytest.raises(ValueError, match="cannot be None"):
        LeakyReLU(negative_slope=None)


def test_leaky_relu_negative_slope_accepted_like_tf_keras():
    """tf.keras takes any alpha (a negative one too, recorded in the fixtures); Keras 3 refuses negatives."""
    assert_close(LeakyReLU(alpha=-0.5)(t([-2.0, 2.0])), t([1.0, 2.0]))


def test_leaky_relu_both_names_refused():
    with pytest.raises(ValueError, match="not both"):
        LeakyReLU(alpha=0.1, negative_slope=0.2)


# ----------------------------------------------------------------------------------------- PReLU
def test_prelu_correctness_keras3():
    rng = np.random.default_rng(0)
    inputs = torch.tensor(rng.standard_normal((2, 10, 5, 3)), dtype=torch.float32)
    layer = PReLU(alpha_initializer="glorot_uniform", alpha_regularizer="l1", alpha_constraint="non_neg",
                  shared_axes=(1, 2))
    layer.build(tuple(inputs.shape))
    assert layer.weight_spec("alpha").shape == (1, 1, 3)
    weights = rng.random((1, 1, 3)).astype(np.float32)
    layer.set_weights([weights])
    x = inputs.numpy()
    expected = (x > 0) * x + (x <= 0) * weights * x
    assert_close(layer(inputs), torch.from_numpy(expected))
    assert len(layer.losses) == 1  # the l1 penalty on alpha


@pytest.mark.parametrize("kwargs,alpha_shape", [({}, (3, 4)), (dict(shared_axes=1), (1, 4))])
def test_prelu_layer_test_tf_keras(kwargs, alpha_shape):
    """tf-keras test_prelu / test_prelu_share: (2, 3, 4) inputs, alpha (3, 4) or (1, 4)."""
    layer = PReLU(**kwargs)
    y = layer(torch.randn(2, 3, 4))
    assert y.shape == (2, 3, 4) and layer.get_weights()[0].shape == alpha_shape
    clone = PReLU.from_config(layer.get_config())
    clone.set_weights(layer.get_weights())
    x = torch.randn(2, 3, 4)
    assert_close(clone(x), layer(x))


def test_prelu_constraint_and_regularizer_keras3():
    layer = PReLU(alpha_initializer="zeros", alpha_regularizer="L1", alpha_constraint="MaxNorm", shared_axes=1)
    layer(torch.randn(2, 3, 4))
    assert layer.get_weights()[0].shape == (1, 4)
    assert len(layer.losses) == 1


def test_prelu_input_spec_fixes_unshared_axes():
    layer = PReLU(shared_axes=[1])
    layer(torch.randn(2, 3, 4))
    layer(torch.randn(5, 7, 4))  # the shared axis takes any size
    with pytest.raises(ValueError, match="p_re_lu"):
        layer(torch.randn(2, 3, 5))


def test_prelu_shared_axis_zero_is_the_last_axis_like_keras():
    """tf.keras and Keras 3 both accept shared_axes=[0] and set param_shape[-1] = 1 (recorded: e004)."""
    layer = PReLU(shared_axes=[0])
    layer.build((None, 3, 4))
    assert layer.weight_spec("alpha").shape == (3, 1)


# ----------------------------------------------------------------------------------------- ELU
def test_elu_correctness_keras3():
    x = np.random.default_rng(1).random((2, 2, 5))

    def np_elu(v, alpha=1.0):
        return (v > 0) * v + (v <= 0) * alpha * (np.exp(v) - 1)

    xt = torch.tensor(x, dtype=torch.float64)
    assert_close(ELU()(xt), torch.from_numpy(np_elu(x)))
    assert_close(ELU()(-xt), torch.from_numpy(np_elu(-x)))
    # alpha is kept float32-rounded, as tf.keras's cast_to_floatx does: compare in float32
    assert_close(ELU(alpha=0.7)(xt.float()), torch.from_numpy(np_elu(x, 0.7)).float())
    assert_close(ELU(alpha=0.7)(-xt.float()), torch.from_numpy(np_elu(-x, 0.7)).float())


def test_elu_none_tf_keras():
    with pytest.raises(ValueError, match="Alpha of an ELU layer cannot be None, expecting a float. Received: None"):
        ELU(alpha=None)


# ----------------------------------------------------------------------------------------- Softmax
def test_softmax_correctness_keras3():
    x = t([[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]])
    expected = t([[0.21194157, 0.5761169, 0.21194157], [0.21194157, 0.5761169, 0.21194157]])
    assert_close(Softmax()(x), expected)
    assert_close(Softmax(axis=1)(x), expected)


def test_softmax_mask_over_two_axes_keras3():
    x = t([[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]])
    mask = t([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    expected = t([[0.21194154, 0.0, 0.21194154], [0.0, 0.57611686, 0.0]])
    assert_close(Softmax(axis=(1, 0))(x, mask=mask), expected)


def test_softmax_masked_values_are_zero_keras3():
    x = t([[1.0, 2.0, 5.0, 1.0], [3.0, 1.0, 2.0, 4.0]])
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    expected = t([[0.268941, 0.731059, 0.0, 0.0], [0.236883, 0.032059, 0.087144, 0.643914]])
    assert_close(Softmax()(x, mask=mask), expected, rtol=1e-5, atol=1e-6)


def test_softmax_fully_masked_row_is_uniform_like_tf_keras():
    """tf.keras adds -1e9 to masked logits, so a fully masked row comes out uniform; Keras 3 gives zeros."""
    y = Softmax()(t([[1.0, 2.0, 1.0, 1.0]]), mask=torch.tensor([[False] * 4]))
    assert_close(y, torch.full((1, 4), 0.25))


@pytest.mark.parametrize("mask", [[[1.0, 0.0, 1.0]], [1.0, 0.0, 1.0]])
def test_softmax_mask_broadcastable_keras3(mask):
    y = Softmax(axis=-1)(t([[1.0, 2.0, 1.0], [3.0, 4.0, 5.0]]), mask=t(mask))
    assert_close(y[:, 1], torch.zeros(2))


@pytest.mark.parametrize("mask", [[[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], [[[1.0, 0.0, 1.0]]]])
def test_softmax_mask_not_broadcastable_keras3(mask):
    with pytest.raises(ValueError, match="broadcastable"):
        Softmax()(t([[1.0, 2.0, 1.0]]), mask=t(mask))


def test_softmax_robust_masking_tf_keras():
    """tf-keras test_softmax_robust_masking: same as additive masking for 0/1 masks, and robust to inf."""
    x = torch.randn(2, 3, 4)
    mask = torch.rand(2, 3, 4) > 0.3
    mask[:, 0] = True  # every softmax column (axis 1) keeps one position
    plain, robust = Softmax(axis=1), Softmax(axis=1, robust_masking=True)
    assert_close(robust(x, mask=mask), plain(x, mask=mask))
    assert robust.get_config()["robust_masking"] is True and "robust_masking" not in plain.get_config()
    x_big = x.clone()
    x_big[~mask] = float("inf")  # substituted, not added: masked infinities cannot leak in
    assert torch.isfinite(robust(x_big, mask=mask)).all()
    assert_close(Softmax.from_config(robust.get_config())(x, mask=mask), robust(x, mask=mask))


def test_softmax_axis_out_of_range_is_a_value_error():
    with pytest.raises(ValueError, match="softmax"):
        Softmax(axis=3)(torch.randn(2, 3, 4))


# ----------------------------------------------------------------------------------------- ThresholdedReLU
def test_thresholded_relu_layer_test_tf_keras():
    layer = ThresholdedReLU(theta=0.5)
    x = torch.randn(2, 3, 4)
    assert_close(layer(x), torch.where(x > 0.5, x, torch.zeros_like(x)))
    assert layer.get_config()["theta"] == 0.5


@pytest.mark.parametrize("theta,message", [
    (None, "Theta of a Thresholded ReLU layer cannot be None, expecting a float. Received: None"),
    (-10, "The theta value of a Thresholded ReLU layer should be >=0. Received: -10"),
])
def test_thresholded_relu_invalid_theta_tf_keras(theta, message):
    with pytest.raises(ValueError, match=message):
        ThresholdedReLU(theta=theta)


def test_thresholded_relu_nan_and_inf():
    """NaN stays NaN, as in tf.keras (x * cast(x > theta)); -inf gives 0 where tf.keras gives NaN (-inf * 0),
    the one deliberate difference (F.threshold is one kernel, ~10x faster than the product here)."""
    y = ThresholdedReLU(theta=1.0)(t([float("nan"), float("-inf"), float("inf"), -2.0, 0.5, 3.0]))
    assert torch.isnan(y[0]) and y[1] == 0 and y[2] == float("inf")
    assert y[3] == 0 and y[4] == 0 and y[5] == 3.0


# ----------------------------------------------------------------------------------------- all of them
@pytest.mark.parametrize("layer,text", [
    (lambda: ReLU(max_value=6.0), "max_value=6.0"),
    (lambda: LeakyReLU(alpha=0.2), "alpha=0.2"),
    (lambda: PReLU(shared_axes=[1, 2]), "shared_axes=[1, 2]"),
    (lambda: ELU(alpha=0.5), "alpha=0.5"),
    (lambda: Softmax(axis=[1, 2]), "axis=[1, 2]"),
    (lambda: ThresholdedReLU(theta=0.5), "theta=0.5"),
])
def test_extra_repr(layer, text):
    assert text in repr(layer())


@pytest.mark.parametrize("cls", [ReLU, LeakyReLU, PReLU, ELU, Softmax, ThresholdedReLU])
def test_registered_for_activation_argument_and_deserialize(cls):
    layer = kt.layers.deserialize({"class_name": cls.__name__, "config": cls().get_config()})
    assert type(layer) is cls


@pytest.mark.parametrize("kwargs,shape", [({}, (2, 5)), (dict(shared_axes=[1, 2]), (2, 3, 4, 6)),
                                          (dict(shared_axes=[1, 2, 3]), (2, 3, 4, 6)), (dict(shared_axes=[2]), (2, 3, 4)),
                                          ({}, (2, 3, 4))])
def test_prelu_inference_path_equals_training_path(kwargs, shape):
    """Without gradients PReLU runs torch's prelu kernel where alpha varies along at most one axis; with them
    tf.keras's formula (gradient 0 at x == 0). Both give the same values, zeros in the input included."""
    layer = PReLU(**kwargs)
    x = torch.randn(shape)
    x.view(-1)[::7] = 0.0
    layer(x)
    with torch.no_grad():
        layer.alpha.uniform_(-0.5, 1.5)
        fast = layer(x)
    slow = layer(x)
    assert slow.requires_grad and not fast.requires_grad
    assert torch.equal(fast, slow.detach())
    assert fast.is_contiguous()
    xg = x.clone().requires_grad_()
    layer(xg).sum().backward()
    assert torch.all(xg.grad[x == 0] == 0)  # tf.keras's relu(x) - alpha * relu(-x): no gradient at 0

"""The regularization layers' random training behaviour, by properties (tf-keras's dropout_test,
spatial_dropout_test, noise_test and Keras 3's ports): what a draw must satisfy, since no fixture can
record another library's random numbers. Inference is the identity (the input tensor itself).

Statistical checks use ~10^5 draws; their bounds are > 6 standard errors wide (a false failure is
astronomically unlikely, a wrong scale or rate is far outside them)."""
from __future__ import annotations

import math

import pytest
import torch

import kerastorch.layers as L

N = 100_000


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(1234)


@pytest.mark.parametrize("layer", [L.Dropout(0.5), L.SpatialDropout1D(0.5), L.SpatialDropout2D(0.5),
                                   L.SpatialDropout3D(0.5), L.GaussianNoise(1.0), L.GaussianDropout(0.5),
                                   L.AlphaDropout(0.5), L.ActivityRegularization(l1=0.1)], ids=lambda l: type(l).__name__)
def test_inference_is_the_identity(layer):
    rank = {"SpatialDropout1D": 3, "SpatialDropout2D": 4, "SpatialDropout3D": 5}.get(type(layer).__name__, 3)
    x = torch.randn((2, 3, 4, 5, 6)[:rank])
    layer.eval()
    assert layer(x) is x
    layer.train()
    assert layer(x, training=False) is x


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_rate_and_scale(rate):
    x = torch.ones(N)
    y = L.Dropout(rate)(x, training=True)
    kept = y != 0
    assert abs(kept.float().mean().item() - (1 - rate)) < 6 * math.sqrt(rate * (1 - rate) / N)
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / (1 - rate)))
    assert abs(y.mean().item() - 1.0) < 0.05  # E[y] = x (inverted dropout)


def test_dropout_noise_shape_masks_whole_slices():
    x = torch.ones(4, 50, 6)
    y = L.Dropout(0.5, noise_shape=(None, 1, 6))(x, training=True)
    assert torch.equal(y, y[:, :1, :].expand_as(y))  # one mask per (batch, channel), shared over dim 1
    per_batch = L.Dropout(0.5, noise_shape=(1, None, None))(torch.ones(8, 30, 6), training=True)
    assert torch.equal(per_batch, per_batch[:1].expand_as(per_batch))


def test_dropout_gradient_is_the_mask():
    x = torch.randn(1000, requires_grad=True)
    y = L.Dropout(0.3)(x, training=True)
    y.backward(torch.ones_like(y))
    torch.testing.assert_close(x.grad, (y.detach() != 0).float() / 0.7)


@pytest.mark.parametrize("cls, shape, data_format, channel_axis", [
    (L.SpatialDropout1D, (8, 40, 16), None, -1),
    (L.SpatialDropout2D, (8, 10, 10, 16), "channels_last", -1),
    (L.SpatialDropout2D, (8, 16, 10, 10), "channels_first", 1),
    (L.SpatialDropout3D, (8, 4, 5, 6, 16), None, -1),
    (L.SpatialDropout3D, (8, 16, 4, 5, 6), "channels_first", 1),
])
def test_spatial_dropout_drops_whole_channels(cls, shape, data_format, channel_axis):
    kwargs = {} if data_format is None else {"data_format": data_format}
    y = cls(0.5, **kwargs)(torch.ones(shape), training=True)
    moved = y.movedim(channel_axis, 1).reshape(shape[0], shape[channel_axis], -1)
    # every feature map is all zeros or all 1 / (1 - rate)
    assert torch.all((moved == moved[..., :1]).all(-1))
    assert set(moved[..., 0].unique().tolist()) <= {0.0, 2.0}
    assert 0 < (moved[..., 0] == 0).float().mean().item() < 1


def test_gaussian_noise_statistics():
    x = torch.zeros(N)
    y = L.GaussianNoise(0.5)(x, training=True)
    assert abs(y.mean().item()) < 6 * 0.5 / math.sqrt(N)
    assert abs(y.std().item() - 0.5) < 0.01
    g = torch.zeros(N, requires_grad=True)
    L.GaussianNoise(0.5)(g, training=True).sum().backward()
    assert torch.equal(g.grad, torch.ones(N))  # additive noise: gradient 1


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_gaussian_dropout_statistics(rate):
    y = L.GaussianDropout(rate)(torch.ones(N), training=True)
    assert abs(y.mean().item() - 1.0) < 6 * math.sqrt(rate / (1 - rate) / N)
    assert abs(y.std().item() - math.sqrt(rate / (1 - rate))) < 0.02


@pytest.mark.parametrize("rate", [0.1, 0.3])
def test_alpha_dropout_keeps_selu_mean_and_variance(rate):
    """AlphaDropout's purpose: a zero-mean, unit-variance input keeps mean 0 and variance 1."""
    x = torch.randn(N, dtype=torch.float64)
    y = L.AlphaDropout(rate)(x, training=True)
    assert abs(y.mean().item()) < 0.02
    assert abs(y.var().item() - 1.0) < 0.03
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
    b = -a * alpha_p * rate
    dropped = torch.isclose(y, torch.full_like(y, a * alpha_p + b))
    assert abs(dropped.double().mean().item() - rate) < 6 * math.sqrt(rate * (1 - rate) / N)
    torch.testing.assert_close(y[~dropped], a * x[~dropped] + b)


def test_draws_follow_torch_manual_seed():
    x = torch.ones(1000)
    for layer in (L.Dropout(0.5), L.GaussianNoise(1.0), L.GaussianDropout(0.5), L.AlphaDropout(0.5)):
        torch.manual_seed(7)
        first = layer(x, training=True)
        torch.manual_seed(7)
        assert torch.equal(layer(x, training=True), first)
        assert not torch.equal(layer(x, training=True), first)  # a new draw per call


@pytest.mark.parametrize("layer", [L.Dropout(0.5, noise_shape=(None, 1, 4)), L.SpatialDropout1D(0.5),
                                   L.GaussianNoise(0.3), L.GaussianDropout(0.4), L.AlphaDropout(0.2)],
                         ids=lambda l: type(l).__name__)
def test_training_call_compiles_fullgraph(layer):
    torch._dynamo.reset()  # every layer's forward is the same code object: start clean per layer
    x = torch.randn(2, 3, 4)
    compiled = torch.compile(layer, fullgraph=True, backend="aot_eager")
    y = compiled(x, training=True)
    assert y.shape == x.shape and not torch.equal(y, x)
    assert compiled(x, training=False) is not None


def test_activity_regularization_loss_per_call():
    layer = L.ActivityRegularization(l1=0.1, l2=0.2)
    x = torch.randn(4, 5)
    assert layer(x) is x
    (loss,) = layer.losses
    torch.testing.assert_close(loss, (0.1 * x.abs().sum() + 0.2 * (x * x).sum()) / 4)
    layer.eval()
    layer(2 * x)  # tf.keras records the loss in inference too, replacing the previous call's
    torch.testing.assert_close(layer.losses[0], (0.1 * (2 * x).abs().sum() + 0.2 * (4 * x * x).sum()) / 4)


def test_integer_inputs_pass_in_inference_and_are_refused_when_drawing():
    x = torch.ones(2, 3, dtype=torch.int32)
    for layer in (L.Dropout(0.5), L.GaussianNoise(0.5), L.GaussianDropout(0.5), L.AlphaDropout(0.5)):
        assert layer(x, training=False) is x
        with pytest.raises(ValueError, match=f'"{layer.name}".*must be a floating point tensor'):
            layer(x, training=True)

"""The Layer foundation as custom and future layers use it: weight specs with non-trainable buffers,
Keras-style ``build`` + ``add_weight``, list inputs, ``training``, build bookkeeping, the registry."""
from __future__ import annotations

import pytest
import torch

import kerastorch as kt
from kerastorch.layers import InputSpec, Layer, WeightSpec
from kt_testing import assert_close


class Scale(Layer):
    """A spec-driven layer with a trainable ``gamma`` and a non-trainable ``moving_mean`` (declared first)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = InputSpec(min_ndim=2)
        self._finish_init()

    def weight_specs(self, input_shape):
        channels = None if input_shape is None else input_shape[-1]
        return [
            WeightSpec("moving_mean", (channels,), "zeros", trainable=False),
            WeightSpec("gamma", (channels,), "ones", regularizer=kt.regularizers.L2(0.5)),
        ]

    def input_shape_from_weights(self, shapes):
        return (None, next(iter(shapes.values()))[0])

    def call(self, inputs, training=None):
        if training:
            with torch.no_grad():
                self.moving_mean.copy_(inputs.mean(0))
        return (inputs - self.moving_mean) * self.gamma

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class KerasStyle(Layer):
    """A custom layer written as in Keras: ``build`` with ``add_weight``, two inputs."""

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[0][-1],), initializer="ones")
        self.count = self.add_weight("count", (), initializer="zeros", trainable=False)

    def call(self, inputs):
        a, b = inputs
        return a * self.w + b


def test_non_trainable_weights_are_buffers_after_the_trainable_ones():
    layer = Scale()
    assert layer.weight_names == ["gamma", "moving_mean"]  # Keras order: trainable first
    assert set(dict(layer.named_buffers())) == {"moving_mean"} and set(dict(layer.named_parameters())) == {"gamma"}
    y = layer(torch.randn(4, 3), training=True)
    assert layer.built and y.shape == (4, 3)
    assert [tuple(w.shape) for w in layer.get_weights()] == [(3,), (3,)]
    assert [w is layer.gamma for w in layer.trainable_weights] == [True]
    assert [w is layer.moving_mean for w in layer.non_trainable_weights] == [True]
    assert list(layer.state_dict()) == ["gamma", "moving_mean"]
    assert_close(layer.losses[0], torch.tensor(0.5 * 3.0))  # L2 of gamma only
    assert layer.get_build_config() == {"input_shape": [4, 3]}


def test_training_follows_train_and_eval_unless_passed():
    layer = Scale(input_shape=(3,))
    x = torch.randn(5, 3)
    layer.eval()
    layer(x)
    assert torch.equal(layer.moving_mean, torch.zeros(3))
    layer(x, training=True)
    assert_close(layer.moving_mean, x.mean(0))
    layer.train()
    layer(x + 1)
    assert_close(layer.moving_mean, (x + 1).mean(0))


def test_buffers_load_into_an_unbuilt_layer_and_set_weights_builds():
    src = Scale(input_shape=(3,))
    src(torch.randn(4, 3), training=True)
    dst = Scale()
    dst.load_state_dict(src.state_dict())
    assert dst.built and torch.equal(dst.moving_mean, src.moving_mean)
    fresh = Scale()
    fresh.set_weights(src.get_weights())
    assert torch.equal(fresh.moving_mean, src.moving_mean)


def test_keras_style_build_with_add_weight_and_list_inputs():
    layer = KerasStyle()
    a, b = torch.randn(2, 3), torch.randn(2, 3)
    assert_close(layer([a, b]), a + b)
    assert layer.built and layer.weight_names == ["w", "count"]
    assert layer.get_build_config() == {"input_shape": [[2, 3], [2, 3]]}
    assert isinstance(layer.count, torch.Tensor) and "count" in dict(layer.named_buffers())
    with pytest.raises(ValueError, match="expects a torch.Tensor input"):
        layer([a, "b"])


def test_layers_resolve_through_one_registry():
    conv = kt.layers.Conv2D(4, 3, name="c")
    conv.build((None, 8, 8, 3))
    config = kt.layers.serialize(conv)
    assert config["class_name"] == "Conv2D" and config["module"] == "keras.layers"
    assert config["build_config"] == {"input_shape": [None, 8, 8, 3]}
    clone = kt.layers.deserialize(config)
    assert type(clone) is kt.layers.Conv2D and clone.built
    assert type(kt.layers.get({"class_name": "Convolution1D", "config": {"filters": 2, "kernel_size": 3}})) is kt.layers.Conv1D
    with pytest.raises(ValueError, match="needs a config"):
        kt.layers.get("Conv1D")
    assert type(kt.layers.get({"class_name": "ReLU", "config": {"max_value": 6.0}})) is kt.layers.ReLU
    # Lambda is registered (constructible from Python) but its config is code: the registry refuses to load it
    with pytest.raises(ValueError, match="Lambda layer .*cannot be loaded from a config"):
        kt.layers.get({"class_name": "Lambda", "config": {"function": "x"}})
    with pytest.raises(ValueError, match="Unknown layer: 'NoSuchLayer'"):
        kt.layers.get({"class_name": "NoSuchLayer", "config": {}})

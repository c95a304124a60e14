"""tf-keras's core-layer tests (tf_keras/layers/core/core_test.py, dense tests) ported to kerastorch, for the
behaviours the recorded fixtures do not cover: Lambda (Python-only: function, ``arguments``, ``output_shape``,
``training``, a config that is never loaded), Dense on higher ranks as one ``F.linear`` without copies,
the frozen-Dense contract, Activation and Identity on what tf.keras accepts.

Expected values are tf-keras's own test expectations (numpy formulas of the inputs)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.profiler import ProfilerActivity, profile

import kerastorch as kt
import kerastorch.layers as L


# ----- Lambda (tf-keras LambdaLayerTest) -----
def test_lambda_function_and_arguments():
    x = torch.rand(2, 3)
    torch.testing.assert_close(L.Lambda(lambda t: t + 1)(x), x + 1)

    def scale(t, factor):
        return t * factor

    layer = L.Lambda(scale, arguments={"factor": 3.0})
    torch.testing.assert_close(layer(x), 3 * x)
    assert layer.get_config()["arguments"] == {"factor": 3.0}


def test_lambda_multiple_inputs_and_output_shape():
    def concat(ts):
        return torch.cat(ts, -1)

    layer = L.Lambda(concat)
    assert layer([torch.ones(2, 3), torch.ones(2, 4)]).shape == (2, 7)
    assert layer.compute_output_shape([(None, 3), (None, 4)]) == (None, 7)  # inferred (meta tensors)
    assert L.Lambda(lambda t: t[:, :2], output_shape=(2,)).compute_output_shape((5, 4)) == (5, 2)
    fixed = L.Lambda(lambda t: t, output_shape=lambda s: (s[0], 9))
    assert fixed.compute_output_shape((None, 3)) == (None, 9)


def test_lambda_training_argument():
    seen = []

    def fn(t, training=None):
        seen.append(training)
        return t

    layer = L.Lambda(fn)
    layer(torch.ones(1, 2))
    layer.eval()
    layer(torch.ones(1, 2))
    layer(torch.ones(1, 2), training=True)
    assert seen == [True, False, True]


def test_lambda_config_is_never_loaded():
    config = L.Lambda(lambda t: t * 2, name="double").get_config()
    assert config["function_type"] == "lambda" and config["name"] == "double"
    with pytest.raises(ValueError, match='Lambda layer "double": cannot be loaded from a config'):
        L.Lambda.from_config(config)
    with pytest.raises(ValueError, match="cannot be loaded from a config"):
        kt.layers.deserialize({"class_name": "Lambda", "config": config})


def test_lambda_bad_arguments():
    with pytest.raises(ValueError, match='Lambda layer ".*": `function` must be a Python callable'):
        L.Lambda(3)
    with pytest.raises(ValueError, match="`mask` is not supported"):
        L.Lambda(lambda t: t, mask=lambda t, m: m)
    with pytest.raises(ValueError, match="`arguments` must be a dict"):
        L.Lambda(lambda t: t, arguments=[1])


# ----- Dense (tf-keras DenseTest / core_test) -----
@pytest.mark.parametrize("shape", [(2, 4), (2, 3, 4), (2, 3, 5, 4), (2, 1, 1, 1, 4)])
def test_dense_on_the_last_axis_of_any_rank(shape):
    x = torch.randn(shape, dtype=torch.float64)
    layer = L.Dense(3, activation="relu", dtype="float64", bias_initializer="random_normal")
    y = layer(x)
    kernel, bias = (torch.from_numpy(w) for w in layer.get_weights())
    torch.testing.assert_close(y, torch.relu(torch.tensordot(x, kernel, dims=([x.dim() - 1], [0])) + bias))
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + shape[1:-1] + (3,)


def test_dense_channels_last_input_is_one_linear_without_copies():
    """An NHWC activation (the channels_last NCHW view of a conv output) goes to F.linear as it is."""
    conv_out = torch.randn(2, 8, 5, 5).contiguous(memory_format=torch.channels_last)
    nhwc = conv_out.permute(0, 2, 3, 1)
    layer = L.Dense(4)
    layer(nhwc)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        y = layer(nhwc)
    names = [e.name for e in prof.events()]
    assert names.count("aten::linear") == 1
    assert not {"aten::contiguous", "aten::clone"} & set(names)
    # the only write is addmm's own (the broadcast bias into its output before the GEMM)
    assert all(e.cpu_parent is not None and e.cpu_parent.name == "aten::addmm"
               for e in prof.events() if e.name == "aten::copy_")
    assert y.shape == (2, 5, 5, 4) and y.is_contiguous()


def test_dense_integer_input_is_cast_like_tf_keras():
    layer = L.Dense(2, kernel_initializer="ones")
    y = layer(torch.tensor([[1, 2, 3]], dtype=torch.int32))
    assert y.dtype == torch.float32 and y.tolist() == [[6.0, 6.0]]


def test_frozen_dense_keeps_its_weights_out_of_training():
    layer = L.Dense(2, trainable=False)
    layer(torch.ones(1, 3))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert layer.get_config()["trainable"] is False
    layer.trainable = True
    assert len(layer.trainable_weights) == 2


def test_dense_units_errors():
    for units in (-1, 2.5, "3", None):
        with pytest.raises(ValueError, match="expected a positive integer"):
            L.Dense(units)
    assert L.Dense(3.0).units == 3  # tf.keras: int(units)


def test_dense_input_dim_and_input_shape_build_at_once():
    assert L.Dense(3, input_dim=5).get_weights()[0].shape == (5, 3)
    layer = L.Dense(3, input_shape=(4, 5))
    assert layer.built and layer.get_config()["batch_input_shape"] == (None, 4, 5)


def test_dense_refuses_another_last_dim_after_build():
    layer = L.Dense(3)
    layer(torch.ones(2, 4))
    with pytest.raises(ValueError, match='Input 0 of layer "dense.*expected axis -1 of input shape to have value 4'):
        layer(torch.ones(2, 5))


# ----- Activation / Identity -----
@pytest.mark.parametrize("name, fn", [("relu", torch.relu), ("tanh", torch.tanh), ("sigmoid", torch.sigmoid),
                                      ("softmax", lambda t: torch.softmax(t, -1)), ("linear", lambda t: t)])
def test_activation_by_name(name, fn):
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    torch.testing.assert_close(L.Activation(name)(x), fn(x))


def test_activation_on_integers_as_tf():
    x = torch.arange(-3, 3, dtype=torch.int32).reshape(2, 3)
    # tf.keras: relu / linear / relu6 compute on int32 tensors
    assert L.Activation("relu")(x).tolist() == [[0, 0, 0], [0, 1, 2]]
    assert L.Activation("linear")(x).dtype == torch.int32
    # ... the others fail inside TensorFlow: a ValueError naming the layer here
    with pytest.raises(ValueError, match='layer "act".*floating-point input'):
        L.Activation("tanh", name="act")(x)
    # a plain callable is called as it is (tf.keras too)
    assert L.Activation(lambda t: t * 2)(x).tolist() == (x * 2).tolist()


def test_identity_returns_its_input_itself():
    x = torch.randn(2, 3)
    assert L.Identity()(x) is x
    z = torch.randn(2, 3, dtype=torch.complex64)
    assert L.Identity()(z) is z
    pair = [x, x + 1]
    assert L.Identity()(pair)[1] is pair[1]
    assert L.Identity().compute_output_shape([(None, 3), (None, 4)]) == [(None, 3), (None, 4)]


def test_input_layer_checks_the_declared_shape():
    layer = L.InputLayer(input_shape=(3,))
    x = torch.ones(5, 3)
    assert torch.equal(layer(x), x)
    with pytest.raises(ValueError, match='layer "input_layer'):
        layer(torch.ones(5, 4))
    assert layer.get_config()["batch_input_shape"] == (None, 3)
    np.testing.assert_array_equal(L.InputLayer(batch_input_shape=(2, 3)).get_config()["batch_input_shape"], (2, 3))

"""Keras 3 activation names (compat_fixtures/keras3_activations.json, recorded from Keras 3.15.1): Keras 3
configs get Keras 3's formulas, tf.keras configs and direct Python use keep tf.keras's."""
from __future__ import annotations

import pytest
import torch

from kerastorch import activations
from kerastorch.layers import Activation, Dense
from kerastorch.models import Sequential
from kerastorch.engine.serialization import deserialize_layer, serialize
from kerastorch.saving.model_files import keras_model_config
from kt_testing import assert_close, load_json, load_tensors

K3 = load_json("keras3_activations.json")
K3_TENSORS = load_tensors("keras3_activations.safetensors")
ACT = load_json("activations.json")
ACT_TENSORS = load_tensors("activations.safetensors")


@pytest.mark.parametrize("name", sorted(K3["entries"]))
def test_keras3_activation_values_gradients_and_name(name):
    fn = activations.get(activations.from_keras3(name))
    x = K3_TENSORS["input"].clone().requires_grad_(True)
    y = fn(x)
    assert_close(y, K3_TENSORS[f"{name}.output"], msg=name)
    up = K3_TENSORS["upstream"][..., : y.shape[-1]]
    (y * up).sum().backward()
    assert_close(x.grad, K3_TENSORS[f"{name}.grad"], msg=f"{name} grad")
    assert activations.to_keras3(activations.serialize(fn)) == K3["entries"][name]["serialized"]


@pytest.mark.parametrize("name", sorted(set(K3["entries"]) - {"hard_sigmoid"}))
def test_keras3_only_names_stay_refused_in_tf_keras_use(name):
    assert name in ACT["keras3_only"]
    with pytest.raises(ValueError, match="Unknown activation function"):
        activations.get(name)


@pytest.mark.parametrize("name", sorted(set(ACT["tf_keras_accepted"]) & set(ACT["keras3"]["accepted"]) - {"hard_sigmoid"}))
def test_shared_names_are_not_translated(name):
    assert activations.from_keras3(name) == name
    assert activations.to_keras3(name) == name


def _entry(activation: str, keras3: bool) -> dict:
    cfg = {"name": "act", "trainable": True, "dtype": "float32", "activation": activation}
    if keras3:
        return {"module": "keras.layers", "class_name": "Activation", "config": cfg, "registered_name": None}
    return {"class_name": "Activation", "config": cfg}


def test_config_source_decides_hard_sigmoid():
    x = ACT_TENSORS["input"]
    tf_layer = deserialize_layer(_entry("hard_sigmoid", keras3=False), {})
    k3_layer = deserialize_layer(_entry("hard_sigmoid", keras3=True), {})
    assert_close(tf_layer(x), ACT_TENSORS["hard_sigmoid.output"])
    assert_close(k3_layer(x), ACT_TENSORS["hard_sigmoid.keras3_output"])
    # Written back in Keras 3's spelling; tf.keras's hard_sigmoid under a name only kerastorch reads.
    assert serialize(k3_layer)["config"]["activation"] == "hard_sigmoid"
    assert serialize(tf_layer)["config"]["activation"] == activations.TF_KERAS_HARD_SIGMOID
    for layer in (tf_layer, k3_layer):
        again = deserialize_layer(serialize(layer), {})
        assert again.activation is layer.activation


def test_keras3_hard_silu_layer_config_round_trip():
    x = K3_TENSORS["input"]
    layer = deserialize_layer(_entry("hard_swish", keras3=True), {})
    assert_close(layer(x), K3_TENSORS["hard_swish.output"])
    assert serialize(layer)["config"]["activation"] == K3["entries"]["hard_swish"]["serialized"]
    with pytest.raises(ValueError, match="Unknown activation function 'hard_silu'"):
        deserialize_layer(_entry("hard_silu", keras3=False), {})


def test_keras3_save_writes_keras3_names_and_refuses_tf_keras_hard_sigmoid():
    k3 = Sequential([Dense(3, activation=activations.get("keras3>hard_silu"), input_shape=(4,))])
    cfg = keras_model_config(k3, keras3=True)
    assert cfg["config"]["layers"][-1]["config"]["activation"] == "hard_silu"
    tf_model = Sequential([Dense(3, activation="hard_sigmoid", input_shape=(4,))])
    with pytest.raises(ValueError, match="tf.keras's hard_sigmoid"):
        keras_model_config(tf_model, keras3=True)
    # kerastorch's own format keeps it, under its kerastorch name.
    assert keras_model_config(tf_model, keras3=False)["config"]["layers"][-1]["config"]["activation"] == \
        activations.TF_KERAS_HARD_SIGMOID

"""Issue 26: model files as users have them, made by real tf.keras 2.21 and Keras 3.15.1
(compat_fixtures/gen/user_files.py), load and predict what Keras predicted."""
from __future__ import annotations

import json

import pytest
import torch

import kerastorch as kt
from kerastorch.saving.keras import KerasLayerWeights
from kerastorch.saving.keras.weights import load_keras_entries
from saving.user_files_helpers import assert_predicts, cases, load, path  # noqa: E402


def test_tf_keras_keras_archive_saved_after_fit_loads():
    """Item 2 (and the README's "state saved after fit is ignored"): tf.keras writes the compiled loss
    tracker under ``metrics/`` besides ``optimizer/``; neither is a layer."""
    assert {"metrics", "optimizer"} <= set(cases()["tf_fitted"]["weight_file_groups"])
    assert_predicts(load("tf_fitted", "tf_keras"), "tf_fitted")


def test_load_model_does_not_suggest_an_argument_it_lacks():
    """Item 2: load_model has no ``skip_unsupported``; its messages don't offer it (load_keras_weights does)."""
    model = load("tf_input_shape", "tf_h5")
    stray = KerasLayerWeights("mean", "/metrics/mean/vars", None, arrays=[torch.zeros(()).numpy()] * 2)
    with pytest.raises(ValueError, match="'mean'.*no kerastorch counterpart") as info:
        load_keras_entries(model, [stray], True, "'x.keras'")
    assert "skip_unsupported" not in str(info.value)
    with pytest.raises(ValueError, match="pass skip_unsupported=True"):
        load_keras_entries(model, [stray], True, "'x.keras'", skip_unsupported=False)


@pytest.mark.parametrize("auto_names", [False, True], ids=["named", "auto_names"])
def test_weights_only_tf_keras_h5_with_normalization_layers(auto_names):
    """Item 3 (and the README's weights-only tf.keras .h5): BatchNormalization, Normalization (adapted,
    0-d count), GroupNormalization and LayerNormalization weights of a tf.keras ``save_weights('w.h5')``
    load by the file's layer order and the model's own weight names -- also when the kerastorch layers
    have generated names, so that the names cannot pair them."""
    config = json.loads(json.dumps(cases()["tf_norms"]["model_json"]))
    if auto_names:
        text = json.dumps(config)
        for name, auto in (("bn", "batch_normalization_4"), ("norm", "normalization_2"), ("gn", "group_normalization_1"),
                           ("ln", "layer_normalization_3"), ("conv", "conv2d_5")):
            text = text.replace(f'"{name}"', f'"{auto}"')
        config = json.loads(text)
    model = kt.models.model_from_config(config)
    kt.load_keras_weights(model, path("tf_norms", "tf_weights"))
    assert_predicts(model, "tf_norms")
    assert_predicts(load("tf_norms", "tf_h5"), "tf_norms")


def test_weights_only_h5_still_refuses_a_layer_of_another_kind():
    """Item 3: pairing by order checks each pair's weight names: a file's BatchNormalization does not load
    into a LayerNormalization standing where it stood."""
    config = json.loads(json.dumps(cases()["tf_norms"]["model_json"]))
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "BatchNormalization":
            layer["class_name"] = "LayerNormalization"
            layer["config"] = {"name": layer["config"]["name"], "axis": -1}
    model = kt.models.model_from_config(config)
    with pytest.raises(ValueError, match="'bn'.*none of its layers has weights named .'gamma', 'beta', 'moving_mean'"):
        kt.load_keras_weights(model, path("tf_norms", "tf_weights"))

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


@pytest.mark.parametrize("case, kind", [("tf_hard_sigmoid", "tf_keras"), ("tf_hard_sigmoid", "tf_h5"),
                                        ("k3_hard", "k3_h5"), ("k3_hard", "k3_keras")])
def test_the_keras_version_of_the_file_decides_the_activations(case, kind):
    """Item 1: ``hard_sigmoid`` is tf.keras's ``clip(0.2x + 0.5, 0, 1)`` in any tf.keras file -- also a
    tf.keras ``.keras`` archive, whose entries carry ``module``/``registered_name`` like Keras 3's -- and
    Keras 3's ``relu6(x + 3) / 6`` in any Keras 3 file -- also its legacy ``.h5``, whose entries carry
    neither -- where ``hard_silu`` exists. The file says which: ``metadata.json`` / the h5 ``keras_version``."""
    assert_predicts(load(case, kind), case)


def test_keras_2_0_list_sequential_config_loads():
    """Item 9: a Keras 2.0/2.1 Sequential config is the list of its layers (the first with
    ``batch_input_shape``); tf.keras 2.21 loads it, and so does kerastorch, with tf.keras's prediction."""
    assert cases()["k2_list_seq"]["tf_keras_loads"]
    model = load("k2_list_seq", "tf_h5")
    assert isinstance(model, kt.models.Sequential)
    assert_predicts(model, "k2_list_seq")


@pytest.mark.parametrize("case, fragment", [
    ("bad_bn_axis", "Invalid value for `axis`"),
    ("bad_dtype", "Invalid dtype policy 'float33'"),
    ("k3_int8", "QuantizedDTypePolicy (mode 'int8')"),
])
def test_errors_building_a_model_from_a_file_name_the_layer_and_the_file(case, fragment):
    """Item 15: what tf.keras / Keras 3 itself refuses or kerastorch cannot compute is a ValueError naming the
    file, the layer and the reason."""
    record = cases()[case]
    kind = next(iter(record["files"]))
    with pytest.raises(ValueError) as info:
        load(case, kind)
    message = str(info.value)
    assert repr(path(case, kind)) in message and f'"{record["layer"]}"' in message and fragment in message, message
    if "tf_keras_error" in record:  # tf.keras refuses the same file
        assert record["tf_keras_error"]

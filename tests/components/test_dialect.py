"""The file's Keras version decides the version-dependent readings of every layer in it (issue 26 item 1):
activations (tests/saving/test_user_files_loading.py) and the mask rules where tf.keras and Keras 3 differ
(recorded in compat_fixtures/masks/masks.json), whatever form each entry's dtype has."""
from __future__ import annotations

import torch

import kerastorch as kt
from kerastorch._dialect import file_is_keras3, is_keras3_version, keras_dialect
from kerastorch.engine.serialization import deserialize_layer

K3_DTYPE = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}


def _add(dtype):
    return deserialize_layer({"class_name": "Add", "config": {"name": "add", "dtype": dtype}}, {})


def _merged_mask(layer):
    # tf.keras ANDs whichever masks exist; Keras 3 gives no mask unless every input has one.
    x = torch.ones(2, 3, 4)
    return layer.compute_mask([x, x], [torch.tensor([[True, True, False]] * 2), None])


def test_versions_are_read_from_the_version_string():
    assert is_keras3_version("3.15.1") and is_keras3_version(b"3.0.0")
    assert is_keras3_version("2.21.0") is False and is_keras3_version(b"2.1.6-tf") is False
    assert is_keras3_version(None) is None and is_keras3_version("master") is None


def test_a_keras3_file_gives_keras3_mask_rules_whatever_the_entry_says():
    with keras_dialect("3.15.1"):
        assert file_is_keras3() is True
        assert _merged_mask(_add("float32")) is None  # a plain dtype string, as kerastorch's .keras writer puts it
    assert file_is_keras3() is None


def test_a_tf_keras_file_gives_tf_keras_mask_rules_whatever_the_entry_says():
    with keras_dialect(b"2.21.0"):
        mask = _merged_mask(_add(K3_DTYPE))
    assert mask is not None and mask.tolist() == [[True, True, False]] * 2


def test_without_a_file_version_each_entry_is_read_by_its_form():
    assert _merged_mask(_add(K3_DTYPE)) is None
    assert _merged_mask(_add("float32")) is not None
    assert _merged_mask(kt.layers.Add()) is not None

"""Normalization.adapt against real tf.keras (compat_fixtures/normalization_adapt.json, gen/preprocessing.py):
the adapted mean/variance/count (batch by batch: tf.keras's streaming moments), the output on the data, and
the config tf.keras reports after adapt (it gains ``batch_input_shape=(None,) * rank``), which loads back."""
from __future__ import annotations

import pytest
import torch

import kerastorch.layers as L
from kt_testing import assert_close, jsonable, load_json, load_tensors

RECORDS = load_json("normalization_adapt.json")


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r["id"])
def test_adapt_matches_tf_keras(record):
    T = load_tensors("normalization_adapt_tensors.safetensors")
    key = record["id"]
    layer = L.Normalization(**record["args"])
    layer.adapt(T[f"{key}.data"], batch_size=record["batch_size"])
    assert layer.weight_names == record["weight_names"]
    # float32 sums over up to 50 rows in another order than TF's: 1e-5 relative (the suite's float32 bound)
    for name in ("mean", "variance"):
        assert_close(layer.keras_weight(name), T[f"{key}.{name}"].reshape(layer.weight_spec(name).shape), rtol=1e-5)
    assert int(layer.count) == int(T[f"{key}.count"].reshape(()))
    assert_close(layer(T[f"{key}.data"]), T[f"{key}.output"], rtol=1e-5)
    assert jsonable(layer.get_config()) == record["config"]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r["id"])
def test_adapted_config_and_weights_load(record):
    """A saved adapted tf.keras layer: its config (batch_input_shape all None) then its weights."""
    T = load_tensors("normalization_adapt_tensors.safetensors")
    key = record["id"]
    layer = L.Normalization.from_config(record["config"])
    assert layer.built == (record["config"]["axis"] == [])  # kept axes of unknown size: built by set_weights
    # (the recorder stores 0-d arrays as shape (1,): the scalar weights get their Keras shape back)
    scalar = record["config"]["axis"] == []
    mean, variance = (T[f"{key}.{n}"].reshape(()) if scalar else T[f"{key}.{n}"] for n in ("mean", "variance"))
    layer.set_weights([mean, variance, T[f"{key}.count"].reshape(())])
    assert_close(layer(T[f"{key}.data"]), T[f"{key}.output"], rtol=1e-5)
    assert jsonable(layer.get_config()) == record["config"]


def test_adapt_can_fail():
    """The tests above can fail: adapting on other data gives other statistics."""
    T = load_tensors("normalization_adapt_tensors.safetensors")
    layer = L.Normalization(axis=-1)
    layer.adapt(T["a0.data"][:20])
    assert not torch.allclose(layer.keras_weight("mean"), T["a0.mean"].reshape(3), rtol=1e-5)

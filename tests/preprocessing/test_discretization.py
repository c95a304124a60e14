"""Discretization (issue 21): TF's Bucketize bins and both Kerases' approximate-quantile ``adapt`` (recorded from real
tf.keras 2.21 / Keras 3.15.1 by ``compat_fixtures/gen/structured.py``: 7 data sets, the bins each version finds)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from layer_contract import CHECKS, LayerCase, contract_params, run_check
from structured_fixtures import (GRADIENT_CHECKS, assert_compiled_forward, assert_config_matches, assert_parity, call,
                                 cases, default_configs, dialect, layer, load, tensors)

from kerastorch.layers import Discretization
from kt_testing import DEVICE, assert_close

ADAPT = load("adapt.json")


def _data(name):
    return tensors()[f"adapt.{name}"].copy()


@pytest.mark.parametrize("case", cases("Discretization"), ids=lambda c: c["id"])
def test_discretization_equals_keras(case):
    assert_parity(case)


@pytest.mark.parametrize("case", cases("Discretization", computed=False), ids=lambda c: c["id"])
def test_rank_3_encodings_follow_keras_3(case):
    """tf.keras refuses a one_hot of a (3, 5) input (output rank 3); Keras 3 computes it, and so does kerastorch."""
    assert case["source"] == "tf_keras" and "maximum supported output rank is 2" in case["call_error"]
    twin = next(c for c in cases("Discretization") if c["source"] == "keras3" and c["args"] == case["args"])
    assert tuple(call(twin, layer(twin)).shape) == tuple(twin["output_shape"])


@pytest.mark.parametrize("rec", ADAPT, ids=lambda r: r["name"])
def test_adapt_finds_the_bins_each_version_finds(rec):
    data = _data(rec["name"])
    tf_layer = Discretization(num_bins=rec["num_bins"], epsilon=rec["epsilon"])
    tf_layer.adapt(torch.from_numpy(data), batch_size=rec["batch_size"])
    assert tf_layer.bin_boundaries == rec["tf_keras"]["bins"]
    assert tf_layer(torch.from_numpy(data[:8])).tolist() == rec["tf_keras"]["output"]
    with dialect({"source": "keras3"}):
        k3 = Discretization(num_bins=rec["num_bins"], epsilon=rec["epsilon"])
    batch = rec["batch_size"]
    k3.adapt([data[i:i + batch] for i in range(0, len(data), batch)] if batch else data)
    assert k3.bin_boundaries == rec["keras3"]["bins"]
    assert k3(torch.from_numpy(data[:8])).tolist() == rec["keras3"]["output"]


def test_adapt_streams_dataloaders_and_generators():
    rec = next(r for r in ADAPT if r["name"] == "batches")
    data = torch.from_numpy(_data(rec["name"]))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data), batch_size=rec["batch_size"])
    with dialect({"source": "keras3"}):
        k3 = Discretization(num_bins=rec["num_bins"], epsilon=rec["epsilon"])
    k3.adapt(loader)  # (x,) batches
    assert k3.bin_boundaries == rec["keras3"]["bins"]
    k3.adapt(b for b in data.split(rec["batch_size"]))
    assert k3.bin_boundaries == rec["keras3"]["bins"]


def test_adapted_state_is_the_config():
    lay = Discretization(num_bins=4)
    lay.adapt(np.random.default_rng(0).normal(size=(100, 1)).astype("float32"))
    again = Discretization.from_config(lay.get_config())
    assert again.bin_boundaries == lay.bin_boundaries and again.get_weights() == []
    x = torch.randn(5, 3)
    torch.testing.assert_close(again(x), lay(x))


def test_bad_arguments_and_inputs_name_the_layer():
    with pytest.raises(ValueError, match="Discretization.*sorted"):
        Discretization(bin_boundaries=[0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="Discretization.*output_mode"):
        Discretization(bin_boundaries=[0.0], output_mode="tf_idf")
    lay = Discretization(num_bins=3, name="disc")
    with pytest.raises(ValueError, match='"disc".*adapt'):
        lay(torch.zeros(2, 1))
    with pytest.raises(ValueError, match='"disc".*bin_boundaries'):
        Discretization(bin_boundaries=[1.0], name="disc").adapt(np.zeros((4, 1)))


@pytest.mark.parametrize("err", [e for e in load("errors.json") if e["class_name"] == "Discretization"],
                         ids=lambda e: f"{e['source']}-{e['args']}")
def test_bad_arguments_are_refused(err):
    with dialect(err):
        if err["error"] is None:  # tf.keras's Discretization() without bins: kerastorch refuses it as Keras 3
            assert err["source"] == "tf_keras" and err["args"] == {}
        with pytest.raises(ValueError, match="Discretization"):
            Discretization(**err["args"])


@pytest.mark.parametrize("case", default_configs("Discretization"), ids=lambda c: c["id"])
def test_default_config_of_both_versions(case):
    assert_config_matches(case, layer(case))


CONTRACT = [LayerCase(Discretization, dict(bin_boundaries=[-0.5, 0.0, 0.5]), (3, 4), id="Discretization",
                      expected_output_shape=(3, 4), expected_num_weights=0, float_only=False, zero_copy=False)]


@pytest.mark.parametrize("case,check", contract_params(CONTRACT, only=set(CHECKS) - GRADIENT_CHECKS))
def test_layer_contract(case, check):
    run_check(case, check)


def test_compiled_forward():
    assert_compiled_forward(Discretization(bin_boundaries=[-1.0, 0.0, 1.0], output_mode="count").to(DEVICE),
                            torch.randn(4, 6).to(DEVICE))

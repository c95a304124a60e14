"""CategoryEncoding (issue 21), recorded from real tf.keras 2.21 / Keras 3.15.1 by ``compat_fixtures/gen/structured.py``;
and the structured-data model files (Hashing, HashedCrossing, Discretization fixed and adapted, CategoryEncoding,
Dense) saved by both Kerases, loaded with Keras's outputs, re-saved and read back (real Keras 3 reads the re-saved
files: ``compat_fixtures/prove_structured_files.py``)."""
from __future__ import annotations

import os

import pytest
import torch
from layer_contract import CHECKS, LayerCase, contract_params, run_check
from structured_fixtures import (GRADIENT_CHECKS, ROOT, assert_compiled_forward, assert_config_matches, assert_parity,
                                 cases, default_configs, dialect, layer, load, tensors)

from kerastorch.engine import Functional
from kerastorch.layers import CategoryEncoding
from kerastorch.saving import load_model, save_model
from kt_testing import DEVICE, assert_close


@pytest.mark.parametrize("case", cases("CategoryEncoding"), ids=lambda c: c["id"])
def test_category_encoding_equals_keras(case):
    assert_parity(case)


def test_out_of_range_and_bad_weights_are_refused_naming_the_layer():
    lay = CategoryEncoding(num_tokens=3, output_mode="count", name="enc")
    for bad in (torch.tensor([[0, 3]]), torch.tensor([[-1, 0]])):
        with pytest.raises(ValueError, match='"enc".*0 <= values < num_tokens with num_tokens=3'):
            lay(bad)
    with pytest.raises(ValueError, match='"enc".*count_weights.*shape'):
        lay(torch.tensor([[0, 1]]), count_weights=torch.ones(3))
    with pytest.raises(ValueError, match='"enc".*count_weights.*not used'):
        CategoryEncoding(num_tokens=3, output_mode="one_hot", name="enc")(torch.tensor([0]), count_weights=torch.ones(1))


@pytest.mark.parametrize("err", [e for e in load("errors.json") if e["class_name"] == "CategoryEncoding"],
                         ids=lambda e: f"{e['source']}-{e['args']}")
def test_bad_arguments_are_refused(err):
    with dialect(err), pytest.raises(ValueError, match="CategoryEncoding"):
        CategoryEncoding(**err["args"])


@pytest.mark.parametrize("case", default_configs("CategoryEncoding"), ids=lambda c: c["id"])
def test_default_config_of_both_versions(case):
    assert_config_matches(case, layer(case))


CONTRACT = [LayerCase(CategoryEncoding, dict(num_tokens=5, output_mode="count"), (3, 4), id="CategoryEncoding",
                      expected_output_shape=(3, 5), expected_num_weights=0, float_only=False, input_ids=5,
                      zero_copy=False)]


@pytest.mark.parametrize("case,check", contract_params(CONTRACT, only=set(CHECKS) - GRADIENT_CHECKS))
def test_layer_contract(case, check):
    run_check(case, check)


def test_compiled_forward():
    assert_compiled_forward(CategoryEncoding(5, output_mode="multi_hot").to(DEVICE),
                            torch.randint(0, 5, (4, 3)).to(DEVICE))


MODELS = os.path.join(ROOT, "models")
FILES = {"structured.k3.keras": "k3.output", "structured.tf.keras": "tf.output", "structured.tf.h5": "tf.output"}


@pytest.mark.parametrize("name", FILES)
def test_structured_model_files_compute_what_keras_computed(name, tmp_path):
    t = tensors(os.path.join("models", "tensors.safetensors"))
    x = [torch.from_numpy(t[k].copy()).to(DEVICE) for k in ("x_num", "x_id", "x_b")]
    model = load_model(os.path.join(MODELS, name)).to(DEVICE)
    assert isinstance(model, Functional)
    want = torch.from_numpy(t[FILES[name]])
    assert_close(model(x), want)
    # kerastorch's own .keras (what prove_structured_files.py shows real Keras 3 loads) reads back the same
    save_model(model, tmp_path / "again.keras")
    assert_close(load_model(tmp_path / "again.keras").to(DEVICE)(x), want)

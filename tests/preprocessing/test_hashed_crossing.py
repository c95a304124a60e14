"""HashedCrossing (issue 21): tf.sparse.cross_hashed without TensorFlow (FingerprintCat64 from the key 0xDECAFCAFFE
over each column's feature: an integer's value, a string's Fingerprint64), recorded from real tf.keras 2.21 /
Keras 3.15.1 by ``compat_fixtures/gen/structured.py``."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from layer_contract import CHECKS, LayerCase, contract_params, run_check
from structured_fixtures import (GRADIENT_CHECKS, assert_compiled_forward, assert_config_matches, assert_parity, cases,
                                 default_configs, dialect, layer, load)

from kerastorch.layers import HashedCrossing
from kerastorch.layers.preprocessing.fingerprint import CROSS_HASH_KEY, fingerprint_cat64, hash_strings, unsigned_mod
from kt_testing import DEVICE

HASHES = load("hashes.json")


@pytest.mark.parametrize("name", ["str_str", "str_int", "int_int", "three"])
def test_cross_hashed_equals_tensorflows(name):
    """tf.sparse.cross_hashed of string, integer and mixed columns, 1000 buckets and none (% int64 max)."""
    cols = HASHES["cross.columns"]
    a, _ = hash_strings(cols["a"])
    b = torch.tensor(cols["b"])
    c, _ = hash_strings(cols["c"])
    features = {"str_str": [a, c], "str_int": [a, b], "int_int": [b, b * 3], "three": [a, b, c]}[name]
    hashed = torch.full_like(b, CROSS_HASH_KEY)
    for f in features:
        hashed = fingerprint_cat64(hashed, f)
    assert unsigned_mod(hashed, 1000).tolist() == HASHES[f"cross.{name}.1000"]
    assert unsigned_mod(hashed, 2 ** 63 - 1).tolist() == HASHES[f"cross.{name}.0"]


@pytest.mark.parametrize("case", cases("HashedCrossing"), ids=lambda c: c["id"])
def test_hashed_crossing_equals_keras(case):
    assert_parity(case)


def test_string_and_integer_columns_mix():
    layer_ = HashedCrossing(num_bins=50)
    words, ids = ["A", "B", "日本語"], torch.tensor([[1], [2], [3]])
    mixed = layer_([np.array([[w] for w in words]), ids])
    assert mixed.shape == (3, 1) and mixed.dtype == torch.int64
    torch.testing.assert_close(layer_([[[w] for w in words], ids]), mixed)


def test_bad_inputs_name_the_layer():
    layer_ = HashedCrossing(num_bins=5, name="cross")
    a = torch.tensor([[1], [2]])
    for bad, what in (([a], "at least two"), ([a, torch.tensor([1, 2, 3])], "equal shape"),
                      ([torch.ones(2, 2, dtype=torch.int64)] * 2, "shape"), ([a, a.float()], "integer or string")):
        with pytest.raises(ValueError, match=f'"cross".*{what}'):
            layer_(bad)


@pytest.mark.parametrize("err", [e for e in load("errors.json") if e["class_name"] == "HashedCrossing"],
                         ids=lambda e: e["source"])
def test_bad_output_mode_is_refused(err):
    with dialect(err), pytest.raises(ValueError, match="HashedCrossing.*output_mode"):
        HashedCrossing(**err["args"])


@pytest.mark.parametrize("case", default_configs("HashedCrossing"), ids=lambda c: c["id"])
def test_default_config_of_both_versions(case):
    assert_config_matches(case, layer(case))


CONTRACT = [LayerCase(HashedCrossing, dict(num_bins=9), [(4, 1), (4, 1)], id="HashedCrossing",
                      expected_output_shape=(4, 1), expected_num_weights=0, float_only=False, input_ids=1000,
                      zero_copy=False)]


@pytest.mark.parametrize("case,check", contract_params(CONTRACT, only=set(CHECKS) - GRADIENT_CHECKS))
def test_layer_contract(case, check):
    run_check(case, check)


def test_compiled_forward():
    x = [torch.randint(0, 1000, (4, 1)).to(DEVICE), torch.randint(-5, 5, (4, 1)).to(DEVICE)]
    assert_compiled_forward(HashedCrossing(num_bins=6, output_mode="one_hot").to(DEVICE), x)


def test_string_column_model_saves_and_loads(tmp_path):
    """A model whose first input is a string column (Hashing, and HashedCrossing with an int64 column) runs on a
    list of str or a NumPy array and reads back from its .keras file (real Keras 3 reads it too:
    compat_fixtures/prove_structured_files.py)."""
    import kerastorch as kt

    text = kt.models.Input(shape=(1,), dtype="string")
    ident = kt.models.Input(shape=(1,), dtype="int64")
    hashed = kt.layers.Hashing(num_bins=8, salt=[3, 5], output_mode="one_hot")(text)
    crossed = HashedCrossing(num_bins=6, output_mode="one_hot")([text, ident])
    model = kt.models.Model([text, ident], kt.layers.Concatenate()([hashed, crossed]))
    words, ids = [["A"], ["héllo"], [""]], torch.tensor([[1], [-7], [0]])
    out = model([words, ids])
    assert out.shape == (3, 14) and bool((out.sum(-1) == 2).all())
    torch.testing.assert_close(model([np.array(words), ids]), out)
    kt.models.save_model(model, tmp_path / "strings.keras")
    torch.testing.assert_close(kt.models.load_model(tmp_path / "strings.keras")([words, ids]), out)

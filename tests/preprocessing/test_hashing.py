"""Hashing (issue 21): TensorFlow's hash values without TensorFlow (FarmHash Fingerprint64 of the UTF-8 bytes or of
an integer's decimal string; keyed SipHash-2-4 with a salt), recorded from real tf.keras 2.21 / Keras 3.15.1 by
``compat_fixtures/gen/structured.py``."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from layer_contract import CHECKS, LayerCase, contract_params, run_check
from structured_fixtures import (GRADIENT_CHECKS, assert_compiled_forward, assert_config_matches, assert_parity, cases,
                                 default_configs, dialect, layer, load)

from kerastorch.layers import Hashing
from kerastorch.layers.preprocessing.fingerprint import (decimal_bytes, fingerprint64, hash_integers, hash_strings, siphash,
                                                          unsigned_mod)
from kt_testing import DEVICE

HASHES = load("hashes.json")
KEYS = {"fast": None, "k133_137": [133, 137], "k42_42": [42, 42], "big_key": [2 ** 63 - 1, 12345], "neg_key": [-5, 3]}


@pytest.mark.parametrize("kind", ["strings", "ints"])
def test_raw_hashes_equal_tensorflows(kind):
    """to_hash_bucket_fast / _strong of 23 strings (empty, unicode, every FarmHash length class up to 300 bytes)
    and 18 integers (int64 extremes), 5 keys, 7 bucket counts up to 2**63 - 1: every value equal."""
    if kind == "ints":  # tf.as_string's decimal form, built in torch
        data, lengths = decimal_bytes(torch.tensor(HASHES["ints"]).to(DEVICE))
        text = [b"".join(w.to_bytes(8, "little", signed=True) for w in row)[:n].decode()
                for row, n in zip(data.cpu().tolist(), lengths.tolist())]
        assert text == HASHES["ints_as_string"]
    for name, key in KEYS.items():
        if kind == "strings":
            hashes, _ = hash_strings(HASHES["strings"], key)
        else:  # torch's path (any device, compile) and the CPU's numpy path agree
            hashes = fingerprint64(data, lengths) if key is None else siphash(data, lengths, key)
            torch.testing.assert_close(hash_integers(torch.tensor(HASHES["ints"]), key), hashes.cpu())
        for bins in HASHES["bins"] + [HASHES["big"]]:
            assert unsigned_mod(hashes, bins).cpu().tolist() == HASHES[f"{kind}.{name}.{bins}"], (name, bins)


@pytest.mark.parametrize("case", cases("Hashing"), ids=lambda c: c["id"])
def test_hashing_equals_keras(case):
    lay = assert_parity(case)
    with dialect(case):  # the constructor arguments make the same layer
        assert type(lay).from_config(lay.get_config()).get_config() == lay.get_config()


def test_string_columns_in_every_form():
    """A list of str, nested lists, numpy str / bytes / object arrays hash alike; the output is int64."""
    words = ["A", "héllo", "", "日本語", "x" * 70]
    layer_ = Hashing(num_bins=1000, salt=[3, 4])
    want = layer_([[w] for w in words])
    assert want.dtype == torch.int64 and want.shape == (5, 1)
    for form in (np.array([[w] for w in words]), np.array([[w.encode()] for w in words]),
                 np.array([[w] for w in words], dtype=object)):
        torch.testing.assert_close(layer_(form), want)
    torch.testing.assert_close(layer_(words), want[:, 0])
    assert layer_("A").shape == ()


def test_integer_hash_is_vectorized_and_matches_the_strings():
    """Integers hash as their decimal strings, in torch (same values as hashing str(v))."""
    values = torch.tensor([0, -1, 12, -123456, 10 ** 15, 2 ** 63 - 1, -(2 ** 63), 999999999999999999]).to(DEVICE)
    for salt in (None, 7):
        layer_ = Hashing(num_bins=2 ** 31 - 1, salt=salt).to(DEVICE)
        torch.testing.assert_close(layer_(values).cpu(), layer_([str(v) for v in values.tolist()]))


def test_mask_value_and_salt_forms():
    layer_ = Hashing(num_bins=4, mask_value=0)
    out = layer_(torch.tensor([[0, 5, 0, 7]]))
    assert out[0, 0] == 0 and out[0, 2] == 0 and bool((out[0, [1, 3]] >= 1).all())
    assert Hashing(num_bins=5, salt=9).salt == [9, 9]
    torch.testing.assert_close(Hashing(3, salt=9)(["a", "b"]), Hashing(3, salt=(9, 9))(["a", "b"]))


@pytest.mark.parametrize("err", [e for e in load("errors.json") if e["class_name"] == "Hashing"],
                         ids=lambda e: f"{e['source']}-{e['args']}")
def test_bad_arguments_are_refused_as_keras_refuses_them(err):
    with dialect(err):
        if err["error"] is None:
            Hashing(**err["args"])
            return
        with pytest.raises(ValueError, match="Hashing"):
            Hashing(**err["args"])


def test_bad_inputs_name_the_layer():
    layer_ = Hashing(num_bins=3, name="hsh")
    with pytest.raises(ValueError, match='"hsh".*strings'):
        layer_([["a", 1]])
    with pytest.raises(ValueError, match='"hsh".*bool'):
        layer_(torch.tensor([True, False]))


@pytest.mark.parametrize("case", default_configs("Hashing"), ids=lambda c: c["id"])
def test_default_config_of_both_versions(case):
    assert_config_matches(case, layer(case))


CONTRACT = [LayerCase(Hashing, dict(num_bins=7, salt=3), (4, 3), id="Hashing", expected_output_shape=(4, 3),
                      expected_num_weights=0, float_only=False, input_ids=10 ** 6, zero_copy=False)]


# error_non_tensor: a list of str is Hashing's string input, not an error
@pytest.mark.parametrize("case,check", contract_params(CONTRACT, only=set(CHECKS) - GRADIENT_CHECKS - {"error_non_tensor"}))
def test_layer_contract(case, check):
    run_check(case, check)


def test_compiled_forward():
    x = torch.randint(-10 ** 6, 10 ** 6, (4, 3)).to(DEVICE)
    assert_compiled_forward(Hashing(num_bins=7, mask_value=5, output_mode="count").to(DEVICE), x)

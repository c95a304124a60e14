"""``adapt`` of the vocabulary layers on every kind of data Keras takes — a tensor, a NumPy array, a list, a
generator and a ``torch.utils.data.DataLoader`` — streaming batch by batch: the vocabulary (order and ties) is the
one real Keras learns from the whole data (``compat_fixtures/lookups/cases.json``), whatever the batching."""
from __future__ import annotations

import json
import os

import numpy as np
import torch
from torch.utils.data import DataLoader

import kerastorch as kt

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "compat_fixtures", "lookups")
with open(os.path.join(HERE, "cases.json")) as f:
    CASES = {c["id"]: c for c in json.load(f)}


def test_string_lookup_adapt_sources():
    case = CASES["k300"]  # StringLookup() adapted on a column with ties, 'é' / 'Z' / 'z' ordered as TF's bytes
    data = case["adapt"]
    for source in (data, np.array(data), np.array(data, dtype=object), (b for b in [data[:4], data[4:]]),
                   DataLoader(data, batch_size=3)):
        layer = kt.layers.StringLookup()
        layer.adapt(source)
        assert layer.get_vocabulary() == case["vocabulary"], type(source).__name__
    layer = kt.layers.StringLookup()
    layer.adapt(np.array(data), batch_size=2)
    assert layer.get_vocabulary() == case["vocabulary"]


def test_integer_lookup_adapt_sources():
    case = CASES["k314"]  # IntegerLookup() adapted on a (3, 4) batch with ties and negatives
    data = np.array(case["adapt"])
    rows = torch.from_numpy(data)
    for source in (data, rows, case["adapt"], iter([rows[:1], rows[1:]]), DataLoader(rows, batch_size=2)):
        layer = kt.layers.IntegerLookup()
        layer.adapt(source)
        assert layer.get_vocabulary() == case["vocabulary"], type(source).__name__
    layer = kt.layers.IntegerLookup()
    layer.adapt(data, steps=1, batch_size=1)  # steps limits the batches: only the first row
    assert sorted(layer.get_vocabulary(include_special_tokens=False)) == sorted(set(case["adapt"][0]))


def test_tf_idf_adapt_streams_documents():
    case = CASES["k322"]  # IntegerLookup(output_mode="tf_idf"): document frequencies per row
    layer = kt.layers.IntegerLookup(output_mode="tf_idf")
    layer.adapt(DataLoader(torch.tensor(case["adapt"]), batch_size=1))
    assert layer.get_vocabulary() == case["vocabulary"]
    torch.testing.assert_close(layer.idf_weights, torch.tensor(case["idf_weights"]))


def test_text_vectorization_adapt_sources():
    case = CASES["k330"]  # TextVectorization(output_mode="tf_idf", max_tokens=10, pad_to_max_tokens=True)
    for source in (case["adapt"], np.array(case["adapt"]), DataLoader(case["adapt"], batch_size=2),
                   (np.array(case["adapt"][i:i + 3]) for i in range(0, len(case["adapt"]), 3))):
        layer = kt.layers.TextVectorization(**case["kwargs"])
        layer.adapt(source)
        assert layer.get_vocabulary() == case["vocabulary"], type(source).__name__
        torch.testing.assert_close(layer.idf_weights, torch.tensor(case["idf_weights"]))


def test_text_vectorization_callables_and_scalars():
    """A Python ``standardize``/``split`` (user code only) gets a NumPy array of ``str``; a scalar string is one row."""
    layer = kt.layers.TextVectorization(standardize=lambda a: np.char.upper(a.astype(str)),
                                        split=lambda a: [s.split("-") for s in a], vocabulary=["A", "B"])
    assert layer(["a-b-c", "b"]).tolist() == [[2, 3, 1], [3, 0, 0]]
    assert layer("b-a").tolist() == [3, 2]
    import pytest
    with pytest.raises(ValueError, match="callable"):
        layer.get_config()

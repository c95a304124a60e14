"""IntegerLookup / StringLookup / TextVectorization against real tf.keras 2.21 and Keras 3.15
(``compat_fixtures/lookups/cases.json`` and ``errors.json``, made by ``compat_fixtures/gen/lookups.py``): the
vocabulary after ``adapt``/``vocabulary=`` (order and ties), idf weights, every output (values, dtype, shape),
configs, and Keras's error for each bad argument, vocabulary or input. A Keras 3 case is built from its recorded
config (so Keras 3's dtypes apply), a tf.keras case from its arguments."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

import kerastorch as kt
from kt_testing import DEVICE, assert_close

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "compat_fixtures", "lookups")
with open(os.path.join(HERE, "cases.json")) as f:
    CASES = json.load(f)
with open(os.path.join(HERE, "errors.json")) as f:
    ERRORS = json.load(f)

_DTYPES = {"int64": torch.int64, "float32": torch.float32}


def _build(case):
    cls = getattr(kt.layers, case["layer"])
    if case["keras"] == "k3":
        layer = cls.from_config(dict(case["config"]))
    else:
        kwargs = {k: tuple(v) if k == "ngrams" and isinstance(v, list) else v for k, v in case["kwargs"].items()}
        layer = cls(**kwargs)
    layer.to(DEVICE)
    if case["adapt"] is not None:
        data = np.array(case["adapt"]) if case["layer"] == "IntegerLookup" else case["adapt"]
        layer.adapt(data)
    return layer


def _check_output(layer, x, expected, where):
    if case_is_int_input(layer, x):
        y = layer(torch.tensor(np.array(x)).to(DEVICE))
    else:
        y = layer(np.array(x))
    if "strings" in expected:
        assert isinstance(y, np.ndarray), where
        assert y.tolist() == expected["strings"], where
        return
    assert isinstance(y, torch.Tensor), where
    assert list(y.shape) == expected["shape"], f"{where}: shape {tuple(y.shape)} != {expected['shape']}"
    assert y.dtype == _DTYPES[expected["dtype"]], f"{where}: dtype {y.dtype} != {expected['dtype']}"
    assert_close(y, torch.tensor(expected["values"], dtype=y.dtype), msg=where)


def case_is_int_input(layer, x):
    return isinstance(layer, kt.layers.IntegerLookup) or getattr(layer, "invert", False)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['id']}-{c['layer']}" for c in CASES])
def test_lookup_parity(case):
    layer = _build(case)
    assert layer.get_vocabulary() == case["vocabulary"]
    if "idf_weights" in case:
        assert_close(layer.idf_weights, torch.tensor(case["idf_weights"]), msg="idf_weights")
    for i, (x, expected) in enumerate(zip(case["inputs"], case["outputs"])):
        _check_output(layer, x, expected, f"{case['id']} input {i}")
    config = layer.get_config()
    recorded = {k: v for k, v in case["config"].items() if k not in ("name", "dtype", "batch_input_shape")}
    mine = {k: config[k] for k in recorded if k in config}
    assert mine == recorded, f"config differs: {set(recorded.items()) ^ set(mine.items()) if False else (mine, recorded)}"
    # the config round trip keeps the behaviour (vocabulary in the config, or re-set from get_vocabulary)
    again = type(layer).from_config(config).to(DEVICE)
    terms = [str(t) for t in layer.get_vocabulary()]
    one_per_line = "\n".join(terms).splitlines() == terms
    if not one_per_line:  # a term holding "\x1c" & co. does not survive vocabulary.txt: not in Keras 3 either
        return
    if again.vocabulary_size() != layer.vocabulary_size():
        again.load_vocabulary_asset(layer.vocabulary_asset(), getattr(layer, "idf_weights", None))
    assert again.get_vocabulary() == layer.get_vocabulary()


@pytest.mark.parametrize("err", ERRORS, ids=[f"{e['keras']}-{e['layer']}-{i}" for i, e in enumerate(ERRORS)])
def test_lookup_errors(err):
    cls = getattr(kt.layers, err["layer"])
    def run():
        layer = cls(**err["kwargs"])
        if err["stage"] == "call":
            x = err["inputs"]
            layer(torch.tensor(x) if err["layer"] == "IntegerLookup" else np.array(x))
        elif err["stage"] == "adapt":
            layer.adapt(np.array(err["inputs"]))
    if err["message"] is None:
        run()
        return
    with pytest.raises(ValueError) as info:
        run()
    message = str(info.value)
    assert err["layer"] in message, message
    recorded = err["message"]
    if err["keras"] == "k3" and recorded.startswith("ValueError: ") and "Exception encountered" not in recorded:
        head = recorded.split(": ", 1)[1][:50]
        assert head.split("'")[0] in message, f"Keras says {recorded!r}; kerastorch {message!r}"

"""Whole Keras models recorded from real Keras (``compat_fixtures/models/``, ``gen/models.py``) run in kerastorch.

For every fixture of ``MANIFEST.json``:

* ``kind == "file"``: ``kerastorch.models.load_model(path)`` for each saved file (tf.keras ``.h5``, tf.keras
  ``.keras``, Keras 3 ``.keras``) -> ``.eval()`` -> outputs equal the recorded Keras outputs (same structure);
* ``kind == "config"`` (and every Keras 3 model through its recorded ``get_config()``):
  ``kerastorch.models.model_from_config(config)`` + the seeded fill (``tests/model_fill.py``, no TensorFlow)
  -> the same comparison;
* ``kind == "refusal"``: a ``Lambda`` layer holds arbitrary Python (bytecode in ``.h5``): loading must raise a
  ``ValueError``; nothing is executed.

Tolerance: float32 against the recorded outputs with ``kt_testing.assert_close`` (``rtol`` relative to the
output's largest magnitude); each fixture carries its ``tolerance.rtol`` hint with the reason, written by the
generator (1e-5 for the hand-made models; the deep applications get more, measured as tf.keras vs Keras 3 on
the same weights, the float32 noise floor of a deep net).
"""
from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import torch

from kt_testing import FIXTURES, assert_close, load_json, load_tensors
from model_fill import fill_model, fill_values

MODELS_DIR = FIXTURES / "models"
MANIFEST = load_json("models/MANIFEST.json")
ENTRIES = MANIFEST["fixtures"]

# saved model files (".h5" / ".keras") of the executable fixtures, the Lambda ones, and the config-only ones
FILE_CASES = [(e, kind) for e in ENTRIES if e["kind"] != "refusal" for kind in sorted(e["files"]) if kind != "config"]
REFUSAL_CASES = [(e, kind) for e in ENTRIES if e["kind"] == "refusal" for kind in sorted(e["files"])]
CONFIG_CASES = [e for e in ENTRIES if "config" in e["files"]]


def _ids(cases):
    return [c["name"] if isinstance(c, dict) else f"{c[0]['name']}.{c[1]}" for c in cases]


# ----------------------------------------------------------------------------- the seeded fill (no TensorFlow)
def apply_fill(model, entry: dict) -> None:
    """Set ``model``'s weights to the entry's seeded fill (``tests/model_fill.py``), in its source library's
    ``model.weights`` order, after checking our weights have Keras's leaf names and shapes in that order."""
    fill_model(model, entry["weights"], entry["fill_seed"], entry["source"])


# ----------------------------------------------------------------------------- running
def _inputs(entry: dict) -> list[torch.Tensor]:
    tensors = load_tensors(f"models/{entry['tensors']}")
    return [tensors[i["key"]] for i in entry["inputs"]]


def _expected(entry: dict) -> list[torch.Tensor]:
    tensors = load_tensors(f"models/{entry['tensors']}")
    return [tensors[k] for k in entry["outputs"]["keys"]]


def _run(model, entry: dict) -> list[torch.Tensor]:
    xs = _inputs(entry)
    model.eval()
    with torch.no_grad():
        out = model(xs[0] if len(xs) == 1 else list(xs))
    structure, names = entry["outputs"]["structure"], entry["outputs"]["names"]
    if structure == "dict":
        assert isinstance(out, dict) and sorted(out) == sorted(names), f"dict outputs {names} expected, got {type(out)}"
        return [out[n] for n in names]
    if structure == "list":
        assert isinstance(out, (list, tuple)) and len(out) == len(names), f"{len(names)} outputs expected"
        return list(out)
    assert isinstance(out, torch.Tensor), f"one tensor expected, got {type(out)}"
    return [out]


def _check_outputs(model, entry: dict) -> None:
    rtol = entry["tolerance"]["rtol"]  # reason: entry["tolerance"]["why"] (written by the generator)
    for i, (got, want) in enumerate(zip(_run(model, entry), _expected(entry))):
        assert tuple(got.shape) == tuple(want.shape), f"output {i}: shape {tuple(got.shape)} != {tuple(want.shape)}"
        assert_close(got, want, rtol=rtol, msg=f"{entry['name']} output {entry['outputs']['names'][i]}")


def _read_config(entry: dict) -> dict:
    path = MODELS_DIR / entry["files"]["config"]
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return json.load(f)


# ----------------------------------------------------------------------------- tests
def test_manifest_is_complete():
    """Every fixture names existing files; hand-made models come from both libraries; coverage is recorded."""
    assert ENTRIES
    for e in ENTRIES:
        for fn in e["files"].values():
            assert (MODELS_DIR / fn).is_file(), fn
        assert e["source"] in ("tf_keras", "keras3") and e["keras_version"]
        assert isinstance(e["layer_classes"], list) and isinstance(e["ops"], list)
        if e["source"] == "keras3":
            assert isinstance(e["keras3_config"], dict)
        if e["kind"] == "refusal":
            assert e["tensors"] is None and e["outputs"] is None
    assert {e["source"] for e in ENTRIES} == {"tf_keras", "keras3"}


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_fill_reproduces_keras_weights(entry):
    """The fill of ``tests/model_fill.py`` (numpy only) gives the weights Keras held (their recorded sums)."""
    values = fill_values(entry["weights"], entry["fill_seed"])
    for (name, shape, _), v, s in zip(entry["weights"], values, entry["weight_sums"]):
        if v is None:
            continue
        assert list(v.shape) == shape
        np.testing.assert_allclose(v.astype(np.float64).sum(), s, rtol=1e-9, atol=1e-9 * max(1.0, v.size), err_msg=name)


@pytest.mark.parametrize("entry,kind", FILE_CASES, ids=_ids(FILE_CASES))
def test_load_model_matches_keras(entry, kind):
    from kerastorch.models import load_model

    model = load_model(str(MODELS_DIR / entry["files"][kind]))
    assert isinstance(model, torch.nn.Module)
    _check_outputs(model, entry)


@pytest.mark.parametrize("entry,kind", FILE_CASES, ids=_ids(FILE_CASES))
def test_loaded_weights_are_keras_weights(entry, kind):
    """The loaded model's weights, in Keras order, are the filled ones Keras saved."""
    from kerastorch.models import load_model

    model = load_model(str(MODELS_DIR / entry["files"][kind]))
    got = model.get_weights()
    assert [list(np.shape(w)) for w in got] == [s for _, s, _ in entry["weights"]]
    for (name, _, _), w, s in zip(entry["weights"], got, entry["weight_sums"]):
        np.testing.assert_allclose(np.asarray(w, dtype=np.float64).sum(), s, rtol=1e-6, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("entry,kind", REFUSAL_CASES, ids=_ids(REFUSAL_CASES))
def test_lambda_model_is_refused(entry, kind):
    from kerastorch.models import load_model

    with pytest.raises(ValueError, match="Lambda"):
        load_model(str(MODELS_DIR / entry["files"][kind]))


def _config_of(entry: dict) -> dict:
    """A config-only fixture's ``to_json()`` file, else the Keras 3 ``model.get_config()`` the manifest holds."""
    if "config" in entry["files"]:
        return _read_config(entry)
    if entry["source"] == "tf_keras":  # the same model's tf.keras to_json(), recorded with its summary()
        return next(c["config"] for c in load_json("models/summaries.json")["cases"]
                    if c["model"] == entry["model"] and not c["kwargs"])
    config = entry["keras3_config"]
    return {"class_name": "Functional" if "input_layers" in config else "Sequential", "config": config}


# config-only fixtures, every Keras 3 model through its recorded get_config() and every tf.keras one through
# its to_json() in summaries.json (no file reader involved)
_SUMMARIZED = {c["model"] for c in load_json("models/summaries.json")["cases"]}
FROM_CONFIG_CASES = CONFIG_CASES + [e for e in ENTRIES if e["kind"] == "file" and "config" not in e["files"] and (
    "keras3_config" in e or (e["source"] == "tf_keras" and e["model"] in _SUMMARIZED))]


@pytest.mark.parametrize("entry", FROM_CONFIG_CASES, ids=_ids(FROM_CONFIG_CASES))
def test_model_from_config_with_fill_matches_keras(entry):
    """config -> ``model_from_config`` -> the seeded fill through ``set_weights`` (Keras's weight order)
    -> the outputs Keras computed."""
    from kerastorch.models import model_from_config

    model = model_from_config(_config_of(entry))
    assert isinstance(model, torch.nn.Module)
    apply_fill(model, entry)
    _check_outputs(model, entry)

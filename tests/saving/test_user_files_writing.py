"""Issue 26: files kerastorch writes from models real Keras made (compat_fixtures/user_files/) have the
structure real Keras needs. Keras itself reads them back in compat_fixtures/prove_user_files.py (its
verdict is recorded in compat_fixtures/user_files/proof.json); here what can be checked without Keras."""
from __future__ import annotations

import json

import pytest
import torch

import kerastorch as kt
from saving.user_files_helpers import DIR, archive, assert_predicts, cases, h5_datasets, load, path, tensors  # noqa: E402


@pytest.mark.parametrize("save", ["save_model", "save_weights", "save_keras_weights"])
def test_saving_into_a_missing_folder_names_the_users_path(tmp_path, save):
    """Item 16: the error names the path given, not the hidden temporary file written beside it."""
    model = load("tf_input_shape", "tf_h5")
    target = tmp_path / "no_such_folder" / ("x.weights.h5" if save == "save_keras_weights" else "x.keras")
    if save == "save_weights":
        target = target.with_suffix(".safetensors")
    fn = {"save_model": kt.models.save_model, "save_weights": kt.save_weights, "save_keras_weights": kt.save_keras_weights}[save]
    with pytest.raises(FileNotFoundError) as info:
        fn(model, str(target))
    assert repr(str(target)) in str(info.value) and ".tmp-" not in str(info.value)
    assert "does not exist" in str(info.value)
    assert not (tmp_path / "no_such_folder").exists()


def _h5_layout(path_: str, root: str = "") -> dict[str, tuple]:
    sets = h5_datasets(path_)
    return {k[len(root):]: v for k, v in sets.items() if k.startswith(root)}


def test_zero_d_count_stays_zero_d(tmp_path):
    """Item 5: Normalization's scalar ``count`` is written 0-d (as Keras writes it) by save_model and by
    save_keras_weights in both layouts, and kerastorch reloads each file."""
    model = load("tf_adapted_norm", "tf_h5")
    assert cases()["tf_adapted_norm"]["count_shape"] == []
    kt.models.save_model(model, tmp_path / "m.keras")
    _, _, weights = archive(str(tmp_path / "m.keras"))
    assert h5_datasets(weights)["layers/normalization/vars/2"] == ()
    assert_predicts(kt.models.load_model(tmp_path / "m.keras"), "tf_adapted_norm")
    for name, key in (("w.weights.h5", "layers/normalization/vars/2"), ("w.h5", "norm/norm/count:0")):
        kt.save_keras_weights(model, tmp_path / name)
        assert h5_datasets(str(tmp_path / name))[key] == ()
        fresh = load("tf_adapted_norm", "tf_h5")
        with torch.no_grad():
            for p in fresh.parameters():
                p.zero_()
        kt.load_keras_weights(fresh, tmp_path / name)
        assert_predicts(fresh, "tf_adapted_norm")


def test_save_keras_weights_keeps_nested_models_nested(tmp_path):
    """Item 7: for a model holding a sub-model, save_keras_weights writes the layout Keras writes for it
    (recorded from real Keras: the same datasets at the same paths with the same shapes), not a flat one;
    kerastorch loads both back."""
    model = load("nested_sub", "tf_h5")
    kt.save_keras_weights(model, tmp_path / "w.weights.h5")
    _, _, keras3 = archive(path("nested_sub", "k3_keras"))
    assert h5_datasets(str(tmp_path / "w.weights.h5")) == h5_datasets(keras3)
    kt.save_keras_weights(model, tmp_path / "w.h5")
    assert h5_datasets(str(tmp_path / "w.h5")) == _h5_layout(path("nested_sub", "tf_h5"), "model_weights/")
    import h5py

    with h5py.File(tmp_path / "w.h5") as ours, h5py.File(path("nested_sub", "tf_h5")) as keras:
        want = keras["model_weights"]
        assert [n for n in ours.attrs["layer_names"]] == [n for n in want.attrs["layer_names"]]
        for layer in ("pre", "inner", "post"):
            assert list(ours[layer].attrs["weight_names"]) == list(want[layer].attrs["weight_names"])
    for name in ("w.weights.h5", "w.h5"):
        fresh = load("nested_sub", "tf_h5")
        with torch.no_grad():
            for p in fresh.parameters():
                p.zero_()
        kt.load_keras_weights(fresh, tmp_path / name)
        assert_predicts(fresh, "nested_sub")


def _layer_entries(entry: dict):
    """Every layer entry of a config (nested models included), with its parent model's entry."""
    for layer in entry["config"].get("layers") or []:
        yield layer, entry
        if isinstance(layer.get("config"), dict) and isinstance(layer["config"].get("layers"), list):
            yield from _layer_entries(layer)


@pytest.mark.parametrize("case", ["tf_input_shape", "tf_tower", "tf_adapted_norm", "k2_list_seq"])
def test_keras3_archives_hold_input_shapes_in_input_layers(tmp_path, case):
    """Item 4: Keras 3 refuses ``batch_input_shape`` in a layer's config (tf.keras's ``input_shape=``
    idiom, nested towers, adapted Normalization); the shape goes into an InputLayer's ``batch_shape``, first in
    every Sequential, as Keras 3 writes it. (Real Keras 3 loading these: prove_user_files.py.)"""
    model = load(case, "tf_h5")
    kt.models.save_model(model, tmp_path / "m.keras")
    config, metadata, _ = archive(str(tmp_path / "m.keras"))
    assert metadata["keras_version"].startswith("3.")
    models = [config] + [e for e, _ in _layer_entries(config) if isinstance(e["config"].get("layers"), list)]
    for entry, _ in _layer_entries(config):
        assert "batch_input_shape" not in entry["config"], entry
    for m in models:
        if m["class_name"] == "Sequential":
            first = m["config"]["layers"][0]
            assert first["class_name"] == "InputLayer" and first["config"]["batch_shape"][1:] == \
                list(tensors()[cases()[case]["input"]].shape[1:]), first
    assert_predicts(kt.models.load_model(tmp_path / "m.keras"), case)


@pytest.mark.parametrize("kind", ["tf_keras", "tf_h5"])
def test_mixed_precision_policies_in_keras3_form(tmp_path, kind):
    """Item 6: a ``mixed_float16`` layer's dtype is written as Keras 3's ``DTypePolicy`` (Keras 3 cannot read
    tf.keras's ``keras.mixed_precision`` ``Policy``); the float32 output layer stays ``float32``."""
    model = load("tf_mixed", kind)
    kt.models.save_model(model, tmp_path / "m.keras")
    config, _, _ = archive(str(tmp_path / "m.keras"))
    dtypes = {e["config"]["name"]: e["config"].get("dtype") for e, _ in _layer_entries(config)}
    assert dtypes["d1"] == {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_float16"},
                            "registered_name": None}
    assert dtypes["d2"] in ("float32", {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                                        "registered_name": None})
    assert "keras.mixed_precision" not in json.dumps(config)
    assert_predicts(kt.models.load_model(tmp_path / "m.keras"), "tf_mixed", rtol=2e-3, atol=2e-3)


def test_real_keras_read_back_what_kerastorch_wrote():
    """Items 4-7 and the README's "real Keras 3 loads what save_model writes" / "save_keras_weights files
    load in tf.keras and Keras 3": the verdict real Keras gave (compat_fixtures/prove_user_files.py --record)."""
    with open(DIR / "proof.json") as f:
        proof = json.load(f)
    checks = {c["check"]: c for c in proof["checks"]}
    assert proof["summary"]["failures"] == 0 and len(checks) == proof["summary"]["checks"] >= 25
    for case in ("tf_input_shape", "tf_tower", "tf_adapted_norm", "tf_mixed", "k3_hard", "k2_list_seq"):
        assert any(k.startswith(f"save_model.{case}.") and c["ok"] for k, c in checks.items()), case
    for who in ("tf_keras.load_weights", "keras3.load_weights"):
        assert checks[f"save_keras_weights.nested_sub.h5 -> {who}"]["ok"]
    assert checks["save_keras_weights.nested_sub.weights.h5 -> keras3.load_weights"]["max_rel_vs_keras_recorded"] <= 1e-5

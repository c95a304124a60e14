"""Whole-model files: ``load_model`` / ``save_model`` against the real-Keras fixtures of compat_fixtures/models.

* every saved fixture (tf.keras ``.h5``, tf.keras ``.keras``, Keras 3 ``.keras``) loads, is written back
  with ``save_model`` as ``.keras`` and as ``.safetensors``, and each of those loads again with the
  recorded Keras outputs and bit-identical weights;
* the ``.keras`` archive has the layout real Keras 3 writes for the same model (zip members,
  ``model.weights.h5`` groups, dataset shapes, ``vars`` names), compared with the Keras 3 fixture;
  that real Keras 3 loads it with identical outputs is ``compat_fixtures/prove_save_model.py``'s proof;
* what Keras 3 cannot hold (tf.* op layers, '/' in names) is refused for ``.keras`` with a ValueError
  naming the layer, and kept by ``.safetensors``;
* saving is atomic (a failure leaves the old file and no temporary file) and checks its arguments.

Tolerance: the fixture's ``tolerance.rtol`` (1e-5, the float32 layer tolerance) against Keras's outputs;
a kerastorch round trip itself must be exact (same weights, same code).
"""
from __future__ import annotations

import io
import json
import os
import zipfile

import h5py
import numpy as np
import pytest
import torch

import kerastorch
from kerastorch.models import Input, Model, Sequential, load_model, save_model
from kt_testing import FIXTURES, assert_close, load_json, load_tensors

MODELS_DIR = FIXTURES / "models"
ENTRIES = load_json("models/MANIFEST.json")["fixtures"]
FILES = [(e, kind) for e in ENTRIES if e["kind"] == "file" for kind in sorted(e["files"])]
KERAS3 = [e for e in ENTRIES if e["kind"] == "file" and e["source"] == "keras3"]
KERAS3_CANNOT_HOLD = {"tf_ops", "slash_names"}  # tf.* op layers; layer names with '/'


def _id(case) -> str:
    return f"{case[0]['name']}.{case[1]}" if isinstance(case, tuple) else case["name"]


def _outputs(model: torch.nn.Module, entry: dict) -> list[torch.Tensor]:
    tensors = load_tensors(f"models/{entry['tensors']}")
    xs = [tensors[i["key"]] for i in entry["inputs"]]
    model.eval()
    with torch.no_grad():
        out = model(xs[0] if len(xs) == 1 else list(xs))
    if isinstance(out, dict):
        return [out[n] for n in entry["outputs"]["names"]]
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _check_keras_outputs(model: torch.nn.Module, entry: dict) -> None:
    tensors = load_tensors(f"models/{entry['tensors']}")
    for got, key in zip(_outputs(model, entry), entry["outputs"]["keys"], strict=True):
        assert_close(got, tensors[key], rtol=entry["tolerance"]["rtol"], msg=f"{entry['name']} {key}")


def _state(model: torch.nn.Module) -> dict:
    return {k: (str(v.dtype), tuple(v.shape), v.detach().numpy().tobytes()) for k, v in model.state_dict().items()}


# ----------------------------------------------------------------------------- API
def test_entry_points_are_one_function():
    assert kerastorch.saving.load_model is kerastorch.models.load_model
    assert kerastorch.saving.save_model is kerastorch.models.save_model


# ----------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("entry,kind", FILES, ids=[_id(c) for c in FILES])
def test_round_trip_keeps_keras_outputs_and_weights(entry, kind, tmp_path):
    model = load_model(str(MODELS_DIR / entry["files"][kind]))
    _check_keras_outputs(model, entry)
    formats = [".safetensors"] + ([] if entry["model"] in KERAS3_CANNOT_HOLD else [".keras"])
    for ext in formats:
        path = tmp_path / f"again{ext}"
        save_model(model, path)
        again = load_model(path)
        assert type(again) is type(model) and again.name == model.name
        assert _state(again) == _state(model), ext
        for a, b in zip(_outputs(again, entry), _outputs(model, entry), strict=True):
            assert torch.equal(a, b), ext
    assert sorted(os.listdir(tmp_path)) == sorted(f"again{ext}" for ext in formats)


# ----------------------------------------------------------------------------- the .keras layout
def _h5_layout(data: bytes) -> dict:
    out = {}
    with h5py.File(io.BytesIO(data), "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = (obj.shape, str(obj.dtype))
            else:
                out[name] = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in obj.attrs.items()}
        f.visititems(visit)
    return out


@pytest.mark.parametrize("entry", KERAS3, ids=[_id(e) for e in KERAS3])
def test_keras_archive_has_real_keras3_layout(entry, tmp_path):
    """Keras 3 loads weights by path: the groups, datasets, shapes and names must be Keras 3's own."""
    original = MODELS_DIR / entry["files"]["keras"]
    path = tmp_path / "ours.keras"
    save_model(load_model(original), path)
    with zipfile.ZipFile(original) as theirs, zipfile.ZipFile(path) as ours:
        assert ours.namelist() == theirs.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        assert _h5_layout(ours.read("model.weights.h5")) == _h5_layout(theirs.read("model.weights.h5"))
        config, keras_config = json.loads(ours.read("config.json")), json.loads(theirs.read("config.json"))
        metadata = json.loads(ours.read("metadata.json"))
    assert metadata["keras_version"] == "3.15.1" and "date_saved" in metadata
    assert {k: config[k] for k in ("module", "class_name", "registered_name")} == {
        k: keras_config[k] for k in ("module", "class_name", "registered_name")}
    assert [(l["class_name"], l["config"].get("name")) for l in config["config"]["layers"]] == [
        (l["class_name"], l["config"].get("name")) for l in keras_config["config"]["layers"]]


def test_batch_normalization_axis_is_keras3s_int(tmp_path):
    """tf.keras writes BatchNormalization(axis=[3]); Keras 3's from_config needs an int (its
    ``int(axis)`` raised on the list before save_model translated it, found by prove_save_model.py)."""
    model = load_model(str(MODELS_DIR / "cnn_seq.tf.h5"))
    save_model(model, tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        layers = json.loads(z.read("config.json"))["config"]["layers"]
    assert [l["config"]["axis"] for l in layers if l["class_name"] == "BatchNormalization"] == [3]


@pytest.mark.parametrize("model_name", sorted(KERAS3_CANNOT_HOLD))
def test_what_keras3_cannot_hold_is_refused_for_keras_files(model_name, tmp_path):
    entry = next(e for e in ENTRIES if e["model"] == model_name)
    model = load_model(str(MODELS_DIR / entry["files"]["h5"]))
    with pytest.raises(ValueError, match=r"Cannot save layer '[^']+' \(\w+.*\.safetensors") as info:
        save_model(model, tmp_path / "m.keras")
    assert ("TFOpLambda" in str(info.value)) == (model_name == "tf_ops")
    assert ("'/'" in str(info.value)) == (model_name == "slash_names")
    assert os.listdir(tmp_path) == []
    save_model(model, tmp_path / "m.safetensors")  # kerastorch's own format keeps them
    _check_keras_outputs(load_model(tmp_path / "m.safetensors"), entry)


def test_safetensors_holds_the_state_dict_and_the_config(tmp_path):
    from safetensors import safe_open

    model = load_model(str(MODELS_DIR / "nested.k3.keras"))
    path = tmp_path / "m.safetensors"
    save_model(model, path)
    with safe_open(str(path), "pt") as f:
        assert sorted(f.keys()) == sorted(model.state_dict())
        metadata = f.metadata()
    config = json.loads(metadata["keras_config"])
    assert config["class_name"] == "Functional" and config["config"]["name"] == model.name
    assert metadata["kerastorch_version"] == kerastorch.__version__


# ----------------------------------------------------------------------------- a model built here
def _small_model() -> Model:
    x = Input((6,), name="x")
    h = kerastorch.layers.Dense(4, activation="relu", name="hidden")(x)
    y = kerastorch.layers.Dense(2, name="out")(h)
    return Model(x, y, name="small")


def test_content_decides_the_format_not_the_name(tmp_path):
    model = _small_model()
    save_model(model, tmp_path / "m.keras")
    save_model(model, tmp_path / "m.safetensors")
    for src, renamed in (("m.keras", "keras_archive.bin"), ("m.safetensors", "tensors.h5")):
        os.rename(tmp_path / src, tmp_path / renamed)
        assert _state(load_model(tmp_path / renamed)) == _state(model)


def test_save_checks_its_arguments(tmp_path):
    model = _small_model()
    with pytest.raises(ValueError, match=r"Invalid filepath extension .* Received: filepath=.*m\.h5"):
        save_model(model, tmp_path / "m.h5")
    with pytest.raises(ValueError, match="received a Dense"):
        save_model(kerastorch.layers.Dense(3, input_shape=(2,)), tmp_path / "m.keras")
    (tmp_path / "folder.keras").mkdir()
    with pytest.raises(IsADirectoryError):
        save_model(model, tmp_path / "folder.keras")
    (tmp_path / "folder.keras").rmdir()
    unbuilt = Sequential([kerastorch.layers.Dense(3, name="d")])
    with pytest.raises(ValueError, match="unbuilt"):
        save_model(unbuilt, tmp_path / "u.keras")
    save_model(model, tmp_path / "m.keras")
    old = (tmp_path / "m.keras").read_bytes()
    with pytest.raises(FileExistsError):
        save_model(model, tmp_path / "m.keras", overwrite=False)
    assert (tmp_path / "m.keras").read_bytes() == old
    assert os.listdir(tmp_path) == ["m.keras"]


@pytest.mark.parametrize("ext", [".keras", ".safetensors"])
def test_crash_while_writing_keeps_the_old_file(ext, tmp_path, monkeypatch):
    from kerastorch.saving import atomic

    model = _small_model()
    path = tmp_path / f"m{ext}"
    save_model(model, path)
    old = path.read_bytes()
    real = atomic.os.fsync

    def boom(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", boom)
    with torch.no_grad():
        model.layers[1].kernel.add_(1.0)
    with pytest.raises(OSError, match="No space left"):
        save_model(model, path)
    monkeypatch.setattr(atomic.os, "fsync", real)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == [path.name]


def test_custom_objects_supply_a_class_kerastorch_lacks(tmp_path):
    """A config naming a class kerastorch lacks is refused unless ``custom_objects`` supplies it."""
    class Scale(kerastorch.layers.Layer):
        def __init__(self, factor: float = 2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    path = tmp_path / "m.keras"
    save_model(_small_model(), path)
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    config = json.loads(members["config.json"])
    layers = config["config"]["layers"]
    layers[2]["inbound_nodes"][0]["args"][0]["config"]["keras_history"][0] = "scale"
    layers.insert(2, {"module": "my_package.layers", "class_name": "Scale", "registered_name": "my_package>Scale",
                      "config": {"name": "scale", "trainable": True, "dtype": "float32", "factor": 3.0},
                      "name": "scale", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {
                          "shape": [None, 4], "dtype": "float32", "keras_history": ["hidden", 0, 0]}}], "kwargs": {}}]})
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(ValueError, match=r"Unknown layer class 'Scale'.*custom_objects"):
        load_model(path)
    model = load_model(path, custom_objects={"Scale": Scale})
    x = torch.randn(3, 6)
    hidden, out = model.get_layer("hidden"), model.get_layer("out")
    assert torch.allclose(model(x), out(hidden(x) * 3.0))


def test_keras3_spelling_of_tf_keras_layer_configs(tmp_path):
    """tf.keras config keys Keras 3's constructors refuse are dropped, renamed or translated in .keras files
    (each found in the recorded tf.keras / Keras 3 configs of the layer fixtures; that Keras 3 then loads
    these layers with kerastorch's outputs is prove_save_model.py's BUILT models); the model still loads
    here with the same outputs, and .safetensors keeps tf.keras's spelling."""
    L = kerastorch.layers
    x = Input((9, 4), name="x")
    h = L.Conv1DTranspose(3, 3, name="tconv")(x)
    h = L.DepthwiseConv1D(3, name="dw")(h)
    h = L.SeparableConv1D(4, 3, name="sep")(h)
    h = L.SpatialDropout1D(0.5, name="sdrop")(h)
    h = L.LeakyReLU(0.2, name="leaky")(h)
    model = Model(x, L.ThresholdedReLU(0.1, name="trelu")(h), name="dialect")
    save_model(model, tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        layers = {l["config"]["name"]: l for l in json.loads(z.read("config.json"))["config"]["layers"]}
    assert "groups" not in layers["tconv"]["config"] and "groups" not in layers["dw"]["config"]
    assert not {"groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"} & set(layers["sep"]["config"])
    assert not {"noise_shape", "trainable"} & set(layers["sdrop"]["config"])
    assert layers["leaky"]["config"]["negative_slope"] == pytest.approx(0.2) and "alpha" not in layers["leaky"]["config"]
    assert layers["trelu"]["class_name"] == "ReLU"
    assert {k: layers["trelu"]["config"][k] for k in ("threshold", "negative_slope", "max_value")} == {
        "threshold": pytest.approx(0.1), "negative_slope": 0.0, "max_value": None}
    again = load_model(tmp_path / "m.keras")
    x = torch.randn(2, 9, 4)
    model.eval(), again.eval()
    assert torch.equal(again(x), model(x))
    save_model(model, tmp_path / "m.safetensors")
    from safetensors import safe_open

    with safe_open(str(tmp_path / "m.safetensors"), "pt") as f:
        kept = json.loads(f.metadata()["keras_config"])
    assert [l["class_name"] for l in kept["config"]["layers"]][-1] == "ThresholdedReLU"

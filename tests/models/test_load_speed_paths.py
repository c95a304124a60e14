"""``load_model`` builds the model without running initializers (the file overwrites every weight).

* a real Keras file (tf.keras ``.h5`` / ``.keras``, Keras 3 ``.keras``, nested models) and the
  ``.keras`` / ``.safetensors`` kerastorch writes load with no initializer call, bit-identical to a
  load that initializes first;
* ``model_from_config`` alone still initializes every weight, as before;
* a weight the file does not write is initialized afterwards (never left uninitialized), drawing the
  same values as an ordinary build; weights missing from the file are still an error;
* the allocation guard, a failed load, ``torch.inference_mode`` and ``add_weight`` layers behave.
"""
from __future__ import annotations

import io
import zipfile

import h5py
import pytest
import torch

import kerastorch
from kerastorch import initializers
from kerastorch.layers.layer import WeightSpec
from kerastorch.models import Input, Model, Sequential, load_model, model_from_config, save_model
from kerastorch.saving import LoadLimits
from kt_testing import FIXTURES

MODELS_DIR = FIXTURES / "models"
REAL_FILES = ["cnn_seq.tf.h5", "cnn_seq.tf.keras", "cnn_seq.k3.keras", "nested.tf.h5", "nested.k3.keras", "unet.k3.keras"]


@pytest.fixture
def init_calls(monkeypatch):
    """Counts the initializer runs (every weight value an initializer computes goes through here)."""
    calls = []
    original = WeightSpec.initial_value

    def counting(self, dtype, device):
        calls.append(self.name)
        return original(self, dtype, device)

    monkeypatch.setattr(WeightSpec, "initial_value", counting)
    return calls


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _assert_same_state(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = _state(a), _state(b)
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def _small_model() -> Model:
    x = Input((6,), name="x")
    h = kerastorch.layers.Dense(4, activation="relu", kernel_initializer="he_normal", name="hidden")(x)
    h = kerastorch.layers.BatchNormalization(name="bn")(h)
    y = kerastorch.layers.Dense(2, kernel_initializer="truncated_normal", name="out")(h)
    return Model(x, y, name="small")


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_keras_files_load_without_initializers_and_as_before(name, init_calls, monkeypatch):
    model = load_model(MODELS_DIR / name)
    assert init_calls == []
    assert initializers.active_deferral() is None
    with monkeypatch.context() as m:  # the load as it was: initializers first, then the file's values
        m.setattr(initializers, "active_deferral", lambda: None)
        reference = load_model(MODELS_DIR / name)
    assert init_calls  # the reference did run them
    _assert_same_state(model, reference)


@pytest.mark.parametrize("ext", ["keras", "safetensors"])
def test_saved_models_load_without_initializers(ext, tmp_path, init_calls):
    torch.manual_seed(0)
    model = _small_model()
    with torch.no_grad():
        model.get_layer("bn").moving_variance.uniform_(0.5, 2.0)
    save_model(model, tmp_path / f"m.{ext}")
    init_calls.clear()
    loaded = load_model(tmp_path / f"m.{ext}")
    assert init_calls == []
    _assert_same_state(loaded, model)
    x = torch.randn(5, 6)
    model.eval(), loaded.eval()
    assert torch.equal(loaded(x), model(x))


def test_model_from_config_alone_still_initializes(init_calls):
    config = {"class_name": "Functional", "config": _small_model().get_config()}
    init_calls.clear()
    torch.manual_seed(3)
    first = model_from_config(config)
    assert sorted(init_calls) == sorted(k.rsplit(".", 1)[-1] for k in _state(first))
    torch.manual_seed(3)
    _assert_same_state(first, model_from_config(config))  # torch's RNG governs the draws, as before
    assert first.get_layer("out").bias.abs().sum() == 0 and first.get_layer("bn").moving_variance.eq(1).all()
    assert first.get_layer("hidden").kernel.std() > 0.1  # he_normal over 6 inputs: std ~0.58


def test_unwritten_deferred_weights_are_initialized_like_an_ordinary_build():
    config = {"class_name": "Functional", "config": _small_model().get_config()}
    torch.manual_seed(7)
    ordinary = model_from_config(config)
    torch.manual_seed(7)
    with initializers.deferred_initialization() as deferral:
        deferred = model_from_config(config)
    assert deferral.unwritten() == len(_state(ordinary))  # nothing written: every weight pending
    with torch.no_grad():
        deferred.get_layer("hidden").bias.fill_(0.25)  # a write (as a file's copy) is kept
    assert deferral.unwritten() == len(_state(ordinary)) - 1
    deferral.finish()
    assert deferral.unwritten() == 0
    assert deferred.get_layer("hidden").bias.eq(0.25).all()
    with torch.no_grad():
        ordinary.get_layer("hidden").bias.fill_(0.25)
    _assert_same_state(deferred, ordinary)  # the rest drew the same values, in the same order


def test_add_weight_layers_defer_and_load(tmp_path, init_calls):
    class Scale(kerastorch.layers.Layer):
        def build(self, input_shape):
            self.add_weight("scale", (int(input_shape[-1]),), initializer="random_normal")

        def call(self, inputs):
            return inputs * self.scale

    torch.manual_seed(1)
    x = Input((4,), name="x")
    model = Model(x, Scale(name="scale")(kerastorch.layers.Dense(4, name="d")(x)))
    save_model(model, tmp_path / "m.safetensors")
    init_calls.clear()
    loaded = load_model(tmp_path / "m.safetensors", custom_objects={"Scale": Scale})
    assert init_calls == []
    _assert_same_state(loaded, model)
    with initializers.deferred_initialization() as deferral:
        layer = Scale(name="s")
        layer.build((None, 3))
    assert deferral.unwritten() == 1
    deferral.finish()
    assert init_calls == ["scale"] and layer.scale.abs().sum() > 0


def test_missing_weights_are_still_an_error(tmp_path):
    save_model(_small_model(), tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        members = {n: z.read(n) for n in z.namelist()}
    for drop, match in (("layers/dense_1/vars/1", r"expected 2 weights \['kernel', 'bias'\], found 1"),
                        ("layers/dense", r"the file has 2 Keras layers with weights")):
        weights = io.BytesIO(members["model.weights.h5"])
        with h5py.File(weights, "a") as f:
            del f[drop]
        path = tmp_path / "missing.keras"
        with zipfile.ZipFile(path, "w") as z:
            for n, data in members.items():
                z.writestr(n, weights.getvalue() if n == "model.weights.h5" else data)
        with pytest.raises(ValueError, match=match):
            load_model(path)
        assert initializers.active_deferral() is None  # a failed load leaves nothing behind


def test_missing_safetensors_key_is_an_error(tmp_path):
    from safetensors.torch import load_file, save_file
    import json
    from safetensors import safe_open

    save_model(_small_model(), tmp_path / "m.safetensors")
    with safe_open(str(tmp_path / "m.safetensors"), "pt") as f:
        metadata = f.metadata()
    tensors = load_file(str(tmp_path / "m.safetensors"))
    del tensors["out.bias"]
    save_file(tensors, str(tmp_path / "missing.safetensors"), metadata=metadata)
    assert json.loads(metadata["keras_config"])["class_name"] == "Functional"
    with pytest.raises(ValueError, match=r"missing key 'out.bias'"):
        load_model(tmp_path / "missing.safetensors")


def test_allocation_guard_still_refuses_before_allocating(tmp_path):
    save_model(_small_model(), tmp_path / "m.keras")
    with pytest.raises(ValueError, match=r"more than the limit of 20 \(LoadLimits.max_weight_elements\)"):
        load_model(tmp_path / "m.keras", limits=LoadLimits(max_weight_elements=20))  # hidden.kernel: 24
    assert initializers.active_deferral() is None


def test_load_under_inference_mode(tmp_path, init_calls):
    model = _small_model()
    save_model(model, tmp_path / "m.safetensors")
    with torch.inference_mode():
        loaded = load_model(tmp_path / "m.safetensors")  # no version counters: initializers run as before
    _assert_same_state(loaded, model)


def test_unbuilt_sequential_is_built_from_the_file_without_initializers(tmp_path, init_calls):
    torch.manual_seed(2)
    model = Sequential([kerastorch.layers.Dense(3, name="a"), kerastorch.layers.Dense(2, name="b")], name="seq")
    model(torch.randn(1, 5))
    save_model(model, tmp_path / "m.safetensors")
    init_calls.clear()
    loaded = load_model(tmp_path / "m.safetensors")
    assert init_calls == []
    _assert_same_state(loaded, model)

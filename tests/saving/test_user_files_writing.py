"""Issue 26: files kerastorch writes from models real Keras made (compat_fixtures/user_files/) have the
structure real Keras needs. Keras itself reads them back in compat_fixtures/prove_user_files.py (its
verdict is recorded in compat_fixtures/user_files/proof.json); here what can be checked without Keras."""
from __future__ import annotations

import pytest
import torch

import kerastorch as kt
from saving.user_files_helpers import archive, assert_predicts, cases, h5_datasets, load, path  # noqa: E402


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

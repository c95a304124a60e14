"""Issue 26: files kerastorch writes from models real Keras made (compat_fixtures/user_files/) have the
structure real Keras needs. Keras itself reads them back in compat_fixtures/prove_user_files.py (its
verdict is recorded in compat_fixtures/user_files/proof.json); here what can be checked without Keras."""
from __future__ import annotations

import pytest

import kerastorch as kt
from saving.user_files_helpers import load  # noqa: E402


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

"""A keras.io image classifier with its augmentation block (Resizing -> Rescaling -> [RandomFlip, RandomRotation,
RandomZoom] -> conv backbone) saved by real tf.keras 2.21 (.h5, .keras) and Keras 3.15.1 (.keras)
(``gen/image_geometric.py``): kerastorch loads each file; eval() computes what Keras recorded with
``training=False``; train() augments (outputs differ from eval, as Keras's did); ``save_model`` writes a .keras
archive that kerastorch reads back alike (real Keras 3 reads it too: ``compat_fixtures/prove_image_files.py``)."""
from __future__ import annotations

import zipfile

import pytest
import torch

import kerastorch as kt
from kt_testing import DEVICE, FIXTURES, assert_close, load_tensors

FILES = [("geometric_classifier.tf.h5", "tf"), ("geometric_classifier.tf.keras", "tf"), ("geometric_classifier.k3.keras", "k3")]


@pytest.mark.parametrize("name,tag", FILES, ids=[f for f, _ in FILES])
def test_classifier_file_loads_and_augments_in_training(name, tag, tmp_path):
    tensors = load_tensors("image_preprocessing/geometric_classifier_tensors.safetensors")
    x = tensors["input"]
    model = kt.models.load_model(str(FIXTURES / "image_preprocessing" / name)).to(DEVICE)
    model.eval()
    assert_close(model(x), tensors[f"{tag}.eval"])
    model.train()
    assert not torch.allclose(model(x), tensors[f"{tag}.eval"], rtol=0, atol=1e-6)  # Keras's train() differs too
    assert (tensors[f"{tag}.train"] - tensors[f"{tag}.eval"]).abs().max() > 1e-6
    path = tmp_path / "resaved.keras"
    kt.models.save_model(model, str(path))
    with zipfile.ZipFile(path) as z:
        assert b"rng_type" not in z.read("config.json")  # Keras 3's constructors take no rng_type
    again = kt.models.load_model(str(path)).to(DEVICE).eval()
    assert_close(again(x), tensors[f"{tag}.eval"])

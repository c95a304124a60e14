"""A small classifier with a colour augmentation block saved by real tf.keras 2.21 (.h5, .keras: RandomContrast,
RandomBrightness) and Keras 3.15.1 (.keras: every colour and mixing layer, then AutoContrast and CLAHE, which Keras
applies in inference too) (``gen/image_color.py``): kerastorch loads each file; eval() computes what Keras recorded
with ``training=False``; train() augments (outputs differ from eval, as Keras's did); ``save_model`` writes a .keras
archive that kerastorch reads back alike."""
from __future__ import annotations

import pytest
import torch

import kerastorch as kt
from kt_testing import DEVICE, FIXTURES, assert_close, load_tensors

FILES = [("color_classifier.tf.h5", "tf"), ("color_classifier.tf.keras", "tf"), ("color_classifier.k3.keras", "k3")]


@pytest.mark.parametrize("name,tag", FILES, ids=[f for f, _ in FILES])
def test_classifier_file_loads_and_augments_in_training(name, tag, tmp_path):
    tensors = load_tensors("image_preprocessing/color_classifier_tensors.safetensors")
    x = tensors["input"]
    model = kt.models.load_model(str(FIXTURES / "image_preprocessing" / name)).to(DEVICE)
    model.eval()
    assert_close(model(x), tensors[f"{tag}.eval"])
    model.train()
    assert not torch.allclose(model(x), tensors[f"{tag}.eval"], rtol=0, atol=1e-6)  # Keras's train() differs too
    assert (tensors[f"{tag}.train"] - tensors[f"{tag}.eval"]).abs().max() > 1e-6
    path = tmp_path / "resaved.keras"
    kt.models.save_model(model, str(path))
    again = kt.models.load_model(str(path)).to(DEVICE).eval()
    assert_close(again(x), tensors[f"{tag}.eval"])

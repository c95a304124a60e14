"""Saved models holding these families, written by real tf.keras (.h5, .keras) and Keras 3 (.keras)
(compat_fixtures/preprocessing_model.*, gen/preprocessing.py): Rescaling, an adapted Normalization (its
mean/variance/count from the file), Conv2D, PReLU with shared axes, Permute, Flatten(channels_first), Reshape,
Flatten, RepeatVector, Dense, LeakyReLU, ReLU, ELU, Softmax and a static Normalization. Loaded by
kerastorch.saving.load_model, each computes the output its Keras recorded."""
from __future__ import annotations

import pytest
import torch

from kerastorch.saving import load_model
from kt_testing import FIXTURES, assert_close, load_tensors

FILES = [("preprocessing_model.tf.h5", "tf"), ("preprocessing_model.tf.keras", "tf"), ("preprocessing_model.k3.keras", "k3")]


@pytest.mark.parametrize("name,tag", FILES, ids=[f[0] for f in FILES])
def test_saved_model_loads_and_matches(name, tag):
    T = load_tensors("preprocessing_model_tensors.safetensors")
    model = load_model(str(FIXTURES / name)).eval()
    x = T["input"]
    with torch.no_grad():
        y = model(x)
    # a dozen float32 layers after each other (Softmax outputs ~0.2, normalized by a variance of 0.1): 1e-5
    # relative to the output's scale, the suite's float32 bound
    assert_close(y, T[f"{tag}.output"], rtol=1e-5)
    norm = [m for m in model.modules() if type(m).__name__ == "Normalization"]
    assert len(norm) == 2 and norm[0].weight_names == ["mean", "variance", "count"]
    # tf.keras's adapt counts the 4 * 6 * 6 reduced positions; Keras 3's adapt never updates `count` (it stays 0)
    assert int(norm[0].count) == (4 * 36 if tag == "tf" else 0)
    assert norm[1].weight_names == []


def test_saved_model_output_can_fail():
    """The test above can fail: the two Kerases' models hold different weights, so their outputs differ."""
    T = load_tensors("preprocessing_model_tensors.safetensors")
    assert not torch.allclose(T["tf.output"], T["k3.output"], atol=1e-3)

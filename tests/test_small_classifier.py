"""A small Keras-style classifier built by hand from kerastorch layers, holding a REAL tf.keras model's weights.

``demo/digits_cnn.h5`` is a tf.keras 2.21 Sequential (conv1 -> bn1 -> relu1 -> conv2 -> pool -> flatten ->
dropout -> predictions) trained by ``demo/make_keras_model.py`` on scikit-learn's digits, and
``demo/digits_cnn_keras_predictions.npz`` holds real tf.keras's predictions on the test split. Here the same
network is a plain ``torch.nn.Sequential`` of kerastorch layers (no model file parsing beyond the weights),
loaded with ``kerastorch.saving.load_keras_weights``: in eval mode its predictions are Keras's; in train mode
Dropout and BatchNormalization's batch statistics change them, as in Keras.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kerastorch.layers as L
from kerastorch.saving import load_keras_weights
from kt_testing import assert_close

DEMO = Path(__file__).resolve().parent.parent / "demo"


def classifier() -> torch.nn.Sequential:
    """The demo model's architecture, written by hand (names as in the Keras file)."""
    return torch.nn.Sequential(
        L.Conv2D(16, 3, padding="same", name="conv1"),
        L.BatchNormalization(name="bn1"),
        L.ReLU(name="relu1"),
        L.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="conv2"),
        L.MaxPooling2D(2, name="pool"),
        L.Flatten(name="flatten"),
        L.Dropout(0.25, name="dropout"),
        L.Dense(10, activation="softmax", name="predictions"),
    )


def test_split() -> tuple[torch.Tensor, np.ndarray]:
    """``demo/make_keras_model.py``'s test split: NHWC float32 images in [0, 1]."""
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    _, x_test, _, y_test = train_test_split(images, digits.target, test_size=0.25, random_state=0, stratify=digits.target)
    return torch.from_numpy(x_test), y_test


test_split.__test__ = False  # a helper, not a test


@pytest.fixture(scope="module")
def loaded() -> torch.nn.Sequential:
    model = classifier()
    load_keras_weights(model, DEMO / "digits_cnn.h5")
    return model


def test_weights_come_from_the_keras_file(loaded):
    import h5py

    with h5py.File(DEMO / "digits_cnn.h5", "r") as f:
        group = f["model_weights"]
        kernel = np.asarray(group["predictions"]["predictions"]["kernel:0"])
        moving_variance = np.asarray(group["bn1"]["bn1"]["moving_variance:0"])
        conv1 = np.asarray(group["conv1"]["conv1"]["kernel:0"])
    np.testing.assert_array_equal(loaded[7].get_weights()[0], kernel)
    np.testing.assert_array_equal(loaded[1].get_weights()[3], moving_variance)
    np.testing.assert_array_equal(loaded[0].get_weights()[0], conv1)
    # the BatchNormalization statistics are buffers with Keras's names, not parameters
    assert dict(loaded[1].named_buffers()).keys() == {"moving_mean", "moving_variance"}
    assert [n for n, _ in loaded[1].named_parameters()] == ["gamma", "beta"]


def test_eval_predictions_equal_keras(loaded):
    x, y_true = test_split()
    recorded = np.load(DEMO / "digits_cnn_keras_predictions.npz")
    keras_predictions = torch.from_numpy(recorded["predictions"])
    assert x.shape == (450, 8, 8, 1) and keras_predictions.shape == (450, 10)
    loaded.eval()
    with torch.no_grad():
        ours = loaded(x)
    # float32 parity: softmax probabilities within 1e-5 relative (atol 1e-6 for the near-zero ones)
    assert_close(ours, keras_predictions, rtol=1e-5, atol=1e-6)
    assert torch.equal(ours.argmax(1), keras_predictions.argmax(1))
    accuracy = float((ours.argmax(1).numpy() == y_true).mean())
    assert accuracy == pytest.approx(float(recorded["accuracy"]), abs=1e-6)


def test_train_mode_differs_because_of_dropout_and_batch_statistics(loaded):
    x, _ = test_split()
    loaded.eval()
    with torch.no_grad():
        reference = loaded(x)
    state = {k: v.clone() for k, v in loaded.state_dict().items()}
    try:
        loaded.train()
        torch.manual_seed(0)
        with torch.no_grad():
            trained = loaded(x)
        assert not torch.allclose(trained, reference, atol=1e-3)
        # a training call updates BatchNormalization's moving statistics (Keras's moving-average update)
        assert not torch.equal(loaded[1].moving_mean, state["1.moving_mean"])
        # BatchNormalization alone in training mode (Dropout in eval) also changes the output
        loaded.load_state_dict(state)
        loaded[6].eval()
        with torch.no_grad():
            bn_only = loaded(x)
        assert not torch.allclose(bn_only, reference, atol=1e-3)
        # Dropout alone in training mode (BatchNormalization in eval) zeroes features, scaled by 1 / (1 - rate)
        loaded.load_state_dict(state)
        loaded.eval()
        loaded[6].train()
        features = torch.nn.Sequential(*loaded[:6])(x)
        dropped = loaded[6](features)
        nonzero = features != 0
        kept = (dropped != 0) & nonzero
        assert 0.7 < (kept.sum() / nonzero.sum()).item() < 0.8  # ~4000 features, keep probability 0.75
        assert_close(dropped[kept], (features / 0.75)[kept])
        assert torch.equal(dropped[~kept], torch.zeros_like(dropped[~kept]))
    finally:
        loaded.load_state_dict(state)
        loaded.eval()
    with torch.no_grad():
        assert torch.equal(loaded(x), reference)

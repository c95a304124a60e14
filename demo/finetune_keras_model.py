"""The main job: a real Keras model file becomes a torch module, is checked, fine-tuned and saved.

``demo/digits_cnn.h5`` was written by real tf.keras 2.21 (``demo/make_keras_model.py``: a small CNN with
BatchNormalization, max pooling, dropout and a softmax head, trained two epochs on scikit-learn's digits).
This script, with no TensorFlow anywhere:

1. loads it with ``kerastorch.models.load_model`` (the file is untrusted input: nothing in it is executed),
2. checks its predictions on the held-out digits against those tf.keras recorded for the same images,
3. fine-tunes it a few epochs with a torch optimizer (Keras's loss on the softmax output; BatchNormalization
   updates its moving statistics as Keras does in training mode),
4. saves it as safetensors (weights + the Keras config) and as a Keras 3 ``.keras`` archive in ``--out``
   (default ``./demo_out``), reloads both and checks the predictions are unchanged.

Run: ``.venv/bin/python demo/finetune_keras_model.py [--epochs 8] [--out demo_out]``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kerastorch as kt

HERE = os.path.dirname(os.path.abspath(__file__))


def digits_split(seed: int = 0):
    """The split ``make_keras_model.py`` used: NHWC float32 images in [0, 1], a quarter held out."""
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    x_train, x_test, y_train, y_test = train_test_split(images, digits.target, test_size=0.25, random_state=seed,
                                                        stratify=digits.target)
    return (torch.from_numpy(x_train), torch.from_numpy(x_test), torch.from_numpy(y_train).long(),
            torch.from_numpy(y_test).long())


@torch.no_grad()
def predict(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    model.eval()
    return model(x)


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return (predict(model, x).argmax(dim=1) == y).float().mean().item()


def main(epochs: int = 8, seed: int = 0, out_dir: str = "demo_out") -> float:
    torch.manual_seed(seed)
    x_train, x_test, y_train, y_test = digits_split()

    model = kt.models.load_model(os.path.join(HERE, "digits_cnn.h5"))
    model.summary()
    recorded = np.load(os.path.join(HERE, "digits_cnn_keras_predictions.npz"))
    ours = predict(model, x_test)
    diff = (ours - torch.from_numpy(recorded["predictions"])).abs().max().item()
    print(f"predictions vs tf.keras {recorded['versions'][1]} on {len(x_test)} test digits: max abs difference {diff:.2e}")
    if diff > 1e-5:
        sys.exit("kerastorch disagrees with Keras")
    print(f"accuracy as loaded: {accuracy(model, x_test, y_test):.4f} (tf.keras reported {float(recorded['accuracy']):.4f})")

    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()  # BatchNormalization uses batch statistics, Dropout drops
        order = torch.randperm(len(x_train))
        total = 0.0
        for i in range(0, len(order), 32):
            idx = order[i:i + 32]
            probs = model(x_train[idx])
            # Keras's sparse_categorical_crossentropy on probabilities (clipped to [eps, 1 - eps])
            loss = torch.nn.functional.nll_loss(probs.clamp(1e-7, 1 - 1e-7).log(), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch}  loss {total / len(order):.4f}  test accuracy {accuracy(model, x_test, y_test):.4f}")
    print(f"fine-tuned in {time.perf_counter() - start:.1f}s")

    final = predict(model, x_test)
    os.makedirs(out_dir, exist_ok=True)
    for path in (os.path.join(out_dir, "digits_cnn.safetensors"), os.path.join(out_dir, "digits_cnn.keras")):
        kt.models.save_model(model, path)
        reloaded = kt.models.load_model(path)
        same = torch.allclose(predict(reloaded, x_test), final, rtol=0, atol=1e-6)
        print(f"wrote {path} ({os.path.getsize(path)} bytes), reloaded: same predictions = {same}")
        if not same:
            sys.exit(f"{path} reloaded differently")
    result = accuracy(model, x_test, y_test)
    print(f"final test accuracy {result:.4f}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--out", default="demo_out", help="folder for the saved model files (created if missing)")
    options = parser.parse_args()
    main(epochs=options.epochs, out_dir=options.out)

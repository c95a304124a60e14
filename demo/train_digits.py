"""The main job: a Keras-style CNN made of kerastorch Conv2D layers inside a plain torch model.

Trains on scikit-learn's digits (8x8 images, shipped inside the package, no download) with L2
weight regularization and MaxNorm constraints in effect, prints accuracy per epoch, then saves the
weights to safetensors (and the conv weights as a Keras 3 ``.weights.h5``) in ``--out`` (default
``./demo_out``), reloads them into a fresh, unbuilt model and checks the predictions match.
Run: ``.venv/bin/python demo/train_digits.py [--epochs 12] [--out demo_out]``.
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
from kerastorch import constraints, regularizers


MAX_NORM = 0.6  # per-filter L2 bound on conv1: tight enough that the constraint really binds


class DigitsCNN(torch.nn.Module):
    """NHWC in, logits out: three kerastorch convs (one strided 'same', one grouped) and a linear head."""

    def __init__(self, input_shape: tuple[int, int, int] | None = (8, 8, 1)):
        super().__init__()
        self.conv1 = kt.Conv2D(
            16, 3, padding="same", activation="relu", kernel_regularizer=regularizers.L2(1e-4),
            kernel_constraint=constraints.MaxNorm(MAX_NORM, axis=[0, 1, 2]), input_shape=input_shape,
        )
        self.conv2 = kt.Conv2D(
            32, 3, strides=2, padding="same", activation="relu", kernel_regularizer="l2",
            kernel_constraint="max_norm",
        )
        self.conv3 = kt.Conv2D(32, (2, 2), padding="same", groups=4, activation="swish", activity_regularizer=regularizers.L1(1e-5))
        self.head = torch.nn.Linear(4 * 4 * 32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3(self.conv2(self.conv1(x)))
        return self.head(x.flatten(1))


def main(epochs: int = 12, seed: int = 0, out_dir: str = "demo_out") -> float:
    torch.manual_seed(seed)
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]  # NHWC, values in [0, 1]
    x_train, x_test, y_train, y_test = train_test_split(images, digits.target, test_size=0.25, random_state=seed, stratify=digits.target)
    x_train, x_test = torch.from_numpy(x_train), torch.from_numpy(x_test)
    y_train, y_test = torch.from_numpy(y_train).long(), torch.from_numpy(y_test).long()

    model = DigitsCNN()
    model(x_train[:1])  # builds conv2/conv3 (conv1 was built by input_shape=)
    print(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    kt.attach_constraints(optimizer, model)  # Keras applies constraints after each update

    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(x_train))
        total, reg_total = 0.0, 0.0
        for i in range(0, len(order), 64):
            idx = order[i : i + 64]
            logits = model(x_train[idx])
            data_loss = torch.nn.functional.cross_entropy(logits, y_train[idx])
            reg = kt.regularization_loss(model)
            loss = data_loss + reg
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += data_loss.item() * len(idx)
            reg_total += reg.item() * len(idx)
        acc = evaluate(model, x_test, y_test)
        print(f"epoch {epoch:2d}  loss {total / len(order):.4f}  reg {reg_total / len(order):.4f}  test acc {acc:.4f}")
    print(f"trained in {time.perf_counter() - start:.1f}s")

    norms = model.conv1.keras_weight("kernel").detach().square().sum(dim=(0, 1, 2)).sqrt()
    at_bound = int((norms > MAX_NORM - 1e-3).sum())
    print(f"conv1 filter norms: max {norms.max():.4f}, {at_bound}/{len(norms)} filters held at the MaxNorm({MAX_NORM}) bound")
    if norms.max() > MAX_NORM + 1e-5:
        sys.exit("constraint violated")

    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "digits.safetensors")
    kt.save_weights(model, path)
    fresh = DigitsCNN(input_shape=None)  # every conv unbuilt: shapes come from the file
    kt.load_weights(fresh, path)
    same = torch.equal(predict(model, x_test), predict(fresh, x_test))
    print(f"wrote {path} ({os.path.getsize(path)} bytes); reloaded into an unbuilt model: predictions identical = {same}")
    if not same:
        sys.exit("reloaded model disagrees")
    try:  # the same conv weights as a Keras 3 .weights.h5 (needs the optional h5py)
        keras_path = os.path.join(out_dir, "digits_convs.weights.h5")
        kt.save_keras_weights(model, keras_path, skip_unsupported=True)
        print(f"wrote {keras_path} ({os.path.getsize(keras_path)} bytes): the conv weights in Keras 3's format")
    except ImportError as e:
        print(f"(no Keras file: {e})")
    final = evaluate(model, x_test, y_test)
    print(f"final test accuracy {final:.4f}")
    return final


@torch.no_grad()
def predict(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    model.eval()
    return model(x).argmax(dim=1)


def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return (predict(model, x) == y).float().mean().item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--out", default="demo_out", help="folder for the weight files (created if missing)")
    options = parser.parse_args()
    main(epochs=options.epochs, out_dir=options.out)

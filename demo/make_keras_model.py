"""Make the demo's Keras model file with REAL tf.keras (run in the reference venv, not by the demo).

A small CNN trained by tf.keras for two epochs on scikit-learn's digits (the same split the demo uses),
saved as a tf.keras ``.h5`` full-model file next to this script, with tf.keras's predictions on the test
split recorded so the demo can check that kerastorch computes what Keras computes::

    .venv-keras/bin/pip install scikit-learn   # once
    .venv-keras/bin/python demo/make_keras_model.py

Writes ``demo/digits_cnn.h5`` and ``demo/digits_cnn_keras_predictions.npz``.
"""
from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 0


def digits_split(seed: int = SEED):
    """The demo's split: NHWC float32 images in [0, 1], a quarter held out, stratified."""
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    return train_test_split(images, digits.target, test_size=0.25, random_state=seed, stratify=digits.target)


def main() -> None:
    keras.utils.set_random_seed(SEED)
    x_train, x_test, y_train, y_test = digits_split()
    model = keras.Sequential([
        keras.Input((8, 8, 1), name="image"),
        keras.layers.Conv2D(16, 3, padding="same", name="conv1"),
        keras.layers.BatchNormalization(name="bn1"),
        keras.layers.ReLU(name="relu1"),
        keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="conv2"),
        keras.layers.MaxPooling2D(2, name="pool"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dropout(0.25, name="dropout"),
        keras.layers.Dense(10, activation="softmax", name="predictions"),
    ], name="digits_cnn")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=2, batch_size=64, verbose=2)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    model.save(os.path.join(HERE, "digits_cnn.h5"))
    np.savez_compressed(os.path.join(HERE, "digits_cnn_keras_predictions.npz"),
                        predictions=model.predict(x_test, verbose=0), accuracy=np.float32(accuracy),
                        versions=np.array([tf.__version__, keras.__version__]))
    print(f"tf.keras {keras.__version__}: test accuracy after 2 epochs {accuracy:.3f}; wrote demo/digits_cnn.h5")


if __name__ == "__main__":
    main()

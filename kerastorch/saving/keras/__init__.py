"""Real Keras files: a pure reader (``reader``), class names (``names``), weights in and out (``weights``)."""
from .reader import KerasLayerWeights, read_keras_weights
from .weights import load_keras_weights, save_keras_weights

__all__ = ["KerasLayerWeights", "load_keras_weights", "read_keras_weights", "save_keras_weights"]

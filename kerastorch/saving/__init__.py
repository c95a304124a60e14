"""Weight files: safetensors (``save_weights``/``load_weights``) and real Keras files (``saving.keras``)."""
from .keras import load_keras_weights, save_keras_weights
from .weights_io import load_weights, save_weights

__all__ = ["load_keras_weights", "load_weights", "save_keras_weights", "save_weights"]

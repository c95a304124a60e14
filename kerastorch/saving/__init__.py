"""Weight files: safetensors (``save_weights``/``load_weights``) and real Keras files (``saving.keras``);
whole models: ``load_model``/``save_model`` (``.keras``, tf.keras ``.h5``, kerastorch ``.safetensors``)."""
from .keras import load_keras_weights, save_keras_weights
from .model_files import LoadLimits, load_model, save_model
from .weights_io import load_weights, save_weights

__all__ = ["LoadLimits", "load_keras_weights", "load_model", "load_weights", "save_keras_weights", "save_model", "save_weights"]

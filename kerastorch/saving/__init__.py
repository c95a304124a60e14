"""Weight files: safetensors (``save_weights``/``load_weights``) and real Keras files."""
from .safetensors_io import load_weights, save_weights

__all__ = ["load_weights", "save_weights"]

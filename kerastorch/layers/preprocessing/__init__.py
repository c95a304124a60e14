"""The tf.keras preprocessing layers that appear inside saved models: Rescaling, Normalization."""
from .normalization import Normalization
from .rescaling import Rescaling

__all__ = ["Normalization", "Rescaling"]

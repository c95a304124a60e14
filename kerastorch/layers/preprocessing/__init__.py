"""Keras's preprocessing layers: Rescaling and Normalization, the image layers (``image_preprocessing``) and the
structured-data, text and audio layers."""
from .image_preprocessing import *  # noqa: F401,F403
from .image_preprocessing import __all__ as _image_all
from .normalization import Normalization
from .rescaling import Rescaling

__all__ = ["Normalization", "Rescaling", *_image_all]

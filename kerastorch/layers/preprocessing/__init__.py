"""Keras's preprocessing layers: Rescaling and Normalization, the image layers (``image_preprocessing``) and the
structured-data, text and audio layers."""
from .image_preprocessing import *  # noqa: F401,F403
from .image_preprocessing import __all__ as _image_all
from .integer_lookup import IntegerLookup
from .normalization import Normalization
from .rescaling import Rescaling
from .string_lookup import StringLookup
from .text_vectorization import TextVectorization

__all__ = ["IntegerLookup", "Normalization", "Rescaling", "StringLookup", "TextVectorization", *_image_all]

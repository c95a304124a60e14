"""Keras's preprocessing layers: Rescaling and Normalization, the image layers (``image_preprocessing``) and the
structured-data, text and audio layers."""
from .image_preprocessing import *  # noqa: F401,F403
from .image_preprocessing import __all__ as _image_all
from .category_encoding import CategoryEncoding
from .discretization import Discretization
from .hashed_crossing import HashedCrossing
from .hashing import Hashing
from .integer_lookup import IntegerLookup
from .mel_spectrogram import MelSpectrogram
from .normalization import Normalization
from .rescaling import Rescaling
from .stft_spectrogram import STFTSpectrogram
from .string_lookup import StringLookup
from .text_vectorization import TextVectorization

__all__ = ["CategoryEncoding", "Discretization", "HashedCrossing", "Hashing", "IntegerLookup", "MelSpectrogram",
           "Normalization", "Rescaling", "STFTSpectrogram", "StringLookup", "TextVectorization", *_image_all]

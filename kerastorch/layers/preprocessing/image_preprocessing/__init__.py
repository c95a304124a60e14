"""Keras's image preprocessing and augmentation layers (Keras 3 ``layers/preprocessing/image_preprocessing``)."""
from .base import BaseImagePreprocessingLayer
from .center_crop import CenterCrop
from .random_crop import RandomCrop
from .random_flip import RandomFlip
from .random_rotation import RandomRotation
from .random_shear import RandomShear
from .random_translation import RandomTranslation
from .random_zoom import RandomZoom
from .resizing import Resizing

__all__: list[str] = [
    "CenterCrop",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomShear",
    "RandomTranslation",
    "RandomZoom",
    "Resizing",
]

"""Emitters of the image preprocessing and augmentation layers (``layers/preprocessing/image_preprocessing``)."""
from __future__ import annotations

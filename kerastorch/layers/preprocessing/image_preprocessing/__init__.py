"""Keras's image preprocessing and augmentation layers (Keras 3 ``layers/preprocessing/image_preprocessing``)."""

__all__: list[str] = []

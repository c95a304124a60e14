"""Keras layers as torch modules."""
from .base_conv import Conv
from .conv2d import Conv2D, Convolution2D
from .layer import Layer

__all__ = ["Conv", "Conv2D", "Convolution2D", "Layer"]

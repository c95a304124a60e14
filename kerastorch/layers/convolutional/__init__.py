"""tf.keras's convolution layers on one rank-generic base."""
from .base_conv import Conv
from .conv1d import Conv1D, Convolution1D
from .conv2d import Conv2D, Convolution2D
from .conv3d import Conv3D, Convolution3D

__all__ = ["Conv", "Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D"]

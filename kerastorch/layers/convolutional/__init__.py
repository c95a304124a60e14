"""tf.keras's convolution layers on rank-generic bases (plain, transposed, depthwise, separable)."""
from .base_conv import Conv
from .base_conv_transpose import ConvTranspose
from .base_depthwise_conv import DepthwiseConv
from .base_separable_conv import SeparableConv
from .conv1d import Conv1D, Convolution1D
from .conv1d_transpose import Conv1DTranspose, Convolution1DTranspose
from .conv2d import Conv2D, Convolution2D
from .conv2d_transpose import Conv2DTranspose, Convolution2DTranspose
from .conv3d import Conv3D, Convolution3D
from .conv3d_transpose import Conv3DTranspose, Convolution3DTranspose
from .depthwise_conv1d import DepthwiseConv1D
from .depthwise_conv2d import DepthwiseConv2D
from .separable_conv1d import SeparableConv1D, SeparableConvolution1D
from .separable_conv2d import SeparableConv2D, SeparableConvolution2D

__all__ = [
    "Conv", "Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "ConvTranspose",
    "Convolution1D", "Convolution1DTranspose", "Convolution2D", "Convolution2DTranspose", "Convolution3D",
    "Convolution3DTranspose", "DepthwiseConv", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv",
    "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
]

"""kerastorch: Keras layers with tf.keras's exact semantics, as plain ``torch.nn.Module``s."""
from . import activations, config, constraints, initializers, layers, models, regularizers
from ._naming import clear_session
from ._version import __version__
from .fuse import fuse_for_inference
from .config import image_data_format, set_image_data_format
from .eject import eject
from .layers import Conv1D, Conv2D, Conv3D
from .saving import load_keras_weights, load_weights, save_keras_weights, save_weights
from .training import apply_constraints, attach_constraints, collect_losses, regularization_loss


__all__ = [
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "activations",
    "apply_constraints",
    "attach_constraints",
    "clear_session",
    "collect_losses",
    "config",
    "constraints",
    "eject",
    "fuse_for_inference",
    "image_data_format",
    "initializers",
    "layers",
    "load_keras_weights",
    "load_weights",
    "regularization_loss",
    "regularizers",
    "save_keras_weights",
    "save_weights",
    "set_image_data_format",
]

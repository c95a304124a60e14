"""tf.keras's regularization layers: dropout variants, Gaussian noise, activity regularization.

All of them follow torch's modes: random in training (``module.train()`` or ``training=True``), the
identity in inference (``.eval()`` or ``training=False``).
"""
from .activity_regularization import ActivityRegularization
from .alpha_dropout import AlphaDropout
from .dropout import Dropout
from .gaussian_dropout import GaussianDropout
from .gaussian_noise import GaussianNoise
from .spatial_dropout import SpatialDropout
from .spatial_dropout1d import SpatialDropout1D
from .spatial_dropout2d import SpatialDropout2D
from .spatial_dropout3d import SpatialDropout3D

__all__ = [
    "ActivityRegularization", "AlphaDropout", "Dropout", "GaussianDropout", "GaussianNoise", "SpatialDropout",
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
]

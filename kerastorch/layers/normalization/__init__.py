"""tf.keras's normalization layers: BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization; SpectralNormalization; Keras 3's RMSNormalization."""

from .batch_normalization import BatchNormalization
from .group_normalization import GroupNormalization
from .layer_normalization import LayerNormalization
from .rms_normalization import RMSNormalization
from .spectral_normalization import SpectralNormalization
from .unit_normalization import UnitNormalization

__all__: list[str] = ["BatchNormalization", "GroupNormalization", "LayerNormalization", "RMSNormalization", "SpectralNormalization",
                      "UnitNormalization"]

"""tf.keras's normalization layers: BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization."""

__all__: list[str] = []

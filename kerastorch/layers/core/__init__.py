"""tf.keras's core layers: Dense, Activation, Identity, InputLayer, Lambda."""

__all__: list[str] = []

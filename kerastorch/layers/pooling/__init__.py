"""tf.keras's pooling layers: max/average pooling and their global forms, rank-generic."""

__all__: list[str] = []

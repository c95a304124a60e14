"""tf.keras's regularization layers: dropout variants, Gaussian noise, activity regularization."""

__all__: list[str] = []

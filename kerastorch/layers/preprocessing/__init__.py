"""The tf.keras preprocessing layers that appear inside saved models: Rescaling, Normalization."""

__all__: list[str] = []

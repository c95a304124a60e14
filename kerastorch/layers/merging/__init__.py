"""tf.keras's merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot."""

__all__: list[str] = []

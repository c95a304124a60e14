"""TensorFlow-format Keras files without TensorFlow: tf.keras SavedModel directories (``load_model``)
and TF 2 checkpoints (``load_keras_weights``). See :mod:`.savedmodel` and :mod:`.bundle`."""
from .savedmodel import SavedKerasModel, checkpoint_prefix, is_saved_model_dir, read_checkpoint, read_saved_model

__all__ = ["SavedKerasModel", "checkpoint_prefix", "is_saved_model_dir", "read_checkpoint", "read_saved_model"]

"""tf.keras's core layers: Dense, Activation, Identity, InputLayer, Lambda."""
from .activation import Activation
from .dense import Dense
from .identity import Identity
from .input_layer import InputLayer
from .lambda_layer import Lambda

__all__ = ["Activation", "Dense", "Identity", "InputLayer", "Lambda"]

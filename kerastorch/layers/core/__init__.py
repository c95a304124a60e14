"""tf.keras's core layers: Dense, Activation, Identity, InputLayer, Lambda, Embedding, Masking, TimeDistributed
(and Keras 3's ReversibleEmbedding)."""
from .activation import Activation
from .dense import Dense
from .embedding import Embedding
from .identity import Identity
from .input_layer import InputLayer
from .lambda_layer import Lambda
from .masking import Masking
from .reversible_embedding import ReversibleEmbedding
from .time_distributed import TimeDistributed

__all__ = ["Activation", "Dense", "Embedding", "Identity", "InputLayer", "Lambda", "Masking", "ReversibleEmbedding",
           "TimeDistributed"]

"""tf.keras's core layers: Dense, Activation, Identity, InputLayer, Lambda, Embedding, Masking, TimeDistributed
(and Keras 3's ReversibleEmbedding), EinsumDense."""
from .activation import Activation
from .dense import Dense
from .einsum_dense import EinsumDense
from .embedding import Embedding
from .identity import Identity
from .input_layer import InputLayer
from .lambda_layer import Lambda
from .masking import Masking
from .reversible_embedding import ReversibleEmbedding
from .time_distributed import TimeDistributed

__all__ = ["Activation", "Dense", "EinsumDense", "Embedding", "Identity", "InputLayer", "Lambda", "Masking", "ReversibleEmbedding",
           "TimeDistributed"]

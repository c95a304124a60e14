"""Recurrent layers: cells, ``RNN``, ``SimpleRNN``/``LSTM``/``GRU``, ``StackedRNNCells``, ``Bidirectional``."""
from .base_rnn import RNN
from .bidirectional import Bidirectional
from .cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from .recurrent import GRU, LSTM, SimpleRNN

__all__ = ["Bidirectional", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell", "StackedRNNCells"]

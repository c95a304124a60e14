"""Recurrent layers: cells, ``RNN``, ``SimpleRNN``/``LSTM``/``GRU``, ``StackedRNNCells``, ``Bidirectional``."""
from .base_rnn import RNN
from .bidirectional import Bidirectional
from .cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from .recurrent import GRU, LSTM, CuDNNGRU, CuDNNLSTM, SimpleRNN

__all__ = ["Bidirectional", "CuDNNGRU", "CuDNNLSTM", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell", "StackedRNNCells"]

"""Recurrent layers: cells, ``RNN``, ``SimpleRNN``/``LSTM``/``GRU``, ``StackedRNNCells``, ``Bidirectional``."""
from .rnn import RNN
from .bidirectional import Bidirectional
from .conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from .cells import GRUCell, LSTMCell, SimpleRNNCell
from .stacked_rnn_cells import StackedRNNCells
from .recurrent import GRU, LSTM, CuDNNGRU, CuDNNLSTM, SimpleRNN

__all__ = ["Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "CuDNNGRU", "CuDNNLSTM", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell", "StackedRNNCells"]

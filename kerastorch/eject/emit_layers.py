"""Emitters of the remaining layer classes: convolutional recurrent layers, adaptive pooling, the other normalizations and wrappers."""
from __future__ import annotations

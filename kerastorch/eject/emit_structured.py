"""Emitters of the structured-data, text and audio preprocessing layers (lookups, encodings, hashing, spectrograms)."""
from __future__ import annotations

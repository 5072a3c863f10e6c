"""``keras.preprocessing.sequence``: sequence padding."""

from .text import pad_sequences

__all__ = ["pad_sequences"]

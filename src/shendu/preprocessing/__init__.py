"""Preprocessing utilities: text tokenisation and sequence padding."""

from . import text
from .text import Tokenizer, pad_sequences

__all__ = ["Tokenizer", "pad_sequences", "text"]

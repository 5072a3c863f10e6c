"""A vocabulary-based tokenizer (words by frequency, index 0 for padding, 1 for unknown)."""

from __future__ import annotations

import re
from collections import Counter

from ..utils.numerical import pad_sequences

_WORD = re.compile(r"[\w']+")


class Tokenizer:
    """Lower-cases, splits into words, and maps the ``num_words - 2`` most frequent words to
    indices 2, 3, ...; 0 is padding and 1 stands for words outside the vocabulary."""

    def __init__(self, num_words=None, lower=True):
        self.num_words, self.lower = num_words, lower
        self.word_index: dict = {}

    def _words(self, text):
        return _WORD.findall(text.lower() if self.lower else text)

    def fit_on_texts(self, texts):
        counts = Counter(w for t in texts for w in self._words(t))
        ranked = sorted(counts, key=lambda w: (-counts[w], w))
        if self.num_words is not None:
            ranked = ranked[: max(self.num_words - 2, 0)]
        self.word_index = {w: i + 2 for i, w in enumerate(ranked)}
        return self

    def texts_to_sequences(self, texts):
        if not self.word_index:
            raise ValueError("Tokenizer: call fit_on_texts first")
        return [[self.word_index.get(w, 1) for w in self._words(t)] for t in texts]

    @property
    def vocabulary_size(self):
        return len(self.word_index) + 2

    def get_config(self):
        return {"num_words": self.num_words, "lower": self.lower, "word_index": self.word_index}


__all__ = ["Tokenizer", "pad_sequences"]

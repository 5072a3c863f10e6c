"""Preprocessing utilities (Keras's ``keras.preprocessing``): text tokenisation, sequence
padding, and the dataset builders Keras also names here (the same functions as in
``shendu.utils``); ``preprocessing.image`` and ``preprocessing.sequence`` as in Keras."""

from . import image, sequence, text
from .text import Tokenizer, pad_sequences


def __getattr__(name):
    if name in _FROM_UTILS:
        from .. import utils

        return getattr(utils, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_FROM_UTILS = (
    "image_dataset_from_directory",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
)


def __dir__():
    return sorted(set(globals()) | set(_FROM_UTILS))


__all__ = ["Tokenizer", "pad_sequences", "text", "image", "sequence", *_FROM_UTILS]

"""Utilities: one-hot encoding, padding, the progress bar, seeding, plots."""

from ..backend import set_random_seed
from .numerical import normalize, pad_sequences, to_categorical
from .progbar import Progbar


def plot_history(history, path=None, metrics=None):
    """Plot loss and metrics (train and validation) per epoch; needs the [plot] extra."""
    from .plotting import plot_history as _plot

    return _plot(history, path, metrics)


__all__ = [
    "Progbar",
    "normalize",
    "pad_sequences",
    "plot_history",
    "set_random_seed",
    "to_categorical",
]

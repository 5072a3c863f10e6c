"""Utilities: one-hot encoding, padding, the progress bar, seeding, plots."""

from ..backend import set_random_seed
from .numerical import normalize, pad_sequences, to_categorical
from .progbar import Progbar


def plot_history(history, path=None, metrics=None):
    """Plot loss and metrics (train and validation) per epoch; needs the [plot] extra."""
    from .plotting import plot_history as _plot

    return _plot(history, path, metrics)


def plot_model(model, path="model.png"):
    """Draw the model's layer graph (Graphviz's dot program, or .dot text)."""
    from .plotting import plot_model as _plot

    return _plot(model, path)


def plot_confusion_matrix(y_true, y_pred, path=None, labels=None, normalize=False):
    """A confusion-matrix image (needs the [plot] extra); returns (figure, matrix)."""
    from .plotting import plot_confusion_matrix as _plot

    return _plot(y_true, y_pred, path, labels, normalize)


__all__ = [
    "Progbar",
    "normalize",
    "pad_sequences",
    "plot_confusion_matrix",
    "plot_history",
    "plot_model",
    "set_random_seed",
    "to_categorical",
]

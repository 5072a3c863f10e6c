"""Models: Model (functional and subclassed), Sequential, cloning, loading."""

from ..layers import MODEL_CLASSES
from .model import Model, clone_model
from .sequential import Sequential

MODEL_CLASSES.update({"Model": Model, "Functional": Model, "Sequential": Sequential})


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):  # noqa: A002
    """Load a model saved with ``model.save`` (see ``shendu.saving.load_model``)."""
    from ..saving import load_model as _load

    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


__all__ = ["Model", "Sequential", "clone_model", "load_model"]

"""Utilities under ``keras.utils`` names: one-hot encoding, padding, datasets from arrays
and folders, images, serialization helpers, the progress bar, seeding and plots."""

from ..backend import clear_session, is_keras_tensor, set_random_seed, standardize_dtype
from ..config import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from ..lazy import lazy_attributes
from ..naming import custom_object_scope, get_registered_object
from .numerical import normalize, pad_sequences, to_categorical
from .progbar import Progbar

CustomObjectScope = custom_object_scope

#: names imported on first use (``import shendu`` stays fast)
_LAZY = {
    "bounding_boxes": "bounding_boxes",  # the submodule (keras.utils.bounding_boxes)
    "FeatureSpace": "feature_space",
    **{
        name: "dataset_utils"
        for name in (
            "PyDataset",
            "Sequence",
            "audio_dataset_from_directory",
            "image_dataset_from_directory",
            "pack_x_y_sample_weight",
            "split_dataset",
            "text_dataset_from_directory",
            "timeseries_dataset_from_array",
            "unpack_x_y_sample_weight",
        )
    },
    "get_file": "file_utils",
    **{n: "image_utils" for n in ("array_to_img", "img_to_array", "load_img", "save_img")},
}


__getattr__, __dir__ = lazy_attributes(globals(), _LAZY, __name__)


class Config:
    """A mutable namespace of settings (``Config(lr=0.1).lr``), Keras's ``utils.Config``;
    ``freeze()`` makes it read-only."""

    def __init__(self, **kwargs):
        object.__setattr__(self, "_frozen", False)
        object.__setattr__(self, "_values", dict(kwargs))

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"Config has no attribute {name!r}") from None

    def __setattr__(self, name, value):
        if self._frozen:
            raise ValueError("Cannot set an attribute of a frozen Config")
        self._values[name] = value

    def __getitem__(self, key):
        return self._values[key]

    def __setitem__(self, key, value):
        self.__setattr__(key, value)

    def __contains__(self, key):
        return key in self._values

    def freeze(self):
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self):
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self):
        return self._frozen

    def as_dict(self):
        return dict(self._values)

    def to_json(self):
        import json

        return json.dumps(self._values)

    def __repr__(self):
        return f"Config({self._values})"


def register_keras_serializable(package="Custom", name=None):
    """Decorator: configs (and saved models) may name the class (``package>name``)."""
    from ..saving.serialization import register_keras_serializable as _register

    return _register(package, name)


def get_registered_name(obj):
    from ..saving.serialization import get_registered_name as _get

    return _get(obj)


def get_custom_objects():
    from ..saving.serialization import get_custom_objects as _get

    return _get()


def serialize_keras_object(obj):
    from ..saving.serialization import serialize_keras_object as _serialize

    return _serialize(obj)


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    from ..saving.serialization import deserialize_keras_object as _deserialize

    return _deserialize(config, custom_objects, safe_mode, **kwargs)


def get_source_inputs(tensor):
    """The ``Input`` tensors a symbolic tensor of the functional API depends on."""
    from ..layers.symbolic import source_inputs

    return source_inputs(tensor)


def plot_history(history, path=None, metrics=None):
    """Plot loss and metrics (train and validation) per epoch; needs the [plot] extra."""
    from .plotting import plot_history as _plot

    return _plot(history, path, metrics)


def plot_model(
    model,
    to_file="model.png",
    show_shapes=False,
    show_dtype=False,
    show_layer_names=True,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    show_layer_activations=False,
    show_trainable=False,
    **kwargs,
):
    """Draw the model's layer graph (Graphviz's dot program, or .dot text). Keras's other
    arguments are accepted; the drawing shows layer names and classes."""
    from .plotting import plot_model as _plot

    return _plot(model, kwargs.pop("path", to_file))


def model_to_dot(model, **kwargs):
    """The layer graph in Graphviz's dot language (a string)."""
    from .plotting import model_to_dot as _dot

    return _dot(model)


def plot_confusion_matrix(y_true, y_pred, path=None, labels=None, normalize=False):
    """A confusion-matrix image (needs the [plot] extra); returns (figure, matrix)."""
    from .plotting import plot_confusion_matrix as _plot

    return _plot(y_true, y_pred, path, labels, normalize)


__all__ = [
    "Config",
    "CustomObjectScope",
    "Progbar",
    "clear_session",
    "custom_object_scope",
    "deserialize_keras_object",
    "disable_interactive_logging",
    "enable_interactive_logging",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "get_source_inputs",
    "is_interactive_logging_enabled",
    "is_keras_tensor",
    "model_to_dot",
    "normalize",
    "pad_sequences",
    "plot_confusion_matrix",
    "plot_history",
    "plot_model",
    "register_keras_serializable",
    "serialize_keras_object",
    "set_random_seed",
    "standardize_dtype",
    "to_categorical",
] + list(_LAZY)

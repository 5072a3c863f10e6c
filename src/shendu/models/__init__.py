"""Models: Model (functional and subclassed), Sequential, cloning, loading."""

from __future__ import annotations

import os
from typing import Any

from .. import saving_registry as files
from ..layers import register_model_classes
from .model import Model, clone_model
from .sequential import Sequential

register_model_classes(Model, Sequential)


def load_model(
    filepath: str | os.PathLike,
    custom_objects: dict | None = None,
    compile: bool = True,
    safe_mode: bool = True,
) -> Model:  # noqa: A002
    """Load a model saved with ``model.save`` (see ``shendu.saving.load_model``)."""
    load = files.saving("load_model")
    return load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(
    model: Model,
    filepath: str | os.PathLike,
    overwrite: bool = True,
    zipped: Any = None,
    **kwargs: Any,
) -> None:
    """Save ``model`` to ``filepath`` (see ``shendu.saving.save_model``; ``zipped=False``,
    Keras's unzipped folder, is refused)."""
    save = files.saving("save_model")
    return save(model, filepath, overwrite=overwrite, zipped=zipped, **kwargs)


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Model:
    """A model from ``model.to_json()``'s text (architecture only, fresh weights)."""
    import json

    from ..layers import deserialize
    from ..naming import custom_object_scope

    config = json.loads(json_string)
    with custom_object_scope(custom_objects or {}):
        return deserialize(config, custom_objects)


__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]

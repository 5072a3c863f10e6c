"""Saving and loading as the training floor calls them (``model.save``, ``load_weights``,
``ModelCheckpoint``, ``BackupAndRestore``, ``keras.models.load_model``).

``shendu.saving`` is the floor above: it rebuilds models from their configs, so it imports
this floor, never the other way. It registers its functions here when it is imported
(``import shendu`` does), and the training floor looks them up by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_FUNCTIONS: dict[str, Callable] = {}


def register_saving(**functions: Callable) -> None:
    """Called by ``shendu.saving`` once, with its save_model, load_model, save_weights,
    load_weights and restore_into."""
    _FUNCTIONS.update(functions)


def saving(name: str) -> Any:
    """The registered function ``name`` of ``shendu.saving``."""
    function = _FUNCTIONS.get(name)
    if function is None:
        raise RuntimeError(
            f"shendu.saving has not registered {name!r}: import shendu (which imports "
            "shendu.saving) before saving or loading"
        )
    return function

"""Module attributes imported on first use (PEP 562 ``__getattr__``), so that
``import shendu`` does not load the rarely used parts of a namespace."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_attributes(namespace: dict, table: dict, package: str) -> tuple[Callable, Callable]:
    """``(__getattr__, __dir__)`` for a module whose names in ``table`` (name -> module
    beside it in ``package``) are imported on first use, then kept in ``namespace`` (the
    module's ``globals()``); ``dir()`` lists them from the start. A name mapped to itself
    is the module of that name (a submodule imported on first use)."""

    def __getattr__(name: str):  # noqa: N807
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        imported = importlib.import_module(f".{module}", package)
        value = imported if module == name else getattr(imported, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted(set(namespace) | set(table))

    return __getattr__, __dir__

"""Modules that import their functions on first use still list them in ``dir()``.

Tab completion, ``help(module)`` and API-coverage tools read ``dir()``; a name that only
``__getattr__`` knows would look missing until first used.
"""

import importlib

import pytest

LAZY_MODULES = ["shendu.ops", "shendu.ops.nn", "shendu.ops.linalg", "shendu.utils"]


@pytest.mark.parametrize("path", LAZY_MODULES)
def test_dir_lists_every_lazy_name(path):
    module = importlib.import_module(path)
    listed = set(dir(module))
    lazy = set(module._LAZY)
    assert lazy, f"{path} has no lazily imported names to check"
    assert lazy <= listed, sorted(lazy - listed)
    for name in sorted(lazy)[:5]:
        assert getattr(module, name) is not None


def test_dir_lists_core_unstack():
    import shendu.ops.core as core

    assert "unstack" in dir(core)
    assert callable(core.unstack)

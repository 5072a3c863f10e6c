"""Choosing the kernels' path: SHENDU_KERNELS / set_kernels, the fallback without numba,
and numba never imported by ``import shendu``."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from shendu.kernels import Kernel, dispatch, kernels, set_kernels, using_numba


def _run(code, **env):
    import os

    full = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=full
    )


def test_import_does_not_load_numba():
    out = _run(
        """
        import sys, shendu
        m = shendu.Sequential([shendu.layers.Input((3,)), shendu.layers.Dense(2)])
        m.compile(optimizer="adam", loss="mse")
        print("numba" in sys.modules)
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_modes(kernel_mode):
    kernel_mode("numpy")
    assert kernels() == "numpy" and not using_numba()
    kernel_mode("auto")
    assert kernels() == "auto"


def test_set_kernels_refuses_an_unknown_mode(kernel_mode):
    with pytest.raises(
        ValueError,
        match=r"set_kernels\(mode\) must be one of numpy, numba, auto. Received: 'fast'",
    ):
        set_kernels("fast")


def test_environment_variable_checked():
    out = _run(
        """
        import numpy as np, shendu
        shendu.optimizers.Adam().apply([np.ones(2, np.float32)], [shendu.Variable(np.ones(2, np.float32))])
        """,
        SHENDU_KERNELS="fastest",
    )
    assert "SHENDU_KERNELS must be one of numpy, numba, auto. Received: 'fastest'" in out.stderr


def test_environment_selects_numpy():
    out = _run(
        """
        import sys, numpy as np, shendu
        shendu.optimizers.Adam().apply([np.ones(2, np.float32)], [shendu.Variable(np.ones(2, np.float32))])
        print(shendu.kernels.kernels(), "numba" in sys.modules)
        """,
        SHENDU_KERNELS="numpy",
    )
    assert out.stdout.split() == ["numpy", "False"], out.stderr


_HIDE_NUMBA = """
import sys
sys.modules["numba"] = None  # as if not installed
"""


def test_without_numba_auto_falls_back_silently():
    out = _run(
        _HIDE_NUMBA
        + """
import warnings, numpy as np, shendu
warnings.simplefilter("error")
w = shendu.Variable(np.ones(1 << 15, np.float32))
shendu.optimizers.Adam(0.1).apply([np.ones(1 << 15, np.float32)], [w])
print(shendu.kernels.using_numba(), [round(float(v), 4) for v in w.numpy()[:3]])
"""
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "False [0.9, 0.9, 0.9]"


def test_without_numba_numba_mode_names_the_extra():
    out = _run(
        _HIDE_NUMBA
        + """
import shendu
try:
    shendu.kernels.set_kernels("numba")
except ImportError as exc:
    print(exc)
"""
    )
    assert "the fused kernels need the `fast` extra (pip install 'shendu[fast]')" in out.stdout


def test_without_numba_environment_numba_raises_at_first_use():
    out = _run(
        _HIDE_NUMBA
        + """
import numpy as np, shendu
try:
    shendu.optimizers.Adam().apply([np.ones(2, np.float32)], [shendu.Variable(np.ones(2, np.float32))])
except ImportError as exc:
    print("ImportError:", exc)
""",
        SHENDU_KERNELS="numba",
    )
    assert "ImportError: numba is not installed" in out.stdout, out.stderr


def test_broken_numba_warns_once_and_falls_back():
    out = _run(
        """
import sys, types, warnings
class Broken(types.ModuleType):
    def __getattr__(self, name):
        raise AttributeError(name)
import importlib.abc, importlib.machinery
class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "numba":
            raise ImportError("Numba needs NumPy 2.3 or less")
sys.meta_path.insert(0, Finder())
import numpy as np, shendu
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for _ in range(3):
        big = np.ones(1 << 15, np.float32)
        shendu.optimizers.Adam().apply([big], [shendu.Variable(big)])
print(len(caught), caught[0].message if caught else None)
"""
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        "1 numba could not be loaded (ImportError: Numba needs NumPy 2.3 or less); "
        "shendu uses its NumPy kernels"
    )


def test_a_kernel_takes_the_reference_for_other_dtypes(kernel_mode):
    pytest.importorskip("numba")
    calls = []

    def reference(x):
        calls.append("reference")

    def loop(x):
        x[0] = 1.0

    k = Kernel("test_only", reference, loop, dtypes=(np.float32,))
    try:
        kernel_mode("numba")
        k(np.zeros(2, np.float64))
        assert calls == ["reference"]
        x = np.zeros(2, np.float32)
        k(x)
        assert x[0] == 1.0 and calls == ["reference"]
        kernel_mode("numpy")
        k(x)
        assert calls == ["reference", "reference"]
    finally:
        del Kernel.registry["test_only"]


def test_a_kernel_whose_links_are_missing_runs_its_reference(kernel_mode):
    pytest.importorskip("numba")
    k = Kernel("test_unlinked", lambda x: x.fill(2), lambda x: x.fill(3), linked=lambda: None)
    try:
        kernel_mode("numba")
        x = np.zeros(2)
        k(x)
        assert x.tolist() == [2, 2] and not k.runs_compiled(x)
        with pytest.raises(
            RuntimeError, match="kernel 'test_unlinked': its numba loop is not available"
        ):
            k.compiled()
    finally:
        del Kernel.registry["test_unlinked"]


def test_uncachable_loop_compiles_with_a_warning(monkeypatch):
    numba = pytest.importorskip("numba")
    real = numba.njit

    def njit(*args, cache=False, **kwargs):
        if cache:
            raise RuntimeError("cannot cache function: no locator available")
        return real(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", njit)

    def loop(x):
        x[0] = 5.0

    with pytest.warns(RuntimeWarning, match="numba cannot cache .*loop .*compiles on every start"):
        f = dispatch.jit(loop)
    x = np.zeros(1)
    f(x)
    assert x[0] == 5.0


def test_auto_leaves_small_work_to_numpy_without_importing_numba():
    out = _run(
        """
        import sys, numpy as np, shendu
        x = np.random.default_rng(0).standard_normal((30, 4)).astype(np.float32)
        m = shendu.Sequential([shendu.layers.Input((4,)), shendu.layers.Dense(3)])
        m.compile(optimizer="adam", loss="mse")
        m.fit(x, x[:, :3], epochs=2, verbose=0)
        print("numba" in sys.modules)
        """
    )
    assert out.stdout.strip() == "False", out.stderr


def test_auto_threshold(kernel_mode):
    pytest.importorskip("numba")
    from shendu.kernels import optimizer_updates as K

    kernel_mode("auto")
    small = np.ones(dispatch.AUTO_MIN_ELEMENTS - 1, np.float32)
    large = np.ones(dispatch.AUTO_MIN_ELEMENTS, np.float32)
    assert not K.ADAM.runs_compiled(small, small) and K.ADAM.runs_compiled(large, small)
    kernel_mode("numba")
    assert K.ADAM.runs_compiled(small, small)


def test_config_has_the_switch(kernel_mode):
    import shendu

    shendu.config.set_kernels("numpy")
    assert shendu.config.kernels() == "numpy" == kernels()

"""Optional oracle: every op of ``keras.ops`` called in shendu and in Keras 3 on the same
inputs; results (float32 tolerance), dtype kinds and raised error kinds must agree.

Skipped unless Keras is installed (it is never a dependency):

    PYTHONPATH=src python -m pytest tests/ops/test_keras_oracle_ops.py -o addopts=""

run from an environment with keras and jax (the README's oracle environment).
"""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")

from shendu import ops  # noqa: E402

from .keras_op_cases import CASES, KNOWN_DIFFERENCES, X, keras_op_names  # noqa: E402


def _keras_ops():
    return keras_op_names(keras.ops)


def _np(value):
    if isinstance(value, (list, tuple)):
        return [_np(v) for v in value]
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        return np.asarray(value.numpy() if callable(value.numpy) else value)
    return np.asarray(value) if not isinstance(value, (str, np.dtype, type)) else value


def _compare(name, a, b):
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        a, b = list(a), list(b)
        assert len(a) == len(b), f"{name}: {len(a)} outputs against {len(b)}"
        for x, y in zip(a, b):
            _compare(name, x, y)
        return
    if isinstance(a, str) or isinstance(b, str):
        assert str(a) == str(b), f"{name}: {a!r} vs {b!r}"
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{name}: shape {a.shape} vs Keras {b.shape}"
    kinds = {a.dtype.kind, b.dtype.kind}
    assert len(kinds) == 1 or kinds <= {"i", "u"}, f"{name}: dtype {a.dtype} vs Keras {b.dtype}"
    if a.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5, err_msg=name, equal_nan=True)
    else:
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("name", _keras_ops())
def test_op_matches_keras(name):
    if name in KNOWN_DIFFERENCES:
        pytest.skip("a known Keras bug: see KNOWN_DIFFERENCES")
    if not hasattr(ops, name):
        pytest.fail(f"shendu.ops has no {name}")
    for args, kwargs in CASES.get(name, [((X,), {})]):
        try:
            want = getattr(keras.ops, name)(*args, **kwargs)
        except Exception as err:  # Keras refuses: shendu must refuse with the same kind
            with pytest.raises(
                type(err).__mro__[1]
                if type(err).__module__.startswith("jax")
                else (ValueError, TypeError, NotImplementedError)
            ):
                getattr(ops, name)(*args, **kwargs)
            continue
        got = getattr(ops, name)(*args, **kwargs)
        if name == "argpartition":
            values, kth = np.asarray(args[0]), args[1]
            got, want = _np(got), _np(want)
            assert values[got[kth]] == values[want[kth]]
            assert set(values[got[:kth]]) == set(values[want[:kth]])
            continue
        _compare(name, _np(got), _np(want))


def _params(fn):
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    return [
        (p.name, p.default if p.default is not inspect.Parameter.empty else "<required>")
        for p in sig.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


SIGNATURE_DIFFERENCES = {
    # shendu's extra, optional, trailing arguments
}


@pytest.mark.parametrize("name", _keras_ops())
def test_op_signature_matches_keras(name):
    """Keras's parameter names, order and defaults (shendu may add optional ones after)."""
    want, got = _params(getattr(keras.ops, name)), _params(getattr(ops, name))
    if want is None or got is None:
        pytest.skip("no signature")
    assert got[: len(want)] == want, f"{name}: shendu {got} vs Keras {want}"

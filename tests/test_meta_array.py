"""MetaArray: NumPy's functions on shapes and dtypes alone give NumPy's own shapes, dtypes
and errors, without arithmetic."""

import numpy as np
import pytest

from shendu.meta_array import FALLBACKS, MetaArray, MetaValueError

SHAPES = {"a": (2, 3, 4), "b": (4,), "c": (1, 3, 1), "m": (4, 5), "v": (5,)}
DTYPES = ("bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64")


def _both(fn, dtype_a="float32", dtype_b="float32"):
    """``fn`` on real arrays and on MetaArrays: (real result, meta result)."""
    real = {k: np.ones(s, dtype_a if k != "b" else dtype_b) for k, s in SHAPES.items()}
    meta = {k: MetaArray(s, dtype_a if k != "b" else dtype_b) for k, s in SHAPES.items()}
    return fn(real), fn(meta)


CALLS = {
    "add": lambda d: d["a"] + d["b"],
    "radd scalar": lambda d: 2 + d["a"],
    "float scalar": lambda d: d["a"] * 1.5,
    "true divide": lambda d: d["a"] / d["b"],
    "floor divide": lambda d: d["a"] // 2,
    "power": lambda d: d["a"] ** 2,
    "compare": lambda d: d["a"] > d["b"],
    "equal": lambda d: d["a"] == d["c"],
    "np.maximum": lambda d: np.maximum(d["a"], d["c"]),
    "np.exp": lambda d: np.exp(d["a"]),
    "np.sqrt": lambda d: np.sqrt(d["b"]),
    "np.divmod": lambda d: np.divmod(d["a"], 3)[1],
    "matmul 3x2": lambda d: d["a"] @ d["m"],
    "matmul vector": lambda d: d["m"] @ d["v"],
    "matmul vector left": lambda d: d["b"] @ d["m"],
    "np.matmul": lambda d: np.matmul(d["a"], d["m"]),
    "sum": lambda d: d["a"].sum(),
    "sum axis": lambda d: d["a"].sum(axis=1),
    "sum keepdims": lambda d: np.sum(d["a"], axis=(0, -1), keepdims=True),
    "mean": lambda d: np.mean(d["a"], axis=-1),
    "max": lambda d: d["a"].max(axis=0),
    "argmax": lambda d: np.argmax(d["a"], axis=1),
    "any": lambda d: np.any(d["a"], axis=2),
    "var": lambda d: np.var(d["a"], axis=1),
    "add.reduce": lambda d: np.add.reduce(d["a"], axis=1),
    "maximum.reduce": lambda d: np.maximum.reduce(d["a"], axis=-1, keepdims=True),
    "reshape": lambda d: d["a"].reshape(6, -1),
    "reshape tuple": lambda d: np.reshape(d["a"], (-1,)),
    "transpose": lambda d: d["a"].transpose(2, 0, 1),
    "T": lambda d: d["a"].T,
    "np.transpose": lambda d: np.transpose(d["a"], (1, 0, 2)),
    "swapaxes": lambda d: d["a"].swapaxes(0, 2),
    "astype": lambda d: d["a"].astype("int16"),
    "ravel": lambda d: d["a"].ravel(),
    "squeeze": lambda d: d["c"].squeeze(),
    "expand_dims": lambda d: np.expand_dims(d["a"], (0, 2)),
    "concatenate": lambda d: np.concatenate([d["a"], d["a"]], axis=1),
    "stack": lambda d: np.stack([d["a"], d["a"]], axis=-1),
    "where": lambda d: np.where(d["a"] > 0, d["a"], d["b"]),
    "broadcast_to": lambda d: np.broadcast_to(d["b"], (3, 4)),
    "zeros_like": lambda d: np.zeros_like(d["a"], dtype="int8"),
    "getitem slice": lambda d: d["a"][:, 1:, ::2],
    "getitem int": lambda d: d["a"][1, ..., None],
    "getitem array": lambda d: d["a"][:, [0, 2]],
    "cumsum (falls back)": lambda d: np.cumsum(d["a"], axis=1),
    "pad (falls back)": lambda d: np.pad(d["a"], ((0, 0), (1, 1), (0, 2))),
}


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int8", "uint8"), ("bool", "int32")])
def test_a_call_gives_numpys_shape_and_dtype(name, dtypes):
    try:
        real, meta = _both(CALLS[name], *dtypes)
    except TypeError:  # NumPy refuses the dtypes (``-`` of bools...): so must the rule
        with pytest.raises(TypeError):
            _both(CALLS[name], *dtypes)
        return
    assert isinstance(meta, MetaArray)
    assert meta.shape == real.shape
    assert meta.dtype == real.dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_ufunc_dtypes_follow_numpy_for_every_pair(dtype):
    for other in DTYPES:
        for ufunc in (np.add, np.multiply, np.true_divide, np.less, np.maximum):
            try:
                expected = ufunc(np.ones(2, dtype), np.ones(2, other)).dtype
            except TypeError:
                with pytest.raises(TypeError):
                    ufunc(MetaArray((2,), dtype), MetaArray((2,), other))
                continue
            assert ufunc(MetaArray((2,), dtype), MetaArray((2,), other)).dtype == expected


def test_rules_cost_no_fallback_and_unknown_functions_are_counted():
    before = dict(FALLBACKS)
    x = MetaArray((8, 16), "float32")
    y = (x @ MetaArray((16, 4), "float32") + 1.0).sum(axis=0)
    assert y.shape == (4,) and dict(FALLBACKS) == before
    np.cumsum(x, axis=0)
    assert FALLBACKS["cumsum"] == before.get("cumsum", 0) + 1


def test_no_arithmetic_on_a_large_shape():
    import tracemalloc

    x = MetaArray((4096, 4096, 64), "float32")  # 4 GiB as a real array
    tracemalloc.start()
    y = np.exp(x @ MetaArray((64, 64), "float32") - x.max(axis=-1, keepdims=True))
    z = y.reshape(-1, 64).T.mean(axis=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert z.shape == (64,)
    assert peak < 1 << 20


@pytest.mark.parametrize(
    "fn, error",
    [
        (lambda a: a + MetaArray((5,), "float32"), ValueError),
        (lambda a: a @ MetaArray((3, 2), "float32"), ValueError),
        (lambda a: a.reshape(7, -1), ValueError),
        (lambda a: a.sum(axis=3), np.exceptions.AxisError),
        (lambda a: np.concatenate([a, MetaArray((2, 2, 4), "float32")], axis=0), ValueError),
    ],
)
def test_shape_errors_are_numpys(fn, error):
    with pytest.raises(error):
        fn(np.ones((2, 3, 4), "float32"))
    with pytest.raises(error):
        fn(MetaArray((2, 3, 4), "float32"))


@pytest.mark.parametrize(
    "ask", [bool, float, int, lambda a: a.item(), lambda a: a.tolist(), lambda a: list(a)]
)
def test_values_are_refused(ask):
    with pytest.raises(MetaValueError, match=r"has no values: this code needs data"):
        ask(MetaArray((1,), "float32"))


def test_asarray_gives_zeros_of_the_shape():
    a = np.asarray(MetaArray((2, 3), "int8"))
    assert a.shape == (2, 3) and a.dtype == np.int8 and not a.any()


def test_setitem_checks_broadcasting_and_stores_nothing():
    x = MetaArray((2, 3), "float32")
    x[:, 1] = MetaArray((2,), "float32")
    with pytest.raises(ValueError):
        x[:, 1] = MetaArray((3,), "float32")

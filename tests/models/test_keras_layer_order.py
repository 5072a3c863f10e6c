"""Functional models list their layers in Keras's order (code indexes model.layers, and
Keras's weight files number layers in it): the orders below are Keras 3.15's for the same
graphs."""

import shendu as keras
from shendu import layers as L


def test_multi_input_shared_layer_and_unused_input():
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    unused = keras.Input((2,), name="unused")
    shared = L.Dense(5, name="shared")
    x1 = shared(L.Dense(4, name="pre_a")(a))
    x2 = shared(L.Dense(4, name="pre_b")(b))
    y = L.Dense(1, name="head")(L.Concatenate(name="cat")([x2, x1]))
    z = L.Dense(2, name="aux")(x1)
    model = keras.Model([a, b, unused], [y, z])
    assert [layer.name for layer in model.layers] == [
        "b", "a", "pre_b", "pre_a", "shared", "cat", "unused", "head", "aux",
    ]  # fmt: skip


def test_diamond():
    i = keras.Input((6,), name="i")
    h = L.Dense(3, name="d1")(i)
    s = L.Add(name="add")([L.Dense(3, name="d2")(i), L.Dense(3, name="d3")(h)])
    assert [layer.name for layer in keras.Model(i, s).layers] == ["i", "d1", "d2", "d3", "add"]


def test_branches_in_creation_order_as_keras():
    inp = keras.Input((5, 4), name="x")
    h = L.Dense(3, name="first")(inp)
    h = L.Dense(3, name="second")(h)
    other = L.Dense(3, name="other")(inp)
    out = L.Concatenate(name="cat")([h, other])
    assert [layer.name for layer in keras.Model(inp, out).layers] == [
        "x", "first", "second", "other", "cat",
    ]  # fmt: skip

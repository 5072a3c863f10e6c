"""Nested structures (Keras's ``keras.tree``): lists, tuples, namedtuples and dicts of leaves.

Rules, as in Keras 3: dicts are traversed in sorted key order and rebuilt with their
original type; namedtuples keep their type; ``None`` is a leaf; everything that is not a
list, tuple or dict (arrays and Tensors included) is a leaf.
"""

from __future__ import annotations

import collections.abc

#: Returned by a ``traverse`` function to replace a subtree by None.
MAP_TO_NONE = object()


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_nested(structure) -> bool:
    """True for a list, tuple or dict (a structure that holds leaves)."""
    return isinstance(structure, (list, tuple, dict, collections.abc.Mapping))


def _children(x):
    if isinstance(x, collections.abc.Mapping):
        keys = sorted(x, key=_sort_key)
        return keys, [x[k] for k in keys]
    return list(range(len(x))), list(x)


def _sort_key(k):
    return (type(k).__name__, k) if not isinstance(k, (int, float)) else ("", k)


def _rebuild(template, values):
    if isinstance(template, collections.abc.Mapping):
        keys = sorted(template, key=_sort_key)
        rebuilt = dict(zip(keys, values))
        out = {k: rebuilt[k] for k in template}  # keep the original insertion order
        return out if type(template) is dict else type(template)(out)  # type: ignore[call-arg]
    if _is_namedtuple(template):
        return type(template)(*values)
    if isinstance(template, tuple):
        return tuple(values)
    return list(values)


def flatten(structure) -> list:
    """The leaves of ``structure`` in order (sorted keys for dicts)."""
    out, stack = [], [structure]
    while stack:
        x = stack.pop()
        if is_nested(x):
            _, children = _children(x)
            stack.extend(reversed(children))
        else:
            out.append(x)
    return out


def flatten_with_path(structure) -> list:
    """(path, leaf) pairs; a path is the tuple of keys and indices leading to the leaf."""
    out = []

    def walk(x, path):
        if is_nested(x):
            keys, children = _children(x)
            for k, c in zip(keys, children):
                walk(c, path + (k,))
        else:
            out.append((path, x))

    walk(structure, ())
    return out


def pack_sequence_as(structure, flat_sequence, sequence_fn=None):
    """``flat_sequence`` arranged like ``structure`` (the inverse of ``flatten``)."""
    flat = list(flat_sequence)
    n = len(flatten(structure))
    if len(flat) != n:
        raise ValueError(
            f"The target structure has {n} leaves but the flat sequence has {len(flat)} "
            f"items. Target structure: {structure!r}"
        )
    it = iter(flat)

    def build(x):
        if is_nested(x):
            _, children = _children(x)
            values = [build(c) for c in children]
            return sequence_fn(x, values) if sequence_fn else _rebuild(x, values)
        return next(it)

    return build(structure)


def map_structure(func, *structures, none_is_leaf=True):
    """``func`` applied to the leaves of the structures, position by position."""
    if not structures:
        raise ValueError("map_structure: expected at least one structure")
    for other in structures[1:]:
        assert_same_structure(structures[0], other)
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [func(*leaves) for leaves in zip(*flats)])


def map_structure_up_to(shallow_structure, func, *structures):
    """``func`` applied to the subtrees of ``structures`` at the leaves of
    ``shallow_structure``."""

    def walk(shallow, *parts):
        if is_nested(shallow):
            keys, children = _children(shallow)
            values = []
            for k, child in zip(keys, children):
                values.append(walk(child, *[p[k] for p in parts]))
            return _rebuild(shallow, values)
        return func(*parts)

    return walk(shallow_structure, *structures)


def map_shape_structure(func, structure):
    """``func`` applied to every shape (a tuple or list of ints/None) in ``structure``."""

    def is_shape(x):
        return isinstance(x, (tuple, list)) and all(v is None or isinstance(v, int) for v in x)

    def walk(x):
        if is_shape(x):
            return func(x)
        if is_nested(x):
            keys, children = _children(x)
            return _rebuild(x, [walk(c) for c in children])
        return func(x)

    return walk(structure)


def assert_same_structure(a, b, check_types=None):
    """Raise a ValueError unless ``a`` and ``b`` nest the same way."""

    def walk(x, y, path):
        nx, ny = is_nested(x), is_nested(y)
        if nx != ny:
            raise ValueError(
                f"The two structures don't have the same nested structure at {path or 'the top'}"
                f". First: {x!r}; second: {y!r}"
            )
        if not nx:
            return
        if isinstance(x, collections.abc.Mapping) != isinstance(y, collections.abc.Mapping):
            raise ValueError(f"The two structures differ in type at {path or 'the top'}")
        kx, cx = _children(x)
        ky, cy = _children(y)
        if kx != ky:
            raise ValueError(
                f"The two structures don't have the same sequence length or keys at "
                f"{path or 'the top'}: {kx} and {ky}"
            )
        for k, c1, c2 in zip(kx, cx, cy):
            walk(c1, c2, path + (k,))

    walk(a, b, ())


def assert_same_paths(a, b):
    """Raise a ValueError unless ``a`` and ``b`` have the same leaf paths."""
    pa = {p for p, _ in flatten_with_path(a)}
    pb = {p for p, _ in flatten_with_path(b)}
    if pa != pb:
        raise ValueError(
            f"The two structures don't have the same paths: only in the first "
            f"{sorted(pa - pb, key=str)}, only in the second {sorted(pb - pa, key=str)}"
        )


def lists_to_tuples(structure):
    """Every list in ``structure`` turned into a tuple."""
    if isinstance(structure, list):
        return tuple(lists_to_tuples(v) for v in structure)
    if is_nested(structure):
        keys, children = _children(structure)
        return _rebuild(structure, [lists_to_tuples(c) for c in children])
    return structure


def traverse(func, structure, top_down=True):
    """Apply ``func`` to every subtree and leaf. Top-down: a non-None result replaces the
    subtree (``MAP_TO_NONE`` replaces it by None); bottom-up: ``func`` sees the rebuilt
    children and its result replaces the node unless it is None."""

    def down(x):
        r = func(x)
        if r is MAP_TO_NONE:
            return None
        if r is not None:
            return r
        if is_nested(x):
            keys, children = _children(x)
            return _rebuild(x, [down(c) for c in children])
        return x

    def up(x):
        if is_nested(x):
            keys, children = _children(x)
            x = _rebuild(x, [up(c) for c in children])
        r = func(x)
        if r is MAP_TO_NONE:
            return None
        return x if r is None else r

    return down(structure) if top_down else up(structure)


__all__ = [
    "MAP_TO_NONE",
    "assert_same_paths",
    "assert_same_structure",
    "flatten",
    "flatten_with_path",
    "is_nested",
    "lists_to_tuples",
    "map_shape_structure",
    "map_structure",
    "map_structure_up_to",
    "pack_sequence_as",
    "traverse",
]

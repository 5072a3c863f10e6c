"""What a layer owns: the layers and variables set as its attributes, alone or inside lists,
tuples and dicts (nested too), and added to those lists and dicts later, as Keras's tracker
does.

``Layer.__setattr__`` hands each value to ``track``: the layers and variables found in it
are recorded on the owner (``_tracked_layers``, ``_variables``), and a plain list or dict
becomes a ``TrackedList`` or ``TrackedDict`` (a list or dict still) that records what is
added to it later and forgets what is taken out. So ``self.blocks = []`` followed by
``self.blocks.append(layers.Dense(2))`` trains and saves that Dense, as in Keras.
"""

from __future__ import annotations

# Bumped whenever any layer gains or loses a sub-layer or a variable, changes its trainable
# flag or a setting a recorded step holds: what was derived from the layers' structure
# (layer and weight lists, recorded steps) is valid while it is unchanged.
_structure_version = 0


def structure_changed() -> None:
    """Note that some layer's structure changed (see ``structure_version``)."""
    global _structure_version
    _structure_version += 1


def structure_version() -> int:
    """A number that changes whenever ``structure_changed`` is called: what was derived from
    the layers' structure (weight lists, recorded steps) is valid while it stays the same."""
    return _structure_version


class TrackedLayer:
    """What a layer is to the tracker (``layers.base.Layer`` derives from it)."""


class TrackedVariable:
    """What a variable is to the tracker (``layers.base.Variable`` derives from it)."""

    __slots__ = ()


def _is_layer(value) -> bool:
    return isinstance(value, TrackedLayer)


def _is_variable(value) -> bool:
    return isinstance(value, TrackedVariable)


def _leaves(value, depth=0):
    """The layers and variables inside ``value`` (itself, or in nested containers)."""
    if _is_layer(value) or _is_variable(value):
        yield value
    elif depth < 16 and isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v, depth + 1)
    elif depth < 16 and isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v, depth + 1)


def _record(owner, value) -> None:
    """Record on ``owner`` the layers and variables in ``value``."""
    changed = False
    for leaf in _leaves(value):
        if leaf is owner:
            continue
        if _is_layer(leaf):
            if leaf not in owner._tracked_layers:
                owner._tracked_layers.append(leaf)
                changed = True
        else:
            variables = owner.__dict__.setdefault("_variables", [])
            if not any(v is leaf for v in variables):
                variables.append(leaf)
                changed = True
    if changed:
        structure_changed()


def _forget(owner, value) -> None:
    """Take the layers in ``value`` off ``owner``'s tracked layers."""
    for leaf in _leaves(value):
        if _is_layer(leaf) and leaf in owner._tracked_layers:
            owner._tracked_layers.remove(leaf)
            structure_changed()


def _wrap(owner, value, depth=0):
    """``value`` with its plain lists and dicts (nested ones too) made tracked."""
    if depth >= 16:
        return value
    if type(value) is list:
        return TrackedList(owner, [_wrap(owner, v, depth + 1) for v in value])
    if type(value) is dict:
        return TrackedDict(owner, {k: _wrap(owner, v, depth + 1) for k, v in value.items()})
    return value


def _is_metric(value) -> bool:
    """A metric (Keras's interface: ``update_state``, ``result``, ``reset_state``)."""
    return all(
        callable(getattr(value, m, None)) for m in ("update_state", "result", "reset_state")
    )


def metrics_of(layer) -> list:
    """The metrics ``layer`` holds in its public attributes (alone or in lists, tuples and
    dicts), in attribute order: a model's trackers (``self.loss_tracker = Mean(...)``),
    which Keras counts among ``model.metrics``."""
    out: list = []
    for name, value in vars(layer).items():
        if name.startswith("_"):
            continue
        items = (
            list(value.values())
            if isinstance(value, dict)
            else list(value)
            if isinstance(value, (list, tuple))
            else [value]
        )
        out.extend(v for v in items if _is_metric(v) and not isinstance(v, type))
    return out


def track(owner, name: str, value):
    """``value`` as ``owner`` keeps it in attribute ``name`` (``Layer.__setattr__``): its
    layers recorded; for a public name its variables too, and a plain list or dict that is
    empty or holds layers or variables made a tracked one (a list of tensors stays as it
    is). A private name's lists and dicts are the layer's own bookkeeping: not wrapped."""
    if _is_layer(value):
        _record(owner, value)
        return value
    public = not name.startswith("_")
    if public and _is_metric(value):
        structure_changed()  # the layer's metrics (``metrics_of``) changed
    if type(value) in (list, dict, tuple) and (public or value):
        leaves = list(_leaves(value))
        if not public:
            leaves = [v for v in leaves if _is_layer(v)]
        if leaves:
            _record(owner, leaves)
        if public and type(value) is not tuple and (leaves or not value):
            value = _wrap(owner, value)
    elif public and _is_variable(value):
        _record(owner, value)
    return value


class TrackedList(list):
    """A list whose owner layer tracks what it holds (see the module's docstring)."""

    def __init__(self, owner, values=()):
        super().__init__(values)
        self._owner = owner

    def _add(self, value):
        value = _wrap(self._owner, value)
        _record(self._owner, value)
        return value

    def append(self, value):
        super().append(self._add(value))

    def insert(self, index, value):
        super().insert(index, self._add(value))

    def extend(self, values):
        super().extend(self._add(v) for v in list(values))

    def __iadd__(self, values):  # type: ignore[misc]  # list's own pairing, as list
        self.extend(values)
        return self

    def __setitem__(self, index, value):  # Keras keeps tracking what is replaced
        if isinstance(index, slice):
            value = [self._add(v) for v in value]
        else:
            value = self._add(value)
        super().__setitem__(index, value)

    def __delitem__(self, index):
        _forget(self._owner, self[index])
        super().__delitem__(index)

    def remove(self, value):
        super().remove(value)
        _forget(self._owner, value)

    def pop(self, index=-1):
        value = super().pop(index)
        _forget(self._owner, value)
        return value

    def clear(self):
        _forget(self._owner, list(self))
        super().clear()

    def __reduce_ex__(self, protocol):  # pickled and copied as the plain list it is
        return list, (list(self),)


class TrackedDict(dict):
    """A dict whose owner layer tracks what it holds (see the module's docstring)."""

    def __init__(self, owner, values=()):
        super().__init__(values)
        self._owner = owner

    def __setitem__(self, key, value):  # Keras keeps tracking what is replaced
        value = _wrap(self._owner, value)
        _record(self._owner, value)
        super().__setitem__(key, value)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def __delitem__(self, key):
        _forget(self._owner, self[key])
        super().__delitem__(key)

    def pop(self, key, *default):
        if key in self:
            _forget(self._owner, self[key])
        return super().pop(key, *default)

    def clear(self):
        _forget(self._owner, list(self.values()))
        super().clear()

    def __reduce_ex__(self, protocol):
        return dict, (dict(self),)

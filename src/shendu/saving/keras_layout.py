"""Where Keras 3 keeps each layer's weights in a ``.weights.h5`` (and a ``.keras`` file's
``model.weights.h5``), for reading and for writing.

Keras walks the model's layers and stores each one's variables under
``layers/<key>/vars/<i>``, where ``<key>`` is the snake-case class name numbered per class
in layer order (``dense``, ``dense_1``, ...; a functional model counts its InputLayers
too; a nested ``Model(inputs, outputs)`` is Keras's ``Functional``: ``functional``). A
layer that keeps its weights in sub-layers stores them under the attribute's name: a
recurrent layer under ``cell`` (``RNN`` too; stacked cells under ``cell/cells/<key>``),
``Bidirectional`` under ``forward_layer`` and
``backward_layer``, ``TimeDistributed`` under ``layer``, ``MultiHeadAttention`` under
``query_dense``, ``key_dense``, ``value_dense`` and ``output_dense``, a nested model
under ``layers/<key>``. ``keras_groups`` states this once, as a list of
``(group path, variables in Keras's order)``, so the reader and the writer agree.

A user's layer or model (a class not shendu's own) is stored as Keras's saving walk stores
it: its own variables under ``vars`` (trainable first), then each layer it holds under the
attribute's name (public attributes first, in name order, then private ones), a layer in a
list, tuple or dict under ``<attribute>/<key>`` (numbered per class in the container's
order; a nested container is ``container``). A layer whose class defines Keras's hooks
(``save_own_variables``/``load_own_variables``, ``save_assets``/``load_assets``) keeps its
own state through them at its path (``hook_layers``).
"""

from __future__ import annotations

from typing import Any

from ..naming import snake_case

#: layers whose weights Keras keeps in their ``cell``
RECURRENT = ("LSTM", "GRU", "SimpleRNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
#: MultiHeadAttention's sub-layers, in shendu's weight order: Keras's group names
ATTENTION_PARTS = ("query_dense", "key_dense", "value_dense", "output_dense")
#: GroupQueryAttention keeps the same parts under private attribute names
GROUPED_ATTENTION_PARTS = ("_query_dense", "_key_dense", "_value_dense", "_output_dense")
#: shendu classes whose Keras class has another name, which Keras's storage keys use (a
#: Model(inputs, outputs) is Keras's Functional; Keras exports its GroupedQueryAttention
#: as GroupQueryAttention, the name its configs hold)
KERAS_CLASS_NAMES = {"Model": "Functional", "GroupQueryAttention": "GroupedQueryAttention"}


def storage_keys(layers) -> dict:
    """Keras's storage key of each layer (by ``id``): the snake-case class name,
    numbered per class in the order given."""
    counts: dict = {}
    keys = {}
    for layer in layers:
        kind = type(layer).__name__
        base = snake_case(KERAS_CLASS_NAMES.get(kind, kind))
        n = counts.get(base, 0)
        counts[base] = n + 1
        keys[id(layer)] = base if n == 0 else f"{base}_{n}"
    return keys


#: Keras's hooks for a layer's own state
STATE_HOOKS = ("save_own_variables", "load_own_variables")
ASSET_HOOKS = ("save_assets", "load_assets")


def is_user_class(layer) -> bool:
    """Whether ``layer``'s class is a user's (not one of shendu's own)."""
    return not type(layer).__module__.startswith("shendu.")


def defines(layer, hook: str) -> bool:
    """Whether the layer's class defines Keras hook ``hook`` (shendu's layers define none)."""
    return callable(getattr(type(layer), hook, None))


def model_groups(model) -> list[tuple[str, list]]:
    """``(group path, variables)`` for every layer of ``model`` with weights: a Sequential
    or functional model's under ``layers/<storage key>``, in layer order; a user's model's
    as Keras's saving walk stores it (the module docstring)."""
    return [(path, variables) for path, variables, _ in _walk_model(model, "")]


def hook_layers(model) -> list[tuple[str, Any]]:
    """``(path, layer)`` for every layer of ``model`` whose class defines Keras's state or
    asset hooks: its own state is kept by them at ``path`` (weights in ``<path>/vars``,
    assets under ``assets/<path>``)."""
    out: list = []
    for path, layer in _layer_paths(model, "", set()):
        if any(defines(layer, h) for h in STATE_HOOKS + ASSET_HOOKS):
            out.append((path, layer))
    return out


def _walk_model(model, base):
    return [
        (path, variables, layer)
        for layer_path, layer in _layer_paths(model, base, set())
        for path, variables in _own_groups(layer, layer_path)
    ]


def _own_groups(layer, path):
    """The groups a layer stores itself (its nested user layers have their own paths)."""
    from ..layers import is_model

    if is_model(layer) and not is_user_class(layer):
        return []  # a Sequential or functional model: its layers have their own paths
    if is_user_class(layer):
        if defines(layer, "save_own_variables"):
            return []  # the layer's hook writes its own group
        own = list(layer._variables)
        own = [v for v in own if v.trainable] + [v for v in own if not v.trainable]
        return [(path, own)] if own else []
    return [(_join(path, sub), v) for sub, v in keras_groups(layer)]


def _layer_paths(layer, path, seen):
    """``(path, layer)`` for ``layer`` and every layer stored below it, in Keras's order."""
    from ..layers import is_model

    if id(layer) in seen:
        return []
    seen.add(id(layer))
    out = [(path, layer)]
    if is_model(layer) and not is_user_class(layer):
        layers = list(layer.layers)
        keys = storage_keys(layers)
        for child in layers:
            out += _layer_paths(child, _join(path, "layers", keys[id(child)]), seen)
        return out
    if not is_user_class(layer):
        return out  # shendu's own layers: keras_groups knows their inside
    for attr, value in _attributes(layer):
        out += _value_paths(value, _join(path, attr), seen)
    return out


def _value_paths(value, path, seen):
    from ..layers.base import Layer

    if isinstance(value, Layer):
        return _layer_paths(value, path, seen)
    if isinstance(value, (list, tuple, dict)):
        items = list(value.values()) if isinstance(value, dict) else list(value)
        counts: dict = {}
        out = []
        for item in items:
            if isinstance(item, Layer):
                base = snake_case(type(item).__name__)
            elif isinstance(item, (list, tuple, dict)):
                base = "container"
            else:
                continue
            n = counts.get(base, 0)
            counts[base] = n + 1
            out += _value_paths(item, _join(path, base if n == 0 else f"{base}_{n}"), seen)
        return out
    return []


#: a layer's own bookkeeping (shendu's attributes of Layer and Model): not walked
_BOOKKEEPING = frozenset(
    {"_tracked_layers", "_variables", "_inbound_nodes", "_losses", "_flat_cache", "_outbound"}
)


def _attributes(layer):
    """The layer's attributes in Keras's walk order: public names first, then private."""
    names = [n for n in vars(layer) if n not in _BOOKKEEPING and not n.startswith("__")]
    names.sort(key=lambda n: f"~{n}" if n.startswith("_") else n)
    return [(n, vars(layer)[n]) for n in names]


def keras_groups(layer) -> list[tuple[str, list]]:
    """The layer's weights as Keras groups them: ``(path below the layer's own group,
    variables)``; the path of the layer's own variables is ``""``."""
    from ..layers import is_model

    name = type(layer).__name__
    if is_model(layer) or is_user_class(layer):
        return [(p, v) for p, v in model_groups(layer) if v]
    if name in RECURRENT:
        return [("cell", list(layer.weights))] if layer.weights else []
    if name == "RNN":  # a cell's weights under "cell", stacked cells' under "cell/cells/<key>"
        return [(_join("cell", path), variables) for path, variables in keras_groups(layer.cell)]
    if name == "StackedRNNCells":
        keys = storage_keys(layer.cells)
        return [
            (_join("cells", keys[id(cell)], path), variables)
            for cell in layer.cells
            for path, variables in keras_groups(cell)
        ]
    if name == "Bidirectional":
        return [
            (_join(part, path), variables)
            for part, inner in (
                ("forward_layer", layer.forward_layer),
                ("backward_layer", layer.backward_layer),
            )
            for path, variables in keras_groups(inner)
        ]
    if name == "SpectralNormalization":  # Keras tracks the kernel as the wrapper's own too
        own = [layer.kernel, layer.vector_u] if layer.weights else []
        inner = [(_join("layer", path), v) for path, v in keras_groups(layer.layer)]
        return ([("", own)] if own else []) + inner
    if name == "TimeDistributed":
        return [(_join("layer", path), variables) for path, variables in keras_groups(layer.layer)]
    if name in ("MultiHeadAttention", "GroupQueryAttention"):
        weights = list(layer.weights)
        parts = ATTENTION_PARTS if name == "MultiHeadAttention" else GROUPED_ATTENTION_PARTS
        per_part = len(weights) // len(parts)  # kernel (and bias) of each
        return [(part, weights[i * per_part : (i + 1) * per_part]) for i, part in enumerate(parts)]
    return [("", list(layer.weights))] if layer.weights else []


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)

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
"""

from __future__ import annotations

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


def model_groups(model) -> list[tuple[str, list]]:
    """``(group path, variables)`` for every layer of ``model`` with weights, under
    ``layers/<storage key>``, in layer order."""
    layers = list(model.layers)
    keys = storage_keys(layers)
    groups = []
    for layer in layers:
        for path, variables in keras_groups(layer):
            groups.append((_join("layers", keys[id(layer)], path), variables))
    return groups


def keras_groups(layer) -> list[tuple[str, list]]:
    """The layer's weights as Keras groups them: ``(path below the layer's own group,
    variables)``; the path of the layer's own variables is ``""``."""
    from ..layers import is_model

    name = type(layer).__name__
    if is_model(layer):
        return [(path, variables) for path, variables in model_groups(layer) if variables]
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

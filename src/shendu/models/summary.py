"""``model.summary()`` in Keras 3's table layout."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Model


def readable_size(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} GB"


def _shape_text(shape):
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    return (
        "("
        + ", ".join("None" if s is None else str(s) for s in shape)
        + (",)" if len(shape) == 1 else ")")
    )


def _rows(model):
    graph = model._graph
    if graph is None:
        return [(layer, None, None) for layer in model.layers], False
    out_shapes = {}
    inbound: dict = {}
    for t in graph.inputs:
        out_shapes[id(t.node.layer)] = t.shape
    for node in graph.nodes:
        shapes = [t.shape for t in node.outputs]
        out_shapes.setdefault(id(node.layer), shapes[0] if len(shapes) == 1 else shapes)
        inbound.setdefault(id(node.layer), []).extend(
            f"{t.node.layer.name}[{0}][{t.index}]" for t in node.input_tensors
        )
    multi = len(graph.inputs) > 1 or any(len(n.input_tensors) > 1 for n in graph.nodes)
    return [
        (layer, out_shapes.get(id(layer)), inbound.get(id(layer), [])) for layer in model.layers
    ], multi


def format_summary(model: Model, line_length: int | None = None) -> str:
    rows, connected = _rows(model)
    headers = ["Layer (type)", "Output Shape", "Param #"]
    widths = [33, 24, 15]
    if connected:
        headers.append("Connected to")
        widths = [31, 22, 11, 21]
    if line_length:
        scale = line_length / (sum(widths) + len(widths) + 1)
        widths = [max(8, int(w * scale)) for w in widths]

    def cell(text, width, right=False):
        text = str(text)
        inner = width - 2
        if len(text) > inner:
            text = text[: inner - 1] + "…"
        return " " + (text.rjust(inner) if right else text.ljust(inner)) + " "

    def line(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    out = [f'Model: "{model.name}"', line("┏", "┳", "┓", "━")]
    out.append(
        "┃"
        + "┃".join(cell(h, w, right=(i == 2)) for i, (h, w) in enumerate(zip(headers, widths)))
        + "┃"
    )
    out.append(line("┡", "╇", "┩", "━"))
    body = []
    for layer, shape, links in rows:
        params = layer.count_params() if layer.built else 0
        cells = [f"{layer.name} ({type(layer).__name__})", _shape_text(shape), f"{params:,}"]
        if connected:
            cells.append(", ".join(links) if links else "-")
        body.append(
            "│"
            + "│".join(cell(c, w, right=(i == 2)) for i, (c, w) in enumerate(zip(cells, widths)))
            + "│"
        )
    sep = line("├", "┼", "┤", "─")
    out.append(("\n" + sep + "\n").join(body) if body else "")
    out.append(line("└", "┴", "┘", "─"))
    trainable = sum(v.size for v in model.trainable_weights)
    non_trainable = sum(v.size for v in model.non_trainable_weights)
    itemsize = 4
    weights = model.weights
    if weights:
        itemsize = weights[0].data.itemsize
    total = trainable + non_trainable
    out.append(f" Total params: {total:,} ({readable_size(total * itemsize)})")
    out.append(f" Trainable params: {trainable:,} ({readable_size(trainable * itemsize)})")
    out.append(
        f" Non-trainable params: {non_trainable:,} ({readable_size(non_trainable * itemsize)})"
    )
    return "\n".join(o for o in out if o != "")


__all__ = ["format_summary", "readable_size"]

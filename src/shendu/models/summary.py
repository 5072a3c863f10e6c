"""``model.summary()`` in Keras 3's table layout."""

from __future__ import annotations

import re
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


def _expanded(rows, expand_nested, level=0):
    """(layer, shape, links, level) rows, each nested model's layers under it (indented
    one level deeper) when ``expand_nested``."""
    out = []
    for layer, shape, links in rows:
        out.append((layer, shape, links, level))
        nested = getattr(layer, "layers", None)
        if expand_nested and nested and hasattr(layer, "_graph"):
            inner, _ = _rows(layer)
            out.extend(_expanded(inner, expand_nested, level + 1))
    return out


def layer_index_range(layers: list, layer_range: list | tuple | None) -> list:
    """[first, last + 1] of the layers from the first whose name matches
    ``layer_range[0]`` (a regular expression) to the last matching ``layer_range[1]``."""
    if layer_range is None:
        return [0, len(layers)]
    if len(layer_range) != 2:
        raise ValueError(
            "layer_range must be a list or tuple of length 2. Received: "
            f"layer_range = {layer_range} of length {len(layer_range)}"
        )
    if not all(isinstance(name, str) for name in layer_range):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(
            "Passed layer_names do not match the layer names in the model. "
            f"Received: {layer_range}"
        )
    if min(lower) > max(upper):
        return [min(upper), max(lower) + 1]
    return [min(lower), max(upper) + 1]


def _column_widths(connected, show_trainable, line_length, positions):
    """Keras's column widths: its defaults on a 76-column line, or widths from
    ``positions`` (fractions of the line, or column ends) on ``line_length``."""
    if positions is None and line_length is None:
        if connected:
            return [27, 20, 10, 19, 7] if show_trainable else [31, 22, 11, 21]
        return [29, 23, 12, 7] if show_trainable else [33, 24, 15]
    columns = (4 if connected else 3) + (1 if show_trainable else 0)
    length = line_length or 76
    if positions is None:
        positions = [0.3, 0.56, 0.74, 1.0] if connected else [0.45, 0.80, 1.0]
        if show_trainable:
            positions = [p * 0.90 for p in positions] + [1.0]
    if len(positions) != columns:
        raise ValueError(
            f"summary: `positions` needs {columns} entries (one per column). "
            f"Received: positions={positions}"
        )
    if positions[-1] <= 1:
        positions = [int(p * length) for p in positions]
    ends = [int(p) for p in positions]
    widths = [end - start for start, end in zip([0] + ends[:-1], ends)]
    if min(widths) < 4:
        raise ValueError("Insufficient console width to print summary.")
    return _reduce_evenly(widths, sum(widths) - (length - columns - 1))


def _reduce_evenly(widths, excess):
    """Take ``excess`` characters off the columns in turn, each its share of what is
    left (rounded half to even), as the table renderer Keras prints with does."""
    out, remaining, left = [], excess, len(widths)
    for width in widths:
        taken = min(width, round(remaining / left)) if remaining > 0 else 0
        out.append(width - taken)
        remaining -= taken
        left -= 1
    return out


def format_summary(
    model: Model,
    line_length: int | None = None,
    positions: list | None = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
    layer_range: list | None = None,
) -> str:
    """The summary table: one row per layer (its nested layers indented under it with
    ``expand_nested``), a "Trainable" column with ``show_trainable``, the layers from
    ``layer_range[0]`` to ``layer_range[1]`` (regular expressions) only when given."""
    top, connected = _rows(model)
    first, last = layer_index_range([row[0] for row in top], layer_range)
    rows = _expanded(top[first:last], expand_nested)
    headers = ["Layer (type)", "Output Shape", "Param #"]
    if connected:
        headers.append("Connected to")
    if show_trainable:
        headers.append("Trainable")
    widths = _column_widths(connected, show_trainable, line_length, positions)
    centered = len(headers) - 1 if show_trainable else None

    def cell(text, width, right=False, center=False):
        text = str(text)
        inner = width - 2
        if len(text) > inner:
            text = text[: inner - 1] + "…"
        if center:
            return " " + text.center(inner) + " "
        return " " + (text.rjust(inner) if right else text.ljust(inner)) + " "

    def line(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    def row_text(cells, edge):
        return (
            edge
            + edge.join(
                cell(c, w, right=(i == 2), center=(i == centered))
                for i, (c, w) in enumerate(zip(cells, widths))
            )
            + edge
        )

    out = [f'Model: "{model.name}"', line("┏", "┳", "┓", "━")]
    out.append(row_text(headers, "┃"))
    out.append(line("┡", "╇", "┩", "━"))
    body = []
    for layer, shape, links, level in rows:
        params = layer.count_params() if layer.built else 0
        prefix = "   " * level + "└ " if level else ""
        name = f"{prefix}{layer.name} ({type(layer).__name__})"
        cells = [name, _shape_text(shape), f"{params:,}"]
        if connected:
            cells.append(", ".join(links) if links else "-")
        if show_trainable:
            cells.append("Y" if layer.trainable else "N")
        body.append(row_text(cells, "│"))
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


__all__ = ["format_summary", "layer_index_range", "readable_size"]

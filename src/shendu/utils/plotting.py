"""Plots with matplotlib (the ``[plot]`` extra), imported only when a plot is asked for."""

from __future__ import annotations

import os


def require_matplotlib():
    """matplotlib, or an ImportError naming the ``[plot]`` extra."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "Plotting needs matplotlib, which is not installed. Install the extra: "
            "pip install 'shendu[plot]'"
        ) from None
    return matplotlib


def _pyplot():
    matplotlib = require_matplotlib()
    if not os.environ.get("DISPLAY"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history, path=None, metrics=None):
    """One panel per metric (loss first), train and validation curves; saved to ``path``."""
    hist = getattr(history, "history", history)
    names = [k for k in hist if not k.startswith("val_")]
    if metrics is not None:
        names = [k for k in names if k in metrics]
    names.sort(key=lambda k: (k != "loss", k))
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3), squeeze=False)
    for ax, name in zip(axes[0], names):
        ax.plot(range(1, len(hist[name]) + 1), hist[name], label="train")
        if f"val_{name}" in hist:
            ax.plot(
                range(1, len(hist[f"val_{name}"]) + 1), hist[f"val_{name}"], label="validation"
            )
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.legend()
    fig.tight_layout()
    if path:
        fig.savefig(path)
        plt.close(fig)
    return fig


def plot_confusion_matrix(y_true, y_pred, path=None, labels=None, normalize=False):
    """A confusion matrix (rows: true class, columns: predicted) as an image; returns
    (figure, matrix). ``y_pred`` may be class indices or per-class scores."""
    import numpy as np

    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    if p.ndim > 1:
        p = p.argmax(-1)
    if t.ndim > 1:
        t = t.argmax(-1)
    k = int(max(t.max(), p.max())) + 1 if labels is None else len(labels)
    matrix = np.zeros((k, k), dtype=np.float64)
    np.add.at(matrix, (t.astype(int), p.astype(int)), 1)
    if normalize:
        matrix = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(0.5 * k + 2, 0.5 * k + 2))
    ax.imshow(matrix, cmap="Blues")
    names = labels or list(range(k))
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                f"{matrix[i, j]:.2f}" if normalize else int(matrix[i, j]),
                ha="center",
                va="center",
                fontsize=8,
            )
    fig.tight_layout()
    if path:
        fig.savefig(path)
        plt.close(fig)
    return fig, matrix


def model_to_dot(model):
    """The model's layer graph in Graphviz's dot language (a string; no graphviz needed)."""
    lines = ["digraph model {", '  node [shape=record, fontname="Helvetica"];']
    graph = model.functional_graph() if hasattr(model, "functional_graph") else None
    layers = model.layers
    for layer in layers:
        lines.append(f'  "{layer.name}" [label="{layer.name}|{type(layer).__name__}"];')
    if graph is not None:
        for node in graph.nodes:
            for t in node.input_tensors:
                lines.append(f'  "{t.node.layer.name}" -> "{node.layer.name}";')
    else:
        for a, b in zip(layers, layers[1:]):
            lines.append(f'  "{a.name}" -> "{b.name}";')
    lines.append("}")
    return "\n".join(lines)


def plot_model(model, path="model.png"):
    """Draw the layer graph with Graphviz (the ``dot`` program); without it, raise an error
    that says how to install it, or write the ``.dot`` text when ``path`` ends in .dot."""
    import shutil
    import subprocess

    dot = model_to_dot(model)
    if str(path).endswith(".dot"):
        with open(path, "w") as f:
            f.write(dot)
        return path
    exe = shutil.which("dot")
    if exe is None:
        raise ImportError(
            "plot_model needs Graphviz's `dot` program, which is not installed (Debian: "
            "apt-get install graphviz; or pass a path ending in .dot to get the graph as text)"
        )
    fmt = str(path).rsplit(".", 1)[-1]
    subprocess.run([exe, f"-T{fmt}", "-o", str(path)], input=dot.encode(), check=True)
    return path

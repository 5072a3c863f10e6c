"""Plots with matplotlib (the ``[plot]`` extra), imported only when a plot is asked for."""

from __future__ import annotations

import os


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "Plotting needs matplotlib, which is not installed. Install the extra: "
            "pip install 'shendu[plot]'"
        ) from None
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

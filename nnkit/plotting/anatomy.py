"""Lecture 1, the anatomy of a network: its graph and the regions it carves out of the plane."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.patches import Circle, Rectangle

from .._checks import ShapeError, as_float_array, check_shape
from ._common import get_ax

__all__ = ["draw_network", "plot_decision_regions"]

_LAYER_COLORS = {"input": "#a6cee3", "hidden": "#fdbf6f", "output": "#b2df8a"}


def _shown_nodes(size: int, max_nodes: int) -> list[int | None]:
    """1-based indices of the nodes drawn for a layer, ``None`` where the ellipsis stands."""
    if size <= max_nodes:
        return list(range(1, size + 1))
    head = (max_nodes - 1) // 2
    tail = max_nodes - 1 - head
    return [*range(1, head + 1), None, *range(size - tail + 1, size + 1)]


def draw_network(
    sizes, *, ax=None, layer_names=None, node_labels=None, show_bias=False, max_nodes=8
):
    """Draw a fully connected feedforward network as a layered directed acyclic graph.

    Layer ``l`` is a column of ``sizes[l]`` nodes; every node sends an edge (one
    weight) to every node of the next column, so there are ``sizes[l] * sizes[l + 1]``
    edges between columns ``l`` and ``l + 1``, all pointing right. Inputs are blue,
    hidden units orange, outputs green. A layer wider than ``max_nodes`` shows its
    first and last nodes with a vertical ellipsis between them.

    Parameters
    ----------
    sizes : sequence of int, length L + 1 >= 2
        Nodes per layer, input first, e.g. ``[P, M, C]``, as given to ``nk.MLP``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    layer_names : sequence of str, length L + 1, optional
        Caption under each column; default "input", "hidden" (or "hidden 1",
        "hidden 2", ...), "output", each with the layer size below it.
    node_labels : sequence of str, length L + 1, optional
        A LaTeX symbol per layer, e.g. ``["x", "h", r"\\hat y"]``: node ``j`` of that
        layer is labelled ``$x_j$``. No labels when None.
    show_bias : bool, default False
        Also draw each non-output layer's bias as a square "+1" node above its
        column, with dashed edges into the next layer, so that the ``(P + 1) M``
        parameters of a layer can be counted on the picture.
    max_nodes : int, default 8
        Most nodes drawn per column, at least 3.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, frame turned off, one ``Circle`` patch per drawn node and one
        ``LineCollection`` of edges (two with ``show_bias``).
    """
    try:
        sizes = [int(s) for s in sizes]
    except (TypeError, ValueError):
        raise TypeError(
            f"draw_network: argument 'sizes' must be a sequence of ints, got {sizes!r}"
        ) from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(
            "draw_network: argument 'sizes' must list at least 2 layers of at least 1 node, "
            f"got {sizes}"
        )
    n_layers = len(sizes)
    for arg, value in [("layer_names", layer_names), ("node_labels", node_labels)]:
        if value is not None and len(value) != n_layers:
            raise ValueError(
                f"draw_network: argument '{arg}' must have one entry per layer ({n_layers}), "
                f"got {len(value)}"
            )
    if max_nodes < 3:
        raise ValueError(f"draw_network: argument 'max_nodes' must be at least 3, got {max_nodes}")

    if layer_names is None:
        hidden = ["hidden"] if n_layers == 3 else [f"hidden {i}" for i in range(1, n_layers - 1)]
        names = ["input", *hidden, "output"]
        layer_names = [f"{name}\n({size})" for name, size in zip(names, sizes, strict=True)]
    roles = ["input"] + ["hidden"] * (n_layers - 2) + ["output"]
    ax = get_ax(ax, figsize=(1.6 * n_layers + 1.0, 3.5))

    shown = [_shown_nodes(size, max_nodes) for size in sizes]
    tallest = max(len(nodes) for nodes in shown)
    top, bottom = (tallest - 1) / 2, -(tallest - 1) / 2
    # spread the columns to roughly fill the axes, so circles stay round (equal aspect)
    fig_w, fig_h = ax.figure.get_size_inches()
    box = ax.get_position()
    aspect = fig_w * box.width / (fig_h * box.height)
    dx = float(np.clip(aspect * (tallest + 1.5) / (n_layers - 1), 1.5, 4.0))
    radius = 0.3

    # (x, y) of each drawn node by layer; the first node on top, ellipsis slots skipped
    centres = [
        [(col * dx, (len(nodes) - 1) / 2 - i) for i, node in enumerate(nodes) if node is not None]
        for col, nodes in enumerate(shown)
    ]
    edges = [(a, b) for left, right in itertools.pairwise(centres) for a in left for b in right]
    alpha = 0.7 if len(edges) <= 60 else 0.4
    ax.add_collection(LineCollection(edges, colors="0.45", linewidths=0.8, alpha=alpha, zorder=1))

    if show_bias:
        bias_edges = []
        for col in range(n_layers - 1):
            bx, by = col * dx, top + 1.0
            ax.add_patch(
                Rectangle(
                    (bx - radius, by - radius),
                    2 * radius,
                    2 * radius,
                    facecolor="0.92",
                    edgecolor="0.3",
                    zorder=3,
                )
            )
            ax.text(bx, by, "+1", ha="center", va="center", fontsize=8, zorder=4)
            bias_edges += [((bx, by), b) for b in centres[col + 1]]
        ax.add_collection(
            LineCollection(bias_edges, colors="0.55", linewidths=0.8, linestyles="--", zorder=1)
        )

    for col, nodes in enumerate(shown):
        x = col * dx
        for i, node in enumerate(nodes):
            y = (len(nodes) - 1) / 2 - i
            if node is None:
                ax.text(x, y, "⋮", ha="center", va="center", fontsize=14)
                continue
            colour = _LAYER_COLORS[roles[col]]
            ax.add_patch(Circle((x, y), radius, facecolor=colour, edgecolor="0.25", zorder=3))
            if node_labels is not None:
                symbol = f"${node_labels[col]}_{{{node}}}$"
                ax.text(x, y, symbol, ha="center", va="center", fontsize=8, zorder=4)
        ax.text(x, bottom - 0.55, layer_names[col], ha="center", va="top", fontsize=9)

    ax.set_xlim(-0.8, (n_layers - 1) * dx + 0.8)
    ax.set_ylim(bottom - 1.6, top + (1.0 if show_bias else 0.0) + radius + 0.2)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


def plot_decision_regions(model, X, y, *, ax=None, resolution=200, padding=0.5):
    """Colour the plane by the class a model predicts, with the labelled points on top.

    Parameters
    ----------
    model : object with ``predict(X) -> labels``, or a callable ``X -> labels``
        Maps a batch of points (K, 2) to integer classes (K,), as ``nk.MLP.predict``.
    X : array_like, shape (N, 2)
        The points; the plotted square extends ``padding`` beyond them.
    y : array_like of int, shape (N,)
        Their true classes, which colour the dots.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    resolution : int, default 200
        Grid points per side at which the model is evaluated.
    padding : float, default 0.5
        Margin around the data, in input units.

    Returns
    -------
    matplotlib.axes.Axes
        With the regions (filled contours), the boundary lines and one scatter
        per class, axes labelled $x_1$ and $x_2$.
    """
    X = as_float_array(X, "plot_decision_regions", "X", ndim=2)
    check_shape(X, (None, 2), "plot_decision_regions", "X")
    y = np.asarray(y)
    if y.shape != (len(X),):
        raise ShapeError(
            f"plot_decision_regions: argument 'y' must have shape ({len(X)},), got {y.shape}"
        )
    predict = model.predict if hasattr(model, "predict") else model
    (x_lo, y_lo), (x_hi, y_hi) = X.min(axis=0) - padding, X.max(axis=0) + padding
    G1, G2 = np.meshgrid(np.linspace(x_lo, x_hi, resolution), np.linspace(y_lo, y_hi, resolution))
    regions = np.asarray(predict(np.column_stack([G1.ravel(), G2.ravel()]))).reshape(G1.shape)
    classes = np.unique(np.concatenate([np.unique(y), np.unique(regions)])).astype(int)
    colours = [plt.get_cmap("tab10")(c % 10) for c in range(classes.max() + 1)]

    ax = get_ax(ax)
    levels = np.arange(classes.max() + 2) - 0.5
    ax.contourf(G1, G2, regions, levels=levels, colors=colours, alpha=0.25)
    ax.contour(G1, G2, regions, levels=levels[1:-1], colors="0.3", linewidths=0.8)
    for c in np.unique(y).astype(int):
        ax.scatter(*X[y == c].T, s=18, color=colours[c], edgecolor="k", lw=0.5, label=f"class {c}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax

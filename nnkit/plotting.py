"""Figures for the lectures.

Every helper takes ``ax=None`` (a new figure is made when it is None), returns
the figure or artist it drew, and leaves matplotlib's global state alone.
"""

from __future__ import annotations

import itertools
import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.patches import Circle, Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, NullLocator

from ._checks import ShapeError, as_float_array, check_labels, check_same_shape, check_shape

__all__ = [
    "confusion_matrix",
    "draw_graph",
    "draw_network",
    "get_ax",
    "image_grid",
    "loss_colorbar",
    "plot_activation",
    "plot_decision_regions",
    "plot_error_vs_width",
    "plot_fit_1d",
    "plot_landscape_contour",
    "plot_landscape_surface",
    "plot_layer_histograms",
    "plot_loss_surface",
    "plot_trajectory",
    "probability_bars",
]


def get_ax(ax=None, figsize=(5.0, 3.5)):
    """Return ``ax``, or the axes of a new figure of ``figsize`` when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


# ------------------------------------------------ computation graphs (lecture 05)

# Box styles of the node kinds draw_graph knows; any other kind is drawn as "value".
_NODE_STYLES = {
    "value": {"boxstyle": "round,pad=0.3", "facecolor": "#e8f0fb", "edgecolor": "#4a6fa5"},
    "input": {"boxstyle": "round,pad=0.3", "facecolor": "#eeeeee", "edgecolor": "#777777"},
    "param": {"boxstyle": "round,pad=0.3", "facecolor": "#fde9c9", "edgecolor": "#c77c02"},
    "loss": {"boxstyle": "round,pad=0.3", "facecolor": "#f9d6d5", "edgecolor": "#b03a2e"},
    "op": {"boxstyle": "circle,pad=0.25", "facecolor": "white", "edgecolor": "#555555"},
}


def _topological_order(edges, func):
    """Nodes of ``edges`` with every parent before its children; refuses cycles."""
    order = list(dict.fromkeys(n for e in edges for n in e))
    parents = {n: [] for n in order}
    for p, c in edges:
        parents[c].append(p)
    topo, done, active = [], set(), set()
    for start in order:
        # iterative depth-first search: a long chain must not hit the recursion limit
        stack = [(start, iter(parents[start]))]
        if start in done:
            continue
        active.add(start)
        while stack:
            node, pending = stack[-1]
            nxt = next(pending, None)
            if nxt is None:
                stack.pop()
                active.discard(node)
                done.add(node)
                topo.append(node)
            elif nxt in active:
                raise ValueError(f"{func}: the edges contain a cycle through node {nxt!r}")
            elif nxt not in done:
                active.add(nxt)
                stack.append((nxt, iter(parents[nxt])))
    return topo


def _graph_layout(topo, edges, sweeps=6):
    """Place a DAG in columns and rows (a small Sugiyama layout).

    A node's column is the longest path from it to the end of the graph,
    counted back from the last column, so each value sits just before its
    first use and every edge points right. An edge spanning several columns
    gets an invisible waypoint in each column it crosses; waypoints take part
    in the ordering, so long edges run between boxes instead of through them.
    Rows inside a column are sorted by the mean row of the neighbours in the
    previous column, then (on the way back) the next one.

    Returns the position of every node and waypoint, the waypoints of every
    edge, the number of columns and the height of the drawing (top row at 0).
    """
    children = {n: [] for n in topo}
    for p, c in edges:
        children[p].append(c)
    depth = {}
    for n in reversed(topo):
        depth[n] = 1 + max((depth[c] for c in children[n]), default=-1)
    n_columns = 1 + max(depth.values())
    column = {n: n_columns - 1 - depth[n] for n in topo}

    prev, succ, waypoints = {n: [] for n in topo}, {n: [] for n in topo}, {}
    for p, c in edges:
        chain = [p] + [("waypoint", p, c, k) for k in range(column[p] + 1, column[c])] + [c]
        waypoints[(p, c)] = chain[1:-1]
        for k, w in enumerate(chain[1:-1], start=column[p] + 1):
            column[w] = k
            prev[w], succ[w] = [], []
        for a, b in itertools.pairwise(chain):
            succ[a].append(b)
            prev[b].append(a)

    layers = [[] for _ in range(n_columns)]
    for n in column:
        layers[column[n]].append(n)
    row = {n: float(i) for layer in layers for i, n in enumerate(layer)}
    for _ in range(sweeps):
        for columns, neighbours in ((range(n_columns), prev), (range(n_columns)[::-1], succ)):
            for c in columns:
                key = {
                    n: np.mean([row[m] for m in neighbours[n]]) if neighbours[n] else row[n]
                    for n in layers[c]
                }
                layers[c].sort(key=key.__getitem__)
                row.update({n: float(i) for i, n in enumerate(layers[c])})

    # heights: each node as near the mean height of its neighbours as the order and a
    # minimum gap allow (a waypoint needs less room than a box), so chains run straight
    size = {n: 1.0 for n in topo} | {w: 0.4 for chain in waypoints.values() for w in chain}
    for _ in range(30):
        moved = 0.0
        for layer in layers:
            want = []
            for n in layer:
                around = [row[m] for m in prev[n] + succ[n]]
                want.append(sum(around) / len(around) if around else row[n])
            for n, y in zip(layer, _spread(want, [size[n] for n in layer]), strict=True):
                moved = max(moved, abs(y - row[n]))
                row[n] = y
        if moved < 1e-3:
            break
    top, bottom = min(row.values()), max(row.values())
    pos = {n: (float(column[n]), top - row[n]) for n in column}
    return pos, waypoints, n_columns, bottom - top


def _spread(want, sizes):
    """Positions nearest (least squares) to ``want`` that keep their order and gaps of the sizes.

    With offsets o_k fixing the minimum gaps, the positions are o_k + q_k where
    q is the non-decreasing sequence nearest to want - o: isotonic regression,
    solved by pooling adjacent violators.
    """
    # plain Python: the columns are short, and numpy's per-call overhead would dominate
    offsets = list(itertools.accumulate((a + b) / 2.0 for a, b in itertools.pairwise(sizes)))
    offsets.insert(0, 0.0)
    blocks = []  # [mean, count] of pooled runs
    for v, o in zip(want, offsets, strict=True):
        blocks.append([v - o, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (m2, c2), (m1, c1) = blocks.pop(), blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    pooled = [m for m, c in blocks for _ in range(c)]
    return [q + o for q, o in zip(pooled, offsets, strict=True)]


def draw_graph(
    edges,
    labels=None,
    kinds=None,
    edge_labels=None,
    direction="forward",
    ax=None,
    figsize=None,
    fontsize=9,
):
    """Draw a computation graph, a directed acyclic graph, in columns from left to right.

    Every arrow points right (``direction="forward"``): values flow from a node
    to the nodes computed from it, and the last column holds the output. With
    ``direction="backward"`` the layout stays and the arrows turn round and
    red: the way gradients flow in backpropagation.

    Parameters
    ----------
    edges : iterable of (parent, child)
        One pair per dependency: ``child`` is computed from ``parent``. Nodes
        are any hashable ids; a node is drawn once however many edges it has.
    labels : dict, optional
        Text of each node (may span several lines); default ``str(node)``.
    kinds : dict, optional
        Style of each node: ``"input"`` (grey box), ``"param"`` (orange box),
        ``"value"`` (blue box, the default), ``"loss"`` (red box) or ``"op"``
        (a circle, for an operation such as ``"*"``).
    edge_labels : dict, optional
        Text written along an edge, keyed by ``(parent, child)``, e.g. the
        local derivative d child / d parent.
    direction : {"forward", "backward"}
        Which way the arrows point.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    figsize : tuple of float, optional
        Size of that new figure; by default about 1.3 inches per column and
        0.6 per row.
    fontsize : float
        Font size of the node labels, in points.

    Returns
    -------
    matplotlib.axes.Axes
        The axes. Its first texts (``ax.texts``) are the node boxes, in
        topological order; then come the arrows (annotations, one per edge,
        or one per straight piece when an edge bends round other nodes) and
        the edge labels.

    Examples
    --------
    >>> ax = draw_graph([("w", "*"), ("x", "*"), ("*", "z"), ("b", "z")],
    ...                 kinds={"*": "op", "w": "param", "b": "param"})
    """
    func = "draw_graph"
    if direction not in ("forward", "backward"):
        raise ValueError(
            f"{func}: argument 'direction' must be 'forward' or 'backward', got {direction!r}"
        )
    edges = [tuple(e) for e in edges]
    if not edges:
        raise ValueError(f"{func}: argument 'edges' is empty; a graph needs at least one edge")
    if any(len(e) != 2 for e in edges):
        raise ValueError(f"{func}: every edge must be a (parent, child) pair")
    edges = list(dict.fromkeys(edges))
    if any(p == c for p, c in edges):
        raise ValueError(f"{func}: the edges contain a cycle (an edge from a node to itself)")
    labels, kinds, edge_labels = dict(labels or {}), dict(kinds or {}), dict(edge_labels or {})

    topo = _topological_order(edges, func)
    pos, waypoints, n_columns, height = _graph_layout(topo, edges)
    if ax is None:
        if figsize is None:
            figsize = (max(3.0, 1.3 * n_columns), max(1.5, 0.6 * height + 0.9))
        _, ax = plt.subplots(figsize=figsize, layout="constrained")

    boxes = {}
    for n in topo:
        style = _NODE_STYLES.get(kinds.get(n, "value"), _NODE_STYLES["value"])
        boxes[n] = ax.text(
            *pos[n],
            labels.get(n, str(n)),
            ha="center",
            va="center",
            fontsize=fontsize,
            bbox=dict(style, linewidth=1.0),
            zorder=3,
        )
    colour = "#333333" if direction == "forward" else "#c0392b"
    for p, c in edges:
        points = [pos[w] for w in waypoints[(p, c)]]
        src, dst = boxes[p], boxes[c]
        if direction == "backward":
            points, src, dst = points[::-1], dst, src
        # straight pieces through the waypoints; clipped at the boxes, arrow head on the last
        ends = [src, *points, dst]
        for k, (a, b) in enumerate(itertools.pairwise(ends)):
            ax.annotate(
                "",
                xy=(0.5, 0.5) if b is dst else b,
                xycoords=dst if b is dst else "data",
                xytext=(0.5, 0.5) if a is src else a,
                textcoords=src if a is src else "data",
                arrowprops=dict(
                    arrowstyle="-|>" if k == len(ends) - 2 else "-",
                    mutation_scale=14,
                    color=colour,
                    lw=1.0,
                    shrinkA=0,
                    shrinkB=0,
                    patchA=src.get_bbox_patch() if a is src else None,
                    patchB=dst.get_bbox_patch() if b is dst else None,
                ),
                zorder=2,
            )
        if (p, c) in edge_labels:
            route = [pos[p], *[pos[w] for w in waypoints[(p, c)]], pos[c]]
            (x0, y0), (x1, y1) = route[(len(route) - 1) // 2], route[len(route) // 2]
            if len(route) % 2:  # an odd route has a waypoint in its middle: label there
                x0, y0 = x1, y1
            ax.text(
                (x0 + x1) / 2,
                (y0 + y1) / 2,
                edge_labels[(p, c)],
                ha="center",
                va="center",
                fontsize=fontsize - 1,
                color=colour,
                bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none"),
                zorder=4,
            )
    ax.set_xlim(-0.6, n_columns - 0.4)
    ax.set_ylim(-height - 0.5, 0.5)
    ax.set_axis_off()
    return ax


# --------------------------------------------- loss surfaces and paths (lecture 06)


def plot_loss_surface(
    loss,
    xlim=(-2.0, 2.0),
    ylim=(-2.0, 2.0),
    ax=None,
    n=150,
    levels=20,
    log=True,
    xlabel="$w_1$",
    ylabel="$w_2$",
    cmap="viridis",
):
    """Contour lines of a loss of two parameters, L(w1, w2), over a rectangle.

    Parameters
    ----------
    loss : callable
        ``loss(W) -> L``: ``W`` of shape (K, 2) holds K points as rows (the
        course's batch convention), ``L`` of shape (K,) their losses. It is
        called once, on the whole (n * n, 2) grid.
    xlim, ylim : tuple of float
        The rectangle [xlim] x [ylim] in (w1, w2).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    n : int
        Grid points per side.
    levels : int or sequence of float
        Number of contour levels, or the levels themselves.
    log : bool
        With an int ``levels``, space the levels geometrically (above the
        grid's minimum), so a narrow valley and its steep walls both get lines.
    xlabel, ylabel : str
        Axis labels.
    cmap : str
        Colour map of the lines.

    Returns
    -------
    matplotlib.contour.QuadContourSet
    """
    w1, w2 = np.linspace(*xlim, n), np.linspace(*ylim, n)
    W1, W2 = np.meshgrid(w1, w2)
    grid = np.column_stack([W1.ravel(), W2.ravel()])
    values = np.asarray(loss(grid), dtype=float)
    if values.shape != (n * n,):
        raise ShapeError(
            f"plot_loss_surface: argument 'loss' must map points (K, 2) to losses (K,), "
            f"got shape {values.shape} for K = {n * n}"
        )
    Z = values.reshape(n, n)
    if isinstance(levels, int | np.integer) and log:
        lowest, highest = float(Z.min()), float(Z.max())
        span = highest - lowest
        # geometric spacing of the height above the minimum: dense near the bottom
        levels = lowest + np.geomspace(span * 1e-4, span, levels) if span > 0 else levels
    ax = get_ax(ax)
    contours = ax.contour(W1, W2, Z, levels=levels, cmap=cmap, linewidths=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return contours


def plot_trajectory(path, ax=None, label=None, color=None, markersize=3):
    """Draw an optimiser's path through a 2-D parameter space, start and end marked.

    Parameters
    ----------
    path : array_like of shape (T, 2)
        The iterates w_0, w_1, ..., w_{T-1} as rows.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    label : str, optional
        Legend entry of the path.
    color : str, optional
        Line colour; matplotlib's next colour when None.
    markersize : float
        Size of the dot at every iterate.

    Returns
    -------
    matplotlib.lines.Line2D
        The path's line.
    """
    path = as_float_array(path, "plot_trajectory", "path", ndim=2)
    check_shape(path, (None, 2), "plot_trajectory", "path")
    ax = get_ax(ax)
    (line,) = ax.plot(
        path[:, 0], path[:, 1], "-o", color=color, lw=1.2, markersize=markersize, label=label
    )
    ax.plot(*path[0], "s", color=line.get_color(), markersize=6)
    ax.plot(*path[-1], "*", color=line.get_color(), markersize=10, markeredgecolor="black")
    return line


# ------------------------------------ output probabilities and 1-D fits (lectures 03, 04)


def probability_bars(p, labels=None, target=None, ax=None):
    """Bar chart of one probability vector p_1..p_C, the true class highlighted.

    Parameters
    ----------
    p : array_like, shape (C,)
        Probabilities, e.g. one row of a softmax output.
    labels : sequence of str, length C, optional
        Class names; default ``"0", "1", ...``.
    target : int, optional
        Index of the true class; its bar gets a contrasting colour.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.container.BarContainer
    """
    p = as_float_array(p, "probability_bars", "p", ndim=1)
    C = p.shape[0]
    labels = [str(c) for c in range(C)] if labels is None else [str(s) for s in labels]
    if len(labels) != C:
        raise ShapeError(
            f"probability_bars: argument 'labels' must have {C} entries to match 'p', "
            f"got {len(labels)}"
        )
    if target is not None and not 0 <= int(target) < C:
        raise ValueError(f"probability_bars: argument 'target' must be in 0..{C - 1}, got {target}")
    ax = get_ax(ax)
    colors = ["tab:blue"] * C
    if target is not None:
        colors[int(target)] = "tab:orange"
    bars = ax.bar(labels, p, color=colors)
    ax.bar_label(bars, fmt="%.2f", padding=2, fontsize="small")
    # room above a bar at 1.0 for its value label
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("probability")
    ax.set_xlabel("class")
    return bars


def plot_fit_1d(x, target, pred, x_train=None, y_train=None, label="network", ax=None):
    """A 1-D target f(x), a model's output g(x) and, optionally, the training points.

    Parameters
    ----------
    x : array_like, shape (N,)
        Sorted inputs where ``target`` and ``pred`` are evaluated.
    target : array_like, shape (N,)
        f(x), drawn dashed.
    pred : array_like, shape (N,)
        g(x), drawn solid.
    x_train, y_train : array_like, shape (n,), optional
        Training points, drawn as dots.
    label : str
        Legend entry of ``pred``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.lines.Line2D
        The line of ``pred``.
    """
    x = as_float_array(x, "plot_fit_1d", "x", ndim=1)
    target = as_float_array(target, "plot_fit_1d", "target", ndim=1)
    pred = as_float_array(pred, "plot_fit_1d", "pred", ndim=1)
    check_same_shape(x, target, "plot_fit_1d", "x", "target")
    check_same_shape(x, pred, "plot_fit_1d", "x", "pred")
    ax = get_ax(ax)
    if x_train is not None and y_train is not None:
        ax.plot(x_train, y_train, ".", color="0.6", ms=4, label="training data", zorder=1)
    ax.plot(x, target, "--", color="k", lw=1.2, label="target $f$", zorder=2)
    (line,) = ax.plot(x, pred, color="tab:red", lw=1.8, label=label, zorder=3)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.legend(fontsize="small")
    return line


def plot_error_vs_width(widths, errors, ax=None, ylabel="error"):
    """Approximation error against hidden width on log-log axes, one line per curve.

    Parameters
    ----------
    widths : array_like of int, shape (K,)
        Hidden widths M.
    errors : mapping str -> array_like, shape (K,)
        Error at each width, by curve label (e.g. activation name).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    ylabel : str
        What the error is, e.g. ``"max |f - g|"``.

    Returns
    -------
    list of matplotlib.lines.Line2D
        One line per entry of ``errors``, in order.

    Notes
    -----
    Add further curves with ``ax.plot``: ``ax.loglog`` sets the scales again,
    which resets the plain-number tick labels.
    """
    widths = as_float_array(widths, "plot_error_vs_width", "widths", ndim=1)
    ax = get_ax(ax)
    lines = []
    for name, err in errors.items():
        err = as_float_array(err, "plot_error_vs_width", f"errors[{name!r}]", ndim=1)
        check_same_shape(widths, err, "plot_error_vs_width", "widths", f"errors[{name!r}]")
        lines += ax.loglog(widths, err, "o-", ms=4, label=str(name))
    # plain numbers (0.05, not 5 x 10^-2): a tick at every width, and on the error axis
    # extra ticks at 2 and 5 times a power of ten unless the errors span many decades
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    shown, last = [], -np.inf
    for w in np.sort(widths):
        # label a width only if it sits far enough (on the log axis) from the last one labelled
        shown.append(f"{w:g}" if np.log10(w) - last > 0.14 else "")
        last = np.log10(w) if shown[-1] else last
    ax.set_xticks(np.sort(widths), shown)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(plain)
    values = np.concatenate([np.asarray(line.get_ydata(), dtype=float) for line in lines] or [[]])
    values = values[np.isfinite(values) & (values > 0)]
    if values.size and values.max() < 100 * values.min():
        ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        ax.yaxis.set_minor_formatter(plain)
    else:
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("hidden units $M$")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return lines


# ------------------------------------- networks and activations (lectures 01, 02)

_LAYER_COLORS = {"input": "#a6cee3", "hidden": "#fdbf6f", "output": "#b2df8a"}


def _shown_nodes(size: int, max_nodes: int) -> list[int | None]:
    """1-based indices of the nodes drawn for a layer, ``None`` where the ellipsis stands."""
    if size <= max_nodes:
        return list(range(1, size + 1))
    head = (max_nodes - 1) // 2
    tail = max_nodes - 1 - head
    return [*range(1, head + 1), None, *range(size - tail + 1, size + 1)]


def draw_network(sizes, ax=None, layer_names=None, node_labels=None, show_bias=False, max_nodes=8):
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


def plot_activation(activation, z=None, ax=None, derivative=True, legend=True):
    """Plot an activation f(z) and, dashed, its derivative f'(z).

    Parameters
    ----------
    activation : str or nnkit.activations.Activation
        A key of ``nk.ACTIVATIONS`` (e.g. ``"relu"``) or a record from it.
    z : array_like, shape (K,), optional
        Where to evaluate; default 401 points on [-4, 4].
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    derivative : bool, default True
        Also plot f'(z). For ``step`` and ``sign`` that is 0 wherever it exists.
    legend : bool, default True
        Add a legend naming the curves.

    Returns
    -------
    matplotlib.axes.Axes
        Titled by the activation's name, axes labelled; the lines are f then f'.
    """
    from .activations import get_activation

    act = get_activation(activation)
    if z is None:
        z = np.linspace(-4.0, 4.0, 401)
    z = as_float_array(z, "plot_activation", "z", ndim=1)
    ax = get_ax(ax)
    ax.axhline(0.0, color="0.8", lw=0.8, zorder=0)
    ax.axvline(0.0, color="0.8", lw=0.8, zorder=0)
    ax.plot(z, act.fn(z), color="C0", lw=2, label="$f(z)$")
    if derivative:
        ax.plot(z, act.grad(z), color="C1", lw=1.5, ls="--", label="$f'(z)$")
    ax.set_title(act.name)
    ax.set_xlabel("$z$")
    ax.set_ylabel("$f(z)$, $f'(z)$" if derivative else "$f(z)$")
    if legend:
        ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_decision_regions(model, X, y, ax=None, resolution=200, padding=0.5):
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


# ------------------------------------------------ loss landscape slices (lecture 07)


def _landscape_grid(A, B, L, func):
    A = as_float_array(A, func, "A", ndim=2)
    B = as_float_array(B, func, "B", ndim=2)
    L = as_float_array(L, func, "L", ndim=2)
    check_same_shape(A, B, func, "A", "B")
    check_same_shape(A, L, func, "A", "L")
    return A, B, L


def plot_landscape_contour(
    A, B, L, ax=None, levels=15, log=True, colorbar=True, cmap="viridis", mark_centre=True
):
    """Filled contours of a 2-D loss slice L(theta + a d1 + b d2) over a grid of (a, b).

    Parameters
    ----------
    A, B : array_like, shape (R, S)
        Grid coordinates a and b, as returned by ``nk.landscape.slice_2d``.
    L : array_like, shape (R, S)
        The loss at each grid point.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    levels : int or sequence of float
        Number of contour levels, or the levels themselves (increasing). Fixed
        levels give several slices the same colours, for comparing them; losses
        beyond the first or last level take the end colours.
    log : bool
        Colour on a log scale; with an int ``levels``, space the levels
        geometrically between the lowest and the highest loss, so the basin and
        its walls both get contours (a loss slice spans several decades).
    colorbar : bool
        Add a colour bar labelled "loss" beside ``ax``.
    cmap : str
        Colour map.
    mark_centre : bool
        Mark (a, b) = (0, 0), the point the slice is centred on, with a star.

    Returns
    -------
    matplotlib.contour.QuadContourSet
    """
    from matplotlib.colors import LogNorm

    A, B, L = _landscape_grid(A, B, L, "plot_landscape_contour")
    low, high = float(L.min()), float(L.max())
    if isinstance(levels, int | np.integer):
        if log and low > 0 and high > low:
            levels = np.geomspace(low, high, levels + 1)
    else:
        levels = as_float_array(levels, "plot_landscape_contour", "levels", ndim=1)
        if levels.size < 2 or np.any(np.diff(levels) <= 0):
            raise ValueError("plot_landscape_contour: argument 'levels' must increase, 2 or more")
    norm = None
    if log and np.ndim(levels) == 1 and levels[0] > 0:
        norm = LogNorm(levels[0], levels[-1])
    ax = get_ax(ax)
    filled = ax.contourf(A, B, L, levels=levels, cmap=cmap, norm=norm, extend="both")
    ax.contour(A, B, L, levels=filled.levels, colors="k", linewidths=0.4, alpha=0.5)
    if mark_centre:
        ax.plot(0.0, 0.0, "*", color="white", markeredgecolor="k", markersize=11)
    ax.set_xlabel("$a$ (direction $d_1$)")
    ax.set_ylabel("$b$ (direction $d_2$)")
    ax.set_aspect("equal", adjustable="box")
    if colorbar:
        loss_colorbar(filled, ax)
    return filled


def loss_colorbar(contours, ax, label="loss", shrink=1.0):
    """Add a colour bar for filled loss contours, with a readable label every few levels.

    Parameters
    ----------
    contours : matplotlib.contour.QuadContourSet
        Filled contours, e.g. from :func:`plot_landscape_contour`.
    ax : matplotlib.axes.Axes or sequence of Axes
        The axes the bar takes its room from; one bar for several panels drawn
        with the same levels.
    label : str
        The bar's label.
    shrink : float
        Fraction of the axes' height the bar spans.

    Returns
    -------
    matplotlib.colorbar.Colorbar
    """
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import FuncFormatter

    axes = np.atleast_1d(ax).ravel().tolist()
    bar = axes[0].figure.colorbar(contours, ax=axes, label=label, shrink=shrink)
    if isinstance(contours.norm, LogNorm):
        # a log colour bar gets few or no default labels over less than a decade
        bar.set_ticks(contours.levels[:: max(1, len(contours.levels) // 6)])
        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2g}"))
        bar.minorticks_off()
    return bar


def plot_landscape_surface(A, B, L, ax=None, log=False, cmap="viridis"):
    """A 2-D loss slice drawn as a 3-D surface, height = loss (or log10 loss).

    Parameters
    ----------
    A, B, L : array_like, shape (R, S)
        Grid coordinates and losses, as returned by ``nk.landscape.slice_2d``.
    ax : mpl_toolkits.mplot3d.axes3d.Axes3D, optional
        A 3-D axes (``fig.add_subplot(projection="3d")``); a new figure when None.
    log : bool
        Plot log10 of the loss, which shows a flat basin's floor better.
    cmap : str
        Colour map.

    Returns
    -------
    mpl_toolkits.mplot3d.art3d.Poly3DCollection
    """
    A, B, L = _landscape_grid(A, B, L, "plot_landscape_surface")
    if log and not np.all(L > 0):
        raise ValueError("plot_landscape_surface: log=True needs positive losses")
    if ax is None:
        fig = plt.figure(figsize=(5.0, 4.0), layout="constrained")
        ax = fig.add_subplot(projection="3d")
    elif getattr(ax, "name", "") != "3d":
        raise TypeError(
            "plot_landscape_surface: argument 'ax' must be a 3-D axes, "
            "made with fig.add_subplot(projection='3d')"
        )
    height = np.log10(L) if log else L
    surface = ax.plot_surface(A, B, height, cmap=cmap, linewidth=0, antialiased=True)
    # shrink the box a little: at the default zoom the z label falls outside the figure
    ax.set_box_aspect(None, zoom=0.85)
    ax.set_xlabel("$a$")
    ax.set_ylabel("$b$")
    ax.set_zlabel("$\\log_{10}$ loss" if log else "loss")
    return surface


# ------------------------------------------------ classification results (lecture 08)


def confusion_matrix(y_true, y_pred, ax=None, n_classes=None, normalize=False, cmap="Blues"):
    """Draw the confusion matrix K[i, j] = #{n : y_true[n] = i and y_pred[n] = j}.

    Rows are true classes, columns predicted ones, so the diagonal counts the
    correct predictions and an off-diagonal cell (i, j) counts class i taken
    for class j. Every cell is annotated with its value.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (N,)
        True and predicted class indices.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    n_classes : int, optional
        C; default one more than the largest label seen.
    normalize : bool
        Divide each row by its sum: cell (i, j) is then the fraction of class
        i predicted as j, and the diagonal holds each class's recall.
    cmap : str
        Colour map.

    Returns
    -------
    matplotlib.image.AxesImage
        ``get_array()`` holds the (C, C) matrix drawn.
    """
    func = "confusion_matrix"
    y_true = check_labels(y_true, func, "y_true")
    y_pred = check_labels(y_pred, func, "y_pred")
    check_same_shape(y_true, y_pred, func, "y_true", "y_pred")
    seen = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    C = seen if n_classes is None else int(n_classes)
    if seen > C or y_true.min(initial=0) < 0 or y_pred.min(initial=0) < 0:
        raise ValueError(f"{func}: labels must lie in 0..{C - 1} (n_classes = {C})")
    K = np.zeros((C, C), dtype=np.int64)
    np.add.at(K, (y_true, y_pred), 1)
    values = K.astype(np.float64)
    if normalize:
        totals = values.sum(axis=1, keepdims=True)
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    ax = get_ax(ax, figsize=(4.5, 4.0))
    image = ax.imshow(values, cmap=cmap, vmin=0, vmax=max(float(values.max()), 1e-12))
    threshold = 0.6 * values.max()
    for i, j in itertools.product(range(C), range(C)):
        text = f"{values[i, j]:.2f}" if normalize else str(K[i, j])
        colour = "white" if values[i, j] > threshold else "black"
        ax.text(j, i, text, ha="center", va="center", color=colour, fontsize="small")
    ax.set_xticks(range(C))
    ax.set_yticks(range(C))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("confusion matrix" + (" (rows sum to 1)" if normalize else ""))
    return image


def image_grid(
    images,
    titles=None,
    image_shape=None,
    ncols=10,
    ax=None,
    cmap="gray_r",
    vmin=None,
    vmax=None,
    title_colors=None,
):
    """Show images side by side in a grid of tiles, each with an optional title above it.

    The tiles are pasted into one mosaic drawn by a single ``imshow`` (with
    blank gaps between them), which is much faster than one axes per image.

    Parameters
    ----------
    images : array_like, shape (N, H, W) or (N, H * W)
        The images, or their flattened rows (as an MLP sees them).
    titles : sequence of str, length N, optional
        One title per image, e.g. its label.
    image_shape : tuple (H, W), optional
        Shape of one image when ``images`` holds rows; default a square
        (H = W = sqrt(H * W)).
    ncols : int
        Tiles per row.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure, about 0.8 inch per tile, when None. Titles
        need tiles of about half an inch or more to stay apart.
    cmap : str
        Colour map; ``"gray_r"`` draws ink dark on white paper.
    vmin, vmax : float, optional
        Colour limits shared by all tiles, e.g. symmetric ones for weights.
        When both are None, each image is scaled to its own range.
    title_colors : sequence of colours, length N, optional
        Colour of each title, e.g. red for the mistakes.

    Returns
    -------
    matplotlib.image.AxesImage
        The mosaic; its axes (``.axes``) has the frame turned off and one text
        per title.
    """
    func = "image_grid"
    images = as_float_array(images, func, "images", ndim=(2, 3))
    N = images.shape[0]
    if N == 0:
        raise ValueError(f"{func}: argument 'images' holds no image")
    if images.ndim == 2:
        if image_shape is None:
            side = math.isqrt(images.shape[1])
            if side * side != images.shape[1]:
                raise ShapeError(
                    f"{func}: rows of {images.shape[1]} pixels are not square images; "
                    "give 'image_shape'"
                )
            image_shape = (side, side)
        H, W = (int(s) for s in image_shape)
        if images.shape[1] != H * W:
            raise ShapeError(
                f"{func}: argument 'image_shape' {tuple(image_shape)} does not hold rows of "
                f"{images.shape[1]} pixels"
            )
        images = images.reshape(N, H, W)
    H, W = images.shape[1:]
    for name, seq in (("titles", titles), ("title_colors", title_colors)):
        if seq is not None and len(seq) != N:
            raise ValueError(f"{func}: argument '{name}' must have {N} entries, got {len(seq)}")
    if vmin is None and vmax is None:
        low = images.min(axis=(1, 2), keepdims=True)
        span = images.max(axis=(1, 2), keepdims=True) - low
        images = (images - low) / np.where(span > 0, span, 1.0)
        vmin, vmax = 0.0, 1.0

    ncols = max(1, min(int(ncols), N))
    nrows = -(-N // ncols)
    gap = max(1, round(0.15 * W))
    band = round(0.45 * H) if titles is not None else 0  # blank rows above a tile for its title
    cell_h, cell_w = band + H + gap, W + gap
    # NaN pixels are drawn in the colour map's "bad" colour: white paper between the tiles
    mosaic = np.full((nrows * cell_h - gap, ncols * cell_w - gap), np.nan)
    for k in range(N):
        r, c = divmod(k, ncols)
        top, left = r * cell_h + band, c * cell_w
        mosaic[top : top + H, left : left + W] = images[k]
    width = 0.8 * ncols
    ax = get_ax(ax, figsize=(width, width * mosaic.shape[0] / mosaic.shape[1] + 0.3))
    colours = plt.get_cmap(cmap).with_extremes(bad="white")
    image = ax.imshow(mosaic, cmap=colours, vmin=vmin, vmax=vmax, interpolation="nearest")
    if titles is not None:
        for k in range(N):
            r, c = divmod(k, ncols)
            ax.text(
                c * cell_w + (W - 1) / 2,
                r * cell_h + band - 0.7,
                str(titles[k]),
                ha="center",
                va="bottom",
                fontsize="small",
                color="black" if title_colors is None else title_colors[k],
            )
    ax.set_axis_off()
    return image


# ------------------------------------------------ signals through depth (lecture 09)


def plot_layer_histograms(samples, bins, ax=None, color="tab:blue", xlabel="value"):
    """One histogram per layer, stacked bottom to top (a ridge plot); layer l sits at height l.

    Values outside ``bins`` are counted in the first or last bin, so a signal
    that explodes piles up at the edges instead of disappearing. Each
    histogram is scaled to the height 0.9.

    Parameters
    ----------
    samples : sequence of L array_like, any shapes
        The values of layers 1..L (flattened).
    bins : array_like, shape (B + 1,)
        Increasing bin edges shared by every layer.
    ax : matplotlib Axes, optional
    color : matplotlib colour
    xlabel : str

    Returns
    -------
    matplotlib.collections.PolyCollection
        The L filled histograms, one polygon each.
    """
    edges = as_float_array(bins, "plot_layer_histograms", "bins", ndim=1)
    if edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(
            "plot_layer_histograms: argument 'bins' must be at least two increasing edges, "
            f"got shape {edges.shape}"
        )
    ax = get_ax(ax)
    x = np.repeat(edges, 2)  # the outline of a step function: each edge twice
    polygons = []
    for level, values in enumerate(samples, start=1):
        values = np.clip(np.ravel(values), edges[0], edges[-1])
        counts, _ = np.histogram(values, bins=edges)
        heights = 0.9 * counts / max(counts.max(), 1)
        y = np.concatenate([[0.0], np.repeat(heights, 2), [0.0]]) + level
        polygons.append(np.column_stack([x, y]))
    # one collection, not L patches: matplotlib then skips measuring every step of every outline
    collection = PolyCollection(polygons, facecolors=color, edgecolors="none", alpha=0.6)
    ax.add_collection(collection, autolim=False)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0.8, len(polygons) + 1.1)
    ax.yaxis.set_major_locator(MaxNLocator(6, integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("layer")
    return collection

"""Lecture 5, backpropagation: computation graphs, drawn forward or backward."""

from __future__ import annotations

import itertools

import numpy as np

from ._common import get_ax

__all__ = ["draw_graph"]

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
    *,
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
    if figsize is None:
        figsize = (max(3.0, 1.3 * n_columns), max(1.5, 0.6 * height + 0.9))
    ax = get_ax(ax, figsize=figsize)

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

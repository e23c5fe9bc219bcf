"""Lecture 9, initialisation: how a signal's distribution changes from layer to layer."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.ticker import MaxNLocator

from .._checks import as_float_array
from ._common import get_ax

__all__ = ["plot_layer_histograms"]


def plot_layer_histograms(samples, bins, *, ax=None, color="tab:blue", xlabel="value"):
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
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    color : matplotlib colour
        Fill colour of the histograms.
    xlabel : str
        Label of the value axis.

    Returns
    -------
    matplotlib.axes.Axes
        The axes; its last collection (``ax.collections[-1]``) holds the L
        filled histograms, one polygon each.
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
    return ax

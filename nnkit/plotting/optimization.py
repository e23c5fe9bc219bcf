"""Lecture 6, optimisation: a loss surface of two parameters and an optimiser's path over it."""

from __future__ import annotations

import numpy as np

from .._checks import ShapeError, as_float_array, check_shape
from ._common import get_ax

__all__ = ["plot_loss_surface", "plot_trajectory"]


def plot_loss_surface(
    loss,
    xlim=(-2.0, 2.0),
    ylim=(-2.0, 2.0),
    *,
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
    matplotlib.axes.Axes
        The axes; its last collection (``ax.collections[-1]``) is the contour
        set, for a colour bar: ``loss_colorbar(ax)``.
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
    ax.contour(W1, W2, Z, levels=levels, cmap=cmap, linewidths=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return ax


def plot_trajectory(path, *, ax=None, label=None, color=None, markersize=3):
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
    matplotlib.axes.Axes
        The axes, with three more lines: the path (``ax.lines[-3]``), a square
        at its start and a star at its end.
    """
    path = as_float_array(path, "plot_trajectory", "path", ndim=2)
    check_shape(path, (None, 2), "plot_trajectory", "path")
    ax = get_ax(ax)
    (line,) = ax.plot(
        path[:, 0], path[:, 1], "-o", color=color, lw=1.2, markersize=markersize, label=label
    )
    ax.plot(*path[0], "s", color=line.get_color(), markersize=6)
    ax.plot(*path[-1], "*", color=line.get_color(), markersize=10, markeredgecolor="black")
    return ax

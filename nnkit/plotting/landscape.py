"""Lecture 7, loss landscapes: 2-D slices of a network's loss, as contours or a surface."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.contour import ContourSet
from matplotlib.ticker import FuncFormatter

from .._checks import as_float_array, check_same_shape
from ._common import get_ax

__all__ = ["loss_colorbar", "plot_landscape_contour", "plot_landscape_surface"]


def _landscape_grid(A, B, L, func):
    """A, B and L as float arrays of one shape (R, S), or a ShapeError naming ``func``."""
    A = as_float_array(A, func, "A", ndim=2)
    B = as_float_array(B, func, "B", ndim=2)
    L = as_float_array(L, func, "L", ndim=2)
    check_same_shape(A, B, func, "A", "B")
    check_same_shape(A, L, func, "A", "L")
    return A, B, L


def plot_landscape_contour(
    A, B, L, *, ax=None, levels=15, log=True, colorbar=True, cmap="viridis", mark_centre=True
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
    matplotlib.axes.Axes
        The axes; its last two collections are the filled contours
        (``ax.collections[-2]``) and the thin black lines between them.
    """
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
        loss_colorbar(ax)
    return ax


def loss_colorbar(ax, *, label="loss", shrink=1.0):
    """Add a colour bar for the loss contours drawn on ``ax``, a readable label every few levels.

    The bar shows the contours of the first of the axes that has some: its
    last filled contours (as :func:`plot_landscape_contour` draws), else its
    last contour lines (as :func:`nnkit.plotting.plot_loss_surface` draws).

    Parameters
    ----------
    ax : matplotlib.axes.Axes or sequence of Axes
        The axes the bar takes its room from; one bar for several panels drawn
        with the same levels.
    label : str
        The bar's label.
    shrink : float
        Fraction of the axes' height the bar spans.

    Returns
    -------
    matplotlib.axes.Axes
        The colour bar's own axes, made beside ``ax``.
    """
    func = "loss_colorbar"
    axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel().tolist()
    if not all(isinstance(a, Axes) for a in axes):
        raise TypeError(
            f"{func}: argument 'ax' must be an Axes or a sequence of Axes, got {type(ax).__name__}"
        )
    found = [[c for c in a.collections if isinstance(c, ContourSet)] for a in axes]
    drawn = next((sets for sets in found if sets), None)
    if drawn is None:
        raise ValueError(f"{func}: no contours drawn on argument 'ax' to make a colour bar for")
    contours = ([c for c in drawn if c.filled] or drawn)[-1]
    bar = axes[0].figure.colorbar(contours, ax=axes, label=label, shrink=shrink)
    if isinstance(contours.norm, LogNorm):
        # a log colour bar gets few or no default labels over less than a decade
        bar.set_ticks(contours.levels[:: max(1, len(contours.levels) // 6)])
        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2g}"))
        bar.minorticks_off()
    return bar.ax


def plot_landscape_surface(A, B, L, *, ax=None, log=False, cmap="viridis"):
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
    mpl_toolkits.mplot3d.axes3d.Axes3D
        The 3-D axes; its last collection (``ax.collections[-1]``) is the
        surface, a ``Poly3DCollection``.
    """
    A, B, L = _landscape_grid(A, B, L, "plot_landscape_surface")
    if log and not np.all(L > 0):
        raise ValueError("plot_landscape_surface: log=True needs positive losses")
    if ax is not None and getattr(ax, "name", "") != "3d":
        raise TypeError(
            "plot_landscape_surface: argument 'ax' must be a 3-D axes, "
            "made with fig.add_subplot(projection='3d')"
        )
    ax = get_ax(ax, figsize=(5.0, 4.0), projection="3d")
    height = np.log10(L) if log else L
    ax.plot_surface(A, B, height, cmap=cmap, linewidth=0, antialiased=True)
    # shrink the box a little: at the default zoom the z label falls outside the figure
    ax.set_box_aspect(None, zoom=0.85)
    ax.set_xlabel("$a$")
    ax.set_ylabel("$b$")
    ax.set_zlabel("$\\log_{10}$ loss" if log else "loss")
    return ax

"""What every plotting module shares: the axes a function draws on."""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["get_ax"]


def get_ax(ax=None, figsize=(5.0, 3.5), projection=None):
    """Return ``ax``, or the axes of a new figure when ``ax`` is None.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Returned unchanged when given.
    figsize : tuple of float
        Size of the new figure, in inches.
    projection : str, optional
        Projection of the new axes, e.g. ``"3d"``; a plain 2-D axes when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        fig = plt.figure(figsize=figsize, layout="constrained")
        ax = fig.add_subplot(projection=projection)
    return ax

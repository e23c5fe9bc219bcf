"""Lecture 3, outputs and losses: the probabilities a classifier outputs."""

from __future__ import annotations

from .._checks import ShapeError, as_float_array
from ._common import get_ax

__all__ = ["probability_bars"]


def probability_bars(p, labels=None, target=None, *, ax=None):
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
    matplotlib.axes.Axes
        The axes; ``ax.containers[-1]`` holds the C bars, each labelled with its value.
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
    return ax

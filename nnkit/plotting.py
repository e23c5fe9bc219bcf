"""Figures for the lectures.

Every helper takes ``ax=None`` (a new figure is made when it is None), returns
the figure or artist it drew, and leaves matplotlib's global state alone.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["get_ax"]


def get_ax(ax=None, figsize=(5.0, 3.5)):
    """Return ``ax``, or the axes of a new figure of ``figsize`` when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax

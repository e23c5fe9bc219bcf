"""Lecture 2, activation functions: a function and its derivative on one axes."""

from __future__ import annotations

import numpy as np

from .._checks import as_float_array
from ..activations import get_activation
from ._common import get_ax

__all__ = ["plot_activation"]


def plot_activation(activation, z=None, *, ax=None, derivative=True, legend=True):
    """Plot an activation f(z) and, dashed, its derivative f'(z).

    Parameters
    ----------
    activation : str or nnkit.activations.ActivationFunction
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
        Titled by the activation's name, axes labelled. Its labelled lines are f
        then f'; the grey reference lines at 0 come first and have no label.
    """
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

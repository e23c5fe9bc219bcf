"""Lecture 4, universal approximation: a 1-D fit and the error as the width grows."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

from .._checks import as_float_array, check_same_shape
from ._common import get_ax

__all__ = ["plot_error_vs_width", "plot_fit_1d"]


def plot_fit_1d(x, target, pred, x_train=None, y_train=None, label="network", *, ax=None):
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
    matplotlib.axes.Axes
        The axes, with a legend; its last line (``ax.lines[-1]``) is ``pred``,
        after the dashed target and the training points.
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
    ax.plot(x, pred, color="tab:red", lw=1.8, label=label, zorder=3)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.legend(fontsize="small")
    return ax


def plot_error_vs_width(widths, errors, *, ax=None, ylabel="error"):
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
    matplotlib.axes.Axes
        The axes, log-log, with a legend; its last ``len(errors)`` lines are
        the curves, in the order of ``errors``.

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
    return ax

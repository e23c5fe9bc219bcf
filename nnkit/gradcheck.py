"""Gradient checking: compare backpropagation with central differences.

The library computes and returns numbers; it never prints. A
:class:`GradcheckReport` has a readable ``str()`` for lectures and graders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import as_float_array, check_same_shape
from .losses import get_loss

__all__ = [
    "GradcheckReport",
    "ParameterCheck",
    "check_model_gradients",
    "numerical_gradient",
    "relative_error",
]

_TINY = np.finfo(np.float64).tiny


def numerical_gradient(f, x, h: float = 1e-5):
    """Central-difference gradient, g[i] = (f(x + h e_i) - f(x - h e_i)) / (2h).

    Each entry of ``x`` is nudged in place, ``f(x)`` evaluated, and the entry
    restored, so ``f`` may ignore its argument and read ``x`` through a
    closure (as when ``x`` is a model's weight array). ``x`` holds its original
    values afterwards. The error is O(h^2) from truncation plus about
    eps |f| / h from rounding; h = 1e-5 balances the two in float64.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``, a scalar function of the array.
    x : ndarray of float64, any shape
        Evaluation point. Non-float64 input is refused: in float32, a step
        of 1e-5 is lost to rounding.
    h : float, default 1e-5
        Step size.

    Returns
    -------
    ndarray, shape of ``x``
        The approximate gradient df/dx.
    """
    if isinstance(x, np.ndarray) and x.dtype != np.float64:
        raise TypeError(
            f"numerical_gradient: argument 'x' must be float64 (a step h={h:g} is lost to "
            f"rounding in lower precision), got {x.dtype}"
        )
    if not isinstance(x, np.ndarray):
        x = as_float_array(x, "numerical_gradient", "x").astype(np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        grad[i] = _central_difference(f, x, i, h)
    return grad


def _central_difference(f, x: np.ndarray, i: tuple, h: float) -> float:
    """(f(x + h e_i) - f(x - h e_i)) / (2h), nudging x[i] in place and restoring it."""
    old = x[i]
    try:
        x[i] = old + h
        f_plus = float(f(x))
        x[i] = old - h
        f_minus = float(f(x))
    finally:
        # restore even if f raises, so a failed check never leaves a model perturbed
        x[i] = old
    return (f_plus - f_minus) / (2 * h)


def relative_error(a, b) -> float:
    """Relative error of two arrays, max_i |a_i - b_i| / max(max_i (|a_i| + |b_i|), tiny).

    The largest absolute difference, measured against the largest magnitude
    in either array. Entries that are tiny compared with the rest of the
    array (where rounding dominates) cannot inflate it, unlike an elementwise
    ratio. 0 means identical; about 1 means unrelated. For float64 gradients
    of smooth functions, backpropagation and central differences usually
    agree to below 1e-8.

    Parameters
    ----------
    a, b : array_like, same shape

    Returns
    -------
    float
        In [0, 1]; 0 when both are all zeros.
    """
    a = as_float_array(a, "relative_error", "a").astype(np.float64, copy=False)
    b = as_float_array(b, "relative_error", "b").astype(np.float64, copy=False)
    check_same_shape(a, b, "relative_error", "a", "b")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a) + np.abs(b))), _TINY)
    return float(np.max(np.abs(a - b)) / scale)


@dataclass
class ParameterCheck:
    """Comparison for one parameter array.

    Attributes
    ----------
    name : str
        Key in ``model.parameters()``.
    shape : tuple
    error : float
        :func:`relative_error` of the analytic and numeric gradients.
    worst_index : tuple
        Index of the entry with the largest absolute difference.
    analytic, numeric : float
        The two gradient values at ``worst_index``.
    n_checked : int
        Entries compared (all of them unless ``max_entries`` was set).
    """

    name: str
    shape: tuple
    error: float
    worst_index: tuple
    analytic: float
    numeric: float
    n_checked: int


@dataclass
class GradcheckReport:
    """Result of :func:`check_model_gradients`, one row per parameter.

    Attributes
    ----------
    checks : list of ParameterCheck
    tol : float
        Threshold on the relative error.
    analytic, numeric : dict[str, ndarray]
        The compared gradients by parameter name (NaN where not checked).
    """

    checks: list[ParameterCheck]
    tol: float
    analytic: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    numeric: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    @property
    def errors(self) -> dict[str, float]:
        """Relative error by parameter name."""
        return {c.name: c.error for c in self.checks}

    @property
    def worst(self) -> ParameterCheck:
        """The parameter with the largest relative error."""
        return max(self.checks, key=lambda c: c.error)

    @property
    def max_error(self) -> float:
        return self.worst.error if self.checks else 0.0

    @property
    def ok(self) -> bool:
        """True when every parameter's relative error is below ``tol``."""
        return all(c.error < self.tol for c in self.checks)

    def __bool__(self) -> bool:
        return self.ok

    def table(self) -> str:
        """Fixed-width table: parameter, shape, relative error, worst entry, both gradients."""
        header = ("parameter", "shape", "rel. error", "worst entry", "analytic", "numeric")
        rows = [
            (
                c.name,
                str(c.shape),
                f"{c.error:.2e}",
                str(c.worst_index),
                f"{c.analytic:+.6e}",
                f"{c.numeric:+.6e}",
            )
            for c in self.checks
        ]
        widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True))
            for r in [header, *rows]
        ]
        return "\n".join(line.rstrip() for line in lines)

    def __str__(self) -> str:
        if not self.checks:
            return "gradient check: the model has no parameters"
        w = self.worst
        index = ", ".join(str(i) for i in w.worst_index)
        verdict = "OK" if self.ok else "FAILED"
        return (
            f"{self.table()}\n"
            f"max relative error {w.error:.2e} at {w.name}[{index}] "
            f"(tolerance {self.tol:.0e}): {verdict}"
        )


def check_model_gradients(
    model,
    X,
    y,
    loss="softmax_cross_entropy",
    h: float = 1e-5,
    tol: float = 1e-7,
    max_entries: int | None = None,
    rng=None,
) -> GradcheckReport:
    """Compare a model's backpropagated gradients with central differences, parameter by parameter.

    The loss is ``loss(model.forward(X), y)``; the analytic gradients come
    from one ``model.backward`` of its gradient, the numeric ones from
    :func:`numerical_gradient` on each array of ``model.parameters()``
    (perturbed in place and restored, so the model is unchanged afterwards;
    its ``gradients()`` hold the analytic ones).

    Parameters
    ----------
    model : object following the model protocol
        ``forward``, ``backward``, ``parameters``, ``gradients``; float64 parameters.
    X : array_like, shape (N, D)
    y : array_like
        Targets in the form ``loss`` expects, e.g. labels (N,) for the default.
    loss : str, default "softmax_cross_entropy"
        A key of ``nnkit.LOSSES``; it receives the model's output as prediction.
    h : float, default 1e-5
        Central-difference step.
    tol : float, default 1e-7
        The report is ``ok`` when every relative error is below it.
    max_entries : int, optional
        Check at most this many randomly chosen entries per parameter (all by default).
    rng : numpy.random.Generator, int or None
        Chooses the entries when ``max_entries`` is set.

    Returns
    -------
    GradcheckReport
    """
    loss_rec = get_loss(loss)
    params = model.parameters()
    low = [f"{k} ({p.dtype})" for k, p in params.items() if p.dtype != np.float64]
    if low:
        raise TypeError(
            "check_model_gradients: gradient checking needs float64 parameters, got "
            + ", ".join(low)
            + "; build the model with dtype=np.float64"
        )
    X = as_float_array(X, "check_model_gradients", "X", dtype=np.float64)

    out = model.forward(X)
    model.backward(loss_rec.grad(out, y))
    analytic = {k: np.array(g, dtype=np.float64) for k, g in model.gradients().items()}

    def objective(_):
        return loss_rec.fn(model.forward(X), y)

    gen = np.random.default_rng(rng)  # a Generator passes through unchanged
    checks, numeric = [], {}
    for name, p in params.items():
        num = np.full(p.shape, np.nan)
        if max_entries is None or max_entries >= p.size:
            num[...] = numerical_gradient(objective, p, h=h)
            flat = np.arange(p.size)
        else:
            flat = np.sort(gen.choice(p.size, size=max_entries, replace=False))
            for j in flat:
                i = np.unravel_index(j, p.shape)
                num[i] = _central_difference(objective, p, i, h)
        a = analytic[name].reshape(-1)[flat]
        n = num.reshape(-1)[flat]
        k = int(np.argmax(np.abs(a - n))) if flat.size else 0
        worst = tuple(int(i) for i in np.unravel_index(flat[k], p.shape)) if flat.size else ()
        checks.append(
            ParameterCheck(
                name=name,
                shape=tuple(p.shape),
                error=relative_error(a, n),
                worst_index=worst,
                analytic=float(a[k]) if flat.size else 0.0,
                numeric=float(n[k]) if flat.size else 0.0,
                n_checked=int(flat.size),
            )
        )
        numeric[name] = num
    return GradcheckReport(checks=checks, tol=tol, analytic=analytic, numeric=numeric)

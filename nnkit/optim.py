"""Gradient-descent optimisers and learning-rate schedules.

An optimiser updates a model's parameters in place from their gradients::

    opt = SGD(lr=0.1, momentum=0.9)
    model.forward(X)
    model.backward(dout)
    opt.step(model.parameters(), model.gradients())

``parameters()`` and ``gradients()`` are dicts with the same keys (``"0.W"``,
``"0.b"``, ...). Optimisers with memory (momentum, Adam) keep one state array
per parameter, keyed by that name, so one optimiser serves one model.

A schedule is a pure function ``lr(t)`` of the number ``t = 0, 1, 2, ...`` of
updates already taken. The functions below take ``t`` first, then their
hyperparameters as keywords, and accept an array of steps (handy for plotting).
To drive an optimiser, fix the hyperparameters with ``functools.partial``::

    from functools import partial
    opt = SGD(schedule=partial(inverse_time_decay, lr0=0.5, decay=0.01))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from ._checks import ShapeError

__all__ = [
    "SGD",
    "Adam",
    "Optimizer",
    "c_over_k",
    "constant",
    "exponential_decay",
    "inverse_time_decay",
    "step_decay",
]


# ---------------------------------------------------------------- schedules


def _steps(t, func: str):
    """Return ``t`` as a number or an array of non-negative steps."""
    arr = np.asarray(t)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{func}: argument 't' must be a step count, got dtype {arr.dtype}")
    if np.any(arr < 0):
        raise ValueError(f"{func}: argument 't' must be >= 0 (steps count from 0), got {t!r}")
    return arr if arr.ndim else arr.item()


def constant(t, *, lr0: float):
    """Constant learning rate, lr(t) = lr0.

    Parameters
    ----------
    t : int or ndarray of shape (T,)
        Number of updates already taken (0 for the first update).
    lr0 : float
        The learning rate.

    Returns
    -------
    float or ndarray of shape (T,)
    """
    t = _steps(t, "constant")
    return lr0 * np.ones_like(t, dtype=float) if np.ndim(t) else float(lr0)


def inverse_time_decay(t, *, lr0: float, decay: float):
    """Inverse-time decay, lr(t) = lr0 / (1 + decay * t).

    Decays like 1/t, so the steps sum to infinity while their squares do not:
    the Robbins-Monro conditions under which SGD converges.

    Parameters
    ----------
    t : int or ndarray of shape (T,)
        Number of updates already taken (0 for the first update).
    lr0 : float
        Learning rate at t = 0.
    decay : float
        How fast it falls: it halves at t = 1 / decay.

    Returns
    -------
    float or ndarray of shape (T,)
    """
    t = _steps(t, "inverse_time_decay")
    return lr0 / (1.0 + decay * t)


def c_over_k(t, *, C: float):
    """The classical stochastic-approximation rate, lr = C / k with k = t + 1.

    ``k`` is the 1-based index of the update, so the first update uses C.

    Parameters
    ----------
    t : int or ndarray of shape (T,)
        Number of updates already taken (0 for the first update).
    C : float
        The constant; the first learning rate.

    Returns
    -------
    float or ndarray of shape (T,)
    """
    t = _steps(t, "c_over_k")
    return C / (t + 1.0)


def step_decay(t, *, lr0: float, drop: float = 0.5, every: int = 10):
    """Piecewise-constant decay, lr(t) = lr0 * drop ** floor(t / every).

    Parameters
    ----------
    t : int or ndarray of shape (T,)
        Number of updates already taken (0 for the first update).
    lr0 : float
        Learning rate of the first ``every`` steps.
    drop : float
        Factor applied every ``every`` steps.
    every : int
        Length of each constant stretch, in steps.

    Returns
    -------
    float or ndarray of shape (T,)
    """
    t = _steps(t, "step_decay")
    if every < 1:
        raise ValueError(f"step_decay: argument 'every' must be >= 1, got {every}")
    return lr0 * drop ** np.floor_divide(t, every)


def exponential_decay(t, *, lr0: float, rate: float = 0.96, decay_steps: int = 1):
    """Smooth exponential decay, lr(t) = lr0 * rate ** (t / decay_steps).

    Parameters
    ----------
    t : int or ndarray of shape (T,)
        Number of updates already taken (0 for the first update).
    lr0 : float
        Learning rate at t = 0.
    rate : float
        Factor lost every ``decay_steps`` steps, in (0, 1].
    decay_steps : int
        Steps over which the rate is multiplied by ``rate``.

    Returns
    -------
    float or ndarray of shape (T,)
    """
    t = _steps(t, "exponential_decay")
    return lr0 * rate ** (t / decay_steps)


# --------------------------------------------------------------- optimisers


class Optimizer:
    """Base class: the step counter, the learning rate and the checks.

    Parameters
    ----------
    lr : float
        Learning rate, used when ``schedule`` is None.
    schedule : callable t -> float, optional
        Learning rate as a function of the number of updates already taken;
        overrides ``lr``.

    Attributes
    ----------
    t : int
        Number of updates taken so far.
    state : dict[str, dict[str, ndarray]]
        Per-parameter memory (velocity, moments), keyed by parameter name.
    """

    def __init__(self, lr: float = 0.01, schedule: Callable[[int], float] | None = None):
        if schedule is None and not lr > 0:
            raise ValueError(f"{type(self).__name__}: argument 'lr' must be > 0, got {lr}")
        self.base_lr = float(lr)
        self.schedule = schedule
        self.t = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}

    @property
    def lr(self) -> float:
        """The learning rate the next update will use."""
        return float(self.schedule(self.t)) if self.schedule is not None else self.base_lr

    def reset(self) -> None:
        """Forget the step count and all per-parameter state."""
        self.t = 0
        self.state.clear()

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place from ``grads`` (same keys, same shapes)."""
        name = f"{type(self).__name__}.step"
        if params.keys() != grads.keys():
            raise KeyError(
                f"{name}: 'params' and 'grads' must have the same keys, got "
                f"{sorted(params)} and {sorted(grads)}"
            )
        lr = self.lr
        for key, p in params.items():
            g = grads[key]
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(
                    f"{name}: parameter '{key}' must be a float ndarray updated in place"
                )
            if g.shape != p.shape:
                raise ShapeError(
                    f"{name}: gradient '{key}' must have the parameter's shape {p.shape}, "
                    f"got {g.shape}"
                )
            self._update(key, p, g, lr)
        self.t += 1

    def _update(self, key: str, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        raise NotImplementedError

    def _buffer(self, key: str, slot: str, like: np.ndarray) -> np.ndarray:
        """Return the state array ``slot`` of parameter ``key``, zero on first use."""
        slots = self.state.setdefault(key, {})
        if slot not in slots:
            slots[slot] = np.zeros_like(like)
        return slots[slot]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Plain:     w <- w - lr * g
    Momentum:  v <- beta * v - lr * g;   w <- w + v
    Nesterov:  v <- beta * v - lr * g;   w <- w + beta * v - lr * g

    The Nesterov line is the usual rewrite of "take the gradient at the
    look-ahead point w + beta * v" in terms of the stored iterate, so it needs
    no second forward pass.

    Parameters
    ----------
    lr : float
        Learning rate (ignored when ``schedule`` is given).
    momentum : float
        beta in [0, 1); 0 gives plain SGD.
    nesterov : bool
        Use Nesterov's accelerated gradient (needs momentum > 0).
    schedule : callable t -> float, optional
        Learning rate as a function of the number of updates already taken.
    """

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        schedule: Callable[[int], float] | None = None,
    ):
        super().__init__(lr, schedule)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD: argument 'momentum' must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0.0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _update(self, key, p, g, lr):
        if self.momentum == 0.0:
            p -= lr * g
            return
        v = self._buffer(key, "velocity", p)
        v *= self.momentum
        v -= lr * g
        if self.nesterov:
            p += self.momentum * v - lr * g
        else:
            p += v

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr:g}, momentum={self.momentum:g}, nesterov={self.nesterov})"


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015): momentum on g and a per-weight scale from g**2.

    m <- beta1 * m + (1 - beta1) * g
    s <- beta2 * s + (1 - beta2) * g**2
    w <- w - lr * m_hat / (sqrt(s_hat) + eps),
    with the bias corrections m_hat = m / (1 - beta1**t), s_hat = s / (1 - beta2**t)
    and t the 1-based index of the update.

    Parameters
    ----------
    lr : float
        Learning rate (ignored when ``schedule`` is given).
    beta1, beta2 : float
        Decay rates of the first and second moment averages, in [0, 1).
    eps : float
        Added to the denominator so a zero gradient history does not divide by 0.
    schedule : callable t -> float, optional
        Learning rate as a function of the number of updates already taken.
    """

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        schedule: Callable[[int], float] | None = None,
    ):
        super().__init__(lr, schedule)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Adam: argument '{name}' must be in [0, 1), got {beta}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self._scratch: dict[str, np.ndarray] = {}

    def _update(self, key, p, g, lr):
        m = self._buffer(key, "m", p)
        s = self._buffer(key, "s", p)
        # one scratch array per parameter instead of a temporary per operation
        work = self._scratch.get(key)
        if work is None or work.shape != p.shape or work.dtype != p.dtype:
            work = self._scratch[key] = np.empty_like(p)
        m *= self.beta1
        m += np.multiply(g, 1.0 - self.beta1, out=work)
        s *= self.beta2
        s += np.multiply(np.square(g, out=work), 1.0 - self.beta2, out=work)
        k = self.t + 1
        # m_hat / (sqrt(s_hat) + eps) with m_hat = m / c1 and s_hat = s / c2, as torch orders it
        c1, c2 = 1.0 - self.beta1**k, 1.0 - self.beta2**k
        step = np.sqrt(s, out=work)
        step /= math.sqrt(c2)
        step += self.eps
        np.divide(m, step, out=step)
        step *= lr / c1
        p -= step

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr:g}, beta1={self.beta1:g}, beta2={self.beta2:g}, eps={self.eps:g})"

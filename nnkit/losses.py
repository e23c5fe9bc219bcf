"""Loss functions, the softmax family, and their gradients.

Every loss ``f(pred, target) -> float`` is a mean over the batch and has a
partner ``f_grad(pred, target)`` returning ``d f / d pred`` with the shape of
``pred``. ``LOSSES`` maps each name to a :class:`Loss` record, and
``get_loss(name)`` looks one up; ``record.value_and_grad(pred, target)`` gives
both at once (fused into one pass for ``softmax_cross_entropy``).

Numerical stability is part of the contract: softmax subtracts the row max,
``log_softmax`` and ``logsumexp`` use the log-sum-exp trick, the ``*_logits``
losses never form ``log(sigmoid)`` or ``log(softmax)`` explicitly, and the
probability losses only take ``log`` where the target is nonzero, so a
probability of exactly 0 on a class the target rules out costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._checks import ShapeError, as_float_array, check_labels, check_same_shape

__all__ = [
    "LOSSES",
    "Loss",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "get_loss",
    "log_softmax",
    "logsumexp",
    "mse",
    "mse_grad",
    "one_hot",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_and_grad",
    "softmax_cross_entropy_grad",
]


def _special():
    """scipy.special, imported on first use, so that `import nnkit` stays fast."""
    from scipy import special

    return special


# ---------------------------------------------------------------- softmax family


def logsumexp(Z):
    """Row-wise log(sum_j exp(z_j)), computed as m + log(sum_j exp(z_j - m)) with m the row max.

    Parameters
    ----------
    Z : array_like, shape (N, C) or (C,)

    Returns
    -------
    ndarray, shape (N,), or a 0-d array for 1-D input
    """
    Z = as_float_array(Z, "logsumexp", "Z", ndim=(1, 2))
    m = Z.max(axis=-1, keepdims=True)
    # subtract the row max: exp(1000) overflows, exp(0) does not
    out = np.log(np.exp(Z - m).sum(axis=-1, keepdims=True)) + m
    return out[..., 0]


def softmax(Z):
    """Row-wise softmax, exp(z_i) / sum_j exp(z_j), shifted by the row max.

    Parameters
    ----------
    Z : array_like, shape (N, C) or (C,)
        Logits.

    Returns
    -------
    ndarray, shape of ``Z``
        Probabilities; every row sums to 1.
    """
    Z = as_float_array(Z, "softmax", "Z", ndim=(1, 2))
    # subtracting the row max changes nothing mathematically and keeps exp <= 1
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    E /= E.sum(axis=-1, keepdims=True)
    return E


def log_softmax(Z):
    """Row-wise log softmax, z_i - logsumexp(z).

    Finite for finite logits, even where ``softmax`` rounds to 0 and
    ``log(softmax(Z))`` would be ``-inf``.

    Parameters
    ----------
    Z : array_like, shape (N, C) or (C,)

    Returns
    -------
    ndarray, shape of ``Z``
    """
    Z = as_float_array(Z, "log_softmax", "Z", ndim=(1, 2))
    shifted = Z - Z.max(axis=-1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted


def one_hot(y, C: int, dtype=np.float64):
    """One-hot encoding: Y[n, c] = 1 if y[n] == c else 0.

    Parameters
    ----------
    y : array_like of int, shape (N,)
        Class labels in 0..C-1.
    C : int
        Number of classes.
    dtype : numpy dtype, default float64

    Returns
    -------
    ndarray, shape (N, C)
    """
    C = int(C)
    y = check_labels(y, "one_hot", "y", n_classes=C)
    Y = np.zeros((y.shape[0], C), dtype=dtype)
    Y[np.arange(y.shape[0]), y] = 1
    return Y


# ---------------------------------------------------------------- helpers


def _pred_target(pred, target, func: str, pred_name: str, target_name: str):
    """Validate a (prediction, target) pair of equal shape; the target takes pred's dtype."""
    pred = as_float_array(pred, func, pred_name)
    target = as_float_array(target, func, target_name, dtype=pred.dtype)
    check_same_shape(pred, target, func, pred_name, target_name)
    if pred.size == 0:
        raise ShapeError(f"{func}: argument '{pred_name}' is empty, got shape {pred.shape}")
    return pred, target


def _scores_and_targets(Z, y, func: str, z_name: str = "Z", y_name: str = "y"):
    """Validate scores (N, C) and targets given as labels (N,) or one-hot/soft (N, C).

    Returns ``(Z, Y, labels)`` with exactly one of ``Y`` and ``labels`` not None.
    """
    Z = as_float_array(Z, func, z_name, ndim=2)
    N, C = Z.shape
    if N == 0:
        raise ShapeError(f"{func}: argument '{z_name}' is empty, got shape {Z.shape}")
    y_arr = np.asarray(y)
    if y_arr.ndim == 2:
        Y = as_float_array(y_arr, func, y_name, dtype=Z.dtype)
        check_same_shape(Z, Y, func, z_name, y_name)
        return Z, Y, None
    labels = check_labels(y_arr, func, y_name, n_classes=C)
    if labels.shape[0] != N:
        raise ShapeError(
            f"{func}: argument '{y_name}' must have shape ({N},) to match '{z_name}' {Z.shape}, "
            f"got {labels.shape}"
        )
    return Z, None, labels


# ---------------------------------------------------------------- regression


def mse(pred, target) -> float:
    """Mean squared error, mean over all entries of (pred - target)^2.

    Same convention as ``torch.nn.functional.mse_loss``: no factor 1/2, and
    the mean runs over outputs as well as over the batch.

    Parameters
    ----------
    pred : array_like, shape (N,) or (N, K)
    target : array_like, shape of ``pred``

    Returns
    -------
    float
    """
    pred, target = _pred_target(pred, target, "mse", "pred", "target")
    diff = pred - target
    return float(np.vdot(diff, diff) / diff.size)


def mse_grad(pred, target):
    """Gradient of :func:`mse` w.r.t. ``pred``, 2 (pred - target) / size.

    Parameters
    ----------
    pred : array_like, shape (N,) or (N, K)
    target : array_like, shape of ``pred``

    Returns
    -------
    ndarray, shape of ``pred``
    """
    pred, target = _pred_target(pred, target, "mse_grad", "pred", "target")
    return (pred - target) * (2 / pred.size)


# ---------------------------------------------------------------- binary


def binary_cross_entropy(p, y) -> float:
    """Binary cross-entropy from probabilities, mean of -(y log p + (1 - y) log(1 - p)).

    ``0 log 0`` counts as 0, so ``p = 0`` where ``y = 0`` (or ``p = 1`` where
    ``y = 1``) is fine. A confident wrong answer (``p = 0`` where ``y = 1``)
    costs ``inf``; prefer :func:`binary_cross_entropy_with_logits`.

    Parameters
    ----------
    p : array_like, shape (N,) or (N, 1)
        Predicted probabilities of class 1, in [0, 1].
    y : array_like, shape of ``p``
        Targets in [0, 1] (usually 0 or 1).

    Returns
    -------
    float
    """
    p, y = _pred_target(p, y, "binary_cross_entropy", "p", "y")
    # xlogy(0, 0) = 0: a zero target contributes nothing, even where log is -inf
    total = _special().xlogy(y, p) + _special().xlogy(1 - y, 1 - p)
    return float(-total.sum() / p.size)


def binary_cross_entropy_grad(p, y):
    """Gradient of :func:`binary_cross_entropy` w.r.t. ``p``, (-y / p + (1 - y) / (1 - p)) / size.

    Terms whose target weight (``y`` or ``1 - y``) is 0 contribute 0.

    Parameters
    ----------
    p : array_like, shape (N,) or (N, 1)
    y : array_like, shape of ``p``

    Returns
    -------
    ndarray, shape of ``p``
    """
    p, y = _pred_target(p, y, "binary_cross_entropy_grad", "p", "y")
    q = 1 - y
    g = np.divide(q, 1 - p, out=np.zeros_like(p), where=q != 0)
    g -= np.divide(y, p, out=np.zeros_like(p), where=y != 0)
    g /= p.size
    return g


def binary_cross_entropy_with_logits(z, y) -> float:
    """Binary cross-entropy from logits, mean of log(1 + exp(z)) - y z.

    Equal to ``binary_cross_entropy(sigmoid(z), y)``, but computed as
    ``max(z, 0) - y z + log1p(exp(-|z|))``, which is finite for any finite ``z``.

    Parameters
    ----------
    z : array_like, shape (N,) or (N, 1)
        Logits of class 1.
    y : array_like, shape of ``z``
        Targets in [0, 1].

    Returns
    -------
    float
    """
    z, y = _pred_target(z, y, "binary_cross_entropy_with_logits", "z", "y")
    losses = np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))
    return float(losses.sum() / z.size)


def binary_cross_entropy_with_logits_grad(z, y):
    """Gradient of :func:`binary_cross_entropy_with_logits` w.r.t. ``z``, (sigmoid(z) - y) / size.

    Parameters
    ----------
    z : array_like, shape (N,) or (N, 1)
    y : array_like, shape of ``z``

    Returns
    -------
    ndarray, shape of ``z``
    """
    z, y = _pred_target(z, y, "binary_cross_entropy_with_logits_grad", "z", "y")
    g = _special().expit(z) - y
    g /= z.size
    return g


# ---------------------------------------------------------------- multiclass


def cross_entropy(P, Y) -> float:
    """Categorical cross-entropy from probabilities, mean over rows of -sum_c Y[n, c] log P[n, c].

    ``log`` is taken only where ``Y > 0``, so zeros in ``P`` on classes the
    target rules out are fine.

    Parameters
    ----------
    P : array_like, shape (N, C)
        Predicted probabilities, rows summing to 1.
    Y : array_like, shape (N, C), or (N,) integer labels
        One-hot (or soft) targets.

    Returns
    -------
    float
    """
    P, Y, labels = _scores_and_targets(P, Y, "cross_entropy", "P", "Y")
    if labels is not None:
        Y = one_hot(labels, P.shape[1], dtype=P.dtype)
    return float(-_special().xlogy(Y, P).sum() / P.shape[0])


def cross_entropy_grad(P, Y):
    """Gradient of :func:`cross_entropy` w.r.t. ``P``, -Y / (N P), and 0 where Y = 0.

    Parameters
    ----------
    P : array_like, shape (N, C)
    Y : array_like, shape (N, C), or (N,) integer labels

    Returns
    -------
    ndarray, shape (N, C)
    """
    P, Y, labels = _scores_and_targets(P, Y, "cross_entropy_grad", "P", "Y")
    if labels is not None:
        Y = one_hot(labels, P.shape[1], dtype=P.dtype)
    G = np.divide(Y, P, out=np.zeros_like(P), where=Y != 0)
    G *= -1 / P.shape[0]
    return G


def softmax_cross_entropy(Z, y) -> float:
    """Cross-entropy of softmax(Z), mean over rows of logsumexp(Z[n]) - sum_c Y[n, c] Z[n, c].

    The multiclass loss of the course's networks, computed from logits
    without forming ``log(softmax(Z))``, so it is finite for any finite logits.

    Parameters
    ----------
    Z : array_like, shape (N, C)
        Logits.
    y : array_like, shape (N,) integer labels in 0..C-1, or (N, C) one-hot (or soft) targets

    Returns
    -------
    float
    """
    Z, Y, labels = _scores_and_targets(Z, y, "softmax_cross_entropy")
    return _mean_cross_entropy(log_softmax(Z), Y, labels)


def softmax_cross_entropy_grad(Z, y):
    """Gradient of :func:`softmax_cross_entropy` w.r.t. ``Z``, (softmax(Z) - Y) / N.

    Parameters
    ----------
    Z : array_like, shape (N, C)
    y : array_like, shape (N,) integer labels, or (N, C) one-hot (or soft) targets

    Returns
    -------
    ndarray, shape (N, C)

    Notes
    -----
    For soft targets the formula assumes each row of ``Y`` sums to 1.
    """
    Z, Y, labels = _scores_and_targets(Z, y, "softmax_cross_entropy_grad")
    # softmax as exp(log softmax), to the bit what softmax_cross_entropy_and_grad returns
    L = log_softmax(Z)
    return _minus_targets_over_n(np.exp(L, out=L), Y, labels)


def softmax_cross_entropy_and_grad(Z, y) -> tuple[float, np.ndarray]:
    """:func:`softmax_cross_entropy` and its gradient (softmax(Z) - Y) / N, from one log-softmax.

    The fused form a training step uses: the loss needs log softmax(Z), the
    gradient softmax(Z) = exp(log softmax(Z)), so one pass over the row
    maxima and one (N, C) array serve both.

    Parameters
    ----------
    Z : array_like, shape (N, C)
        Logits.
    y : array_like, shape (N,) integer labels, or (N, C) one-hot (or soft) targets

    Returns
    -------
    loss : float
    dZ : ndarray, shape (N, C)
    """
    Z, Y, labels = _scores_and_targets(Z, y, "softmax_cross_entropy_and_grad")
    L = log_softmax(Z)
    loss = _mean_cross_entropy(L, Y, labels)
    return loss, _minus_targets_over_n(np.exp(L, out=L), Y, labels)


def _mean_cross_entropy(L, Y, labels) -> float:
    """-mean_n sum_c Y[n, c] L[n, c] for log-probabilities L (N, C), targets as Y or as labels."""
    N = L.shape[0]
    if labels is not None:
        return float(-L[np.arange(N), labels].sum() / N)
    return float(-np.vdot(Y, L) / N)


def _minus_targets_over_n(P, Y, labels):
    """(P - Y) / N, computed in place in the probabilities P (N, C), which the caller owns."""
    N = P.shape[0]
    if labels is not None:
        P[np.arange(N), labels] -= 1
    else:
        P -= Y
    P /= N
    return P


# ---------------------------------------------------------------- registry


@dataclass(frozen=True)
class Loss:
    """Registry record for a loss.

    Attributes
    ----------
    name : str
        Key in ``LOSSES``.
    fn : callable
        ``fn(pred, target) -> float``, a mean over the batch.
    grad : callable
        ``grad(pred, target) -> d fn / d pred``, shape of ``pred``.
    pred : str
        What the prediction is: ``"values"``, ``"probabilities"`` or ``"logits"``.
    targets : str
        What the target is: ``"values"`` (the prediction's shape) or ``"classes"``
        (integer labels (N,), or one-hot rows (N, C)).
    fused : callable or None
        ``fused(pred, target) -> (fn, grad)`` in one pass, for losses where the
        two share work; :meth:`value_and_grad` uses it.
    """

    name: str
    fn: Callable[..., float]
    grad: Callable[..., np.ndarray]
    pred: str
    targets: str = "values"
    fused: Callable[..., tuple[float, np.ndarray]] | None = None

    def __call__(self, pred, target) -> float:
        return self.fn(pred, target)

    def value_and_grad(self, pred, target) -> tuple[float, np.ndarray]:
        """The loss and its gradient w.r.t. ``pred``: ``(fn(pred, target), grad(pred, target))``.

        One pass through ``fused`` when the loss has it, two calls otherwise.
        """
        if self.fused is not None:
            return self.fused(pred, target)
        return self.fn(pred, target), self.grad(pred, target)


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in [
        Loss("mse", mse, mse_grad, "values"),
        Loss(
            "binary_cross_entropy", binary_cross_entropy, binary_cross_entropy_grad, "probabilities"
        ),
        Loss(
            "binary_cross_entropy_with_logits",
            binary_cross_entropy_with_logits,
            binary_cross_entropy_with_logits_grad,
            "logits",
        ),
        Loss("cross_entropy", cross_entropy, cross_entropy_grad, "probabilities", "classes"),
        Loss(
            "softmax_cross_entropy",
            softmax_cross_entropy,
            softmax_cross_entropy_grad,
            "logits",
            "classes",
            fused=softmax_cross_entropy_and_grad,
        ),
    ]
}


def get_loss(name: str | Loss) -> Loss:
    """Look up a loss record by name (a record is returned unchanged).

    Parameters
    ----------
    name : str or Loss
        One of ``LOSSES``' keys.

    Returns
    -------
    Loss

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    if isinstance(name, Loss):
        return name
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        known = ", ".join(repr(k) for k in LOSSES)
        raise ValueError(f"get_loss: unknown loss {name!r}; choose one of {known}") from None

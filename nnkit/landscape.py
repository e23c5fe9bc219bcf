"""Looking at a loss landscape: 1-D interpolations, 2-D slices, projected trajectories.

A network's loss is a function of all its parameters at once, theta in R^P.
We look at it along low-dimensional cuts through parameter space:

- the line theta(alpha) = (1 - alpha) theta0 + alpha theta1 between two
  parameter vectors (Goodfellow et al., 2015);
- the plane theta(a, b) = theta* + a d1 + b d2 spanned by two random
  directions around a point theta* (Li et al., 2018). Each direction is
  *filter normalised*: the part of d belonging to one neuron is rescaled to
  the norm of that neuron's weights, so a step of 1 changes every neuron by
  about its own size, whatever the scale of its layer.

Parameters are handled as one flat vector, the concatenation of the arrays of
``model.parameters()`` in their order (:func:`get_flat_params`). Every
function that moves the model puts its parameters back before returning.
"""

from __future__ import annotations

import numpy as np

from ._checks import ShapeError, as_float_array
from .train import check_dataset, loss_and_accuracy

__all__ = [
    "get_flat_params",
    "interpolate_1d",
    "pca_directions",
    "project_trajectory",
    "random_directions",
    "set_flat_params",
    "slice_2d",
]


def get_flat_params(model) -> np.ndarray:
    """All parameters as one new vector theta, in the order of ``model.parameters()``.

    Parameters
    ----------
    model : nnkit model

    Returns
    -------
    theta : ndarray of shape (P,)
        P is the total number of scalar parameters; a copy, not a view.
    """
    return np.concatenate([p.ravel() for p in model.parameters().values()])


def set_flat_params(model, theta) -> None:
    """Write the flat vector theta (P,) back into the model's parameter arrays, in place."""
    params = model.parameters()
    theta = as_float_array(theta, "set_flat_params", "theta", ndim=1)
    total = sum(p.size for p in params.values())
    if theta.shape != (total,):
        raise ShapeError(
            f"set_flat_params: argument 'theta' must have shape ({total},), got {theta.shape}"
        )
    start = 0
    for p in params.values():
        p[...] = theta[start : start + p.size].reshape(p.shape)
        start += p.size


class _Restore:
    """Context manager: remember a model's parameters, put them back on exit."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.theta = get_flat_params(self.model)
        return self.theta

    def __exit__(self, *exc):
        set_flat_params(self.model, self.theta)


def interpolate_1d(model, theta0, theta1, X, y, alphas, loss: str = "softmax_cross_entropy"):
    """Loss along the line theta(alpha) = (1 - alpha) theta0 + alpha theta1.

    alpha = 0 is theta0 and alpha = 1 is theta1; values outside [0, 1]
    extrapolate. The model's parameters are restored afterwards.

    Parameters
    ----------
    model : nnkit model
    theta0, theta1 : ndarray of shape (P,)
        Flat parameter vectors, e.g. at initialisation and after training.
    X : ndarray of shape (N, D)
    y : ndarray of shape (N,) labels, or targets for ``"mse"``
    alphas : array_like of shape (K,)
    loss : str, default "softmax_cross_entropy"
        A key of ``nnkit.LOSSES``.

    Returns
    -------
    losses : ndarray of shape (K,)
    """
    X, y = check_dataset(model, X, y, loss, "interpolate_1d")
    theta0 = _flat(theta0, model, "interpolate_1d", "theta0")
    theta1 = _flat(theta1, model, "interpolate_1d", "theta1")
    alphas = np.asarray(alphas, dtype=np.float64)
    losses = np.empty(alphas.shape)
    with _Restore(model):
        for k, alpha in enumerate(alphas):
            set_flat_params(model, (1.0 - alpha) * theta0 + alpha * theta1)
            losses[k] = loss_and_accuracy(model, X, y, loss)[0]
    return losses


def _flat(theta, model, func: str, name: str) -> np.ndarray:
    theta = as_float_array(theta, func, name, ndim=1)
    total = sum(p.size for p in model.parameters().values())
    if theta.shape != (total,):
        raise ShapeError(f"{func}: argument '{name}' must have shape ({total},), got {theta.shape}")
    return theta


def random_directions(
    model, rng=None, n: int = 2, filter_normalize: bool = True, ignore_biases=True
):
    """Random Gaussian directions in parameter space, filter normalised (Li et al., 2018).

    For a weight matrix W of shape (D, M), a filter is one neuron: column
    ``W[:, j]`` holds the weights into unit j (a row of torch's (M, D)
    ``weight``). Filter normalisation rescales each column of the random
    direction d to the norm of the same column of W::

        d[:, j] <- d[:, j] / ||d[:, j]|| * ||W[:, j]||

    Parameters
    ----------
    model : nnkit model
    rng : numpy.random.Generator or int, optional
    n : int
        Number of directions.
    filter_normalize : bool
        Rescale per filter as above; False leaves plain N(0, 1) entries.
    ignore_biases : bool
        Set the bias (1-D parameter) entries of the directions to 0, as Li
        et al. do; otherwise a bias vector is one filter, scaled to its norm.

    Returns
    -------
    list of n ndarrays of shape (P,)
        Flat, in the layout of :func:`get_flat_params`.
    """
    rng = np.random.default_rng(rng)
    directions = []
    for _ in range(n):
        parts = []
        for p in model.parameters().values():
            d = rng.standard_normal(p.shape)
            if p.ndim == 1 and ignore_biases:
                d[...] = 0.0
            elif filter_normalize:
                # axis 0 sums over a column's inputs for (D, M) weights; a bias is one filter
                axis = 0 if p.ndim >= 2 else None
                p_norm = np.linalg.norm(p, axis=axis, keepdims=True)
                d_norm = np.linalg.norm(d, axis=axis, keepdims=True)
                d *= p_norm / np.maximum(d_norm, np.finfo(np.float64).tiny)
            parts.append(d.ravel())
        directions.append(np.concatenate(parts))
    return directions


def slice_2d(
    model,
    X,
    y,
    d1,
    d2,
    extent=1.0,
    resolution: int = 21,
    theta=None,
    loss: str = "softmax_cross_entropy",
):
    """Loss on the plane theta + a d1 + b d2 over a grid of (a, b).

    Parameters
    ----------
    model : nnkit model
    X : ndarray of shape (N, D)
    y : ndarray of shape (N,) labels, or targets for ``"mse"``
    d1, d2 : ndarray of shape (P,)
        The two directions, e.g. from :func:`random_directions`.
    extent : float or (a_min, a_max, b_min, b_max)
        The square [-extent, extent]^2, or the given rectangle.
    resolution : int
        R, grid points per axis.
    theta : ndarray of shape (P,), optional
        Centre of the plane; default the model's current parameters.
    loss : str, default "softmax_cross_entropy"
        A key of ``nnkit.LOSSES``.

    Returns
    -------
    A, B : ndarray of shape (R, R)
        Grid coordinates, as from ``np.meshgrid(a, b)`` (a varies along columns).
    L : ndarray of shape (R, R)
        L[i, j] is the loss at theta + A[i, j] d1 + B[i, j] d2, ready for
        ``plt.contour(A, B, L)``.
    """
    X, y = check_dataset(model, X, y, loss, "slice_2d")
    d1 = _flat(d1, model, "slice_2d", "d1")
    d2 = _flat(d2, model, "slice_2d", "d2")
    if np.ndim(extent) == 0:
        extent = (-extent, extent, -extent, extent)
    a_min, a_max, b_min, b_max = (float(e) for e in extent)
    A, B = np.meshgrid(np.linspace(a_min, a_max, resolution), np.linspace(b_min, b_max, resolution))
    L = np.empty(A.shape)
    with _Restore(model) as current:
        centre = current if theta is None else _flat(theta, model, "slice_2d", "theta")
        for idx in np.ndindex(A.shape):
            set_flat_params(model, centre + A[idx] * d1 + B[idx] * d2)
            L[idx] = loss_and_accuracy(model, X, y, loss)[0]
    return A, B, L


def project_trajectory(thetas, theta_star, d1, d2):
    """Coordinates (a, b) of parameter vectors in the plane theta* + a d1 + b d2.

    Solves the least-squares problem min ||theta_t - theta* - a d1 - b d2||
    for every t, so d1 and d2 need not be orthogonal; a point of the plane
    gets its exact coordinates back, a point off the plane its orthogonal
    projection's.

    Parameters
    ----------
    thetas : array_like of shape (T, P)
        Flat parameters along a training run (one row per recorded step).
    theta_star : ndarray of shape (P,)
        Origin of the plane, usually the final parameters.
    d1, d2 : ndarray of shape (P,)

    Returns
    -------
    a, b : ndarray of shape (T,)
    """
    thetas = as_float_array(thetas, "project_trajectory", "thetas", ndim=2)
    P = thetas.shape[1]
    vectors = {}
    for name, v in (("theta_star", theta_star), ("d1", d1), ("d2", d2)):
        vectors[name] = as_float_array(v, "project_trajectory", name, ndim=1)
        if vectors[name].shape != (P,):
            raise ShapeError(
                f"project_trajectory: argument '{name}' must have shape ({P},) like the rows of "
                f"'thetas', got {vectors[name].shape}"
            )
    basis = np.column_stack([vectors["d1"], vectors["d2"]])
    coords, *_ = np.linalg.lstsq(basis, (thetas - vectors["theta_star"]).T, rcond=None)
    return coords[0], coords[1]


def pca_directions(thetas, theta_star):
    """The two principal directions of a trajectory's offsets theta_t - theta* (Li et al., 2018).

    Random directions in a huge space are nearly orthogonal to any
    trajectory, which then looks like a dot; the top two principal
    components of the offsets span the plane the trajectory moves most in.

    Parameters
    ----------
    thetas : array_like of shape (T, P)
    theta_star : ndarray of shape (P,)

    Returns
    -------
    d1, d2 : ndarray of shape (P,)
        Orthonormal.
    explained : ndarray of shape (2,)
        Fraction of the offsets' variance each direction explains.
    """
    thetas = as_float_array(thetas, "pca_directions", "thetas", ndim=2)
    offsets = thetas - np.asarray(theta_star)
    offsets = offsets - offsets.mean(axis=0)
    _, s, Vt = np.linalg.svd(offsets, full_matrices=False)
    if len(s) < 2:
        raise ValueError(f"pca_directions: need at least 2 recorded steps, got {len(thetas)}")
    variance = s**2
    return Vt[0], Vt[1], variance[:2] / max(variance.sum(), np.finfo(np.float64).tiny)

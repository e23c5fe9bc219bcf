"""Elementwise activation functions and their derivatives.

Every activation ``f`` comes with ``f_grad(z) = df/dz``, evaluated elementwise.
Both keep the shape of ``z``; float32 input stays float32, float64 stays
float64, and integer input becomes float64. ``ACTIVATIONS`` maps each name to an
:class:`ActivationFunction` record, so tests and layers can loop over all of them.
(The layer that applies one inside a network is ``nnkit.layers.Activation``.)

Derivatives at kinks follow the usual conventions (and the exercises):
``relu_grad(0) = 0``, ``leaky_relu_grad(0) = alpha``. ``step`` and ``sign`` are
flat almost everywhere: their ``_grad`` is 0 and their record says
``differentiable=False`` (the true derivative at 0 does not exist).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._checks import as_float_array

__all__ = [
    "ACTIVATIONS",
    "ActivationFunction",
    "gelu",
    "gelu_grad",
    "gelu_tanh",
    "gelu_tanh_grad",
    "get_activation",
    "leaky_relu",
    "leaky_relu_grad",
    "linear",
    "linear_grad",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "sign",
    "sign_grad",
    "step",
    "step_grad",
    "tanh",
    "tanh_grad",
]

# NOTE: constants are Python floats on purpose. NumPy treats Python scalars as
# "weak", so `c * z` keeps z's float32; an np.float64 constant would upcast it.
_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_A = 0.044715


def _special():
    """scipy.special, imported on first use, so that `import nnkit` stays fast."""
    from scipy import special

    return special


def linear(z):
    """Identity, f(z) = z.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
        A copy of ``z`` as a float array.
    """
    return as_float_array(z, "linear", "z").copy()


def linear_grad(z):
    """Derivative of the identity, f'(z) = 1.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
        Ones.
    """
    return np.ones_like(as_float_array(z, "linear_grad", "z"))


def step(z):
    """Heaviside step, f(z) = 1 if z >= 0 else 0 (the perceptron's threshold unit).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
        Zeros and ones.
    """
    z = as_float_array(z, "step", "z")
    return (z >= 0).astype(z.dtype)


def step_grad(z):
    """Derivative of the step, 0 for z != 0 (undefined at 0, where 0 is returned too).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
        Zeros: no gradient flows through a step, which is why the perceptron
        is not trained by backpropagation.
    """
    return np.zeros_like(as_float_array(z, "step_grad", "z"))


def sign(z):
    """Sign function, f(z) = -1, 0 or 1 for z < 0, z = 0, z > 0.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
    """
    return np.sign(as_float_array(z, "sign", "z"))


def sign_grad(z):
    """Derivative of the sign, 0 for z != 0 (undefined at 0, where 0 is returned too).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
        Zeros.
    """
    return np.zeros_like(as_float_array(z, "sign_grad", "z"))


def sigmoid(z):
    """Logistic sigmoid, f(z) = 1 / (1 + exp(-z)).

    Finite and warning-free for any finite ``z``: ``exp(-z)`` is never formed
    for large negative ``z``, where it would overflow.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
        Values in [0, 1].
    """
    # scipy's expit branches on the sign of z internally, so exp never overflows.
    return _special().expit(as_float_array(z, "sigmoid", "z"))


def sigmoid_grad(z):
    """Derivative of the sigmoid, f'(z) = f(z) (1 - f(z)).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
        Values in [0, 1/4].
    """
    s = _special().expit(as_float_array(z, "sigmoid_grad", "z"))
    return s * (1 - s)


def tanh(z):
    """Hyperbolic tangent, f(z) = (exp(z) - exp(-z)) / (exp(z) + exp(-z)).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
        Values in [-1, 1].
    """
    return np.tanh(as_float_array(z, "tanh", "z"))


def tanh_grad(z):
    """Derivative of tanh, f'(z) = 1 - tanh(z)^2.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
        Values in [0, 1].
    """
    t = np.tanh(as_float_array(z, "tanh_grad", "z"))
    return 1 - t * t


def relu(z):
    """Rectified linear unit, f(z) = max(0, z).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
    """
    return np.maximum(as_float_array(z, "relu", "z"), 0)


def relu_grad(z):
    """Derivative of ReLU, f'(z) = 1 if z > 0 else 0 (0 at the kink z = 0, as in torch).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
        Zeros and ones.
    """
    z = as_float_array(z, "relu_grad", "z")
    return (z > 0).astype(z.dtype)


def leaky_relu(z, alpha: float = 0.01):
    """Leaky ReLU, f(z) = z if z > 0 else alpha * z.

    Parameters
    ----------
    z : array_like, any shape
    alpha : float, default 0.01
        Slope for negative inputs (torch's ``negative_slope``).

    Returns
    -------
    ndarray, shape of ``z``
    """
    z = as_float_array(z, "leaky_relu", "z")
    return np.where(z > 0, z, float(alpha) * z)


def leaky_relu_grad(z, alpha: float = 0.01):
    """Derivative of leaky ReLU, f'(z) = 1 if z > 0 else alpha (alpha at z = 0, as in torch).

    Parameters
    ----------
    z : array_like, any shape
    alpha : float, default 0.01

    Returns
    -------
    ndarray, shape of ``z``
    """
    z = as_float_array(z, "leaky_relu_grad", "z")
    return np.where(z > 0, 1, float(alpha)).astype(z.dtype, copy=False)


def gelu(z):
    """Gaussian error linear unit, f(z) = z Phi(z) = z/2 (1 + erf(z / sqrt(2))), exact form.

    ``Phi`` is the standard normal CDF. :func:`gelu_tanh` is the cheaper
    approximation used by GPT-2 and by the exercises.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
    """
    z = as_float_array(z, "gelu", "z")
    return 0.5 * z * (1 + _special().erf(z / _SQRT_2))


def gelu_grad(z):
    """Derivative of the exact GELU, f'(z) = Phi(z) + z phi(z), phi the standard normal density.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
    """
    z = as_float_array(z, "gelu_grad", "z")
    return 0.5 * (1 + _special().erf(z / _SQRT_2)) + z * _INV_SQRT_2PI * np.exp(-0.5 * z * z)


def gelu_tanh(z):
    """Tanh approximation of GELU, f(z) = z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
    """
    z = as_float_array(z, "gelu_tanh", "z")
    return 0.5 * z * (1 + np.tanh(_GELU_C * (z + _GELU_A * z * z * z)))


def gelu_tanh_grad(z):
    """Derivative of the tanh GELU.

    With u = sqrt(2/pi) (z + 0.044715 z^3) and t = tanh(u),
    f'(z) = (1 + t)/2 + z/2 (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 z^2).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, shape of ``z``
    """
    z = as_float_array(z, "gelu_tanh_grad", "z")
    z2 = z * z
    t = np.tanh(_GELU_C * (z + _GELU_A * z2 * z))
    return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * _GELU_C * (1 + 3 * _GELU_A * z2)


@dataclass(frozen=True)
class ActivationFunction:
    """Registry record: an activation, its derivative, and whether it has a useful one.

    Attributes
    ----------
    name : str
        Key in ``ACTIVATIONS``.
    fn : callable
        ``fn(z) -> f(z)``, elementwise, shape preserved.
    grad : callable
        ``grad(z) -> f'(z)``, elementwise, shape preserved.
    differentiable : bool
        False for ``step`` and ``sign``: their derivative is 0 wherever it
        exists, so gradient descent cannot train through them.
    """

    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    differentiable: bool = True

    def __call__(self, z):
        return self.fn(z)


ACTIVATIONS: dict[str, ActivationFunction] = {
    a.name: a
    for a in [
        ActivationFunction("linear", linear, linear_grad),
        ActivationFunction("step", step, step_grad, differentiable=False),
        ActivationFunction("sign", sign, sign_grad, differentiable=False),
        ActivationFunction("sigmoid", sigmoid, sigmoid_grad),
        ActivationFunction("tanh", tanh, tanh_grad),
        ActivationFunction("relu", relu, relu_grad),
        ActivationFunction("leaky_relu", leaky_relu, leaky_relu_grad),
        ActivationFunction("gelu", gelu, gelu_grad),
        ActivationFunction("gelu_tanh", gelu_tanh, gelu_tanh_grad),
    ]
}


def get_activation(name: str | ActivationFunction) -> ActivationFunction:
    """Look up an activation record by name (a record is returned unchanged).

    Parameters
    ----------
    name : str or ActivationFunction
        One of ``ACTIVATIONS``' keys.

    Returns
    -------
    ActivationFunction

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    if isinstance(name, ActivationFunction):
        return name
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        known = ", ".join(repr(k) for k in ACTIVATIONS)
        raise ValueError(
            f"get_activation: unknown activation {name!r}; choose one of {known}"
        ) from None


def __getattr__(name):
    # NOTE: the record was called ``Activation`` until 0.1.0, like the layer ``nk.Activation``;
    # docs/nnkit.md documented the old name, so it still works, with a warning.
    if name == "Activation":
        warnings.warn(
            "nnkit.activations.Activation is now nnkit.activations.ActivationFunction "
            "(nk.Activation is the layer)",
            DeprecationWarning,
            stacklevel=2,
        )
        return ActivationFunction
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

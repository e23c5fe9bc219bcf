"""Layers: pure forward/backward function pairs and the thin classes built on them.

An op is a pair ``*_forward(...) -> (out, cache)`` and a backward that takes
the upstream gradient and what the cache holds: ``linear_backward(dZ, *cache)``
with ``cache = (X, W)``, ``activation_backward(dA, cache)``,
``softmax_cross_entropy_backward(*cache)`` with ``cache = (Z, y)``: the
signatures problem set 2 asks students to write. Backward never mutates its
input unless asked to (``inplace=True``). The classes ``Linear``,
``Activation``, ``Sequential`` and ``MLP`` only hold parameters and call the
pairs. They share the model protocol of ``docs/nnkit.md``:

- ``forward(X) -> out`` caches what backward needs on the object;
- ``backward(dout) -> dX`` fills the gradients;
- ``parameters()`` / ``gradients()`` return dicts of arrays under the same
  stable keys (``"0.W"``, ``"0.b"``, ``"2.W"``... for a ``Sequential``);
  optimisers update the arrays of ``parameters()`` in place.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import activations as _act
from ._checks import as_float_array, check_same_shape, check_shape
from .losses import (
    softmax,
    softmax_cross_entropy,
    softmax_cross_entropy_and_grad,
    softmax_cross_entropy_grad,
)

__all__ = [
    "INITS",
    "MLP",
    "Activation",
    "Dropout",
    "Layer",
    "Linear",
    "Sequential",
    "activation_backward",
    "activation_forward",
    "dropout_backward",
    "dropout_forward",
    "evaluation_mode",
    "he_init",
    "linear_backward",
    "linear_forward",
    "propagate_signals",
    "softmax_cross_entropy_backward",
    "softmax_cross_entropy_forward",
    "xavier_init",
]


def _float_dtype(dtype, func: str) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{func}: argument 'dtype' must be a floating dtype, got {dtype}")
    return dtype


# ---------------------------------------------------------------- initialisation


def he_init(n_in: int, n_out: int, rng=None, dtype=np.float64):
    """He (Kaiming) normal initialisation, W[i, j] ~ N(0, 2 / n_in).

    Keeps the variance of ReLU activations constant from layer to layer
    (He et al., 2015).

    Parameters
    ----------
    n_in, n_out : int
        Fan-in D and fan-out M.
    rng : numpy.random.Generator, int or None
        Source of randomness (an int is a seed).
    dtype : numpy dtype, default float64

    Returns
    -------
    ndarray, shape (n_in, n_out)
    """
    rng = np.random.default_rng(rng)
    # draw in float64 and cast, so a float32 model gets the same weights as a float64 one
    W = rng.standard_normal((int(n_in), int(n_out))) * math.sqrt(2.0 / n_in)
    return W.astype(_float_dtype(dtype, "he_init"), copy=False)


def xavier_init(n_in: int, n_out: int, rng=None, dtype=np.float64):
    """Xavier (Glorot) uniform initialisation, W[i, j] ~ U(-a, a) with a = sqrt(6 / (n_in + n_out)).

    Gives W the variance 2 / (n_in + n_out), a compromise between keeping
    forward activations and backward gradients at constant scale for tanh
    and sigmoid units (Glorot and Bengio, 2010).

    Parameters
    ----------
    n_in, n_out : int
        Fan-in D and fan-out M.
    rng : numpy.random.Generator, int or None
    dtype : numpy dtype, default float64

    Returns
    -------
    ndarray, shape (n_in, n_out)
    """
    rng = np.random.default_rng(rng)
    a = math.sqrt(6.0 / (n_in + n_out))
    W = rng.uniform(-a, a, size=(int(n_in), int(n_out)))
    return W.astype(_float_dtype(dtype, "xavier_init"), copy=False)


INITS = {"he": he_init, "xavier": xavier_init}


# ---------------------------------------------------------------- function pairs


def linear_forward(X, W, b):
    """Affine map of a batch, Z = X @ W + b.

    Parameters
    ----------
    X : array_like, shape (N, D)
    W : array_like, shape (D, M)
    b : array_like, shape (M,)

    Returns
    -------
    Z : ndarray, shape (N, M)
    cache : tuple
        ``(X, W)``, what :func:`linear_backward` needs: ``linear_backward(dZ, *cache)``.
    """
    X = as_float_array(X, "linear_forward", "X", ndim=2)
    W = as_float_array(W, "linear_forward", "W", ndim=2)
    b = as_float_array(b, "linear_forward", "b", ndim=1)
    check_shape(W, (X.shape[1], None), "linear_forward", "W")
    check_shape(b, (W.shape[1],), "linear_forward", "b")
    Z = X @ W
    Z += b  # in place: Z is ours, and one (N, M) temporary less
    return Z, (X, W)


def linear_backward(dZ, X, W, *, input_grad: bool = True):
    """Gradients of Z = X @ W + b: dX = dZ @ W^T, dW = X^T @ dZ, db = sum_n dZ[n].

    The bias is not needed: it was broadcast to every row, so its gradient is
    the sum of the rows of dZ.

    Parameters
    ----------
    dZ : array_like, shape (N, M)
        Upstream gradient dL/dZ.
    X : array_like, shape (N, D)
        The forward pass's input.
    W : array_like, shape (D, M)
        The forward pass's weights.
    input_grad : bool, default True
        When False, ``dX`` is not computed and None is returned in its place
        (the first layer of a network needs no input gradient).

    Returns
    -------
    dX : ndarray, shape (N, D), or None
    dW : ndarray, shape (D, M)
    db : ndarray, shape (M,)
    """
    dZ = as_float_array(dZ, "linear_backward", "dZ", ndim=2)
    X = as_float_array(X, "linear_backward", "X", ndim=2)
    W = as_float_array(W, "linear_backward", "W", ndim=2)
    check_shape(W, (X.shape[1], None), "linear_backward", "W")
    check_shape(dZ, (X.shape[0], W.shape[1]), "linear_backward", "dZ")
    dW = X.T @ dZ
    db = dZ.sum(axis=0)
    dX = dZ @ W.T if input_grad else None
    return dX, dW, db


class _FromOutput(NamedTuple):
    """An activation whose derivative is a function of its output A = f(Z)."""

    fn_in_place: Callable  # fn_in_place(Z) -> A = f(Z), written over Z
    grad: Callable  # grad(dA, A, out) -> dZ = dA * f'(Z), into `out` (None: a new array)


def _sigmoid_into(Z):
    from scipy.special import expit  # imported on first use, so that `import nnkit` stays fast

    return expit(Z, out=Z)


# For these, backward needs A only: no f(Z) recomputed, and Z may be overwritten by A.
_FROM_OUTPUT = {
    "relu": _FromOutput(
        lambda Z: np.maximum(Z, 0, out=Z),
        lambda dA, A, out: np.multiply(dA, A > 0, out=out),
    ),
    "sigmoid": _FromOutput(
        _sigmoid_into,
        lambda dA, A, out: np.multiply(dA, A * (1 - A), out=out),
    ),
    "tanh": _FromOutput(
        lambda Z: np.tanh(Z, out=Z),
        lambda dA, A, out: np.multiply(dA, 1 - A * A, out=out),
    ),
}


def _from_output(act) -> _FromOutput | None:
    # a custom record may reuse a built-in name with another function: only registry records count
    rule = _FROM_OUTPUT.get(act.name)
    return rule if rule is not None and _act.ACTIVATIONS.get(act.name) is act else None


def activation_forward(Z, name, *, inplace: bool = False):
    """Elementwise activation A = f(Z).

    Parameters
    ----------
    Z : array_like, any shape, usually (N, M)
    name : str or activations.ActivationFunction
        A key of ``nnkit.ACTIVATIONS`` (or a record).
    inplace : bool, default False
        For relu, sigmoid and tanh, whose derivative backward computes from A
        alone, write A over ``Z`` (one (N, M) array less; ``Z`` is then lost).
        Other activations ignore it.

    Returns
    -------
    A : ndarray, shape of ``Z``
    cache : tuple
        ``(Z, A, activation record)``, with ``Z`` None when it was overwritten.
    """
    act = _act.get_activation(name)
    Z = as_float_array(Z, "activation_forward", "Z")
    rule = _from_output(act) if inplace else None
    if rule is not None:
        return rule.fn_in_place(Z), (None, Z, act)
    A = act.fn(Z)
    return A, (Z, A, act)


def activation_backward(dA, cache, *, inplace: bool = False):
    """Chain rule through an elementwise activation, dZ = dA * f'(Z).

    Parameters
    ----------
    dA : array_like, shape of Z
        Upstream gradient dL/dA.
    cache : tuple
        From :func:`activation_forward`.
    inplace : bool, default False
        Write dZ over ``dA`` (for a caller that owns ``dA`` and needs it no more).

    Returns
    -------
    dZ : ndarray, shape of Z
    """
    Z, A, act = cache
    dA = as_float_array(dA, "activation_backward", "dA")
    check_same_shape(dA, A, "activation_backward", "dA", "Z")  # A has Z's shape, and Z may be gone
    out = dA if inplace else None
    rule = _from_output(act)
    if rule is not None:
        return rule.grad(dA, A, out)
    return np.multiply(dA, act.grad(Z), out=out)


def softmax_cross_entropy_forward(Z, y):
    """Mean softmax cross-entropy of logits, L = mean_n (logsumexp(Z[n]) - Z[n, y[n]]).

    The loss end of the op pairs; the same value as
    :func:`nnkit.losses.softmax_cross_entropy`.

    Parameters
    ----------
    Z : array_like, shape (N, C)
        Logits.
    y : array_like, shape (N,) integer labels, or (N, C) one-hot targets

    Returns
    -------
    loss : float
    cache : tuple
        ``(Z, y)``, what backward needs: ``softmax_cross_entropy_backward(*cache)``.
    """
    return softmax_cross_entropy(Z, y), (Z, y)


def softmax_cross_entropy_backward(Z, y):
    """Gradient of the mean softmax cross-entropy w.r.t. the logits, dZ = (softmax(Z) - Y) / N.

    Problem set 2's signature; the same values as
    :func:`nnkit.losses.softmax_cross_entropy_grad`. A training step that needs
    the loss too uses :func:`nnkit.losses.softmax_cross_entropy_and_grad`,
    which shares one log-softmax between them.

    Parameters
    ----------
    Z : array_like, shape (N, C)
        Logits.
    y : array_like, shape (N,) integer labels, or (N, C) one-hot targets

    Returns
    -------
    dZ : ndarray, shape (N, C)
    """
    return softmax_cross_entropy_grad(Z, y)


# ---------------------------------------------------------------- classes


class Layer:
    """Base of the model protocol: a layer without parameters.

    Subclasses override ``forward`` and ``backward``, and ``parameters`` /
    ``gradients`` when they have parameters.
    """

    def forward(self, X):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, dout, input_grad: bool = True):
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def parameters(self) -> dict[str, np.ndarray]:
        """The live parameter arrays by name (empty for a layer without parameters)."""
        return {}

    def gradients(self) -> dict[str, np.ndarray]:
        """The gradients of the last ``backward``, under the keys of ``parameters()``."""
        return {}

    def n_parameters(self) -> int:
        """Number of scalar parameters (weights plus biases)."""
        return sum(p.size for p in self.parameters().values())

    def __call__(self, X):
        return self.forward(X)


class _Classifier:
    """Classifier methods for a model whose ``forward`` returns logits (N, C)."""

    def predict_proba(self, X):
        """Class probabilities softmax(forward(X)), shape (N, C)."""
        return softmax(self.forward(X))

    def predict(self, X):
        """Predicted class indices argmax_c forward(X)[n, c], shape (N,)."""
        return np.argmax(self.forward(X), axis=1)

    def loss(self, X, y) -> float:
        """Mean softmax cross-entropy of forward(X) against labels ``y`` (N,) or one-hot (N, C)."""
        return softmax_cross_entropy(self.forward(X), y)

    def loss_and_gradients(self, X, y) -> tuple[float, dict[str, np.ndarray]]:
        """One forward and backward pass: the mean softmax cross-entropy and ``gradients()``.

        The training fast path: the gradient with respect to the input ``X``
        is not computed.

        Parameters
        ----------
        X : array_like, shape (N, D)
        y : array_like, shape (N,) integer labels, or (N, C) one-hot

        Returns
        -------
        loss : float
        grads : dict[str, ndarray]
        """
        loss, dZ = softmax_cross_entropy_and_grad(self.forward(X), y)
        self.backward(dZ, input_grad=False)
        return loss, self.gradients()


class Linear(_Classifier, Layer):
    """Fully connected layer Z = X @ W + b with W (n_in, n_out) and b (n_out,).

    Parameters
    ----------
    n_in, n_out : int
        Input width D and output width M.
    init : {"he", "xavier"} or callable, default "he"
        Weight initialiser ``init(n_in, n_out, rng=..., dtype=...)``; biases start at 0.
    rng : numpy.random.Generator, int or None
    dtype : numpy dtype, default float64
        Parameter dtype; forward casts its input to it.
    """

    def __init__(self, n_in: int, n_out: int, init="he", rng=None, dtype=np.float64):
        self.dtype = _float_dtype(dtype, "Linear")
        init_fn = INITS.get(init) if isinstance(init, str) else init
        if init_fn is None:
            raise ValueError(f"Linear: unknown init {init!r}; choose one of {', '.join(INITS)}")
        self.W = init_fn(n_in, n_out, rng=np.random.default_rng(rng), dtype=self.dtype)
        self.b = np.zeros(int(n_out), dtype=self.dtype)
        self.dW = None
        self.db = None
        self._cache = None

    @property
    def n_in(self) -> int:
        return self.W.shape[0]

    @property
    def n_out(self) -> int:
        return self.W.shape[1]

    def forward(self, X):
        """Z = X @ W + b for X (N, n_in); returns Z (N, n_out)."""
        X = as_float_array(X, "Linear.forward", "X", ndim=2, dtype=self.dtype)
        check_shape(X, (None, self.n_in), "Linear.forward", "X")
        Z, self._cache = linear_forward(X, self.W, self.b)
        return Z

    def backward(self, dZ, input_grad: bool = True):
        """Store dW (n_in, n_out) and db (n_out,); return dX (N, n_in) (None if not input_grad)."""
        if self._cache is None:
            raise RuntimeError("Linear.backward: call forward first")
        dX, self.dW, self.db = linear_backward(dZ, *self._cache, input_grad=input_grad)
        return dX

    def parameters(self) -> dict[str, np.ndarray]:
        return {"W": self.W, "b": self.b}

    def gradients(self) -> dict[str, np.ndarray]:
        if self.dW is None:
            raise RuntimeError("Linear.gradients: no gradients yet; call forward then backward")
        return {"W": self.dW, "b": self.db}

    def __repr__(self) -> str:
        return f"Linear({self.n_in}, {self.n_out}, dtype={self.dtype})"


class Activation(Layer):
    """Elementwise activation layer A = f(Z), no parameters (it applies an ``ActivationFunction``).

    Parameters
    ----------
    name : str or activations.ActivationFunction
        A key of ``nnkit.ACTIVATIONS``, e.g. ``"relu"``.
    """

    def __init__(self, name="relu"):
        self.activation = _act.get_activation(name)
        self._cache = None

    @property
    def name(self) -> str:
        return self.activation.name

    def forward(self, Z, *, inplace: bool = False):
        """A = f(Z), shape of Z; ``inplace=True`` may write A over Z, as in activation_forward."""
        A, self._cache = activation_forward(Z, self.activation, inplace=inplace)
        return A

    def backward(self, dA, input_grad: bool = True, *, inplace: bool = False):
        """dZ = dA * f'(Z), shape of Z (None if not input_grad); ``inplace=True``: over dA."""
        if self._cache is None:
            raise RuntimeError("Activation.backward: call forward first")
        if not input_grad:
            return None
        return activation_backward(dA, self._cache, inplace=inplace)

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


class Sequential(_Classifier, Layer):
    """A chain of layers, out = layers[-1](... layers[0](X)).

    Parameters
    ----------
    *layers : Layer
        The layers in order, given as arguments or as one list.

    Notes
    -----
    Parameter keys are ``"<index>.<name>"``, e.g. ``"0.W"``, ``"2.b"``.

    An :class:`Activation` right after a :class:`Linear` runs in place: forward
    writes A over the Linear's output Z, and backward writes dZ over the
    gradient dX the Linear returns. Both are new arrays that nothing else
    holds, so this saves a temporary per layer and changes no result.
    """

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = layers[0]
        self.layers = list(layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)

    def forward(self, X):
        """Run every layer in order; returns the last layer's output."""
        out = X
        for i, layer in enumerate(self.layers):
            if self._in_place_forward(i):
                out = layer.forward(out, inplace=True)
            else:
                out = layer.forward(out)
        return out

    def backward(self, dout, input_grad: bool = True):
        """Backpropagate ``dout`` through the layers in reverse; return dX (or None)."""
        for i in range(len(self.layers) - 1, 0, -1):
            if self._in_place_backward(i):
                dout = self.layers[i].backward(dout, inplace=True)
            else:
                dout = self.layers[i].backward(dout)
        if not self.layers:
            return dout
        # layers written against the plain protocol take no input_grad: only pass it when False
        first = self.layers[0]
        return first.backward(dout) if input_grad else first.backward(dout, input_grad=False)

    # Exact types only: a subclass may keep what these two hand over, or override
    # forward/backward without the inplace keyword.
    def _in_place_forward(self, i: int) -> bool:
        # a Linear's output Z is a new array the Linear does not keep: its activation may reuse it
        layers = self.layers
        return i > 0 and type(layers[i]) is Activation and type(layers[i - 1]) is Linear

    def _in_place_backward(self, i: int) -> bool:
        # likewise the input gradient dX a Linear returns, for the activation before it
        layers = self.layers
        return (
            i + 1 < len(layers) and type(layers[i]) is Activation and type(layers[i + 1]) is Linear
        )

    def parameters(self) -> dict[str, np.ndarray]:
        return {
            f"{i}.{name}": p
            for i, layer in enumerate(self.layers)
            for name, p in layer.parameters().items()
        }

    def gradients(self) -> dict[str, np.ndarray]:
        return {
            f"{i}.{name}": g
            for i, layer in enumerate(self.layers)
            for name, g in layer.gradients().items()
        }

    def copy(self):
        """An independent deep copy (parameters, gradients and caches)."""
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"{type(self).__name__}(\n{inner}\n)"


class MLP(Sequential):
    """Multilayer perceptron: Linear, activation, ..., Linear, ending in logits.

    ``MLP([D, H1, H2, C])`` is
    ``Sequential(Linear(D, H1), Activation, Linear(H1, H2), Activation, Linear(H2, C))``,
    with parameter keys ``"0.W", "0.b", "2.W", "2.b", "4.W", "4.b"``.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths ``[D, H, ..., C]``, at least two entries.
    activation : str, default "relu"
        Hidden activation, a key of ``nnkit.ACTIVATIONS``.
    init : {"he", "xavier"} or callable, default "he"
    rng : numpy.random.Generator, int or None
    dtype : numpy dtype, default float64
        float32 halves memory and roughly doubles speed; gradient checks need float64.
    """

    def __init__(self, sizes, activation="relu", init="he", rng=None, dtype=np.float64):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(
                "MLP: argument 'sizes' must list at least two positive widths [D, ..., C], "
                f"got {sizes}"
            )
        self.sizes = sizes
        self.activation = _act.get_activation(activation).name
        self.dtype = _float_dtype(dtype, "MLP")
        rng = np.random.default_rng(rng)
        layers = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            layers.append(Linear(n_in, n_out, init=init, rng=rng, dtype=self.dtype))
            if i < len(sizes) - 2:
                layers.append(Activation(activation))
        super().__init__(layers)

    def forward(self, X):
        """Logits (N, C) for inputs X (N, D)."""
        X = as_float_array(X, "MLP.forward", "X", ndim=2, dtype=self.dtype)
        check_shape(X, (None, self.sizes[0]), "MLP.forward", "X")
        return super().forward(X)

    def __repr__(self) -> str:
        return (
            f"MLP(sizes={self.sizes}, activation={self.activation!r}, dtype={self.dtype}, "
            f"n_parameters={self.n_parameters()})"
        )


# ---------------------------------------------------------------- dropout (lecture 09)
#
# Dropout is the one layer that behaves differently in training and at evaluation
# time. Layers with that difference carry a ``training`` attribute; ``evaluation_mode``
# switches every such layer of a model off for the duration of a ``with`` block,
# and ``nnkit.fit``/``evaluate``/``accuracy`` measure validation data inside it.


def dropout_forward(X, p, rng=None, training: bool = True, mask=None):
    """Inverted dropout, out = X * m / (1 - p) with m[n, j] ~ Bernoulli(1 - p) kept.

    Each entry is zeroed with probability ``p`` and the survivors are scaled by
    1 / (1 - p), so E[out] = X and evaluation needs no rescaling: at evaluation
    time (``training=False``) the layer is the identity.

    Parameters
    ----------
    X : array_like, any shape, usually (N, M)
    p : float in [0, 1)
        Probability of dropping an entry.
    rng : numpy.random.Generator, int or None
        Draws the mask (ignored when ``mask`` is given or when not training).
    training : bool, default True
        False makes the op the identity, out = X.
    mask : array_like of bool, shape of X, optional
        Entries to keep; drawn from ``rng`` when None (given, e.g., to compare
        with another library's mask).

    Returns
    -------
    out : ndarray, shape of X
    cache : ndarray of shape of X, or None
        The scaled mask m / (1 - p) (None at evaluation time), what
        :func:`dropout_backward` needs.
    """
    X = as_float_array(X, "dropout_forward", "X")
    p = float(p)
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout_forward: argument 'p' must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return X.copy(), None
    if mask is None:
        mask = np.random.default_rng(rng).random(X.shape) >= p
    else:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"dropout_forward: argument 'mask' must be boolean, got {mask.dtype}")
        check_same_shape(mask, X, "dropout_forward", "mask", "X")
    # the scale lives in the cached mask, so backward is a single product
    scaled_mask = mask.astype(X.dtype) / X.dtype.type(1.0 - p)
    return X * scaled_mask, scaled_mask


def dropout_backward(dout, cache):
    """Gradient of inverted dropout, dX = dout * m / (1 - p) (dX = dout at evaluation time).

    Parameters
    ----------
    dout : array_like, shape of X
        Upstream gradient dL/dout.
    cache : ndarray or None
        From :func:`dropout_forward`.

    Returns
    -------
    dX : ndarray, shape of X
    """
    dout = as_float_array(dout, "dropout_backward", "dout")
    if cache is None:
        return dout.copy()
    check_same_shape(dout, cache, "dropout_backward", "dout", "mask")
    return dout * cache


class Dropout(Layer):
    """Inverted dropout layer: zero each entry with probability p while training.

    Identity when ``training`` is False (see :func:`evaluation_mode`). No parameters.

    Parameters
    ----------
    p : float in [0, 1), default 0.5
        Drop probability.
    rng : numpy.random.Generator, int or None
        Source of the masks; a seed makes a training run reproducible.

    Attributes
    ----------
    training : bool
        True (the default) drops entries; False passes the input through.
    """

    def __init__(self, p: float = 0.5, rng=None):
        if not 0.0 <= float(p) < 1.0:
            raise ValueError(f"Dropout: argument 'p' must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = np.random.default_rng(rng)
        self.training = True
        self._cache = None
        self._called = False

    def forward(self, X):
        """out = X * m / (1 - p) while training, X otherwise; shape of X."""
        out, self._cache = dropout_forward(X, self.p, rng=self.rng, training=self.training)
        self._called = True
        return out

    def backward(self, dout, input_grad: bool = True):
        """dX = dout * m / (1 - p) with the mask of the last forward (None if not input_grad)."""
        if not self._called:
            raise RuntimeError("Dropout.backward: call forward first")
        return dropout_backward(dout, self._cache) if input_grad else None

    def __repr__(self) -> str:
        return f"Dropout(p={self.p:g})"


def _layers_of(model):
    """The model and, recursively, every layer it holds in ``.layers``."""
    yield model
    for layer in getattr(model, "layers", ()):
        yield from _layers_of(layer)


@contextlib.contextmanager
def evaluation_mode(model):
    """Context manager: every layer of ``model`` with a ``training`` flag runs in evaluation mode.

    Inside the block dropout layers are the identity; on leaving it each flag
    gets back the value it had.

    Parameters
    ----------
    model : nnkit model
        A layer, or a ``Sequential`` (searched recursively through ``.layers``).

    Examples
    --------
    >>> with nk.evaluation_mode(model):
    ...     accuracy = np.mean(model.predict(X) == y)
    """
    switched = [layer for layer in _layers_of(model) if hasattr(layer, "training")]
    before = [layer.training for layer in switched]
    try:
        for layer in switched:
            layer.training = False
        yield model
    finally:
        for layer, flag in zip(switched, before, strict=True):
            layer.training = flag


# ---------------------------------------------------------------- signal propagation (lecture 09)


def propagate_signals(X, weights, activation, dout):
    """Forward and backward signals of a deep bias-free network, layer by layer.

    Forward: Z_l = A_{l-1} @ W_l and A_l = f(Z_l), with A_0 = X; backward from
    dL/dA_L = ``dout``: dZ_l = dA_l * f'(Z_l) and dA_{l-1} = dZ_l @ W_l^T. Used
    to watch how initialisation scales the signals with depth.

    Parameters
    ----------
    X : array_like, shape (N, D)
    weights : sequence of L arrays, shapes (D, M_1), (M_1, M_2), ..., (M_{L-1}, M_L)
    activation : str
        A key of ``nnkit.ACTIVATIONS``.
    dout : array_like, shape (N, M_L)
        The upstream gradient dL/dA_L.

    Returns
    -------
    A : list of L ndarrays, shapes (N, M_l)
        The activations of layers 1..L.
    dZ : list of L ndarrays, shapes (N, M_l)
        The gradients dL/dZ_l of layers 1..L.
    """
    A = as_float_array(X, "propagate_signals", "X", ndim=2)
    dout = as_float_array(dout, "propagate_signals", "dout", ndim=2)
    activations, caches = [], []
    for i, W in enumerate(weights):
        W = as_float_array(W, "propagate_signals", f"weights[{i}]", ndim=2)
        check_shape(W, (A.shape[1], None), "propagate_signals", f"weights[{i}]")
        Z = A @ W
        A, cache = activation_forward(Z, activation)
        activations.append(A)
        caches.append((cache, W))
    check_shape(dout, A.shape, "propagate_signals", "dout")
    grads = []
    dA = dout
    for cache, W in reversed(caches):
        dZ = activation_backward(dA, cache)
        grads.append(dZ)
        dA = dZ @ W.T
    return activations, grads[::-1]

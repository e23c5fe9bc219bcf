"""The answer key: independent float64 answers to every graded function of the problem sets.

Only the judge loads this file (``nnkit.autograde.judge.load_answer_key``), from the
course directory, outside every sandbox: it is not part of the installed ``nnkit``,
no student kernel can import or read it, and test cells reach it as
``grading.reference`` only while the judge runs them. Grader tests import it from
``tests/`` the same way.
"""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import numpy as np

from nnkit.grading import numerical_gradient


def _ref_sigmoid(z):
    # exp(-log(1 + exp(-z))) is finite for every float and never warns
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=np.float64)))


def _ref_softmax(Z):
    Z = np.asarray(Z, dtype=np.float64)
    return np.exp(Z - np.logaddexp.reduce(Z, axis=1, keepdims=True))


def _ref_one_hot(y, C):
    return (np.asarray(y)[:, None] == np.arange(C)).astype(np.float64)


def _ref_gelu(z):
    z = np.asarray(z, dtype=np.float64)
    return 0.5 * z * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (z + 0.044715 * z**3)))


_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": _ref_sigmoid,
    "tanh": np.tanh,
    "gelu": _ref_gelu,
}


def _ref_mlp_forward(X, params, activation="relu"):
    A = _ACTIVATIONS[activation](X @ params["W1"] + params["b1"])
    return _ref_softmax(A @ params["W2"] + params["b2"])


def _ref_cross_entropy(P, Y):
    rows = np.arange(len(Y))
    return float(-np.mean(np.log(np.asarray(P, dtype=np.float64)[rows, np.argmax(Y, axis=1)])))


def _ref_softmax_cross_entropy_backward(Z, y):
    N, C = np.shape(Z)
    return (_ref_softmax(Z) - _ref_one_hot(y, C)) / N


def _ref_mlp_backward(X, y, params):
    """Loss and gradients of X -> linear -> ReLU -> linear -> softmax cross-entropy."""
    Z1 = X @ params["W1"] + params["b1"]
    A1 = np.maximum(Z1, 0.0)
    Z2 = A1 @ params["W2"] + params["b2"]
    log_p = Z2 - np.logaddexp.reduce(Z2, axis=1, keepdims=True)
    loss = float(-np.mean(log_p[np.arange(len(y)), y]))
    dZ2 = _ref_softmax_cross_entropy_backward(Z2, y)
    dZ1 = (dZ2 @ params["W2"].T) * (Z1 > 0)
    grads = {
        "W1": X.T @ dZ1,
        "b1": dZ1.sum(axis=0),
        "W2": A1.T @ dZ2,
        "b2": dZ2.sum(axis=0),
    }
    return loss, grads


def _ref_neuron_ridge_grads(w, b, x, y, lam):
    a = float(_ref_sigmoid(w * x + b))
    dL_dz = -(y - a) * a * (1.0 - a)
    return dL_dz * x + 2.0 * lam * w, dL_dz


def _ref_sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in params}


def _ref_momentum_step(params, grads, velocity, lr, beta):
    velocity = {k: beta * velocity[k] - lr * grads[k] for k in params}
    return {k: params[k] + velocity[k] for k in params}, velocity


def _ref_inverse_time_decay(lr0, decay, step):
    return lr0 / (1.0 + decay * step)


def _ref_minibatches(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        rows = order[start : start + batch_size]
        yield X[rows], y[rows]


def _ref_train_mlp(
    X,
    y,
    params,
    lr,
    epochs,
    batch_size,
    rng,
    beta=0.0,
    decay=0.0,
    *,
    backward=None,
    batches=None,
    step=None,
    rate=None,
):
    """Mini-batch SGD with momentum and inverse-time decay per step.

    ``backward``, ``batches``, ``step`` and ``rate`` stand for ``mlp_backward``,
    ``minibatches``, ``momentum_step`` and ``inverse_time_decay`` (default: the
    reference's own), so that a test can train with the student's own pieces.
    """
    backward = backward or _ref_mlp_backward
    batches = batches or _ref_minibatches
    step = step or _ref_momentum_step
    rate = rate or _ref_inverse_time_decay
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    losses, t = [], 0
    for _ in range(epochs):
        epoch_losses = []
        for X_batch, y_batch in batches(X, y, batch_size, rng):
            loss, grads = backward(X_batch, y_batch, params)
            params, velocity = step(params, grads, velocity, rate(lr, decay, t), beta)
            epoch_losses.append(loss)
            t += 1
        losses.append(float(np.mean(epoch_losses)))
    return params, losses


class _RefValue:
    """A scalar autodiff node that stores its local derivatives as numbers.

    Unlike the closures of lecture 05 (and of problem set 4's solution), each node keeps
    the partial derivatives of its data with respect to each parent, computed in the
    forward pass; ``backward`` multiplies them along the reversed topological order.
    Numbers are wrapped into leaf nodes; the exponent of ``**`` is not a node.
    """

    __slots__ = ("data", "grad", "_parents", "_local")

    def __init__(self, data, parents=(), local=()):
        self.data = float(data)
        self.grad = 0.0
        self._parents = parents
        self._local = local

    def __repr__(self) -> str:
        return f"reference Value(data={self.data!r}, grad={self.grad!r})"

    @staticmethod
    def _lift(x) -> _RefValue:
        return x if isinstance(x, _RefValue) else _RefValue(x)

    def __add__(self, other):
        other = self._lift(other)
        return _RefValue(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = self._lift(other)
        return _RefValue(self.data * other.data, (self, other), (other.data, self.data))

    def __sub__(self, other):
        other = self._lift(other)
        return _RefValue(self.data - other.data, (self, other), (1.0, -1.0))

    def __truediv__(self, other):
        other = self._lift(other)
        quotient = self.data / other.data
        return _RefValue(quotient, (self, other), (1.0 / other.data, -quotient / other.data))

    def __radd__(self, other):
        return self._lift(other) + self

    def __rmul__(self, other):
        return self._lift(other) * self

    def __rsub__(self, other):
        return self._lift(other) - self

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __neg__(self):
        return _RefValue(-self.data, (self,), (-1.0,))

    def __pow__(self, k):
        return _RefValue(self.data**k, (self,), (k * self.data ** (k - 1),))

    def exp(self):
        e = math.exp(self.data)
        return _RefValue(e, (self,), (e,))

    def tanh(self):
        t = math.tanh(self.data)
        return _RefValue(t, (self,), (1.0 - t * t,))

    def sigmoid(self):
        s = float(_ref_sigmoid(self.data))
        return _RefValue(s, (self,), (s * (1.0 - s),))

    def relu(self):
        return _RefValue(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,))

    def backward(self) -> None:
        self.grad = 1.0
        for node in reversed(_ref_topological_order(self)):
            for parent, local in zip(node._parents, node._local, strict=True):
                parent.grad += local * node.grad


def _ref_topological_order(root: _RefValue) -> list[_RefValue]:
    """Every node reachable from root, parents first: an iterative depth-first post-order."""
    order, seen = [], {id(root)}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, iter(parent._parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def _ref_ridge_grads_autograd(w, b, x, y, lam):
    w, b = _RefValue(w), _RefValue(b)
    loss = 0.5 * (y - (w * x + b).sigmoid()) ** 2 + lam * w**2
    loss.backward()
    return w.grad, b.grad


reference = SimpleNamespace(
    count_parameters=lambda sizes: sum((a + 1) * b for a, b in itertools.pairwise(sizes)),
    linear_forward=lambda X, W, b: X @ W + b,
    sigmoid=_ref_sigmoid,
    relu=_ACTIVATIONS["relu"],
    tanh=np.tanh,
    gelu=_ref_gelu,
    softmax=_ref_softmax,
    one_hot=_ref_one_hot,
    cross_entropy=_ref_cross_entropy,
    mlp_forward=_ref_mlp_forward,
    sigmoid_backward=lambda dA, Z: dA * _ref_sigmoid(Z) * _ref_sigmoid(-np.asarray(Z)),
    relu_backward=lambda dA, Z: np.where(np.asarray(Z) > 0, dA, 0.0),
    tanh_backward=lambda dA, Z: dA * (1.0 - np.tanh(Z) ** 2),
    linear_backward=lambda dZ, X, W: (dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)),
    softmax_cross_entropy_backward=_ref_softmax_cross_entropy_backward,
    mlp_backward=_ref_mlp_backward,
    numerical_gradient=numerical_gradient,
    neuron_ridge_grads=_ref_neuron_ridge_grads,
    sgd_step=_ref_sgd_step,
    momentum_step=_ref_momentum_step,
    inverse_time_decay=_ref_inverse_time_decay,
    minibatches=_ref_minibatches,
    train_mlp=_ref_train_mlp,
    Value=_RefValue,
    topological_order=_ref_topological_order,
    ridge_grads_autograd=_ref_ridge_grads_autograd,
)
"""Independent float64 answers to every graded function of the four problem sets."""

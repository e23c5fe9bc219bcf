"""Answers to problem set 1 (the forward pass): mistakes students make, and valid alternatives."""
# Student code on purpose (redefinitions, non-idiomatic numpy): the linter is off for this file.
# ruff: noqa

import math

import numpy as np

relu = sigmoid = tanh = gelu = softmax = linear_forward = None  # the notebook defines these


# %% wrong count_parameters: forgets the biases
def count_parameters(layer_sizes):
    return sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))


# %% wrong count_parameters: puts the bias on the input side, (n_in) * (n_out + 1)
def count_parameters(layer_sizes):
    return sum(a * (b + 1) for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))


# %% wrong count_parameters: written for exactly three layers
def count_parameters(layer_sizes):
    P, M, C = layer_sizes[0], layer_sizes[1], layer_sizes[2]
    return (P + 1) * M + (M + 1) * C


# %% wrong count_parameters: counts a bias for every layer, the input layer included
def count_parameters(layer_sizes):
    weights = sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
    return weights + sum(layer_sizes)


# %% right count_parameters: a loop over consecutive pairs
def count_parameters(layer_sizes):
    total = 0
    for i in range(1, len(layer_sizes)):
        total += layer_sizes[i - 1] * layer_sizes[i] + layer_sizes[i]
    return total


# %% right count_parameters: a numpy dot product (returns numpy.int64)
def count_parameters(layer_sizes):
    sizes = np.asarray(layer_sizes)
    return np.dot(sizes[:-1] + 1, sizes[1:])


# %% wrong linear_forward: forgets the bias
def linear_forward(X, W, b):
    return X @ W


# %% wrong linear_forward: multiplies by W transposed
def linear_forward(X, W, b):
    return X @ W.T + b


# %% wrong linear_forward: adds the bias down the columns
def linear_forward(X, W, b):
    return X @ W + b[:, None]


# %% wrong linear_forward: elementwise product instead of a matrix product
def linear_forward(X, W, b):
    return np.sum(X * W, axis=1, keepdims=True) + b


# %% right linear_forward: np.dot
def linear_forward(X, W, b):
    return np.dot(X, W) + b


# %% right linear_forward: einsum
def linear_forward(X, W, b):
    return np.einsum("nd,dm->nm", X, W) + b


# %% right linear_forward: one row at a time
def linear_forward(X, W, b):
    return np.array([x @ W + b for x in X])


# %% wrong sigmoid: the textbook formula, which overflows for z < -709
# hint: A stable sigmoid uses exp(-|z|)
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# %% wrong sigmoid: np.where over two unsafe branches (both are computed)
def sigmoid(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


# %% wrong sigmoid: stable, but the sign of the exponent is flipped
def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, e / (1 + e), 1 / (1 + e))


# %% wrong sigmoid: stable, but writes the result into the caller's array
def sigmoid(z):
    e = np.exp(-np.abs(z))
    positive = z >= 0
    z[positive] = 1 / (1 + e[positive])
    z[~positive] = e[~positive] / (1 + e[~positive])
    return z


# %% right sigmoid: through tanh
def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


# %% right sigmoid: exp(-log(1 + exp(-z))) with logaddexp
def sigmoid(z):
    return np.exp(-np.logaddexp(0, -z))


# %% right sigmoid: clip the input, then the textbook formula
def sigmoid(z):
    z = np.clip(z, -500, 500)
    return 1 / (1 + np.exp(-z))


# %% right sigmoid: masks into a fresh array
def sigmoid(z):
    out = np.empty_like(z, dtype=float)
    positive = z >= 0
    out[positive] = 1 / (1 + np.exp(-z[positive]))
    ez = np.exp(z[~positive])
    out[~positive] = ez / (1 + ez)
    return out


# %% wrong relu: np.max reduces instead of comparing elementwise
def relu(z):
    return np.max(z, 0)


# %% wrong relu: zeroes the caller's array in place
def relu(z):
    z[z < 0] = 0
    return z


# %% wrong relu: returns the mask
def relu(z):
    return (z > 0).astype(float)


# %% wrong relu: absolute value
def relu(z):
    return np.abs(z)


# %% right relu: multiply by the mask
def relu(z):
    return z * (z > 0)


# %% right relu: np.where
def relu(z):
    return np.where(z > 0, z, 0.0)


# %% right relu: (z + |z|) / 2
def relu(z):
    return (z + np.abs(z)) / 2


# %% wrong tanh: 2 * sigmoid(z) - 1, which is tanh(z / 2)
def tanh(z):
    return 2 / (1 + np.exp(-np.clip(z, -500, 500))) - 1


# %% wrong tanh: the exponential formula, which overflows for |z| > 709
def tanh(z):
    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))


# %% wrong tanh: sinh (the denominator is missing)
def tanh(z):
    return (np.exp(np.clip(z, -50, 50)) - np.exp(-np.clip(z, -50, 50))) / 2


# %% wrong tanh: the derivative 1 - tanh(z)**2
def tanh(z):
    return 1 - np.tanh(z) ** 2


# %% right tanh: 2 * sigmoid(2z) - 1 with a stable sigmoid
def tanh(z):
    e = np.exp(-np.abs(2 * z))
    s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return 2 * s - 1


# %% right tanh: odd symmetry with exp(-2|z|)
def tanh(z):
    e = np.exp(-2 * np.abs(z))
    return np.sign(z) * (1 - e) / (1 + e)


# %% wrong gelu: the exact erf form instead of the tanh approximation
import math


def gelu(z):
    erf = np.vectorize(math.erf)
    return 0.5 * z * (1 + erf(z / math.sqrt(2)))


# %% wrong gelu: sqrt(2 * pi) instead of sqrt(2 / pi)
def gelu(z):
    return 0.5 * z * (1 + np.tanh(np.sqrt(2 * np.pi) * (z + 0.044715 * z**3)))


# %% wrong gelu: the factor 0.5 is missing
def gelu(z):
    return z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z**3)))


# %% wrong gelu: z**2 instead of z**3
def gelu(z):
    return 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z**2)))


# %% wrong gelu: the sigmoid approximation z * sigmoid(1.702 z)
def gelu(z):
    return z * np.exp(-np.logaddexp(0, -1.702 * z))


# %% right gelu: written with a precomputed constant and z * z * z
import math


def gelu(z):
    c = math.sqrt(2 / math.pi)
    return z * 0.5 * (1.0 + np.tanh(c * (z + 0.044715 * z * z * z)))


# %% right gelu: 0.5 * (1 + tanh(u)) = sigmoid(2u), with a stable sigmoid
def gelu(z):
    u = np.sqrt(2 / np.pi) * (z + 0.044715 * np.power(z, 3))
    return z * np.exp(-np.logaddexp(0, -2 * u))


# %% wrong softmax: no shift, so exp overflows for large logits
def softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


# %% wrong softmax: normalises each column (axis=0)
# hint: normalise each row (axis=1)
def softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


# %% wrong softmax: shifts by the largest logit of the whole batch
def softmax(Z):
    E = np.exp(Z - Z.max())
    return E / E.sum(axis=1, keepdims=True)


# %% wrong softmax: forgets keepdims, so the row sums broadcast along the wrong axis
# hint: keep the summed axis with keepdims=True
def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1)


# %% wrong softmax: shifts the caller's array in place
def softmax(Z):
    Z -= Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


# %% wrong softmax: shifts by the row mean, which does not bound the exponent
def softmax(Z):
    E = np.exp(Z - Z.mean(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


# %% right softmax: log-sum-exp, then exp
def softmax(Z):
    m = Z.max(axis=1, keepdims=True)
    log_norm = m + np.log(np.exp(Z - m).sum(axis=1, keepdims=True))
    return np.exp(Z - log_norm)


# %% right softmax: one row at a time
def softmax(Z):
    rows = []
    for z in Z:
        e = np.exp(z - np.max(z))
        rows.append(e / np.sum(e))
    return np.array(rows)


# %% right softmax: axis=-1 and a reciprocal
def softmax(Z):
    E = np.exp(Z - np.amax(Z, axis=-1, keepdims=True))
    return E * (1.0 / np.sum(E, axis=-1, keepdims=True))


# %% wrong one_hot: takes the number of classes from the labels
def one_hot(y, C):
    return np.eye(np.max(y) + 1)[y]


# %% wrong one_hot: an int array
def one_hot(y, C):
    return np.eye(C, dtype=int)[y]


# %% wrong one_hot: transposed, (C, N)
def one_hot(y, C):
    return np.eye(C)[:, y]


# %% wrong one_hot: sets whole columns
def one_hot(y, C):
    Y = np.zeros((len(y), C))
    Y[:, y] = 1
    return Y


# %% right one_hot: rows of the identity
def one_hot(y, C):
    return np.eye(C)[y]


# %% right one_hot: broadcasting comparison
def one_hot(y, C):
    return (np.asarray(y)[:, None] == np.arange(C)).astype(np.float64)


# %% right one_hot: a loop
def one_hot(y, C):
    Y = np.zeros((len(y), C))
    for n, label in enumerate(y):
        Y[n, label] = 1.0
    return Y


# %% wrong cross_entropy: log of every probability, so log(0) and 0 * -inf = nan
def cross_entropy(P, Y):
    return -np.sum(Y * np.log(P)) / len(P)


# %% wrong cross_entropy: the sum over the batch
def cross_entropy(P, Y):
    return -np.sum(np.log(np.sum(P * Y, axis=1)))


# %% wrong cross_entropy: the mean over all N * C entries
def cross_entropy(P, Y):
    return -np.mean(Y * np.log(np.clip(P, 1e-15, 1.0)))


# %% wrong cross_entropy: the minus sign is missing
def cross_entropy(P, Y):
    return np.mean(np.log(np.sum(P * Y, axis=1)))


# %% wrong cross_entropy: log base 10
def cross_entropy(P, Y):
    return -np.mean(np.log10(np.sum(P * Y, axis=1)))


# %% wrong cross_entropy: one loss per row, not their mean
def cross_entropy(P, Y):
    return -np.log(np.sum(P * Y, axis=1))


# %% wrong cross_entropy: clips P to [1e-7, 1 - 1e-7] first, as lecture 3 mentions
# hint: np.clip(P, 1e-07, 1 - 1e-07) or np.log(P + 1e-07) changed the loss
def cross_entropy(P, Y):
    P = np.clip(P, 1e-7, 1 - 1e-7)
    return -np.mean(np.sum(Y * np.log(P), axis=1))


# %% wrong cross_entropy: np.log(P + 1e-12) against log(0)
# hint: np.log(P + 1e-12) changed the loss
def cross_entropy(P, Y):
    return float(-np.mean(np.sum(Y * np.log(P + 1e-12), axis=1)))


# %% wrong cross_entropy: clips the true-class probabilities to [1e-15, 1 - 1e-15]
# hint: np.clip(P, 1e-15, 1 - 1e-15)
def cross_entropy(P, Y):
    p_true = np.clip(np.sum(P * Y, axis=1), 1e-15, 1 - 1e-15)
    return float(-np.mean(np.log(p_true)))


# %% right cross_entropy: index the true class with argmax
def cross_entropy(P, Y):
    true_class = np.argmax(Y, axis=1)
    return float(-np.mean(np.log(P[np.arange(len(P)), true_class])))


# %% right cross_entropy: log only where Y is 1
def cross_entropy(P, Y):
    logs = np.log(P, out=np.zeros_like(P), where=Y > 0)
    return -np.sum(Y * logs) / P.shape[0]


# %% right cross_entropy: clip away exact zeros first
def cross_entropy(P, Y):
    return -np.mean(np.sum(Y * np.log(np.clip(P, 1e-300, 1.0)), axis=1))


# %% right cross_entropy: einsum picks each row's probability
def cross_entropy(P, Y):
    return -np.log(np.einsum("nc,nc->n", P, Y)).mean()


# %% wrong mlp_forward: returns the logits
def mlp_forward(X, params, activation="relu"):
    phi = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "gelu": gelu}[activation]
    A1 = phi(X @ params["W1"] + params["b1"])
    return A1 @ params["W2"] + params["b2"]


# %% wrong mlp_forward: always relu, whatever the activation argument says
def mlp_forward(X, params, activation="relu"):
    A1 = relu(X @ params["W1"] + params["b1"])
    return softmax(A1 @ params["W2"] + params["b2"])


# %% wrong mlp_forward: applies the activation to the output layer too
def mlp_forward(X, params, activation="relu"):
    phi = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "gelu": gelu}[activation]
    A1 = phi(X @ params["W1"] + params["b1"])
    return softmax(phi(A1 @ params["W2"] + params["b2"]))


# %% wrong mlp_forward: the hidden layer's bias is missing
# hint: the hidden layer's bias b1 is missing
def mlp_forward(X, params, activation="relu"):
    phi = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "gelu": gelu}[activation]
    A1 = phi(X @ params["W1"])
    return softmax(A1 @ params["W2"] + params["b2"])


# %% wrong mlp_forward: the output layer's bias is missing
# hint: the output layer's bias b2 is missing
def mlp_forward(X, params, activation="relu"):
    phi = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "gelu": gelu}[activation]
    return softmax(phi(X @ params["W1"] + params["b1"]) @ params["W2"])


# %% right mlp_forward: an if/elif chain and the student's linear_forward
def mlp_forward(X, params, activation="relu"):
    Z1 = linear_forward(X, params["W1"], params["b1"])
    if activation == "relu":
        A1 = relu(Z1)
    elif activation == "sigmoid":
        A1 = sigmoid(Z1)
    elif activation == "tanh":
        A1 = tanh(Z1)
    else:
        A1 = gelu(Z1)
    return softmax(linear_forward(A1, params["W2"], params["b2"]))


# %% right mlp_forward: the activation looked up by name among the globals
def mlp_forward(X, params, activation="relu"):
    A1 = globals()[activation](X @ params["W1"] + params["b1"])
    return softmax(A1 @ params["W2"] + params["b2"])

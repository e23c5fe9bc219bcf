"""Answers to problem set 2 (the backward pass): mistakes students make, and valid alternatives."""
# Student code on purpose (redefinitions, non-idiomatic numpy): the linter is off for this file.
# ruff: noqa

import numpy as np

# given by the notebook, or answers of this problem set
sigmoid = relu = softmax = one_hot = None
linear_backward = relu_backward = softmax_cross_entropy_backward = None


# %% wrong numerical_gradient: one-sided (forward) differences
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    f0 = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - f0) / h
        x[i] = old
    return grad


# %% wrong numerical_gradient: never puts the entry back
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        f_plus = f(x)
        x[i] -= 2 * h
        f_minus = f(x)
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


# %% wrong numerical_gradient: divides by h instead of 2h
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / h
    return grad


# %% wrong numerical_gradient: ignores the h argument
# hint: you ignored h
def numerical_gradient(f, x, h=1e-5):
    step = 1e-5
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + step
        f_plus = f(x)
        x[i] = old - step
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * step)
    return grad


# %% wrong numerical_gradient: loops over the first axis only
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in range(len(x)):
        old = x[i].copy()
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


# %% wrong numerical_gradient: perturbs one copy and never resets it
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    x_plus, x_minus = x.copy(), x.copy()
    for i in np.ndindex(x.shape):
        x_plus[i] += h
        x_minus[i] -= h
        grad[i] = (f(x_plus) - f(x_minus)) / (2 * h)
    return grad


# %% right numerical_gradient: fresh copies for every entry
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        x_plus = x.copy()
        x_minus = x.copy()
        x_plus[i] += h
        x_minus[i] -= h
        grad[i] = (f(x_plus) - f(x_minus)) / (2 * h)
    return grad


# %% right numerical_gradient: np.nditer with multi_index, restoring by += and -=
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        x[i] += h
        f_plus = f(x)
        x[i] -= 2 * h
        f_minus = f(x)
        x[i] += h
        grad[i] = (f_plus - f_minus) / (2 * h)
        it.iternext()
    return grad


# %% right numerical_gradient: flat indices on a float copy
def numerical_gradient(f, x, h=1e-5):
    point = x.astype(float)
    grad = np.zeros(point.size)
    flat = point.reshape(-1)
    for k in range(point.size):
        old = flat[k]
        flat[k] = old + h
        f_plus = f(point)
        flat[k] = old - h
        f_minus = f(point)
        flat[k] = old
        grad[k] = (f_plus - f_minus) / (2 * h)
    return grad.reshape(x.shape)


# %% wrong neuron_ridge_grads: the penalty's derivative taken as lam * w
def neuron_ridge_grads(w, b, x, y, lam):
    a = sigmoid(w * x + b)
    dz = -(y - a) * a * (1 - a)
    return float(dz * x + lam * w), float(dz)


# %% wrong neuron_ridge_grads: forgets the penalty
def neuron_ridge_grads(w, b, x, y, lam):
    a = sigmoid(w * x + b)
    dz = -(y - a) * a * (1 - a)
    return float(dz * x), float(dz)


# %% wrong neuron_ridge_grads: the minus sign of d/da (y - a)**2 is lost
def neuron_ridge_grads(w, b, x, y, lam):
    a = sigmoid(w * x + b)
    dz = (y - a) * a * (1 - a)
    return float(dz * x + 2 * lam * w), float(dz)


# %% wrong neuron_ridge_grads: penalises the bias as well
def neuron_ridge_grads(w, b, x, y, lam):
    a = sigmoid(w * x + b)
    dz = -(y - a) * a * (1 - a)
    return float(dz * x + 2 * lam * w), float(dz + 2 * lam * b)


# %% wrong neuron_ridge_grads: skips the sigmoid's derivative
def neuron_ridge_grads(w, b, x, y, lam):
    a = sigmoid(w * x + b)
    return float(-(y - a) * x + 2 * lam * w), float(-(y - a))


# %% wrong neuron_ridge_grads: the textbook sigmoid, which overflows for w*x + b < -709
# hint: A stable sigmoid uses exp(-|z|)
def neuron_ridge_grads(w, b, x, y, lam):
    a = 1 / (1 + np.exp(-(w * x + b)))
    dz = -(y - a) * a * (1 - a)
    return dz * x + 2 * lam * w, dz


# %% right neuron_ridge_grads: the chain rule one factor at a time
def neuron_ridge_grads(w, b, x, y, lam):
    z = w * x + b
    a = sigmoid(z)
    dL_da = a - y
    da_dz = a * (1 - a)
    dL_dz = dL_da * da_dz
    return dL_dz * x + 2 * lam * w, dL_dz


# %% right neuron_ridge_grads: sigmoid'(z) as sigmoid(z) * sigmoid(-z), returning numpy scalars
def neuron_ridge_grads(w, b, x, y, lam):
    z = np.float64(w * x + b)
    a = sigmoid(z)
    dz = (a - y) * sigmoid(z) * sigmoid(-z)
    return dz * x + 2.0 * lam * w, dz


# %% wrong sigmoid_backward: uses Z where sigmoid(Z) belongs
def sigmoid_backward(dA, Z):
    return dA * Z * (1 - Z)


# %% wrong sigmoid_backward: forgets the upstream gradient dA
def sigmoid_backward(dA, Z):
    s = sigmoid(Z)
    return s * (1 - s)


# %% wrong sigmoid_backward: the textbook sigmoid, which overflows for Z < -709
# hint: A stable sigmoid uses exp(-|z|)
def sigmoid_backward(dA, Z):
    s = 1 / (1 + np.exp(-Z))
    return dA * s * (1 - s)


# %% wrong sigmoid_backward: s instead of s * (1 - s)
def sigmoid_backward(dA, Z):
    return dA * sigmoid(Z)


# %% right sigmoid_backward: s * (1 - s) written as sigmoid(Z) * sigmoid(-Z)
def sigmoid_backward(dA, Z):
    return dA * sigmoid(Z) * sigmoid(-Z)


# %% right sigmoid_backward: sigmoid'(z) = (1 - tanh(z / 2)**2) / 4
def sigmoid_backward(dA, Z):
    return dA * 0.25 * (1 - np.tanh(Z / 2) ** 2)


# %% wrong relu_backward: derivative 1 at exactly Z = 0
def relu_backward(dA, Z):
    return dA * (Z >= 0)


# %% wrong relu_backward: returns the mask alone
def relu_backward(dA, Z):
    return (Z > 0).astype(float)


# %% wrong relu_backward: masks with the sign of dA
def relu_backward(dA, Z):
    return dA * (dA > 0)


# %% wrong relu_backward: zeroes the caller's dA in place
def relu_backward(dA, Z):
    dA[Z <= 0] = 0
    return dA


# %% wrong relu_backward: multiplies by Z
def relu_backward(dA, Z):
    return dA * np.maximum(Z, 0)


# %% right relu_backward: np.where
def relu_backward(dA, Z):
    return np.where(Z > 0, dA, 0.0)


# %% right relu_backward: np.heaviside with value 0 at 0
def relu_backward(dA, Z):
    return dA * np.heaviside(Z, 0.0)


# %% right relu_backward: zero a copy
def relu_backward(dA, Z):
    dZ = np.array(dA, dtype=float, copy=True)
    dZ[Z <= 0] = 0.0
    return dZ


# %% wrong tanh_backward: uses Z where tanh(Z) belongs
def tanh_backward(dA, Z):
    return dA * (1 - Z**2)


# %% wrong tanh_backward: (1 - tanh)**2 instead of 1 - tanh**2
def tanh_backward(dA, Z):
    return dA * (1 - np.tanh(Z)) ** 2


# %% wrong tanh_backward: forgets dA
def tanh_backward(dA, Z):
    return 1 - np.tanh(Z) ** 2


# %% wrong tanh_backward: 1 / cosh(Z)**2, which overflows for |Z| > 710
def tanh_backward(dA, Z):
    return dA / np.cosh(Z) ** 2


# %% right tanh_backward: (1 - t)(1 + t)
def tanh_backward(dA, Z):
    t = np.tanh(Z)
    return dA * (1 - t) * (1 + t)


# %% right tanh_backward: tanh'(z) = 4 sigmoid(2z) sigmoid(-2z)
def tanh_backward(dA, Z):
    return dA * 4 * sigmoid(2 * Z) * sigmoid(-2 * Z)


# %% wrong linear_backward: dW transposed, (M, D)
def linear_backward(dZ, X, W):
    return dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)


# %% wrong linear_backward: db averaged over the batch
def linear_backward(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, dZ.mean(axis=0)


# %% wrong linear_backward: no bias gradient (zeros)
def linear_backward(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, np.zeros(W.shape[1])


# %% wrong linear_backward: dX without the transpose of W
def linear_backward(dZ, X, W):
    return dZ @ W, X.T @ dZ, dZ.sum(axis=0)


# %% wrong linear_backward: db summed over the wrong axis
def linear_backward(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=1)


# %% wrong linear_backward: returns (dW, dX, db)
def linear_backward(dZ, X, W):
    return X.T @ dZ, dZ @ W.T, dZ.sum(axis=0)


# %% wrong linear_backward: db of shape (1, M), as with examples in columns (keepdims=True)
# hint: A sum or mean with keepdims=True keeps the axis it reduces
def linear_backward(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, np.sum(dZ, axis=0, keepdims=True)


# %% right linear_backward: einsum
def linear_backward(dZ, X, W):
    dX = np.einsum("nm,dm->nd", dZ, W)
    dW = np.einsum("nd,nm->dm", X, dZ)
    return dX, dW, np.einsum("nm->m", dZ)


# %% right linear_backward: a sum of outer products over the batch
def linear_backward(dZ, X, W):
    dW = np.zeros_like(W)
    for x_n, dz_n in zip(X, dZ):
        dW += np.outer(x_n, dz_n)
    return np.dot(dZ, W.T), dW, np.sum(dZ, axis=0)


# %% wrong softmax_cross_entropy_backward: forgets the 1/N of the mean
def softmax_cross_entropy_backward(Z, y):
    return softmax(Z) - one_hot(y, Z.shape[1])


# %% wrong softmax_cross_entropy_backward: the sign is flipped
def softmax_cross_entropy_backward(Z, y):
    return (one_hot(y, Z.shape[1]) - softmax(Z)) / len(y)


# %% wrong softmax_cross_entropy_backward: an unshifted softmax, which overflows
def softmax_cross_entropy_backward(Z, y):
    E = np.exp(Z)
    P = E / E.sum(axis=1, keepdims=True)
    return (P - one_hot(y, Z.shape[1])) / len(y)


# %% wrong softmax_cross_entropy_backward: softmax over the batch axis
def softmax_cross_entropy_backward(Z, y):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    P = E / E.sum(axis=0, keepdims=True)
    return (P - one_hot(y, Z.shape[1])) / len(y)


# %% wrong softmax_cross_entropy_backward: divides by the number of classes
def softmax_cross_entropy_backward(Z, y):
    N, C = Z.shape
    return (softmax(Z) - one_hot(y, C)) / C


# %% right softmax_cross_entropy_backward: subtract 1 at each true class
def softmax_cross_entropy_backward(Z, y):
    dZ = softmax(Z)
    dZ[np.arange(len(y)), y] -= 1
    return dZ / len(y)


# %% right softmax_cross_entropy_backward: exp of the log-softmax, identity rows
def softmax_cross_entropy_backward(Z, y):
    m = Z.max(axis=1, keepdims=True)
    log_p = Z - m - np.log(np.exp(Z - m).sum(axis=1, keepdims=True))
    return (np.exp(log_p) - np.eye(Z.shape[1])[y]) / Z.shape[0]


# %% wrong mlp_backward: no ReLU mask on the way back
def mlp_backward(X, y, params):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = relu(Z1)
    Z2 = A1 @ params["W2"] + params["b2"]
    P = softmax(Z2)
    loss = float(-np.mean(np.log(P[np.arange(len(y)), y])))
    dZ2 = softmax_cross_entropy_backward(Z2, y)
    dA1, dW2, db2 = linear_backward(dZ2, A1, params["W2"])
    _, dW1, db1 = linear_backward(dA1, X, params["W1"])
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


# %% wrong mlp_backward: dW2 as dZ2.T @ A1, transposed
def mlp_backward(X, y, params):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = relu(Z1)
    Z2 = A1 @ params["W2"] + params["b2"]
    P = softmax(Z2)
    loss = float(-np.mean(np.log(P[np.arange(len(y)), y])))
    dZ2 = softmax_cross_entropy_backward(Z2, y)
    dZ1 = relu_backward(dZ2 @ params["W2"].T, Z1)
    grads = {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": dZ2.T @ A1, "b2": dZ2.sum(axis=0)}
    return loss, grads


# %% wrong mlp_backward: the loss is summed over the batch
# hint: this is the sum over the batch
def mlp_backward(X, y, params):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = relu(Z1)
    Z2 = A1 @ params["W2"] + params["b2"]
    P = softmax(Z2)
    loss = float(-np.sum(np.log(P[np.arange(len(y)), y])))
    dZ2 = softmax_cross_entropy_backward(Z2, y)
    dA1, dW2, db2 = linear_backward(dZ2, A1, params["W2"])
    _, dW1, db1 = linear_backward(relu_backward(dA1, Z1), X, params["W1"])
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


# %% wrong mlp_backward: the 1/N is applied twice
def mlp_backward(X, y, params):
    N = len(y)
    Z1 = X @ params["W1"] + params["b1"]
    A1 = relu(Z1)
    Z2 = A1 @ params["W2"] + params["b2"]
    P = softmax(Z2)
    loss = float(-np.mean(np.log(P[np.arange(N), y])))
    dZ2 = softmax_cross_entropy_backward(Z2, y)
    dA1, dW2, db2 = linear_backward(dZ2, A1, params["W2"])
    _, dW1, db1 = linear_backward(relu_backward(dA1, Z1), X, params["W1"])
    return loss, {"W1": dW1 / N, "b1": db1 / N, "W2": dW2 / N, "b2": db2 / N}


# %% wrong mlp_backward: the ReLU mask from Z1 >= 0
# hint: mask with Z1 > 0
def mlp_backward(X, y, params):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = relu(Z1)
    Z2 = A1 @ params["W2"] + params["b2"]
    P = softmax(Z2)
    loss = float(-np.mean(np.log(P[np.arange(len(y)), y])))
    dZ2 = softmax_cross_entropy_backward(Z2, y)
    dA1, dW2, db2 = linear_backward(dZ2, A1, params["W2"])
    _, dW1, db1 = linear_backward(dA1 * (Z1 >= 0), X, params["W1"])
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


# %% wrong mlp_backward: the bias gradients are left at zero
def mlp_backward(X, y, params):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = relu(Z1)
    Z2 = A1 @ params["W2"] + params["b2"]
    P = softmax(Z2)
    loss = float(-np.mean(np.log(P[np.arange(len(y)), y])))
    dZ2 = softmax_cross_entropy_backward(Z2, y)
    dA1, dW2, _ = linear_backward(dZ2, A1, params["W2"])
    _, dW1, _ = linear_backward(relu_backward(dA1, Z1), X, params["W1"])
    grads = {
        "W1": dW1,
        "b1": np.zeros_like(params["b1"]),
        "W2": dW2,
        "b2": np.zeros_like(params["b2"]),
    }
    return loss, grads


# %% right mlp_backward: everything inline, loss by log-sum-exp
def mlp_backward(X, y, params):
    N = X.shape[0]
    Z1 = X @ params["W1"] + params["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = A1 @ params["W2"] + params["b2"]
    m = Z2.max(axis=1, keepdims=True)
    log_p = Z2 - m - np.log(np.exp(Z2 - m).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dZ2 = np.exp(log_p)
    dZ2[np.arange(N), y] -= 1
    dZ2 /= N
    dZ1 = (dZ2 @ params["W2"].T) * (Z1 > 0)
    return loss, {
        "W1": X.T @ dZ1,
        "b1": dZ1.sum(0),
        "W2": A1.T @ dZ2,
        "b2": dZ2.sum(0),
    }


# %% right mlp_backward: einsum and a dict built key by key
def mlp_backward(X, y, params):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    Z1 = np.einsum("nd,dh->nh", X, W1) + b1
    A1 = relu(Z1)
    P = softmax(np.einsum("nh,hc->nc", A1, W2) + b2)
    Y = one_hot(y, P.shape[1])
    loss = -np.sum(Y * np.log(np.where(Y > 0, P, 1.0))) / len(y)
    dZ2 = (P - Y) / len(y)
    dZ1 = np.einsum("nc,hc->nh", dZ2, W2) * (Z1 > 0)
    grads = {}
    grads["W2"] = np.einsum("nh,nc->hc", A1, dZ2)
    grads["b2"] = dZ2.sum(axis=0)
    grads["W1"] = np.einsum("nd,nh->dh", X, dZ1)
    grads["b1"] = dZ1.sum(axis=0)
    return loss, grads

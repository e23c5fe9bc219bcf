"""Answers to problem set 3 (training): mistakes students make, and valid alternatives."""
# Student code on purpose (redefinitions, non-idiomatic numpy): the linter is off for this file.
# ruff: noqa

import copy

import numpy as np

# answers of this problem set, defined by the notebook
mlp_backward = minibatches = momentum_step = inverse_time_decay = sgd_step = None


# %% wrong sgd_step: steps uphill, p + lr * g
def sgd_step(params, grads, lr):
    return {key: params[key] + lr * grads[key] for key in params}


# %% wrong sgd_step: only knows the network's four keys
def sgd_step(params, grads, lr):
    return {key: params[key] - lr * grads[key] for key in ("W1", "b1", "W2", "b2")}


# %% wrong sgd_step: scales the caller's gradients in place
def sgd_step(params, grads, lr):
    for key in params:
        grads[key] *= lr
    return {key: params[key] - grads[key] for key in params}


# %% wrong sgd_step: returns the step instead of the new parameters
def sgd_step(params, grads, lr):
    return {key: -lr * grads[key] for key in params}


# %% right sgd_step: updates params in place and returns them
def sgd_step(params, grads, lr):
    for key in params:
        params[key] -= lr * grads[key]
    return params


# %% right sgd_step: a deep copy, then a loop
import copy


def sgd_step(params, grads, lr):
    new = copy.deepcopy(params)
    for key, g in grads.items():
        new[key] = new[key] - lr * g
    return new


# %% wrong momentum_step: moves with the old velocity
def momentum_step(params, grads, velocity, lr, beta):
    new_params = {k: params[k] + velocity[k] for k in params}
    new_velocity = {k: beta * velocity[k] - lr * grads[k] for k in params}
    return new_params, new_velocity


# %% wrong momentum_step: keeps v = beta * v + lr * g (the negative of the contract's velocity)
def momentum_step(params, grads, velocity, lr, beta):
    velocity = {k: beta * velocity[k] + lr * grads[k] for k in params}
    return {k: params[k] - velocity[k] for k in params}, velocity


# %% wrong momentum_step: the learning rate is missing from the velocity
def momentum_step(params, grads, velocity, lr, beta):
    velocity = {k: beta * velocity[k] - grads[k] for k in params}
    return {k: params[k] + lr * velocity[k] for k in params}, velocity


# %% wrong momentum_step: returns the old velocity
def momentum_step(params, grads, velocity, lr, beta):
    new_velocity = {k: beta * velocity[k] - lr * grads[k] for k in params}
    return {k: params[k] + new_velocity[k] for k in params}, velocity


# %% wrong momentum_step: beta scales the gradient step too, v = beta * (v - lr * g)
def momentum_step(params, grads, velocity, lr, beta):
    velocity = {k: beta * (velocity[k] - lr * grads[k]) for k in params}
    return {k: params[k] + velocity[k] for k in params}, velocity


# %% right momentum_step: in place on both dicts
def momentum_step(params, grads, velocity, lr, beta):
    for k in params:
        velocity[k] *= beta
        velocity[k] -= lr * grads[k]
        params[k] += velocity[k]
    return params, velocity


# %% right momentum_step: a loop building new dicts
def momentum_step(params, grads, velocity, lr, beta):
    new_params, new_velocity = {}, {}
    for k, p in params.items():
        v = beta * velocity[k] - lr * grads[k]
        new_velocity[k] = v
        new_params[k] = p + v
    return new_params, new_velocity


# %% wrong inverse_time_decay: exponential decay lr0 / (1 + decay)**step
def inverse_time_decay(lr0, decay, step):
    return lr0 / (1 + decay) ** step


# %% wrong inverse_time_decay: linear decay lr0 * (1 - decay * step)
def inverse_time_decay(lr0, decay, step):
    return lr0 * (1 - decay * step)


# %% wrong inverse_time_decay: lr0 / (decay * step), infinite at step 0
def inverse_time_decay(lr0, decay, step):
    return lr0 / (decay * step)


# %% wrong inverse_time_decay: squares the denominator
def inverse_time_decay(lr0, decay, step):
    return lr0 / (1 + decay * step) ** 2


# %% wrong inverse_time_decay: exp(-decay * step)
def inverse_time_decay(lr0, decay, step):
    return lr0 * np.exp(-decay * step)


# %% right inverse_time_decay: numpy float, written the other way round
def inverse_time_decay(lr0, decay, step):
    return np.float64(lr0) * 1.0 / (decay * step + 1.0)


# %% right inverse_time_decay: as a Python float
def inverse_time_decay(lr0, decay, step):
    return float(lr0 / (1 + decay * step))


# %% wrong minibatches: never shuffles
def minibatches(X, y, batch_size, rng):
    for start in range(0, len(X), batch_size):
        yield X[start : start + batch_size], y[start : start + batch_size]


# %% wrong minibatches: shuffles X and y with two different permutations
def minibatches(X, y, batch_size, rng):
    X_shuffled = X[rng.permutation(len(X))]
    y_shuffled = y[rng.permutation(len(y))]
    for start in range(0, len(X), batch_size):
        yield X_shuffled[start : start + batch_size], y_shuffled[start : start + batch_size]


# %% wrong minibatches: drops the last, smaller batch
def minibatches(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for b in range(len(X) // batch_size):
        rows = order[b * batch_size : (b + 1) * batch_size]
        yield X[rows], y[rows]


# %% wrong minibatches: numpy's global generator instead of rng
def minibatches(X, y, batch_size, rng):
    order = np.random.permutation(len(X))
    for start in range(0, len(X), batch_size):
        rows = order[start : start + batch_size]
        yield X[rows], y[rows]


# %% wrong minibatches: shuffles the caller's arrays in place
def minibatches(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    X[:] = X[order]
    y[:] = y[order]
    for start in range(0, len(X), batch_size):
        yield X[start : start + batch_size], y[start : start + batch_size]


# %% wrong minibatches: samples rows with replacement
def minibatches(X, y, batch_size, rng):
    for start in range(0, len(X), batch_size):
        rows = rng.integers(0, len(X), size=min(batch_size, len(X) - start))
        yield X[rows], y[rows]


# %% wrong minibatches: a fixed seed inside, so every epoch repeats the same order
def minibatches(X, y, batch_size, rng):
    order = np.random.default_rng(0).permutation(len(X))
    for start in range(0, len(X), batch_size):
        rows = order[start : start + batch_size]
        yield X[rows], y[rows]


# %% wrong minibatches: np.array_split makes equal-ish batches, not batch_size rows
def minibatches(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for rows in np.array_split(order, int(np.ceil(len(X) / batch_size))):
        yield X[rows], y[rows]


# %% right minibatches: shuffle an index array in place, return a list
def minibatches(X, y, batch_size, rng):
    idx = np.arange(len(X))
    rng.shuffle(idx)
    return [
        (X[idx[i : i + batch_size]], y[idx[i : i + batch_size]])
        for i in range(0, len(X), batch_size)
    ]


# %% right minibatches: rng.choice without replacement, one shuffled copy of the data
def minibatches(X, y, batch_size, rng):
    order = rng.choice(len(X), size=len(X), replace=False)
    X_shuffled, y_shuffled = X[order], y[order]
    start = 0
    while start < len(X):
        yield X_shuffled[start : start + batch_size], y_shuffled[start : start + batch_size]
        start += batch_size


# %% wrong train_mlp: the learning rate decays per epoch instead of per step
def train_mlp(X, y, params, lr, epochs, batch_size, rng, beta=0.0, decay=0.0):
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    losses = []
    for epoch in range(epochs):
        batch_losses = []
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            loss, grads = mlp_backward(X_batch, y_batch, params)
            params, velocity = momentum_step(
                params, grads, velocity, inverse_time_decay(lr, decay, epoch), beta
            )
            batch_losses.append(loss)
        losses.append(np.mean(batch_losses))
    return params, losses


# %% wrong train_mlp: ignores beta (plain SGD)
def train_mlp(X, y, params, lr, epochs, batch_size, rng, beta=0.0, decay=0.0):
    losses, step = [], 0
    for _ in range(epochs):
        batch_losses = []
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            loss, grads = mlp_backward(X_batch, y_batch, params)
            params = sgd_step(params, grads, inverse_time_decay(lr, decay, step))
            batch_losses.append(loss)
            step += 1
        losses.append(np.mean(batch_losses))
    return params, losses


# %% wrong train_mlp: resets the velocity at every epoch
def train_mlp(X, y, params, lr, epochs, batch_size, rng, beta=0.0, decay=0.0):
    losses, step = [], 0
    for _ in range(epochs):
        velocity = {k: np.zeros_like(v) for k, v in params.items()}
        batch_losses = []
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            loss, grads = mlp_backward(X_batch, y_batch, params)
            params, velocity = momentum_step(
                params, grads, velocity, inverse_time_decay(lr, decay, step), beta
            )
            batch_losses.append(loss)
            step += 1
        losses.append(np.mean(batch_losses))
    return params, losses


# %% wrong train_mlp: records the last batch's loss, not the epoch's mean
def train_mlp(X, y, params, lr, epochs, batch_size, rng, beta=0.0, decay=0.0):
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    losses, step = [], 0
    for _ in range(epochs):
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            loss, grads = mlp_backward(X_batch, y_batch, params)
            params, velocity = momentum_step(
                params, grads, velocity, inverse_time_decay(lr, decay, step), beta
            )
            step += 1
        losses.append(loss)
    return params, losses


# %% wrong train_mlp: records the full-data loss after each epoch
def train_mlp(X, y, params, lr, epochs, batch_size, rng, beta=0.0, decay=0.0):
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    losses, step = [], 0
    for _ in range(epochs):
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            _, grads = mlp_backward(X_batch, y_batch, params)
            params, velocity = momentum_step(
                params, grads, velocity, inverse_time_decay(lr, decay, step), beta
            )
            step += 1
        losses.append(mlp_backward(X, y, params)[0])
    return params, losses


# %% wrong train_mlp: counts steps from 1
def train_mlp(X, y, params, lr, epochs, batch_size, rng, beta=0.0, decay=0.0):
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    losses, step = [], 0
    for _ in range(epochs):
        batch_losses = []
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            step += 1
            loss, grads = mlp_backward(X_batch, y_batch, params)
            params, velocity = momentum_step(
                params, grads, velocity, inverse_time_decay(lr, decay, step), beta
            )
            batch_losses.append(loss)
        losses.append(np.mean(batch_losses))
    return params, losses


# %% wrong train_mlp: a new generator every epoch instead of the one given
def train_mlp(X, y, params, lr, epochs, batch_size, rng, beta=0.0, decay=0.0):
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    losses, step = [], 0
    for epoch in range(epochs):
        batch_losses = []
        for X_batch, y_batch in minibatches(X, y, batch_size, np.random.default_rng(epoch)):
            loss, grads = mlp_backward(X_batch, y_batch, params)
            params, velocity = momentum_step(
                params, grads, velocity, inverse_time_decay(lr, decay, step), beta
            )
            batch_losses.append(loss)
            step += 1
        losses.append(np.mean(batch_losses))
    return params, losses


# %% wrong train_mlp: no shuffling, the rows in their order instead of minibatches
def train_mlp(X, y, params, lr, epochs, batch_size, rng, beta=0.0, decay=0.0):
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    losses, step = [], 0
    for _ in range(epochs):
        batch_losses = []
        for start in range(0, len(X), batch_size):
            X_batch, y_batch = X[start : start + batch_size], y[start : start + batch_size]
            loss, grads = mlp_backward(X_batch, y_batch, params)
            params, velocity = momentum_step(
                params, grads, velocity, inverse_time_decay(lr, decay, step), beta
            )
            batch_losses.append(loss)
            step += 1
        losses.append(np.mean(batch_losses))
    return params, losses


# %% wrong train_mlp: momentum applied wrongly, the new velocity is thrown away
def train_mlp(X, y, params, lr, epochs, batch_size, rng, beta=0.0, decay=0.0):
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    losses, step = [], 0
    for _ in range(epochs):
        batch_losses = []
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            loss, grads = mlp_backward(X_batch, y_batch, params)
            params, _ = momentum_step(
                params, grads, velocity, inverse_time_decay(lr, decay, step), beta
            )
            batch_losses.append(loss)
            step += 1
        losses.append(np.mean(batch_losses))
    return params, losses


# %% wrong train_mlp: the epoch's loss is the sum of its batch losses
def train_mlp(X, y, params, lr, epochs, batch_size, rng, beta=0.0, decay=0.0):
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    losses, step = [], 0
    for _ in range(epochs):
        total = 0.0
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            loss, grads = mlp_backward(X_batch, y_batch, params)
            params, velocity = momentum_step(
                params, grads, velocity, inverse_time_decay(lr, decay, step), beta
            )
            total += loss
            step += 1
        losses.append(total)
    return params, losses


# %% right train_mlp: the momentum update written inline
def train_mlp(X, y, params, lr, epochs, batch_size, rng, beta=0.0, decay=0.0):
    params = {k: v.copy() for k, v in params.items()}
    velocity = {k: np.zeros(v.shape) for k, v in params.items()}
    losses = []
    t = 0
    for _ in range(epochs):
        total, count = 0.0, 0
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            loss, grads = mlp_backward(X_batch, y_batch, params)
            rate = lr / (1 + decay * t)
            for k in params:
                velocity[k] = beta * velocity[k] - rate * grads[k]
                params[k] = params[k] + velocity[k]
            total += loss
            count += 1
            t += 1
        losses.append(total / count)
    return params, losses


# %% right train_mlp: plain SGD when beta is 0, and a batch-size weighted mean (equal batches in the tests)
def train_mlp(X, y, params, lr, epochs, batch_size, rng, beta=0.0, decay=0.0):
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    losses, step = [], 0
    for _ in range(epochs):
        weighted, rows = 0.0, 0
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            loss, grads = mlp_backward(X_batch, y_batch, params)
            rate = inverse_time_decay(lr, decay, step)
            if beta == 0:
                params = sgd_step(params, grads, rate)
            else:
                params, velocity = momentum_step(params, grads, velocity, rate, beta)
            weighted += loss * len(y_batch)
            rows += len(y_batch)
            step += 1
        losses.append(weighted / rows)
    return params, losses

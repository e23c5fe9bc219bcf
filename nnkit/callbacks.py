"""Ready-made callbacks for :func:`nnkit.fit`: regularisers and training diagnostics.

Each is a small class following the protocol of :class:`nnkit.train.Callback`
(lectures 09 and 10):

- :class:`WeightDecay` adds the gradient of (lam / 2) * sum ||W||^2 before each update;
- :class:`EarlyStopping` stops when the validation loss stops improving and
  restores the best weights;
- :class:`GradientNorms` and :class:`UpdateRatios` record, per parameter, the
  gradient norm ||dW|| and the relative update ||W_t - W_{t-1}|| / ||W_{t-1}||;
- :class:`LRRangeTest` raises the learning rate geometrically, one update at a
  time, and stops when the loss diverges.
"""

from __future__ import annotations

import math

import numpy as np

from .train import Callback, TrainState

__all__ = ["EarlyStopping", "GradientNorms", "LRRangeTest", "UpdateRatios", "WeightDecay"]


def _weight_keys(params: dict, which: str, func: str) -> list[str]:
    """Parameter keys a callback watches: "weights" (names ending in W) or "all"."""
    if which == "all":
        return list(params)
    if which == "weights":
        return [k for k in params if k.split(".")[-1] == "W"]
    raise ValueError(f"{func}: argument 'params' must be 'weights' or 'all', got {which!r}")


class WeightDecay(Callback):
    """L2 regularisation: adds lam * W to each weight gradient, the gradient of (lam / 2) ||W||^2.

    The update then minimises L(w) + (lam / 2) * sum_l ||W_l||^2 (biases are not
    penalised). With plain SGD this is w <- (1 - lr * lam) w - lr * g: every
    step shrinks the weights by a constant factor, hence "decay".

    Parameters
    ----------
    lam : float >= 0
        The penalty strength lambda.
    params : {"weights", "all"}, default "weights"
        Penalise the weight matrices only, or biases too.
    """

    def __init__(self, lam: float, params: str = "weights"):
        if not lam >= 0:
            raise ValueError(f"WeightDecay: argument 'lam' must be >= 0, got {lam}")
        self.lam = float(lam)
        self.params = params
        self._keys: list[str] = []

    def on_train_begin(self, state: TrainState) -> None:
        self._keys = _weight_keys(state.model.parameters(), self.params, "WeightDecay")

    def on_backward(self, state: TrainState) -> None:
        params = state.model.parameters()
        for key in self._keys:
            state.gradients[key] += self.lam * params[key]

    def __repr__(self) -> str:
        return f"WeightDecay(lam={self.lam:g})"


class EarlyStopping(Callback):
    """Stop once the validation loss has not improved for ``patience`` epochs; restore the best.

    Needs ``fit(..., X_val=..., y_val=...)``.

    Parameters
    ----------
    patience : int, default 10
        Epochs without a new best validation loss before stopping.
    min_delta : float, default 0.0
        An improvement must lower the best loss by more than this.
    restore_best : bool, default True
        At the end, copy the weights of the best epoch back into the model.

    Attributes
    ----------
    best_epoch : int
        Epoch (from 1) of the lowest validation loss.
    best_loss : float
        That loss.
    stopped_epoch : int or None
        The epoch at which training stopped, None if it ran to the end.
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0, restore_best: bool = True):
        if int(patience) < 1:
            raise ValueError(f"EarlyStopping: argument 'patience' must be >= 1, got {patience}")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.restore_best = bool(restore_best)
        self.best_epoch = 0
        self.best_loss = math.inf
        self.stopped_epoch: int | None = None
        self._best_params: dict[str, np.ndarray] = {}

    def on_train_begin(self, state: TrainState) -> None:
        self.best_epoch, self.best_loss, self.stopped_epoch = 0, math.inf, None
        self._best_params = {}

    def on_epoch_end(self, state: TrainState) -> None:
        if not state.history.val_loss:
            raise ValueError("EarlyStopping: needs a validation set, fit(..., X_val=, y_val=)")
        loss = state.history.val_loss[-1]
        if loss < self.best_loss - self.min_delta:
            self.best_epoch, self.best_loss = state.epoch, loss
            self._best_params = {k: p.copy() for k, p in state.model.parameters().items()}
        elif state.epoch - self.best_epoch >= self.patience:
            self.stopped_epoch = state.epoch
            state.stop = True

    def on_train_end(self, state: TrainState) -> None:
        if self.restore_best and self._best_params:
            for key, p in state.model.parameters().items():
                p[...] = self._best_params[key]

    def __repr__(self) -> str:
        return f"EarlyStopping(patience={self.patience}, best_epoch={self.best_epoch})"


class GradientNorms(Callback):
    """Record the Frobenius norm ||dW|| of each parameter's gradient after every ``every`` updates.

    Parameters
    ----------
    params : {"weights", "all"}, default "all"
        Which parameters to watch.
    every : int, default 1
        Record every this many updates.

    Attributes
    ----------
    steps : list of int
        The update counts recorded.
    norms : dict[str, list of float]
        Per parameter key, one norm per recorded step.
    """

    def __init__(self, params: str = "all", every: int = 1):
        self.params, self.every = params, max(1, int(every))
        self.steps: list[int] = []
        self.norms: dict[str, list[float]] = {}

    def on_train_begin(self, state: TrainState) -> None:
        keys = _weight_keys(state.model.parameters(), self.params, "GradientNorms")
        self.steps, self.norms = [], {k: [] for k in keys}

    def on_backward(self, state: TrainState) -> None:
        # measured before the update and before any callback listed later changes them
        if (state.step + 1) % self.every:
            return
        self.steps.append(state.step + 1)
        for key, values in self.norms.items():
            values.append(float(np.linalg.norm(state.gradients[key])))

    def as_array(self) -> np.ndarray:
        """The norms as an array of shape (n_recorded, n_params), columns in key order."""
        return np.array([self.norms[k] for k in self.norms]).T


class UpdateRatios(Callback):
    """Record ||W_t - W_{t-1}|| / ||W_{t-1}||, the size of each update relative to the weights.

    A healthy run with SGD sits near 1e-3; 1e-1 means the learning rate is too
    large, 1e-6 that the layer barely moves.

    Parameters
    ----------
    params : {"weights", "all"}, default "weights"
    every : int, default 1
        Record every this many updates (the copy of the weights is made only then).

    Attributes
    ----------
    steps : list of int
    ratios : dict[str, list of float]
        Per parameter key, one ratio per recorded step.
    """

    def __init__(self, params: str = "weights", every: int = 1):
        self.params, self.every = params, max(1, int(every))
        self.steps: list[int] = []
        self.ratios: dict[str, list[float]] = {}
        self._before: dict[str, np.ndarray] = {}

    def on_train_begin(self, state: TrainState) -> None:
        keys = _weight_keys(state.model.parameters(), self.params, "UpdateRatios")
        self.steps, self.ratios, self._before = [], {k: [] for k in keys}, {}

    def on_backward(self, state: TrainState) -> None:
        if (state.step + 1) % self.every == 0:
            params = state.model.parameters()
            self._before = {k: params[k].copy() for k in self.ratios}

    def on_step(self, state: TrainState) -> None:
        if not self._before:
            return
        params = state.model.parameters()
        self.steps.append(state.step)
        for key, values in self.ratios.items():
            before = self._before[key]
            values.append(
                float(np.linalg.norm(params[key] - before) / max(np.linalg.norm(before), 1e-300))
            )
        self._before = {}

    def as_array(self) -> np.ndarray:
        """The ratios as an array of shape (n_recorded, n_params), columns in key order."""
        return np.array([self.ratios[k] for k in self.ratios]).T


class LRRangeTest(Callback):
    """Learning-rate range test: lr_t = lr_min * (lr_max / lr_min)^(t / (steps - 1)), loss per step.

    Run ``fit`` for enough epochs to make ``steps`` updates; training stops
    after the last one, or as soon as the smoothed loss exceeds ``diverge``
    times its lowest value (Smith, 2017).

    Parameters
    ----------
    lr_min, lr_max : float
        First and last learning rate, 0 < lr_min < lr_max.
    steps : int, default 100
        Number of updates over the range.
    smoothing : float in [0, 1), default 0.9
        Exponential moving average of the batch losses, bias-corrected.
    diverge : float, default 4.0

    Attributes
    ----------
    lrs : list of float
        The learning rate of each update.
    losses : list of float
        The smoothed minibatch loss measured just before it.
    """

    def __init__(
        self,
        lr_min: float = 1e-4,
        lr_max: float = 10.0,
        steps: int = 100,
        smoothing: float = 0.9,
        diverge: float = 4.0,
    ):
        if not 0 < lr_min < lr_max:
            raise ValueError(
                f"LRRangeTest: need 0 < lr_min < lr_max, got lr_min={lr_min}, lr_max={lr_max}"
            )
        if int(steps) < 2:
            raise ValueError(f"LRRangeTest: argument 'steps' must be >= 2, got {steps}")
        self.lr_min, self.lr_max, self.steps = float(lr_min), float(lr_max), int(steps)
        self.smoothing, self.diverge = float(smoothing), float(diverge)
        self.lrs: list[float] = []
        self.losses: list[float] = []

    def _lr(self, t: int) -> float:
        return self.lr_min * (self.lr_max / self.lr_min) ** (t / (self.steps - 1))

    def on_train_begin(self, state: TrainState) -> None:
        self.lrs, self.losses, self._avg = [], [], 0.0
        state.optimizer.schedule = None
        state.optimizer.base_lr = self._lr(0)

    def on_step(self, state: TrainState) -> None:
        t = state.step - 1  # the update just taken
        self._avg = self.smoothing * self._avg + (1 - self.smoothing) * state.loss
        smoothed = self._avg / (1 - self.smoothing ** (t + 1))
        self.lrs.append(state.optimizer.base_lr)
        self.losses.append(smoothed)
        if (
            t + 1 >= self.steps
            or not np.isfinite(smoothed)
            or (smoothed > self.diverge * min(self.losses))
        ):
            state.stop = True
            return
        state.optimizer.base_lr = self._lr(t + 1)

    def suggestion(self) -> float:
        """A learning rate to train with: a tenth of the one with the lowest smoothed loss."""
        if not self.losses:
            raise RuntimeError("LRRangeTest.suggestion: run fit with this callback first")
        return self.lrs[int(np.nanargmin(self.losses))] / 10

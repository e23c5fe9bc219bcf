"""The training loop: minibatch gradient descent on any model of the nnkit protocol.

:func:`fit` repeats, for every epoch and every minibatch, forward, loss,
backward and ``optimizer.step(model.parameters(), model.gradients())``, and
returns a :class:`History` of per-epoch losses and accuracies. The progress bar
comes from ``tqdm.auto``: a widget in Jupyter (nothing written to stderr), a
text bar in a terminal; ``progress=False`` turns it off.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._checks import ShapeError, as_float_array, check_labels
from .layers import Layer, evaluation_mode
from .losses import get_loss
from .optim import SGD, Optimizer

__all__ = [
    "Callback",
    "History",
    "TrainState",
    "accuracy",
    "check_dataset",
    "evaluate",
    "fit",
    "loss_and_accuracy",
]


def check_dataset(
    model, X, y, loss: str = "softmax_cross_entropy", func: str = "check_dataset", names=("X", "y")
):
    """Validate a dataset for ``loss`` and cast it to the model's dtype, once and not per batch.

    Used by :func:`fit`, :func:`evaluate` and :mod:`nnkit.landscape`, which all
    take a dataset, check it once and then run the model on it many times.

    Parameters
    ----------
    model : nnkit model
        Its ``dtype`` attribute, when it has one, is the dtype X is cast to.
    X : array_like of shape (N, D)
    y : array_like
        Integer class labels (N,) for a loss on classes (``softmax_cross_entropy``,
        ``cross_entropy``); targets (N, K) otherwise, a 1-D target (N,) read as (N, 1).
    loss : str
        A key of ``nnkit.LOSSES``.
    func : str
        The public function to name in error messages.
    names : (str, str)
        The names of the X and y arguments in that function.

    Returns
    -------
    X : ndarray of shape (N, D)
    y : ndarray of shape (N,) int64 labels, or (N, K) targets of X's dtype
    """
    x_name, y_name = names
    record = get_loss(loss)
    X = as_float_array(X, func, x_name, ndim=2, dtype=getattr(model, "dtype", None))
    if record.targets == "classes":
        y = check_labels(y, func, y_name)
    else:
        y = as_float_array(y, func, y_name, ndim=(1, 2), dtype=X.dtype)
        if y.ndim == 1:
            y = y[:, None]  # a 1-D target is one output per row, like the model's (N, 1)
    if len(y) != len(X):
        raise ShapeError(
            f"{func}: arguments '{x_name}' and '{y_name}' must have the same number of rows, "
            f"got {X.shape} and {y.shape}"
        )
    return X, y


def loss_and_accuracy(model, X, y, loss: str = "softmax_cross_entropy"):
    """Mean loss and, for a loss on classes, accuracy of a checked dataset, from one forward pass.

    The model runs in evaluation mode (dropout off: the network that will be used).

    Parameters
    ----------
    model : nnkit model
    X, y : ndarray
        As returned by :func:`check_dataset` for the same ``loss``.
    loss : str
        A key of ``nnkit.LOSSES``.

    Returns
    -------
    loss : float
    accuracy : float in [0, 1], or None for a loss on values
    """
    record = get_loss(loss)
    with evaluation_mode(model):
        out = model.forward(X)
    value = record.fn(out, y)
    if record.targets != "classes":
        return value, None
    return value, float(np.mean(out.argmax(axis=1) == y))


def _backward(model, dout) -> None:
    # nnkit layers can skip the input gradient of the first layer: nobody needs dL/dX
    if isinstance(model, Layer):
        model.backward(dout, input_grad=False)
    else:
        model.backward(dout)


def evaluate(model, X, y, loss: str = "softmax_cross_entropy") -> float:
    """Mean loss of the model on a dataset, one forward pass, no gradients.

    Parameters
    ----------
    model : nnkit model
        Anything with ``forward(X) -> out``.
    X : array_like of shape (N, D)
    y : array_like of shape (N,) integer labels, or (N, K) / (N,) targets
    loss : str
        A key of ``nnkit.LOSSES``.

    Returns
    -------
    float
    """
    X, y = check_dataset(model, X, y, loss, "evaluate")
    return loss_and_accuracy(model, X, y, loss)[0]


def accuracy(model, X, y) -> float:
    """Fraction of rows whose predicted class is the label, mean_n 1[argmax_c out[n, c] = y[n]].

    Parameters
    ----------
    model : nnkit model
        Anything with ``forward(X) -> logits (N, C)``.
    X : array_like of shape (N, D)
    y : array_like of shape (N,), integer labels

    Returns
    -------
    float in [0, 1]
    """
    X, y = check_dataset(model, X, y, "softmax_cross_entropy", "accuracy")
    return loss_and_accuracy(model, X, y, "softmax_cross_entropy")[1]


@dataclass
class History:
    """Per-epoch record of a :func:`fit` run.

    ``train_loss`` and ``train_acc`` are means over the epoch's minibatches,
    measured while the weights were changing (as most libraries report them);
    ``val_loss`` and ``val_acc`` are measured on the validation set after the
    epoch. Accuracies stay empty for a loss on values (regression), validation
    lists without a validation set.

    Attributes
    ----------
    train_loss, val_loss, train_acc, val_acc : list of float
        One entry per epoch.
    epoch_time : list of float
        Seconds spent on each epoch, evaluation included.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.train_loss)

    @property
    def epochs(self) -> np.ndarray:
        """Epoch numbers 1, 2, ..., for the x axis."""
        return np.arange(1, len(self) + 1)

    def plot(self, ax=None, metric: str = "loss"):
        """Plot the training (and validation) curve of ``metric`` against the epoch.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Drawn into; a new figure is made when None.
        metric : {"loss", "acc"}

        Returns
        -------
        matplotlib Axes
        """
        from .plotting import get_ax

        if metric not in ("loss", "acc"):
            raise ValueError(
                f"History.plot: argument 'metric' must be 'loss' or 'acc', got {metric!r}"
            )
        train, val = getattr(self, f"train_{metric}"), getattr(self, f"val_{metric}")
        if not train:
            raise ValueError(
                f"History.plot: no {metric} recorded (accuracy exists for classification only)"
            )
        ax = get_ax(ax)
        ax.plot(self.epochs, train, marker=".", label="training")
        if val:
            ax.plot(self.epochs, val, marker=".", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy" if metric == "acc" else "loss")
        ax.set_title("Learning curve")
        ax.legend()
        return ax


def fit(
    model,
    X,
    y,
    *,
    loss: str = "softmax_cross_entropy",
    optimizer: Optimizer | None = None,
    epochs: int = 10,
    batch_size: int = 32,
    X_val=None,
    y_val=None,
    rng=None,
    progress: bool = True,
    callback: Callable | None = None,
    callbacks: Sequence[Callback] = (),
) -> History:
    """Train ``model`` by minibatch gradient descent; return the per-epoch :class:`History`.

    Each epoch shuffles the rows, then for every minibatch runs
    ``out = model.forward(X_b)``, the loss and its gradient ``dout``,
    ``model.backward(dout)`` and ``optimizer.step(model.parameters(), model.gradients())``.

    Parameters
    ----------
    model : nnkit model
        Follows the model protocol (``forward``, ``backward``, ``parameters``, ``gradients``).
    X : array_like of shape (N, D)
        Cast once to ``model.dtype`` when the model has one.
    y : array_like
        Integer labels of shape (N,) for a loss on classes (``"softmax_cross_entropy"``,
        ``"cross_entropy"``); targets of shape (N, K) (or (N,), read as (N, 1)) otherwise.
    loss : str, default "softmax_cross_entropy"
        A key of ``nnkit.LOSSES``: classification from logits, ``"mse"`` for
        regression, ``"binary_cross_entropy_with_logits"``...
    optimizer : Optimizer, optional
        Default ``SGD(lr=0.1)``. Its state carries over between ``fit`` calls.
    epochs : int
        Passes over the training set.
    batch_size : int
        Rows per minibatch; the last one of an epoch may be smaller.
    X_val, y_val : array_like, optional
        Validation set, evaluated after every epoch.
    rng : numpy.random.Generator or int, optional
        Source of the shuffling.
    progress : bool
        Show a progress bar over the epochs.
    callback : callable, optional
        Called as ``callback(epoch, model, history)`` after each epoch (epoch
        counts from 1), e.g. to record the weights.
    callbacks : sequence of Callback
        Objects with any of the methods of :class:`Callback`, called with the
        :class:`TrainState` at the start, after every backward pass, after every
        update, after every epoch and at the end; setting ``state.stop = True``
        ends training after the current update (or epoch).

    Returns
    -------
    History
    """
    from tqdm.auto import tqdm

    from .data import minibatches

    record = get_loss(loss)
    X, y = check_dataset(model, X, y, loss, "fit")
    has_val = X_val is not None or y_val is not None
    if has_val:
        if X_val is None or y_val is None:
            raise ValueError("fit: give both 'X_val' and 'y_val', or neither")
        X_val, y_val = check_dataset(model, X_val, y_val, loss, "fit", ("X_val", "y_val"))
    if epochs < 0:
        raise ValueError(f"fit: argument 'epochs' must be >= 0, got {epochs}")
    optimizer = SGD(lr=0.1) if optimizer is None else optimizer
    rng = np.random.default_rng(rng)
    classify = record.targets == "classes"
    history = History()
    # one callback passed on its own is a list of one
    callbacks = [callbacks] if isinstance(callbacks, Callback) else list(callbacks)
    state = TrainState(model=model, optimizer=optimizer, history=history)
    _notify(callbacks, "on_train_begin", state)

    bar = tqdm(range(1, epochs + 1), desc="fit", unit="epoch", disable=not progress, leave=True)
    for epoch in bar:
        start = time.perf_counter()
        state.epoch = epoch
        loss_sum, correct, seen = 0.0, 0, 0
        for X_b, y_b in minibatches(X, y, batch_size, rng=rng):
            out = model.forward(X_b)
            batch_loss, dout = record.value_and_grad(out, y_b)
            if classify:
                correct += int(np.count_nonzero(out.argmax(axis=1) == y_b))
            _backward(model, dout)
            grads = model.gradients()
            if callbacks:
                state.X_batch, state.y_batch, state.loss = X_b, y_b, batch_loss
                state.gradients = grads
                _notify(callbacks, "on_backward", state)  # may change the gradients in place
            optimizer.step(model.parameters(), grads)
            loss_sum += batch_loss * len(X_b)
            seen += len(X_b)
            state.step += 1
            if callbacks:
                _notify(callbacks, "on_step", state)
                if state.stop:
                    break
        # a stopped epoch is averaged over the rows it saw
        history.train_loss.append(loss_sum / seen if seen else float("nan"))
        if classify:
            history.train_acc.append(correct / seen if seen else float("nan"))
        if has_val:
            val_loss, val_acc = loss_and_accuracy(model, X_val, y_val, loss)
            history.val_loss.append(val_loss)
            if classify:
                history.val_acc.append(val_acc)
        history.epoch_time.append(time.perf_counter() - start)
        if progress:
            bar.set_postfix(_postfix(history), refresh=False)
        if callback is not None:
            callback(epoch, model, history)
        _notify(callbacks, "on_epoch_end", state)
        if state.stop:
            break
    bar.close()
    _notify(callbacks, "on_train_end", state)
    return history


def _postfix(history: History) -> dict[str, str]:
    shown = {"loss": history.train_loss}
    if history.val_loss:
        shown["val_loss"] = history.val_loss
    if history.val_acc:
        shown["val_acc"] = history.val_acc
    elif history.train_acc:
        shown["acc"] = history.train_acc
    return {name: f"{values[-1]:.4g}" for name, values in shown.items()}


# ---------------------------------------------------------------- callbacks (lecture 10)


@dataclass
class TrainState:
    """What :func:`fit` shows its callbacks; one object, updated as training goes.

    Attributes
    ----------
    model : nnkit model
        The model being trained (its parameters are live).
    optimizer : Optimizer
        The optimiser; a callback may change ``optimizer.base_lr``.
    history : History
        The per-epoch record so far.
    epoch : int
        The current epoch, counting from 1 (0 before the first).
    step : int
        Updates taken so far (0 before the first).
    X_batch : ndarray of shape (B, D), or None
        The current minibatch (None before the first).
    y_batch : ndarray of shape (B,) or (B, K), or None
        Its targets.
    loss : float
        The minibatch loss, measured before the update (nan before the first).
    gradients : dict[str, ndarray]
        The minibatch gradients under the keys of ``model.parameters()``;
        ``on_backward`` may change them in place before the update uses them.
    stop : bool
        Set it to True to end training after the current update (or epoch).
    """

    model: object
    optimizer: Optimizer
    history: History
    epoch: int = 0
    step: int = 0
    X_batch: np.ndarray | None = None
    y_batch: np.ndarray | None = None
    loss: float = float("nan")
    gradients: dict = field(default_factory=dict)
    stop: bool = False


class Callback:
    """Base of the callback protocol of :func:`fit`: every method is optional and does nothing.

    ``fit(..., callbacks=[...])`` calls, with the one :class:`TrainState`:

    - ``on_train_begin(state)`` once, before the first minibatch;
    - ``on_backward(state)`` after each backward pass, before the update
      (``state.gradients`` may be changed in place: weight decay, clipping);
    - ``on_step(state)`` after each update (``state.step`` already counts it);
    - ``on_epoch_end(state)`` after each epoch, once ``state.history`` has its entries;
    - ``on_train_end(state)`` once, at the end (also after a stop).

    Any object with some of these methods works; subclassing is optional.
    """

    def on_train_begin(self, state: TrainState) -> None:
        pass

    def on_backward(self, state: TrainState) -> None:
        pass

    def on_step(self, state: TrainState) -> None:
        pass

    def on_epoch_end(self, state: TrainState) -> None:
        pass

    def on_train_end(self, state: TrainState) -> None:
        pass


def _notify(callbacks, event: str, state: TrainState) -> None:
    for callback in callbacks:
        method = getattr(callback, event, None)
        if method is not None:
            method(state)

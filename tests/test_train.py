"""The training loop: equality with a hand-written loop, learning, History, progress output."""

import nbformat
import numpy as np
import pytest
from matplotlib.figure import Figure
from nbclient import NotebookClient

import nnkit as nk
from nnkit import train
from nnkit.layers import softmax_cross_entropy_backward, softmax_cross_entropy_forward


def test_fit_equals_hand_written_loop():
    """fit is shuffle, then forward, loss, backward, step per batch: same rng, same weights."""
    X, y = nk.spirals(n_samples=90, rng=0)
    ours = nk.MLP([2, 8, 3], rng=1)
    reference = ours.copy()
    history = nk.fit(
        ours,
        X,
        y,
        optimizer=nk.SGD(0.2, momentum=0.5),
        epochs=3,
        batch_size=16,
        rng=2,
        progress=False,
    )

    opt = nk.SGD(0.2, momentum=0.5)
    rng = np.random.default_rng(2)
    for epoch in range(3):
        losses, sizes = [], []
        for X_b, y_b in nk.minibatches(X, y, 16, rng=rng):
            loss, cache = softmax_cross_entropy_forward(reference.forward(X_b), y_b)
            reference.backward(softmax_cross_entropy_backward(cache))
            opt.step(reference.parameters(), reference.gradients())
            losses.append(loss)
            sizes.append(len(y_b))
        assert history.train_loss[epoch] == pytest.approx(
            np.average(losses, weights=sizes), rel=1e-12
        )
    for key, p in ours.parameters().items():
        np.testing.assert_allclose(p, reference.parameters()[key], rtol=1e-12, atol=1e-14)


def test_fit_learns_a_classifier():
    """On blobs the loss falls and accuracy reaches 100%; val metrics match evaluate/accuracy."""
    X, y = nk.blobs(n_samples=300, centers=[[-3, 0], [3, 0], [0, 4]], std=0.7, rng=3)
    X_tr, X_val, y_tr, y_val = nk.train_test_split(X, y, rng=4, stratify=True)
    model = nk.MLP([2, 16, 3], rng=5)
    history = nk.fit(
        model, X_tr, y_tr, epochs=15, batch_size=16, X_val=X_val, y_val=y_val, rng=6, progress=False
    )
    assert len(history) == 15 and len(history.val_acc) == 15 and len(history.epoch_time) == 15
    assert history.train_loss[-1] < 0.2 * history.train_loss[0]
    assert history.val_loss[-1] == pytest.approx(train.evaluate(model, X_val, y_val))
    assert history.val_acc[-1] == nk.accuracy(model, X_val, y_val) == 1.0
    np.testing.assert_array_equal(history.epochs, np.arange(1, 16))


def test_fit_regression_with_mse():
    """loss='mse' fits a 1-D target given as (N,) or (N, 1); no accuracy is recorded."""
    X, y = nk.noisy_sine(n_samples=200, noise=0.05, rng=7)
    model = nk.MLP([1, 32, 1], activation="tanh", rng=8)
    history = nk.fit(
        model,
        X,
        y[:, 0],
        loss="mse",
        optimizer=nk.Adam(0.01),
        epochs=200,
        batch_size=32,
        rng=9,
        progress=False,
    )
    assert history.train_acc == [] and history.val_acc == []
    assert train.evaluate(model, X, y, loss="mse") < 0.01  # the noise alone is 0.0025
    assert history.train_loss[-1] < 0.05 * history.train_loss[0]


def test_fit_keeps_float32():
    """A float32 model trains on float64 data without becoming float64."""
    X, y = nk.two_moons(n_samples=64, rng=10)
    model = nk.MLP([2, 8, 2], dtype=np.float32, rng=11)
    nk.fit(model, X, y, epochs=2, progress=False, rng=12)
    assert all(p.dtype == np.float32 for p in model.parameters().values())


def test_callback_sees_every_epoch():
    """callback(epoch, model, history) runs after each epoch, with the history filled so far."""
    X, y = nk.xor()
    model = nk.MLP([2, 4, 2], rng=13)
    seen = []

    def record(epoch, m, history):
        seen.append((epoch, len(history), m is model))

    nk.fit(model, X, y, epochs=3, batch_size=2, progress=False, callback=record)
    assert seen == [(1, 1, True), (2, 2, True), (3, 3, True)]


def test_accuracy_known_value():
    """accuracy counts argmax hits: 2 of 3 rows right."""
    model = nk.Linear(2, 2, rng=0)
    model.W[...] = np.eye(2)
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]])
    assert nk.accuracy(model, X, np.array([0, 1, 1])) == pytest.approx(2 / 3)


def test_progress_bar_goes_to_stderr_only_when_asked(capfd):
    """In a terminal, progress=True draws tqdm's text bar; progress=False prints nothing at all."""
    X, y = nk.xor()
    nk.fit(nk.MLP([2, 4, 2], rng=0), X, y, epochs=2, progress=False)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    nk.fit(nk.MLP([2, 4, 2], rng=0), X, y, epochs=2, progress=True)
    out, err = capfd.readouterr()
    assert out == "" and "2/2" in err and "loss=" in err


def test_progress_bar_in_a_notebook_is_a_widget():
    """In a real Jupyter kernel the bar is an ipywidget: nothing reaches stderr."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import nnkit as nk\n"
            "X, y = nk.xor()\n"
            "history = nk.fit(nk.MLP([2, 4, 2], rng=0), X, y, epochs=3)\n"
            "len(history)"
        )
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert not [o for o in outputs if o.get("name") == "stderr"], outputs
    widgets = [
        o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widgets, f"expected a widget progress bar, got {outputs}"
    assert outputs[-1]["data"]["text/plain"] == "3"


def test_history_plot_labels_its_axes():
    """History.plot draws the training and validation curves with labelled axes."""
    history = train.History(
        train_loss=[1.0, 0.5], val_loss=[1.1, 0.7], train_acc=[0.5, 0.8], val_acc=[0.4, 0.7]
    )
    ax = history.plot(ax=Figure().subplots(), metric="acc")
    assert [line.get_label() for line in ax.get_lines()] == ["training", "validation"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), [0.4, 0.7])
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "accuracy"
    with pytest.raises(ValueError, match="no acc recorded"):
        train.History(train_loss=[1.0]).plot(ax=Figure().subplots(), metric="acc")


def test_fit_errors_name_the_argument():
    """Bad losses, mismatched rows and half a validation set are refused clearly."""
    X, y = nk.xor()
    model = nk.MLP([2, 4, 2], rng=0)
    with pytest.raises(ValueError, match="fit: unknown loss 'cross'"):
        nk.fit(model, X, y, loss="cross", progress=False)
    with pytest.raises(
        nk.ShapeError, match="fit: arguments 'X' and 'y' must have the same number of rows"
    ):
        nk.fit(model, X, y[:3], progress=False)
    with pytest.raises(ValueError, match="X_val"):
        nk.fit(model, X, y, X_val=X, progress=False)
    with pytest.raises(nk.ShapeError, match=r"MLP\.forward: argument 'X'"):
        nk.fit(model, np.zeros((4, 3)), y, progress=False)

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
            reference.backward(softmax_cross_entropy_backward(*cache))
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


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda: nk.SGD(0.1),
        lambda: nk.SGD(0.1, momentum=0.9),
        lambda: nk.SGD(0.1, momentum=0.9, nesterov=True),
        lambda: nk.Adam(0.01),
    ],
)
def test_fit_keeps_float32_end_to_end(make_optimizer):
    """float64 data, float32 model: outputs, gradients, parameters, optimiser state stay float32."""
    X, y = nk.two_moons(n_samples=64, rng=10)
    model = nk.MLP([2, 8, 2], dtype=np.float32, rng=11)
    optimizer = make_optimizer()
    seen = set()

    class Dtypes(nk.Callback):
        def on_backward(self, state):
            seen.update(g.dtype for g in state.gradients.values())
            seen.add(state.X_batch.dtype)

    history = nk.fit(
        model, X, y, optimizer=optimizer, epochs=3, progress=False, rng=12, callbacks=[Dtypes()]
    )
    assert seen == {np.dtype(np.float32)}
    assert all(p.dtype == np.float32 for p in model.parameters().values())
    assert all(a.dtype == np.float32 for slots in optimizer.state.values() for a in slots.values())
    assert model.forward(X).dtype == np.float32
    assert (
        np.all(np.isfinite(history.train_loss)) and history.train_loss[-1] < history.train_loss[0]
    )


def _sigmoid_output_model():
    """A one-output network ending in a sigmoid: it predicts probabilities."""
    return nk.Sequential(
        nk.Linear(2, 8, rng=0),
        nk.Activation("tanh"),
        nk.Linear(8, 1, rng=1),
        nk.Activation("sigmoid"),
    )


@pytest.mark.parametrize(
    "loss, make_model",
    [
        ("softmax_cross_entropy", lambda: nk.MLP([2, 8, 2], rng=0)),
        ("mse", lambda: nk.MLP([2, 8, 1], rng=0)),
        ("binary_cross_entropy_with_logits", lambda: nk.MLP([2, 8, 1], rng=0)),
        ("binary_cross_entropy", _sigmoid_output_model),
    ],
)
def test_fit_takes_its_losses_from_the_registry(loss, make_model):
    """fit trains with any loss of nk.LOSSES whose prediction the model makes; so does evaluate."""
    X, labels = nk.two_moons(n_samples=80, noise=0.1, rng=3)
    classes = nk.LOSSES[loss].targets == "classes"
    y = labels if classes else labels.astype(float)  # 0/1 targets of shape (N,), read as (N, 1)
    model = make_model()
    history = nk.fit(
        model,
        X,
        y,
        loss=loss,
        optimizer=nk.Adam(0.02),
        epochs=30,
        batch_size=16,
        X_val=X,
        y_val=y,
        rng=4,
        progress=False,
    )
    assert history.train_loss[-1] < 0.7 * history.train_loss[0]
    assert history.val_loss[-1] == pytest.approx(train.evaluate(model, X, y, loss=loss))
    assert bool(history.train_acc) == bool(history.val_acc) == classes


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
    with pytest.raises(ValueError, match="unknown loss 'cross'"):
        nk.fit(model, X, y, loss="cross", progress=False)
    with pytest.raises(
        nk.ShapeError, match="fit: arguments 'X' and 'y' must have the same number of rows"
    ):
        nk.fit(model, X, y[:3], progress=False)
    with pytest.raises(ValueError, match="X_val"):
        nk.fit(model, X, y, X_val=X, progress=False)
    with pytest.raises(nk.ShapeError, match=r"MLP\.forward: argument 'X'"):
        nk.fit(model, np.zeros((4, 3)), y, progress=False)


# ---------------------------------------------------------------- callbacks (lectures 09 and 10)


class Recorder(nk.Callback):
    """Writes down every event with the state's epoch and step at that moment."""

    def __init__(self):
        self.events = []

    def on_train_begin(self, state):
        self.events.append(("begin", state.epoch, state.step))

    def on_backward(self, state):
        self.events.append(("backward", state.epoch, state.step))

    def on_step(self, state):
        self.events.append(("step", state.epoch, state.step))

    def on_epoch_end(self, state):
        self.events.append(("epoch_end", state.epoch, len(state.history)))

    def on_train_end(self, state):
        self.events.append(("end", state.epoch, state.step))


def test_callbacks_see_every_event_in_order():
    """10 rows in batches of 4 make 3 updates per epoch; each event comes in its place."""
    X, y = nk.blobs(n_samples=10, rng=0)
    recorder = Recorder()
    nk.fit(
        nk.MLP([2, 4, 3], rng=1), X, y, epochs=2, batch_size=4, progress=False, callbacks=[recorder]
    )
    expected = [("begin", 0, 0)]
    for epoch in (1, 2):
        for k in range(3):
            step = 3 * (epoch - 1) + k
            expected += [("backward", epoch, step), ("step", epoch, step + 1)]
        expected.append(("epoch_end", epoch, epoch))
    expected.append(("end", 2, 6))
    assert recorder.events == expected


def test_a_single_callback_needs_no_list():
    X, y = nk.blobs(n_samples=10, rng=0)
    recorder = Recorder()
    nk.fit(
        nk.MLP([2, 4, 3], rng=1), X, y, epochs=1, batch_size=5, progress=False, callbacks=recorder
    )
    assert [event for event, *_ in recorder.events] == [
        "begin",
        "backward",
        "step",
        "backward",
        "step",
        "epoch_end",
        "end",
    ]


def test_callbacks_that_do_nothing_change_nothing():
    """A do-nothing callback leaves the training run bit for bit the same."""
    X, y = nk.spirals(n_samples=60, rng=0)
    plain, watched = nk.MLP([2, 8, 3], rng=1), nk.MLP([2, 8, 3], rng=1)
    h1 = nk.fit(plain, X, y, epochs=3, batch_size=8, rng=2, progress=False)
    h2 = nk.fit(
        watched,
        X,
        y,
        epochs=3,
        batch_size=8,
        rng=2,
        progress=False,
        callbacks=[nk.Callback(), Recorder()],
    )
    assert h1.train_loss == h2.train_loss
    for key, p in plain.parameters().items():
        np.testing.assert_array_equal(p, watched.parameters()[key])


def test_stop_ends_training_after_the_current_update():
    """state.stop set in on_step ends the epoch early; its loss averages the rows seen."""

    class StopAfter(nk.Callback):
        def on_step(self, state):
            self.losses = [*getattr(self, "losses", []), state.loss]
            state.stop = state.step == 2

    X, y = nk.blobs(n_samples=40, rng=0)
    stopper = StopAfter()
    history = nk.fit(
        nk.MLP([2, 4, 3], rng=1), X, y, epochs=5, batch_size=8, progress=False, callbacks=[stopper]
    )
    assert len(history) == 1
    assert history.train_loss[0] == pytest.approx(np.mean(stopper.losses))


def test_state_carries_the_batch_and_its_gradients():
    """In on_backward the state's gradients are the model's gradients on the state's batch."""

    class Check(nk.Callback):
        def on_backward(self, state):
            reference = state.model.copy()
            loss, grads = reference.loss_and_gradients(state.X_batch, state.y_batch)
            assert state.loss == pytest.approx(loss, rel=1e-12)
            for key, g in grads.items():
                np.testing.assert_allclose(state.gradients[key], g, rtol=1e-12)
            self.calls = getattr(self, "calls", 0) + 1

    check = Check()
    X, y = nk.blobs(n_samples=30, rng=0)
    nk.fit(
        nk.MLP([2, 5, 3], rng=1), X, y, epochs=2, batch_size=10, progress=False, callbacks=[check]
    )
    assert check.calls == 6


def test_weight_decay_is_the_gradient_of_the_l2_penalty():
    """WeightDecay(lam) trains exactly like the loop whose weight gradients get + lam * W."""
    X, y = nk.spirals(n_samples=60, rng=0)
    ours, reference = nk.MLP([2, 8, 3], rng=1), nk.MLP([2, 8, 3], rng=1)
    nk.fit(
        ours,
        X,
        y,
        optimizer=nk.SGD(0.1),
        epochs=2,
        batch_size=16,
        rng=2,
        progress=False,
        callbacks=[nk.callbacks.WeightDecay(0.05)],
    )
    opt, rng = nk.SGD(0.1), np.random.default_rng(2)
    for _ in range(2):
        for X_b, y_b in nk.minibatches(X, y, 16, rng=rng):
            _, grads = reference.loss_and_gradients(X_b, y_b)
            params = reference.parameters()
            for key in ("0.W", "2.W"):  # biases are not penalised
                grads[key] = grads[key] + 0.05 * params[key]
            opt.step(params, grads)
    for key, p in ours.parameters().items():
        np.testing.assert_allclose(p, reference.parameters()[key], rtol=1e-12, atol=1e-14)
    assert nk.callbacks.WeightDecay(0.1).lam == 0.1
    with pytest.raises(ValueError, match="WeightDecay: argument 'lam' must be >= 0"):
        nk.callbacks.WeightDecay(-1.0)


def test_early_stopping_stops_and_restores_the_best_weights():
    """After patience epochs without a better validation loss fit stops; the best weights return."""
    X, X_val, y, y_val = nk.load_digits(test_size=0.5, rng=0)
    X, y = X[:60], y[:60]  # few rows and a large rate: validation loss soon rises
    model = nk.MLP([64, 64, 10], rng=1)
    stopper = nk.callbacks.EarlyStopping(patience=3)
    history = nk.fit(
        model,
        X,
        y,
        optimizer=nk.SGD(0.5),
        epochs=200,
        batch_size=10,
        rng=2,
        X_val=X_val,
        y_val=y_val,
        progress=False,
        callbacks=[stopper],
    )
    assert stopper.stopped_epoch == len(history) == stopper.best_epoch + 3 < 200
    assert stopper.best_loss == min(history.val_loss) == history.val_loss[stopper.best_epoch - 1]
    assert train.evaluate(model, X_val, y_val) == pytest.approx(stopper.best_loss, rel=1e-12)
    with pytest.raises(ValueError, match="EarlyStopping: needs a validation set"):
        nk.fit(model, X, y, epochs=1, progress=False, callbacks=[nk.callbacks.EarlyStopping()])


def test_gradient_norms_and_update_ratios_match_one_full_batch_step():
    """One full-batch SGD step: the norms are ||dW||, the ratios lr * ||dW|| / ||W||."""
    X, y = nk.blobs(n_samples=20, rng=0)
    model = nk.MLP([2, 6, 3], rng=1)
    before = model.copy()
    _, grads = before.loss_and_gradients(X, y)
    norms, ratios = nk.callbacks.GradientNorms(), nk.callbacks.UpdateRatios()
    nk.fit(
        model,
        X,
        y,
        optimizer=nk.SGD(0.3),
        epochs=1,
        batch_size=20,
        progress=False,
        callbacks=[norms, ratios],
    )
    assert norms.steps == ratios.steps == [1]
    assert list(norms.norms) == ["0.W", "0.b", "2.W", "2.b"]
    for key, values in norms.norms.items():
        assert values == [pytest.approx(np.linalg.norm(grads[key]), rel=1e-10)]
    assert list(ratios.ratios) == ["0.W", "2.W"]
    for key, values in ratios.ratios.items():
        W = before.parameters()[key]
        expected = 0.3 * np.linalg.norm(grads[key]) / np.linalg.norm(W)
        assert values == [pytest.approx(expected, rel=1e-10)]
    assert norms.as_array().shape == (1, 4) and ratios.as_array().shape == (1, 2)


def test_recorders_can_skip_steps():
    X, y = nk.blobs(n_samples=40, rng=0)
    norms, ratios = nk.callbacks.GradientNorms(every=3), nk.callbacks.UpdateRatios(every=3)
    nk.fit(
        nk.MLP([2, 4, 3], rng=1),
        X,
        y,
        epochs=2,
        batch_size=4,
        progress=False,
        callbacks=[norms, ratios],
    )
    assert norms.steps == ratios.steps == [3, 6, 9, 12, 15, 18]


def test_lr_range_test_sweeps_geometrically_and_stops_on_divergence():
    """The rates grow by a constant factor; a large enough range ends in a stop before lr_max."""
    X, y = nk.load_digits()
    finder = nk.callbacks.LRRangeTest(lr_min=1e-3, lr_max=1e3, steps=60)
    nk.fit(
        nk.MLP([64, 32, 10], rng=0),
        X,
        y,
        optimizer=nk.SGD(),
        epochs=5,
        batch_size=32,
        rng=1,
        progress=False,
        callbacks=[finder],
    )
    lrs = np.array(finder.lrs)
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], 1e6 ** (1 / 59), rtol=1e-12)
    assert lrs[0] == 1e-3 and len(lrs) < 60  # diverged before 1000
    best = finder.lrs[int(np.argmin(finder.losses))]
    assert finder.suggestion() == best / 10 and 1e-3 < best < 1e3
    assert finder.losses[-1] > 4 * min(finder.losses) or not np.isfinite(finder.losses[-1])
    quiet = nk.callbacks.LRRangeTest(lr_min=1e-4, lr_max=1e-3, steps=5)
    nk.fit(nk.MLP([64, 32, 10], rng=0), X, y, epochs=1, progress=False, callbacks=[quiet])
    assert len(quiet.lrs) == 5 and quiet.lrs[-1] == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="LRRangeTest: need 0 < lr_min < lr_max"):
        nk.callbacks.LRRangeTest(lr_min=1.0, lr_max=0.1)


def test_validation_and_evaluate_switch_dropout_off():
    """fit's validation numbers, evaluate and accuracy see the network without dropout."""
    X, y = nk.blobs(n_samples=50, rng=0)
    model = nk.Sequential(
        nk.Linear(2, 16, rng=1),
        nk.Activation("relu"),
        nk.Dropout(0.8, rng=2),
        nk.Linear(16, 3, rng=3),
    )
    history = nk.fit(model, X, y, epochs=2, X_val=X, y_val=y, progress=False, rng=4)
    with nk.evaluation_mode(model):
        clean = nk.softmax_cross_entropy(model.forward(X), y)
    assert history.val_loss[-1] == train.evaluate(model, X, y) == pytest.approx(clean, rel=1e-12)
    assert model[2].training is True

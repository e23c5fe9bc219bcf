"""Figures and explorers of lecture 07 (loss landscapes) and lecture 08 (digits)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import LogNorm
from matplotlib.contour import QuadContourSet
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from mpl_toolkits.mplot3d.art3d import Poly3DCollection

import nnkit as nk
from nnkit import plotting, widgets

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def spiral():
    X, y = nk.spirals(n_samples=90, n_classes=3, noise=0.2, rng=0)
    return nk.Standardizer().fit_transform(X), y


@pytest.fixture(scope="module")
def digits():
    X, y = nk.load_digits()
    return X[:60], y[:60]


def bowl(resolution=9):
    a = np.linspace(-1.0, 1.0, resolution)
    A, B = np.meshgrid(a, a)
    return A, B, 0.05 + A**2 + 2.0 * B**2


# ------------------------------------------------------------------ confusion_matrix


def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    """Cell (i, j) counts the rows with true class i predicted as j."""
    ax = plotting.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0])
    image = ax.images[-1]
    assert isinstance(image, AxesImage)
    expected = [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    np.testing.assert_array_equal(image.get_array(), expected)
    assert ax.get_xlabel() == "predicted class"
    assert ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.texts] == [str(v) for v in np.ravel(expected)]


def test_confusion_matrix_normalised_rows_sum_to_one():
    """normalize=True turns each row into the fractions of that true class."""
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    K = plotting.confusion_matrix(y_true, y_pred, normalize=True).images[-1].get_array()
    np.testing.assert_allclose(K.sum(axis=1), 1.0)
    assert K[1, 2] == pytest.approx(np.mean(y_pred[y_true == 1] == 2))


def test_confusion_matrix_n_classes_adds_empty_classes_and_draws_into_given_ax():
    _, ax = plt.subplots()
    assert plotting.confusion_matrix([0, 1], [1, 1], ax=ax, n_classes=4) is ax
    assert ax.images[-1].get_array().shape == (4, 4)


def test_confusion_matrix_rejects_bad_input():
    with pytest.raises(nk.ShapeError, match=r"confusion_matrix.*'y_true' and 'y_pred'"):
        plotting.confusion_matrix([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match=r"confusion_matrix: labels must lie in 0\.\.1"):
        plotting.confusion_matrix([0, 1, 2], [0, 1, 1], n_classes=2)
    with pytest.raises(nk.ShapeError, match="y_pred"):
        plotting.confusion_matrix([0, 1], [[0, 1]])


# ------------------------------------------------------------------------ image_grid


def test_image_grid_places_every_image_in_its_tile(digits):
    """Rows of 64 pixels become 8 x 8 tiles, left to right, top to bottom, titles above."""
    X, y = digits
    titles = [f"label {c}" for c in y[:7]]
    ax = plotting.image_grid(X[:7], titles=titles, ncols=3)
    image = ax.images[-1]
    assert isinstance(image, AxesImage)
    mosaic = np.nan_to_num(np.ma.filled(image.get_array(), np.nan), nan=-1.0)
    windows = np.lib.stride_tricks.sliding_window_view(mosaic, (8, 8))
    corners = []
    for k in range(7):
        # each image is drawn rescaled to its own range [0, 1]
        tile = ((X[k] - X[k].min()) / (X[k].max() - X[k].min())).reshape(8, 8)
        hits = np.argwhere(np.all(np.isclose(windows, tile), axis=(2, 3)))
        assert len(hits) >= 1, f"image {k} is not in the mosaic"
        corners.append(tuple(hits[0]))
    rows, cols = zip(*corners, strict=True)
    assert rows[0] == rows[1] == rows[2] < rows[3] == rows[4] == rows[5] < rows[6]
    assert cols[0] < cols[1] < cols[2] and cols[0] == cols[3] == cols[6]
    assert [t.get_text() for t in ax.texts] == titles
    assert not ax.axison


def test_image_grid_shared_limits_keep_raw_values():
    """With vmin and vmax the pixel values are drawn unscaled, e.g. signed weights."""
    W = np.array([[-2.0, 0.0, 1.0, 2.0], [0.5, 0.5, 0.5, 0.5]])
    image = plotting.image_grid(W, vmin=-2, vmax=2, cmap="RdBu_r").images[-1]
    mosaic = np.ma.filled(image.get_array(), np.nan)
    np.testing.assert_allclose(mosaic[:2, :2], [[-2.0, 0.0], [1.0, 2.0]])
    assert image.get_clim() == (-2, 2)


def test_image_grid_accepts_3d_images_and_title_colours():
    images = np.arange(2 * 3 * 5, dtype=float).reshape(2, 3, 5)
    ax = plotting.image_grid(images, titles=["a", "b"], title_colors=["red", "blue"])
    assert [t.get_color() for t in ax.texts] == ["red", "blue"]


def test_image_grid_rejects_bad_shapes():
    with pytest.raises(nk.ShapeError, match="image_grid: rows of 10 pixels are not square"):
        plotting.image_grid(np.zeros((3, 10)))
    with pytest.raises(nk.ShapeError, match=r"image_grid: argument 'image_shape' \(3, 3\)"):
        plotting.image_grid(np.zeros((3, 10)), image_shape=(3, 3))
    with pytest.raises(ValueError, match="image_grid: argument 'titles' must have 3 entries"):
        plotting.image_grid(np.zeros((3, 4)), titles=["a"])


# ------------------------------------------------------------- loss landscape figures


def test_landscape_contour_log_levels_labels_and_colorbar():
    A, B, L = bowl()
    fig, ax = plt.subplots()
    assert plotting.plot_landscape_contour(A, B, L, ax=ax, levels=8) is ax
    contours = ax.collections[-2]
    assert isinstance(contours, QuadContourSet) and contours.filled
    assert isinstance(contours.norm, LogNorm)
    np.testing.assert_allclose(contours.levels, np.geomspace(L.min(), L.max(), 9))
    assert ax.get_xlabel().startswith("$a$") and ax.get_ylabel().startswith("$b$")
    assert len(fig.axes) == 2  # the slice and its colour bar
    labels = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert labels and all(labels)


def test_landscape_contour_fixed_linear_levels_without_colorbar():
    A, B, L = bowl()
    _, ax = plt.subplots()
    plotting.plot_landscape_contour(
        A, B, L, ax=ax, levels=[0.0, 0.5, 1.0], log=False, colorbar=False
    )
    contours = ax.collections[-2]
    assert not isinstance(contours.norm, LogNorm)
    np.testing.assert_allclose(contours.levels, [0.0, 0.5, 1.0])
    assert len(ax.figure.axes) == 1


def test_landscape_contour_rejects_bad_input():
    A, B, L = bowl()
    with pytest.raises(nk.ShapeError, match=r"plot_landscape_contour.*'A' and 'L'"):
        plotting.plot_landscape_contour(A, B, L[:-1])
    with pytest.raises(ValueError, match="'levels' must increase"):
        plotting.plot_landscape_contour(A, B, L, levels=[1.0, 0.5])


def test_loss_colorbar_shared_by_several_axes():
    """One bar beside both panels, for the filled contours (not the black lines over them)."""
    A, B, L = bowl()
    fig, axes = plt.subplots(1, 2)
    for ax in axes:
        plotting.plot_landscape_contour(A, B, L, ax=ax, colorbar=False)
    bar_ax = plotting.loss_colorbar(axes, label="training loss")
    assert bar_ax.get_ylabel() == "training loss"
    assert len(fig.axes) == 3 and bar_ax is fig.axes[2]
    assert bar_ax.collections, "the bar shows no colours"
    labels = [t.get_text() for t in bar_ax.get_yticklabels()]
    assert labels and all(labels)


def test_loss_colorbar_for_contour_lines_and_its_errors():
    """Lines only (plot_loss_surface) get a bar too; axes without contours are refused."""
    fig, ax = plt.subplots()
    plotting.plot_loss_surface(lambda W: (W**2).sum(axis=1), n=20, log=False, ax=ax)
    plotting.loss_colorbar(ax)
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="loss_colorbar: no contours drawn"):
        plotting.loss_colorbar(plt.subplots()[1])
    with pytest.raises(TypeError, match="loss_colorbar: argument 'ax' must be an Axes"):
        plotting.loss_colorbar(ax.collections[-1])


def test_landscape_surface_heights_and_axes():
    A, B, L = bowl()
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    assert plotting.plot_landscape_surface(A, B, L, ax=ax, log=True) is ax
    assert isinstance(ax.collections[-1], Poly3DCollection)
    assert ax.get_zlabel() == "$\\log_{10}$ loss"
    low, high = ax.get_zlim()
    assert low <= np.log10(L.min()) and high >= np.log10(L.max())


def test_landscape_surface_needs_3d_axes_and_positive_losses_for_log():
    A, B, L = bowl()
    _, flat = plt.subplots()
    with pytest.raises(TypeError, match="3-D axes"):
        plotting.plot_landscape_surface(A, B, L, ax=flat)
    with pytest.raises(ValueError, match="positive"):
        plotting.plot_landscape_surface(A, B, L - 1.0, log=True)
    new = plotting.plot_landscape_surface(A, B, L)
    assert new.name == "3d" and isinstance(new.collections[-1], Poly3DCollection)


# ------------------------------------------------------------------------ explorers


def test_landscape_explorer_redraws_for_a_new_architecture(spiral):
    """The initial slice is drawn at creation; a new depth draws another network's slice."""
    X, y = spiral
    w = widgets.landscape_explorer(X, y, activation="relu", width=4, depth=1, epochs=2)
    assert set(w.controls) == {"activation", "width", "depth"}
    first = w.png
    assert first.startswith(PNG_MAGIC)
    w.controls["depth"].value = 2
    assert w.png.startswith(PNG_MAGIC)
    assert w.png != first


def test_architecture_slices_train_and_slice_every_combination(spiral):
    """One entry per setting, equal to training that network and slicing it directly."""
    X, y = spiral
    slices = widgets.architecture_slices(
        X, y, activations=["tanh"], widths=[4], depths=[1, 2], epochs=2, resolution=5
    )
    assert set(slices) == {("tanh", 4, 1), ("tanh", 4, 2)}
    net = nk.MLP([2, 4, 4, 3], activation="tanh", rng=0)
    run = nk.fit(
        net, X, y, optimizer=nk.Adam(lr=0.01), epochs=2, batch_size=32, rng=0, progress=False
    )
    d1, d2 = nk.landscape.random_directions(net, rng=1)
    A, B, L = nk.landscape.slice_2d(net, X, y, d1, d2, extent=1.0, resolution=5)
    np.testing.assert_allclose(slices["tanh", 4, 2]["B"], B)
    got = slices["tanh", 4, 2]
    np.testing.assert_allclose(got["L"], L)
    np.testing.assert_allclose(got["A"], A)
    assert got["loss"] == pytest.approx(run.train_loss[-1], rel=1e-12)
    assert got["acc"] == run.train_acc[-1]
    assert got["n_parameters"] == net.n_parameters()


def test_landscape_explorer_uses_given_slices_and_needs_all_of_them(spiral):
    X, y = spiral
    slices = widgets.architecture_slices(X, y, epochs=1, resolution=3)
    w = widgets.landscape_explorer(X, y, activation="tanh", width=16, depth=6, slices=slices)
    assert w.png.startswith(PNG_MAGIC)
    del slices["sigmoid", 4, 1]
    with pytest.raises(ValueError, match="landscape_explorer: argument 'slices' lacks 1 setting"):
        widgets.landscape_explorer(X, y, slices=slices)


def test_landscape_explorer_rejects_bad_settings(spiral):
    X, y = spiral
    with pytest.raises(ValueError, match="landscape_explorer: argument 'activation'"):
        widgets.landscape_explorer(X, y, activation="step")
    with pytest.raises(ValueError, match="landscape_explorer: argument 'width' must be one of"):
        widgets.landscape_explorer(X, y, width=5)
    with pytest.raises(ValueError, match="landscape_explorer: argument 'depth' must be one of"):
        widgets.landscape_explorer(X, y, depth=3)
    with pytest.raises(nk.ShapeError, match="landscape_explorer: argument 'y'"):
        widgets.landscape_explorer(X, y[:-1])


def test_saturated_network_shifts_hidden_biases_only():
    """Lecture 07's bad start: hidden weights scaled, hidden biases shifted, output untouched."""
    plain = widgets._saturated_sigmoid_mlp([2, 5, 5, 3], 1.0, 0.0, seed=0)
    bad = widgets._saturated_sigmoid_mlp([2, 5, 5, 3], 3.0, 4.0, seed=0)
    for i in (0, 2):
        np.testing.assert_allclose(bad[i].W, 3.0 * plain[i].W)
        np.testing.assert_allclose(bad[i].b, plain[i].b + 4.0)
    np.testing.assert_array_equal(bad[4].W, plain[4].W)
    np.testing.assert_array_equal(bad[4].b, plain[4].b)


def test_saturation_explorer_draws_labelled_panels_and_redraws(spiral):
    X, y = spiral
    w = widgets.saturation_explorer(X, y, shift=4.0, epochs=3)
    first = w.png
    assert first.startswith(PNG_MAGIC)
    w.controls["shift"].value = 0.0
    assert w.png != first

    fig = Figure()
    curves = {(1.0, 4.0): [1.0, 0.9, 0.8], (1.0, 0.0): [1.1, 0.7, 0.5]}
    widgets._draw_saturation(
        fig, 1.0, 4.0, X=X, sizes=[2, 32, 32, 3], seed=0, curves=curves, lr=0.2, momentum=0.9
    )
    hist, curve = fig.axes
    assert hist.get_xlabel() and hist.get_ylabel() and hist.get_title()
    assert curve.get_xlabel() == "epoch" and curve.get_ylabel() == "training loss"
    assert "final loss 0.800" in curve.get_title()
    # with every hidden bias at +4 most first-layer units start saturated
    assert int(hist.get_title().split("%")[0]) > 50


def test_saturation_explorer_trains_every_setting_as_fit_does(spiral):
    """The precomputed loss curves are those of nk.fit on the shifted network."""
    X, y = spiral
    w = widgets.saturation_explorer(X, y, epochs=2)
    curves = w._draw.keywords["curves"]
    assert set(curves) == {
        (s, t) for s in widgets.SATURATION_SCALES for t in widgets.SATURATION_SHIFTS
    }
    net = widgets._saturated_sigmoid_mlp([2, 32, 32, 3], 3.0, -4.0, seed=0)
    run = nk.fit(
        net,
        X,
        y,
        optimizer=nk.SGD(lr=0.2, momentum=0.9),
        epochs=2,
        batch_size=32,
        rng=0,
        progress=False,
    )
    np.testing.assert_allclose(curves[3.0, -4.0], run.train_loss, rtol=1e-12)


def test_saturation_explorer_rejects_out_of_range_controls(spiral):
    X, y = spiral
    with pytest.raises(ValueError, match="saturation_explorer: argument 'scale'"):
        widgets.saturation_explorer(X, y, scale=100.0)
    with pytest.raises(ValueError, match="saturation_explorer: argument 'shift'"):
        widgets.saturation_explorer(X, y, shift=-20.0)


def test_digit_explorer_steps_through_images_and_mistakes(digits):
    X, y = digits
    model = nk.MLP([64, 10], rng=0)  # untrained: it makes plenty of mistakes
    w = widgets.digit_explorer(model, X, y, index=3)
    first = w.png
    assert first.startswith(PNG_MAGIC)
    w.controls["index"].value = 4
    second = w.png
    assert second != first
    w.controls["only_mistakes"].value = True
    assert w.png.startswith(PNG_MAGIC)


def test_digit_explorer_panels_name_the_prediction(digits):
    X, y = digits
    model = nk.MLP([64, 10], rng=0)
    P = model.predict_proba(X)
    fig = Figure()
    widgets._draw_digit(
        fig, 0, False, images=X, y=y, P=P, pred=P.argmax(axis=1), image_shape=(8, 8)
    )
    image_ax, bars_ax = fig.axes
    assert image_ax.get_title() == f"image 0: label {y[0]}"
    assert f"predicted {P[0].argmax()}" in bars_ax.get_title()
    assert bars_ax.get_xlabel() == "class" and bars_ax.get_ylabel() == "probability"


class _Oracle:
    """A classifier that is always right, to show the explorer with no mistakes."""

    def __init__(self, y, C=10):
        self.P = np.eye(C)[y]

    def predict_proba(self, X):
        return self.P


def test_digit_explorer_with_no_mistakes_says_so(digits):
    X, y = digits
    w = widgets.digit_explorer(_Oracle(y), X, y)
    w.controls["only_mistakes"].value = True
    assert w.png.startswith(PNG_MAGIC)
    fig = Figure()
    widgets._draw_digit(fig, 0, True, images=X, y=y, P=np.eye(10)[y], pred=y, image_shape=(8, 8))
    assert any(t.get_text() == "no mistakes to show" for ax in fig.axes for t in ax.texts)


def test_digit_explorer_rejects_bad_input(digits):
    X, y = digits
    model = nk.MLP([64, 10], rng=0)
    with pytest.raises(nk.ShapeError, match=r"digit_explorer: argument 'image_shape' \(7, 7\)"):
        widgets.digit_explorer(model, X, y, image_shape=(7, 7))
    with pytest.raises(ValueError, match=r"digit_explorer: argument 'index' must be in 0\.\.59"):
        widgets.digit_explorer(model, X, y, index=60)
    with pytest.raises(nk.ShapeError, match="digit_explorer: argument 'y'"):
        widgets.digit_explorer(model, X, y[:10])

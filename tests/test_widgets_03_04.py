"""Explorers and figure helpers of lectures 03 (outputs, losses) and 04 (approximation)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

import nnkit as nk
from nnkit import plotting, widgets

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def labelled(ax) -> bool:
    return bool(ax.get_xlabel()) and bool(ax.get_ylabel())


# ------------------------------------------------------------ temperature_explorer


def test_temperature_explorer_draws_at_creation_and_redraws_on_t():
    """The initial picture exists headless, and moving T replaces it."""
    w = widgets.temperature_explorer(logits=[2.0, 1.0, 0.1, -1.0], labels=list("abcd"))
    assert w.png.startswith(PNG_MAGIC)
    assert w.values() == {"T": pytest.approx(1.0)}
    before = w.png
    w.controls["T"].value = 0.2
    assert w.png.startswith(PNG_MAGIC)
    assert w.png != before


def test_temperature_drawing_shows_softmax_of_scaled_logits():
    """The bars are softmax(z / T), and every panel has labelled axes."""
    z = np.array([3.0, 1.0, -2.0])
    heights = {}
    for T in (0.1, 1.0, 10.0):
        fig = Figure()
        widgets._draw_temperature(fig, T, z=z, labels=["x", "y", "w"])
        ax_bars, ax_curves = fig.axes
        heights[T] = np.array([bar.get_height() for bar in ax_bars.patches])
        np.testing.assert_allclose(heights[T], nk.softmax(z / T))
        assert all(labelled(ax) for ax in fig.axes)
        assert [t.get_text() for t in ax_bars.get_xticklabels()] == ["x", "y", "w"]
        # one curve per class against T, plus the marker line at the current T
        assert len(ax_curves.get_lines()) == 4
    # cold: nearly one-hot on the largest logit; hot: nearly uniform
    assert heights[0.1][0] > 0.99
    assert np.ptp(heights[10.0]) < 0.3


def test_temperature_explorer_names_its_bad_arguments():
    with pytest.raises(nk.ShapeError, match=r"temperature_explorer.*'logits'"):
        widgets.temperature_explorer(logits=[[1.0, 2.0]])
    with pytest.raises(nk.ShapeError, match=r"temperature_explorer.*'logits'.*C >= 2"):
        widgets.temperature_explorer(logits=[1.0])
    with pytest.raises(nk.ShapeError, match=r"temperature_explorer.*'labels'.*3 entries"):
        widgets.temperature_explorer(logits=[1.0, 2.0, 3.0], labels=["a", "b"])
    with pytest.raises(ValueError, match=r"temperature_explorer.*'T'"):
        widgets.temperature_explorer(T=100.0)


# ------------------------------------------------------------------ width_explorer


def broken_lines(x, widths):
    """Piecewise-linear interpolants of sin on [0, 2 pi] with M pieces, and their slope changes."""
    fits, units = {}, {}
    for M in widths:
        knots = np.linspace(0, 2 * np.pi, M + 1)
        fits[M] = np.interp(x, knots, np.sin(knots))
        slopes = np.diff(np.sin(knots)) / np.diff(knots)
        units[M] = np.maximum(x[:, None] - knots[:-1], 0) * np.diff(slopes, prepend=0.0)
    return fits, units


def test_width_explorer_draws_at_creation_and_redraws_on_width():
    """The slider runs over the given widths; moving it replaces the picture."""
    x = np.linspace(0, 2 * np.pi, 200)
    fits, units = broken_lines(x, [8, 2, 4])
    w = widgets.width_explorer(x, np.sin(x), fits, units=units)
    assert w.png.startswith(PNG_MAGIC)
    assert list(w.controls["width"].options) == [2, 4, 8]
    assert w.values() == {"width": 2}
    before = w.png
    w.controls["width"].value = 8
    assert w.png.startswith(PNG_MAGIC)
    assert w.png != before


def test_width_drawing_plots_the_fit_units_and_max_errors():
    """Three labelled panels: the fit of the chosen width, its units, the error of every width."""
    x = np.linspace(0, 2 * np.pi, 200)
    widths = [2, 4, 8]
    fits, units = broken_lines(x, widths)
    # units sum to the fit up to the output bias sin(0) = 0
    np.testing.assert_allclose(units[8].sum(axis=1), fits[8], atol=1e-12)
    fig = Figure()
    widgets._draw_width(
        fig, 4, x=x, target=np.sin(x), fits=fits, units=units, x_train=None, y_train=None
    )
    ax_fit, ax_units, ax_err = fig.axes
    assert all(labelled(ax) for ax in fig.axes)
    fit_lines = [line for line in ax_fit.get_lines() if line.get_label().startswith("network")]
    np.testing.assert_allclose(fit_lines[0].get_ydata(), fits[4])
    assert len(ax_units.get_lines()) == 4
    error_line = ax_err.get_lines()[0]
    np.testing.assert_allclose(error_line.get_xdata(), widths)
    np.testing.assert_allclose(
        error_line.get_ydata(), [np.max(np.abs(fits[m] - np.sin(x))) for m in widths]
    )


def test_width_explorer_without_units_has_two_panels():
    x = np.linspace(0, 1, 50)
    fits = {1: x, 3: x**2}
    fig = Figure()
    widgets._draw_width(fig, 3, x=x, target=x**2, fits=fits, units=None, x_train=x, y_train=x**2)
    assert len(fig.axes) == 2
    w = widgets.width_explorer(x, x**2, fits, x_train=x, y_train=x**2, width=3)
    assert w.values() == {"width": 3}


def test_width_explorer_names_its_bad_arguments():
    x = np.linspace(0, 1, 50)
    with pytest.raises(nk.ShapeError, match=r"width_explorer.*'x' and 'fits\[2\]'"):
        widgets.width_explorer(x, x, {2: x[:-1]})
    with pytest.raises(nk.ShapeError, match=r"width_explorer.*'units\[2\]'.*\(50, 2\)"):
        widgets.width_explorer(x, x, {2: x}, units={2: np.zeros((50, 3))})
    with pytest.raises(ValueError, match=r"width_explorer.*'units' must have the widths"):
        widgets.width_explorer(x, x, {2: x}, units={3: np.zeros((50, 3))})
    with pytest.raises(ValueError, match=r"width_explorer.*'width' must be one of"):
        widgets.width_explorer(x, x, {2: x}, width=5)
    with pytest.raises(ValueError, match=r"width_explorer.*'fits' is empty"):
        widgets.width_explorer(x, x, {})


# ------------------------------------------------------------------ plotting helpers


def test_probability_bars_draws_the_bars_with_the_target_highlighted():
    _, ax = plt.subplots()
    p = np.array([0.1, 0.7, 0.2])
    assert plotting.probability_bars(p, ["a", "b", "c"], target=1, ax=ax) is ax
    bars = ax.containers[-1]
    assert isinstance(bars, BarContainer)
    np.testing.assert_allclose([b.get_height() for b in bars], p)
    colours = [b.get_facecolor() for b in bars]
    assert colours[1] != colours[0] and colours[0] == colours[2]
    assert labelled(ax)


def test_probability_bars_makes_its_own_axes_when_none_given():
    before = plt.get_fignums()
    ax = plotting.probability_bars([0.5, 0.5])
    assert len(plt.get_fignums()) == len(before) + 1
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1"]


def test_probability_bars_checks_labels_and_target():
    with pytest.raises(nk.ShapeError, match=r"probability_bars.*'labels'.*2 entries"):
        plotting.probability_bars([0.5, 0.5], labels=["a"])
    with pytest.raises(ValueError, match=r"probability_bars.*'target'"):
        plotting.probability_bars([0.5, 0.5], target=2)


def test_plot_fit_1d_draws_the_prediction_line_last():
    _, ax = plt.subplots()
    x = np.linspace(-1, 1, 20)
    assert (
        plotting.plot_fit_1d(x, x**2, 0.9 * x**2, x_train=x, y_train=x**2, label="g", ax=ax) is ax
    )
    line = ax.lines[-1]
    np.testing.assert_allclose(line.get_ydata(), 0.9 * x**2)
    assert line.get_label() == "g"
    assert labelled(ax)
    assert len(ax.get_lines()) == 3  # data, target, prediction
    with pytest.raises(nk.ShapeError, match=r"plot_fit_1d.*'x' and 'pred'"):
        plotting.plot_fit_1d(x, x, x[:5], ax=ax)


def test_plot_error_vs_width_draws_log_log_lines():
    _, ax = plt.subplots()
    widths = [1, 2, 4, 8]
    errors = {"tanh": [0.5, 0.2, 0.05, 0.01], "relu": [0.6, 0.3, 0.1, 0.02]}
    assert plotting.plot_error_vs_width(widths, errors, ax=ax, ylabel="RMSE") is ax
    lines = ax.lines[-2:]
    assert [line.get_label() for line in lines] == ["tanh", "relu"]
    np.testing.assert_allclose(lines[1].get_ydata(), errors["relu"])
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_ylabel() == "RMSE" and ax.get_xlabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "4", "8"]
    with pytest.raises(nk.ShapeError, match=r"plot_error_vs_width.*'errors\['tanh'\]'"):
        plotting.plot_error_vs_width(widths, {"tanh": [0.1, 0.2]}, ax=ax)


def test_helpers_leave_global_state_alone():
    """No rcParams change and no new figure when an axes is given."""
    rc_before = dict(plt.rcParams)
    _, ax = plt.subplots()
    figures = plt.get_fignums()
    plotting.probability_bars([0.2, 0.8], ax=ax)
    plotting.plot_fit_1d([0.0, 1.0], [0.0, 1.0], [0.0, 0.9], ax=ax)
    plotting.plot_error_vs_width([1, 2], {"a": [1.0, 0.5]}, ax=ax)
    assert plt.get_fignums() == figures
    assert dict(plt.rcParams) == rc_before

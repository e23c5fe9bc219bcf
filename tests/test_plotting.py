"""The one convention of nnkit.plotting: a keyword `ax=`, the Axes drawn on returned.

What each figure shows is tested with its lecture's explorer (tests/test_widgets_*.py);
here every public function is called once with small inputs (Agg backend, set by conftest).
"""

import inspect

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

from nnkit import plotting


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def bowl():
    a = np.linspace(-1.0, 1.0, 7)
    A, B = np.meshgrid(a, a)
    return A, B, 0.05 + A**2 + 2.0 * B**2


X_SMALL = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])

# the positional and keyword arguments of one small call of every drawing function
DRAWINGS = {
    "draw_network": lambda: (([2, 3, 1],), {}),
    "plot_decision_regions": lambda: (
        (lambda G: (G[:, 0] > 0.5).astype(int), X_SMALL, np.array([0, 1, 0, 1])),
        {"resolution": 10},
    ),
    "plot_activation": lambda: (("tanh",), {}),
    "probability_bars": lambda: (([0.2, 0.8],), {"target": 1}),
    "plot_fit_1d": lambda: ((np.arange(3.0), np.arange(3.0), np.arange(3.0) + 0.1), {}),
    "plot_error_vs_width": lambda: (([1, 2, 4], {"tanh": [0.4, 0.2, 0.1]}), {}),
    "draw_graph": lambda: (([("x", "*"), ("w", "*"), ("*", "L")],), {"kinds": {"*": "op"}}),
    "plot_loss_surface": lambda: ((lambda W: (W**2).sum(axis=1),), {"n": 10}),
    "plot_trajectory": lambda: (([[0.0, 0.0], [1.0, 0.5]],), {}),
    "plot_landscape_contour": lambda: (bowl(), {"levels": 5}),
    "plot_landscape_surface": lambda: (bowl(), {}),
    "confusion_matrix": lambda: (([0, 1, 1], [1, 1, 0]), {}),
    "image_grid": lambda: ((np.arange(8.0).reshape(2, 4),), {"titles": ["a", "b"]}),
    "plot_layer_histograms": lambda: (([np.zeros(3), np.ones(3)], [-1.0, 0.0, 2.0]), {}),
}
# the two functions that are not drawings of their own: both tested below
HELPERS = {"get_ax", "loss_colorbar"}


def given_axes(name):
    if name == "plot_landscape_surface":
        return plt.figure().add_subplot(projection="3d")
    return plt.subplots()[1]


def panels(fig):
    """The figure's axes other than colour bars."""
    return [a for a in fig.axes if a.get_label() != "<colorbar>"]


def test_every_public_function_is_covered():
    assert set(DRAWINGS) | HELPERS == set(plotting.__all__)


@pytest.mark.parametrize("name", sorted(plotting.__all__))
def test_every_docstring_says_an_axes_is_returned(name):
    doc = inspect.getdoc(getattr(plotting, name))
    returned = doc.split("Returns\n-------\n", 1)[1].splitlines()[0]
    assert returned in ("matplotlib.axes.Axes", "mpl_toolkits.mplot3d.axes3d.Axes3D"), returned


@pytest.mark.parametrize("name", sorted(DRAWINGS))
def test_ax_is_an_optional_keyword(name):
    ax = inspect.signature(getattr(plotting, name)).parameters["ax"]
    assert ax.kind is inspect.Parameter.KEYWORD_ONLY
    assert ax.default is None


@pytest.mark.parametrize("name", sorted(DRAWINGS))
def test_draws_on_the_given_axes_and_returns_it(name):
    args, kwargs = DRAWINGS[name]()
    ax = given_axes(name)
    figures, rc = plt.get_fignums(), dict(plt.rcParams)
    assert getattr(plotting, name)(*args, ax=ax, **kwargs) is ax
    assert ax.has_data() or ax.texts, "nothing drawn"
    assert plt.get_fignums() == figures
    assert dict(plt.rcParams) == rc


@pytest.mark.parametrize("name", sorted(DRAWINGS))
def test_without_axes_makes_one_figure_of_one_panel_and_returns_its_axes(name):
    args, kwargs = DRAWINGS[name]()
    before = set(plt.get_fignums())
    ax = getattr(plotting, name)(*args, **kwargs)
    assert isinstance(ax, Axes)
    assert set(plt.get_fignums()) - before == {ax.figure.number}
    assert panels(ax.figure) == [ax]


def test_loss_colorbar_returns_the_axes_of_the_bar_it_adds():
    fig, axes = plt.subplots(1, 2)
    for ax in axes:
        plotting.plot_landscape_contour(*bowl(), ax=ax, colorbar=False)
    bar = plotting.loss_colorbar(axes)
    assert isinstance(bar, Axes) and bar.figure is fig
    assert bar.get_label() == "<colorbar>" and bar not in axes
    assert plt.get_fignums() == [fig.number]


def test_get_ax_returns_the_given_axes_or_a_new_one():
    ax = plt.subplots()[1]
    assert plotting.get_ax(ax) is ax
    new = plotting.get_ax(figsize=(2.0, 1.0))
    assert new is not ax and tuple(new.figure.get_size_inches()) == (2.0, 1.0)
    assert plotting.get_ax(projection="3d").name == "3d"

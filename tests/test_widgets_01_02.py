"""Figures and the explorer of lectures 01 (anatomy) and 02 (activations)."""

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

import nnkit as nk
from nnkit.plotting import draw_network, plot_activation, plot_decision_regions
from nnkit.widgets import _draw_neuron, neuron_explorer

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def circles(ax):
    return [p for p in ax.patches if isinstance(p, Circle)]


def texts(ax):
    return [t.get_text() for t in ax.texts]


def labelled_lines(ax):
    """Lines with a legend label, leaving out the helper's reference lines at 0."""
    return [line for line in ax.lines if not line.get_label().startswith("_")]


# ------------------------------------------------------------------ draw_network


def test_draw_network_has_a_node_per_unit_and_an_edge_per_weight():
    """[3, 4, 2]: 9 nodes, 3*4 + 4*2 edges, default captions with the sizes."""
    ax = draw_network([3, 4, 2])
    assert len(circles(ax)) == 9
    (edges,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(edges.get_segments()) == 3 * 4 + 4 * 2
    assert texts(ax) == ["input\n(3)", "hidden\n(4)", "output\n(2)"]
    assert not ax.axison


def test_draw_network_edges_join_consecutive_layers_only():
    """Every edge goes one column to the right: the graph is feedforward."""
    ax = draw_network([2, 3, 3, 1])
    (edges,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    columns = sorted({round(c.center[0], 6) for c in circles(ax)})
    step = columns[1] - columns[0]
    for (x0, _), (x1, _) in edges.get_segments():
        assert x1 - x0 == pytest.approx(step)


def test_draw_network_bias_nodes_and_node_labels():
    """show_bias adds one '+1' square per non-output layer with an edge to each next unit."""
    ax = draw_network([3, 4, 2], node_labels=["x", "h", r"\hat y"], show_bias=True)
    squares = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(squares) == 2
    assert texts(ax).count("+1") == 2
    segments = [len(c.get_segments()) for c in ax.collections if isinstance(c, LineCollection)]
    assert sorted(segments) == sorted([3 * 4 + 4 * 2, 4 + 2])
    assert "$x_{1}$" in texts(ax)
    assert "$h_{4}$" in texts(ax)
    assert r"$\hat y_{2}$" in texts(ax)


def test_draw_network_truncates_wide_layers_with_an_ellipsis():
    """A 784-unit layer shows max_nodes - 1 nodes, the last one labelled 784."""
    ax = draw_network([784, 16, 10], node_labels=["x", "h", "y"], max_nodes=8)
    assert len(circles(ax)) == 3 * 7
    assert texts(ax).count("⋮") == 3
    assert "$x_{784}$" in texts(ax)
    assert "$x_{5}$" not in texts(ax)
    assert "input\n(784)" in texts(ax)


def test_draw_network_draws_into_the_given_axes():
    fig, ax = plt.subplots()
    assert draw_network([2, 2, 1], ax=ax, layer_names=["a", "b", "c"]) is ax
    assert plt.get_fignums() == [fig.number]
    assert texts(ax)[-3:] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sizes": [3]}, "argument 'sizes'"),
        ({"sizes": [3, 0, 2]}, "argument 'sizes'"),
        ({"sizes": [3, 2], "layer_names": ["only one"]}, "argument 'layer_names'"),
        ({"sizes": [3, 2], "node_labels": ["x", "h", "y"]}, "argument 'node_labels'"),
        ({"sizes": [3, 2], "max_nodes": 2}, "argument 'max_nodes'"),
    ],
)
def test_draw_network_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message) as err:
        draw_network(**kwargs)
    assert str(err.value).startswith("draw_network:")


def test_draw_network_rejects_non_integer_sizes():
    with pytest.raises(TypeError, match="draw_network: argument 'sizes'"):
        draw_network(["three", 2])


# --------------------------------------------------------------- plot_activation


@pytest.mark.parametrize("name", list(nk.ACTIVATIONS))
def test_plot_activation_draws_f_and_its_derivative(name):
    """The two labelled curves are the registry's fn and grad on the given grid."""
    act = nk.ACTIVATIONS[name]
    z = np.linspace(-3, 3, 61)
    ax = plot_activation(name, z=z)
    f_line, grad_line = labelled_lines(ax)
    np.testing.assert_array_equal(f_line.get_xdata(), z)
    np.testing.assert_allclose(f_line.get_ydata(), act.fn(z))
    np.testing.assert_allclose(grad_line.get_ydata(), act.grad(z))
    assert ax.get_title() == name
    assert ax.get_xlabel() == "$z$"
    assert ax.get_ylabel()
    assert ax.get_legend() is not None


def test_plot_activation_without_derivative_or_legend():
    _, ax = plt.subplots()
    assert plot_activation(nk.ACTIVATIONS["tanh"], ax=ax, derivative=False, legend=False) is ax
    assert [line.get_label() for line in labelled_lines(ax)] == ["$f(z)$"]
    assert ax.get_legend() is None
    assert ax.get_ylabel() == "$f(z)$"


def test_plot_activation_rejects_unknown_names_and_bad_grids():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        plot_activation("swish")
    with pytest.raises(nk.ShapeError, match="plot_activation: argument 'z'"):
        plot_activation("relu", z=np.zeros((3, 2)))


# ---------------------------------------------------------- plot_decision_regions


def test_plot_decision_regions_evaluates_the_model_on_the_padded_square():
    """The predictor sees a grid covering the data plus the padding, and the points are drawn."""
    X = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0]])
    y = np.array([0, 1, 1])
    seen = []

    def above_diagonal(G):
        seen.append(G)
        return (G[:, 1] > G[:, 0]).astype(int)

    ax = plot_decision_regions(above_diagonal, X, y, resolution=30, padding=0.5)
    (grid,) = seen
    assert grid.shape == (30 * 30, 2)
    np.testing.assert_allclose(grid.min(axis=0), [-0.5, -0.5])
    np.testing.assert_allclose(grid.max(axis=0), [2.5, 2.5])
    assert ax.get_xlabel() == "$x_1$"
    assert ax.get_ylabel() == "$x_2$"
    labels = [c.get_label() for c in ax.collections if c.get_label().startswith("class")]
    assert labels == ["class 0", "class 1"]


def test_plot_decision_regions_accepts_an_nnkit_model():
    X, y = nk.xor()
    model = nk.MLP([2, 4, 2], rng=0)
    _, ax = plt.subplots()
    assert plot_decision_regions(model, X, y, ax=ax, resolution=20) is ax
    assert len(ax.collections) >= 3  # regions, boundary, one scatter per class


def test_plot_decision_regions_checks_shapes():
    with pytest.raises(nk.ShapeError, match="plot_decision_regions: argument 'X'"):
        plot_decision_regions(lambda G: np.zeros(len(G), int), np.zeros((4, 3)), np.zeros(4, int))
    with pytest.raises(nk.ShapeError, match="plot_decision_regions: argument 'y'"):
        plot_decision_regions(lambda G: np.zeros(len(G), int), np.zeros((4, 2)), np.zeros(3, int))


# --------------------------------------------------------------- neuron_explorer


def picture(w):
    return bytes(w.image.value)


def test_neuron_explorer_draws_its_initial_state():
    """A headless run stores a picture; the controls start at the requested values."""
    w = neuron_explorer(activation="tanh", w=2.0, b=-0.5)
    assert picture(w).startswith(PNG_MAGIC)
    assert w.values() == {"activation": "tanh", "w": 2.0, "b": -0.5}
    assert list(w.controls["activation"].options) == list(nk.ACTIVATIONS)


@pytest.mark.parametrize(("control", "value"), [("activation", "gelu"), ("w", -2.5), ("b", 1.5)])
def test_neuron_explorer_redraws_when_a_control_moves(control, value):
    w = neuron_explorer()
    before = picture(w)
    w.controls[control].value = value
    assert picture(w).startswith(PNG_MAGIC)
    assert picture(w) != before


def test_neuron_drawing_shows_the_neuron_and_its_gradients():
    """Left: a = f(w x + b); right: da/db = f'(z) and da/dw = x f'(z); all axes labelled."""
    fig = Figure()
    _draw_neuron(fig, "sigmoid", w=2.0, b=-1.0)
    ax_out, ax_grad = fig.axes
    x = ax_out.lines[1].get_xdata()
    z = 2.0 * x - 1.0
    np.testing.assert_allclose(ax_out.lines[1].get_ydata(), nk.sigmoid(z))
    dadb, dadw = ax_grad.lines
    np.testing.assert_allclose(dadb.get_ydata(), nk.ACTIVATIONS["sigmoid"].grad(z))
    np.testing.assert_allclose(dadw.get_ydata(), x * nk.ACTIVATIONS["sigmoid"].grad(z))
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_neuron_explorer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unknown activation"):
        neuron_explorer(activation="swish")
    with pytest.raises(ValueError, match="neuron_explorer: argument 'w'"):
        neuron_explorer(w=10.0)


# ------------------------------------------- fast redraws (every explorer; checked on 02's)


def test_neuron_explorer_redraws_the_same_picture_for_the_same_values():
    """Reused layout and renderer: back at earlier values, the picture is byte for byte the same."""
    w = neuron_explorer(activation="sigmoid", w=1.0, b=0.0)
    w.controls["b"].value = 1.0
    at_one = w.png
    w.controls["activation"].value = "relu"
    w.controls["w"].value = -2.0
    assert w.png != at_one
    w.controls["activation"].value = "sigmoid"
    w.controls["w"].value = 1.0
    assert w.png == at_one


def test_an_explorer_whose_picture_gains_an_axis_is_laid_out_afresh():
    """The frozen layout applies only to pictures with the axes of the first one."""

    def draw(fig, panels):
        for k in range(panels):
            ax = fig.add_subplot(1, panels, k + 1)
            ax.plot([0, 1], [0, k + 1])
            ax.set_title(f"panel {k + 1}")

    w = nk.widgets.explorer(draw, panels=ipywidgets.IntSlider(value=1, min=1, max=3))
    one = w.png
    w.controls["panels"].value = 3
    three = w.png
    assert three.startswith(PNG_MAGIC) and three != one
    w.controls["panels"].value = 1
    assert w.png == one

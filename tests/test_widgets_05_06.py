"""Figures and the explorer of lectures 05 (backpropagation) and 06 (optimization)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.contour import QuadContourSet
from matplotlib.figure import Figure
from matplotlib.text import Annotation

import nnkit as nk
from nnkit.plotting import draw_graph, plot_loss_surface, plot_trajectory
from nnkit.widgets import _descent_path, _draw_optimizer, optimizer_explorer

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

NEURON = [
    ("x", "z"),
    ("w", "z"),
    ("b", "z"),
    ("z", "u"),
    ("u", "l"),
    ("y", "l"),
    ("w", "r"),
    ("l", "L"),
    ("r", "L"),
]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def node_boxes(ax):
    """The node labels: texts that are not arrows and have a box."""
    return {
        t.get_text(): t
        for t in ax.texts
        if not isinstance(t, Annotation) and t.get_bbox_patch() is not None
    }


def arrows(ax):
    return [t for t in ax.texts if isinstance(t, Annotation)]


def arrow_heads(ax):
    return [a for a in arrows(ax) if a.arrow_patch.get_arrowstyle().__class__.__name__ != "Curve"]


# -------------------------------------------------------------------- draw_graph


def test_draw_graph_draws_each_node_once_and_one_arrow_head_per_edge():
    """Nine edges over eight nodes: eight boxes, nine arrow heads, axes hidden."""
    ax = draw_graph(NEURON)
    assert set(node_boxes(ax)) == {"x", "w", "b", "z", "u", "y", "l", "r", "L"}
    assert len(arrow_heads(ax)) == len(NEURON)
    assert not ax.axison


def test_draw_graph_every_forward_edge_points_right():
    """Columns follow the dependencies: a parent sits left of each of its children."""
    boxes = node_boxes(draw_graph(NEURON))
    for parent, child in NEURON:
        assert boxes[parent].get_position()[0] < boxes[child].get_position()[0]
    # the loss is alone in the last column
    xs = {name: t.get_position()[0] for name, t in boxes.items()}
    assert xs["L"] == max(xs.values())
    assert sum(x == xs["L"] for x in xs.values()) == 1


def test_draw_graph_labels_kinds_and_edge_labels():
    """Labels replace node ids, kinds pick the box colour, edge labels are written."""
    ax = draw_graph(
        NEURON,
        labels={"z": "z = wx + b"},
        kinds={"w": "param", "x": "input", "L": "loss", "u": "op"},
        edge_labels={("w", "r"): "2w"},
    )
    boxes = node_boxes(ax)
    assert "z = wx + b" in boxes and "z" not in boxes
    colours = {name: boxes[name].get_bbox_patch().get_facecolor() for name in ("w", "x", "L", "r")}
    assert len(set(colours.values())) == 4  # param, input, loss and the default all differ
    assert "2w" in [t.get_text() for t in ax.texts]


def test_draw_graph_backward_reverses_the_arrows():
    """direction='backward' keeps the layout and points every head at the parent."""
    forward = draw_graph(NEURON)
    backward = draw_graph(NEURON, direction="backward")
    f_boxes, b_boxes = node_boxes(forward), node_boxes(backward)
    for name in f_boxes:
        assert f_boxes[name].get_position() == b_boxes[name].get_position()
    heads = arrow_heads(backward)
    targets = {a.xycoords.get_text() for a in heads if isinstance(a.xycoords, plt.Text)}
    # in the backward picture no arrow ends at L, and every parent receives one
    assert "L" not in targets
    assert {p for p, _ in NEURON} <= targets
    assert (
        heads[0].arrow_patch.get_edgecolor() != arrow_heads(forward)[0].arrow_patch.get_edgecolor()
    )


def test_draw_graph_long_edges_bend_through_waypoints():
    """An edge skipping two columns is drawn as three pieces, only the last with a head."""
    ax = draw_graph([("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")])
    assert len(arrows(ax)) == 3 + 3
    assert len(arrow_heads(ax)) == 4


def test_draw_graph_uses_the_given_axes_and_changes_no_global_state():
    before = dict(plt.rcParams)
    fig, ax = plt.subplots()
    assert draw_graph(NEURON, ax=ax) is ax
    assert len(fig.axes) == 1
    assert dict(plt.rcParams) == before


@pytest.mark.parametrize(
    ("edges", "kwargs", "message"),
    [
        ([], {}, "empty"),
        ([("a", "b"), ("b", "a")], {}, "cycle"),
        ([("a", "a")], {}, "cycle"),
        ([("a", "b", "c")], {}, "pair"),
        ([("a", "b")], {"direction": "sideways"}, "direction"),
    ],
)
def test_draw_graph_refuses_bad_input(edges, kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        draw_graph(edges, **kwargs)
    assert "draw_graph" in str(info.value)


def test_draw_graph_handles_a_long_chain():
    """A chain longer than Python's recursion limit (1000) is laid out without recursing."""
    chain = [(i, i + 1) for i in range(1100)]
    ax = draw_graph(chain, figsize=(8, 2))
    assert len(node_boxes(ax)) == 1101


# ------------------------------------------------------------ plot_loss_surface


def quadratic(W):
    return 0.5 * (W[:, 0] ** 2 + 10.0 * W[:, 1] ** 2)


def test_plot_loss_surface_evaluates_the_grid_once_and_labels_the_axes():
    calls = []

    def loss(W):
        calls.append(W.shape)
        return quadratic(W)

    ax = plot_loss_surface(loss, xlim=(-2, 2), ylim=(-1, 1), n=30)
    assert isinstance(ax.collections[-1], QuadContourSet)
    assert calls == [(900, 2)]
    assert ax.get_xlabel() == "$w_1$" and ax.get_ylabel() == "$w_2$"
    assert ax.get_xlim() == (-2, 2) and ax.get_ylim() == (-1, 1)


def test_plot_loss_surface_log_levels_are_geometric_above_the_minimum():
    contours = plot_loss_surface(quadratic, n=41, levels=10).collections[-1]
    heights = np.asarray(contours.levels) - quadratic(np.zeros((1, 2)))[0]
    ratios = heights[1:] / heights[:-1]
    assert len(heights) == 10
    np.testing.assert_allclose(ratios, ratios[0])
    assert ratios[0] > 1.5


def test_plot_loss_surface_linear_levels_on_request():
    contours = plot_loss_surface(quadratic, n=41, levels=8, log=False).collections[-1]
    steps = np.diff(contours.levels)
    np.testing.assert_allclose(steps, steps[0])


def test_plot_loss_surface_refuses_a_loss_that_does_not_map_rows():
    with pytest.raises(nk.ShapeError, match=r"plot_loss_surface: argument 'loss'"):
        plot_loss_surface(lambda W: np.sum(quadratic(W)), n=10)


# --------------------------------------------------------------- plot_trajectory


def test_plot_trajectory_draws_the_path_line_with_start_and_end_marks():
    path = np.array([[0.0, 0.0], [1.0, 0.5], [1.5, 0.2]])
    _, ax = plt.subplots()
    assert plot_trajectory(path, ax=ax, label="GD", color="tab:red") is ax
    line = ax.lines[-3]
    np.testing.assert_array_equal(line.get_xydata(), path)
    assert line.get_label() == "GD"
    # the start and the end get their own markers, in the path's colour
    marks = [m for m in ax.lines if m is not line]
    assert [tuple(m.get_xydata()[0]) for m in marks] == [(0.0, 0.0), (1.5, 0.2)]
    assert all(m.get_color() == line.get_color() for m in marks)


def test_plot_trajectory_refuses_a_path_that_is_not_2d_points():
    with pytest.raises(nk.ShapeError, match="plot_trajectory: argument 'path'"):
        plot_trajectory(np.zeros((5, 3)))


# ------------------------------------------------------------ optimizer_explorer


def ravine_grad(w):
    return np.array([w[0], 20.0 * w[1]])


def test_descent_path_is_the_velocity_form_of_momentum():
    """v <- beta v - lr g(w); w <- w + v, starting from v = 0."""
    lr, beta = 0.02, 0.8
    path = _descent_path(ravine_grad, (-4.0, 1.0), lr, beta, steps=25)
    w, v, expected = np.array([-4.0, 1.0]), np.zeros(2), [np.array([-4.0, 1.0])]
    for _ in range(25):
        v = beta * v - lr * ravine_grad(w)
        w = w + v
        expected.append(w)
    np.testing.assert_allclose(path, np.array(expected), rtol=1e-12)


def test_descent_path_stops_when_it_diverges_without_warnings():
    """lr above 2/20 makes the ravine's steep direction blow up; the run stops early."""
    path = _descent_path(ravine_grad, (-4.0, 1.0), 0.2, 0.0, steps=300)
    assert len(path) < 301
    assert np.abs(path[-1]).max() > 1e3
    assert np.all(np.isfinite(path))


def test_momentum_reaches_the_deeper_of_two_basins():
    """The claim the lecture asks students to find: momentum crosses the ridge."""
    from nnkit.widgets import _SURFACES

    _, grad, start, *_ = _SURFACES["two basins"]
    plain = _descent_path(grad, start, 0.02, 0.0, steps=200)
    heavy = _descent_path(grad, start, 0.02, 0.8, steps=200)
    assert plain[-1][0] > 0.5  # the shallow basin at w1 ~ 0.96
    assert heavy[-1][0] < -0.5  # the deeper one at w1 ~ -1.04


def test_optimizer_explorer_draws_at_creation_and_redraws_on_every_control():
    w = optimizer_explorer()
    assert set(w.controls) == {"lr", "momentum", "surface", "steps"}
    pictures = [w.png]
    assert pictures[0].startswith(PNG_MAGIC)
    for name, value in [("lr", 0.02), ("momentum", 0.8), ("surface", "banana"), ("steps", 200)]:
        w.controls[name].value = value
        assert w.png.startswith(PNG_MAGIC)
        assert w.png != pictures[-1], f"changing {name} did not change the picture"
        pictures.append(w.png)


def test_optimizer_explorer_survives_divergence():
    """A learning rate far too large draws a picture (and, under pytest, warns nothing)."""
    w = optimizer_explorer(lr=1.0, steps=300)
    assert w.png.startswith(PNG_MAGIC)


@pytest.mark.parametrize("surface", ["ravine", "banana", "two basins"])
def test_draw_optimizer_labels_both_panels(surface):
    fig = Figure()
    _draw_optimizer(fig, lr=0.01, momentum=0.5, surface=surface, steps=30)
    path_ax, loss_ax = fig.axes
    assert path_ax.get_xlabel() and path_ax.get_ylabel() and path_ax.get_title()
    assert loss_ax.get_xlabel() == "step $t$"
    assert loss_ax.get_yscale() == "log"
    assert "0.50" in path_ax.get_title()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"surface": "saddle"}, "surface"),
        ({"lr": 2.0}, "lr"),
        ({"momentum": 1.0}, "momentum"),
        ({"steps": 5}, "steps"),
    ],
)
def test_optimizer_explorer_refuses_out_of_range_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"optimizer_explorer: argument '{name}'"):
        optimizer_explorer(**kwargs)

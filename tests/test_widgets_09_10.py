"""The figure helper and the explorer of lecture 09 (initialisation); lecture 10 has none."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

import nnkit as nk
from nnkit import plotting, widgets

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------ plot_layer_histograms


def test_layer_histograms_stack_one_polygon_per_layer_at_its_height():
    """Layer l's histogram sits on the line y = l and reaches at most l + 0.9."""
    rng = np.random.default_rng(0)
    samples = [rng.normal(size=500) * s for s in (0.5, 1.0, 2.0)]
    ax = plotting.plot_layer_histograms(samples, np.linspace(-3, 3, 13))
    collection = ax.collections[-1]
    assert isinstance(collection, PolyCollection)
    paths = collection.get_paths()
    assert len(paths) == 3
    for level, path in enumerate(paths, start=1):
        y = path.vertices[:, 1]
        assert y.min() == pytest.approx(level)
        assert y.max() == pytest.approx(level + 0.9)  # the tallest bin is scaled to 0.9
    assert ax.get_xlim() == (-3.0, 3.0)
    assert ax.get_ylabel() == "layer"


def test_layer_histograms_count_outliers_in_the_edge_bins():
    """Values beyond the edges pile up in the first and last bin instead of vanishing."""
    ax = plotting.plot_layer_histograms([[-50.0, -50.0, 0.1, 50.0]], [-1, 0, 1])
    y = ax.collections[-1].get_paths()[0].vertices[:, 1]
    # bins [-1, 0) holds the two clipped -50s (the tallest), [0, 1] the 0.1 and the clipped 50
    np.testing.assert_allclose(np.unique(np.round(y, 6)), [1.0, 1.9])


def test_layer_histograms_refuse_bad_bins():
    with pytest.raises(ValueError, match="plot_layer_histograms: argument 'bins'"):
        plotting.plot_layer_histograms([np.zeros(3)], [1.0, 0.0])


# ------------------------------------------------------------------ signal_explorer


def test_signal_explorer_draws_at_creation_and_redraws_on_every_control():
    w = widgets.signal_explorer(depth=6)
    assert set(w.controls) == {"depth", "activation", "init", "gain"}
    pictures = [w.png]
    assert pictures[0].startswith(PNG_MAGIC)
    for name, value in [("depth", 12), ("activation", "relu"), ("init", "he"), ("gain", 2.0)]:
        w.controls[name].value = value
        assert w.png.startswith(PNG_MAGIC)
        assert w.png != pictures[-1], f"changing {name} did not change the picture"
        pictures.append(w.png)


def test_draw_signals_shows_he_keeping_relu_signals_constant():
    """Right panel: flat for ReLU with He, shrinking by 1/sqrt(2) per layer with Xavier."""
    w = widgets.signal_explorer(depth=10, activation="relu", init="he")
    draw = w._draw

    def rms_curve(init):
        fig = Figure()
        draw(fig, depth=10, activation="relu", init=init, gain=1.0)
        ax_a, ax_g, ax_s = fig.axes
        assert ax_a.get_ylabel() == ax_g.get_ylabel() == "layer"
        assert len(ax_a.collections[0].get_paths()) == 10
        return ax_s.lines[0].get_ydata()

    he, xavier = rms_curve("he"), rms_curve("xavier")
    # 128 units per layer: one draw of the weights scatters the ratio by about 20%
    assert 0.6 < he[-1] / he[0] < 1.6
    assert xavier[-1] / xavier[0] == pytest.approx(0.5 ** (9 / 2), rel=0.5)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"depth": 0}, "depth"),
        ({"activation": "gelu"}, "activation"),
        ({"init": "zeros"}, "init"),
        ({"gain": 10.0}, "gain"),
    ],
)
def test_signal_explorer_refuses_out_of_range_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"signal_explorer: argument '{name}'"):
        widgets.signal_explorer(**kwargs)


def test_signal_explorer_is_exported():
    assert nk.widgets.signal_explorer is widgets.signal_explorer

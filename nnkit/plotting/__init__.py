"""Figures for the lectures, one module per lecture topic, in lecture order.

==================  =======  ===========================================================
module              lecture  functions
==================  =======  ===========================================================
``anatomy``         1        ``draw_network``, ``plot_decision_regions``
``activations``     2        ``plot_activation``
``outputs``         3        ``probability_bars``
``approximation``   4        ``plot_fit_1d``, ``plot_error_vs_width``
``backprop``        5        ``draw_graph``
``optimization``    6        ``plot_loss_surface``, ``plot_trajectory``
``landscape``       7        ``plot_landscape_contour``, ``plot_landscape_surface``,
                             ``loss_colorbar``
``digits``          8        ``confusion_matrix``, ``image_grid``
``initialisation``  9        ``plot_layer_histograms``
==================  =======  ===========================================================

Every function is re-exported here: ``nk.plotting.draw_network(...)``.

One convention for all of them
------------------------------
- **One panel each.** A function draws on one matplotlib Axes, passed as the
  keyword ``ax=``; with ``ax=None`` it makes a new figure of a size that suits
  the picture. Several panels are made by the caller (``plt.subplots``), one
  call per panel.
- **It returns that Axes**, whatever it drew: one return type to remember, and
  ``ax.set_title(...)`` follows directly. The artists it added are on the axes
  (``ax.lines``, ``ax.collections``, ``ax.images``, ``ax.containers``,
  ``ax.texts``); each docstring says which one is which, for a caller that wants
  one, e.g. ``fig.colorbar(ax.images[-1], ax=ax)``. ``loss_colorbar(ax)``, which
  decorates axes already drawn, returns the axes of the bar it adds.
  ``History.plot`` and ``get_ax`` follow the same rule.
- **No global state changes**: no ``plt.show()``, no rcParams edits.
"""

from ._common import get_ax
from .activations import plot_activation
from .anatomy import draw_network, plot_decision_regions
from .approximation import plot_error_vs_width, plot_fit_1d
from .backprop import draw_graph
from .digits import confusion_matrix, image_grid
from .initialisation import plot_layer_histograms
from .landscape import loss_colorbar, plot_landscape_contour, plot_landscape_surface
from .optimization import plot_loss_surface, plot_trajectory
from .outputs import probability_bars

__all__ = [
    "confusion_matrix",
    "draw_graph",
    "draw_network",
    "get_ax",
    "image_grid",
    "loss_colorbar",
    "plot_activation",
    "plot_decision_regions",
    "plot_error_vs_width",
    "plot_fit_1d",
    "plot_landscape_contour",
    "plot_landscape_surface",
    "plot_layer_histograms",
    "plot_loss_surface",
    "plot_trajectory",
    "probability_bars",
]

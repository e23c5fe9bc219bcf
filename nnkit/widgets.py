"""Interactive explorers for the lectures, one function per explorer.

Each explorer is built by :func:`explorer`: a row of controls above a picture.
The picture is a matplotlib figure drawn off-screen (no pyplot, so no global
state and no stray windows) and shown as PNG in an ``ipywidgets.Image``. The
initial state is drawn when the widget is created, so a notebook executed
headless (nbclient, nbconvert) still stores a meaningful picture, and moving a
control redraws it.
"""

from __future__ import annotations

import io

import ipywidgets as widgets
from matplotlib.figure import Figure

__all__ = ["Explorer", "explorer"]


class Explorer(widgets.VBox):
    """Controls stacked above the picture ``draw`` makes of their values.

    Attributes
    ----------
    controls : dict[str, ipywidgets.ValueWidget]
        The controls by the keyword ``draw`` receives their value as.
    image : ipywidgets.Image
        The current picture, PNG bytes in ``image.value``.
    """

    def __init__(self, draw, controls, figsize=(6.0, 3.5), dpi=100):
        self.controls = dict(controls)
        self.image = widgets.Image(format="png")
        self._draw, self._figsize, self._dpi = draw, figsize, dpi
        super().__init__([widgets.HBox(list(self.controls.values())), self.image])
        for control in self.controls.values():
            control.observe(self.redraw, names="value")
        self.redraw()

    @property
    def png(self) -> bytes:
        """The PNG bytes of the current picture (``image.value`` is a memoryview)."""
        return bytes(self.image.value)

    def values(self) -> dict:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self, _change=None) -> None:
        """Draw a fresh figure from the current values into ``image``."""
        fig = Figure(figsize=self._figsize, dpi=self._dpi, layout="constrained")
        self._draw(fig, **self.values())
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        self.image.value = buffer.getvalue()


def explorer(draw, figsize=(6.0, 3.5), **controls) -> Explorer:
    """Build an :class:`Explorer` from a drawing function and named controls.

    Parameters
    ----------
    draw : callable
        ``draw(fig, **values)`` draws on the empty ``matplotlib.figure.Figure``.
    figsize : tuple of float
        Figure size in inches.
    **controls : ipywidgets.ValueWidget
        One control per keyword argument of ``draw``.

    Examples
    --------
    >>> import ipywidgets as widgets
    >>> def draw(fig, slope):
    ...     fig.add_subplot().plot([0, 1], [0, slope])
    >>> w = explorer(draw, slope=widgets.FloatSlider(value=1.0, min=-2, max=2))
    >>> w.controls["slope"].value = 2.0  # redraws the picture
    """
    return Explorer(draw, controls, figsize=figsize)

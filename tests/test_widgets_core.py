"""The explorer every lecture widget is built on."""

import ipywidgets as widgets

from nnkit.widgets import explorer

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def draw_line(fig, slope, label):
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, slope], label=label)
    ax.set_ylim(-2, 2)


def make():
    return explorer(
        draw_line,
        slope=widgets.FloatSlider(value=1.0, min=-2.0, max=2.0),
        label=widgets.Text(value="line"),
    )


def test_initial_state_is_drawn_at_creation():
    """A headless run stores a picture without anyone touching a control."""
    w = make()
    assert w.png.startswith(PNG_MAGIC)
    assert w.values() == {"slope": 1.0, "label": "line"}


def test_moving_a_control_redraws():
    """Changing a control's value replaces the picture with a different one."""
    w = make()
    before = w.png
    w.controls["slope"].value = -1.5
    assert w.png.startswith(PNG_MAGIC)
    assert w.png != before


def test_same_values_give_the_same_picture():
    """Drawing is deterministic, so a redraw at the same state changes nothing."""
    w = make()
    before = w.png
    w.redraw()
    assert w.png == before


def test_controls_sit_above_the_picture():
    w = make()
    row, picture = w.children
    assert picture is w.image
    assert list(row.children) == list(w.controls.values())


def test_picture_is_shown_at_its_own_pixel_width():
    """A 6-inch figure at 100 dpi is displayed 600 px wide, not stretched to the page."""
    w = make()
    assert w.image.layout.width == "600px"
    assert w.image.layout.max_width == "100%"

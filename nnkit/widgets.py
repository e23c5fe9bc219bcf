"""Interactive explorers for the lectures, one function per explorer.

Each explorer is built by :func:`explorer`: a row of controls above a picture.
The picture is a matplotlib figure drawn off-screen (no pyplot, so no global
state and no stray windows) and shown as PNG in an ``ipywidgets.Image``. The
initial state is drawn when the widget is created, so a notebook executed
headless (nbclient, nbconvert) still stores a meaningful picture, and moving a
control redraws it.
"""

from __future__ import annotations

import functools
import gc
import io
from functools import partial

import ipywidgets as widgets
import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import (
    FixedLocator,
    FormatStrFormatter,
    FuncFormatter,
    LogLocator,
    NullLocator,
)
from scipy import special
from threadpoolctl import threadpool_limits

from ._checks import ShapeError, as_float_array, check_labels, check_same_shape, check_shape
from .activations import ACTIVATIONS, get_activation, sigmoid_grad
from .landscape import random_directions, slice_2d
from .layers import MLP, propagate_signals
from .losses import softmax
from .optim import SGD, Adam
from .plotting import (
    plot_error_vs_width,
    plot_fit_1d,
    plot_landscape_contour,
    plot_landscape_surface,
    plot_layer_histograms,
    plot_loss_surface,
    plot_trajectory,
    probability_bars,
)
from .train import fit

__all__ = [
    "Explorer",
    "architecture_slices",
    "digit_explorer",
    "explorer",
    "landscape_explorer",
    "neuron_explorer",
    "optimizer_explorer",
    "saturation_explorer",
    "signal_explorer",
    "temperature_explorer",
    "width_explorer",
]


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
        # Show the picture at its own pixel size (shrinking on narrow screens):
        # stretched to the output width, a small figure would be upscaled and blurry.
        width = f"{round(figsize[0] * dpi)}px"
        self.image = widgets.Image(
            format="png", layout=widgets.Layout(width=width, max_width="100%")
        )
        self._draw, self._figsize, self._dpi = draw, figsize, dpi
        self._positions = None  # axes positions of the first picture, see redraw
        self._renderer = None  # the last picture's Agg renderer and its size key, see redraw
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
        """Draw a fresh figure from the current values into ``image``.

        The first picture is laid out by matplotlib's constrained layout. Later pictures
        with the same number of axes reuse its axes positions instead, and every picture
        reuses the last one's renderer: a hand on a slider wants a new picture in well under
        200 ms, and the layout solver and measuring text cost about as much as drawing.
        """
        frozen = self._positions is not None
        collecting = gc.isenabled()
        gc.disable()  # see the end: one cheap collection instead of untimely full ones
        try:
            self._draw_picture(frozen)
        finally:
            if collecting:
                gc.enable()
        gc.collect(1)

    def _draw_picture(self, frozen: bool) -> None:
        # a fixed title height spares matplotlib measuring every tick label to place titles
        with mpl.rc_context({"axes.titley": 1.0}):
            fig = Figure(
                figsize=self._figsize, dpi=self._dpi, layout=None if frozen else "constrained"
            )
            canvas = FigureCanvasAgg(fig)
            if self._renderer is not None:
                # NOTE: private matplotlib attributes (pinned version): the renderer of the last
                # picture, same size and dpi, keeps its text-metrics and mathtext caches warm
                canvas.renderer, canvas._lastKey = self._renderer
            self._draw(fig, **self.values())
            if frozen and len(fig.axes) == len(self._positions):
                for ax, position in zip(fig.axes, self._positions, strict=True):
                    ax.set_position(position)
            elif frozen:  # a different set of axes: lay it out afresh
                fig.set_layout_engine("constrained")
            buffer = io.BytesIO()
            # fast zlib level: for these pictures it halves the encoding time, for 5% more bytes
            fig.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
            self._renderer = canvas.renderer, canvas._lastKey
        if not frozen:
            self._positions = [ax.get_position(original=True) for ax in fig.axes]
        # A figure is a web of reference cycles. Cleared, most of it is freed by reference
        # counting at once, and the young-generation collection in redraw frees the rest:
        # left to itself, Python's collector runs a full collection every few redraws, a
        # 100-150 ms spike under the slider.
        fig.clear()
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


# ------------------------------------------------ softmax temperature (lecture 03)


def _few_log_ticks(axis, n=6):
    """At most ``n`` labelled decades and no minor ticks on a log axis.

    Every tick is several matplotlib artists; a loss gap spanning 18 decades gets over 150
    minor ticks, which cost more to draw than the curve itself.
    """
    axis.set_major_locator(LogLocator(numticks=n))
    axis.set_minor_locator(NullLocator())


def _draw_temperature(fig, T, z, labels):
    """Softmax of z / T as bars (left) and each class's probability against T (right)."""
    ax_bars, ax_curves = fig.subplots(1, 2, width_ratios=[1, 1.3])
    p = softmax(z / T)
    entropy = -float(np.sum(special.xlogy(p, p)))
    probability_bars(p, labels, ax=ax_bars)
    ax_bars.set_title(f"$T$ = {T:.2f}: entropy {entropy:.2f} of max {np.log(z.size):.2f} nats")
    temperatures = np.geomspace(0.05, 20.0, 200)
    P = softmax(z[None, :] / temperatures[:, None])
    for c, label in enumerate(labels):
        ax_curves.semilogx(temperatures, P[:, c], label=f"{label} ($z$ = {z[c]:g})")
    ax_curves.axvline(T, color="k", lw=1, ls=":")
    _few_log_ticks(ax_curves.xaxis)
    ax_curves.set_ylim(0, 1.02)
    ax_curves.set_xlabel("temperature $T$")
    ax_curves.set_ylabel("softmax$(z / T)$")
    ax_curves.set_title("every class, all temperatures")
    ax_curves.legend(fontsize="small")


def temperature_explorer(logits=(2.0, 1.0, 0.5, -1.0), labels=None, T=1.0) -> Explorer:
    """Softmax with temperature, p = softmax(z / T), as T slides from 0.05 to 20.

    Small T sharpens p towards the one-hot of argmax z; large T flattens it
    towards uniform 1/C. The argmax never changes.

    Parameters
    ----------
    logits : array_like, shape (C,)
        The logits z, C >= 2.
    labels : sequence of str, length C, optional
        Class names; default ``"0", "1", ...``.
    T : float
        Initial temperature, in [0.05, 20].

    Returns
    -------
    Explorer
        One control, ``T`` (a log-scale slider).
    """
    z = as_float_array(logits, "temperature_explorer", "logits", ndim=1)
    if z.shape[0] < 2:
        raise ShapeError(
            f"temperature_explorer: argument 'logits' needs C >= 2 entries, got {z.shape}"
        )
    labels = [str(c) for c in range(z.shape[0])] if labels is None else [str(s) for s in labels]
    if len(labels) != z.shape[0]:
        raise ShapeError(
            f"temperature_explorer: argument 'labels' must have {z.shape[0]} entries to match "
            f"'logits', got {len(labels)}"
        )
    if not 0.05 <= T <= 20:
        raise ValueError(f"temperature_explorer: argument 'T' must be in [0.05, 20], got {T}")
    slider = widgets.FloatLogSlider(
        value=T,
        base=10,
        min=np.log10(0.05),
        max=np.log10(20.0),
        step=0.01,
        description="T",
        continuous_update=False,
        readout_format=".2f",
    )
    return explorer(partial(_draw_temperature, z=z, labels=labels), figsize=(10, 3.6), T=slider)


# ------------------------------------------------ approximation by width (lecture 04)


def _draw_width(fig, width, x, target, fits, units, x_train, y_train):
    """The fit of one width (left), its hidden units (middle, if given), error vs width (right)."""
    axes = fig.subplots(1, 3 if units else 2, width_ratios=[1.3, 1, 1] if units else [1.3, 1])
    pred = fits[width]
    plot_fit_1d(x, target, pred, x_train, y_train, label=f"network, $M$ = {width}", ax=axes[0])
    axes[0].set_title(f"$M$ = {width} hidden units")
    if units:
        # every unit's term v_j h_j(x); the network's output is their sum plus the output bias
        axes[1].plot(x, units[width], lw=1)
        axes[1].set_xlabel("$x$")
        axes[1].set_ylabel("$v_j\\, h_j(x)$")
        axes[1].set_title("each unit's contribution")
    widths = sorted(fits)
    errors = [float(np.max(np.abs(fits[m] - target))) for m in widths]
    plot_error_vs_width(
        widths, {"max $|f - g|$": errors}, ax=axes[-1], ylabel="max $|f(x) - g(x)|$"
    )
    axes[-1].plot([width], [errors[widths.index(width)]], "o", ms=10, mfc="none", mec="k")
    axes[-1].set_title("error against width")
    _few_log_ticks(axes[-1].yaxis)


def width_explorer(x, target, fits, units=None, x_train=None, y_train=None, width=None) -> Explorer:
    """Step through approximations g_M of a 1-D function f by networks of width M.

    The approximations are computed beforehand (trained, or built by hand), so
    moving the slider only redraws.

    Parameters
    ----------
    x : array_like, shape (N,)
        Sorted points where ``target`` and every fit are evaluated.
    target : array_like, shape (N,)
        The function approximated, f(x).
    fits : mapping int -> array_like, shape (N,)
        The network's output g_M(x) for each width M.
    units : mapping int -> array_like, shape (N, M), optional
        Each hidden unit's contribution v_j h_j(x) to g_M, for every width of
        ``fits``; drawn in a middle panel when given.
    x_train, y_train : array_like, shape (n,), optional
        Training points to show beside the fit.
    width : int, optional
        The width shown first; default the smallest.

    Returns
    -------
    Explorer
        One control, ``width`` (a slider over the widths of ``fits``).
    """
    func = "width_explorer"
    x = as_float_array(x, func, "x", ndim=1)
    target = as_float_array(target, func, "target", ndim=1)
    check_same_shape(x, target, func, "x", "target")
    if not fits:
        raise ValueError(f"{func}: argument 'fits' is empty; give at least one width")
    fits = {int(m): as_float_array(g, func, f"fits[{m}]", ndim=1) for m, g in fits.items()}
    for m, g in fits.items():
        check_same_shape(x, g, func, "x", f"fits[{m}]")
    if units is not None:
        if set(units) != set(fits):
            raise ValueError(f"{func}: 'units' must have the widths of 'fits', {sorted(fits)}")
        units = {int(m): as_float_array(u, func, f"units[{m}]", ndim=2) for m, u in units.items()}
        for m, u in units.items():
            check_shape(u, (x.shape[0], m), func, f"units[{m}]")
    widths = sorted(fits)
    width = widths[0] if width is None else int(width)
    if width not in fits:
        raise ValueError(f"{func}: argument 'width' must be one of {widths}, got {width}")
    slider = widgets.SelectionSlider(
        options=widths, value=width, description="M", continuous_update=False
    )
    draw = partial(
        _draw_width, x=x, target=target, fits=fits, units=units, x_train=x_train, y_train=y_train
    )
    return explorer(draw, figsize=(11, 3.4) if units else (9, 3.4), width=slider)


# ------------------------------------------------ one neuron (lecture 02)


def _draw_neuron(fig, activation, w, b):
    act = get_activation(activation)
    x = np.linspace(-4.0, 4.0, 401)
    z = w * x + b
    a, dadz = act.fn(z), act.grad(z)
    reference = act.fn(x)
    ax_out, ax_grad = fig.subplots(1, 2)

    ax_out.plot(x, reference, color="0.75", lw=1.2, label="$f(x)$: $w = 1$, $b = 0$")
    ax_out.plot(x, a, color="C0", lw=2, label=f"$a = f({w:.2g}\\,x {b:+.2g})$")
    if w != 0 and abs(b / w) <= 4.0:
        ax_out.axvline(-b / w, color="C3", lw=1, ls=":", label="$z = 0$ at $x = -b/w$")
    low, high = float(reference.min()), float(reference.max())
    pad = 0.25 * (high - low)
    ax_out.set_ylim(low - pad, high + pad)
    ax_out.set_xlabel("input $x$")
    ax_out.set_ylabel("output $a$")
    ax_out.set_title(f"neuron output, {act.name}")
    ax_out.legend(loc="upper left", fontsize="small")

    # where f'(z) is (almost) zero the neuron learns (almost) nothing from that input
    flat = np.abs(dadz) < 0.01
    ax_grad.fill_between(
        x,
        0,
        1,
        where=flat,
        color="0.9",
        transform=ax_grad.get_xaxis_transform(),
        label="$|f'(z)| < 0.01$",
    )
    ax_grad.plot(x, dadz, color="C1", lw=2, label="$\\partial a / \\partial b = f'(z)$")
    ax_grad.plot(
        x, x * dadz, color="C2", lw=1.5, ls="--", label="$\\partial a / \\partial w = x\\, f'(z)$"
    )
    ax_grad.set_xlabel("input $x$")
    ax_grad.set_ylabel("gradient")
    ax_grad.set_title("what training sees")
    ax_grad.legend(loc="upper left", fontsize="small")


def neuron_explorer(activation="sigmoid", w=1.0, b=0.0) -> Explorer:
    """One neuron with one input, a = f(w x + b): pick f, move w and b.

    The left panel shows the output a against the input x on [-4, 4], with the
    activation itself (w = 1, b = 0) in grey and the point where z = w x + b
    crosses 0. The right panel shows the gradients of a with respect to the two
    parameters, da/db = f'(z) and da/dw = x f'(z), and shades the inputs where
    f'(z) is nearly 0: there the neuron gets almost no learning signal
    (a saturated sigmoid, a dead ReLU).

    Parameters
    ----------
    activation : str
        Initial activation, a key of ``nk.ACTIVATIONS``.
    w, b : float
        Initial weight and bias, in [-4, 4].

    Returns
    -------
    Explorer
        Controls ``activation`` (dropdown), ``w`` and ``b`` (sliders).
    """
    name = get_activation(activation).name
    for arg, value in [("w", w), ("b", b)]:
        if not -4.0 <= float(value) <= 4.0:
            raise ValueError(f"neuron_explorer: argument '{arg}' must be in [-4, 4], got {value}")
    slider = partial(widgets.FloatSlider, min=-4.0, max=4.0, step=0.1, continuous_update=False)
    return explorer(
        _draw_neuron,
        figsize=(9.0, 3.4),
        activation=widgets.Dropdown(options=list(ACTIVATIONS), value=name, description="f"),
        w=slider(value=float(w), description="w"),
        b=slider(value=float(b), description="b"),
    )


# ------------------------------------------------ optimiser paths on a 2-D loss (lecture 06)


def _ravine(W):
    return 0.5 * (W[:, 0] ** 2 + 20.0 * W[:, 1] ** 2)


def _ravine_grad(w):
    return np.array([w[0], 20.0 * w[1]])


def _banana(W):
    return (1.0 - W[:, 0]) ** 2 + 10.0 * (W[:, 1] - W[:, 0] ** 2) ** 2


def _banana_grad(w):
    bend = w[1] - w[0] ** 2
    return np.array([-2.0 * (1.0 - w[0]) - 40.0 * w[0] * bend, 20.0 * bend])


def _two_basins(W):
    return (W[:, 0] ** 2 - 1.0) ** 2 + 0.3 * W[:, 0] + 0.5 * W[:, 1] ** 2


def _two_basins_grad(w):
    return np.array([4.0 * w[0] * (w[0] ** 2 - 1.0) + 0.3, w[1]])


# name -> (loss of points as rows, gradient at one point, start, xlim, ylim, lowest loss)
_SURFACES = {
    "ravine": (_ravine, _ravine_grad, (-4.0, 1.0), (-4.5, 4.5), (-1.5, 1.5), 0.0),
    "banana": (_banana, _banana_grad, (-1.5, 2.0), (-2.0, 2.0), (-1.0, 3.0), 0.0),
    # the lower minimum is at w1 = -1.0356...; found numerically, it is a cubic's root
    "two basins": (
        _two_basins,
        _two_basins_grad,
        (1.8, 1.5),
        (-2.0, 2.2),
        (-2.0, 2.0),
        float(_two_basins(np.array([[np.roots([4.0, 0.0, -4.0, 0.3]).real.min(), 0.0]]))[0]),
    ),
}


def _descent_path(grad, start, lr, momentum=0.0, steps=50, bound=1e3):
    """Iterates of gradient descent with momentum on a function of a few parameters.

    v <- momentum * v - lr * grad(w);  w <- w + v, from v = 0 and w = start,
    using :class:`nnkit.optim.SGD` for the update. Stops early, before any
    floating-point overflow, once a coordinate leaves [-bound, bound]: the run
    has diverged.

    Parameters
    ----------
    grad : callable
        ``grad(w) -> g``, both of shape (P,).
    start : array_like, shape (P,)
        The first iterate w_0.
    lr : float
        Learning rate, > 0.
    momentum : float
        beta in [0, 1); 0 is plain gradient descent.
    steps : int
        Number of updates.
    bound : float
        Coordinates beyond it count as divergence.

    Returns
    -------
    ndarray, shape (T + 1, P)
        w_0, w_1, ..., w_T as rows, T = ``steps`` unless the run diverged.
    """
    w = np.array(start, dtype=np.float64)
    opt = SGD(lr=lr, momentum=momentum)
    path = [w.copy()]
    for _ in range(int(steps)):
        opt.step({"w": w}, {"w": grad(w)})
        path.append(w.copy())
        if not np.all(np.abs(w) <= bound):
            break
    return np.array(path)


def _draw_optimizer(fig, lr, momentum, surface, steps):
    """Contours with the path of descent (left) and the loss gap against step (right)."""
    loss, grad, start, xlim, ylim, lowest = _SURFACES[surface]
    path = _descent_path(grad, start, lr, momentum, steps)
    ax_path, ax_loss = fig.subplots(1, 2, width_ratios=[1.4, 1])
    plot_loss_surface(loss, xlim, ylim, ax=ax_path, n=120, levels=20)
    inside = np.all((path >= [xlim[0], ylim[0]]) & (path <= [xlim[1], ylim[1]]), axis=1)
    # a diverging path jumps far outside the frame; draw the part that is still in view
    shown = path[: np.argmin(inside) if not inside.all() else None]
    if len(shown):
        plot_trajectory(shown, ax=ax_path, color="tab:red", markersize=2)
    diverged = not np.all(np.abs(path[-1]) <= 1e3)
    state = f"diverged at step {len(path) - 1}" if diverged else f"after {steps} steps"
    ax_path.set_title(f"lr = {lr:.3g}, momentum β = {momentum:.2f}: {state}", fontsize="medium")

    gap = loss(path) - lowest
    k = np.arange(len(path))
    ax_loss.semilogy(k, np.maximum(gap, 1e-16), color="tab:red")
    ax_loss.set_xlabel("step $t$")
    ax_loss.set_ylabel("$L(w_t) - L^*$")
    ax_loss.set_xlim(0, steps)
    ax_loss.set_title(
        f"final gap {gap[-1]:.2e}" if not diverged else "the loss blows up", fontsize="medium"
    )
    ax_loss.grid(True, which="major", alpha=0.3)
    _few_log_ticks(ax_loss.yaxis)


def optimizer_explorer(surface="ravine", lr=0.09, momentum=0.0, steps=60) -> Explorer:
    """Gradient descent with momentum on a 2-D loss: learning rate, momentum and surface.

    The update is v <- β v - lr ∇L(w), w <- w + v (β = 0: plain gradient
    descent). The left panel draws the contours of L and the path w_0, w_1,
    ... (square: start, star: last iterate; a diverging path is cut where it
    leaves the frame); the right one the gap L(w_t) - L* to the lowest loss,
    on a log scale. Three surfaces:
    ``"ravine"`` (an ill-conditioned quadratic, where plain descent zigzags),
    ``"banana"`` (a curved valley) and ``"two basins"`` (where momentum can
    carry the path over a ridge into the deeper minimum).

    Parameters
    ----------
    surface : {"ravine", "banana", "two basins"}
        The loss shown first.
    lr : float
        Initial learning rate, in [1e-4, 1].
    momentum : float
        Initial β, in [0, 0.99].
    steps : int
        Initial number of updates, in [10, 300].

    Returns
    -------
    Explorer
        Controls ``lr`` (log-scale slider), ``momentum``, ``surface`` and ``steps``.
    """
    func = "optimizer_explorer"
    if surface not in _SURFACES:
        raise ValueError(
            f"{func}: argument 'surface' must be one of {list(_SURFACES)}, got {surface!r}"
        )
    if not 1e-4 <= lr <= 1.0:
        raise ValueError(f"{func}: argument 'lr' must be in [1e-4, 1], got {lr}")
    if not 0.0 <= momentum <= 0.99:
        raise ValueError(f"{func}: argument 'momentum' must be in [0, 0.99], got {momentum}")
    if not 10 <= steps <= 300:
        raise ValueError(f"{func}: argument 'steps' must be in [10, 300], got {steps}")
    return explorer(
        _draw_optimizer,
        figsize=(10, 3.8),
        lr=widgets.FloatLogSlider(
            value=lr,
            base=10,
            min=-4,
            max=0,
            step=0.05,
            description="lr",
            continuous_update=False,
            readout_format=".4f",
        ),
        momentum=widgets.FloatSlider(
            value=momentum,
            min=0.0,
            max=0.99,
            step=0.01,
            description="momentum β",
            continuous_update=False,
            style={"description_width": "initial"},
        ),
        surface=widgets.Dropdown(options=list(_SURFACES), value=surface, description="surface"),
        steps=widgets.IntSlider(
            value=steps, min=10, max=300, step=10, description="steps", continuous_update=False
        ),
    )


# ------------------------------------------------ loss landscapes (lecture 07)

# Shared colour levels, so that slices of different networks can be compared by colour.
_LANDSCAPE_LEVELS = np.geomspace(0.01, 30.0, 16)


def _check_classification_data(X, y, func):
    X = as_float_array(X, func, "X", ndim=2)
    y = check_labels(y, func, "y")
    if len(y) != len(X):
        raise ShapeError(f"{func}: argument 'y' must have shape ({len(X)},), got {y.shape}")
    return X, y


# The settings landscape_explorer offers. Every combination is trained and sliced once, when
# the explorer is built (a few seconds for the lecture's 225 points), so a control only redraws.
LANDSCAPE_ACTIVATIONS = ("sigmoid", "tanh", "relu")
LANDSCAPE_WIDTHS = (4, 16, 64)
LANDSCAPE_DEPTHS = (1, 2, 6)


def architecture_slices(
    X,
    y,
    activations=LANDSCAPE_ACTIVATIONS,
    widths=LANDSCAPE_WIDTHS,
    depths=LANDSCAPE_DEPTHS,
    epochs=60,
    seed=0,
    resolution=21,
) -> dict:
    """Train one MLP per (activation, width, depth) and slice the loss around each.

    Every network is ``MLP([D] + [width] * depth + [C])`` trained with Adam (lr 0.01,
    batches of 32) for ``epochs`` epochs from seed ``seed``; its slice is the loss on
    theta* + a d1 + b d2 for a, b in [-1, 1] along two random filter-normalised
    directions (seed ``seed + 1``), on a ``resolution`` x ``resolution`` grid.

    Parameters
    ----------
    X : array_like, shape (N, D)
    y : array_like of int, shape (N,)
    activations, widths, depths : sequences
        The combinations to train: their Cartesian product.
    epochs, seed, resolution : int

    Returns
    -------
    dict
        ``(activation, width, depth) -> {"A", "B", "L", "loss", "acc", "n_parameters"}``
        with ``A, B, L`` of shape (resolution, resolution) as from :func:`slice_2d`, and the
        final training loss and accuracy of the run.
    """
    X, y = _check_classification_data(X, y, "architecture_slices")
    C = int(y.max()) + 1
    slices = {}
    # NOTE: these matrices are tiny; a second BLAS thread only fights for a loaded core
    with threadpool_limits(1):
        _train_and_slice_all(X, y, C, activations, widths, depths, epochs, seed, resolution, slices)
    return slices


def _train_and_slice_all(X, y, C, activations, widths, depths, epochs, seed, resolution, slices):
    """The loop of :func:`architecture_slices`, filling ``slices`` in place."""
    for activation in activations:
        for width in widths:
            for depth in depths:
                model = MLP([X.shape[1]] + [width] * depth + [C], activation=activation, rng=seed)
                history = fit(
                    model,
                    X,
                    y,
                    optimizer=Adam(lr=0.01),
                    epochs=epochs,
                    batch_size=32,
                    rng=seed,
                    progress=False,
                )
                d1, d2 = random_directions(model, rng=seed + 1)
                A, B, L = slice_2d(model, X, y, d1, d2, extent=1.0, resolution=resolution)
                slices[activation, width, depth] = {
                    "A": A,
                    "B": B,
                    "L": L,
                    "loss": history.train_loss[-1],
                    "acc": history.train_acc[-1],
                    "n_parameters": model.n_parameters(),
                }


def _draw_landscape(fig, activation, width, depth, slices):
    """One precomputed slice as contours and as a surface."""
    s = slices[activation, width, depth]
    A, B, L = s["A"], s["B"], s["L"]
    ax_contour = fig.add_subplot(1, 2, 1)
    ax_surface = fig.add_subplot(1, 2, 2, projection="3d")
    plot_landscape_contour(A, B, L, ax=ax_contour, levels=_LANDSCAPE_LEVELS)
    ax_contour.set_title("contours (log colour scale)", fontsize="medium")
    plot_landscape_surface(A, B, np.clip(L, 1e-3, None), ax=ax_surface, log=True)
    ax_surface.set_zlim(-2.0, 2.0)
    ax_surface.set_title("surface, height $\\log_{10}$ loss", fontsize="medium")
    fig.suptitle(
        f"{activation}, width {width}, depth {depth} ({s['n_parameters']:,} parameters): "
        f"training loss {s['loss']:.3f}, accuracy {s['acc']:.2f}",
        fontsize="medium",
    )


def landscape_explorer(
    X, y, activation="relu", width=16, depth=2, epochs=60, seed=0, slices=None
) -> Explorer:
    """The loss around a trained MLP, for a chosen activation, width and depth.

    For every combination of the activations ``LANDSCAPE_ACTIVATIONS``, the widths
    ``LANDSCAPE_WIDTHS`` and the depths ``LANDSCAPE_DEPTHS`` an
    ``MLP([D] + [width] * depth + [C])`` is trained with Adam (lr 0.01, batches of
    32) for ``epochs`` epochs, and the loss is sliced on the plane theta* + a d1 +
    b d2 through its trained parameters theta*, along two random filter-normalised
    directions, for a and b in [-1, 1] (:func:`architecture_slices`). That happens
    once, when the explorer is built (or not at all when ``slices`` is given), so a
    control only redraws. Colours are on one fixed log scale, so pictures of
    different networks compare directly.

    Parameters
    ----------
    X : array_like, shape (N, D)
        Training inputs; keep N small (a few hundred rows).
    y : array_like of int, shape (N,)
        Class labels 0..C-1.
    activation : str
        Initial hidden activation, one of ``LANDSCAPE_ACTIVATIONS``.
    width : int
        Initial hidden width, one of ``LANDSCAPE_WIDTHS``.
    depth : int
        Initial number of hidden layers, one of ``LANDSCAPE_DEPTHS``.
    epochs : int
        Training epochs per network.
    seed : int
        Seed of the initial weights, the batches and (plus 1) the directions.
    slices : dict, optional
        The result of :func:`architecture_slices` for these data, when already computed.

    Returns
    -------
    Explorer
        Controls ``activation`` (dropdown), ``width`` and ``depth`` (sliders).
    """
    func = "landscape_explorer"
    X, y = _check_classification_data(X, y, func)
    activations, widths, depths = LANDSCAPE_ACTIVATIONS, LANDSCAPE_WIDTHS, LANDSCAPE_DEPTHS
    if activation not in activations:
        raise ValueError(
            f"{func}: argument 'activation' must be one of {list(activations)}, got {activation!r}"
        )
    if width not in widths:
        raise ValueError(f"{func}: argument 'width' must be one of {list(widths)}, got {width}")
    if depth not in depths:
        raise ValueError(f"{func}: argument 'depth' must be one of {list(depths)}, got {depth}")
    if slices is None:
        slices = architecture_slices(X, y, epochs=int(epochs), seed=int(seed))
    missing = [
        (a, w, d) for a in activations for w in widths for d in depths if (a, w, d) not in slices
    ]
    if missing:
        raise ValueError(
            f"{func}: argument 'slices' lacks {len(missing)} settings, e.g. {missing[0]}"
        )
    return explorer(
        partial(_draw_landscape, slices=slices),
        figsize=(10.0, 4.2),
        activation=widgets.Dropdown(
            options=list(activations), value=activation, description="activation"
        ),
        width=widgets.SelectionSlider(
            options=list(widths), value=width, description="width", continuous_update=False
        ),
        depth=widgets.SelectionSlider(
            options=list(depths), value=depth, description="depth", continuous_update=False
        ),
    )


def _saturated_sigmoid_mlp(sizes, scale, shift, seed):
    """A Xavier-initialised sigmoid MLP, hidden weights times ``scale``, biases plus ``shift``."""
    model = MLP(sizes, activation="sigmoid", init="xavier", rng=seed)
    for layer in model.layers[:-1:2]:
        layer.W *= scale
        layer.b += shift
    return model


# sigma'(z) = 1/40, a tenth of its peak sigma'(0) = 1/4, at |z| = log(sigma / (1 - sigma)) = 3.64
_SATURATED_Z = 3.64


# The settings saturation_explorer offers; every run is trained when the explorer is built.
SATURATION_SCALES = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
SATURATION_SHIFTS = (-8.0, -4.0, -2.0, 0.0, 2.0, 4.0, 8.0)


def _draw_saturation(fig, scale, shift, X, sizes, seed, curves, lr, momentum):
    """Pre-activations and sigmoid slopes at initialisation (left), training loss (right)."""
    model = _saturated_sigmoid_mlp(sizes, scale, shift, seed)
    Z1 = X @ model.layers[0].W + model.layers[0].b
    slope = sigmoid_grad(Z1)
    saturated = float(np.mean(np.abs(Z1) > _SATURATED_Z))
    losses, reference = curves[scale, shift], curves[1.0, 0.0]
    ax_z, ax_loss = fig.subplots(1, 2)
    # one filled outline instead of 60 bar patches: the same picture, a fraction of the artists
    ax_z.hist(Z1.ravel(), bins=60, color="tab:blue", alpha=0.8, histtype="stepfilled")
    ax_z.axvspan(
        -_SATURATED_Z,
        _SATURATED_Z,
        color="tab:green",
        alpha=0.12,
        label="$\\sigma'(z) > \\sigma'(0) / 10$",
    )
    ax_z.set_xlabel("first-layer pre-activation $z$ at initialisation")
    ax_z.set_ylabel("count (all units, all rows)")
    ax_z.set_title(f"{saturated:.0%} saturated, mean $\\sigma'(z)$ = {slope.mean():.2g} (max 0.25)")
    ax_z.legend(loc="upper left", fontsize="small")
    epochs_axis = np.arange(1, len(losses) + 1)
    ax_loss.plot(epochs_axis, reference, color="0.6", lw=1.5, label="scale 1, shift 0")
    ax_loss.plot(epochs_axis, losses, color="tab:red", lw=2, label="this initialisation")
    ax_loss.axhline(
        np.log(sizes[-1]), color="k", lw=0.8, ls=":", label="$\\log C$: a uniform guess"
    )
    ax_loss.set_yscale("log")
    # plain numbers: the default 4 x 10^0 labels are hard to read over less than two decades
    ax_loss.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax_loss.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss")
    ax_loss.set_title(f"SGD, lr {lr:g}, momentum {momentum:g}: final loss {losses[-1]:.3f}")
    ax_loss.legend(fontsize="small")


def saturation_explorer(
    X, y, scale=1.0, shift=4.0, epochs=60, lr=0.2, momentum=0.9, seed=0
) -> Explorer:
    """How a saturated sigmoid at initialisation stalls training.

    The network is ``MLP([D, 32, 32, C], activation="sigmoid", init="xavier")``
    with every hidden layer's weights multiplied by ``scale`` and ``shift``
    added to its biases. Large |z| puts sigmoid(z) on a flat tail where
    sigma'(z) = sigma(z) (1 - sigma(z)) is nearly 0, and the gradient of every
    weight below that unit is multiplied by it. The left panel shows the
    first layer's pre-activations z at initialisation, with the band where
    sigma'(z) is above a tenth of its peak; the right one the training loss
    under SGD with momentum, next to the same network initialised with scale 1
    and shift 0 (grey). The network of every setting, ``SATURATION_SCALES`` times
    ``SATURATION_SHIFTS``, is trained once when the explorer is built, so a
    control only redraws.

    Parameters
    ----------
    X : array_like, shape (N, D)
        Training inputs, standardised; keep N small (a few hundred rows).
    y : array_like of int, shape (N,)
        Class labels 0..C-1.
    scale : float
        Initial weight multiplier, one of ``SATURATION_SCALES``.
    shift : float
        Initial bias shift, one of ``SATURATION_SHIFTS``.
    epochs : int
        Training epochs.
    lr : float
        SGD learning rate.
    momentum : float
        SGD momentum beta.
    seed : int
        Seed of the initial weights and of the batches.

    Returns
    -------
    Explorer
        Controls ``scale`` and ``shift`` (sliders over the settings).
    """
    func = "saturation_explorer"
    X, y = _check_classification_data(X, y, func)
    if scale not in SATURATION_SCALES:
        raise ValueError(
            f"{func}: argument 'scale' must be one of {list(SATURATION_SCALES)}, got {scale}"
        )
    if shift not in SATURATION_SHIFTS:
        raise ValueError(
            f"{func}: argument 'shift' must be one of {list(SATURATION_SHIFTS)}, got {shift}"
        )
    sizes = [X.shape[1], 32, 32, int(y.max()) + 1]
    curves = {}
    # tiny matrices: one BLAS thread is fastest, and spares the other core
    with threadpool_limits(1):
        for s in SATURATION_SCALES:
            for t in SATURATION_SHIFTS:
                model = _saturated_sigmoid_mlp(sizes, s, t, seed)
                optimizer = SGD(lr=lr, momentum=momentum)
                curves[s, t] = fit(
                    model,
                    X,
                    y,
                    optimizer=optimizer,
                    epochs=epochs,
                    batch_size=32,
                    rng=seed,
                    progress=False,
                ).train_loss
    draw = partial(
        _draw_saturation, X=X, sizes=sizes, seed=int(seed), curves=curves, lr=lr, momentum=momentum
    )
    return explorer(
        draw,
        figsize=(10.0, 3.6),
        scale=widgets.SelectionSlider(
            options=list(SATURATION_SCALES),
            value=float(scale),
            description="weight scale",
            continuous_update=False,
            style={"description_width": "initial"},
        ),
        shift=widgets.SelectionSlider(
            options=list(SATURATION_SHIFTS),
            value=float(shift),
            description="bias shift",
            continuous_update=False,
            style={"description_width": "initial"},
        ),
    )


# ------------------------------------------------ digit predictions (lecture 08)


def _draw_digit(fig, index, only_mistakes, images, y, P, pred, image_shape):
    pool = np.flatnonzero(pred != y) if only_mistakes else np.arange(len(y))
    ax_image, ax_bars = fig.subplots(1, 2, width_ratios=[1, 2])
    if pool.size == 0:
        ax_image.set_axis_off()
        ax_bars.set_axis_off()
        ax_bars.text(0.5, 0.5, "no mistakes to show", ha="center", va="center")
        return
    n = int(pool[index % pool.size])
    ax_image.imshow(images[n].reshape(image_shape), cmap="gray_r", interpolation="nearest")
    ax_image.set_axis_off()
    ax_image.set_title(f"image {n}: label {y[n]}")
    probability_bars(P[n], target=y[n], ax=ax_bars)
    verdict = "right" if pred[n] == y[n] else "wrong"
    ax_bars.set_title(
        f"predicted {pred[n]} with p = {P[n, pred[n]]:.2f} ({verdict}); orange: the true class",
        color="black" if verdict == "right" else "tab:red",
        fontsize="medium",
    )


def digit_explorer(model, X, y, image_shape=None, index=0) -> Explorer:
    """Step through images and the class probabilities a classifier gives them.

    Parameters
    ----------
    model : nnkit model
        Anything with ``predict_proba(X) -> P`` of shape (N, C).
    X : array_like, shape (N, H * W)
        Images as rows of pixels, as the model reads them.
    y : array_like of int, shape (N,)
        True labels.
    image_shape : tuple (H, W), optional
        Shape of one image; default a square.
    index : int
        The image shown first.

    Returns
    -------
    Explorer
        Controls ``index`` (slider over the images) and ``only_mistakes``
        (a checkbox restricting the slider to misclassified images: then
        ``index`` counts mistakes).
    """
    func = "digit_explorer"
    X, y = _check_classification_data(X, y, func)
    D = X.shape[1]
    if image_shape is None:
        side = int(np.sqrt(D))
        image_shape = (side, side)
    if int(np.prod(image_shape)) != D:
        raise ShapeError(
            f"{func}: argument 'image_shape' {tuple(image_shape)} does not hold {D} pixels"
        )
    P = np.asarray(model.predict_proba(X))
    check_shape(P, (len(X), None), func, "model.predict_proba(X)")
    pred = P.argmax(axis=1)
    if not 0 <= index < len(X):
        raise ValueError(f"{func}: argument 'index' must be in 0..{len(X) - 1}, got {index}")
    draw = partial(_draw_digit, images=X, y=y, P=P, pred=pred, image_shape=tuple(image_shape))
    return explorer(
        draw,
        figsize=(8.0, 3.0),
        index=widgets.IntSlider(
            value=index, min=0, max=len(X) - 1, description="image", continuous_update=False
        ),
        only_mistakes=widgets.Checkbox(value=False, description="only mistakes"),
    )


# ------------------------------------------------ initialisation and depth (lecture 09)

# The weight variance of each rule, as a multiple of 1 / n_in (all layers are square here,
# so Xavier's 2 / (n_in + n_out) is 1 / n_in).
_INIT_VARIANCE = {"xavier": 1.0, "he": 2.0}
_SIGNAL_ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
_ACTIVATION_RANGE = {
    "tanh": (-1.0, 1.0),
    "sigmoid": (0.0, 1.0),
    "relu": (0.0, 3.0),
    "linear": (-3.0, 3.0),
}


@functools.cache
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread():
    return _blas_controller().limit(limits=1, user_api="blas")


def _draw_signals(fig, depth, activation, init, gain, X, normals, dout):
    """Per-layer histograms of A_l (left) and log10 |dL/dZ_l| (middle), their spreads (right)."""
    n = X.shape[1]
    std = gain * np.sqrt(_INIT_VARIANCE[init] / n)
    # 128 x 128 products: waking a pool of BLAS threads for each costs more than it saves,
    # and on a busy machine much more
    with _one_blas_thread():
        A, dZ = propagate_signals(X, [std * W for W in normals[:depth]], activation, dout)
    # no layout engine: constrained layout measures every label, and savefig then draws twice
    fig.set_layout_engine(None)
    margins = {"left": 0.05, "right": 0.99, "bottom": 0.14, "top": 0.91, "wspace": 0.3}
    ax_a, ax_g, ax_s = fig.subplots(1, 3, width_ratios=[1, 1, 0.9], gridspec_kw=margins)
    # plain-text labels: mathtext would be typeset again on every redraw
    low, high = _ACTIVATION_RANGE[activation]
    plot_layer_histograms(A, np.linspace(low, high, 41), ax=ax_a, xlabel="activation a")
    ax_a.set_title("activations (clipped to the axis)")
    with np.errstate(divide="ignore"):
        logs = [np.log10(np.abs(g)) for g in dZ]
    xlabel = "log₁₀ |∂L/∂z|"
    plot_layer_histograms(logs, np.linspace(-12, 2, 57), ax=ax_g, color="tab:red", xlabel=xlabel)
    ax_g.set_xticks([-12, -8, -4, 0])  # few labels: each costs time on every redraw
    ax_g.set_title("gradients ∂L/∂z")
    layers_ = np.arange(1, depth + 1)
    # root mean square, not std: a ReLU layer's mean is not 0, and its size is what matters
    rms_a = np.clip([np.sqrt(np.mean(a * a)) for a in A], 1e-6, 1e2)
    rms_g = np.clip([np.sqrt(np.mean(g * g)) for g in dZ], 1e-6, 1e2)
    ax_s.semilogy(layers_, rms_a, "o-", ms=3, label="activations")
    ax_s.semilogy(layers_, rms_g, "s-", ms=3, color="tab:red", label="gradients")
    # fixed limits and plain tick labels (no mathtext to typeset on every redraw)
    ax_s.set_ylim(1e-6, 1e2)
    ax_s.yaxis.set_major_locator(FixedLocator(10.0 ** np.arange(-6, 3, 2)))
    ax_s.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0e}"))
    ax_s.yaxis.set_minor_locator(NullLocator())
    ax_s.set_xlim(0.5, 20.5)
    ax_s.set_xlabel("layer")
    ax_s.set_ylabel("root mean square (clipped)")
    ax_s.set_title(f"{activation}, {init}, gain {gain:.2f}")
    ax_s.legend(fontsize="small", loc="best")


def signal_explorer(
    depth=10, activation="tanh", init="xavier", gain=1.0, width=128, seed=0
) -> Explorer:
    """Activations and gradients of a deep bias-free network at initialisation, layer by layer.

    The network has ``depth`` square layers of ``width`` units, weights
    W_l[i, j] ~ N(0, gain^2 * v / width) with v = 1 (Xavier, square layers) or
    2 (He), input rows X ~ N(0, I) and a standard normal upstream gradient at
    the top. The picture shows each layer's histogram of activations, of
    log10 |dL/dZ_l|, and their root mean squares against depth. The random
    numbers are drawn once; moving a control only rescales and recomputes.

    Parameters
    ----------
    depth : int in [1, 20]
    activation : {"tanh", "relu", "sigmoid", "linear"}
    init : {"xavier", "he"}
    gain : float in [0.25, 4]
        Multiplies the initial weights' standard deviation.
    width : int
        Units per layer (and input dimension); the batch has 128 rows.
    seed : int

    Returns
    -------
    Explorer
        Controls ``depth``, ``activation``, ``init`` and ``gain``.
    """
    if not 1 <= int(depth) <= 20:
        raise ValueError(f"signal_explorer: argument 'depth' must be in [1, 20], got {depth}")
    if activation not in _SIGNAL_ACTIVATIONS:
        raise ValueError(
            f"signal_explorer: argument 'activation' must be one of "
            f"{', '.join(_SIGNAL_ACTIVATIONS)}, got {activation!r}"
        )
    if init not in _INIT_VARIANCE:
        raise ValueError(f"signal_explorer: argument 'init' must be 'xavier' or 'he', got {init!r}")
    if not 0.25 <= gain <= 4:
        raise ValueError(f"signal_explorer: argument 'gain' must be in [0.25, 4], got {gain}")
    rng = np.random.default_rng(seed)
    width = int(width)
    X = rng.standard_normal((128, width))
    normals = [rng.standard_normal((width, width)) for _ in range(20)]
    dout = rng.standard_normal((128, width))
    controls = {
        "depth": widgets.IntSlider(
            value=int(depth), min=1, max=20, description="depth", continuous_update=False
        ),
        "activation": widgets.Dropdown(
            options=list(_SIGNAL_ACTIVATIONS), value=activation, description="activation"
        ),
        "init": widgets.Dropdown(options=list(_INIT_VARIANCE), value=init, description="init"),
        "gain": widgets.FloatLogSlider(
            value=gain,
            base=2,
            min=-2,
            max=2,
            step=0.25,
            description="gain",
            continuous_update=False,
            readout_format=".2f",
        ),
    }
    draw = partial(_draw_signals, X=X, normals=normals, dout=dout)
    # 80 dpi: three panels of twenty histograms stay well inside the 200 ms redraw budget
    return Explorer(draw, controls, figsize=(11, 3.6), dpi=80)

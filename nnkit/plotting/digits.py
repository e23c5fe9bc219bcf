"""Lecture 8, digits: a classifier's confusion matrix and grids of images."""

from __future__ import annotations

import itertools
import math

import matplotlib.pyplot as plt
import numpy as np

from .._checks import ShapeError, as_float_array, check_labels, check_same_shape
from ._common import get_ax

__all__ = ["confusion_matrix", "image_grid"]


def confusion_matrix(y_true, y_pred, *, ax=None, n_classes=None, normalize=False, cmap="Blues"):
    """Draw the confusion matrix K[i, j] = #{n : y_true[n] = i and y_pred[n] = j}.

    Rows are true classes, columns predicted ones, so the diagonal counts the
    correct predictions and an off-diagonal cell (i, j) counts class i taken
    for class j. Every cell is annotated with its value.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (N,)
        True and predicted class indices.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    n_classes : int, optional
        C; default one more than the largest label seen.
    normalize : bool
        Divide each row by its sum: cell (i, j) is then the fraction of class
        i predicted as j, and the diagonal holds each class's recall.
    cmap : str
        Colour map.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, one text per cell; its last image (``ax.images[-1]``) holds
        the (C, C) matrix drawn (``get_array()``).
    """
    func = "confusion_matrix"
    y_true = check_labels(y_true, func, "y_true")
    y_pred = check_labels(y_pred, func, "y_pred")
    check_same_shape(y_true, y_pred, func, "y_true", "y_pred")
    seen = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    C = seen if n_classes is None else int(n_classes)
    if seen > C or y_true.min(initial=0) < 0 or y_pred.min(initial=0) < 0:
        raise ValueError(f"{func}: labels must lie in 0..{C - 1} (n_classes = {C})")
    K = np.zeros((C, C), dtype=np.int64)
    np.add.at(K, (y_true, y_pred), 1)
    values = K.astype(np.float64)
    if normalize:
        totals = values.sum(axis=1, keepdims=True)
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    ax = get_ax(ax, figsize=(4.5, 4.0))
    ax.imshow(values, cmap=cmap, vmin=0, vmax=max(float(values.max()), 1e-12))
    threshold = 0.6 * values.max()
    for i, j in itertools.product(range(C), range(C)):
        text = f"{values[i, j]:.2f}" if normalize else str(K[i, j])
        colour = "white" if values[i, j] > threshold else "black"
        ax.text(j, i, text, ha="center", va="center", color=colour, fontsize="small")
    ax.set_xticks(range(C))
    ax.set_yticks(range(C))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("confusion matrix" + (" (rows sum to 1)" if normalize else ""))
    return ax


def image_grid(
    images,
    titles=None,
    image_shape=None,
    ncols=10,
    *,
    ax=None,
    cmap="gray_r",
    vmin=None,
    vmax=None,
    title_colors=None,
):
    """Show images side by side in a grid of tiles, each with an optional title above it.

    The tiles are pasted into one mosaic drawn by a single ``imshow`` (with
    blank gaps between them), which is much faster than one axes per image.

    Parameters
    ----------
    images : array_like, shape (N, H, W) or (N, H * W)
        The images, or their flattened rows (as an MLP sees them).
    titles : sequence of str, length N, optional
        One title per image, e.g. its label.
    image_shape : tuple (H, W), optional
        Shape of one image when ``images`` holds rows; default a square
        (H = W = sqrt(H * W)).
    ncols : int
        Tiles per row.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure, about 0.8 inch per tile, when None. Titles
        need tiles of about half an inch or more to stay apart.
    cmap : str
        Colour map; ``"gray_r"`` draws ink dark on white paper.
    vmin, vmax : float, optional
        Colour limits shared by all tiles, e.g. symmetric ones for weights.
        When both are None, each image is scaled to its own range.
    title_colors : sequence of colours, length N, optional
        Colour of each title, e.g. red for the mistakes.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, frame turned off, one text per title; its last image
        (``ax.images[-1]``) is the mosaic, for a colour bar.
    """
    func = "image_grid"
    images = as_float_array(images, func, "images", ndim=(2, 3))
    N = images.shape[0]
    if N == 0:
        raise ValueError(f"{func}: argument 'images' holds no image")
    if images.ndim == 2:
        if image_shape is None:
            side = math.isqrt(images.shape[1])
            if side * side != images.shape[1]:
                raise ShapeError(
                    f"{func}: rows of {images.shape[1]} pixels are not square images; "
                    "give 'image_shape'"
                )
            image_shape = (side, side)
        H, W = (int(s) for s in image_shape)
        if images.shape[1] != H * W:
            raise ShapeError(
                f"{func}: argument 'image_shape' {tuple(image_shape)} does not hold rows of "
                f"{images.shape[1]} pixels"
            )
        images = images.reshape(N, H, W)
    H, W = images.shape[1:]
    for name, seq in (("titles", titles), ("title_colors", title_colors)):
        if seq is not None and len(seq) != N:
            raise ValueError(f"{func}: argument '{name}' must have {N} entries, got {len(seq)}")
    if vmin is None and vmax is None:
        low = images.min(axis=(1, 2), keepdims=True)
        span = images.max(axis=(1, 2), keepdims=True) - low
        images = (images - low) / np.where(span > 0, span, 1.0)
        vmin, vmax = 0.0, 1.0

    ncols = max(1, min(int(ncols), N))
    nrows = -(-N // ncols)
    gap = max(1, round(0.15 * W))
    band = round(0.45 * H) if titles is not None else 0  # blank rows above a tile for its title
    cell_h, cell_w = band + H + gap, W + gap
    # NaN pixels are drawn in the colour map's "bad" colour: white paper between the tiles
    mosaic = np.full((nrows * cell_h - gap, ncols * cell_w - gap), np.nan)
    for k in range(N):
        r, c = divmod(k, ncols)
        top, left = r * cell_h + band, c * cell_w
        mosaic[top : top + H, left : left + W] = images[k]
    width = 0.8 * ncols
    ax = get_ax(ax, figsize=(width, width * mosaic.shape[0] / mosaic.shape[1] + 0.3))
    colours = plt.get_cmap(cmap).with_extremes(bad="white")
    ax.imshow(mosaic, cmap=colours, vmin=vmin, vmax=vmax, interpolation="nearest")
    if titles is not None:
        for k in range(N):
            r, c = divmod(k, ncols)
            ax.text(
                c * cell_w + (W - 1) / 2,
                r * cell_h + band - 0.7,
                str(titles[k]),
                ha="center",
                va="bottom",
                fontsize="small",
                color="black" if title_colors is None else title_colors[k],
            )
    ax.set_axis_off()
    return ax

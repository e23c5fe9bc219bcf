"""Input validation shared by every public function.

Each check raises an error that names the function, the argument, what was
expected and what arrived, so a student reading a traceback knows what to fix
without opening nnkit's source.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ShapeError", "as_float_array", "check_labels", "check_same_shape", "check_shape"]


class ShapeError(ValueError):
    """An array argument has the wrong shape, dimensionality or dtype."""


def _describe(shape) -> str:
    return (
        "("
        + ", ".join("?" if s is None else str(s) for s in shape)
        + (",)" if len(shape) == 1 else ")")
    )


def as_float_array(x, func: str, name: str, ndim: int | tuple[int, ...] | None = None, dtype=None):
    """Return ``x`` as a floating-point ndarray, checking its dimensionality.

    Integer and boolean input is converted to float64; float32 and float64 are kept
    (or converted to ``dtype`` when given). Complex, object and string arrays are refused.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{func}: argument '{name}' must be numeric, got dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ShapeError(
                f"{func}: argument '{name}' must be {want}, got shape {arr.shape} ({arr.ndim}-D)"
            )
    return arr


def check_shape(arr: np.ndarray, expected, func: str, name: str) -> None:
    """Check ``arr.shape`` against ``expected``; ``None`` in ``expected`` matches any size."""
    shape = arr.shape
    # a plain loop: this runs several times per training step, and a generator costs twice as much
    ok = len(shape) == len(expected)
    for e, s in zip(expected, shape, strict=False):  # unequal lengths already failed
        if e is not None and e != s:
            ok = False
    if not ok:
        raise ShapeError(
            f"{func}: argument '{name}' must have shape {_describe(expected)}, got {arr.shape}"
        )


def check_same_shape(a: np.ndarray, b: np.ndarray, func: str, name_a: str, name_b: str) -> None:
    """Check two arrays have identical shapes, naming both in the error."""
    if a.shape != b.shape:
        raise ShapeError(
            f"{func}: arguments '{name_a}' and '{name_b}' must have the same shape, "
            f"got {a.shape} and {b.shape}"
        )


def check_labels(y, func: str, name: str = "y", n_classes: int | None = None) -> np.ndarray:
    """Return integer class labels (N,), checking their range when ``n_classes`` is given."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ShapeError(
            f"{func}: argument '{name}' must be 1-D class labels (N,), got shape {arr.shape}"
        )
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise TypeError(
                f"{func}: argument '{name}' must hold integer class labels, got {arr.dtype} values"
            )
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iub":
        raise TypeError(
            f"{func}: argument '{name}' must hold integer class labels, got dtype {arr.dtype}"
        )
    if n_classes is not None and arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(
            f"{func}: argument '{name}' has labels outside 0..{n_classes - 1} "
            f"(min {arr.min()}, max {arr.max()})"
        )
    return arr.astype(np.int64, copy=False)

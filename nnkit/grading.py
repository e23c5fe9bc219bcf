"""Checks for the nbgrader tests of the exercises, with messages a student can act on.

Every check calls the student's function itself, so whatever goes wrong (an
exception, a warning, a modified input, a wrong type, shape or value) comes back
as one :class:`GradingError` whose message names the function, the input (shape
and a short preview), what was expected and what came back, the largest error
and where it is, and a hint when the difference looks like a classic mistake
(transposed matrix, sum instead of mean, wrong softmax axis, flipped sign...).

In Jupyter a ``GradingError`` displays as its message alone: the test code that
raised it never shows in the traceback.

Tolerance: an array passes when every entry satisfies
``|got - expected| <= atol + rtol * |expected|`` with ``RTOL = 1e-6`` and
``ATOL = 1e-9`` (``GRAD_RTOL = 1e-5``, ``GRAD_ATOL = 1e-8`` against central
differences). Correct float64 answers land near 1e-15; the mistakes these
tests look for are off by 1e-3 or more.

Typical visible test (the expected values are written out, so it runs at home)::

    from nnkit import grading
    grading.check(softmax, Z, expected=[[0.5, 0.5], [0.0, 1.0]])

A function built from the student's other functions is also right when it equals
their composition, so that one mistake costs its points once::

    grading.check(
        mlp_forward, X, params, expected=P,
        accept={"your own softmax of your own logits": grading.attempt(lambda: softmax(Z))},
    )

The hidden tests are judged elsewhere. When a submission is graded, the judge
(``nnkit.autograde.judge``) runs each whole test cell in the grader's own process
with these same checks, the answer key (``grading.reference``) and the hidden
inputs (``grading.hidden_rng``), and calls the student's functions inside the
sandboxed kernel; neither the key nor the expected values are in this package.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import math
import sys
import sysconfig
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np

__all__ = [
    "ATOL",
    "GRAD_ATOL",
    "GRAD_RTOL",
    "RTOL",
    "UNCHECKED",
    "GradingError",
    "StudentError",
    "attempt",
    "call",
    "check",
    "check_gradient",
    "check_minibatches",
    "describe",
    "expect",
    "numerical_gradient",
    "record",
]

RTOL = 1e-6
ATOL = 1e-9
GRAD_RTOL = 1e-5
GRAD_ATOL = 1e-8
# "Unchanged" inputs may differ by rounding: x[i] += h; x[i] -= 2 * h; x[i] += h is a fair restore.
UNCHANGED_RTOL = 1e-12


class _Unchecked:
    """The type of :data:`UNCHECKED`."""

    def __repr__(self) -> str:
        return "grading.UNCHECKED"


UNCHECKED = _Unchecked()
"""In ``expected``, a part of the result that this check does not look at, e.g.
``expected=(loss, UNCHECKED)`` checks the loss of a ``(loss, grads)`` pair only."""

_HERE = str(Path(__file__).resolve())
_LIBRARY_DIRS = tuple(
    {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
)
_records: list[dict] | None = None


class GradingError(AssertionError):
    """A graded check failed; the message says what, on which input, and what to look at.

    ``ratio`` is the largest error divided by the tolerance (above 1 means failed;
    infinite when the failure is not a numeric difference, e.g. a wrong shape).
    """

    def __init__(self, message: str, ratio: float = math.inf):
        super().__init__(message)
        self.ratio = ratio

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of formatting the stack, so the test cell's source
        # (the hidden tests in particular) never appears in a notebook or in feedback.
        return [f"\x1b[31mGradingError\x1b[0m: {self}"]


class StudentError(Exception):
    """An exception the student's function raised in another process (the judge's kernel).

    ``kind`` is its type's name, ``frames`` the student's own traceback lines.
    """

    def __init__(self, kind: str, message: str, frames: list[str] | tuple = ()):
        super().__init__(message)
        self.kind = kind
        self.frames = list(frames)


def __getattr__(name: str):
    if name in ("reference", "hidden_rng"):
        raise AttributeError(
            f"grading.{name} exists only inside the course's judge: hidden tests are graded by "
            "`make grade` (or nbgrader with the course's nbgrader_config.py), never in a kernel"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- descriptions


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")


def _preview(arr: np.ndarray, width: int = 90) -> str:
    text = np.array2string(
        arr, precision=4, threshold=8, edgeitems=2, separator=", ", max_line_width=10**6
    )
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def describe(value) -> str:
    """A one-line description of ``value``: type, shape and a short preview.

    Examples: ``float64 array of shape (4, 3): [[ 0.1, -2.3, ...]]``,
    ``dict {'W1': (3, 5), 'b1': (5,)}``, ``float 0.25``.
    """
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return f"{value.dtype} 0-d array {value.item()!r}"
        return f"{value.dtype} array of shape {_shape_text(value.shape)}: {_preview(value)}"
    if isinstance(value, np.generic):
        return f"numpy {value.dtype} {value.item()!r}"
    if isinstance(value, bool | int | float | str) or value is None:
        return f"{type(value).__name__} {value!r}"
    if isinstance(value, Mapping):
        inner = ", ".join(
            f"{k!r}: {_shape_text(v.shape)}" if isinstance(v, np.ndarray) else f"{k!r}: {v!r}"
            for k, v in value.items()
        )
        return f"dict {{{inner}}}"
    if isinstance(value, tuple | list):
        kind = type(value).__name__
        if all(_is_scalar_text(v) for v in value) and len(repr(value)) <= 60:
            return f"{kind} {value!r}"
        if len(value) <= 4:
            return f"{kind} of {len(value)}: (" + "; ".join(map(describe, value)) + ")"
        return f"{kind} of {len(value)} items"
    if isinstance(value, np.random.Generator):
        return "numpy random Generator"
    if callable(value):
        return f"function {getattr(value, '__name__', type(value).__name__)}"
    return type(value).__name__


def _name(func) -> str:
    return getattr(func, "__name__", None) or type(func).__name__


def _bind(func, args, kwargs) -> dict:
    """{parameter name: value} for a call, from the function's own signature when possible."""
    try:
        bound = inspect.signature(func).bind(*args, **kwargs)
    except (TypeError, ValueError):
        named = {f"argument {i + 1}": a for i, a in enumerate(args)}
        return named | kwargs
    return dict(bound.arguments)


def _is_scalar_text(value) -> bool:
    return isinstance(value, bool | int | float | str | np.generic) or value is None


def _call_text(name: str, inputs: dict) -> str:
    parts = [f"{k}={v!r}" if _is_scalar_text(v) else k for k, v in inputs.items()]
    return f"{name}({', '.join(parts)})"


def _inputs_text(inputs: dict) -> str:
    lines = [f"  input {k}: {describe(v)}" for k, v in inputs.items() if not _is_scalar_text(v)]
    return "\n".join(lines)


def _message(head: str, inputs: dict | None, *body: str) -> str:
    """The head line, then the inputs and every body line, indented under it."""
    parts = [head]
    if inputs:
        shown = _inputs_text(inputs)
        if shown:
            parts.append(shown)
    for text in body:
        parts += ["  " + line for line in text.splitlines()]
    return "\n".join(parts)


def _record(func_name: str, label: str, ratio: float) -> None:
    if _records is not None:
        _records.append({"function": func_name, "label": label, "ratio": ratio})


def _fail(message: str, func_name: str, label: str = "", ratio: float = math.inf):
    _record(func_name, label, ratio)
    raise GradingError(message, ratio)


@contextlib.contextmanager
def record() -> Iterator[list[dict]]:
    """Collect every comparison made inside the block, for measuring the grader's margins.

    Yields a list that fills with ``{"function", "label", "ratio"}`` records, one per
    comparison, ``ratio`` being the largest error divided by its tolerance. Blocks nest:
    an enclosing block sees the comparisons of the blocks inside it too.
    """
    global _records
    previous, _records = _records, []
    try:
        yield _records
    finally:
        mine, _records = _records, previous
        if previous is not None:
            previous.extend(mine)


# --------------------------------------------------------------------------- calling


def _caller_file() -> str | None:
    """File name of the code that called into this module (the test cell)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == _HERE:
        frame = frame.f_back
    return frame.f_code.co_filename if frame is not None else None


def _student_frames(tb, hidden_file: str | None) -> str:
    """The traceback lines that belong to the student's code, most recent last.

    Frames of this module, of the test cell (which may define helper functions the
    student's code calls) and of installed libraries are left out.
    """
    lines = []
    for frame in traceback.extract_tb(tb):
        name = frame.filename
        if name in (_HERE, hidden_file) or name.startswith(_LIBRARY_DIRS):
            continue
        code = f": {frame.line.strip()}" if frame.line else ""
        lines.append(f"  in {frame.name}, line {frame.lineno}{code}")
    return "\n".join(lines)


_WARNING_HINTS = {
    "overflow": "np.exp of a large number overflows: rewrite the formula so exp only sees "
    "values <= 0. A stable sigmoid uses exp(-|z|) (1 / (1 + np.exp(-z)) overflows for "
    "z < -709: call the stable sigmoid you were given or wrote), a stable softmax subtracts "
    "each row's max. np.where evaluates both branches, so it does not protect an exp inside it.",
    "divide by zero": "a log(0) or x/0 happened: compute only the terms that are needed "
    "(e.g. log P only where Y is 1), or avoid dividing by a quantity that can be 0.",
    "invalid value": "0/0, inf - inf or 0 * inf produced nan: look for an overflow or a log(0) "
    "feeding a product.",
}
_EXCEPTION_HINTS = {
    "matmul": "a matrix product got shapes that do not fit: (N, D) @ (D, M) gives (N, M). Write "
    "each operand's shape next to your formula: is a .T missing or extra?",
    "not aligned": "a matrix product got shapes that do not fit: (N, D) @ (D, M) gives (N, M).",
    "could not be broadcast": "two arrays of incompatible shapes met in an elementwise "
    "operation: a sum or max over an axis without keepdims=True, or a vector on the wrong axis?",
}


def _lookup_hint(text: str, hints: dict[str, str]) -> str:
    """The hint whose key occurs in an error or warning message, if any."""
    return next((f"hint: {hint}" for key, hint in hints.items() if key in text), "")


_NOT_IMPLEMENTED = (
    "{name} is not implemented yet: replace `raise NotImplementedError(...)` "
    "in its answer cell with your code, run that cell, then this one."
)


def _raised(name: str, inputs: dict, kind: str, text: str, frames: str) -> str:
    return _message(
        f"{_call_text(name, inputs)} raised {kind}: {text}",
        inputs,
        ("where, in your code:\n" + frames) if frames else "",
        _lookup_hint(text, _EXCEPTION_HINTS),
    )


def call(func, *args, **kwargs):
    """Call a student's function and return its result, turning trouble into a GradingError.

    An exception becomes a GradingError showing the student's own traceback lines;
    any warning becomes one too, because nbgrader fails a test cell that writes to
    stderr. A returned iterator (e.g. a generator) is consumed into a list inside the
    same guard, since its code only runs while it is iterated.
    """
    __tracebackhide__ = True
    name = _name(func)
    if not callable(func):
        _fail(f"{name!r} is not a function: define it with `def` in its answer cell.", name)
    inputs = _bind(func, args, kwargs)
    hidden_file = _caller_file()
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = func(*args, **kwargs)
            if isinstance(result, Iterator) and not isinstance(result, np.ndarray):
                result = list(result)
        except NotImplementedError:
            error = _NOT_IMPLEMENTED.format(name=name)
        except GradingError:  # the judge could not use what came back: its verdict stands
            raise
        except StudentError as exc:  # raised in the kernel, reported by the judge
            if exc.kind == "NotImplementedError":
                error = _NOT_IMPLEMENTED.format(name=name)
            else:
                error = _raised(name, inputs, exc.kind, str(exc), "\n".join(exc.frames))
        except Exception as exc:  # any failure of student code is reported
            frames = _student_frames(exc.__traceback__, hidden_file)
            error = _raised(name, inputs, type(exc).__name__, str(exc), frames)
    if error is not None:
        _fail(error, name)
    if caught:
        first = caught[0]
        text = f"{first.category.__name__}: {first.message}"
        _fail(
            _message(
                f"{_call_text(name, inputs)} emitted a warning ({text}, line {first.lineno}). "
                "Warnings go to stderr, and nbgrader fails any test cell that prints to stderr.",
                inputs,
                _lookup_hint(str(first.message), _WARNING_HINTS),
            ),
            name,
        )
    return result


# --------------------------------------------------------------------------- comparing


class _MismatchError(Exception):
    """Internal: a comparison failed; carries the message body and the error ratio."""

    def __init__(self, text: str, ratio: float = math.inf):
        super().__init__(text)
        self.text = text
        self.ratio = ratio


def _batch_sizes(inputs: dict) -> set[int]:
    """Plausible batch sizes N: the leading size of every array input with 2 or more axes."""
    sizes = {v.shape[0] for v in inputs.values() if isinstance(v, np.ndarray) and v.ndim >= 2}
    sizes |= {len(v) for v in inputs.values() if isinstance(v, np.ndarray) and v.ndim == 1}
    return {n for n in sizes if n > 1}


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def _value_hints(got, expected, rtol, atol, inputs, mistakes) -> list[str]:
    """Classic mistakes that explain ``got``, most specific first."""
    hints = [
        f"hint: {label}."
        for label, wrong in (mistakes or {}).items()
        if _close(got, np.asarray(wrong, dtype=np.float64), max(rtol, 1e-9), atol)
    ]
    if not np.all(np.isfinite(got)):
        hints.append(
            "hint: your result contains nan or inf where the answer is finite: look for an "
            "overflow in exp, a log(0), or a division by zero."
        )
        return hints
    if got.ndim == 2 and got.shape[0] == got.shape[1] and _close(got, expected.T, rtol, atol):
        hints.append(
            "hint: you returned the transpose of the answer: check the order of the "
            "operands of @ and where .T goes."
        )
    if np.any(expected != 0) and _close(got, -expected, rtol, atol):
        hints.append("hint: the sign is flipped.")
        return hints
    if not np.any(got) and np.any(expected):
        hints.append("hint: every entry is zero: is something missing from the formula?")
        return hints
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    mask = np.abs(expected) > 1e-12 * scale
    if np.any(mask):
        factor = float(np.median(got[mask] / expected[mask]))
        fits = np.all(np.abs(got - factor * expected) <= 1e-6 * scale * max(1.0, abs(factor)))
        if fits and factor != 0 and abs(factor - 1) > 1e-3:
            hint = _factor_hint(factor, _batch_sizes(inputs))
            # one number is always "a constant times" another: only say so for whole arrays
            if expected.size > 1 or "N =" in hint:
                hints.append(hint)
    return hints


def _factor_hint(factor: float, batch_sizes: set[int]) -> str:
    for n in sorted(batch_sizes):
        if math.isclose(factor, n, rel_tol=1e-6):
            return (
                f"hint: your result is N = {n} times the answer: that is a sum over the batch "
                "where the mean is wanted (divide by N once)."
            )
        if math.isclose(factor, 1 / n, rel_tol=1e-6):
            return (
                f"hint: your result is the answer divided by N = {n}: you averaged over the "
                "batch where a sum is wanted, or divided by N twice."
            )
    return (
        f"hint: your result is {factor:.6g} times the answer everywhere: a constant factor "
        "is missing or extra (e.g. a 2 from differentiating a square, or a 0.5)."
    )


def _shape_hint(got_shape, expected_shape) -> str:
    if len(got_shape) == 2 and got_shape == expected_shape[::-1]:
        return (
            "hint: your shape is the transpose of the expected one: check the order of the "
            "operands of @ and where .T goes."
        )
    if got_shape == ():
        return (
            "hint: you returned a single number where an array is expected: a reduction "
            "(sum, max, mean) ran over the whole array. np.max reduces; np.maximum compares "
            "elementwise."
        )
    if len(got_shape) == len(expected_shape) - 1:
        return (
            "hint: one axis is missing: a sum or max over an axis drops it unless you pass "
            "keepdims=True."
        )
    if got_shape in ((1, *expected_shape), (*expected_shape, 1)):
        return (
            f"hint: an extra axis of length 1: {_shape_text(got_shape)} where "
            f"{_shape_text(expected_shape)} is expected. A sum or mean with keepdims=True keeps "
            "the axis it reduces, and here that axis must go. Vectors such as b and db have "
            "shape (M,) here, not the (1, M) or (M, 1) of courses that put examples in columns."
        )
    if math.prod(got_shape) == math.prod(expected_shape):
        return "hint: the right number of entries in the wrong arrangement: a stray reshape or .T?"
    return ""


def _compare_array(got, expected: np.ndarray, rtol, atol, inputs, mistakes, float_only):
    """Raise _MismatchError unless ``got`` matches the array ``expected``; return the ratio."""
    if isinstance(got, Mapping | str) or got is None:
        raise _MismatchError(f"expected {describe(expected)}\ngot {describe(got)}")
    try:
        arr = np.asarray(got)
    except ValueError as exc:  # ragged lists
        raise _MismatchError(f"expected an array, got {describe(got)} ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise _MismatchError(f"expected a numeric array, got {describe(got)}")
    if float_only and arr.dtype.kind != "f":
        raise _MismatchError(
            f"expected a float array, got dtype {arr.dtype}.\n"
            "hint: create the array as float, e.g. np.zeros((N, C)), or convert with "
            ".astype(float)."
        )
    if arr.shape != expected.shape:
        hint = _shape_hint(arr.shape, expected.shape)
        raise _MismatchError(
            f"expected shape {_shape_text(expected.shape)}, got {_shape_text(arr.shape)}.\n"
            f"expected: {describe(expected)}\ngot:      {describe(got)}"
            + ("\n" + hint if hint else "")
        )
    arr = arr.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(arr - expected)
        ratio = diff / (atol + rtol * np.abs(expected))
    # nan or inf anywhere expected finite is a failure, whatever the tolerance says
    ratio = np.where(np.isfinite(arr) | ~np.isfinite(expected), ratio, np.inf)
    ratio = np.where(np.isnan(ratio), np.where(arr == expected, 0.0, np.inf), ratio)
    worst_ratio = float(ratio.max()) if ratio.size else 0.0
    if worst_ratio <= 1.0:
        return worst_ratio
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape) if ratio.ndim else ()
    e, g_ = float(expected[worst]), float(arr[worst])
    rel = f"relative error {abs(g_ - e) / abs(e):.2e}; " if e != 0 else ""
    tolerance = f"tolerance rtol={rtol:g}, atol={atol:g}"
    if expected.ndim == 0:
        lines = [f"expected {e!r}, got {g_!r} ({rel}{tolerance})"]
    else:
        lines = [
            f"expected: {describe(expected)}",
            f"got:      {describe(arr)}",
            f"largest error at [{', '.join(map(str, worst))}]: got {g_:.8g}, expected {e:.8g} "
            f"(absolute error {abs(g_ - e):.2e}, {rel}{tolerance})",
        ]
    hints = _value_hints(arr, expected, rtol, atol, inputs, mistakes)
    raise _MismatchError("\n".join(lines + hints[:2]), worst_ratio)


def _compare(got, expected, path, rtol, atol, inputs, mistakes, float_only, parts, records):
    """Compare recursively (tuples, dicts, numbers, arrays), recording one ratio per leaf."""
    if expected is UNCHECKED:
        return
    if isinstance(expected, tuple):
        if not isinstance(got, tuple | list) or len(got) != len(expected):
            raise _MismatchError(
                f"expected a tuple of {len(expected)} values"
                + (f" ({', '.join(parts)})" if parts else "")
                + f", got {describe(got)}"
            )
        for i, (g_, e) in enumerate(zip(got, expected, strict=True)):
            label = parts[i] if parts else f"{path}[{i}]"
            part_mistakes = (mistakes or {}).get(label) if parts else None
            _compare(g_, e, label, rtol, atol, inputs, part_mistakes, float_only, None, records)
        return
    if isinstance(expected, Mapping):
        if not isinstance(got, Mapping):
            raise _MismatchError(
                f"expected a dict with keys {sorted(expected)}, got {describe(got)}"
            )
        missing, extra = set(expected) - set(got), set(got) - set(expected)
        if missing or extra:
            raise _MismatchError(
                f"expected a dict with keys {sorted(expected)}, got keys {sorted(got)}"
                + (f" (missing {sorted(missing)})" if missing else "")
                + (f" (unexpected {sorted(extra)})" if extra else "")
            )
        for key in expected:
            label = f"{path}[{key!r}]"
            _compare(
                got[key], expected[key], label, rtol, atol, inputs,
                (mistakes or {}).get(key), float_only, None, records,
            )  # fmt: skip
        return
    try:
        if isinstance(expected, bool | int | np.integer) and not isinstance(expected, bool):
            _compare_int(got, int(expected))
            records.append((path, 0.0))
            return
        if isinstance(expected, float | np.floating):
            got_scalar = _as_scalar(got)
            ratio = _compare_array(
                got_scalar, np.asarray(float(expected)), rtol, atol, inputs, mistakes, False
            )
            records.append((path, ratio))
            return
        ratio = _compare_array(
            got, np.asarray(expected, dtype=np.float64), rtol, atol, inputs, mistakes, float_only
        )
        records.append((path, ratio))
    except _MismatchError as mismatch:
        if not path:
            raise
        nested = "\n".join("  " + line for line in mismatch.text.splitlines())
        raise _MismatchError(f"{path} is wrong:\n{nested}", mismatch.ratio) from None


def _compare_int(got, expected: int) -> None:
    if isinstance(got, bool) or not isinstance(got, int | np.integer):
        if isinstance(got, float | np.floating) and float(got).is_integer():
            raise _MismatchError(
                f"expected the int {expected}, got the float {got!r}: return an int."
            )
        raise _MismatchError(f"expected the int {expected}, got {describe(got)}")
    if int(got) != expected:
        raise _MismatchError(
            f"expected {expected}, got {int(got)} (off by {int(got) - expected:+d})"
        )


def _as_scalar(got):
    if isinstance(got, bool | int | float | np.integer | np.floating):
        return float(got)
    if isinstance(got, np.ndarray) and got.ndim == 0:
        return got
    raise _MismatchError(f"expected a single number (float), got {describe(got)}")


def _shaped_like(value, expected) -> bool:
    """Whether ``value`` has the structure of ``expected``: the same tuple lengths and dict
    keys, a number where a number is expected and an array of numbers where an array is (of
    any shape: a piece's wrong shape, such as a (1, M) bias gradient, composes faithfully)."""
    if expected is UNCHECKED:
        return True
    if isinstance(expected, tuple):
        return (
            isinstance(value, tuple | list)
            and len(value) == len(expected)
            and all(_shaped_like(v, e) for v, e in zip(value, expected, strict=True))
        )
    if isinstance(expected, Mapping):
        return (
            isinstance(value, Mapping)
            and set(value) == set(expected)
            and all(_shaped_like(value[k], expected[k]) for k in expected)
        )
    try:
        got = np.asarray(value)
    except ValueError:  # ragged
        return False
    return got.dtype.kind in "biuf" and (got.ndim == 0) == (np.ndim(expected) == 0)


def _match_any(got, alternatives: Mapping, rtol, atol, inputs, float_only, parts):
    """(the records of the first alternative ``got`` matches, or None; every ratio missed)."""
    ratios = []
    for value in alternatives.values():
        records: list[tuple[str, float]] = []
        try:
            _compare(got, value, "", rtol, atol, inputs, None, float_only, parts, records)
        except _MismatchError as mismatch:
            ratios.append(mismatch.ratio)
            continue
        return records, ratios
    return None, ratios


# --------------------------------------------------------------------------- unchanged inputs


def _snapshot(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, Mapping):
        return {k: _snapshot(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_snapshot(v) for v in value)
    return value


def _changes(before, after, label: str) -> str | None:
    """How ``after`` differs from the snapshot ``before``, or None if it does not."""
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != before.shape:
            return f"{label} changed shape from {before.shape} to {np.shape(after)}"
        same = np.isclose(after, before, rtol=UNCHANGED_RTOL, atol=0.0, equal_nan=True)
        if not np.all(same):
            where = np.unravel_index(int(np.argmin(same)), same.shape) if same.ndim else ()
            return (
                f"{label}[{', '.join(map(str, where))}] was {float(before[where]):.8g} and is "
                f"now {float(after[where]):.8g}"
            )
        return None
    if isinstance(before, Mapping):
        if set(before) != set(after):
            return f"the keys of {label} changed from {sorted(before)} to {sorted(after)}"
        for key in before:
            change = _changes(before[key], after[key], f"{label}[{key!r}]")
            if change:
                return change
        return None
    if isinstance(before, list | tuple):
        if len(before) != len(after):
            return f"{label} changed length from {len(before)} to {len(after)}"
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            change = _changes(b, a, f"{label}[{i}]")
            if change:
                return change
        return None
    if _is_scalar_text(before) and before != after:
        return f"{label} was {before!r} and is now {after!r}"
    return None


# --------------------------------------------------------------------------- public checks


def check(
    func,
    *args,
    expected,
    rtol: float = RTOL,
    atol: float = ATOL,
    mistakes: dict | None = None,
    accept: Mapping[str, object] | None = None,
    parts: tuple[str, ...] | None = None,
    float_only: bool = False,
    modifies: tuple[str, ...] = (),
    **kwargs,
) -> None:
    """Call ``func(*args, **kwargs)`` and check the result against ``expected``.

    Parameters
    ----------
    func : callable
        The student's function.
    *args, **kwargs
        Its arguments. The names ``expected, rtol, atol, mistakes, accept, parts,
        float_only, modifies`` are taken by this function.
    expected : array, float, int, tuple or dict
        The right answer. Arrays and floats are compared entrywise with
        ``|got - expected| <= atol + rtol * |expected|``; ints exactly; tuples and dicts
        part by part (a dict must have exactly the expected keys). A part given as
        :data:`UNCHECKED` is not compared.
    accept : dict, optional
        Other right answers, ``{description: value}``, each shaped like ``expected``
        (typically the composition of the student's own functions, from
        :func:`attempt`). The result passes when it matches ``expected`` or any of them;
        values not shaped like ``expected`` (``None`` included) are skipped. A failure
        reports the comparison with ``expected`` and names the alternatives that did not
        match either.
    mistakes : dict, optional
        ``{description: wrong answer}``: when the result matches a wrong answer, its
        description is shown as a hint. With ``parts`` or a dict ``expected``, give one
        such dict per part, keyed by the part's name.
    parts : tuple of str, optional
        Names for the parts of a tuple result, e.g. ``("dX", "dW", "db")``.
    float_only : bool
        Require a floating-point array (e.g. ``one_hot``).
    modifies : tuple of str
        Arguments the function may change (e.g. ``params`` for an in-place optimiser
        step). Every other array, dict or list argument must be unchanged afterwards.

    Raises
    ------
    GradingError
        If the call fails, warns, changes an input or returns a wrong result.
    """
    __tracebackhide__ = True
    name = _name(func)
    inputs = _bind(func, args, kwargs) if callable(func) else {}
    before = {k: _snapshot(v) for k, v in inputs.items() if k not in modifies}
    got = call(func, *args, **kwargs)
    head = f"{_call_text(name, inputs)} returned a wrong result."
    records: list[tuple[str, float]] = []
    try:
        _compare(got, expected, "", rtol, atol, inputs, mistakes, float_only, parts, records)
    except _MismatchError as mismatch:
        # an alternative comes from the student's code: only one built like the answer counts
        others = {k: v for k, v in (accept or {}).items() if _shaped_like(v, expected)}
        records, ratios = _match_any(got, others, rtol, atol, inputs, float_only, parts)
        if records is None:
            unmatched = "".join(f"\nit is not {description} either." for description in others)
            closest = min([mismatch.ratio, *ratios])
            _fail(_message(head, inputs, mismatch.text + unmatched), name, "", closest)
    for label, ratio in records:
        _record(name, label, ratio)
    for key, snapshot in before.items():
        change = _changes(snapshot, inputs[key], key)
        if change:
            _fail(
                _message(
                    f"{_call_text(name, inputs)} changed its input {key}: {change}.",
                    {key: snapshot},
                    "hint: build new arrays (`Z = Z - m`) instead of writing into an argument "
                    "(`Z -= m`, `Z[mask] = 0`); if you perturb an argument, put every entry back.",
                ),
                name,
                f"{key} unchanged",
            )


def attempt(compute: Callable[[], object]):
    """``compute()``, or None when it raises or warns: an alternative answer, if it exists.

    ``compute`` is typically the composition of the student's own functions, e.g.
    ``lambda: softmax(linear_forward(A, W, b))``, offered to :func:`check` in ``accept``.
    When one of those functions is not written yet or fails, there is no such
    alternative, and the check compares with ``expected`` alone.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = compute()
        except Exception:  # a stub, or any failure of the student's code: no alternative
            return None
    return None if caught else value


def check_gradient(
    func,
    got,
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    label: str = "gradient",
    h: float = 1e-5,
    rtol: float = GRAD_RTOL,
    atol: float = GRAD_ATOL,
    inputs: dict | None = None,
) -> None:
    """Check an analytic gradient ``got`` against central differences of ``f`` at ``x``.

    The numerical gradient is computed in float64 with step ``h`` (see
    :func:`numerical_gradient`); ``func`` is the student's function that produced
    ``got``, named in the message; ``label`` names the gradient (e.g. ``"grads['W1']"``).
    """
    __tracebackhide__ = True
    name = _name(func)
    numeric = numerical_gradient(f, np.asarray(x, dtype=np.float64), h)
    records: list[tuple[str, float]] = []
    try:
        _compare(got, numeric, label, rtol, atol, inputs or {}, None, False, None, records)
    except _MismatchError as mismatch:
        _fail(
            _message(
                f"{name}: {label} disagrees with a numerical gradient (central differences, "
                f"h={h:g}, float64).",
                inputs,
                mismatch.text,
            ),
            name,
            label,
            mismatch.ratio,
        )
    for lab, ratio in records:
        _record(name, lab, ratio)


def expect(condition: bool, func, message: str, **inputs) -> None:
    """Fail with ``message`` about ``func`` unless ``condition`` holds; ``inputs`` are shown."""
    __tracebackhide__ = True
    name = _name(func)
    if not condition:
        _fail(_message(f"{name}: {message}", inputs), name, message)
    _record(name, message, 0.0)


def check_minibatches(func, N: int, batch_size: int, seed: int = 0) -> None:
    """Check a mini-batch iterator ``func(X, y, batch_size, rng)`` against its contract.

    The data are built here so that every row can be recognised: row ``n`` of ``X``
    is ``[n, -n]`` and its label is ``10 * n``. One pass must yield ``(X_batch,
    y_batch)`` pairs of ``batch_size`` rows (the last may have fewer) covering every
    row exactly once, each X row with its own label, in shuffled order; the order
    must come from ``rng`` alone (same seed, same batches, whatever the state of
    ``np.random``; a second pass with the same ``rng`` is a new order), and ``X`` and
    ``y`` must be left unchanged.
    """
    __tracebackhide__ = True
    name = _name(func)
    X = np.column_stack([np.arange(N, dtype=np.float64), -np.arange(N, dtype=np.float64)])
    y = 10 * np.arange(N)
    inputs = {"X": X, "y": y, "batch_size": batch_size, "rng": np.random.default_rng(seed)}
    head = f"{name}(X, y, batch_size={batch_size}, rng) with N = {N} rows"

    def need(condition: bool, problem: str) -> None:
        __tracebackhide__ = True
        if not condition:
            _fail(_message(f"{head}: {problem}", inputs), name, problem)

    def one_pass(rng) -> np.ndarray:
        """Row numbers in the order one pass yields them, after checking the batches."""
        __tracebackhide__ = True
        batches = call(func, X, y, batch_size, rng)
        need(
            isinstance(batches, list | tuple)
            and all(isinstance(b, tuple | list) and len(b) == 2 for b in batches),
            f"expected an iterator of (X_batch, y_batch) pairs, got {describe(batches)}",
        )
        pairs = [(np.asarray(xb), np.asarray(yb)) for xb, yb in batches]
        need(
            all(xb.ndim == 2 and xb.shape[1] == 2 and yb.shape == (len(xb),) for xb, yb in pairs),
            "each X_batch must be (B, D) and its y_batch (B,); got shapes "
            + ", ".join(f"{xb.shape} and {yb.shape}" for xb, yb in pairs[:4]),
        )
        sizes = [len(yb) for _, yb in pairs]
        want = [batch_size] * (N // batch_size) + ([N % batch_size] if N % batch_size else [])
        need(
            sizes == want,
            f"the batch sizes should be {want} (all of batch_size rows but the last), got {sizes}",
        )
        rows = np.concatenate([xb[:, 0] for xb, _ in pairs]).astype(int)
        need(
            sorted(rows.tolist()) == list(range(N)),
            "every row must appear exactly once per pass; the rows you yielded were "
            f"{_preview(rows)}",
        )
        need(
            all(np.array_equal(yb, 10 * xb[:, 0]) for xb, yb in pairs),
            "each X row must stay with its own label: X and y were shuffled differently "
            "(draw one permutation and index both arrays with it)",
        )
        return rows

    order = one_pass(np.random.default_rng(seed))
    need(
        bool(np.all(X[:, 0] == np.arange(N))) and bool(np.all(y == 10 * np.arange(N))),
        "X and y must be left unchanged: shuffle indices, not the arrays themselves",
    )
    if N >= 5:
        need(
            not np.array_equal(order, np.arange(N)),
            "the rows came out in their original order: shuffle them with rng.permutation(N)",
        )
        # code that reads numpy's global generator instead of rng gives another order here
        again = one_pass(np.random.default_rng(seed))
        need(
            np.array_equal(order, again),
            "two calls with generators seeded alike gave different orders: draw the "
            "permutation from the rng argument, not from np.random or a new generator",
        )
        rng = np.random.default_rng(seed)
        one_pass(rng)
        need(
            not np.array_equal(one_pass(rng), order),
            "a second pass with the same rng repeated the first order: draw a new "
            "permutation from rng at every call",
        )
    _record(name, "minibatches contract", 0.0)


# --------------------------------------------------------------------------- references


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5):
    """Central differences ``(f(x + h e_i) - f(x - h e_i)) / 2h`` for every entry of ``x``.

    Parameters
    ----------
    f : callable
        Scalar function of an array shaped like ``x``.
    x : ndarray
        Point, any shape; not modified (the function works on a float64 copy).
    h : float
        Step.

    Returns
    -------
    ndarray
        Gradient, shape of ``x``, float64.
    """
    point = np.array(x, dtype=np.float64)
    grad = np.empty_like(point)
    for i in np.ndindex(point.shape):
        old = point[i]
        point[i] = old + h
        up = float(f(point))
        point[i] = old - h
        down = float(f(point))
        point[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


# --------------------------------------------------------------------------- command line


def _validate(paths: list[str]) -> int:
    """Run nbgrader's validator on each notebook; return the number that fail."""
    from nbgrader.validator import Validator  # heavy: only the command line needs it

    validator = Validator()
    validator.validate_all = True  # ungraded cells must run cleanly too
    validator.ignore_checksums = True
    failures = 0
    for path in paths:
        results = validator.validate(path)
        problems = [
            f"  {kind}: {item.get('raw_error') or item['source'][:200]}"
            for kind in ("type_changed", "changed", "failed")
            for item in results.get(kind, [])
        ]
        print(("FAILED " if problems else "ok     ") + path)
        for problem in problems:
            print(problem)
        failures += bool(problems)
    return failures


def _main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "validate":
        print("usage: python -m nnkit.grading validate NOTEBOOK [NOTEBOOK...]", file=sys.stderr)
        return 2
    return 1 if _validate(argv[1:]) else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))


# --------------------------------------------------------------------------- autodiff graphs (ps4)
#
# Problem set 4's tests build small computation graphs out of the student's Value class from a
# *program*: Python statements over named leaves, such as "c = a * b; d = c + a; d * c", whose
# last line is the root (called ``out`` in messages). Only what the contract defines is used
# (calling the class, operators, methods, .data, .grad, backward(), identity of values), so the
# same checks run on the judge's remote proxies and on real objects.

_PROGRAM_FILE = "<test program>"
_AUTODIFF_HINTS = {
    "unsupported operand": "Python found no method for this operator. With a number on the left "
    "(2 - v) it calls the reflected method of the Value on the right: __radd__, __rsub__, "
    "__rmul__, __rtruediv__; -v calls __neg__.",
    "object has no attribute 'data'": "an operand is a plain number: wrap it into a Value first "
    "(other = Value.wrap(other)).",
    "math range error": "math.exp overflows above 709: compute sigmoid with exp of -|z| only "
    "(and tanh with math.tanh).",
    "maximum recursion depth": "the graph is deeper than Python's recursion limit: walk it with "
    "an explicit stack instead of recursion.",
}


def _program_steps(program: str) -> list[tuple[str, ast.expr]]:
    """``[(name, expression), ...]`` of a program; its last line, the root, is named ``out``."""
    body = ast.parse(program).body
    steps = []
    for k, statement in enumerate(body):
        last = k == len(body) - 1
        if last and isinstance(statement, ast.Expr):
            steps.append(("out", statement.value))
        elif (
            not last
            and isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            steps.append((statement.targets[0].id, statement.value))
        else:
            raise ValueError(
                f"a program is `name = expression` lines, then the root expression: {program!r}"
            )
    return steps


def _names_in(expression: ast.expr) -> list[str]:
    return [n.id for n in ast.walk(expression) if isinstance(n, ast.Name)]


def _program_text(program: str, inputs: dict) -> str:
    """``c = a * b; out = c + a, with a = 2.0, b = -1.0`` for messages."""
    steps = "; ".join(f"{name} = {ast.unparse(expr)}" for name, expr in _program_steps(program))
    values = ", ".join(f"{name} = {float(x)!r}" for name, x in inputs.items())
    return f"{steps}, with {values}" if values else steps


def _evaluate_steps(program: str, leaves: dict) -> dict:
    """Run a program on ``leaves`` (Values or floats); returns every name, the root as ``out``."""
    names = dict(leaves)
    for name, expression in _program_steps(program):
        code = compile(ast.Expression(expression), _PROGRAM_FILE, "eval")
        names[name] = eval(code, {"__builtins__": {}}, names)  # the test's own program text
    return names


def _guarded(head: str, name: str, action: Callable):
    """``action()``; an exception or a warning of the student's code becomes a GradingError."""
    __tracebackhide__ = True
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = action()
        except GradingError:
            raise
        except StudentError as exc:
            kind, text, frames = exc.kind, str(exc), "\n".join(exc.frames)
            error = (kind, text, frames)
        except Exception as exc:  # any failure of student code is reported
            frames = _student_frames(exc.__traceback__, _PROGRAM_FILE)
            error = (type(exc).__name__, str(exc), frames)
    if error is not None:
        kind, text, frames = error
        hint = (
            "hint: write it in its answer cell and run that cell, then this one."
            if kind == "NotImplementedError"
            else _lookup_hint(text, _AUTODIFF_HINTS | _EXCEPTION_HINTS)
        )
        where = ("where, in your code:\n" + frames) if frames else ""
        _fail(_message(f"{head} raised {kind}: {text}", None, where, hint), name)
    if caught:
        first = caught[0]
        _fail(
            _message(
                f"{head} emitted a warning ({first.category.__name__}: {first.message}). Warnings "
                "go to stderr, and nbgrader fails any test cell that prints to stderr.",
                None,
                _lookup_hint(str(first.message), _WARNING_HINTS),
            ),
            name,
        )
    return result


def _read(head: str, name: str, value, attribute: str) -> float:
    """``value.<attribute>`` as a float, or a GradingError saying why it is not one."""
    __tracebackhide__ = True
    if isinstance(value, bool | int | float | np.number):
        _fail(
            f"{head}: got the plain number {value!r} where a Value belongs: every operation "
            "returns a new Value (wrap the result: Value(result, ...)).",
            name,
        )
    got = _guarded(f"{head}: reading .{attribute}", name, lambda: getattr(value, attribute))
    if isinstance(got, np.ndarray) and got.ndim == 0:  # how a numpy scalar crosses the channel
        got = got[()]
    if isinstance(got, bool | np.bool_) or not isinstance(got, int | float | np.number):
        _fail(f"{head}: .{attribute} should be a float, got {describe(got)}", name)
    return float(got)


def _formula_value(wrong, inputs: dict) -> float:
    """A wrong answer: a number, or a formula in the leaves' names such as ``"3 * a ** 3"``."""
    if isinstance(wrong, str):
        return float(eval(wrong, {"__builtins__": {}, "math": math}, dict(inputs)))
    return float(wrong)


def _check_number(head, name, label, got, expected, mistakes, inputs, extra=()) -> None:
    """Compare one float. A failure shows the matching mistakes' hints, else ``extra``'s."""
    __tracebackhide__ = True
    want = np.asarray(float(expected))
    try:
        ratio = _compare_array(np.asarray(got), want, RTOL, ATOL, {}, None, False)
    except _MismatchError as mismatch:
        lines = mismatch.text.splitlines()
        matched = [
            f"hint: {hint}"
            for hint, wrong in (mistakes or {}).items()
            if math.isclose(got, _formula_value(wrong, inputs), rel_tol=1e-9, abs_tol=1e-12)
        ]
        generic = [line for line in lines if line.startswith("hint:")]
        hints = matched or list(extra) or generic
        body = [line for line in lines if not line.startswith("hint:")] + hints[:2]
        _fail(_message(f"{head}: {label} is wrong.", None, *body), name, label, mismatch.ratio)
    _record(name, label, ratio)


def _gradient_hints(got: float, expected: float) -> list[str]:
    """Why a gradient may be off, read from how it is off."""
    if expected == 0 or not math.isfinite(got):
        return []
    if got == 0:
        return [
            "hint: no gradient arrived here: does backward() set out.grad = 1.0 and run every "
            "_backward from the root down (the reversed topological order), and does each "
            "_backward add to its parents' .grad?"
        ]
    factor = got / expected
    for k in (2, 3, 4):
        if math.isclose(factor, 1 / k, rel_tol=1e-6):
            return [
                f"hint: 1/{k} of the answer, so contributions are missing: a value used several "
                "times receives the sum of them (+=, never =), and each _backward multiplies by "
                "out.grad."
            ]
        if math.isclose(factor, k, rel_tol=1e-6):
            return [
                f"hint: {k} times the answer, so a contribution was counted more than once: does "
                "topological_order list each value once, and backward() run each _backward once?"
            ]
    return []


def _build(value_class, program: str, inputs: dict) -> tuple[dict, str, str]:
    """Leaves made with the student's class, the program run on them: (names, head, class name)."""
    __tracebackhide__ = True
    name = _name(value_class)
    head = f"{name}: {_program_text(program, inputs)}"
    if not callable(value_class):
        _fail(f"{name!r} is not a class: define Value in its cell and run it.", name)
    leaves = {
        leaf: _guarded(f"{name}({float(x)!r})", name, lambda x=x: value_class(float(x)))
        for leaf, x in inputs.items()
    }
    names = _guarded(head, name, lambda: _evaluate_steps(program, leaves))
    return names, head, name


def check_expression(
    value_class,
    program: str,
    /,
    *,
    expected: float | None,
    grads: Mapping[str, float] | None = None,
    mistakes: Mapping[str, Mapping] | None = None,
    **inputs: float,
) -> None:
    """Build ``program`` from Values and check the root's data and, after backward(), the grads.

    Parameters
    ----------
    value_class : callable
        The student's ``Value``.
    program : str
        Python over the leaves' names, e.g. ``"2 - a"`` or ``"c = a * b; c * c + a"``; the
        last line is the root, ``out``.
    expected : float or None
        ``out.data``; None leaves it unchecked (when another test cell grades it).
    grads : dict, optional
        ``{name: expected .grad}`` for leaves and named intermediate values, checked after
        ``out.backward()`` (which must also leave ``out.grad == 1.0``). Without it,
        backward() is not called.
    mistakes : dict, optional
        ``{"data" or name: {hint: wrong answer}}``; a wrong answer is a number or a formula
        in the leaves' names (``"3 * a ** 3"``), evaluated with floats.
    **inputs : float
        The leaves, each built as ``value_class(x)``.

    Also checked: the root is a new Value (not one of the values it was computed from),
    no operand's data changed, and ``out.grad`` is 0.0 until backward() runs.
    """
    __tracebackhide__ = True
    mistakes = mistakes or {}
    names, head, name = _build(value_class, program, inputs)
    out = names["out"]
    data = _read(head, name, out, "data")
    operands = [v for key, v in names.items() if key != "out"]
    expect(
        not any(out is v for v in operands),
        value_class,
        f"{_program_text(program, inputs)}: out is one of the values it was computed from. An "
        "operation returns a new Value and leaves its operands unchanged.",
    )
    if expected is not None:
        _check_number(head, name, "out.data", data, expected, mistakes.get("data"), inputs)
    for leaf, x in inputs.items():
        now = _read(head, name, names[leaf], "data")
        expect(
            now == float(x),
            value_class,
            f"{_program_text(program, inputs)}: {leaf}.data changed from {float(x)!r} to "
            f"{now!r}. An operation must not modify its operands: return a new Value.",
        )
    grad = _read(head, name, out, "grad")
    expect(
        grad == 0.0,
        value_class,
        f"{_program_text(program, inputs)}: out.grad is {grad!r} before backward(); a new "
        "Value starts with grad 0.0.",
    )
    if grads is None:
        return
    head = f"{head}, then out.backward()"
    _guarded(head, name, out.backward)
    seed = ["hint: backward() starts the chain rule with out.grad = 1.0 (dout/dout)."]
    root_grad = _read(head, name, out, "grad")
    _check_number(head, name, "out.grad", root_grad, 1.0, None, inputs, seed)
    for key, want in grads.items():
        got = _read(head, name, names[key], "grad")
        extra = _gradient_hints(got, want)
        _check_number(head, name, f"{key}.grad", got, want, mistakes.get(key), inputs, extra)


def check_graph_gradient(value_class, program: str, /, h: float = 1e-5, **inputs: float) -> None:
    """Check the leaves' grads after backward() against central differences of ``program``.

    The program (arithmetic only: no methods such as ``exp()``) is also run on plain floats:
    its value is out.data's expected value, and its central differences with step ``h``
    are each leaf's expected grad (tolerance ``GRAD_RTOL``, ``GRAD_ATOL``).
    """
    __tracebackhide__ = True
    names, head, name = _build(value_class, program, inputs)
    out = names["out"]

    def on_floats(point: np.ndarray) -> float:
        leaves = dict(zip(inputs, map(float, point), strict=True))
        return float(_evaluate_steps(program, leaves)["out"])

    point = np.array([float(x) for x in inputs.values()])
    data = _read(head, name, out, "data")
    _check_number(head, name, "out.data", data, on_floats(point), None, inputs)
    head = f"{head}, then out.backward()"
    _guarded(head, name, out.backward)
    got = np.array([_read(head, name, names[leaf], "grad") for leaf in inputs])
    labels = ", ".join(f"{leaf}.grad" for leaf in inputs)
    label = f"({labels}) of {_program_text(program, inputs)}"
    check_gradient(value_class, got, on_floats, point, label=label, h=h)


def check_topological_order(func, value_class, program: str, /, **inputs: float) -> None:
    """Check ``func(out)`` lists every value of ``program``'s graph once, parents first, out last.

    The program may only use ``+`` and ``*``, between values and numbers: its graph then
    holds exactly one Value per leaf, per number and per operation, so the length of the
    list is known. Values are recognised by identity (``is``).
    """
    __tracebackhide__ = True
    steps = _program_steps(program)
    allowed = (ast.BinOp, ast.Add, ast.Mult, ast.Name, ast.Load, ast.Constant)
    if not all(isinstance(n, allowed) for _, e in steps for n in ast.walk(e)):
        raise ValueError(f"check_topological_order: use only + and * in the program: {program!r}")
    size = len(inputs) + sum(
        isinstance(n, ast.BinOp) + sum(isinstance(o, ast.Constant) for o in (n.left, n.right))
        for _, e in steps
        for n in ast.walk(e)
        if isinstance(n, ast.BinOp)
    )
    names, _, _ = _build(value_class, program, inputs)
    out = names["out"]
    fname = _name(func)
    head = f"{fname}(out) for {_program_text(program, inputs)}"
    order = call(func, out)

    def need(condition: bool, problem: str) -> None:
        __tracebackhide__ = True
        if not condition:
            _fail(f"{head}: {problem}", fname, problem)
        _record(fname, problem, 0.0)

    twice = " (hint: remember the values already visited, so that one reached twice is listed once)"
    need(isinstance(order, list | tuple), f"expected a list of Values, got {describe(order)}")
    position = {}
    for key, value in names.items():
        found = [i for i, item in enumerate(order) if item is value]
        hint = twice if found else " (hint: are leaves, the values made by no operation, listed?)"
        need(
            len(found) == 1,
            f"{key} appears {len(found)} times in the list; every value reachable from out "
            "appears exactly once" + (hint if len(found) > 1 or key in inputs else ""),
        )
        position[key] = found[0]
    missing = " (hint: numbers such as the 2 in a * 2 become Values too)"
    need(
        len(order) == size,
        f"the graph has {size} values (every leaf, number and operation result), the list "
        f"has {len(order)}" + (twice if len(order) > size else missing),
    )
    reversed_hint = (
        " (hint: out came first: append a value after visiting its parents and return the list "
        "parents first; backward() is the one that walks it in reverse)"
    )
    need(
        order[-1] is out,
        "out must come last, after every value it was computed from"
        + (reversed_hint if order[0] is out else ""),
    )
    for key, expression in steps:
        for parent in _names_in(expression):
            if names[parent] is names[key]:  # the program "a": out is the leaf itself
                continue
            need(
                position[parent] < position[key],
                f"{parent} comes after {key}, which is computed from it: append a value only "
                "after all its parents (depth-first, post-order).",
            )


def evaluate(value_class, program: str, /, **inputs: float) -> tuple[float, dict[str, float]]:
    """``(out.data, {name: .grad})`` after ``out.backward()``, for a trusted Value class.

    Hidden tests call it with the answer key's Value to get the expected answers of
    :func:`check_expression` at new inputs.
    """
    names = _evaluate_steps(program, {k: value_class(float(x)) for k, x in inputs.items()})
    names["out"].backward()
    grads = {k: float(v.grad) for k, v in names.items() if k != "out"}
    return float(names["out"].data), grads


def random_program(rng: np.random.Generator, steps: int = 8, leaves: int = 3) -> tuple[str, dict]:
    """A random graph of about ``steps`` ``+`` and ``*`` with reused values: ``(program, inputs)``.

    Leaves ``a, b, c, ...`` hold values of size 0.5 to 1.5 with random signs; each line
    ``v<k> = x op y`` combines earlier values (at times the same one twice) and numbers, and
    every value is used on the way to the root. ``*`` takes a leaf or a number on one side,
    so that values stay moderate.
    """
    names = [chr(ord("a") + k) for k in range(leaves)]
    inputs = {n: float(rng.choice([-1, 1]) * rng.uniform(0.5, 1.5)) for n in names}
    made, unused, lines = list(names), list(names), []

    def combine(left: str, plus: bool) -> str:
        if plus:
            right = made[rng.integers(len(made))]
        else:
            pick = rng.integers(len(names) + 1)
            right = names[pick] if pick < len(names) else repr(float(rng.choice([0.5, 2.0])))
        if right in unused:
            unused.remove(right)
        return f"{left} {'+' if plus else '*'} {right}"

    def step(expression: str) -> None:
        name = f"v{len(lines)}"
        lines.append(f"{name} = {expression}")
        made.append(name)
        unused.append(name)

    for _ in range(steps - 1):
        left = unused.pop(0) if unused else made[rng.integers(len(made))]
        step(combine(left, rng.random() < 0.5))
    while len(unused) > 2:  # fold the values nothing used yet into the root
        step(f"{unused.pop(0)} + {unused.pop(0)}")
    root = " + ".join(unused) if len(unused) == 2 else combine(unused.pop(), rng.random() < 0.5)
    return "; ".join([*lines, root]), inputs


__all__ += [
    "check_expression",
    "check_graph_gradient",
    "check_topological_order",
    "evaluate",
    "random_program",
]

"""The wire between the judge and a sandboxed kernel: framed messages of JSON and ``.npy`` blobs.

One message is one frame::

    8 bytes   total length L of what follows (big-endian)
    4 bytes   length H of the header
    H bytes   header: UTF-8 JSON, ``{"op": ..., "blobs": [n0, n1, ...], ...}``
    L-4-H     the blobs, concatenated; blob i has n_i bytes

Values travel as JSON with tagged objects for what JSON cannot hold:

- ``{"$nd": i}``: a numpy array, blob ``i`` in ``.npy`` format, read with
  ``allow_pickle=False`` (numeric and bool dtypes only); ``{"$scalar": i}``: a numpy
  scalar (``np.int64(3)``), sent as a 0-d array and given back as a scalar;
- ``{"$tuple": [...]}`` and ``{"$dict": [[key, value], ...]}`` (str or int keys);
- ``{"$float": "nan" | "inf" | "-inf"}`` (JSON has no such numbers);
- ``{"$rng": state}``: a numpy ``Generator`` on PCG64, by its bit generator's state;
- ``{"$fn": id}``: a function of the judge's that the kernel may call back;
- ``{"$obj": [handle, name]}``: an object that stays in the kernel (a student's
  ``Value``, a bound method), by the handle the kernel gave it and a name to show;
  the judge holds a proxy (``judge.RemoteObject``) and sends the handle back to use it;
- ``{"$opaque": type name}``: anything else (the kernel says what it was, nothing more).

Both ends use this module, but they trust it differently. The kernel end runs
inside the student's process, so everything the judge receives is checked as
hostile input by :func:`decode` and :func:`read_frame`: sizes, depth, dtypes and
tags are bounded, and any violation is a :class:`ChannelError` that the judge
turns into a failed check, never a crash. Nothing is ever unpickled.
"""

from __future__ import annotations

import io
import json
import math
import os
import select
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# a reply larger than this is refused (the judge's memory stays bounded whatever a kernel sends)
MAX_FRAME = 64 * 1024**2
MAX_HEADER = 4 * 1024**2
MAX_DEPTH = 16
MAX_ITEMS = 100_000
MAX_TEXT = 10_000
# dtypes a result may have: bool, ints, floats, complex
NUMERIC_KINDS = frozenset("biufc")

_LENGTHS = struct.Struct(">QI")


class ChannelError(Exception):
    """A frame or value that breaks the protocol; the message says what was wrong."""


class ChannelTimeoutError(ChannelError):
    """No complete frame arrived before the deadline."""


class ChannelClosedError(ChannelError):
    """The other end closed the channel (the kernel died or stopped serving)."""


@dataclass
class Message:
    """A decoded frame: its header (without ``blobs``) and its blobs."""

    header: dict
    blobs: list[bytes]

    @property
    def op(self) -> str:
        return str(self.header.get("op", ""))


# ----------------------------------------------------------------------------- frames


def pack(header: dict, blobs: list[bytes] = ()) -> bytes:
    """One frame holding ``header`` (JSON-serialisable) and ``blobs``."""
    head = json.dumps({**header, "blobs": [len(b) for b in blobs]}).encode()
    body = head + b"".join(blobs)
    return _LENGTHS.pack(len(body) + 4, len(head)) + body


def unpack(frame_body: bytes, header_length: int) -> Message:
    """The Message in a frame's body (after the 8-byte length), checked."""
    if header_length > min(len(frame_body), MAX_HEADER):
        raise ChannelError(f"header of {header_length} bytes does not fit its frame")
    try:
        header = json.loads(frame_body[:header_length].decode())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ChannelError(f"header is not JSON ({type(exc).__name__})") from None
    if not isinstance(header, dict):
        raise ChannelError("header is not a JSON object")
    sizes = header.pop("blobs", [])
    if not isinstance(sizes, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in sizes
    ):
        raise ChannelError("blob sizes are not a list of non-negative ints")
    if header_length + sum(sizes) != len(frame_body):
        raise ChannelError("blob sizes do not add up to the frame's length")
    blobs, start = [], header_length
    for n in sizes:
        blobs.append(frame_body[start : start + n])
        start += n
    return Message(header, blobs)


def write_frame(fd: int, frame: bytes, deadline: float | None = None) -> None:
    """Write all of ``frame`` to ``fd``, waiting for room at most until ``deadline``."""
    view = memoryview(frame)
    while view:
        _wait(fd, "w", deadline)
        try:
            sent = os.write(fd, view)
        except BlockingIOError:
            continue
        except BrokenPipeError:
            raise ChannelClosedError("the kernel closed the channel") from None
        view = view[sent:]


def read_frame(fd: int, deadline: float | None = None, limit: int = MAX_FRAME) -> Message:
    """Read one frame from ``fd``; refuse one longer than ``limit`` bytes."""
    lengths = _read_exactly(fd, _LENGTHS.size, deadline)
    total, header_length = _LENGTHS.unpack(lengths)
    if total > limit:
        raise ChannelError(f"a reply of {total:,} bytes is over the limit of {limit:,}")
    if total < 4:
        raise ChannelError("a frame shorter than its own header length")
    body = _read_exactly(fd, total - 4, deadline)
    return unpack(body, header_length)


def _wait(fd: int, mode: str, deadline: float | None) -> None:
    timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
    readable, writable, _ = select.select(
        [fd] if mode == "r" else [], [fd] if mode == "w" else [], [], timeout
    )
    if not readable and not writable:
        raise ChannelTimeoutError("no reply before the deadline")


def _read_exactly(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, missing = [], n
    while missing:
        _wait(fd, "r", deadline)
        try:
            chunk = os.read(fd, min(missing, 1 << 20))
        except BlockingIOError:
            continue
        if not chunk:
            raise ChannelClosedError("the kernel closed the channel")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


# ----------------------------------------------------------------------------- values


def array_to_npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_to_array(blob: bytes) -> np.ndarray:
    """A genuine numpy array from ``.npy`` bytes; object and structured dtypes are refused."""
    try:
        array = np.load(io.BytesIO(blob), allow_pickle=False)
    except Exception as exc:  # malformed .npy raises several kinds
        raise ChannelError(f"not a valid .npy array ({type(exc).__name__}: {exc})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in NUMERIC_KINDS:
        raise ChannelError(f"an array of dtype {getattr(array, 'dtype', '?')} is not a number")
    return array


class Encoder:
    """Turns Python values into tagged JSON plus blobs (one per array).

    ``function_id`` maps a callable argument to the id the other end calls back
    with; without it, callables are opaque. ``object_id`` maps any other value to
    its ``[handle, name]`` reference, or None when it has none; without it, such
    values are opaque.
    """

    def __init__(
        self,
        function_id: Callable[[Callable], int] | None = None,
        object_id: Callable[[object], list | None] | None = None,
    ):
        self.blobs: list[bytes] = []
        self.function_id = function_id
        self.object_id = object_id

    def encode(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ChannelError(f"value nested deeper than {MAX_DEPTH} levels")
        if value is None or isinstance(value, bool | str):
            return value[:MAX_TEXT] if isinstance(value, str) else value
        if isinstance(value, int):
            return value if abs(value) < 2**63 else {"$opaque": "int of more than 63 bits"}
        if isinstance(value, float):
            return value if math.isfinite(value) else {"$float": repr(value)}
        if isinstance(value, np.random.Generator):
            return {"$rng": value.bit_generator.state}
        if isinstance(value, np.ndarray | np.generic):
            array = np.asarray(value)
            if array.dtype.kind not in NUMERIC_KINDS:
                return {"$opaque": f"array of dtype {array.dtype}"}
            self.blobs.append(array_to_npy(array))
            tag = "$scalar" if isinstance(value, np.generic) else "$nd"
            return {tag: len(self.blobs) - 1}
        if isinstance(value, tuple | list):
            if len(value) > MAX_ITEMS:
                raise ChannelError(f"a {type(value).__name__} of more than {MAX_ITEMS} items")
            items = [self.encode(v, depth + 1) for v in value]
            return {"$tuple": items} if isinstance(value, tuple) else items
        if isinstance(value, dict):
            if len(value) > MAX_ITEMS:
                raise ChannelError(f"a dict of more than {MAX_ITEMS} items")
            pairs = []
            for key, item in value.items():
                if not isinstance(key, str | int) or isinstance(key, bool):
                    return {"$opaque": "dict with keys that are not str or int"}
                pairs.append([key, self.encode(item, depth + 1)])
            return {"$dict": pairs}
        if self.object_id is not None:
            reference = self.object_id(value)
            if reference is not None:
                return {"$obj": reference}
        if callable(value) and self.function_id is not None:
            return {"$fn": self.function_id(value)}
        return {"$opaque": type(value).__name__[:100]}


class Opaque:
    """A value the kernel could not send as data; ``kind`` names its type."""

    def __init__(self, kind: str):
        self.kind = kind

    def __repr__(self) -> str:
        return f"<{self.kind}>"


def decode(
    value,
    blobs: list[bytes],
    function: Callable[[int], Callable] | None = None,
    depth: int = 0,
    obj: Callable[[int, str], object] | None = None,
):
    """The Python value of tagged JSON ``value`` (see the module docstring), checked.

    ``function`` turns a ``$fn`` id into a callable; without it a ``$fn`` is refused.
    ``obj`` turns a ``$obj`` handle and name into the object (or its proxy); without
    it an ``$obj`` is refused.
    """
    if depth > MAX_DEPTH:
        raise ChannelError(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise ChannelError(f"a list of more than {MAX_ITEMS} items")
        return [decode(v, blobs, function, depth + 1, obj) for v in value]
    if not isinstance(value, dict) or len(value) != 1:
        raise ChannelError("a JSON object that is not one tagged value")
    ((tag, body),) = value.items()
    if tag in ("$nd", "$scalar"):
        if not isinstance(body, int) or isinstance(body, bool) or not 0 <= body < len(blobs):
            raise ChannelError("an array refers to a blob that does not exist")
        array = npy_to_array(blobs[body])
        if tag == "$nd":
            return array
        if array.ndim != 0:
            raise ChannelError("a numpy scalar must be a 0-d array")
        return array[()]
    if tag == "$tuple":
        if not isinstance(body, list) or len(body) > MAX_ITEMS:
            raise ChannelError("$tuple must hold a list")
        return tuple(decode(v, blobs, function, depth + 1, obj) for v in body)
    if tag == "$dict":
        if not isinstance(body, list) or len(body) > MAX_ITEMS:
            raise ChannelError("$dict must hold a list of [key, value] pairs")
        out = {}
        for pair in body:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str | int)):
                raise ChannelError("$dict must hold [key, value] pairs with str or int keys")
            out[pair[0]] = decode(pair[1], blobs, function, depth + 1, obj)
        return out
    if tag == "$float":
        if body not in ("nan", "inf", "-inf"):
            raise ChannelError(f"$float must be nan, inf or -inf, not {str(body)[:20]!r}")
        return float(body)
    if tag == "$rng":
        return _generator(body)
    if tag == "$fn":
        if function is None:
            raise ChannelError("a function was sent where only data may come")
        return function(body)
    if tag == "$obj":
        if obj is None:
            raise ChannelError("an object reference was sent where only data may come")
        if not (
            isinstance(body, list)
            and len(body) == 2
            and isinstance(body[0], int)
            and not isinstance(body[0], bool)
            and 0 <= body[0] < 2**63
            and isinstance(body[1], str)
        ):
            raise ChannelError("$obj must hold [handle, name] with a non-negative int handle")
        return obj(body[0], body[1][:100])
    if tag == "$opaque":
        return Opaque(str(body)[:100])
    raise ChannelError(f"unknown tag {str(tag)[:20]!r}")


def _generator(state) -> np.random.Generator:
    rng = np.random.Generator(np.random.PCG64())
    try:
        rng.bit_generator.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise ChannelError(f"not a PCG64 generator state ({exc})") from None
    return rng

"""Datasets for the lectures: toy problems, splits, scaling, minibatches, digits and MNIST.

Classification sets return ``X`` of shape (N, D) float64 and integer labels
``y`` of shape (N,); 1-D regression sets return ``X`` of shape (N, 1) and
targets ``y`` of shape (N, 1), the shape of a one-output network's prediction.
Randomness comes from an ``rng`` argument (a ``numpy.random.Generator`` or an
int seed).

MNIST is not shipped with any package, so :func:`load_mnist` downloads the four
official IDX files once into a cache directory, checks their SHA-256 digests
and parses them with :func:`read_idx`. Scikit-learn's 8x8 digits
(:func:`load_digits`) ship with scikit-learn and need no network.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ._checks import ShapeError, as_float_array, check_labels

__all__ = [
    "MNIST_BASE_URL",
    "MNIST_FILES",
    "TARGETS_1D",
    "ChecksumError",
    "DownloadError",
    "IDXFormatError",
    "Standardizer",
    "blobs",
    "default_cache_dir",
    "load_digits",
    "load_mnist",
    "minibatches",
    "mnist_available",
    "noisy_sine",
    "read_idx",
    "spirals",
    "target_1d",
    "train_test_split",
    "two_moons",
    "xor",
]


# ------------------------------------------------------------------ toy sets


def xor(n_per_corner: int = 1, noise: float = 0.0, rng=None):
    """The XOR problem: label 1 when exactly one of the two inputs is 1.

    With the defaults this is the four-row truth table; with ``n_per_corner``
    > 1 and ``noise`` > 0 each corner becomes a Gaussian cloud.

    Parameters
    ----------
    n_per_corner : int
        Points drawn around each of the corners (0,0), (0,1), (1,0), (1,1).
    noise : float
        Standard deviation of the Gaussian noise added to the coordinates.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    X : ndarray of shape (4 * n_per_corner, 2)
    y : ndarray of shape (4 * n_per_corner,), int64 in {0, 1}
    """
    if n_per_corner < 1:
        raise ValueError(f"xor: argument 'n_per_corner' must be >= 1, got {n_per_corner}")
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1, 0])
    X = np.repeat(corners, n_per_corner, axis=0)
    y = np.repeat(labels, n_per_corner)
    if noise > 0:
        X = X + noise * np.random.default_rng(rng).standard_normal(X.shape)
    return X, y


def _bump(x):
    return np.exp(-0.5 * (x / 0.25) ** 2)


TARGETS_1D: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sine": lambda x: np.sin(np.pi * x),
    "step": lambda x: (x > 0).astype(float),
    "abs": np.abs,
    "bump": _bump,
    "square": np.square,
    "cubic": lambda x: x**3,
}
"""Noise-free 1-D targets f(x) on [-1, 1], by name: ``sine`` is sin(pi x) (one
period), ``step`` is 1[x > 0], ``abs`` is |x|, ``bump`` is exp(-x^2 / (2 * 0.25^2)),
``square`` is x^2 and ``cubic`` is x^3."""


def target_1d(name: str, n_samples: int = 100, noise: float = 0.0, rng=None, low=-1.0, high=1.0):
    """Samples of a 1-D target, y = f(x) + noise, with x uniform on [low, high] and sorted.

    Parameters
    ----------
    name : str
        A key of :data:`TARGETS_1D`.
    n_samples : int
        N, the number of points.
    noise : float
        Standard deviation of the Gaussian noise added to y.
    rng : numpy.random.Generator or int, optional
    low, high : float
        The interval x is drawn from.

    Returns
    -------
    X : ndarray of shape (N, 1), sorted ascending so ``plt.plot(X, y)`` draws a curve
    y : ndarray of shape (N, 1)
    """
    if name not in TARGETS_1D:
        raise ValueError(f"target_1d: unknown target {name!r}; choose one of {sorted(TARGETS_1D)}")
    rng = np.random.default_rng(rng)
    X = np.sort(rng.uniform(low, high, size=n_samples))[:, None]
    y = TARGETS_1D[name](X)
    if noise > 0:
        y = y + noise * rng.standard_normal(y.shape)
    return X, y


def noisy_sine(n_samples: int = 100, noise: float = 0.1, rng=None):
    """Noisy samples of one sine period, y = sin(pi x) + noise, x uniform on [-1, 1].

    Parameters
    ----------
    n_samples : int
        N, the number of points.
    noise : float
        Standard deviation of the Gaussian noise added to y.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    X : ndarray of shape (N, 1), sorted ascending
    y : ndarray of shape (N, 1)
    """
    return target_1d("sine", n_samples, noise, rng)


def two_moons(n_samples: int = 200, noise: float = 0.1, rng=None):
    """Two interleaving half circles, a set no straight line separates.

    Class 0 lies on the upper unit half circle, class 1 on a lower half circle
    shifted to (1, 0.5); Gaussian noise is added to both coordinates.

    Parameters
    ----------
    n_samples : int
        N; class 0 gets ceil(N / 2) points, class 1 the rest.
    noise : float
        Standard deviation of the Gaussian noise.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    X : ndarray of shape (N, 2)
    y : ndarray of shape (N,), int64 in {0, 1}
    """
    rng = np.random.default_rng(rng)
    n0 = (n_samples + 1) // 2
    n1 = n_samples - n0
    t0 = rng.uniform(0.0, np.pi, n0)
    t1 = rng.uniform(0.0, np.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower]) + noise * rng.standard_normal((n_samples, 2))
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    return X, y


def spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, rng=None):
    """Interleaved spiral arms, one per class: the classic set a linear model cannot fit.

    Arm c has radius r growing linearly from 0 to 1 and angle
    theta = 4 (c + r) + noise * N(0, 1), so each arm turns 4 radians.

    Parameters
    ----------
    n_samples : int
        N, split as evenly as possible between the classes.
    n_classes : int
        C, the number of arms.
    noise : float
        Standard deviation of the angular noise, in radians.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    X : ndarray of shape (N, 2)
    y : ndarray of shape (N,), int64 in 0..C-1
    """
    rng = np.random.default_rng(rng)
    counts = np.full(n_classes, n_samples // n_classes)
    counts[: n_samples % n_classes] += 1
    X_parts, y_parts = [], []
    for c, n in enumerate(counts):
        r = np.linspace(0.0, 1.0, n)
        theta = 4.0 * (c + r) + noise * rng.standard_normal(n)
        X_parts.append(r[:, None] * np.column_stack([np.sin(theta), np.cos(theta)]))
        y_parts.append(np.full(n, c, dtype=np.int64))
    return np.vstack(X_parts), np.concatenate(y_parts)


def blobs(n_samples: int = 300, centers=3, std: float = 1.0, rng=None, box=(-5.0, 5.0)):
    """Isotropic Gaussian clusters, one class per centre.

    Parameters
    ----------
    n_samples : int
        N, split as evenly as possible between the centres.
    centers : int or array_like of shape (C, D)
        The centres, or how many to draw uniformly in ``box`` (then D = 2).
    std : float
        Standard deviation of every cluster.
    rng : numpy.random.Generator or int, optional
    box : (float, float)
        Range of the coordinates of drawn centres.

    Returns
    -------
    X : ndarray of shape (N, D)
    y : ndarray of shape (N,), int64 in 0..C-1
    """
    rng = np.random.default_rng(rng)
    if np.ndim(centers) == 0:
        centers = rng.uniform(box[0], box[1], size=(int(centers), 2))
    centers = as_float_array(centers, "blobs", "centers", ndim=2)
    n_classes = len(centers)
    counts = np.full(n_classes, n_samples // n_classes)
    counts[: n_samples % n_classes] += 1
    y = np.repeat(np.arange(n_classes), counts)
    X = centers[y] + std * rng.standard_normal((n_samples, centers.shape[1]))
    return X, y


# ------------------------------------------------------- splits and scaling


def train_test_split(X, y, test_size: float | int = 0.25, rng=None, stratify=False):
    """Shuffle the rows and split them into a training and a test set.

    Parameters
    ----------
    X : array_like of shape (N, ...)
    y : array_like of shape (N, ...)
    test_size : float in (0, 1) or int
        Fraction of the rows, or number of rows, that go to the test set.
    rng : numpy.random.Generator or int, optional
    stratify : bool or array_like of shape (N,)
        True keeps the class proportions of ``y`` in both parts (y must hold
        class labels); an array stratifies on those labels instead.

    Returns
    -------
    X_train : ndarray of shape (N - N_test, ...)
    X_test : ndarray of shape (N_test, ...)
    y_train : ndarray of shape (N - N_test, ...)
    y_test : ndarray of shape (N_test, ...)
    """
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if len(y) != n:
        raise ShapeError(
            f"train_test_split: arguments 'X' and 'y' must have the same number of rows, "
            f"got {X.shape} and {y.shape}"
        )
    if isinstance(test_size, (float, np.floating)):
        if not 0.0 < test_size < 1.0:
            raise ValueError(
                f"train_test_split: a float 'test_size' must be in (0, 1), got {test_size}"
            )
        n_test = int(np.ceil(test_size * n))
    else:
        n_test = int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: the test set would hold {n_test} of {n} rows")
    rng = np.random.default_rng(rng)

    if stratify is False or stratify is None:
        perm = rng.permutation(n)
        test_idx, train_idx = perm[:n_test], perm[n_test:]
    else:
        labels = check_labels(y if stratify is True else stratify, "train_test_split", "stratify")
        if len(labels) != n:
            raise ShapeError(
                f"train_test_split: argument 'stratify' must have shape ({n},), got {labels.shape}"
            )
        test_idx, train_idx = _stratified_indices(labels, n_test, rng)
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


def _stratified_indices(labels: np.ndarray, n_test: int, rng: np.random.Generator):
    """Pick ``n_test`` rows, each class's share as close as possible to its share in ``labels``."""
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * n_test / len(labels)
    take = np.floor(exact).astype(int)
    # hand the rows lost to rounding down to the classes with the largest remainders
    short = n_test - take.sum()
    order = np.argsort(-(exact - take), kind="stable")
    take[order[:short]] += 1
    test_parts, train_parts = [], []
    for c, k in zip(classes, take, strict=True):
        rows = rng.permutation(np.flatnonzero(labels == c))
        test_parts.append(rows[:k])
        train_parts.append(rows[k:])
    return rng.permutation(np.concatenate(test_parts)), rng.permutation(np.concatenate(train_parts))


class Standardizer:
    """Per-feature standardisation, x' = (x - mean) / std, with training-set statistics only.

    Fit on the training rows, then transform training, validation and test rows
    with those same statistics: computing them on the test rows would leak
    information about the test set into training. Constant features get
    std = 1 so they map to 0 instead of dividing by zero.

    Attributes
    ----------
    mean_ : ndarray of shape (D,)
    std_ : ndarray of shape (D,)
    """

    def __init__(self):
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def fit(self, X) -> Standardizer:
        """Compute the mean and standard deviation of every column of X (N, D); return self."""
        X = as_float_array(X, "Standardizer.fit", "X", ndim=2)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.std_ = np.where(std > 0, std, 1.0).astype(X.dtype)
        return self

    def _check(self, X, func: str) -> np.ndarray:
        if self.mean_ is None:
            raise RuntimeError(f"{func}: call fit(X_train) first")
        X = as_float_array(X, func, "X", ndim=2)
        if X.shape[1] != self.mean_.shape[0]:
            raise ShapeError(
                f"{func}: argument 'X' must have shape (?, {self.mean_.shape[0]}), got {X.shape}"
            )
        return X

    def transform(self, X) -> np.ndarray:
        """Return (X - mean_) / std_ for X of shape (N, D), as a new array of shape (N, D)."""
        X = self._check(X, "Standardizer.transform")
        return (X - self.mean_) / self.std_

    def fit_transform(self, X) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``; for the training set only."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X) -> np.ndarray:
        """Undo the scaling: X * std_ + mean_, shape (N, D)."""
        X = self._check(X, "Standardizer.inverse_transform")
        return X * self.std_ + self.mean_


def minibatches(X, y, batch_size: int, rng=None, shuffle: bool = True) -> Iterator:
    """Yield ``(X_batch, y_batch)`` pairs covering every row exactly once: one pass (epoch).

    Rows are visited in a fresh random order per call when ``shuffle`` is True,
    in their stored order otherwise. All batches have ``batch_size`` rows
    except possibly the last, which holds the remaining N mod batch_size rows.

    Parameters
    ----------
    X : ndarray of shape (N, ...)
    y : ndarray of shape (N, ...)
    batch_size : int
        B, the rows per batch.
    rng : numpy.random.Generator or int, optional
        Source of the shuffling order.
    shuffle : bool

    Yields
    ------
    X_batch : ndarray of shape (B, ...)
    y_batch : ndarray of shape (B, ...)
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ShapeError(
            f"minibatches: arguments 'X' and 'y' must have the same number of rows, "
            f"got {X.shape} and {y.shape}"
        )
    if batch_size < 1:
        raise ValueError(f"minibatches: argument 'batch_size' must be >= 1, got {batch_size}")
    n = len(X)
    if not shuffle:
        for start in range(0, n, batch_size):
            yield X[start : start + batch_size], y[start : start + batch_size]
        return
    order = np.random.default_rng(rng).permutation(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]


# -------------------------------------------------------------------- digits


def load_digits(test_size: float | int | None = None, rng=None, dtype=np.float64):
    """Scikit-learn's 8x8 handwritten digits (1797 images), shipped with scikit-learn.

    Pixel intensities 0..16 are divided by 16, so X lies in [0, 1].

    Parameters
    ----------
    test_size : float, int or None
        None returns the whole set; otherwise the fraction or number of rows of
        a stratified test split.
    rng : numpy.random.Generator or int, optional
        Shuffling for the split.
    dtype : numpy dtype
        Float type of X.

    Returns
    -------
    X : ndarray of shape (1797, 64) and y : ndarray of shape (1797,) int64, or
    X_train, X_test, y_train, y_test when ``test_size`` is given.
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    X = (bunch.data / 16.0).astype(dtype)
    y = bunch.target.astype(np.int64)
    if test_size is None:
        return X, y
    return train_test_split(X, y, test_size=test_size, rng=rng, stratify=True)


# --------------------------------------------------------------------- MNIST

MNIST_BASE_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
"""torchvision's mirror of the official files; ``yann.lecun.com/exdb/mnist/`` has the same."""

MNIST_FILES: dict[str, str] = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
    ),
}
"""SHA-256 digests of the four official MNIST archives, by file name."""

_MNIST_ROLES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

# IDX type byte -> big-endian numpy dtype (http://yann.lecun.com/exdb/mnist/, bottom of the page)
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class DownloadError(OSError):
    """A dataset file could not be downloaded (offline, wrong URL, server error)."""


class ChecksumError(ValueError):
    """A dataset file's SHA-256 digest differs from the known one."""


class IDXFormatError(ValueError):
    """A file is not a well-formed IDX file."""


def read_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse an IDX file (the format of MNIST) from its uncompressed bytes.

    Layout: two zero bytes, a type byte (0x08 = uint8, 0x09 = int8,
    0x0B = int16, 0x0C = int32, 0x0D = float32, 0x0E = float64), the number of
    dimensions K, then K big-endian uint32 sizes, then the values in C order,
    big-endian.

    Parameters
    ----------
    data : bytes
        The file content after gunzip.
    name : str
        File name used in error messages.

    Returns
    -------
    ndarray of shape (n_1, ..., n_K), in native byte order
    """
    if len(data) < 4:
        raise IDXFormatError(
            f"read_idx: {name} is {len(data)} bytes long, too short for an IDX header"
        )
    zero0, zero1, type_code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0 or type_code not in _IDX_DTYPES:
        raise IDXFormatError(
            f"read_idx: {name} has magic bytes {data[:4].hex()}, not an IDX file "
            f"(expected 0000 then a type byte in {[f'{c:02x}' for c in _IDX_DTYPES]} and the rank)"
        )
    header_end = 4 + 4 * ndim
    if len(data) < header_end:
        raise IDXFormatError(
            f"read_idx: {name} ends inside its header ({ndim} dimensions announced)"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_end])
    dtype = _IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header_end
    if actual != expected:
        raise IDXFormatError(
            f"read_idx: {name} announces shape {shape} of {dtype.name} ({expected} bytes of data) "
            f"but holds {actual} bytes: the file is truncated or corrupted"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header_end).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manual_hint(cache_dir: Path, base_url: str) -> str:
    return (
        f"To install the files by hand, download {', '.join(_MNIST_ROLES)} from {base_url} "
        f"(or http://yann.lecun.com/exdb/mnist/) on a machine with internet access and copy "
        f"them, still gzipped, into {cache_dir}"
    )


def _fetch(filename: str, digest: str, cache_dir: Path, base_url: str, timeout: float) -> Path:
    """Return the cached, verified path of ``filename``, downloading it first if absent."""
    path = cache_dir / filename
    if path.exists():
        actual = _sha256(path)
        if actual != digest:
            raise ChecksumError(
                f"load_mnist: the cached file {path} has SHA-256 {actual}, expected {digest}. "
                f"It is corrupted or not the official file: delete it to download it again. "
                + _manual_hint(cache_dir, base_url)
            )
        return path
    url = base_url.rstrip("/") + "/" + filename
    partial = path.with_name(filename + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as out:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
    except (urllib.error.URLError, OSError) as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, urllib.error.HTTPError):
            exc.close()  # an HTTPError holds the open response
            why = f"the server answered HTTP {exc.code} {exc.reason}: is base_url right?"
        else:
            why = f"{getattr(exc, 'reason', exc)}: are you offline?"
        raise DownloadError(
            f"load_mnist: could not download {filename} from {url} ({why}) "
            + _manual_hint(cache_dir, base_url)
        ) from exc
    actual = _sha256(partial)
    if actual != digest:
        partial.unlink()
        raise ChecksumError(
            f"load_mnist: {filename} downloaded from {url} has SHA-256 {actual}, "
            f"expected {digest}; the file was discarded. The mirror may serve a different or "
            f"damaged file: try another base_url. " + _manual_hint(cache_dir, base_url)
        )
    # the rename makes the file appear complete or not at all, even if Python is interrupted
    os.replace(partial, path)
    return path


def default_cache_dir() -> Path:
    """Where datasets are cached: $NNKIT_DATA if set, else ~/.cache/nnkit."""
    return Path(os.environ.get("NNKIT_DATA", Path.home() / ".cache" / "nnkit"))


def mnist_available(cache_dir=None) -> bool:
    """Whether all four MNIST files are in the cache, so :func:`load_mnist` needs no network.

    Only checks that the files exist (instant); :func:`load_mnist` verifies
    their digests when it reads them.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Folder of the files; default ``default_cache_dir() / "mnist"``.

    Returns
    -------
    bool
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir() / "mnist"
    return all((cache_dir / name).is_file() for name in _MNIST_ROLES)


def load_mnist(
    cache_dir=None,
    base_url: str = MNIST_BASE_URL,
    *,
    flatten: bool = True,
    dtype=np.float32,
    checksums: dict[str, str] | None = None,
    timeout: float = 30.0,
):
    """The MNIST digits: 60,000 training and 10,000 test images of 28x28 pixels.

    The four gzipped IDX files are downloaded once into ``cache_dir`` (about
    11 MB), checked against their SHA-256 digests, then read from the cache on
    every later call. Pixels are scaled to [0, 1].

    Parameters
    ----------
    cache_dir : str or Path, optional
        Folder of the files; default ``default_cache_dir() / "mnist"``.
    base_url : str
        Folder URL the files are downloaded from.
    flatten : bool
        Return images as rows of 784 pixels (True) or as (28, 28) arrays.
    dtype : numpy dtype
        Float type of the images.
    checksums : dict[str, str], optional
        SHA-256 digest per file name; default :data:`MNIST_FILES`.
    timeout : float
        Seconds to wait for the server before giving up.

    Returns
    -------
    X_train : ndarray of shape (60000, 784) or (60000, 28, 28)
    X_test : ndarray of shape (10000, 784) or (10000, 28, 28)
    y_train : ndarray of shape (60000,), int64
    y_test : ndarray of shape (10000,), int64

    Raises
    ------
    DownloadError
        A file is missing from the cache and cannot be downloaded.
    ChecksumError
        A file's SHA-256 digest is not the expected one.
    IDXFormatError
        A file is not a valid IDX file.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir() / "mnist"
    checksums = MNIST_FILES if checksums is None else checksums
    cache_dir.mkdir(parents=True, exist_ok=True)
    arrays = []
    for filename in _MNIST_ROLES:
        path = _fetch(filename, checksums[filename], cache_dir, base_url, timeout)
        try:
            raw = gzip.decompress(path.read_bytes())
        except (OSError, EOFError) as exc:
            raise IDXFormatError(f"load_mnist: {path} is not a valid gzip file ({exc})") from exc
        arrays.append(read_idx(raw, filename))
    train_images, train_labels, test_images, test_labels = arrays
    for images, labels, split in (
        (train_images, train_labels, "train"),
        (test_images, test_labels, "t10k"),
    ):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise IDXFormatError(
                f"load_mnist: {split} images {images.shape} and labels {labels.shape} do not match "
                f"(expected (N, rows, cols) and (N,))"
            )

    def images_to_float(images):
        X = images.astype(dtype)
        X /= 255.0
        return X.reshape(len(X), -1) if flatten else X

    return (
        images_to_float(train_images),
        images_to_float(test_images),
        train_labels.astype(np.int64),
        test_labels.astype(np.int64),
    )

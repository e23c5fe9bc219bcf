"""Datasets: toy sets, splits, scaling, minibatches, digits, MNIST downloaded over loopback."""

import gzip
import hashlib
import http.server
import socket
import struct
import threading

import numpy as np
import pytest

import nnkit as nk
from nnkit import data

# ------------------------------------------------------------------ toy sets


def test_xor_is_the_truth_table():
    """The default XOR set is the four corners labelled by x1 != x2."""
    X, y = nk.xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, (X[:, 0] != X[:, 1]).astype(int))


def test_noisy_xor_clouds_around_corners():
    """With noise, each corner becomes a cloud of n_per_corner points centred on it."""
    X, y = nk.xor(n_per_corner=500, noise=0.1, rng=0)
    assert X.shape == (2000, 2) and y.shape == (2000,)
    for corner, label in (([0, 0], 0), ([0, 1], 1), ([1, 0], 1), ([1, 1], 0)):
        near = np.linalg.norm(X - corner, axis=1) < 0.5
        np.testing.assert_allclose(X[near].mean(axis=0), corner, atol=0.02)
        assert np.all(y[near] == label)


@pytest.mark.parametrize("name", sorted(data.TARGETS_1D))
def test_target_1d_shapes_and_values(name):
    """A noise-free 1-D target returns sorted X (N, 1) and y = f(X) with shape (N, 1)."""
    X, y = data.target_1d(name, n_samples=50, rng=1)
    assert X.shape == (50, 1) and y.shape == (50, 1)
    assert np.all(np.diff(X[:, 0]) >= 0) and X.min() >= -1 and X.max() <= 1
    reference = {
        "sine": np.sin(np.pi * X),
        "step": np.where(X > 0, 1.0, 0.0),
        "abs": np.abs(X),
        "bump": np.exp(-8.0 * X**2),
        "square": X * X,
        "cubic": X * X * X,
    }[name]
    np.testing.assert_allclose(y, reference, atol=1e-15)


def test_noisy_sine_noise_level():
    """The residual y - sin(pi x) has the requested standard deviation."""
    X, y = nk.noisy_sine(n_samples=20000, noise=0.3, rng=2)
    assert X.shape == y.shape == (20000, 1)
    assert np.std(y - np.sin(np.pi * X)) == pytest.approx(0.3, rel=0.03)


def test_unknown_target_lists_the_choices():
    """A typo in the target name says which names exist."""
    with pytest.raises(ValueError, match=r"unknown target 'sin'.*'sine'"):
        data.target_1d("sin")


def test_two_moons_geometry():
    """Without noise, class 0 lies on the unit circle and class 1 on the circle about (1, 0.5)."""
    X, y = nk.two_moons(n_samples=101, noise=0.0, rng=3)
    assert X.shape == (101, 2) and np.bincount(y).tolist() == [51, 50]
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0)
    assert np.all(X[y == 0, 1] >= 0) and np.all(X[y == 1, 1] <= 0.5)


def test_spirals_counts_and_radius():
    """Spirals split N between the arms and stay in the unit disc."""
    X, y = nk.spirals(n_samples=301, n_classes=3, noise=0.2, rng=4)
    assert X.shape == (301, 2)
    assert np.bincount(y).tolist() == [101, 100, 100]
    assert np.linalg.norm(X, axis=1).max() <= 1.0 + 1e-12


def test_blobs_centred_on_given_centers():
    """Each class's mean is close to its centre, with the requested spread."""
    centers = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]])
    X, y = nk.blobs(n_samples=4000, centers=centers, std=0.5, rng=5)
    assert X.shape == (4000, 3)
    for c in (0, 1):
        np.testing.assert_allclose(X[y == c].mean(axis=0), centers[c], atol=0.05)
        np.testing.assert_allclose(X[y == c].std(axis=0), 0.5, rtol=0.06)


# ------------------------------------------------------- splits and scaling


def test_train_test_split_partitions_rows():
    """Every row lands in exactly one part, with X and y rows kept together."""
    X = np.arange(100)[:, None] * np.ones((1, 3))
    y = np.arange(100)
    X_tr, X_te, y_tr, y_te = nk.train_test_split(X, y, test_size=0.2, rng=0)
    assert len(X_te) == 20 and len(X_tr) == 80
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(100))
    np.testing.assert_array_equal(X_tr[:, 0], y_tr)
    np.testing.assert_array_equal(X_te[:, 2], y_te)


def test_stratified_split_keeps_proportions():
    """stratify=True keeps each class's share in the test part (to one row)."""
    y = np.repeat([0, 1, 2], [600, 300, 100])
    X = np.arange(1000)[:, None].astype(float)
    _, X_te, _, y_te = nk.train_test_split(X, y, test_size=0.1, rng=1, stratify=True)
    assert np.bincount(y_te).tolist() == [60, 30, 10]
    np.testing.assert_array_equal(y[X_te[:, 0].astype(int)], y_te)


def test_split_errors():
    """Mismatched rows and an impossible test size are refused with the argument named."""
    with pytest.raises(nk.ShapeError, match=r"train_test_split: .*same number of rows"):
        nk.train_test_split(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="test_size"):
        nk.train_test_split(np.zeros((5, 2)), np.zeros(5), test_size=1.5)


def test_standardizer_uses_training_statistics_only():
    """Test rows are scaled with the training mean and std: no information leaks from them."""
    rng = np.random.default_rng(6)
    X_train = rng.normal(3.0, 2.0, size=(500, 4))
    X_test = rng.normal(10.0, 5.0, size=(50, 4))
    scaler = nk.Standardizer().fit(X_train)
    Z_train = scaler.transform(X_train)
    np.testing.assert_allclose(Z_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z_train.std(axis=0), 1.0)
    Z_test = scaler.transform(X_test)
    np.testing.assert_allclose(Z_test, (X_test - X_train.mean(0)) / X_train.std(0))
    assert np.all(Z_test.mean(axis=0) > 2)  # the test set's own statistics were not used
    np.testing.assert_allclose(scaler.inverse_transform(Z_test), X_test)


def test_standardizer_constant_column_and_errors():
    """A constant feature maps to 0; transforming before fit or with wrong width is refused."""
    X = np.column_stack([np.full(10, 7.0), np.arange(10.0)])
    Z = nk.Standardizer().fit_transform(X)
    np.testing.assert_array_equal(Z[:, 0], 0.0)
    with pytest.raises(RuntimeError, match="fit"):
        nk.Standardizer().transform(X)
    with pytest.raises(
        nk.ShapeError, match=r"Standardizer.transform: argument 'X' must have shape \(\?, 2\)"
    ):
        nk.Standardizer().fit(X).transform(np.zeros((3, 5)))


def test_minibatches_visit_every_row_once_per_pass():
    """One pass covers each row exactly once; all batches are full but the last; passes differ."""
    X = np.arange(103)[:, None] * np.ones((1, 2))
    y = np.arange(103)
    rng = np.random.default_rng(7)
    orders = []
    for _ in range(2):
        batches = list(nk.minibatches(X, y, batch_size=10, rng=rng))
        assert [len(yb) for _, yb in batches] == [10] * 10 + [3]
        for Xb, yb in batches:
            np.testing.assert_array_equal(Xb[:, 1], yb)
        seen = np.concatenate([yb for _, yb in batches])
        assert sorted(seen.tolist()) == list(range(103))
        orders.append(seen)
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[0], np.arange(103))


def test_minibatches_without_shuffle_keep_order():
    """shuffle=False walks the rows in order."""
    y = np.arange(7)
    batches = [yb.tolist() for _, yb in nk.minibatches(y[:, None], y, batch_size=3, shuffle=False)]
    assert batches == [[0, 1, 2], [3, 4, 5], [6]]


# -------------------------------------------------------------------- digits


def test_load_digits_scaled_to_unit_interval():
    """scikit-learn's digits: 1797 rows of 64 pixels in [0, 1], labels 0..9."""
    X, y = nk.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == np.float64 and X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


def test_load_digits_split_is_stratified():
    """With test_size, the split is stratified and float32 is honoured."""
    X_tr, X_te, _, y_te = nk.load_digits(test_size=0.25, rng=0, dtype=np.float32)
    assert len(X_tr) + len(X_te) == 1797 and len(X_te) == 450
    assert X_tr.dtype == np.float32
    _, full_y = nk.load_digits()
    share = np.bincount(full_y) / 1797
    np.testing.assert_allclose(np.bincount(y_te) / len(y_te), share, atol=1.5 / len(y_te))


# ----------------------------------------------------------------------- IDX


def _idx_bytes(array: np.ndarray, type_code: int, dtype: str) -> bytes:
    """Encode an array as IDX by hand: 0, 0, type, rank, big-endian uint32 sizes, then data."""
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(dtype).tobytes()


@pytest.mark.parametrize(
    ("type_code", "dtype", "values"),
    [
        (0x08, ">u1", np.arange(24).reshape(2, 3, 4)),
        (0x0B, ">i2", np.array([[-300, 2, 1000]])),
        (0x0C, ">i4", np.array([70000, -1])),
        (0x0D, ">f4", np.array([[0.5, -2.25], [1e3, 3.0]])),
    ],
)
def test_read_idx_round_trip(type_code, dtype, values):
    """read_idx decodes the magic number, the sizes and the big-endian values."""
    out = data.read_idx(_idx_bytes(values, type_code, dtype))
    assert out.shape == values.shape
    assert out.dtype.isnative
    np.testing.assert_array_equal(out, values)


def test_read_idx_rejects_bad_magic_and_truncation():
    """A wrong magic number or a short file raises IDXFormatError naming the file."""
    good = _idx_bytes(np.zeros((2, 2)), 0x08, ">u1")
    with pytest.raises(data.IDXFormatError, match=r"labels\.idx has magic bytes 01000802"):
        data.read_idx(b"\x01" + good[1:], "labels.idx")
    with pytest.raises(data.IDXFormatError, match="magic bytes 00000702"):
        data.read_idx(good[:2] + b"\x07" + good[3:])
    with pytest.raises(data.IDXFormatError, match=r"announces shape \(2, 2\).*holds 3 bytes"):
        data.read_idx(good[:-1])


# --------------------------------------------------------- MNIST over loopback


def _write_fake_mnist(folder, rng, corrupt_magic=False):
    """Write four small gzipped IDX files named like MNIST's; return their arrays and digests."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, size=(6, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, size=6),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, size=(3, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, size=3),
    }
    digests = {}
    for name, values in arrays.items():
        raw = _idx_bytes(values, 0x08, ">u1")
        if corrupt_magic and name.startswith("t10k-labels"):
            raw = b"\x00\x00\x08\x09" + raw[4:]
        packed = gzip.compress(raw)
        (folder / name).write_bytes(packed)
        digests[name] = hashlib.sha256(packed).hexdigest()
    return arrays, digests


class _Server:
    """A real HTTP server on 127.0.0.1 serving one folder from a thread, counting GET requests."""

    def __init__(self, folder):
        requests = self.requests = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(folder), **kwargs)

            def do_GET(self):
                requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/files/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def test_load_mnist_downloads_parses_and_caches(tmp_path):
    """Files come over HTTP once, are parsed and scaled; the second call reads the cache only."""
    arrays, digests = _write_fake_mnist(tmp_path / "site" / "files", np.random.default_rng(8))
    cache = tmp_path / "cache"
    assert not data.mnist_available(cache)
    with _Server(tmp_path / "site") as server:
        X_tr, X_te, y_tr, y_te = nk.load_mnist(cache, server.url, checksums=digests)
        assert sorted(server.requests) == sorted(f"/files/{name}" for name in digests)
        assert sorted(p.name for p in cache.iterdir()) == sorted(digests)

        assert data.mnist_available(cache)
        again = nk.load_mnist(cache, server.url, checksums=digests, flatten=False, dtype=np.float64)
        assert len(server.requests) == 4  # nothing downloaded the second time

    assert X_tr.shape == (6, 784) and X_te.shape == (3, 784) and X_tr.dtype == np.float32
    np.testing.assert_allclose(
        X_tr, arrays["train-images-idx3-ubyte.gz"].reshape(6, -1) / 255, rtol=1e-6
    )
    np.testing.assert_array_equal(y_tr, arrays["train-labels-idx1-ubyte.gz"])
    np.testing.assert_array_equal(y_te, arrays["t10k-labels-idx1-ubyte.gz"])
    assert again[1].shape == (3, 28, 28) and again[1].dtype == np.float64
    np.testing.assert_allclose(again[1], arrays["t10k-images-idx3-ubyte.gz"] / 255)


def test_load_mnist_checksum_mismatch(tmp_path):
    """Files that are not the official ones fail the known digests; the error says what to do."""
    _, digests = _write_fake_mnist(tmp_path / "site" / "files", np.random.default_rng(9))
    cache = tmp_path / "cache"
    with _Server(tmp_path / "site") as server, pytest.raises(data.ChecksumError) as info:
        nk.load_mnist(cache, server.url)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message
    assert data.MNIST_FILES["train-images-idx3-ubyte.gz"] in message
    assert digests["train-images-idx3-ubyte.gz"] in message
    assert "copy them" in message and str(cache) in message
    assert list(cache.iterdir()) == []  # the bad download was discarded


def test_load_mnist_corrupted_cached_file(tmp_path):
    """A damaged file already in the cache is reported (named, with both digests), not used."""
    _, digests = _write_fake_mnist(tmp_path / "cache", np.random.default_rng(10))
    with open(tmp_path / "cache" / "t10k-images-idx3-ubyte.gz", "ab") as handle:
        handle.write(b"junk")
    with pytest.raises(
        data.ChecksumError, match=r"cached file .*t10k-images-idx3-ubyte\.gz has SHA-256"
    ):
        nk.load_mnist(tmp_path / "cache", "http://127.0.0.1:9/", checksums=digests)


def test_load_mnist_bad_magic_in_download(tmp_path):
    """A file with the right digest but a wrong IDX magic number raises IDXFormatError naming it."""
    _, digests = _write_fake_mnist(
        tmp_path / "site" / "files", np.random.default_rng(11), corrupt_magic=True
    )
    with (
        _Server(tmp_path / "site") as server,
        pytest.raises(data.IDXFormatError, match="t10k-labels"),
    ):
        nk.load_mnist(tmp_path / "cache", server.url, checksums=digests)


def test_load_mnist_offline(tmp_path):
    """A refused connection (closed port on 127.0.0.1) raises DownloadError saying what to do."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/mnist/"
    with pytest.raises(data.DownloadError) as info:
        nk.load_mnist(tmp_path / "cache", url, timeout=5)
    message = str(info.value)
    assert f"{url}train-images-idx3-ubyte.gz" in message
    assert "offline" in message and "copy them" in message and str(tmp_path / "cache") in message
    assert list((tmp_path / "cache").iterdir()) == []


def test_load_mnist_missing_on_server(tmp_path):
    """A 404 (wrong base_url) is a DownloadError too."""
    (tmp_path / "site" / "files").mkdir(parents=True)
    with _Server(tmp_path / "site") as server, pytest.raises(data.DownloadError, match="HTTP 404"):
        nk.load_mnist(tmp_path / "cache", server.url)

"""Loss-landscape tools: flat parameters, filter-normalised directions, slices, projections."""

import numpy as np
import pytest

import nnkit as nk
from nnkit import landscape


@pytest.fixture
def problem():
    X, y = nk.spirals(n_samples=60, rng=0)
    model = nk.MLP([2, 6, 5, 3], rng=1)
    return model, X, y


def test_flat_params_round_trip(problem):
    """get_flat_params concatenates in parameters() order; set_flat_params writes live arrays."""
    model, _, _ = problem
    params = model.parameters()
    theta = landscape.get_flat_params(model)
    assert theta.shape == (sum(p.size for p in params.values()),)
    np.testing.assert_array_equal(theta[: params["0.W"].size], params["0.W"].ravel())
    W_live = params["0.W"]
    landscape.set_flat_params(model, np.arange(theta.size, dtype=float))
    assert model.parameters()["0.W"] is W_live
    np.testing.assert_array_equal(W_live.ravel(), np.arange(W_live.size))
    assert model.parameters()["4.b"][-1] == theta.size - 1
    with pytest.raises(
        nk.ShapeError, match=rf"set_flat_params: argument 'theta' must have shape \({theta.size},\)"
    ):
        landscape.set_flat_params(model, np.zeros(3))


def test_filter_normalised_directions_have_filter_norms(problem):
    """Each column (neuron) of a direction's weight block has the norm of the same column of W."""
    model, _, _ = problem
    d1, d2 = landscape.random_directions(model, rng=2)
    assert not np.allclose(d1, d2)
    params = model.parameters()
    offsets = np.cumsum([0] + [p.size for p in params.values()])
    for (key, p), start, stop in zip(params.items(), offsets[:-1], offsets[1:], strict=True):
        block = d1[start:stop].reshape(p.shape)
        if p.ndim == 1:
            np.testing.assert_array_equal(block, 0.0)  # biases ignored, as in Li et al.
        else:
            np.testing.assert_allclose(
                np.linalg.norm(block, axis=0), np.linalg.norm(p, axis=0), rtol=1e-12
            )
            assert not np.allclose(block, p), key


def test_bias_directions_when_not_ignored(problem):
    """With ignore_biases=False a bias block is one filter with the bias vector's norm."""
    model, _, _ = problem
    model.parameters()["2.b"][...] = np.arange(5.0)
    (d,) = landscape.random_directions(model, rng=3, n=1, ignore_biases=False)
    sizes = [p.size for p in model.parameters().values()]
    start = sum(sizes[:3])
    np.testing.assert_allclose(np.linalg.norm(d[start : start + 5]), np.linalg.norm(np.arange(5.0)))


def test_unnormalised_directions_are_standard_normal():
    """filter_normalize=False gives plain N(0, 1) entries on the weights."""
    (d,) = landscape.random_directions(
        nk.MLP([50, 100, 10], rng=0), rng=4, n=1, filter_normalize=False
    )
    weights = d[d != 0]
    assert weights.size == 50 * 100 + 100 * 10
    assert weights.std() == pytest.approx(1.0, rel=0.03)


def test_slice_centre_is_the_model_loss(problem):
    """L at (0, 0) is the model's loss; any grid point is the loss at theta + a d1 + b d2."""
    model, X, y = problem
    theta = landscape.get_flat_params(model)
    d1, d2 = landscape.random_directions(model, rng=5)
    A, B, L = landscape.slice_2d(model, X, y, d1, d2, extent=1.0, resolution=5)
    assert A.shape == B.shape == L.shape == (5, 5)
    assert A[2, 2] == 0.0 and B[2, 2] == 0.0
    assert L[2, 2] == pytest.approx(model.loss(X, y), rel=1e-12)
    np.testing.assert_array_equal(landscape.get_flat_params(model), theta)  # restored

    a, b = A[0, 3], B[0, 3]
    assert (a, b) == (0.5, -1.0)
    landscape.set_flat_params(model, theta + a * d1 + b * d2)
    assert L[0, 3] == pytest.approx(model.loss(X, y), rel=1e-12)
    assert L[0, 3] != pytest.approx(L[2, 2])


def test_slice_about_another_centre(problem):
    """theta= centres the plane elsewhere; the rectangle extent is honoured."""
    model, X, y = problem
    theta = landscape.get_flat_params(model)
    d1, d2 = landscape.random_directions(model, rng=6)
    A, B, L = landscape.slice_2d(
        model, X, y, d1, d2, extent=(0.0, 1.0, -1.0, 0.0), resolution=3, theta=theta + d1
    )
    assert (A.min(), A.max(), B.min(), B.max()) == (0.0, 1.0, -1.0, 0.0)
    landscape.set_flat_params(model, theta + d1)
    assert L[2, 0] == pytest.approx(model.loss(X, y), rel=1e-12)


def test_interpolate_1d_endpoints(problem):
    """alpha = 0 and 1 give the losses at theta0 and theta1; the model ends where it started."""
    model, X, y = problem
    theta0 = landscape.get_flat_params(model)
    nk.fit(model, X, y, optimizer=nk.Adam(0.05), epochs=20, batch_size=16, rng=7, progress=False)
    theta1 = landscape.get_flat_params(model)
    trained_loss = model.loss(X, y)
    losses = landscape.interpolate_1d(model, theta0, theta1, X, y, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(landscape.get_flat_params(model), theta1)
    assert losses[2] == pytest.approx(trained_loss, rel=1e-12)
    landscape.set_flat_params(model, theta0)
    assert losses[0] == pytest.approx(model.loss(X, y), rel=1e-12)
    assert losses[2] < losses[0]


def test_projection_recovers_plane_coordinates():
    """A point theta* + a d1 + b d2 projects to (a, b), even for non-orthogonal directions."""
    rng = np.random.default_rng(8)
    theta_star, d1 = rng.standard_normal(40), rng.standard_normal(40)
    d2 = 0.6 * d1 + rng.standard_normal(40)
    a_true, b_true = np.array([0.5, -2.0, 3.0]), np.array([1.5, 0.0, -0.25])
    thetas = theta_star + a_true[:, None] * d1 + b_true[:, None] * d2
    a, b = landscape.project_trajectory(thetas, theta_star, d1, d2)
    np.testing.assert_allclose(a, a_true, atol=1e-12)
    np.testing.assert_allclose(b, b_true, atol=1e-12)
    off_plane = (
        thetas[0] + 3.0 * np.linalg.svd(np.column_stack([d1, d2]), full_matrices=True)[0][:, 5]
    )
    a_off, b_off = landscape.project_trajectory(off_plane[None], theta_star, d1, d2)
    np.testing.assert_allclose([a_off[0], b_off[0]], [0.5, 1.5], atol=1e-12)
    with pytest.raises(
        nk.ShapeError, match="project_trajectory: argument 'd2' must have shape \\(40,\\)"
    ):
        landscape.project_trajectory(thetas, theta_star, d1, d2[:3])


def test_pca_directions_span_a_planar_trajectory():
    """A trajectory lying in a plane is explained entirely by its two principal directions."""
    rng = np.random.default_rng(9)
    theta_star = rng.standard_normal(30)
    u, v = rng.standard_normal(30), rng.standard_normal(30)
    t = np.linspace(0, 1, 12)
    thetas = theta_star + np.outer(np.cos(3 * t), u) + np.outer(t**2, v)
    d1, d2, explained = landscape.pca_directions(thetas, theta_star)
    np.testing.assert_allclose([d1 @ d1, d2 @ d2, d1 @ d2], [1.0, 1.0, 0.0], atol=1e-12)
    assert explained.sum() == pytest.approx(1.0)
    a, b = landscape.project_trajectory(thetas, theta_star, d1, d2)
    np.testing.assert_allclose(theta_star + np.outer(a, d1) + np.outer(b, d2), thetas, atol=1e-10)

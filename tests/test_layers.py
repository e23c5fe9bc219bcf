"""Layers: the function pairs, initialisers, and the Linear/Activation/Sequential/MLP classes."""

import re

import numpy as np
import pytest

import nnkit as nk
from nnkit import layers
from nnkit.gradcheck import numerical_gradient, relative_error

DIFFERENTIABLE = [name for name, a in nk.ACTIVATIONS.items() if a.differentiable]


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


# ---------------------------------------------------------------- linear pair


def test_linear_forward_known_values():
    X = np.array([[1.0, 2.0], [0.0, -1.0]])
    W = np.array([[1.0, 0.0, 2.0], [3.0, 1.0, -1.0]])
    b = np.array([0.5, -0.5, 0.0])
    Z, _ = layers.linear_forward(X, W, b)
    np.testing.assert_allclose(Z, [[7.5, 1.5, 0.0], [-2.5, -1.5, 1.0]])


def test_linear_backward_matches_central_differences(rng):
    X, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5)
    dZ = rng.normal(size=(4, 5))
    _, cache = layers.linear_forward(X, W, b)
    dX, dW, db = layers.linear_backward(dZ, cache)

    def objective():
        # <dZ, Z> has gradient dZ with respect to Z, so its gradients are the backward pass's
        return np.vdot(dZ, layers.linear_forward(X, W, b)[0])

    assert relative_error(dX, numerical_gradient(lambda _: objective(), X)) < 1e-7
    assert relative_error(dW, numerical_gradient(lambda _: objective(), W)) < 1e-7
    assert relative_error(db, numerical_gradient(lambda _: objective(), b)) < 1e-7
    assert (dX.shape, dW.shape, db.shape) == (X.shape, W.shape, b.shape)


def test_linear_backward_can_skip_the_input_gradient(rng):
    X, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), np.zeros(2)
    dZ = rng.normal(size=(4, 2))
    _, cache = layers.linear_forward(X, W, b)
    dX, dW, db = layers.linear_backward(dZ, cache, input_grad=False)
    assert dX is None
    _, dW_full, db_full = layers.linear_backward(dZ, cache)
    np.testing.assert_array_equal(dW, dW_full)
    np.testing.assert_array_equal(db, db_full)


def _linear_backward_with_wrong_upstream():
    _, cache = layers.linear_forward(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(5))
    layers.linear_backward(np.zeros((2, 4)), cache)


def _activation_backward_with_wrong_upstream():
    _, cache = layers.activation_forward(np.zeros((2, 3)), "relu")
    layers.activation_backward(np.zeros((3, 2)), cache)


SHAPE_ERRORS = {
    "linear_forward: argument 'W' must have shape (3, ?), got (4, 5)": lambda: (
        layers.linear_forward(np.zeros((2, 3)), np.zeros((4, 5)), np.zeros(5))
    ),
    "linear_forward: argument 'b' must have shape (5,), got (4,)": lambda: layers.linear_forward(
        np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(4)
    ),
    "linear_forward: argument 'X' must be 2-D, got shape (3,)": lambda: layers.linear_forward(
        np.zeros(3), np.zeros((3, 5)), np.zeros(5)
    ),
    "linear_backward: argument 'dZ' must have shape (2, 5), got (2, 4)": (
        _linear_backward_with_wrong_upstream
    ),
    "activation_backward: arguments 'dA' and 'Z' must have the same shape, got (3, 2) and (2, 3)": (
        _activation_backward_with_wrong_upstream
    ),
    "MLP.forward: argument 'X' must have shape (?, 4), got (2, 5)": lambda: nk.MLP(
        [4, 8, 3], rng=0
    ).forward(np.zeros((2, 5))),
    "Linear.forward: argument 'X' must have shape (?, 3), got (2, 4)": lambda: nk.Linear(
        3, 2
    ).forward(np.zeros((2, 4))),
}


@pytest.mark.parametrize("message", list(SHAPE_ERRORS))
def test_shape_errors_name_the_function_argument_and_shapes(message):
    with pytest.raises(nk.ShapeError, match=re.escape(message)):
        SHAPE_ERRORS[message]()


# ---------------------------------------------------------------- activation pair


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_activation_backward_matches_central_differences(name, rng):
    Z = rng.normal(size=(3, 4))
    Z[np.abs(Z) < 0.05] = 0.3  # stay away from the kinks of relu and leaky_relu
    dA = rng.normal(size=(3, 4))
    _, cache = layers.activation_forward(Z, name)
    dZ = layers.activation_backward(dA, cache)
    numeric = numerical_gradient(lambda z: np.vdot(dA, layers.activation_forward(z, name)[0]), Z)
    assert relative_error(dZ, numeric) < 1e-7


@pytest.mark.parametrize("name", list(nk.ACTIVATIONS))
def test_activation_backward_equals_upstream_times_registry_derivative(name, rng):
    Z = rng.normal(size=(5, 3))
    Z[0, 0] = 0.0  # the kink: relu's derivative there must be 0, as the registry says
    dA = rng.normal(size=(5, 3))
    A, cache = layers.activation_forward(Z, name)
    np.testing.assert_allclose(A, nk.ACTIVATIONS[name].fn(Z))
    np.testing.assert_allclose(
        layers.activation_backward(dA, cache), dA * nk.ACTIVATIONS[name].grad(Z), rtol=1e-12
    )


# ---------------------------------------------------------------- softmax cross-entropy pair


def test_softmax_cross_entropy_pair(rng):
    Z, y = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    loss, cache = layers.softmax_cross_entropy_forward(Z, y)
    assert loss == pytest.approx(nk.softmax_cross_entropy(Z, y), rel=1e-14)
    dZ = layers.softmax_cross_entropy_backward(cache)
    np.testing.assert_allclose(dZ, (nk.softmax(Z) - nk.one_hot(y, 4)) / 6, rtol=1e-12)
    numeric = numerical_gradient(lambda z: layers.softmax_cross_entropy_forward(z, y)[0], Z)
    assert relative_error(dZ, numeric) < 1e-7
    # backward leaves its cache intact: a second call gives the same answer
    np.testing.assert_array_equal(layers.softmax_cross_entropy_backward(cache), dZ)
    loss_1h, cache_1h = layers.softmax_cross_entropy_forward(Z, nk.one_hot(y, 4))
    assert loss_1h == pytest.approx(loss, rel=1e-14)
    np.testing.assert_allclose(layers.softmax_cross_entropy_backward(cache_1h), dZ, rtol=1e-12)


def test_backward_functions_do_not_mutate_their_inputs(rng):
    X, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    Z, cache = layers.linear_forward(X, W, b)
    dZ = rng.normal(size=Z.shape)
    saved = [a.copy() for a in (X, W, b, Z, dZ)]
    layers.linear_backward(dZ, cache)
    A, act_cache = layers.activation_forward(Z, "relu")
    dA = rng.normal(size=A.shape)
    saved_act = [a.copy() for a in (A, dA)]
    layers.activation_backward(dA, act_cache)
    for before, after in zip(saved + saved_act, [X, W, b, Z, dZ, A, dA], strict=True):
        np.testing.assert_array_equal(before, after)


# ---------------------------------------------------------------- initialisation


def test_he_init_has_variance_two_over_fan_in():
    W = layers.he_init(400, 300, rng=0)
    assert W.shape == (400, 300) and W.dtype == np.float64
    assert W.var() == pytest.approx(2 / 400, rel=0.02)
    assert abs(W.mean()) < 0.003


def test_xavier_init_is_uniform_within_the_glorot_bound():
    W = layers.xavier_init(200, 100, rng=0)
    bound = np.sqrt(6 / 300)
    assert np.all(np.abs(W) <= bound)
    assert W.max() > 0.98 * bound and W.min() < -0.98 * bound
    assert W.var() == pytest.approx(2 / 300, rel=0.03)


@pytest.mark.parametrize("init", [layers.he_init, layers.xavier_init])
def test_init_is_reproducible_and_same_in_float32(init):
    np.testing.assert_array_equal(init(5, 4, rng=7), init(5, 4, rng=np.random.default_rng(7)))
    W32 = init(5, 4, rng=7, dtype=np.float32)
    assert W32.dtype == np.float32
    np.testing.assert_allclose(W32, init(5, 4, rng=7), rtol=1e-6)
    assert not np.array_equal(init(5, 4, rng=7), init(5, 4, rng=8))


# ---------------------------------------------------------------- classes


def test_linear_layer_follows_the_protocol(rng):
    layer = nk.Linear(3, 2, rng=0)
    assert set(layer.parameters()) == {"W", "b"}
    assert layer.parameters()["W"] is layer.W  # live arrays, so optimisers can update in place
    assert layer.n_parameters() == 3 * 2 + 2
    X, dZ = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    np.testing.assert_allclose(layer.forward(X), X @ layer.W + layer.b)
    dX = layer.backward(dZ)
    np.testing.assert_allclose(dX, dZ @ layer.W.T)
    np.testing.assert_allclose(layer.gradients()["W"], X.T @ dZ)
    np.testing.assert_allclose(layer.gradients()["b"], dZ.sum(axis=0))


def test_layers_refuse_backward_and_gradients_before_forward():
    with pytest.raises(RuntimeError, match="call forward"):
        nk.Linear(2, 2).backward(np.zeros((1, 2)))
    with pytest.raises(RuntimeError, match="no gradients yet"):
        nk.Linear(2, 2).gradients()
    with pytest.raises(RuntimeError, match="call forward"):
        nk.Activation("relu").backward(np.zeros((1, 2)))


def test_mlp_structure_keys_and_parameter_count():
    mlp = nk.MLP([4, 8, 6, 3], activation="tanh", rng=0)
    assert [type(layer).__name__ for layer in mlp] == [
        "Linear",
        "Activation",
        "Linear",
        "Activation",
        "Linear",
    ]
    assert all(layer.name == "tanh" for layer in mlp if isinstance(layer, nk.Activation))
    assert list(mlp.parameters()) == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert mlp.n_parameters() == (4 + 1) * 8 + (8 + 1) * 6 + (6 + 1) * 3
    assert mlp.parameters()["2.W"] is mlp[2].W
    assert "MLP(sizes=[4, 8, 6, 3]" in repr(mlp)


def test_mlp_is_reproducible_from_its_seed():
    a, b = nk.MLP([3, 5, 2], rng=3), nk.MLP([3, 5, 2], rng=3)
    for key, p in a.parameters().items():
        np.testing.assert_array_equal(p, b.parameters()[key])
    assert not np.array_equal(a.parameters()["0.W"], nk.MLP([3, 5, 2], rng=4).parameters()["0.W"])


def test_mlp_forward_equals_the_explicit_formula(rng):
    mlp = nk.MLP([3, 5, 2], activation="sigmoid", rng=0)
    X = rng.normal(size=(7, 3))
    p = mlp.parameters()
    Z = nk.sigmoid(X @ p["0.W"] + p["0.b"]) @ p["2.W"] + p["2.b"]
    np.testing.assert_allclose(mlp.forward(X), Z, rtol=1e-12)
    np.testing.assert_allclose(mlp.predict_proba(X), nk.softmax(Z), rtol=1e-12)
    np.testing.assert_array_equal(mlp.predict(X), Z.argmax(axis=1))
    y = rng.integers(0, 2, size=7)
    assert mlp.loss(X, y) == pytest.approx(nk.softmax_cross_entropy(Z, y), rel=1e-12)


def test_mlp_backward_matches_the_two_layer_formulas(rng):
    mlp = nk.MLP([3, 5, 4], activation="relu", rng=0)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 4, size=6)
    p = mlp.parameters()
    H_pre = X @ p["0.W"] + p["0.b"]
    H = np.maximum(H_pre, 0)
    dZ2 = (nk.softmax(H @ p["2.W"] + p["2.b"]) - nk.one_hot(y, 4)) / 6
    dH = dZ2 @ p["2.W"].T * (H_pre > 0)
    expected = {"0.W": X.T @ dH, "0.b": dH.sum(0), "2.W": H.T @ dZ2, "2.b": dZ2.sum(0)}

    loss, grads = mlp.loss_and_gradients(X, y)
    assert loss == pytest.approx(mlp.loss(X, y), rel=1e-14)
    assert list(grads) == list(expected)
    for key, g in expected.items():
        np.testing.assert_allclose(grads[key], g, rtol=1e-10, atol=1e-14)

    # the protocol path gives the same gradients, and the input gradient too
    _, cache = layers.softmax_cross_entropy_forward(mlp.forward(X), y)
    dX = mlp.backward(layers.softmax_cross_entropy_backward(cache))
    np.testing.assert_allclose(dX, dH @ p["0.W"].T, rtol=1e-10, atol=1e-14)
    for key, g in mlp.gradients().items():
        np.testing.assert_allclose(g, expected[key], rtol=1e-10, atol=1e-14)


def test_float32_mlp_stays_float32_end_to_end(rng):
    mlp = nk.MLP([4, 6, 3], rng=0, dtype=np.float32)
    X, y = rng.normal(size=(5, 4)), rng.integers(0, 3, size=5)  # float64 input is cast
    assert mlp.forward(X).dtype == np.float32
    assert mlp.predict_proba(X).dtype == np.float32
    _, grads = mlp.loss_and_gradients(X, y)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(p.dtype == np.float32 for p in mlp.parameters().values())
    ref = nk.MLP([4, 6, 3], rng=0)
    np.testing.assert_allclose(mlp.forward(X), ref.forward(X), rtol=1e-4, atol=1e-5)


def test_sequential_accepts_a_list_or_arguments_and_nests(rng):
    a = nk.Sequential(nk.Linear(3, 4, rng=0), nk.Activation("tanh"), nk.Linear(4, 2, rng=1))
    b = nk.Sequential([nk.Linear(3, 4, rng=0), nk.Activation("tanh"), nk.Linear(4, 2, rng=1)])
    X = rng.normal(size=(2, 3))
    np.testing.assert_array_equal(a.forward(X), b.forward(X))
    nested = nk.Sequential(a, nk.Activation("relu"), nk.Linear(2, 2, rng=2))
    assert list(nested.parameters()) == ["0.0.W", "0.0.b", "0.2.W", "0.2.b", "2.W", "2.b"]
    _, grads = nested.loss_and_gradients(X, np.array([0, 1]))
    assert list(grads) == list(nested.parameters())


def test_copy_is_independent():
    mlp = nk.MLP([2, 3, 2], rng=0)
    twin = mlp.copy()
    twin.parameters()["0.W"] += 1.0
    assert not np.array_equal(twin.parameters()["0.W"], mlp.parameters()["0.W"])


def test_class_errors_speak_the_users_language():
    with pytest.raises(ValueError, match=r"MLP: argument 'sizes' must list at least two"):
        nk.MLP([4])
    with pytest.raises(ValueError, match=r"unknown activation 'relux'"):
        nk.MLP([4, 2, 2], activation="relux")
    with pytest.raises(ValueError, match=r"Linear: unknown init 'kaiming'"):
        nk.Linear(2, 2, init="kaiming")
    with pytest.raises(TypeError, match=r"MLP: argument 'dtype' must be a floating dtype"):
        nk.MLP([2, 2], dtype=np.int32)

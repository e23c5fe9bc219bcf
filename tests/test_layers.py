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
    dX, dW, db = layers.linear_backward(dZ, *cache)

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
    dX, dW, db = layers.linear_backward(dZ, *cache, input_grad=False)
    assert dX is None
    _, dW_full, db_full = layers.linear_backward(dZ, *cache)
    np.testing.assert_array_equal(dW, dW_full)
    np.testing.assert_array_equal(db, db_full)


def _linear_backward_with_wrong_upstream():
    _, cache = layers.linear_forward(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(5))
    layers.linear_backward(np.zeros((2, 4)), *cache)


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


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "gelu"])
def test_in_place_activation_pair_gives_the_pure_pairs_values(name, rng):
    """inplace=True writes A over Z (when backward needs only A) and dZ over dA; same values."""
    Z, dA = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    A_pure, cache_pure = layers.activation_forward(Z, name)
    dZ_pure = layers.activation_backward(dA, cache_pure)
    Z_work, dA_work = Z.copy(), dA.copy()
    A, cache = layers.activation_forward(Z_work, name, inplace=True)
    dZ = layers.activation_backward(dA_work, cache, inplace=True)
    np.testing.assert_array_equal(A, A_pure)
    np.testing.assert_array_equal(dZ, dZ_pure)
    assert dZ is dA_work
    if name == "gelu":  # its derivative needs Z: Z is kept, untouched
        np.testing.assert_array_equal(Z_work, Z)
    else:
        assert A is Z_work and cache[0] is None


def _run_layer_by_layer(model, X, dout):
    """Forward and backward one layer at a time (never in place); outputs and gradients, copied."""
    out = X
    for layer in model:
        out = layer.forward(out)
    d = dout
    for layer in reversed(model.layers):
        d = layer.backward(d)
    grads = {k: g.copy() for k, g in model.gradients().items()}
    return out.copy(), d.copy(), grads


@pytest.mark.parametrize(
    "make",
    [
        lambda: nk.MLP([3, 5, 4, 2], activation="relu", rng=0),
        lambda: nk.MLP([3, 5, 2], activation="tanh", rng=0, dtype=np.float32),
        # an activation first or after another activation gets arrays it must not overwrite
        lambda: nk.Sequential(
            nk.Activation("relu"),
            nk.Linear(3, 4, rng=0),
            nk.Activation("sigmoid"),
            nk.Activation("tanh"),
            nk.Linear(4, 2, rng=1),
        ),
    ],
)
def test_sequential_in_place_activations_change_no_result_and_no_callers_array(make, rng):
    """Activations after a Linear run in place inside a Sequential: same outputs and gradients
    as the layers called one by one, and the caller's X and dout are left as they were."""
    model = make()
    X, dout = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    X_saved, dout_saved = X.copy(), dout.copy()
    out_ref, dX_ref, grads_ref = _run_layer_by_layer(model, X, dout)
    out = model.forward(X)
    dX = model.backward(dout)
    np.testing.assert_array_equal(out, out_ref)
    np.testing.assert_array_equal(dX, dX_ref)
    for key, g in model.gradients().items():
        np.testing.assert_array_equal(g, grads_ref[key])
    np.testing.assert_array_equal(X, X_saved)
    np.testing.assert_array_equal(dout, dout_saved)


def test_layers_called_one_by_one_never_overwrite_their_input(rng):
    """A layer of an MLP called directly keeps the caller's Z; only the MLP's chain reuses it."""
    mlp = nk.MLP([3, 4, 2], rng=0)
    Z = mlp[0].forward(rng.normal(size=(5, 3)))
    saved = Z.copy()
    mlp[1].forward(Z)
    np.testing.assert_array_equal(Z, saved)


# ---------------------------------------------------------------- softmax cross-entropy pair


def test_softmax_cross_entropy_pair(rng):
    """The pair has problem set 2's signatures: the cache is (Z, y), backward takes (Z, y)."""
    Z, y = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    loss, cache = layers.softmax_cross_entropy_forward(Z, y)
    assert loss == pytest.approx(nk.softmax_cross_entropy(Z, y), rel=1e-14)
    assert cache[0] is Z and cache[1] is y
    dZ = layers.softmax_cross_entropy_backward(*cache)
    np.testing.assert_allclose(dZ, (nk.softmax(Z) - nk.one_hot(y, 4)) / 6, rtol=1e-12)
    numeric = numerical_gradient(lambda z: layers.softmax_cross_entropy_forward(z, y)[0], Z)
    assert relative_error(dZ, numeric) < 1e-7
    # the training step's fused form gives the same loss and, to the bit, the same gradient
    fused_loss, fused_dZ = nk.losses.softmax_cross_entropy_and_grad(Z, y)
    assert fused_loss == loss
    np.testing.assert_array_equal(fused_dZ, dZ)
    loss_1h, cache_1h = layers.softmax_cross_entropy_forward(Z, nk.one_hot(y, 4))
    assert loss_1h == pytest.approx(loss, rel=1e-14)
    np.testing.assert_allclose(layers.softmax_cross_entropy_backward(*cache_1h), dZ, rtol=1e-12)


def test_backward_functions_do_not_mutate_their_inputs(rng):
    X, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    Z, cache = layers.linear_forward(X, W, b)
    dZ = rng.normal(size=Z.shape)
    saved = [a.copy() for a in (X, W, b, Z, dZ)]
    layers.linear_backward(dZ, *cache)
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
    dX = mlp.backward(layers.softmax_cross_entropy_backward(*cache))
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


# ---------------------------------------------------------------- dropout (lecture 09)


def test_dropout_forward_zeroes_about_p_and_keeps_the_mean(rng):
    X = np.ones((400, 250))
    out, cache = layers.dropout_forward(X, 0.3, rng=rng)
    dropped = np.mean(out == 0)
    assert abs(dropped - 0.3) < 0.01  # 100,000 Bernoulli draws: standard error 0.0014
    np.testing.assert_allclose(out[out != 0], 1 / 0.7)  # survivors scaled by 1 / (1 - p)
    assert abs(out.mean() - 1.0) < 0.02  # inverted dropout keeps E[out] = X
    np.testing.assert_array_equal(cache, out)  # for X = 1 the cache is the scaled mask


def test_dropout_is_the_identity_at_evaluation_time_and_for_p_zero(rng):
    X = rng.normal(size=(5, 4))
    for out, cache in (
        layers.dropout_forward(X, 0.5, rng=rng, training=False),
        layers.dropout_forward(X, 0.0, rng=rng),
    ):
        np.testing.assert_array_equal(out, X)
        assert cache is None
        dout = rng.normal(size=X.shape)
        np.testing.assert_array_equal(layers.dropout_backward(dout, cache), dout)


def test_dropout_backward_matches_central_differences(rng):
    X, dout = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))

    def forward(x):  # the same seed each call: the same mask
        return layers.dropout_forward(x, 0.4, rng=np.random.default_rng(7))

    _, cache = forward(X)
    dX = layers.dropout_backward(dout, cache)
    numeric = numerical_gradient(lambda x: np.vdot(dout, forward(x)[0]), X)
    assert relative_error(dX, numeric) < 1e-7
    assert np.any(dX == 0) and np.any(dX != 0)


def test_dropout_forward_uses_a_given_mask_and_backward_mutates_nothing(rng):
    X = rng.normal(size=(3, 4))
    mask = rng.random((3, 4)) > 0.5
    out, cache = layers.dropout_forward(X, 0.25, mask=mask)
    np.testing.assert_allclose(out, np.where(mask, X / 0.75, 0.0))
    dout = rng.normal(size=(3, 4))
    saved = dout.copy(), cache.copy()
    layers.dropout_backward(dout, cache)
    np.testing.assert_array_equal(saved[0], dout)
    np.testing.assert_array_equal(saved[1], cache)


def test_dropout_keeps_float32(rng):
    X = rng.normal(size=(4, 3)).astype(np.float32)
    out, cache = layers.dropout_forward(X, 0.5, rng=rng)
    assert out.dtype == cache.dtype == np.float32
    assert layers.dropout_backward(np.ones_like(X), cache).dtype == np.float32


def test_dropout_errors_name_function_argument_and_shapes(rng):
    X = rng.normal(size=(3, 4))
    with pytest.raises(ValueError, match=r"dropout_forward: argument 'p' must be in \[0, 1\)"):
        layers.dropout_forward(X, 1.0)
    with pytest.raises(
        nk.ShapeError,
        match=re.escape(
            "dropout_forward: arguments 'mask' and 'X' must have the same shape, "
            "got (4, 3) and (3, 4)"
        ),
    ):
        layers.dropout_forward(X, 0.5, mask=np.ones((4, 3), dtype=bool))
    with pytest.raises(TypeError, match="dropout_forward: argument 'mask' must be boolean"):
        layers.dropout_forward(X, 0.5, mask=np.ones((3, 4)))
    _, cache = layers.dropout_forward(X, 0.5, rng=rng)
    with pytest.raises(nk.ShapeError, match=r"dropout_backward: arguments 'dout' and 'mask'"):
        layers.dropout_backward(np.ones((2, 4)), cache)
    with pytest.raises(ValueError, match="Dropout: argument 'p'"):
        nk.Dropout(-0.1)
    with pytest.raises(RuntimeError, match=r"Dropout\.backward: call forward first"):
        nk.Dropout(0.5).backward(X)


def test_network_with_dropout_passes_the_gradient_check(rng):
    """Backprop through a Dropout layer in a Sequential agrees with central differences."""
    X, y = rng.normal(size=(7, 4)), rng.integers(0, 3, size=7)
    drop = nk.Dropout(0.5)
    model = nk.Sequential(
        nk.Linear(4, 6, rng=1), nk.Activation("tanh"), drop, nk.Linear(6, 3, rng=2)
    )

    def loss(_=None):
        drop.rng = np.random.default_rng(3)  # one mask for every evaluation
        return model.loss(X, y)

    drop.rng = np.random.default_rng(3)
    _, grads = model.loss_and_gradients(X, y)
    assert 0 < np.mean(drop._cache == 0) < 1  # some units really were dropped
    for key, p in model.parameters().items():
        assert relative_error(grads[key], numerical_gradient(loss, p)) < 1e-7, key


def test_evaluation_mode_switches_every_dropout_off_and_restores_it(rng):
    inner = nk.Sequential(nk.Linear(3, 5, rng=0), nk.Dropout(0.5, rng=1))
    last = nk.Dropout(0.9, rng=2)
    model = nk.Sequential(inner, nk.Activation("relu"), last)
    last.training = False  # a flag that was already off stays off afterwards
    X = rng.normal(size=(8, 3))
    reference = np.maximum(inner[0].forward(X), 0)
    with nk.evaluation_mode(model) as same:
        assert same is model
        np.testing.assert_array_equal(model.forward(X), reference)
    assert inner[1].training is True and last.training is False
    assert not np.array_equal(model.forward(X), reference)


def test_evaluation_mode_restores_the_flags_after_an_error():
    drop = nk.Dropout(0.5)
    with pytest.raises(KeyError), nk.evaluation_mode(nk.Sequential(drop)):
        assert drop.training is False
        raise KeyError("boom")
    assert drop.training is True


# ---------------------------------------------------------------- signal propagation (lecture 09)


def test_propagate_signals_equals_the_explicit_loop(rng):
    X = rng.normal(size=(5, 4))
    Ws = [rng.normal(size=(4, 6)), rng.normal(size=(6, 3))]
    dout = rng.normal(size=(5, 3))
    A, dZ = layers.propagate_signals(X, Ws, "tanh", dout)
    Z1 = X @ Ws[0]
    A1 = np.tanh(Z1)
    Z2 = A1 @ Ws[1]
    np.testing.assert_allclose(A[0], A1)
    np.testing.assert_allclose(A[1], np.tanh(Z2))
    dZ2 = dout * (1 - np.tanh(Z2) ** 2)
    np.testing.assert_allclose(dZ[1], dZ2)
    np.testing.assert_allclose(dZ[0], (dZ2 @ Ws[1].T) * (1 - A1**2))
    # dZ is the true gradient of L = sum(dout * A_L) with respect to Z_1
    numeric = numerical_gradient(lambda z: np.vdot(dout, np.tanh(np.tanh(z) @ Ws[1])), Z1.copy())
    assert relative_error(dZ[0], numeric) < 1e-7


def test_propagate_signals_names_a_bad_weight():
    with pytest.raises(nk.ShapeError, match=r"propagate_signals: argument 'weights\[1\]'"):
        layers.propagate_signals(
            np.ones((2, 3)), [np.ones((3, 4)), np.ones((5, 2))], "relu", np.ones((2, 2))
        )

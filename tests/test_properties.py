"""Hypothesis property tests: invariants that must hold for any input, not just chosen ones."""

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nnkit as nk
from nnkit import layers, losses

# deadline=None and no too_slow check: the 2 shared cores make timings noisy
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
moderate = st.floats(-30, 30, allow_nan=False, allow_infinity=False)
dtypes = st.sampled_from([np.float64, np.float32])


def logits(elements=finite, max_rows=6, max_cols=6):
    return hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, max_rows), st.integers(1, max_cols)),
        elements=elements,
    )


def raising_errstate():
    # underflow to 0 (exp of a very negative number) is the right answer; all else must raise
    return np.errstate(all="raise", under="ignore")


@FAST
@given(Z=logits())
def test_softmax_rows_are_distributions(Z):
    with raising_errstate():
        P = nk.softmax(Z)
    assert P.shape == Z.shape
    assert np.all((P >= 0) & (P <= 1))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)


@FAST
@given(Z=logits(moderate), shift=hnp.arrays(np.float64, 6, elements=moderate))
def test_softmax_is_invariant_to_a_constant_per_row(Z, shift):
    c = shift[: Z.shape[0], None]
    np.testing.assert_allclose(nk.softmax(Z + c), nk.softmax(Z), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(nk.logsumexp(Z + c), nk.logsumexp(Z) + c[:, 0], rtol=1e-12)


@FAST
@given(Z=logits())
def test_log_softmax_equals_log_of_softmax_where_finite(Z):
    with raising_errstate():
        L = nk.log_softmax(Z)
        P = nk.softmax(Z)
    assert np.all(np.isfinite(L)) and np.all(L <= 0)
    # where softmax underflows to 0, log would be -inf but log_softmax stays finite
    visible = P > 1e-300
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(L[visible], np.log(P[visible]), rtol=1e-9, atol=1e-12)


@FAST
@given(Z=logits(), data=st.data())
def test_softmax_cross_entropy_is_finite_nonnegative_and_matches_log_softmax(Z, data):
    y = data.draw(hnp.arrays(np.int64, Z.shape[0], elements=st.integers(0, Z.shape[1] - 1)))
    with raising_errstate():
        loss = nk.softmax_cross_entropy(Z, y)
        dZ = losses.softmax_cross_entropy_grad(Z, y)
    assert np.isfinite(loss) and loss >= 0
    expected = -nk.log_softmax(Z)[np.arange(Z.shape[0]), y].mean()
    assert np.isclose(loss, expected, rtol=1e-12, atol=1e-12)
    # each row of softmax - one_hot sums to 0
    np.testing.assert_allclose(dZ.sum(axis=1), 0.0, atol=1e-12)


@FAST
@given(
    z=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=5), elements=finite),
    dtype=dtypes,
)
def test_activations_keep_shape_and_dtype_and_stay_finite(z, dtype):
    z = z.astype(dtype)
    for record in nk.ACTIVATIONS.values():
        with raising_errstate():
            out, grad = record.fn(z), record.grad(z)
        assert out.shape == z.shape and grad.shape == z.shape
        assert out.dtype == dtype and grad.dtype == dtype
        assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))


@FAST
@given(z=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=8), elements=finite))
def test_bounded_activations_stay_in_range(z):
    with raising_errstate():
        s, t = nk.sigmoid(z), nk.tanh(z)
        ds = nk.activations.sigmoid_grad(z)
    assert np.all((s >= 0) & (s <= 1))
    assert np.all((t >= -1) & (t <= 1))
    assert np.all((ds >= 0) & (ds <= 0.25))
    np.testing.assert_allclose(nk.sigmoid(-z), 1 - s, atol=1e-15)
    assert np.all(nk.relu(z) >= 0)


@FAST
@given(
    z=hnp.arrays(np.float64, st.integers(1, 10), elements=finite),
    t=st.data(),
)
def test_binary_cross_entropy_with_logits_is_finite_and_matches_the_probability_form(z, t):
    y = t.draw(hnp.arrays(np.float64, z.shape, elements=st.sampled_from([0.0, 1.0])))
    with raising_errstate():
        loss = nk.binary_cross_entropy_with_logits(z, y)
    assert np.isfinite(loss) and loss >= 0
    # where the probability form is itself accurate: 1 - sigmoid(z) loses about e^z / z * 1e-16
    # of relative accuracy to rounding, which passes the 1e-9 tolerance only for |z| below ~19
    moderate_z = np.abs(z) < 15
    if moderate_z.any():
        a = nk.binary_cross_entropy_with_logits(z[moderate_z], y[moderate_z])
        b = nk.binary_cross_entropy(nk.sigmoid(z[moderate_z]), y[moderate_z])
        assert np.isclose(a, b, rtol=1e-9, atol=1e-12)


@FAST
@given(
    n=st.integers(1, 5),
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
    activation=st.sampled_from(sorted(nk.ACTIVATIONS)),
    dtype=dtypes,
    seed=st.integers(0, 2**16),
)
def test_mlp_shapes_and_dtypes_for_any_architecture(n, sizes, activation, dtype, seed):
    rng = np.random.default_rng(seed)
    mlp = nk.MLP(sizes, activation=activation, rng=rng, dtype=dtype)
    X = rng.normal(size=(n, sizes[0]))
    y = rng.integers(0, sizes[-1], size=n)
    out = mlp.forward(X)
    assert out.shape == (n, sizes[-1]) and out.dtype == dtype
    assert mlp.predict(X).shape == (n,)
    loss, grads = mlp.loss_and_gradients(X, y)
    assert np.isfinite(loss)
    params = mlp.parameters()
    assert list(grads) == list(params)
    for key, g in grads.items():
        assert g.shape == params[key].shape and g.dtype == dtype
    assert mlp.n_parameters() == sum((a + 1) * b for a, b in itertools.pairwise(sizes))


@FAST
@given(
    X=hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.just(3)), elements=moderate),
    seed=st.integers(0, 2**16),
)
def test_linear_backward_is_the_adjoint_of_forward(X, seed):
    # backward is the transpose of the forward map: <dZ, V @ W> == <dX, V> for any direction V
    rng = np.random.default_rng(seed)
    W, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    V, dZ = rng.normal(size=X.shape), rng.normal(size=(X.shape[0], 4))
    _, cache = layers.linear_forward(X, W, b)
    dX, dW, db = layers.linear_backward(dZ, *cache)
    assert np.isclose(np.vdot(dZ, V @ W), np.vdot(dX, V), rtol=1e-10, atol=1e-10)
    U = rng.normal(size=W.shape)
    assert np.isclose(np.vdot(dZ, X @ U), np.vdot(dW, U), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(db, dZ.sum(axis=0))

"""Losses and the softmax family: known values, gradients, stability at extreme logits, errors."""

import math
import re

import numpy as np
import pytest

import nnkit as nk
from nnkit import losses
from nnkit.gradcheck import numerical_gradient, relative_error

RNG_SEED = 1234


def loss_inputs(name, rng, N=5, C=4):
    """A (prediction, target) pair valid for the loss ``name``, away from any boundary."""
    if name == "mse":
        return rng.normal(size=(N, 2)), rng.normal(size=(N, 2))
    if name == "binary_cross_entropy":
        return rng.uniform(0.1, 0.9, size=(N, 1)), rng.integers(0, 2, size=(N, 1)).astype(float)
    if name == "binary_cross_entropy_with_logits":
        return rng.normal(size=(N,)), rng.integers(0, 2, size=(N,)).astype(float)
    if name == "cross_entropy":
        # modest logits keep every probability well above 0, where -log p is gently curved
        P = nk.softmax(0.5 * rng.normal(size=(N, C)))
        return P, nk.one_hot(rng.integers(0, C, size=N), C)
    if name == "softmax_cross_entropy":
        return rng.normal(size=(N, C)) * 2, rng.integers(0, C, size=N)
    raise AssertionError(f"no test inputs for loss {name!r}")


def test_registry_lists_every_loss_with_its_gradient():
    assert set(nk.LOSSES) == {
        "mse",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "cross_entropy",
        "softmax_cross_entropy",
    }
    for name, record in nk.LOSSES.items():
        assert record.fn is getattr(losses, name)
        assert record.grad is getattr(losses, f"{name}_grad")


@pytest.mark.parametrize("name", list(nk.LOSSES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_value_and_grad_is_the_loss_and_its_gradient(name, dtype):
    """record.value_and_grad, fused or not, returns (fn, grad) to the bit, and keeps the dtype."""
    rng = np.random.default_rng(RNG_SEED)
    pred, target = loss_inputs(name, rng)
    pred = pred.astype(dtype)
    record = nk.LOSSES[name]
    saved = pred.copy()
    value, grad = record.value_and_grad(pred, target)
    assert value == record.fn(pred, target)
    np.testing.assert_array_equal(grad, record.grad(pred, target))
    assert grad.dtype == dtype
    np.testing.assert_array_equal(pred, saved)  # the prediction is left alone


def test_get_loss_finds_records_and_names_the_known_ones():
    assert losses.get_loss("mse") is nk.LOSSES["mse"]
    assert losses.get_loss(nk.LOSSES["mse"]) is nk.LOSSES["mse"]
    assert nk.LOSSES["softmax_cross_entropy"].fused is losses.softmax_cross_entropy_and_grad
    with pytest.raises(ValueError, match=r"get_loss: unknown loss 'hinge'; choose one of 'mse'"):
        losses.get_loss("hinge")


@pytest.mark.parametrize("name", list(nk.LOSSES))
def test_loss_gradient_matches_central_differences(name):
    rng = np.random.default_rng(RNG_SEED)
    pred, target = loss_inputs(name, rng)
    record = nk.LOSSES[name]
    numeric = numerical_gradient(lambda p: record.fn(p, target), pred.copy())
    analytic = record.grad(pred, target)
    assert analytic.shape == pred.shape
    assert relative_error(analytic, numeric) < 1e-7


@pytest.mark.parametrize("name", list(nk.LOSSES))
def test_losses_return_floats_and_keep_float32_gradients(name):
    rng = np.random.default_rng(RNG_SEED)
    pred, target = loss_inputs(name, rng)
    record = nk.LOSSES[name]
    assert isinstance(record.fn(pred, target), float)
    g32 = record.grad(pred.astype(np.float32), target)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, record.grad(pred, target), rtol=1e-4, atol=1e-6)


def test_mse_known_value_is_mean_over_all_entries():
    assert losses.mse([[1.0, 2.0], [3.0, 4.0]], [[1.0, 0.0], [0.0, 4.0]]) == pytest.approx(13 / 4)
    np.testing.assert_allclose(losses.mse_grad([1.0, 3.0], [0.0, 0.0]), [1.0, 3.0])


def test_binary_cross_entropy_known_values():
    p, y = np.array([0.9, 0.2]), np.array([1.0, 0.0])
    expected = -(math.log(0.9) + math.log(0.8)) / 2
    assert losses.binary_cross_entropy(p, y) == pytest.approx(expected, rel=1e-14)
    z = np.log(p / (1 - p))  # logits with sigmoid(z) = p
    assert losses.binary_cross_entropy_with_logits(z, y) == pytest.approx(expected, rel=1e-12)


def test_binary_cross_entropy_is_finite_at_certain_correct_predictions():
    with np.errstate(all="raise"):
        assert losses.binary_cross_entropy([0.0, 1.0], [0.0, 1.0]) == 0.0
        np.testing.assert_allclose(
            losses.binary_cross_entropy_grad([0.0, 1.0], [0.0, 1.0]), [0.5, -0.5]
        )


def test_binary_cross_entropy_with_logits_grad_is_sigmoid_minus_target():
    z, y = np.array([-2.0, 0.0, 3.0]), np.array([0.0, 1.0, 1.0])
    np.testing.assert_allclose(
        losses.binary_cross_entropy_with_logits_grad(z, y), (nk.sigmoid(z) - y) / 3
    )


def test_softmax_known_values():
    P = nk.softmax(np.array([[0.0, 0.0], [0.0, math.log(3.0)]]))
    np.testing.assert_allclose(P, [[0.5, 0.5], [0.25, 0.75]])
    np.testing.assert_allclose(nk.softmax(np.array([1.0, 2.0, 3.0])).sum(), 1.0)


def test_logsumexp_and_log_softmax_known_values():
    Z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    lse = nk.logsumexp(Z)
    np.testing.assert_allclose(
        lse, [math.log(math.exp(1) + math.exp(2) + math.exp(3)), math.log(3)]
    )
    np.testing.assert_allclose(nk.log_softmax(Z), Z - lse[:, None])


def test_one_hot():
    Y = nk.one_hot([2, 0, 1], 3)
    np.testing.assert_array_equal(Y, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert Y.dtype == np.float64
    assert nk.one_hot(np.array([1]), 2, dtype=np.float32).dtype == np.float32


def test_one_hot_refuses_labels_out_of_range():
    with pytest.raises(ValueError, match=r"one_hot: argument 'y' has labels outside 0..2"):
        nk.one_hot([0, 3], 3)


def test_cross_entropy_known_value_and_zero_probabilities():
    P = np.array([[0.7, 0.3, 0.0], [0.0, 0.5, 0.5]])
    Y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    expected = -(math.log(0.7) + math.log(0.5)) / 2
    with np.errstate(all="raise"):
        assert nk.cross_entropy(P, Y) == pytest.approx(expected, rel=1e-14)
        assert nk.cross_entropy(P, np.array([0, 2])) == pytest.approx(expected, rel=1e-14)
        G = losses.cross_entropy_grad(P, Y)
    np.testing.assert_allclose(G, [[-1 / (2 * 0.7), 0, 0], [0, 0, -1 / (2 * 0.5)]])


def test_softmax_cross_entropy_labels_equal_one_hot_and_probability_form():
    rng = np.random.default_rng(RNG_SEED)
    Z, y = rng.normal(size=(6, 3)), rng.integers(0, 3, size=6)
    Y = nk.one_hot(y, 3)
    loss = nk.softmax_cross_entropy(Z, y)
    assert nk.softmax_cross_entropy(Z, Y) == pytest.approx(loss, rel=1e-14)
    assert nk.cross_entropy(nk.softmax(Z), Y) == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(
        losses.softmax_cross_entropy_grad(Z, y), losses.softmax_cross_entropy_grad(Z, Y)
    )
    np.testing.assert_allclose(losses.softmax_cross_entropy_grad(Z, y), (nk.softmax(Z) - Y) / 6)


def test_uniform_logits_cost_log_of_the_class_count():
    assert nk.softmax_cross_entropy(np.zeros((4, 10)), [0, 3, 5, 9]) == pytest.approx(math.log(10))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_logits_stay_finite_without_warnings(dtype):
    Z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    y = np.array([1, 2, 0])
    with np.errstate(all="raise", under="ignore"):
        P = nk.softmax(Z)
        L = nk.log_softmax(Z)
        lse = nk.logsumexp(Z)
        loss = nk.softmax_cross_entropy(Z, y)
        G = losses.softmax_cross_entropy_grad(Z, y)
        fused_loss, fused_G = losses.softmax_cross_entropy_and_grad(Z, y)
        z = Z.ravel()[Z.ravel() != 0]
        t = (z > 0).astype(dtype)  # every target agrees with its logit's sign
        bce = nk.binary_cross_entropy_with_logits(z, t)
        bce_grad = losses.binary_cross_entropy_with_logits_grad(z, 1 - t)
    assert fused_loss == loss
    for arr in (P, L, lse, G, fused_G, bce_grad):
        assert np.all(np.isfinite(arr)) and arr.dtype == dtype
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(L[0], [0.0, -2e4, -1e4], rtol=1e-6)
    # row 0 puts all its mass on class 0, but the label is 1: loss 2e4 for that row
    assert loss == pytest.approx((2e4 + math.log(3) + math.log(2)) / 3, rel=1e-6)
    assert bce == pytest.approx(0.0, abs=1e-6)


SHAPE_ERRORS = {
    "mse: arguments 'pred' and 'target' must have the same shape, got (3,) and (3, 1)": lambda: (
        nk.mse(np.zeros(3), np.zeros((3, 1)))
    ),
    "softmax_cross_entropy: argument 'y' must have shape (4,) to match 'Z' (4, 3), got (5,)": (
        lambda: nk.softmax_cross_entropy(np.zeros((4, 3)), np.zeros(5, dtype=int))
    ),
    "softmax: argument 'Z' must be 1-D or 2-D, got shape (2, 2, 2) (3-D)": lambda: nk.softmax(
        np.zeros((2, 2, 2))
    ),
    "cross_entropy: arguments 'P' and 'Y' must have the same shape, got (2, 3) and (2, 4)": (
        lambda: nk.cross_entropy(np.full((2, 3), 1 / 3), np.zeros((2, 4)))
    ),
}


@pytest.mark.parametrize("message", list(SHAPE_ERRORS))
def test_shape_errors_name_function_argument_and_shapes(message):
    with pytest.raises(nk.ShapeError, match=re.escape(message)):
        SHAPE_ERRORS[message]()


def test_labels_out_of_range_are_reported():
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: argument 'y' has labels outside"):
        nk.softmax_cross_entropy(np.zeros((2, 3)), [0, 3])

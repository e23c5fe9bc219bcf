"""Activations: known values, derivatives against central differences, dtypes, extremes, errors."""

import math

import numpy as np
import pytest

import nnkit as nk
from nnkit import activations as act
from nnkit.gradcheck import numerical_gradient, relative_error

DIFFERENTIABLE = [name for name, a in nk.ACTIVATIONS.items() if a.differentiable]

# Test points away from the kinks of relu/leaky_relu (0) so central differences are exact enough.
Z_TEST = np.array([-3.1, -1.7, -0.4, -0.05, 0.05, 0.3, 1.2, 2.9])


def elementwise_numeric_derivative(fn, z):
    """df/dz for an elementwise f, as the gradient of sum(f(z))."""
    z = z.astype(np.float64).copy()
    return numerical_gradient(lambda x: fn(x).sum(), z)


def test_registry_lists_every_activation_of_the_contract():
    expected = {
        "linear",
        "step",
        "sign",
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "gelu",
        "gelu_tanh",
    }
    assert set(nk.ACTIVATIONS) == expected
    for name, record in nk.ACTIVATIONS.items():
        assert record.name == name
        assert record.fn is getattr(act, name)
        assert record.grad is getattr(act, f"{name}_grad")
        assert isinstance(record, act.ActivationFunction)
    assert {n for n, a in nk.ACTIVATIONS.items() if not a.differentiable} == {"step", "sign"}


def test_known_values():
    z = np.array([-2.0, 0.0, 1.5])
    np.testing.assert_allclose(act.linear(z), z)
    np.testing.assert_array_equal(act.step(z), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(act.sign(z), [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(
        act.sigmoid(z), [1 / (1 + math.exp(2)), 0.5, 1 / (1 + math.exp(-1.5))]
    )
    np.testing.assert_allclose(act.tanh(z), [math.tanh(-2), 0.0, math.tanh(1.5)])
    np.testing.assert_array_equal(act.relu(z), [0.0, 0.0, 1.5])
    np.testing.assert_allclose(act.leaky_relu(z), [-0.02, 0.0, 1.5])
    np.testing.assert_allclose(act.leaky_relu(z, alpha=0.2), [-0.4, 0.0, 1.5])
    phi = [0.5 * x * (1 + math.erf(x / math.sqrt(2))) for x in z]
    np.testing.assert_allclose(act.gelu(z), phi, rtol=1e-14)
    c = math.sqrt(2 / math.pi)
    approx = [0.5 * x * (1 + math.tanh(c * (x + 0.044715 * x**3))) for x in z]
    np.testing.assert_allclose(act.gelu_tanh(z), approx, rtol=1e-14)


def test_known_derivatives():
    z = np.array([-2.0, 0.0, 1.5])
    np.testing.assert_allclose(act.sigmoid_grad(np.array([0.0])), [0.25])
    np.testing.assert_allclose(act.tanh_grad(np.array([0.0])), [1.0])
    np.testing.assert_array_equal(act.linear_grad(z), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(act.gelu_grad(np.array([0.0])), [0.5])
    np.testing.assert_allclose(act.gelu_tanh_grad(np.array([0.0])), [0.5])
    np.testing.assert_allclose(act.leaky_relu_grad(z, alpha=0.2), [0.2, 0.2, 1.0])


def test_relu_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(act.relu_grad(np.array([-1.0, 0.0, 1.0])), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("name", ["step", "sign"])
def test_non_differentiable_activations_have_zero_derivative(name):
    z = np.array([-5.0, -0.1, 0.0, 0.1, 5.0])
    np.testing.assert_array_equal(nk.ACTIVATIONS[name].grad(z), np.zeros(5))


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_derivative_matches_central_differences(name):
    record = nk.ACTIVATIONS[name]
    numeric = elementwise_numeric_derivative(record.fn, Z_TEST)
    assert relative_error(record.grad(Z_TEST), numeric) < 1e-7


def test_gelu_tanh_is_close_to_exact_gelu():
    z = np.linspace(-6, 6, 121)
    assert np.max(np.abs(act.gelu(z) - act.gelu_tanh(z))) < 1e-3
    assert np.max(np.abs(act.gelu(z) - act.gelu_tanh(z))) > 0


@pytest.mark.parametrize("name", list(nk.ACTIVATIONS))
@pytest.mark.parametrize("fn_kind", ["fn", "grad"])
def test_dtype_and_shape_are_kept(name, fn_kind):
    fn = getattr(nk.ACTIVATIONS[name], fn_kind)
    z64 = np.linspace(-2, 2, 12).reshape(3, 4)
    out64 = fn(z64)
    assert out64.shape == (3, 4) and out64.dtype == np.float64
    out32 = fn(z64.astype(np.float32))
    assert out32.shape == (3, 4) and out32.dtype == np.float32
    np.testing.assert_allclose(out32, out64, rtol=1e-5, atol=1e-6)
    assert fn(np.array([[-2, 0, 3]])).dtype == np.float64  # integers become float64


@pytest.mark.parametrize("name", list(nk.ACTIVATIONS))
def test_extreme_inputs_stay_finite_without_warnings(name):
    record = nk.ACTIVATIONS[name]
    for dtype in (np.float64, np.float32):
        z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype)
        # underflow to 0 (exp(-1000)) is the correct answer; anything else must raise
        with np.errstate(all="raise", under="ignore"):
            out, grad = record.fn(z), record.grad(z)
        assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))


def test_sigmoid_saturates_exactly_and_stays_in_range():
    with np.errstate(all="raise", under="ignore"):
        s = act.sigmoid(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(s, [0.0, 1.0])


def test_activations_accept_lists_and_scalars():
    np.testing.assert_array_equal(act.relu([-1, 2]), [0.0, 2.0])
    assert float(act.sigmoid(0.0)) == 0.5


def test_non_numeric_input_is_refused_with_the_function_name():
    with pytest.raises(TypeError, match=r"sigmoid: argument 'z' must be numeric"):
        act.sigmoid(np.array(["a", "b"]))


def test_unknown_activation_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown activation 'rleu'.*'relu'"):
        act.get_activation("rleu")
    assert act.get_activation(nk.ACTIVATIONS["tanh"]) is nk.ACTIVATIONS["tanh"]


def test_the_record_and_the_layer_have_different_names():
    """nk.Activation is the layer; the registry holds ActivationFunction records."""
    assert nk.Activation is nk.layers.Activation
    assert nk.Activation is not act.ActivationFunction
    assert isinstance(nk.Activation("relu").activation, act.ActivationFunction)
    assert "Activation" not in act.__all__


def test_the_old_record_name_still_works_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match=r"now nnkit\.activations\.ActivationFunction"):
        record_class = act.Activation
    assert record_class is act.ActivationFunction
    with pytest.raises(AttributeError, match="has no attribute 'Activations'"):
        act.Activations  # noqa: B018 (the attribute access is the test)

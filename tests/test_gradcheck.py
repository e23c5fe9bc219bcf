"""Gradient checking: central differences, relative error, and the model report."""

import numpy as np
import pytest

import nnkit as nk
from nnkit.gradcheck import GradcheckReport, check_model_gradients, relative_error

DIFFERENTIABLE = [name for name, a in nk.ACTIVATIONS.items() if a.differentiable]


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    return rng.normal(size=(6, 3)), rng.integers(0, 3, size=6)


def test_numerical_gradient_of_known_functions():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_allclose(nk.numerical_gradient(lambda v: np.sum(v**2), x), 2 * x, rtol=1e-9)
    np.testing.assert_allclose(
        nk.numerical_gradient(lambda v: np.sin(v).sum(), x), np.cos(x), rtol=1e-8
    )
    g = nk.numerical_gradient(lambda v: float(v[0] * v[1]), np.array([3.0, -4.0]))
    np.testing.assert_allclose(g, [-4.0, 3.0], rtol=1e-9)


def test_numerical_gradient_leaves_x_unchanged_and_sees_in_place_nudges():
    x = np.array([0.3, -1.2, 2.5])
    before = x.copy()
    # the closure ignores its argument and reads x directly, as model checks do
    g = nk.numerical_gradient(lambda _: float(np.prod(x)), x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(g, [x[1] * x[2], x[0] * x[2], x[0] * x[1]], rtol=1e-9)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])

    def explode(v):
        raise ArithmeticError("boom")

    with pytest.raises(ArithmeticError):
        nk.numerical_gradient(explode, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_gradient_accepts_lists_and_scalars():
    np.testing.assert_allclose(nk.numerical_gradient(lambda v: v @ v, [1.0, 2.0]), [2.0, 4.0])
    assert float(nk.numerical_gradient(lambda v: v**3, 2.0)) == pytest.approx(12.0, rel=1e-9)


def test_numerical_gradient_refuses_float32():
    with pytest.raises(TypeError, match=r"numerical_gradient: argument 'x' must be float64"):
        nk.numerical_gradient(lambda v: v.sum(), np.zeros(3, dtype=np.float32))


def test_relative_error_definition():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    # max |a - b| = 0.5, max(|a| + |b|) = 4 + 4.5 = 8.5
    assert relative_error([1.0, 4.0], [1.0, 4.5]) == pytest.approx(0.5 / 8.5)
    assert relative_error([1.0], [-1.0]) == pytest.approx(1.0)
    assert relative_error([1e-20], [0.0]) == pytest.approx(1.0)
    with pytest.raises(nk.ShapeError, match=r"relative_error: arguments 'a' and 'b'"):
        relative_error(np.zeros(2), np.zeros(3))


def hidden_preactivations(mlp, X):
    """The inputs Z of every hidden activation layer of ``mlp`` on ``X``."""
    out, pre = X, []
    for layer in mlp:
        if isinstance(layer, nk.Activation):
            pre.append(out)
        out = layer.forward(out)
    return pre


@pytest.mark.parametrize("activation", DIFFERENTIABLE)
def test_mlp_gradients_pass_the_check_for_every_differentiable_activation(activation, data):
    X, y = data
    mlp = nk.MLP([3, 5, 4, 3], activation=activation, rng=1)
    # nudging a weight by h moves a pre-activation by at most h * max|input| (< 1e-4 here);
    # one that close to 0 would straddle relu's kink and spoil the check
    assert min(np.min(np.abs(z)) for z in hidden_preactivations(mlp, X)) > 1e-4
    report = check_model_gradients(mlp, X, y)
    assert isinstance(report, GradcheckReport)
    assert report.ok, str(report)
    assert set(report.errors) == set(mlp.parameters())
    assert report.max_error < 1e-7


def test_check_leaves_the_model_unchanged_and_keeps_analytic_gradients(data):
    X, y = data
    mlp = nk.MLP([3, 4, 3], activation="tanh", rng=2)
    before = {k: p.copy() for k, p in mlp.parameters().items()}
    report = check_model_gradients(mlp, X, y)
    _, expected = nk.MLP([3, 4, 3], activation="tanh", rng=2).loss_and_gradients(X, y)
    for key, p in mlp.parameters().items():
        np.testing.assert_array_equal(p, before[key])
        np.testing.assert_allclose(mlp.gradients()[key], expected[key])
        np.testing.assert_allclose(report.analytic[key], expected[key])
        np.testing.assert_allclose(report.numeric[key], expected[key], rtol=1e-6, atol=1e-9)


class _BrokenTanh(nk.Activation):
    """A tanh layer whose backward forgets the square in 1 - tanh(z)^2."""

    def __init__(self):
        super().__init__("tanh")

    def backward(self, dA, input_grad=True):
        Z = self._cache[0]
        return dA * (1 - np.tanh(Z))


def test_check_catches_a_wrong_backward_and_names_the_parameter(data):
    X, y = data
    model = nk.Sequential(nk.Linear(3, 4, rng=0), _BrokenTanh(), nk.Linear(4, 3, rng=1))
    report = check_model_gradients(model, X, y)
    assert not report.ok
    assert not bool(report)
    # the error enters below the broken layer: the last layer's gradients stay right
    assert report.errors["2.W"] < 1e-7 and report.errors["2.b"] < 1e-7
    assert report.errors["0.W"] > 1e-3
    assert report.worst.name in {"0.W", "0.b"}
    text = str(report)
    assert "FAILED" in text and f"at {report.worst.name}[" in text
    for key in model.parameters():
        assert key in report.table()


def test_report_str_is_a_readable_table(data):
    X, y = data
    report = check_model_gradients(nk.MLP([3, 4, 3], rng=0), X, y)
    lines = str(report).splitlines()
    header = "parameter shape rel. error worst entry analytic numeric"
    assert lines[0].split() == header.split()
    assert [line.split()[0] for line in lines[1:5]] == ["0.W", "0.b", "2.W", "2.b"]
    assert lines[-1].startswith("max relative error") and lines[-1].endswith("OK")


def test_check_with_a_regression_loss_on_a_single_layer():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    report = check_model_gradients(nk.Linear(2, 1, rng=0), X, Y, loss="mse")
    assert report.ok, str(report)


def test_sampled_entries(data):
    X, y = data
    mlp = nk.MLP([3, 6, 3], rng=0)
    report = check_model_gradients(mlp, X, y, max_entries=4, rng=0)
    assert report.ok
    assert [c.n_checked for c in report.checks] == [4, 4, 4, 3]
    assert np.isnan(report.numeric["0.W"]).sum() == 18 - 4


def test_check_refuses_float32_models_and_unknown_losses(data):
    X, y = data
    with pytest.raises(TypeError, match=r"needs float64 parameters.*dtype=np.float64"):
        check_model_gradients(nk.MLP([3, 2], dtype=np.float32), X, y)
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'"):
        check_model_gradients(nk.MLP([3, 2]), X, y, loss="hinge")

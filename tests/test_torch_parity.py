"""Parity with PyTorch: every activation and loss, and a whole MLP's forward and backward pass.

torch.nn.functional and autograd are the reference; values, gradients, shapes and dtypes
must agree, in float64 and float32.
"""

import numpy as np
import pytest
import torch

# F is how torch's own documentation spells it
import torch.nn.functional as F  # noqa: N812

import nnkit as nk
from nnkit import activations, layers, losses

pytestmark = pytest.mark.torch

TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-14}, np.float32: {"rtol": 2e-5, "atol": 1e-6}}
DTYPES = [np.float64, np.float32]

TORCH_ACTIVATIONS = {
    "linear": lambda z: z,
    "step": lambda z: torch.heaviside(z, torch.ones((), dtype=z.dtype)),
    "sign": torch.sign,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=0.01),
    "gelu": lambda z: F.gelu(z, approximate="none"),
    "gelu_tanh": lambda z: F.gelu(z, approximate="tanh"),
}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    # torch's OpenMP threads and numpy's OpenBLAS threads fight over the same cores
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def torch_value_and_grad(fn, *arrays):
    """fn's value on torch copies of ``arrays`` and its gradient w.r.t. the first one, as numpy."""
    leaf = torch.tensor(arrays[0], requires_grad=True)
    rest = [torch.tensor(a) for a in arrays[1:]]
    out = fn(leaf, *rest)
    out.sum().backward()  # for a scalar loss the sum is the loss itself
    return out.detach().numpy(), leaf.grad.numpy()


def assert_same(ours, theirs, dtype):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype == dtype
    np.testing.assert_allclose(ours, theirs, **TOL[dtype])


def test_every_activation_has_a_torch_reference():
    assert set(TORCH_ACTIVATIONS) == set(nk.ACTIVATIONS)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(nk.ACTIVATIONS))
def test_activation_and_derivative_match_torch(name, dtype):
    # 0 is included on purpose: the derivative conventions at the kink must agree too
    z = np.array([[-1000.0, -7.5, -1.3, -0.2, 0.0], [0.2, 0.9, 2.4, 8.0, 1000.0]], dtype=dtype)
    record = nk.ACTIVATIONS[name]
    with np.errstate(all="raise", under="ignore"):
        ours, ours_grad = record.fn(z), record.grad(z)
    if name == "step":
        # torch.heaviside has no derivative; ours is 0 everywhere, as documented
        assert_same(ours, TORCH_ACTIVATIONS[name](torch.tensor(z)).numpy(), dtype)
        np.testing.assert_array_equal(ours_grad, np.zeros_like(z))
        return
    theirs, theirs_grad = torch_value_and_grad(TORCH_ACTIVATIONS[name], z)
    assert_same(ours, theirs, dtype)
    assert_same(ours_grad, theirs_grad, dtype)


def make_loss_case(name, dtype, rng):
    """(our args, torch function taking a leaf tensor and the target tensor)."""
    N, C = 6, 4
    if name == "mse":
        return (rng.normal(size=(N, 2)), rng.normal(size=(N, 2))), F.mse_loss
    if name == "binary_cross_entropy":
        args = (rng.uniform(0.05, 0.95, size=(N, 1)), rng.integers(0, 2, size=(N, 1)))
        return args, F.binary_cross_entropy
    if name == "binary_cross_entropy_with_logits":
        args = (3 * rng.normal(size=(N,)), rng.integers(0, 2, size=(N,)))
        return args, F.binary_cross_entropy_with_logits
    if name == "cross_entropy":
        P = nk.softmax(rng.normal(size=(N, C)))
        Y = nk.one_hot(rng.integers(0, C, size=N), C)
        return (P, Y), lambda p, y: F.nll_loss(torch.log(p), y.argmax(dim=1))
    if name == "softmax_cross_entropy":
        return (3 * rng.normal(size=(N, C)), rng.integers(0, C, size=N)), F.cross_entropy
    raise AssertionError(f"no torch reference for loss {name!r}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(nk.LOSSES))
def test_loss_and_gradient_match_torch(name, dtype):
    rng = np.random.default_rng(99)
    (pred, target), torch_fn = make_loss_case(name, dtype, rng)
    pred = pred.astype(dtype)
    # torch wants float targets for the regression and binary losses, int64 class indices else
    target_t = target.astype(dtype) if name != "softmax_cross_entropy" else target
    record = nk.LOSSES[name]
    theirs, theirs_grad = torch_value_and_grad(torch_fn, pred, target_t)
    ours = record.fn(pred, target)
    assert ours == pytest.approx(float(theirs), rel=TOL[dtype]["rtol"])
    assert_same(record.grad(pred, target), theirs_grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_cross_entropy_with_probability_targets_matches_torch(dtype):
    rng = np.random.default_rng(5)
    Z = (3 * rng.normal(size=(5, 3))).astype(dtype)
    Y = nk.softmax(rng.normal(size=(5, 3))).astype(dtype)  # soft labels, rows sum to 1
    theirs, theirs_grad = torch_value_and_grad(F.cross_entropy, Z, Y)
    assert nk.softmax_cross_entropy(Z, Y) == pytest.approx(float(theirs), rel=TOL[dtype]["rtol"])
    assert_same(losses.softmax_cross_entropy_grad(Z, Y), theirs_grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_family_matches_torch_at_extreme_logits(dtype):
    Z = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4, -1e4, -1e4], [2.0, -1.0, 0.5, 0.0]])
    Z = Z.astype(dtype)
    Zt = torch.tensor(Z)
    with np.errstate(all="raise", under="ignore"):
        assert_same(nk.softmax(Z), F.softmax(Zt, dim=1).numpy(), dtype)
        assert_same(nk.log_softmax(Z), F.log_softmax(Zt, dim=1).numpy(), dtype)
        assert_same(nk.logsumexp(Z), torch.logsumexp(Zt, dim=1).numpy(), dtype)
        y = np.array([1, 0, 2])
        ours = nk.softmax_cross_entropy(Z, y)
    theirs = F.cross_entropy(Zt, torch.tensor(y)).item()
    assert ours == pytest.approx(theirs, rel=TOL[dtype]["rtol"])


class TorchActivation(torch.nn.Module):
    """The torch reference of one of nnkit's activations, as a module."""

    def __init__(self, name):
        super().__init__()
        self.fn = TORCH_ACTIVATIONS[name]

    def forward(self, z):
        return self.fn(z)


def torch_copy_of(mlp, dtype):
    """A torch.nn.Sequential with the same layers and weights as ``mlp``."""
    modules = []
    for layer in mlp:
        if isinstance(layer, nk.Linear):
            linear = torch.nn.Linear(layer.n_in, layer.n_out, dtype=torch.float64)
            with torch.no_grad():
                # torch stores weight as (out, in) and computes X @ weight.T
                linear.weight.copy_(torch.tensor(layer.W.T.astype(np.float64)))
                linear.bias.copy_(torch.tensor(layer.b.astype(np.float64)))
            modules.append(linear)
        else:
            modules.append(TorchActivation(layer.name))
    model = torch.nn.Sequential(*modules)
    return model.to(torch.float32) if dtype == np.float32 else model


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu", "leaky_relu"])
def test_mlp_forward_and_backward_match_torch_autograd(activation, dtype):
    rng = np.random.default_rng(2024)
    mlp = nk.MLP([5, 8, 6, 3], activation=activation, rng=rng, dtype=dtype)
    X = rng.normal(size=(10, 5)).astype(dtype)
    y = rng.integers(0, 3, size=10)
    reference = torch_copy_of(mlp, dtype)

    Xt = torch.tensor(X, requires_grad=True)
    logits_t = reference(Xt)
    loss_t = F.cross_entropy(logits_t, torch.tensor(y))
    loss_t.backward()

    logits = mlp.forward(X)
    loss, cache = layers.softmax_cross_entropy_forward(logits, y)
    dX = mlp.backward(layers.softmax_cross_entropy_backward(*cache))

    assert_same(logits, logits_t.detach().numpy(), dtype)
    assert loss == pytest.approx(loss_t.item(), rel=TOL[dtype]["rtol"])
    assert_same(dX, Xt.grad.numpy(), dtype)
    grads = mlp.gradients()
    for i, module in enumerate(reference):
        if isinstance(module, torch.nn.Linear):
            assert_same(grads[f"{i}.W"], module.weight.grad.numpy().T, dtype)
            assert_same(grads[f"{i}.b"], module.bias.grad.numpy(), dtype)
    # the training fast path agrees with the protocol path
    fast_loss, fast_grads = mlp.loss_and_gradients(X, y)
    assert fast_loss == loss
    for key, g in fast_grads.items():
        np.testing.assert_array_equal(g, grads[key])


def test_mlp_with_one_hidden_layer_matches_a_handwritten_torch_graph():
    """The same check without nn.Module: the two-layer net written as raw tensor ops."""
    rng = np.random.default_rng(8)
    mlp = nk.MLP([4, 7, 3], activation="relu", rng=rng)
    X, y = rng.normal(size=(9, 4)), rng.integers(0, 3, size=9)
    p = {k: torch.tensor(v, requires_grad=True) for k, v in mlp.parameters().items()}
    hidden = torch.relu(torch.tensor(X) @ p["0.W"] + p["0.b"])
    loss_t = F.cross_entropy(hidden @ p["2.W"] + p["2.b"], torch.tensor(y))
    loss_t.backward()
    loss, grads = mlp.loss_and_gradients(X, y)
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    for key, g in grads.items():
        assert_same(g, p[key].grad.numpy(), np.float64)


def test_activation_registry_derivatives_match_torch_on_random_points():
    rng = np.random.default_rng(11)
    z = rng.normal(scale=3.0, size=200)
    for name, record in nk.ACTIVATIONS.items():
        if not record.differentiable:
            continue
        _, theirs_grad = torch_value_and_grad(TORCH_ACTIVATIONS[name], z)
        np.testing.assert_allclose(record.grad(z), theirs_grad, rtol=1e-12, atol=1e-14)
    # sanity: the module-level function and the registry entry are the same object
    assert activations.gelu_tanh is nk.ACTIVATIONS["gelu_tanh"].fn


# ---------------------------------------------------------------- dropout (lecture 09)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_with_torchs_mask_matches_torch(dtype):
    """Given the mask torch drew, output and input gradient equal torch's F.dropout."""
    rng = np.random.default_rng(0)
    X = (rng.uniform(0.5, 2.0, size=(16, 12)) * rng.choice([-1, 1], size=(16, 12))).astype(dtype)
    dout = rng.normal(size=(16, 12)).astype(dtype)
    torch.manual_seed(0)
    leaf = torch.tensor(X, requires_grad=True)
    out = F.dropout(leaf, p=0.3, training=True)
    (out * torch.tensor(dout)).sum().backward()
    theirs, their_grad = out.detach().numpy(), leaf.grad.numpy()
    mask = theirs != 0  # X has no zeros, so torch's mask is where its output is not zero
    assert 0 < mask.mean() < 1
    ours, cache = layers.dropout_forward(X, 0.3, mask=mask)
    assert_same(ours, theirs, dtype)
    assert_same(layers.dropout_backward(dout, cache), their_grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_at_evaluation_time_matches_torch(dtype):
    X = np.random.default_rng(1).normal(size=(5, 4)).astype(dtype)
    ours, _ = layers.dropout_forward(X, 0.5, training=False)
    assert_same(ours, F.dropout(torch.tensor(X), p=0.5, training=False).numpy(), dtype)
    layer = nk.Dropout(0.5)
    with nk.evaluation_mode(layer):
        assert_same(layer.forward(X), X, dtype)

"""nnkit <-> torch: the same network in both, exact round trips, gradients equal to round-off."""

import numpy as np
import pytest
import torch

import nnkit as nk
from nnkit import torch_interop

pytestmark = pytest.mark.torch


@pytest.mark.parametrize(
    "activation", ["relu", "tanh", "sigmoid", "leaky_relu", "gelu", "gelu_tanh"]
)
def test_to_torch_computes_the_same_function(activation):
    """The torch copy of an MLP gives the same logits (float64 kept, weight = W.T)."""
    mlp = nk.MLP([5, 7, 6, 3], activation=activation, rng=0)
    net = torch_interop.to_torch(mlp)
    assert isinstance(net, torch.nn.Sequential) and len(net) == len(mlp.layers)
    assert all(p.dtype == torch.float64 for p in net.parameters())
    np.testing.assert_array_equal(net[0].weight.detach().numpy(), mlp.layers[0].W.T)
    X = np.random.default_rng(1).standard_normal((11, 5))
    with torch.no_grad():
        theirs = net(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(theirs, mlp.forward(X), rtol=1e-13, atol=1e-14)


def test_to_torch_copies_parameters():
    """Changing the torch module afterwards leaves the nnkit model alone."""
    mlp = nk.MLP([3, 4, 2], rng=2)
    before = mlp.layers[0].W.copy()
    net = torch_interop.to_torch(mlp)
    with torch.no_grad():
        net[0].weight.add_(1.0)
    np.testing.assert_array_equal(mlp.layers[0].W, before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_is_exact(dtype):
    """from_torch(to_torch(mlp)) is an MLP with identical parameters, sizes, activation, dtype."""
    mlp = nk.MLP([4, 6, 5, 3], activation="tanh", rng=3, dtype=dtype)
    back = torch_interop.from_torch(torch_interop.to_torch(mlp))
    assert isinstance(back, nk.MLP)
    assert back.sizes == mlp.sizes and back.activation == "tanh" and back.dtype == dtype
    assert back.parameters().keys() == mlp.parameters().keys()
    for key, p in mlp.parameters().items():
        assert back.parameters()[key].dtype == dtype
        np.testing.assert_array_equal(back.parameters()[key], p)


def test_from_torch_of_a_torch_built_network():
    """A network built in torch comes back as an MLP computing the same function."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)
    ).double()
    mlp = torch_interop.from_torch(net)
    assert isinstance(mlp, nk.MLP) and mlp.sizes == [3, 8, 2] and mlp.activation == "relu"
    X = np.random.default_rng(4).standard_normal((6, 3))
    with torch.no_grad():
        np.testing.assert_allclose(mlp.forward(X), net(torch.from_numpy(X)).numpy(), rtol=1e-14)


def test_from_torch_mixed_activations_gives_sequential():
    """Two different activations do not fit MLP's pattern: a Sequential comes back."""
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 4),
        torch.nn.Tanh(),
        torch.nn.Linear(4, 4),
        torch.nn.ReLU(),
        torch.nn.Linear(4, 1),
    )
    model = torch_interop.from_torch(net)
    assert type(model) is nk.Sequential
    assert [type(layer).__name__ for layer in model.layers] == ["Linear", "Activation"] * 2 + [
        "Linear"
    ]
    assert model.layers[1].name == "tanh" and model.layers[3].name == "relu"
    assert model.layers[0].W.dtype == np.float32


def test_unsupported_layers_are_named():
    """A torch module without a nnkit counterpart is refused with its index."""
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5), torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"module 1 .*Dropout"):
        torch_interop.from_torch(net)
    with pytest.raises(TypeError, match="without bias"):
        torch_interop.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2, bias=False)))
    step_net = nk.Sequential(nk.Linear(2, 2), nk.Activation("step"), nk.Linear(2, 2))
    with pytest.raises(TypeError, match="to_torch: layer 1"):
        torch_interop.to_torch(step_net)


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_gradients_agree_with_torch(activation):
    """nnkit's backpropagation and torch autograd agree below 1e-10 in float64, every parameter."""
    rng = np.random.default_rng(5)
    mlp = nk.MLP([6, 10, 8, 4], activation=activation, rng=6)
    X = rng.standard_normal((32, 6))
    y = rng.integers(0, 4, size=32)
    errors = torch_interop.compare_gradients(mlp, X, y)
    assert set(errors) == {"loss", "0.W", "0.b", "2.W", "2.b", "4.W", "4.b"}
    assert max(errors.values()) < 1e-10, errors


def test_gradients_agree_for_mse():
    """The regression loss agrees too."""
    rng = np.random.default_rng(7)
    mlp = nk.MLP([3, 5, 2], activation="sigmoid", rng=8)
    errors = torch_interop.compare_gradients(
        mlp, rng.standard_normal((9, 3)), rng.standard_normal((9, 2)), loss="mse"
    )
    assert max(errors.values()) < 1e-10, errors


def test_compare_gradients_detects_a_difference():
    """The comparison can fail: a gradient that is off shows up as a large error."""
    rng = np.random.default_rng(9)
    mlp = nk.MLP([4, 5, 3], rng=10)
    X, y = rng.standard_normal((8, 4)), rng.integers(0, 3, size=8)

    class Doubled(nk.MLP):
        def gradients(self):
            grads = dict(super().gradients())
            grads["0.W"] = 2 * grads["0.W"]
            return grads

    doubled = Doubled([4, 5, 3], rng=10)
    assert torch_interop.compare_gradients(mlp, X, y)["0.W"] < 1e-12
    assert torch_interop.compare_gradients(doubled, X, y)["0.W"] == pytest.approx(1 / 3)


def test_lazy_import():
    """nnkit.torch_interop is reachable as an attribute of the package."""
    assert nk.torch_interop is torch_interop

"""Bridges to PyTorch: the same network in both libraries, and a gradient comparison.

A nnkit ``Linear`` stores ``W`` as (D, M) because batches are rows
(``Z = X @ W + b``); ``torch.nn.Linear`` stores ``weight`` as (M, D) and
computes ``X @ weight.T + bias``. So ``weight = W.T``, and parameter ``"i.W"``
of a nnkit ``Sequential`` is ``"i.weight"`` transposed in the torch
``nn.Sequential``, with the same index ``i``. Dtypes are kept: a float64 MLP
becomes a float64 torch module.

Importing this module imports torch (a few seconds); ``import nnkit`` does not.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import nn

from .layers import MLP, Activation, Linear, Sequential
from .losses import mse, mse_grad, softmax_cross_entropy_and_grad

__all__ = ["compare_gradients", "from_torch", "to_torch"]

_TORCH_ACTIVATIONS = {
    "linear": nn.Identity,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "gelu": nn.GELU,
    "gelu_tanh": lambda: nn.GELU(approximate="tanh"),
}


def _activation_name(module: nn.Module) -> str | None:
    """The nnkit name of a torch activation module, or None if nnkit has no equivalent."""
    if isinstance(module, nn.Identity):
        return "linear"
    if isinstance(module, nn.GELU):
        return "gelu_tanh" if module.approximate == "tanh" else "gelu"
    if isinstance(module, nn.LeakyReLU):
        return "leaky_relu" if module.negative_slope == 0.01 else None
    for name, cls in (("relu", nn.ReLU), ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh)):
        if isinstance(module, cls):
            return name
    return None


def _torch_dtype(dtype: np.dtype) -> torch.dtype:
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[
        np.dtype(dtype)
    ]


def to_torch(model: Sequential) -> nn.Sequential:
    """The same network as a ``torch.nn.Sequential``, parameters copied, dtype kept.

    Parameters
    ----------
    model : nnkit Sequential or MLP
        Made of ``Linear`` and ``Activation`` layers.

    Returns
    -------
    torch.nn.Sequential
        Module ``i`` corresponds to layer ``i``; ``weight`` of a ``Linear`` is
        ``W.T``, shape (M, D). The parameters are copies, not views.
    """
    modules = []
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Linear):
            linear = nn.Linear(layer.n_in, layer.n_out, dtype=_torch_dtype(layer.W.dtype))
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer.W.T.copy()))
                linear.bias.copy_(torch.from_numpy(layer.b.copy()))
            modules.append(linear)
        elif isinstance(layer, Activation) and layer.name in _TORCH_ACTIVATIONS:
            modules.append(_TORCH_ACTIVATIONS[layer.name]())
        else:
            raise TypeError(
                f"to_torch: layer {i} ({layer!r}) has no torch equivalent; "
                f"supported: Linear and the activations {', '.join(_TORCH_ACTIVATIONS)}"
            )
    return nn.Sequential(*modules)


def from_torch(module: nn.Sequential) -> Sequential:
    """A nnkit network equal to a ``torch.nn.Sequential`` of ``Linear`` and activation modules.

    Parameters
    ----------
    module : torch.nn.Sequential
        Linear layers (with bias) and ReLU, Sigmoid, Tanh, LeakyReLU(0.01),
        GELU or Identity modules, float32 or float64.

    Returns
    -------
    MLP
        When the module alternates Linear and one activation type and ends
        with a Linear (the MLP pattern); otherwise a ``Sequential`` of the
        corresponding nnkit layers. ``W = weight.T``, copied.
    """
    if not isinstance(module, nn.Sequential):
        raise TypeError(
            f"from_torch: argument 'module' must be a torch.nn.Sequential, got {type(module)}"
        )
    layers = []
    for i, sub in enumerate(module):
        if isinstance(sub, nn.Linear):
            if sub.bias is None:
                raise TypeError(
                    f"from_torch: module {i} is a Linear without bias; nnkit's Linear has one"
                )
            weight = sub.weight.detach().cpu().numpy()
            linear = Linear(sub.in_features, sub.out_features, dtype=weight.dtype)
            linear.W[...] = weight.T
            linear.b[...] = sub.bias.detach().cpu().numpy()
            layers.append(linear)
        elif (name := _activation_name(sub)) is not None:
            layers.append(Activation(name))
        else:
            raise TypeError(f"from_torch: module {i} ({sub}) has no nnkit equivalent")
    return _as_mlp(layers) or Sequential(layers)


def _as_mlp(layers) -> MLP | None:
    """Pack the layers into an MLP when they follow its pattern, else return None."""
    linears, acts = layers[0::2], layers[1::2]
    names = {a.name for a in acts if isinstance(a, Activation)}
    if not (
        layers
        and all(isinstance(layer, Linear) for layer in linears)
        and all(isinstance(a, Activation) for a in acts)
        and isinstance(layers[-1], Linear)
        and len(names) <= 1
        and len({layer.W.dtype for layer in linears}) == 1
        and all(a.n_out == b.n_in for a, b in itertools.pairwise(linears))
    ):
        return None
    sizes = [linears[0].n_in] + [layer.n_out for layer in linears]
    mlp = MLP(sizes, activation=names.pop() if names else "relu", dtype=linears[0].W.dtype)
    for ours, theirs in zip(mlp.layers[0::2], linears, strict=True):
        ours.W[...] = theirs.W
        ours.b[...] = theirs.b
    return mlp


def compare_gradients(
    model: Sequential, X, y, loss: str = "softmax_cross_entropy"
) -> dict[str, float]:
    """Backpropagate the same batch in nnkit and in torch; return the gradients' relative errors.

    Both compute the mean loss over the batch (``softmax_cross_entropy`` with
    integer labels, or ``mse``), then its gradients; the error of each
    parameter is ``nnkit.relative_error`` (max |a - b| / max (|a| + |b|)).
    In float64 both agree to round-off, about 1e-15.

    Parameters
    ----------
    model : nnkit Sequential or MLP
    X : ndarray of shape (N, D)
    y : ndarray of shape (N,) integer labels, or (N, K) targets for ``"mse"``
    loss : {"softmax_cross_entropy", "mse"}

    Returns
    -------
    dict[str, float]
        Parameter name (``"0.W"``, ``"0.b"``, ...) -> relative error; plus
        ``"loss"``, the relative error of the two loss values.
    """
    from .gradcheck import relative_error

    if loss not in ("softmax_cross_entropy", "mse"):
        raise ValueError(
            f"compare_gradients: unknown loss {loss!r}; use 'softmax_cross_entropy' or 'mse'"
        )
    dtype = model.layers[0].W.dtype
    X = np.asarray(X, dtype=dtype)
    out = model.forward(X)
    if loss == "mse":
        y = np.asarray(y, dtype=dtype)
        ours_loss, dout = mse(out, y), mse_grad(out, y)
    else:
        y = np.asarray(y, dtype=np.int64)
        ours_loss, dout = softmax_cross_entropy_and_grad(out, y)
    model.backward(dout)
    ours = model.gradients()

    net = to_torch(model)
    t_out = net(torch.from_numpy(X))
    if loss == "mse":
        t_loss = nn.functional.mse_loss(t_out, torch.from_numpy(y))
    else:
        t_loss = nn.functional.cross_entropy(t_out, torch.from_numpy(y))
    t_loss.backward()
    theirs = dict(net.named_parameters())

    errors = {"loss": relative_error(np.array(ours_loss), np.array(t_loss.item()))}
    for key, grad in ours.items():
        index, name = key.split(".")
        t_grad = theirs[f"{index}.{'weight' if name == 'W' else 'bias'}"].grad.numpy()
        errors[key] = relative_error(grad, t_grad.T if name == "W" else t_grad)
    return errors

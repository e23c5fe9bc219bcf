"""nnkit: the small numpy library behind the feedforward neural networks course.

Modules follow the lectures: ``activations``, ``losses``, ``layers``, ``optim``,
``gradcheck``, ``data``, ``train``, ``callbacks``, ``landscape``, ``plotting``, ``widgets``,
``grading`` and ``torch_interop``. The most used names are re-exported here, so
``import nnkit as nk`` then ``nk.MLP``, ``nk.fit``, ``nk.softmax``... work.
Modules that need optional heavy imports (torch, ipywidgets) load on first use.
"""

import importlib

from . import activations, callbacks, data, gradcheck, landscape, layers, losses, optim, train
from ._checks import ShapeError
from .activations import ACTIVATIONS, gelu, gelu_tanh, leaky_relu, relu, sigmoid, tanh
from .data import (
    Standardizer,
    blobs,
    load_digits,
    load_mnist,
    minibatches,
    noisy_sine,
    spirals,
    train_test_split,
    two_moons,
    xor,
)
from .gradcheck import GradcheckReport, check_model_gradients, numerical_gradient, relative_error
from .layers import MLP, Activation, Dropout, Linear, Sequential, evaluation_mode
from .losses import (
    LOSSES,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    log_softmax,
    logsumexp,
    mse,
    one_hot,
    softmax,
    softmax_cross_entropy,
)
from .optim import SGD, Adam
from .train import Callback, History, TrainState, accuracy, fit

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "MLP",
    "SGD",
    "Activation",
    "Adam",
    "Callback",
    "Dropout",
    "GradcheckReport",
    "History",
    "Linear",
    "Sequential",
    "ShapeError",
    "Standardizer",
    "TrainState",
    "accuracy",
    "activations",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "blobs",
    "callbacks",
    "check_model_gradients",
    "cross_entropy",
    "data",
    "evaluation_mode",
    "fit",
    "gelu",
    "gelu_tanh",
    "gradcheck",
    "landscape",
    "layers",
    "leaky_relu",
    "load_digits",
    "load_mnist",
    "log_softmax",
    "logsumexp",
    "losses",
    "minibatches",
    "mse",
    "noisy_sine",
    "numerical_gradient",
    "one_hot",
    "optim",
    "relative_error",
    "relu",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "spirals",
    "tanh",
    "train",
    "train_test_split",
    "two_moons",
    "xor",
]

# Imported on first attribute access (``nk.torch_interop``): torch takes seconds to import,
# and plotting/widgets pull in pyplot and ipywidgets, which library users may not want.
# They stay out of __all__, which `from nnkit import *` would import them for.
_LAZY_MODULES = {"plotting", "torch_interop", "widgets"}


def __getattr__(name):
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    """The package's names and the lazy modules, so tab completion offers ``nk.plotting``."""
    return sorted(set(globals()) | _LAZY_MODULES)

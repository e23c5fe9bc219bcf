"""nnkit: the small numpy library behind the feedforward neural networks course.

Modules follow the lectures: ``activations``, ``losses``, ``layers``, ``optim``,
``gradcheck``, ``data``, ``train``, ``landscape``, ``plotting``, ``widgets``,
``grading`` and ``torch_interop``. The most used names are re-exported here, so
``import nnkit as nk`` then ``nk.MLP``, ``nk.fit``, ``nk.softmax``... work.
Modules that need optional heavy imports (torch, ipywidgets) load on first use.
"""

from ._checks import ShapeError

__version__ = "0.1.0"

__all__ = ["ShapeError"]

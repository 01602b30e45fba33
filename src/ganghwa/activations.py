"""The one table of hidden activations: the nn.Module every network builds, and the pieces of
the CPU fast path that exist for it.

Adding an activation is one entry here. With `module` alone it works everywhere through
autograd and torch acting; `inplace` and `backward` let ManualBackprop train it, `numpy` lets
NumpyActor act with it. tests/unit/test_fastpath.py checks every piece of every entry against
its module, so a wrong piece fails at once, and a missing one is a stated fallback, never a
silent substitute.

The table names torch's pieces instead of holding them, and imports torch only when one is
used: config validation reads the names (`--set activation=...`), and a bad setting is then
refused without the 1.7 s import of torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass(frozen=True)
class Activation:
    """An activation's module and its optional fast-path pieces.

    Attributes:
        module_name: the torch.nn class that networks build ("ReLU"), as `module`.
        inplace_name: the Tensor method that applies it in place and returns the tensor
            ("relu_"), as `inplace`.
        backward: (grad of the output, the output) -> grad of the input. It is computed from
            the output, because the forward pass overwrites its input in place.
        numpy: applies the activation to a float32 array in place.
    """

    module_name: str
    inplace_name: str | None = None
    backward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
    numpy: Callable[[np.ndarray], object] | None = None

    @property
    def module(self) -> type[nn.Module]:
        from torch import nn

        return getattr(nn, self.module_name)

    @property
    def inplace(self) -> Callable[[torch.Tensor], torch.Tensor] | None:
        import torch

        return None if self.inplace_name is None else getattr(torch.Tensor, self.inplace_name)


def _relu_backward(grad: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    import torch  # a dictionary lookup once torch is loaded, as it is by then

    return torch.ops.aten.threshold_backward(grad, out, 0)  # grad where out > 0, else 0


def _tanh_backward(grad: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    import torch

    return torch.ops.aten.tanh_backward(grad, out)  # grad · (1 - out²)


def _relu_numpy(h: np.ndarray) -> object:
    return np.maximum(h, 0.0, out=h)


def _tanh_numpy(h: np.ndarray) -> object:
    return np.tanh(h, out=h)


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("ReLU", "relu_", _relu_backward, _relu_numpy),
    "tanh": Activation("Tanh", "tanh_", _tanh_backward, _tanh_numpy),
    # Autograd only: trains through autograd and acts through torch.
    "elu": Activation("ELU"),
}

"""The one table of hidden activations: the nn.Module every network builds, and the pieces of
the CPU fast path that exist for it.

Adding an activation is one entry here. With `module` alone it works everywhere through
autograd and torch acting; `inplace` and `backward` let ManualBackprop train it, `numpy` lets
NumpyActor act with it. tests/unit/test_fastpath.py checks every piece of every entry against
its module, so a wrong piece fails at once, and a missing one is a stated fallback, never a
silent substitute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class Activation:
    """An activation's module and its optional fast-path pieces.

    Attributes:
        module: the nn.Module class that networks build (nn.ReLU).
        inplace: applies the activation to a tensor in place and returns it (Tensor.relu_).
        backward: (grad of the output, the output) -> grad of the input. It is computed from
            the output, because the forward pass overwrites its input in place.
        numpy: applies the activation to a float32 array in place.
    """

    module: type[nn.Module]
    inplace: Callable[[torch.Tensor], torch.Tensor] | None = None
    backward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
    numpy: Callable[[np.ndarray], object] | None = None


def _relu_backward(grad: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    return torch.ops.aten.threshold_backward(grad, out, 0)  # grad where out > 0, else 0


def _tanh_backward(grad: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    return torch.ops.aten.tanh_backward(grad, out)  # grad · (1 - out²)


def _relu_numpy(h: np.ndarray) -> object:
    return np.maximum(h, 0.0, out=h)


def _tanh_numpy(h: np.ndarray) -> object:
    return np.tanh(h, out=h)


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation(nn.ReLU, torch.Tensor.relu_, _relu_backward, _relu_numpy),
    "tanh": Activation(nn.Tanh, torch.Tensor.tanh_, _tanh_backward, _tanh_numpy),
    # Autograd only: trains through autograd and acts through torch.
    "elu": Activation(nn.ELU),
}

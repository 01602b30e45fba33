"""The CPU fast path: hand-written backward, numpy acting and the fused optimizer step.

This is its one boundary. `manual_backprop_reason` says whether a network trains through
ManualBackprop and acts through NumpyActor, or why it must go through autograd and torch;
`make_adam` and `fused_step` give torch.optim's Adam with FusedStep's step where the private
fused kernel works, and torch.optim's own step (through `plain_step`) where it does not. What
the fast path supports per activation is the one table in `ganghwa/activations.py`.
"""

from __future__ import annotations

import torch
from torch import nn

from ganghwa.activations import ACTIVATIONS, Activation
from ganghwa.fastpath.backprop import (
    ManualBackprop,
    NumpyActor,
    backprop_reason,
    flatten_parameters,
    numpy_reason,
    param_views,
)
from ganghwa.fastpath.optim import FusedStep, fused_adam_reason, fused_step, make_adam, plain_step

__all__ = ["ACTIVATIONS", "Activation", "FusedStep", "ManualBackprop", "NumpyActor",
           "flatten_parameters", "fused_adam_reason", "fused_step", "make_adam",
           "manual_backprop_reason", "param_views", "plain_step"]


def manual_backprop_reason(net: nn.Module, device: torch.device | str) -> str | None:
    """Why `net` on `device` cannot train through ManualBackprop and act through NumpyActor,
    or None when it can: a QNetwork MLP (no image encoder) on the CPU whose activation has an
    in-place form, a backward and a numpy form in ACTIVATIONS. Otherwise the caller trains
    through autograd and acts through the torch network.
    """
    reason = backprop_reason(net)
    if reason is None:
        reason = numpy_reason(str(getattr(net, "activation", "")))
    if reason is None and torch.device(device).type != "cpu":
        reason = f"numpy acting runs on the CPU, not {torch.device(device).type}"
    return reason

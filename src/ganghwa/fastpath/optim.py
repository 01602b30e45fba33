"""One fused Adam/AdamW step on a single flat parameter, without torch.optim's per-call work.

Why: `Optimizer.step()` spends ~100 µs in Python (hooks, grouping by device, state checks)
around a ~30 µs fused kernel, and a DQN update on CPU takes only a few hundred µs. The
torch.optim optimizer still owns the state, the hyperparameters (so lr schedules apply) and the
state_dict for checkpoints; this calls the same kernel it would call, on that state.
tests/unit/test_optim.py checks it against torch's reference (for-loop) Adam and AdamW.

The kernel is private (torch._fused_adam_ and torch._fused_adamw_), so it may be missing, take
other arguments, or have no kernel for a device (torch < 2.4 on the CPU) in the torch that is
installed. `fused_adam_reason` probes it once per process against torch's for-loop Adam;
`make_adam` and `fused_step` use the probe and fall back to torch.optim's own step, with a
one-line note on stderr, when it fails.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import torch

# (adamw, amsgrad, device type) -> None when the kernel works, else why not
_PROBES: dict[tuple[bool, bool, str], str | None] = {}
_NOTED: list[str] = []  # the note already printed in this process, if any


class FusedStep:
    """`step()` for a fused torch Adam or AdamW over one parameter."""

    def __init__(self, optimizer: torch.optim.Optimizer, param: torch.Tensor):
        group = optimizer.param_groups[0]
        if len(optimizer.param_groups) != 1 or len(group["params"]) != 1 or not group["fused"]:
            raise ValueError("FusedStep needs a fused Adam/AdamW over exactly one parameter")
        self.optimizer = optimizer
        self.param = param
        self.kernel = torch._fused_adamw_ if _decoupled(optimizer) else torch._fused_adam_

    def step(self) -> None:
        state = self.optimizer.state.get(self.param)
        if not state:  # the first step creates the state the way torch.optim does
            self.optimizer.step()
            return
        group = self.optimizer.param_groups[0]
        assert self.param.grad is not None
        amsgrad = group["amsgrad"]
        beta1, beta2 = group["betas"]
        state["step"].add_(1)
        self.kernel([self.param], [self.param.grad], [state["exp_avg"]], [state["exp_avg_sq"]],
                    [state["max_exp_avg_sq"]] if amsgrad else [], [state["step"]],
                    amsgrad=amsgrad, lr=group["lr"], beta1=beta1, beta2=beta2,
                    weight_decay=group["weight_decay"], eps=group["eps"],
                    maximize=group["maximize"], grad_scale=None, found_inf=None)


def fused_adam_reason(device: torch.device | str, adamw: bool = False,
                      amsgrad: bool = False) -> str | None:
    """Why FusedStep cannot run Adam (or AdamW) on `device` with the installed torch, or None
    when it can: a probe, at first use, of a few steps on a tiny tensor against torch.optim's
    for-loop step. The answer is cached; a failure prints a one-line note, once per process.
    """
    device = torch.device(device)
    key = (adamw, amsgrad, device.type)
    if key not in _PROBES:
        _PROBES[key] = _probe(device, adamw, amsgrad)
        reason = _PROBES[key]
        if reason is not None and not _NOTED:
            _NOTED.append(reason)
            print(f"ganghwa: torch {torch.__version__} has no usable fused Adam kernel "
                  f"({reason}); using torch.optim's step", file=sys.stderr)
    return _PROBES[key]


def _probe(device: torch.device, adamw: bool, amsgrad: bool) -> str | None:
    cls = torch.optim.AdamW if adamw else torch.optim.Adam
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(8, generator=gen)
    grads = [torch.randn(8, generator=gen) for _ in range(4)]
    hyperparameters: dict[str, Any] = {"lr": 0.01, "amsgrad": amsgrad, "weight_decay": 0.01}
    try:
        fast = torch.nn.Parameter(start.clone().to(device))
        reference = torch.nn.Parameter(start.clone().to(device))
        stepper = FusedStep(cls([fast], fused=True, **hyperparameters), fast)
        reference_optimizer = cls([reference], foreach=False, fused=False, **hyperparameters)
        for grad in grads:  # the first step makes the state; the others are the kernel's
            fast.grad, reference.grad = grad.clone().to(device), grad.clone().to(device)
            stepper.step()
            reference_optimizer.step()
        error = (fast - reference).abs().max().item()
    except Exception as e:  # missing (AttributeError), a new signature (TypeError), no kernel
        message = str(e).strip().splitlines()
        return f"{type(e).__name__}: {message[0][:80]}" if message else type(e).__name__
    if not torch.allclose(fast, reference, rtol=1e-5, atol=1e-6):
        return f"its step differs from the for-loop Adam's by {error:.1e}"
    return None


def make_adam(param: torch.Tensor, adamw: bool = False,
              **hyperparameters: Any) -> torch.optim.Optimizer:
    """torch.optim.Adam (or AdamW) over one parameter: fused when the kernel passes its probe
    on the parameter's device, else torch's unfused step (torch < 2.4 refuses fused=True on the
    CPU at construction, so the choice cannot wait for the first step)."""
    fused = fused_adam_reason(param.device, adamw, hyperparameters.get("amsgrad", False)) is None
    cls = torch.optim.AdamW if adamw else torch.optim.Adam
    return cls([param], fused=fused, **hyperparameters)


def fused_step(optimizer: torch.optim.Optimizer, param: torch.Tensor) -> Callable[[], None]:
    """The fastest correct step for `optimizer`: FusedStep's when it is a fused Adam or AdamW
    over `param` alone and the kernel passes its probe, else `optimizer.step`.

    When the probe fails, the optimizer is switched to torch's unfused step too, since its
    fused step calls the same kernel.
    """
    groups = optimizer.param_groups
    if (not isinstance(optimizer, torch.optim.Adam | torch.optim.AdamW) or len(groups) != 1
            or len(groups[0]["params"]) != 1 or groups[0]["params"][0] is not param
            or not groups[0].get("fused")):
        return optimizer.step
    reason = fused_adam_reason(param.device, _decoupled(optimizer), groups[0]["amsgrad"])
    if reason is None:
        return FusedStep(optimizer, param).step
    groups[0]["fused"] = optimizer.defaults["fused"] = False
    return optimizer.step


def _decoupled(optimizer: torch.optim.Optimizer) -> bool:
    """AdamW's decoupled weight decay: a flag of Adam's in newer torch, a class in older."""
    return bool(optimizer.param_groups[0].get("decoupled_weight_decay",
                                              isinstance(optimizer, torch.optim.AdamW)))

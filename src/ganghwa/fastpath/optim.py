"""One fused Adam/AdamW step on a single flat parameter, without torch.optim's per-call work.

Why: `Optimizer.step()` spends ~100 µs in Python (hooks, grouping by device, state checks)
around a ~30 µs fused kernel, and a DQN update on CPU takes only a few hundred µs. The
torch.optim optimizer still owns the state, the hyperparameters (so lr schedules apply) and the
state_dict for checkpoints; this calls the same kernel it would call, on that state.
tests/unit/test_optim.py checks it against torch's reference (for-loop) Adam and AdamW.

The kernel is private (torch._fused_adam_ and torch._fused_adamw_), so it may be missing, take
other arguments, or have no kernel for a device (torch < 2.4 on the CPU) in the torch that is
installed. `fused_adam_reason` probes it once per process against Adam's formula by hand;
`make_adam` and `fused_step` use the probe and fall back to torch.optim's own step, with a
one-line note on stderr, when it fails.

Neither the probe nor FusedStep calls `Optimizer.step()`, and importing this module lets
torch.optim's constructors and state_dict run without importing torch._dynamo
(`_skip_dynamo_import`): that import alone took about 2 s of every `ganghwa train` process's
start. An optimizer whose own `step()` runs (RMSprop, Adam over several tensors) still imports
it at its first step.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from functools import partial
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
        group = self.optimizer.param_groups[0]
        amsgrad = group["amsgrad"]
        state = self.optimizer.state[self.param]
        if not state:  # the state torch's fused Adam makes at its first step (Adam._init_group)
            state["step"] = torch.zeros((), dtype=torch.float32, device=self.param.device)
            for key in ("exp_avg", "exp_avg_sq", *(("max_exp_avg_sq",) if amsgrad else ())):
                state[key] = torch.zeros_like(self.param, memory_format=torch.preserve_format)
        assert self.param.grad is not None
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
    when it can: a probe, at first use, of a few steps on a tiny tensor against Adam's formula
    worked by hand (`_adam_by_hand`). The answer is cached; a failure prints a one-line note,
    once per process.
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
    start = torch.randn(8, generator=gen, dtype=torch.float64)
    grads = [torch.randn(8, generator=gen, dtype=torch.float64) for _ in range(4)]
    lr, decay = 0.01, 0.01
    try:
        fast = torch.nn.Parameter(start.float().to(device))
        stepper = FusedStep(cls([fast], fused=True, lr=lr, amsgrad=amsgrad,
                                weight_decay=decay), fast)
        for grad in grads:
            fast.grad = grad.float().to(device)
            stepper.step()
        result = fast.detach().cpu().double()
    except Exception as e:  # missing (AttributeError), a new signature (TypeError), no kernel
        message = str(e).strip().splitlines()
        return f"{type(e).__name__}: {message[0][:80]}" if message else type(e).__name__
    reference = _adam_by_hand(start, grads, lr, decay, amsgrad, decoupled=adamw)
    error = (result - reference).abs().max().item()
    if not torch.allclose(result, reference, rtol=1e-5, atol=1e-6):
        return f"its step differs from Adam's formula by {error:.1e}"
    return None


def _adam_by_hand(param: torch.Tensor, grads: list[torch.Tensor], lr: float, decay: float,
                  amsgrad: bool, decoupled: bool, betas: tuple[float, float] = (0.9, 0.999),
                  eps: float = 1e-8) -> torch.Tensor:
    """Adam (Kingma and Ba, Algorithm 1, as torch.optim words it), in float64: the probe's
    reference, computed without torch.optim (whose step imports torch._dynamo)."""
    beta1, beta2 = betas
    m = torch.zeros_like(param)
    v = torch.zeros_like(param)
    v_max = torch.zeros_like(param)
    for t, grad in enumerate(grads, 1):
        if decoupled:
            param = param * (1 - lr * decay)
        else:
            grad = grad + decay * param
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad * grad
        v_max = torch.maximum(v_max, v)
        denom = (v_max if amsgrad else v).sqrt() / (1 - beta2 ** t) ** 0.5 + eps
        param = param - lr / (1 - beta1 ** t) * m / denom
    return param


def _skip_dynamo_import() -> None:
    """Let torch.optim's constructor, state_dict, load_state_dict and zero_grad run without
    importing torch._dynamo.

    Why: torch wraps each in `torch._disable_dynamo`, whose first call imports torch._dynamo
    (about 2 s of sympy and fx on this CPU) only to mark the method "not for torch.compile".
    The wrapper keeps what it resolved on the function as `__dynamo_disable`; while dynamo is
    not imported nothing is being compiled, so the function itself is the same. When dynamo
    is already imported (a process that compiles), nothing is marked; when it is imported
    later, these four methods stay unmarked by dynamo (torch.compile may then trace into them
    rather than skip them). A torch whose wrapper has changed gets only an unused attribute.
    """
    if "torch._dynamo" in sys.modules:
        return
    for name in ("add_param_group", "state_dict", "load_state_dict", "zero_grad"):
        function = getattr(getattr(torch.optim.Optimizer, name), "__wrapped__", None)
        if function is not None and not hasattr(function, "__dynamo_disable"):
            setattr(function, "__dynamo_disable", function)


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
    over `param` alone and the kernel passes its probe, else `plain_step`'s.

    When the probe fails, the optimizer is switched to torch's unfused step too, since its
    fused step calls the same kernel.
    """
    groups = optimizer.param_groups
    if (not isinstance(optimizer, torch.optim.Adam | torch.optim.AdamW) or len(groups) != 1
            or len(groups[0]["params"]) != 1 or groups[0]["params"][0] is not param
            or not groups[0].get("fused")):
        return partial(plain_step, optimizer)
    reason = fused_adam_reason(param.device, _decoupled(optimizer), groups[0]["amsgrad"])
    if reason is None:
        return FusedStep(optimizer, param).step
    groups[0]["fused"] = optimizer.defaults["fused"] = False
    return partial(plain_step, optimizer)


def plain_step(optimizer: torch.optim.Optimizer) -> None:
    """`optimizer.step()`, minus the wrappers' import of torch._dynamo where they do nothing.

    Why: every torch.optim `step()` runs inside `_use_grad_for_differentiable`, which imports
    torch._dynamo (1.4 s here, the first time) for a graph break that matters only while
    compiling, and `profile_hook_step`, which runs step hooks. Where neither can matter (dynamo
    not imported, so nothing compiles; no step hooks; not a differentiable optimizer), this
    calls the class's own step under no_grad, as the wrappers do; anywhere else, `step()`.
    """
    from torch.optim import optimizer as module

    if ("torch._dynamo" in sys.modules or optimizer.defaults.get("differentiable")
            or optimizer._optimizer_step_pre_hooks or optimizer._optimizer_step_post_hooks
            or getattr(module, "_global_optimizer_pre_hooks", True)
            or getattr(module, "_global_optimizer_post_hooks", True)):
        optimizer.step()
        return
    cls: Any = type(optimizer)  # a class is hashable; mypy reads Optimizer's __hash__ = None
    with torch.no_grad():
        _own_step(cls)(optimizer)


@functools.cache
def _own_step(cls: Any) -> Any:
    """The class's step without torch's wrappers, found once per class (plain_step runs every
    gradient step)."""
    step: Any = cls.step
    while hasattr(step, "__wrapped__"):
        step = step.__wrapped__
    return step


def _decoupled(optimizer: torch.optim.Optimizer) -> bool:
    """AdamW's decoupled weight decay: a flag of Adam's in newer torch, a class in older."""
    return bool(optimizer.param_groups[0].get("decoupled_weight_decay",
                                              isinstance(optimizer, torch.optim.AdamW)))


_skip_dynamo_import()

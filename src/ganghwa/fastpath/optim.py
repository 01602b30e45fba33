"""One fused Adam/AdamW step on a single flat parameter, without torch.optim's per-call work.

Why: `Optimizer.step()` spends ~100 µs in Python (hooks, grouping by device, state checks)
around a ~30 µs fused kernel, and a DQN update on CPU takes only a few hundred µs. The
torch.optim optimizer still owns the state, the hyperparameters (so lr schedules apply) and the
state_dict for checkpoints; this calls the same kernel it would call, on that state.
tests/unit/test_optim.py checks it against torch's reference (for-loop) Adam and AdamW.
"""

from __future__ import annotations

import torch


class FusedStep:
    """`step()` for a fused torch Adam or AdamW over one parameter."""

    def __init__(self, optimizer: torch.optim.Optimizer, param: torch.Tensor):
        group = optimizer.param_groups[0]
        if len(optimizer.param_groups) != 1 or len(group["params"]) != 1 or not group["fused"]:
            raise ValueError("FusedStep needs a fused Adam/AdamW over exactly one parameter")
        self.optimizer = optimizer
        self.param = param
        decoupled = group.get("decoupled_weight_decay",
                              isinstance(optimizer, torch.optim.AdamW))
        self.kernel = torch._fused_adamw_ if decoupled else torch._fused_adam_

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

"""FusedStep against torch's reference (for-loop, unfused) Adam and AdamW."""

import itertools

import pytest
import torch

from ganghwa.fastpath.optim import FusedStep


@pytest.mark.parametrize("cls,amsgrad,weight_decay", list(itertools.product(
    (torch.optim.Adam, torch.optim.AdamW), (False, True), (0.0, 0.01))))
def test_fused_step_matches_reference_adam(cls, amsgrad, weight_decay):
    torch.manual_seed(0)
    start = torch.randn(50)
    grads = [torch.randn(50) for _ in range(6)]
    fast = torch.nn.Parameter(start.clone())
    ref = torch.nn.Parameter(start.clone())
    fast_opt = cls([fast], lr=0.01, amsgrad=amsgrad, weight_decay=weight_decay, fused=True)
    ref_opt = cls([ref], lr=0.01, amsgrad=amsgrad, weight_decay=weight_decay, foreach=False)
    stepper = FusedStep(fast_opt, fast)
    for i, g in enumerate(grads):
        if i == 3:  # an lr schedule writes param_groups; the fast path must follow it
            for opt in (fast_opt, ref_opt):
                opt.param_groups[0]["lr"] = 0.003
        fast.grad, ref.grad = g.clone(), g.clone()
        stepper.step()
        ref_opt.step()
        torch.testing.assert_close(fast.detach(), ref.detach(), rtol=1e-5, atol=1e-6)
    assert fast_opt.state[fast]["step"].item() == len(grads)


def test_fused_step_refuses_what_it_cannot_do():
    p = torch.nn.Parameter(torch.zeros(3))
    with pytest.raises(ValueError):
        FusedStep(torch.optim.Adam([p], foreach=True), p)

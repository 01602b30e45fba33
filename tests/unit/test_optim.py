"""FusedStep against torch's reference (for-loop, unfused) Adam and AdamW."""

import itertools
import subprocess
import sys

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


def test_a_dqn_run_never_imports_torch_dynamo():
    """torch.optim's constructor and state_dict import torch._dynamo (about 2 s) unless
    fastpath.optim marks them; a DQN that learns and checkpoints must not pay it."""
    code = ("import sys\nfrom ganghwa import DQN\n"
            "m = DQN('CartPole-v1', seed=0, learning_starts=50, batch_size=16, hidden=[16])\n"
            "m.learn(300)\nm.optimizer.load_state_dict(m.optimizer.state_dict())\n"
            "m.optimizer.zero_grad()\nprint('torch._dynamo' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "False"


@pytest.mark.parametrize("algo", ["A2C", "PPO", "REINFORCE"])
def test_a_policy_gradient_run_never_imports_torch_dynamo(algo):
    """torch.optim's step() imports torch._dynamo for a graph break (1.4 s); plain_step skips
    it while nothing compiles. A2C's RMSprop, PPO's and REINFORCE's Adam over several tensors."""
    code = (f"import sys\nfrom ganghwa import {algo}\n"
            f"m = {algo}('CartPole-v1', seed=0, eval_every=0)\nm.learn(600)\n"
            "print('torch._dynamo' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "False"


@pytest.mark.parametrize("make", [
    lambda params: torch.optim.RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-5),
    lambda params: torch.optim.Adam(params, lr=1e-2, eps=1e-5),
    lambda params: torch.optim.SGD(params, lr=1e-2, momentum=0.9)])
def test_plain_step_is_torchs_step(make):
    """Three steps of plain_step and of torch's own step() from the same start agree exactly;
    with a step hook registered, plain_step runs the hook (it falls back to step())."""
    from ganghwa.fastpath import plain_step

    torch.manual_seed(0)
    start = [torch.randn(4, 3), torch.randn(3)]
    grads = [[torch.randn_like(p) for p in start] for _ in range(3)]
    ours = [torch.nn.Parameter(p.clone()) for p in start]
    theirs = [torch.nn.Parameter(p.clone()) for p in start]
    mine, reference = make(ours), make(theirs)
    for g in grads:
        for p, q, gp in zip(ours, theirs, g, strict=True):
            p.grad, q.grad = gp.clone(), gp.clone()
        plain_step(mine)
        reference.step()
    for p, q in zip(ours, theirs, strict=True):
        assert torch.equal(p, q) and not torch.equal(p, start[0] if p.ndim == 2 else start[1])
    calls: list[int] = []
    mine.register_step_post_hook(lambda *_: calls.append(1))
    plain_step(mine)
    assert calls == [1]


def test_the_probes_reference_is_adams_formula():
    """Two steps of Adam worked by hand: g=1 then g=-1, lr=0.1, no decay, from p=0."""
    from ganghwa.fastpath.optim import _adam_by_hand

    p = torch.zeros(1, dtype=torch.float64)
    grads = [torch.ones(1, dtype=torch.float64), -torch.ones(1, dtype=torch.float64)]
    # t=1: m=0.1, v=0.001, m̂=1, v̂=1 -> p = -0.1/(1+1e-8)
    # t=2: m=0.09-0.1=-0.01, v=0.000999+0.001=0.001999; m̂=-0.01/0.19, v̂=0.001999/0.001999=1
    after = _adam_by_hand(p, grads, lr=0.1, decay=0.0, amsgrad=False, decoupled=False)
    expected = -0.1 / (1 + 1e-8) + 0.1 * (0.01 / 0.19) / (1 + 1e-8)
    assert after.item() == pytest.approx(expected, rel=1e-9)

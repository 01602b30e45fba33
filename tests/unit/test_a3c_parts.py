"""A3C's pieces against independent computations: a worker's gradient, the shared optimizer."""

from __future__ import annotations

import copy

import pytest
import torch

from ganghwa.algos.actor_learner import ActorLearner, GlobalOptimizer
from ganghwa.config import A3CConfig, apply
from ganghwa.fastpath.backprop import flatten_parameters


def test_worker_gradient_is_the_n_step_actor_critic_gradient():
    cfg = apply(A3CConfig(), {"n_steps": 4, "gamma": 0.9, "ent_coef": 0.01, "vf_coef": 0.5,
                              "max_grad_norm": None, "hidden": (8,), "seed": 1})
    learner = ActorLearner(cfg, worker=0)
    net = copy.deepcopy(learner.agent.net)  # the weights the rollout is taken with
    weights = learner.flat.detach().clone()
    grad = learner.compute(weights).grad.clone()
    a = learner.agent  # what the rollout saw, read back from its buffers
    obs = torch.as_tensor(a._obs[:, 0])
    # n-step returns by hand, from the end of the rollout backwards: bootstrap from V(s_T)
    # unless the episode terminated; an episode that ended inside the rollout restarts the sum.
    with torch.no_grad():
        next_v = net.critic(torch.as_tensor(a._next_obs[:, 0])).squeeze(-1).tolist()
    returns, ret = [0.0] * 4, 0.0
    for t in reversed(range(4)):
        if a._ends[t, 0] or t == 3:
            ret = 0.0 if a._terminated[t, 0] else next_v[t]
        ret = a._rewards[t, 0] + 0.9 * ret
        returns[t] = ret
    returns_t = torch.tensor(returns, dtype=torch.float32)
    logits, values = net(obs)
    log_pi = torch.log_softmax(logits, dim=-1)
    taken = log_pi[torch.arange(4), torch.as_tensor(a._actions[:, 0])]
    advantages = returns_t - values.detach()
    entropy = -(log_pi.exp() * log_pi).sum(-1).mean()
    loss = (-(taken * advantages).mean() + 0.5 * ((returns_t - values) ** 2).mean()
            - 0.01 * entropy)
    loss.backward()
    expected = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
    torch.testing.assert_close(grad, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name,reference", [
    ("adam", lambda p, lr: torch.optim.Adam([p], lr=lr, eps=1e-5, foreach=False)),
    ("rmsprop", lambda p, lr: torch.optim.RMSprop([p], lr=lr, alpha=0.99, eps=1e-5,
                                                  foreach=False)),
])
def test_global_optimizer_steps_like_torch_after_its_zero_gradient_start(name, reference):
    cfg = apply(A3CConfig(), {"optimizer": name, "lr": 0.01})
    net = torch.nn.Linear(3, 2)
    flat = flatten_parameters(net)
    start = flat.detach().clone()
    opt = GlobalOptimizer(cfg, flat)
    assert torch.equal(flat.detach(), start)  # making the state moved nothing
    assert opt.state["step"].item() == 0
    ref = torch.nn.Parameter(start.clone())
    ref_opt = reference(ref, 0.01)
    torch.manual_seed(0)
    for _ in range(5):
        g = torch.randn_like(start)
        opt.apply(g.clone(), progress=0.0)
        ref.grad = g
        ref_opt.step()
        torch.testing.assert_close(flat.detach(), ref.detach(), rtol=1e-5, atol=1e-6)


def test_linear_lr_schedule_reaches_zero_at_the_end():
    cfg = apply(A3CConfig(), {"lr": "lin_0.01"})
    flat = flatten_parameters(torch.nn.Linear(2, 1))
    opt = GlobalOptimizer(cfg, flat)
    opt.apply(torch.ones_like(flat), progress=0.75)
    assert opt.optimizer.param_groups[0]["lr"] == pytest.approx(0.0025)
    before = flat.detach().clone()
    opt.apply(torch.ones_like(flat), progress=1.0)
    assert torch.equal(flat.detach(), before)


def test_a_nan_loss_stops_in_the_worker_before_any_gradient_is_sent():
    from ganghwa.errors import Diverged

    learner = ActorLearner(apply(A3CConfig(), {"n_steps": 4}), worker=0)
    weights = learner.flat.detach().clone()
    learner.flat.grad.fill_(7.0)  # so that a backward pass would show
    # an overflowing loss from finite weights (NaN weights would already fail in sampling)
    nan = torch.tensor(float("nan"), requires_grad=True)
    learner.agent.loss = lambda *_: (nan, {"loss": nan.detach()})
    with pytest.raises(Diverged, match="the loss became nan"):
        learner.compute(weights)
    assert torch.equal(learner.flat.grad, torch.full_like(weights, 7.0))  # no gradient made

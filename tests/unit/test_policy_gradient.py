"""Policy-gradient math against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganghwa.buffers import discounted_returns
from ganghwa.losses import policy_gradient_loss


def test_reward_to_go_restarts_at_episode_ends():
    rewards = np.array([1.0, 1.0, 1.0, 5.0, 2.0])
    ends = np.array([False, False, True, False, True])
    # episode 1, γ = 0.5: G2 = 1, G1 = 1 + 0.5 = 1.5, G0 = 1 + 0.75 = 1.75
    # episode 2: G4 = 2, G3 = 5 + 0.5 · 2 = 6
    assert discounted_returns(rewards, ends, 0.5).tolist() == [1.75, 1.5, 1.0, 6.0, 2.0]


def test_policy_gradient_loss_and_its_gradient_by_hand():
    # logits (0, ln 3): π = (0.25, 0.75). Action 1 with advantage 2:
    # loss = -2 ln 0.75; d loss / d logits = -A (onehot - π) = -2 ((0, 1) - (0.25, 0.75))
    logits = torch.tensor([[0.0, math.log(3.0)]], requires_grad=True)
    loss = policy_gradient_loss(logits, torch.tensor([1]), torch.tensor([2.0]))
    assert loss.item() == pytest.approx(-2 * math.log(0.75))
    loss.backward()
    assert logits.grad is not None
    assert logits.grad[0].tolist() == pytest.approx([0.5, -0.5])


def test_whole_episode_return_weights_every_step_alike(monkeypatch):
    import ganghwa.algos.reinforce as reinforce

    agent = reinforce.REINFORCE("CartPole-v1", reward_to_go=False, baseline=False,
                                normalize=False, seed=0)
    seen = {}

    def capture(logits, actions, advantages):
        seen["advantages"] = advantages.tolist()
        return policy_gradient_loss(logits, actions, advantages)

    monkeypatch.setattr(reinforce, "policy_gradient_loss", capture)
    agent.update(np.zeros((4, 4), dtype=np.float32), np.array([0, 1, 0, 1]),
                 np.array([1.0, 1.0, 1.0, 3.0]), np.array([False, True, False, True]))
    # γ = 0.99: episode 1 returns 1 + 0.99 = 1.99 for both steps; episode 2: 1 + 0.99·3 = 3.97
    assert seen["advantages"] == pytest.approx([1.99, 1.99, 3.97, 3.97])


def test_gae_by_hand_with_termination_and_time_limit():
    from ganghwa.buffers import compute_gae

    # one env, 3 steps, γ = 0.5, λ = 0.5. V(s_t) = 1, 2, 3; next-state values 2, 3, 4.
    rewards = np.array([[1.0], [1.0], [1.0]])
    values = np.array([[1.0], [2.0], [3.0]])
    next_values = np.array([[2.0], [3.0], [4.0]])
    # step 1 terminates (no bootstrap, and the trace stops); step 2 is cut off by a time
    # limit at the end of the rollout (bootstrapped from V = 4)
    terminated = np.array([[0.0], [1.0], [0.0]])
    ends = np.array([[0.0], [1.0], [1.0]])
    adv, ret = compute_gae(rewards, values, next_values, terminated, ends, 0.5, 0.5)
    # δ2 = 1 + 0.5·4 - 3 = 0 → A2 = 0
    # δ1 = 1 + 0 - 2 = -1 → A1 = -1 (episode ended: A2 not carried back)
    # δ0 = 1 + 0.5·2 - 1 = 1 → A0 = 1 + 0.25·(-1) = 0.75
    assert adv[:, 0].tolist() == pytest.approx([0.75, -1.0, 0.0])
    assert ret[:, 0].tolist() == pytest.approx([1.75, 1.0, 3.0])


def test_gae_with_lambda_one_is_the_n_step_return():
    from ganghwa.buffers import compute_gae

    rewards = np.ones((3, 2))
    values = np.zeros((3, 2))
    next_values = np.zeros((3, 2))  # V(s_{t+1}) = 0 inside the rollout ...
    next_values[2] = 10.0  # ... and 10 for the state after its last step
    zeros = np.zeros((3, 2))
    _, ret = compute_gae(rewards, values, next_values, zeros, zeros, 0.9, 1.0)
    # R0 = 1 + 0.9 + 0.81 + 0.729 · 10 (bootstrapped after the last step)
    assert ret[0].tolist() == pytest.approx([1 + 0.9 + 0.81 + 7.29] * 2)


def test_ppo_clipped_loss_by_hand():
    from ganghwa.losses import ppo_clip_loss

    old = torch.log(torch.tensor([0.5, 0.5, 0.5]))
    new = torch.log(torch.tensor([0.75, 0.25, 0.55]))  # ratios 1.5, 0.5, 1.1
    advantages = torch.tensor([1.0, -2.0, 3.0])
    # ε = 0.2: sample 0, A > 0: min(1.5, 1.2) · 1 = 1.2
    #          sample 1, A < 0: min(0.5 · -2, 0.8 · -2) = -1.6
    #          sample 2, inside the clip: 1.1 · 3 = 3.3
    loss, approx_kl, clip_fraction = ppo_clip_loss(new, old, advantages, 0.2)
    assert loss.item() == pytest.approx(-(1.2 - 1.6 + 3.3) / 3)
    # approx KL = mean((ρ - 1) - ln ρ); samples 0 and 1 lie outside [0.8, 1.2]
    assert approx_kl.item() == pytest.approx(
        ((0.5 - math.log(1.5)) + (-0.5 - math.log(0.5)) + (0.1 - math.log(1.1))) / 3)
    assert clip_fraction.item() == pytest.approx(2 / 3)
    # with no change of policy the clipped loss is the plain policy-gradient objective
    loss, approx_kl, clip_fraction = ppo_clip_loss(old, old, advantages, 0.2)
    assert loss.item() == pytest.approx(-(1 - 2 + 3) / 3)
    assert (approx_kl.item(), clip_fraction.item()) == (0.0, 0.0)


def test_lin_schedules_read_as_rl_zoo_writes_them():
    from ganghwa.config import PPOConfig, apply

    cfg = apply(PPOConfig(), {"lr": "lin_0.001", "clip_range": "lin_0.2"})
    assert (cfg.lr, cfg.lr_schedule, cfg.clip_range, cfg.clip_range_schedule) == \
        (0.001, "linear", 0.2, "linear")


def test_obs_norm_moments_are_those_of_every_observation_seen():
    from ganghwa.nets import ObsNorm

    norm = ObsNorm(2)
    first = np.array([[1.0, 10.0], [3.0, 10.0]])
    second = np.array([[5.0, 20.0], [7.0, 20.0], [9.0, 20.0], [11.0, 20.0]])
    norm.update(first)
    norm.update(second)
    # all six rows: column 0 is 1, 3, ..., 11 (mean 6, variance 35/3); column 1 has mean 50/3
    # and variance (2 (20/3)² + 4 (10/3)²) / 6 = 200/9. The prior (count 1e-4 at mean 0) adds
    # about 1e-4 (50/3)² / 6 ≈ 0.005 to the second variance.
    assert norm.mean.tolist() == pytest.approx([6.0, 50 / 3], rel=1e-4)
    assert norm.var.tolist() == pytest.approx([35 / 3, 200 / 9], rel=5e-4)
    scaled = norm(torch.tensor([[6.0 + math.sqrt(35 / 3), 50 / 3]]))
    assert scaled.tolist()[0] == pytest.approx([1.0, 0.0], abs=1e-4)
    assert norm(torch.tensor([[1e6, -1e6]])).tolist() == [[10.0, -10.0]]  # clipped at ±10


def test_obs_norm_scales_by_its_moments_after_to_and_share_memory_and_refuses_nan():
    from ganghwa.nets import ObsNorm

    norm = ObsNorm(1)
    norm.update(np.array([[2.0], [4.0]]))  # mean 3, variance 1 (the prior is negligible)
    # Buffers changed behind update's back; .to() and share_memory() (which .cuda() and A3C's
    # sharing go through) must scale by what the buffers then hold: (5 - 1) / 4 = 1.
    norm.mean.fill_(1.0)
    norm.var.fill_(16.0)
    assert norm.to(torch.float64)(torch.tensor([[5.0]])).item() == pytest.approx(1.0)
    norm.mean.fill_(3.0)
    assert norm.share_memory()(torch.tensor([[5.0]])).item() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="NaN or inf"):
        norm.update(np.array([[1.0], [float("nan")]]))
    assert norm.mean.item() == pytest.approx(3.0)  # the bad batch left the moments alone


def test_normalize_obs_stats_learn_from_rollouts_persist_and_stay_fixed_in_evaluation(tmp_path):
    from ganghwa import PPO
    from ganghwa.evaluation import evaluate

    agent = PPO("CartPole-v1", normalize_obs=True, num_envs=2, n_steps=16, batch_size=16,
                n_epochs=1, seed=0)
    norm = agent.net.obs_norm
    assert norm is not None and norm.count.item() == pytest.approx(1e-4)
    agent.learn(64)  # two rollouts of 2 envs × 16 steps
    assert norm.count.item() == pytest.approx(64, abs=1e-3)
    seen = agent._obs.reshape(-1, 4)  # the last rollout: its mean moved the statistics
    assert not np.allclose(norm.mean.numpy(), 0.0) and np.all(np.abs(seen).max(0) < 5)
    before = norm.mean.clone()
    evaluate(agent.policy, "CartPole-v1", 2, 0)
    assert torch.equal(norm.mean, before)
    agent.save(tmp_path / "ppo.pt")
    loaded = PPO.load(tmp_path / "ppo.pt")
    assert loaded.net.obs_norm is not None
    assert torch.equal(loaded.net.obs_norm.mean, before)
    obs = np.array([[0.1, -0.2, 0.05, 0.3]], dtype=np.float32)
    assert np.array_equal(loaded.policy(obs), agent.policy(obs))
    with torch.no_grad():  # the scaled input reaches the policy: it differs from the raw one
        raw = agent.net.actor[1](torch.as_tensor(obs))
        assert not torch.allclose(agent.net.actor(torch.as_tensor(obs)), raw)


def test_a3c_refuses_normalize_obs_with_the_fix():
    from ganghwa.config import A3CConfig, apply
    from ganghwa.errors import GanghwaError

    with pytest.raises(GanghwaError, match="normalize_obs=true is for A2C and PPO"):
        apply(A3CConfig(), {"normalize_obs": True}).validate()

"""Policy-gradient learning on CartPole with fixed seeds."""

from __future__ import annotations

from ganghwa.algos.a2c import A2C, PPO
from ganghwa.algos.reinforce import REINFORCE
from ganghwa.config import A2CConfig, PPOConfig, ReinforceConfig, apply, preset_values
from ganghwa.run import Run, read_progress
from tests.greedy import greedy_eval


def test_reinforce_with_baseline_solves_cartpole(tmp_path):
    values, _ = preset_values("tuned", "reinforce", "CartPole-v1")
    cfg = apply(ReinforceConfig(), {**values, "seed": 0, "eval_every": 0})
    run = Run.create(tmp_path, "reinforce", cfg.env_id, cfg.seed)
    agent = REINFORCE(config=cfg).learn(run=run)
    returns = read_progress(run.progress_path)["return"]
    # The first policy is near-uniform and samples its actions: short episodes. (Its greedy
    # version can balance well by luck, CartPole being almost linearly solvable.)
    assert sum(returns[:20]) / 20 < 60
    assert greedy_eval(agent, 20, seed=100_000).mean >= 475


def test_a2c_solves_cartpole():
    values, _ = preset_values("tuned", "a2c", "CartPole-v1")
    agent = A2C(config=apply(A2CConfig(), {**values, "seed": 0, "eval_every": 0}))
    assert greedy_eval(agent, 20, seed=100_000).mean < 475
    agent.learn()
    assert greedy_eval(agent, 20, seed=100_000).mean >= 475


def test_ppo_solves_cartpole():
    values, _ = preset_values("tuned", "ppo", "CartPole-v1")
    agent = PPO(config=apply(PPOConfig(), {**values, "seed": 0, "eval_every": 0}))
    agent.learn()
    assert greedy_eval(agent, 20, seed=100_000).mean >= 475

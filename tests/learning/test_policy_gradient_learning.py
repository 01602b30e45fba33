"""Policy-gradient learning on CartPole with fixed seeds.

Each run stops once its periodic greedy evaluation (20 episodes) reaches 475, CartPole-v1's
threshold, rather than spending the preset's whole budget; the stopped policy must then hold up
on 20 fresh seeds (mean at least 450: a solved CartPole policy still drops an episode or two).
"""

from __future__ import annotations

from ganghwa.algos.a2c import A2C, PPO
from ganghwa.algos.reinforce import REINFORCE
from ganghwa.config import A2CConfig, PPOConfig, ReinforceConfig, apply, preset_values
from ganghwa.run import Run, read_progress
from tests.greedy import greedy_eval

SOLVE = {"eval_every": 5_000, "eval_episodes": 20, "stop_at": 475}


def test_reinforce_with_baseline_solves_cartpole(tmp_path):
    values, _ = preset_values("tuned", "reinforce", "CartPole-v1")
    cfg = apply(ReinforceConfig(), {**values, "seed": 0, **SOLVE})
    run = Run.create(tmp_path, "reinforce", cfg.env_id, cfg.seed)
    agent = REINFORCE(config=cfg).learn(run=run)
    assert agent.stop_reason == "solved"
    returns = read_progress(run.progress_path)["return"]
    # The first policy is near-uniform and samples its actions: short episodes. (Its greedy
    # version can balance well by luck, CartPole being almost linearly solvable.)
    assert sum(returns[:20]) / 20 < 60
    assert greedy_eval(agent, 20, seed=100_000).mean >= 450


def test_a2c_solves_cartpole():
    values, _ = preset_values("tuned", "a2c", "CartPole-v1")
    agent = A2C(config=apply(A2CConfig(), {**values, "seed": 0, **SOLVE}))
    assert greedy_eval(agent, 20, seed=100_000).mean < 475
    agent.learn()
    assert agent.stop_reason == "solved"
    assert greedy_eval(agent, 20, seed=100_000).mean >= 450


def test_ppo_solves_cartpole():
    values, _ = preset_values("tuned", "ppo", "CartPole-v1")
    agent = PPO(config=apply(PPOConfig(), {**values, "seed": 0, **SOLVE}))
    agent.learn()
    assert agent.stop_reason == "solved"
    assert greedy_eval(agent, 20, seed=100_000).mean >= 450

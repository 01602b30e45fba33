"""Tabular and Deep SARSA learning results from the issue, with fixed seeds."""

from __future__ import annotations

import gymnasium as gym
import pytest

from ganghwa.algos.deep_sarsa import DeepSarsa
from ganghwa.algos.tabular import TabularAgent, solve
from ganghwa.config import DeepSarsaConfig, TabularConfig, apply, preset_values
from ganghwa.evaluation import evaluate
from tests.greedy import greedy_eval


def tuned(algo: str, env_id: str, **extra) -> TabularConfig:
    values, _ = preset_values("tuned", ("tabular", algo), env_id)
    return apply(TabularConfig(), {**values, "algo": algo, "env_id": env_id, "eval_every": 0,
                                   **extra})


@pytest.mark.parametrize("seed", [0, 1])
def test_cliff_walking_q_learning_takes_the_edge_sarsa_the_safe_path(seed):
    q_agent = TabularAgent(config=tuned("q_learning", "CliffWalking-v1", seed=seed)).learn()
    sarsa = TabularAgent(config=tuned("sarsa", "CliffWalking-v1", seed=seed)).learn()
    assert greedy_eval(q_agent, 1, seed=0).mean == -13.0  # the optimal path along the cliff
    assert greedy_eval(sarsa, 1, seed=0).mean in (-15.0, -17.0)  # one or two rows away


def test_frozen_lake_q_learning_and_sarsa_near_the_dp_optimum():
    env = gym.make("FrozenLake-v1")
    _, _, actions, _ = solve("value_iteration", env, 0.99)
    optimum = evaluate(lambda obs: actions[obs], "FrozenLake-v1", 1000, 0).mean
    assert optimum > 0.7
    for algo in ("q_learning", "sarsa"):
        agent = TabularAgent(config=tuned(algo, "FrozenLake-v1", seed=0)).learn()
        success = greedy_eval(agent, 1000, seed=0).mean
        assert success >= optimum - 0.05, (algo, success, optimum)


def test_deep_sarsa_reaches_the_goal_past_moving_obstacles(tmp_path):
    from ganghwa.checkpoint import load_checkpoint, load_policy
    from ganghwa.run import Run

    """The tuned recipe, stopped once a 30-episode greedy evaluation averages 0.6 (80% of
    episodes reach the goal; the preset's own stop_at 0.85 takes 105k steps, twice as long):
    best.pt must then reach the goal in at least 75% of 100 fresh episodes."""
    values, _ = preset_values("tuned", "deep_sarsa", "ganghwa/MovingObstacles-v0")
    cfg = apply(DeepSarsaConfig(), {**values, "seed": 0, "stop_at": 0.6})
    run = Run.create(tmp_path, "deep_sarsa", cfg.env_id, cfg.seed)
    agent = DeepSarsa(config=cfg).learn(run=run)
    assert agent.stop_reason == "solved"
    policy = load_policy(load_checkpoint(run.best))
    result = evaluate(policy, cfg.env_id, 100, 100_000)
    assert (result.returns > 0).mean() >= 0.75

"""The tabular defaults without a preset: an auto budget sized to the table, ε and α annealed
over it, and Taxi-v4 learned to its DP optimum.

The optimum is computed here, not by the library: value iteration on the env's own P, and the
greedy DP policy played on plain gymnasium envs reset with the final evaluation's seeds.
"""

from __future__ import annotations

import types

import gymnasium as gym
import numpy as np
import pytest

import ganghwa
from ganghwa import pipeline
from ganghwa.algos.tabular import TabularAgent
from ganghwa.config import TabularConfig, from_toml, to_toml
from ganghwa.run import Run, read_progress

pytestmark = pytest.mark.learning


def table_env(n_states: int, n_actions: int) -> types.SimpleNamespace:
    return types.SimpleNamespace(observation_space=gym.spaces.Discrete(n_states),
                                 action_space=gym.spaces.Discrete(n_actions))


# ---------------------------------------------------------------- the auto budget, by hand

@pytest.mark.parametrize("n_states, n_actions, steps", [
    (500, 6, 1_500_000),  # Taxi-v4: 500 × 3000 pairs
    (16, 4, 1_000_000),  # FrozenLake 4x4: 500 × 64 = 32_000, below the floor
    (2_000, 1, 1_000_000),  # 500 × 2000: exactly the floor
    (2_001, 1, 1_000_500),  # one pair more: 500 more steps
    (10_000, 2, 10_000_000),  # 500 × 20_000: exactly the cap
    (100_000, 4, 10_000_000),  # 200M, capped
])
def test_auto_steps_is_500_a_state_action_pair_between_1m_and_10m(n_states, n_actions, steps):
    assert TabularConfig.auto_steps(n_states, n_actions) == steps


def test_resolve_auto_fills_only_an_auto_budget_and_says_so():
    cfg, note = TabularConfig().resolve_auto(table_env(500, 6))
    assert cfg.total_steps == 1_500_000
    assert note == "total_steps=1500000 (auto: 500 steps a pair × 500 states × 6 actions)"
    _, note = TabularConfig().resolve_auto(table_env(16, 4))
    assert note == "total_steps=1000000 (auto: 16 states × 4 actions, at least 1000000)"
    _, note = TabularConfig().resolve_auto(table_env(100_000, 4))
    assert note == "total_steps=10000000 (auto: 100000 states × 4 actions, at most 10000000)"
    given = TabularConfig(total_steps=1234)
    assert given.resolve_auto(table_env(500, 6)) == (given, "")  # a given budget wins
    dp, note = TabularConfig(algo="value_iteration").resolve_auto(table_env(500, 6))
    assert dp.total_steps == 1_500_000 and note == ""  # DP counts sweeps: nothing to tell
    box = types.SimpleNamespace(observation_space=gym.spaces.Box(-1, 1, (4,)),
                                action_space=gym.spaces.Discrete(2))
    assert TabularConfig().resolve_auto(box) == (TabularConfig(), "")  # its check says why


def test_configure_resolves_auto_once_and_flags_and_presets_win():
    cfg, note = pipeline.configure("q_learning", "Taxi-v4")
    assert cfg.total_steps == 1_500_000
    assert note == ("no tuned preset for Taxi-v4: using the general defaults; "
                    "total_steps=1500000 (auto: 500 steps a pair × 500 states × 6 actions)")
    assert from_toml(TabularConfig, to_toml(cfg)) == cfg  # config.toml keeps the number
    cfg, note = pipeline.configure("sarsa", "Taxi-v4", flags={"steps": 1234})
    assert cfg.total_steps == 1234 and "auto" not in note
    cfg, note = pipeline.configure("sarsa", "FrozenLake-v1")  # tuned: 300k, ε over 150k
    assert (cfg.total_steps, cfg.eps_duration, note) == (300_000, 150_000, "")
    cfg, _ = pipeline.configure("q_learning", "CliffWalking-v1")  # the textbook's constants
    assert (cfg.eps_start, cfg.eps_end, cfg.alpha, cfg.alpha_end) == (0.1, 0.1, 0.1, None)


# ---------------------------------------------------------------- the schedules

def test_epsilon_reaches_its_floor_halfway_through_the_budget(tmp_path):
    agent = TabularAgent("FrozenLake-v1", seed=0, env_kwargs={"is_slippery": False})
    agent.learn(20_000, run=Run(tmp_path))
    progress = read_progress(tmp_path / "progress.csv")
    starts = np.array(progress["step"]) - np.array(progress["length"])
    eps = np.array(progress["epsilon"])
    assert eps[0] == 1.0 and np.all(np.diff(eps) <= 0)
    # an episode starting at step t runs with ε = 1 - 0.99 t / 10_000, then 0.01
    assert eps == pytest.approx(np.maximum(1 - 0.99 * starts / 10_000, 0.01), abs=1e-4)
    assert np.sum(starts >= 10_000) > 100


# ---------------------------------------------------------------- Taxi-v4, no preset

def optimal_policy(env: gym.Env, gamma: float = 0.99, theta: float = 1e-9) -> np.ndarray:
    """Greedy actions of value iteration on the toy-text model P, written out with numpy."""
    P = env.unwrapped.P
    n_states, n_actions = env.observation_space.n, env.action_space.n
    V = np.zeros(n_states)
    while True:
        Q = np.array([[sum(p * (r + (0.0 if done else gamma * V[s2]))
                           for p, s2, r, done in P[s][a]) for a in range(n_actions)]
                      for s in range(n_states)])
        if np.abs(Q.max(axis=1) - V).max() < theta:
            return Q.argmax(axis=1)
        V = Q.max(axis=1)


def mean_return(env: gym.Env, actions: np.ndarray, first_seed: int, episodes: int) -> float:
    returns = []
    for i in range(episodes):
        s, _ = env.reset(seed=first_seed + i)
        total, done = 0.0, False
        while not done:
            s, r, terminated, truncated, _ = env.step(int(actions[s]))
            total += float(r)
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


def test_taxi_without_a_preset_reaches_the_dp_optimum_and_the_budget_is_kept(tmp_path):
    outcome = ganghwa.train("q_learning", "Taxi-v4", seed=0, video=False, out=tmp_path)
    assert "total_steps=1500000 (auto" in outcome.note
    evaluation = outcome.evaluation
    assert evaluation["step"] == 1_500_000 and evaluation["episodes"] == 100
    env = gym.make("Taxi-v4")
    optimum = mean_return(env, optimal_policy(env), evaluation["seed"], 100)
    assert 7 < optimum < 9  # 20 for the drop-off, minus about 13 moves on average
    assert evaluation["mean"] >= optimum - 1, (evaluation["mean"], optimum)
    # the run folder holds the concrete budget: resume has nothing left to do
    assert pipeline.read_config(outcome.run).total_steps == 1_500_000
    done = pipeline.prepare_resume(outcome.path)
    assert isinstance(done, str) and "already reached 1500000 of 1500000 steps" in done

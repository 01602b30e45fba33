"""DP and tabular updates against hand computations and an independent linear solve."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from ganghwa.algos.tabular import TabularAgent, model_arrays, policy_evaluation, solve
from ganghwa.envs import make_env


def exact_policy_value(P: dict, n_states: int, policy: np.ndarray, gamma: float) -> np.ndarray:
    """Solve (I - γ P_π) V = R_π with numpy, straight from the toy-text P (no library code)."""
    P_pi = np.zeros((n_states, n_states))
    R_pi = np.zeros(n_states)
    for s in range(n_states):
        for prob, nxt, reward, terminated in P[s][int(policy[s])]:
            R_pi[s] += prob * reward
            if not terminated:
                P_pi[s, nxt] += prob
    return np.linalg.solve(np.eye(n_states) - gamma * P_pi, R_pi)


@pytest.mark.parametrize("env_id, kwargs", [
    ("FrozenLake-v1", {}),  # 4x4, slippery
    ("FrozenLake8x8-v1", {}),
    ("FrozenLake8x8-v1", {"is_slippery": False}),
])
def test_value_and_policy_iteration_agree_with_the_exact_value_of_their_policy(env_id, kwargs):
    env = gym.make(env_id, **kwargs)
    n = env.observation_space.n
    v_vi, _, pi_vi, _ = solve("value_iteration", env, 0.99)
    v_pi, _, pi_pi, _ = solve("policy_iteration", env, 0.99)
    exact_vi = exact_policy_value(env.unwrapped.P, n, pi_vi, 0.99)
    exact_pi = exact_policy_value(env.unwrapped.P, n, pi_pi, 0.99)
    assert np.abs(v_vi - v_pi).max() < 1e-6
    assert np.abs(v_vi - exact_vi).max() < 1e-6
    assert np.abs(v_pi - exact_pi).max() < 1e-6
    assert np.abs(exact_vi - exact_pi).max() < 1e-6  # both policies are optimal
    assert v_vi[0] > 0.3  # the start has real value: the goal is reachable


def test_policy_evaluation_of_a_two_state_chain_by_hand():
    # s0 --any action--> s1 (reward 0); s1 --any action--> end (reward 1). γ = 0.5:
    # V(s1) = 1, V(s0) = 0 + 0.5 * 1 = 0.5
    P = {0: {0: [(1.0, 1, 0.0, False)], 1: [(1.0, 1, 0.0, False)]},
         1: {0: [(1.0, 1, 1.0, True)], 1: [(1.0, 1, 1.0, True)]}}
    T, R = model_arrays(P, 2, 2)
    V, _ = policy_evaluation(T, R, np.full((2, 2), 0.5), 0.5, 1e-12, 100)
    assert V.tolist() == pytest.approx([0.5, 1.0])


def test_gridworld_values_by_hand():
    # Lecture grid, γ = 0.9, deterministic: the cell below the goal is one step away (V = 1),
    # the start is 4 steps away (V = 0.9^3 = 0.729... the 4th step earns the +1).
    env = make_env("ganghwa/GridWorld-v0")
    V, _, _, _ = solve("value_iteration", env, 0.9)
    assert V[17] == pytest.approx(1.0)
    assert V[0] == pytest.approx(0.9 ** 5)  # around the traps: 6 steps, (0,0)->...->(2,2)


def test_roadtrip_goes_through_daejeon_for_85():
    env = make_env("ganghwa/RoadTrip-v0")
    V, Q, actions, _ = solve("value_iteration", env, 1.0)
    seoul, wonju, daejeon = 0, 1, 2
    assert actions[seoul] == daejeon
    assert V[seoul] == pytest.approx(-85.0)
    assert Q[seoul, daejeon] == pytest.approx(-85.0) and Q[seoul, wonju] == pytest.approx(-115.0)
    # the greedy route and its length, by walking the model
    s, route, total = seoul, [seoul], 0.0
    while True:
        _, s, reward, terminated = env.unwrapped.P[s][int(actions[s])][0]
        route.append(s)
        total += reward
        if terminated:
            break
    assert [env.unwrapped.state_labels[c] for c in route] == ["Seoul", "Daejeon", "Gwangju",
                                                             "Busan"]
    assert total == -85.0


def test_monte_carlo_first_visit_update_by_hand():
    agent = TabularAgent("FrozenLake-v1", algo="mc", gamma=0.5)
    # visits (0,1) twice: rewards 0, 0, then (5,2) with reward 1. Returns back to front:
    # G3 = 1, G2 = 0 + 0.5 = 0.5, G1 = 0 + 0.25 = 0.25. First visit of (0,1) is step 1.
    agent._monte_carlo_update([(0, 1, 0.0), (0, 1, 0.0), (5, 2, 1.0)], alpha=1.0)
    assert agent.q[0][1] == pytest.approx(0.25)
    assert agent.q[5][2] == pytest.approx(1.0)


def test_td_updates_by_hand():
    # One Q-learning and one SARSA update on a deterministic env: FrozenLake not slippery,
    # state 14 -> right -> 15 (goal, reward 1, terminal): Q(14, right) += α (1 - Q).
    for algo in ("q_learning", "sarsa", "expected_sarsa"):
        agent = TabularAgent("FrozenLake-v1", algo=algo, alpha=0.5, eval_every=0,
                             env_kwargs={"is_slippery": False}, eps_start=0.0, eps_end=0.0)
        agent.q[0][2] = 1.0  # greedy first move: right, to state 1 (reward 0)
        agent.q[1][1] = 0.8  # Q(1, down)
        agent.learn(1)
        # target = 0 + γ · bootstrap(1): all three see Q(1,·) = (0, 0.8, 0, 0) with ε = 0,
        # so max = SARSA's next action = the ε-greedy expectation = 0.8
        assert agent.q[0][2] == pytest.approx(1.0 + 0.5 * (0.99 * 0.8 - 1.0)), algo

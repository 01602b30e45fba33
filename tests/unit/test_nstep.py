"""n-step transitions from vector envs, against hand computations: inside an episode, across
a termination (no bootstrap), a time-limit truncation (bootstrap from the true final
observation with γ^m) and envs whose episodes end at different steps."""

import numpy as np

from ganghwa.buffers import NStepWindow

N, GAMMA = 3, 0.5


def step(window, obs, rewards, next_obs, terminated=None, truncated=None):
    none = [0] * len(obs)
    terminated = np.array(none if terminated is None else terminated, dtype=bool)
    truncated = np.array(none if truncated is None else truncated, dtype=bool)
    out = window.push(np.array(obs, dtype=np.float32)[:, None], np.array(obs) + 1000,
                      np.array(rewards, dtype=np.float64),
                      np.array(next_obs, dtype=np.float32)[:, None], terminated,
                      terminated | truncated)
    obs_out, actions, returns, next_out, term, discounts = out
    assert (actions == obs_out[:, 0] + 1000).all()  # each start keeps its own action
    return [(float(o[0]), float(g), float(n[0]), float(t), float(d))
            for o, g, n, t, d in zip(obs_out, returns, next_out, term, discounts, strict=True)]


def test_inside_an_episode_and_across_a_termination():
    w = NStepWindow(N, GAMMA, 1, (1,))
    assert step(w, [0], [1], [1]) == []
    assert step(w, [1], [2], [2]) == []
    # s0: 1 + 0.5·2 + 0.25·4 = 3, bootstrapped from s3 with 0.5³
    assert step(w, [2], [4], [3]) == [(0, 3.0, 3, 0, 0.125)]
    assert step(w, [3], [8], [4]) == [(1, 2 + 2 + 2, 4, 0, 0.125)]
    # terminated at s4 -> s5 with r = 16: the three left, no bootstrap (terminated = 1)
    assert step(w, [4], [16], [5], terminated=[1]) == [
        (2, 4 + 4 + 4, 5, 1, 0.125), (3, 8 + 8, 5, 1, 0.25), (4, 16, 5, 1, 0.5)]
    assert w.count.tolist() == [0]  # the next episode starts empty
    assert step(w, [10], [1], [11]) == []


def test_a_truncated_episode_bootstraps_from_its_final_observation():
    w = NStepWindow(N, GAMMA, 1, (1,))
    step(w, [0], [1], [1])
    # cut off by the time limit after two steps; 99 is the true final observation
    assert step(w, [1], [2], [99], truncated=[1]) == [(0, 1 + 1, 99, 0, 0.25),
                                                       (1, 2, 99, 0, 0.5)]


def test_vector_envs_keep_their_episodes_apart():
    w = NStepWindow(N, GAMMA, 2, (1,))
    assert step(w, [0, 100], [1, 10], [1, 101], terminated=[0, 0]) == []
    # env 0 terminates after two steps; env 1 goes on
    assert step(w, [1, 101], [2, 20], [2, 102], terminated=[1, 0]) == [
        (0, 1 + 1, 2, 1, 0.25), (1, 2, 2, 1, 0.5)]
    # env 0's new episode starts from its reset observation 50; env 1's window is full now
    assert step(w, [50, 102], [4, 40], [51, 103], terminated=[0, 0]) == [
        (100, 10 + 10 + 10, 103, 0, 0.125)]
    # env 1 is cut off by its time limit: its three left, bootstrapped from 104; env 0 holds
    assert step(w, [51, 103], [8, 80], [52, 104], truncated=[0, 1]) == [
        (101, 20 + 20 + 20, 104, 0, 0.125), (102, 40 + 40, 104, 0, 0.25), (103, 80, 104, 0, 0.5)]
    assert w.count.tolist() == [2, 0]


def test_two_envs_ending_at_once_each_flush_their_own():
    w = NStepWindow(2, 1.0, 2, (1,))
    step(w, [0, 100], [1, 10], [1, 101], terminated=[0, 0])
    out = step(w, [1, 101], [2, 20], [9, 109], terminated=[1, 0], truncated=[0, 1])
    assert sorted(out) == [(0, 3, 9, 1, 1), (1, 2, 9, 1, 1),
                           (100, 30, 109, 0, 1), (101, 20, 109, 0, 1)]


def test_n_equal_one_is_the_one_step_transition():
    w = NStepWindow(1, 0.9, 1, (1,))
    assert step(w, [0], [5], [1]) == [(0, 5, 1, 0, 0.9)]
    assert step(w, [1], [7], [2], terminated=[1]) == [(1, 7, 2, 1, 0.9)]

"""The Stable-Baselines3-style API, and the replay data collected from vector envs."""

import numpy as np
import pytest

from ganghwa import DQN
from ganghwa.checkpoint import load_checkpoint, load_policy
from ganghwa.errors import GanghwaError


def test_save_load_predict_round_trip(tmp_path):
    model = DQN("CartPole-v1", hidden=(16,), seed=2, learning_starts=100, total_steps=400)
    model.learn()
    model.save(tmp_path / "m.pt")
    loaded = DQN.load(tmp_path / "m.pt")
    obs = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    actions, state = model.predict(obs)
    assert state is None and actions.shape == (32,)
    assert np.array_equal(loaded.predict(obs)[0], actions)
    assert np.array_equal(load_policy(load_checkpoint(tmp_path / "m.pt"))(obs), actions)
    single, _ = loaded.predict(obs[0])
    assert single == actions[0]


def test_mismatched_network_is_a_one_line_error(tmp_path):
    DQN("CartPole-v1", hidden=(16,)).save(tmp_path / "m.pt")
    with pytest.raises(GanghwaError, match="does not match"):
        DQN.load(tmp_path / "m.pt", hidden=(32,))


def test_vector_envs_store_the_true_last_observation_at_episode_ends():
    # With SAME_STEP autoreset the env returns the next episode's first observation; the replay
    # memory must hold the terminal one. CartPole terminates when |x| > 2.4 or |theta| > 12°,
    # so every stored terminal transition must violate one of those bounds (and none other).
    model = DQN("CartPole-v1", num_envs=3, hidden=(8,), learning_starts=10**9, seed=1)
    model.learn(3_000)
    buf = model.replay_buffer
    terminated = buf.terminated[: len(buf)] == 1.0
    next_obs = buf.next_obs[: len(buf)]
    out_of_bounds = (np.abs(next_obs[:, 0]) > 2.4) | (np.abs(next_obs[:, 2]) > 12 * np.pi / 360 * 2)
    assert terminated.sum() > 50 and model.episode >= terminated.sum()
    assert np.array_equal(terminated, out_of_bounds)
    assert model.step == 3_000  # 1000 steps of 3 envs

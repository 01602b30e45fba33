import numpy as np
import pytest
import torch

from ganghwa.checkpoint import load_checkpoint, save_checkpoint
from ganghwa.envs import make_vec_env, restore_env_state, snapshot_env_state
from ganghwa.errors import GanghwaError
from ganghwa.plots import moving_average


def test_checkpoint_round_trip_with_plain_data_and_big_ints(tmp_path):
    rng = np.random.default_rng(3)
    state = {"w": torch.arange(3.0), "rng": rng.bit_generator.state, "none": None}
    save_checkpoint(state, tmp_path / "c.pt")
    loaded = load_checkpoint(tmp_path / "c.pt")
    assert torch.equal(loaded["w"], state["w"]) and loaded["rng"] == state["rng"]
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left


def test_corrupt_checkpoint_is_a_one_line_error(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(GanghwaError, match="corrupt"):
        load_checkpoint(tmp_path / "bad.pt")


def test_cartpole_state_snapshot_restores_the_same_future():
    envs, _ = make_vec_env("CartPole-v1", 2, seed=5)
    for _ in range(30):  # cross at least one autoreset
        envs.step(np.array([0, 1]))
    snapshot = snapshot_env_state(envs)
    assert snapshot is not None
    actions = [np.array([i % 2, (i // 3) % 2]) for i in range(60)]
    expected = [envs.step(a)[:3] for a in actions]
    other, _ = make_vec_env("CartPole-v1", 2, seed=999)
    restore_env_state(other, snapshot)
    for a, (obs, rew, term) in zip(actions, expected, strict=True):
        o, r, t, *_ = other.step(a)
        assert np.array_equal(o, obs) and np.array_equal(r, rew) and np.array_equal(t, term)


def test_box2d_env_is_reported_not_restorable():
    envs, _ = make_vec_env("LunarLander-v3", 1, seed=0)
    assert snapshot_env_state(envs) is None


def test_moving_average_by_hand():
    out = moving_average(np.array([1.0, 3.0, 5.0, 7.0]), window=2)
    assert out.tolist() == [1.0, 2.0, 4.0, 6.0]

import numpy as np
import torch

from ganghwa.buffers import ReplayBuffer


def _add(buf: ReplayBuffer, values: list[float]) -> None:
    n = len(values)
    obs = np.array(values, dtype=np.float32)[:, None].repeat(2, axis=1)
    buf.add(obs, np.arange(n), np.array(values, np.float32), obs + 100, np.zeros(n))


def test_ring_buffer_wraps_and_overwrites_oldest():
    buf = ReplayBuffer(3, (2,))
    _add(buf, [1.0, 2.0])
    assert len(buf) == 2 and buf.pos == 2
    _add(buf, [3.0, 4.0])  # 4 overwrites slot 0, which held 1
    assert len(buf) == 3 and buf.pos == 1
    assert buf.rewards.tolist() == [4.0, 2.0, 3.0]
    assert buf.next_obs[0].tolist() == [104.0, 104.0]
    _add(buf, [5.0, 6.0, 7.0, 8.0])  # more than capacity in one call: the last 3 stay
    assert sorted(buf.rewards.tolist()) == [6.0, 7.0, 8.0]


def test_sample_only_returns_stored_transitions_consistently():
    buf = ReplayBuffer(10, (2,))
    _add(buf, [1.0, 2.0, 3.0])
    batch = buf.sample(64, np.random.default_rng(0))
    assert batch.obs.shape == (64, 2) and batch.actions.dtype == torch.int64
    assert set(batch.rewards.tolist()) <= {1.0, 2.0, 3.0}
    # fields of one transition stay together
    assert torch.equal(batch.obs[:, 0], batch.rewards)
    assert torch.equal(batch.next_obs[:, 0], batch.rewards + 100)


def test_state_dict_round_trip():
    buf = ReplayBuffer(4, (2,))
    _add(buf, [1.0, 2.0, 3.0, 4.0, 5.0])
    other = ReplayBuffer(4, (2,))
    other.load_state_dict(buf.state_dict())
    assert other.pos == buf.pos and len(other) == len(buf)
    assert np.array_equal(other.obs, buf.obs) and np.array_equal(other.rewards, buf.rewards)

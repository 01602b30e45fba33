import numpy as np
import pytest
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


# ---------------------------------------------------------------- FrameReplayBuffer


class _Frames:
    """An env whose every frame is unique: a 2x2 image filled with a running counter, and
    episodes of random length that end by termination or by truncation."""

    def __init__(self, seed: int):
        import gymnasium as gym

        self.observation_space = gym.spaces.Box(0, 255, (2, 2), np.uint8)
        self.action_space = gym.spaces.Discrete(2)
        self.rng = np.random.default_rng(seed)
        self.counter = seed * 100  # two envs never share a frame value

    def frame(self) -> np.ndarray:
        self.counter = (self.counter + 1) % 251
        return np.full((2, 2), self.counter, np.uint8)

    def reset(self, **_):
        self.left = int(self.rng.integers(1, 7))
        return self.frame(), {}

    def step(self, action):
        self.left -= 1
        end = self.left == 0
        terminated = end and self.rng.random() < 0.5
        return self.frame(), 1.0, terminated, end and not terminated, {}


def test_frame_buffer_rebuilds_framestack_observations_across_episode_boundaries():
    """Every sampled (obs, next_obs) equals what gymnasium's FrameStackObservation showed."""
    import gymnasium as gym

    from ganghwa.buffers import FrameReplayBuffer

    k, n_envs = 4, 2
    envs = []
    for e in range(n_envs):
        base = _Frames(e)
        env = gym.Env.__new__(gym.Env)  # a bare Env around _Frames, for the wrapper
        env.observation_space, env.action_space = base.observation_space, base.action_space
        env.reset, env.step = base.reset, base.step  # type: ignore[method-assign]
        envs.append(gym.wrappers.FrameStackObservation(env, k))
    buf = FrameReplayBuffer(120, (k, 2, 2), num_envs=n_envs)
    seen = {}  # action id -> (obs, reward, next_obs, terminated) as the wrapper gave them
    obs = np.stack([env.reset()[0] for env in envs])
    for t in range(150):  # more than the capacity: the ring wraps
        ids = np.array([2 * t, 2 * t + 1])
        nexts, terms, ends, finals = [], [], [], []
        for e, env in enumerate(envs):
            nxt, reward, terminated, truncated, _ = env.step(0)
            seen[int(ids[e])] = (obs[e].copy(), reward, nxt.copy(), float(terminated))
            finals.append(nxt)
            ends.append(terminated or truncated)
            terms.append(terminated)
            nexts.append(env.reset()[0] if terminated or truncated else nxt)
        buf.add(obs, ids, np.ones(n_envs), np.stack(finals), np.array(terms), np.array(ends))
        obs = np.stack(nexts)
    batch = buf.sample(2000, np.random.default_rng(0))
    assert batch.obs.shape == (2000, k, 2, 2) and batch.obs.dtype == torch.uint8
    oldest = 2 * 150 - buf.capacity  # transitions older than this were overwritten
    starts_of_episodes = 0
    for i in range(2000):
        o, r, nxt, term = seen[int(batch.actions[i])]
        assert np.array_equal(batch.obs[i].numpy(), o)
        assert np.array_equal(batch.next_obs[i].numpy(), nxt)
        assert float(batch.terminated[i]) == term and float(batch.rewards[i]) == r
        assert int(batch.actions[i]) >= oldest - 2 * k
        starts_of_episodes += int((o[0] == o[1]).all())  # padded with the first frame
    assert starts_of_episodes > 100  # the boundaries were sampled, not avoided


def test_frame_buffer_stores_each_frame_once():
    from ganghwa.buffers import FrameReplayBuffer

    buf = FrameReplayBuffer(100_000, (4, 84, 84))
    assert buf.frames.nbytes == 100_000 * 84 * 84  # 0.71 GB, against 5.6 GB for obs+next_obs
    assert buf.nbytes < 1.5e9


def _stack_add(buf, frames_seen, value, action, end=False, terminated=False):
    """Add one transition whose newest frame is `value` (2x2) and next frame value + 1."""
    obs = np.full((1, 4, 2, 2), value, np.uint8)
    nxt = np.full((1, 4, 2, 2), value + 1, np.uint8)
    buf.add(obs, np.array([action]), np.zeros(1), nxt, np.array([terminated]), np.array([end]))


def test_frame_buffer_len_counts_complete_transitions_and_breaks_episodes_on_reset():
    from ganghwa.buffers import FrameReplayBuffer

    buf = FrameReplayBuffer(50, (4, 2, 2))
    for t in range(3):  # an episode in progress: frames 10, 11, 12
        _stack_add(buf, None, 10 + t, action=t)
    assert len(buf) == 2  # the newest awaits its next frame
    buf.break_episodes()  # the env was reset behind the buffer's back (a resume)
    assert len(buf) == 2
    for t in range(3):  # a new episode: frames 50, 51, 52
        _stack_add(buf, None, 50 + t, action=10 + t)
    batch = buf.sample(500, np.random.default_rng(0))
    by_action = {int(a): (o.numpy(), n.numpy()) for a, o, n in
                 zip(batch.actions, batch.obs, batch.next_obs, strict=True)}
    assert 2 not in by_action  # its next frame was lost to the reset: never sampled
    assert set(by_action) == {0, 1, 10, 11}
    obs, nxt = by_action[10]  # the new episode's stacks are padded with its own first frame
    assert obs[:, 0, 0].tolist() == [50, 50, 50, 50] and nxt[:, 0, 0].tolist() == [50, 50, 50, 51]
    obs, nxt = by_action[1]
    assert obs[:, 0, 0].tolist() == [10, 10, 10, 11] and nxt[:, 0, 0].tolist() == [10, 10, 11, 12]


def test_frame_buffer_checkpoint_holds_only_written_slots_and_restores():
    from ganghwa.buffers import FrameReplayBuffer

    buf = FrameReplayBuffer(1000, (4, 2, 2))
    for t in range(5):
        _stack_add(buf, None, t, action=t, end=t == 4, terminated=t == 4)
    state = buf.state_dict()
    assert state["frames"].shape == (1, 6, 2, 2)  # 5 steps and the final frame, not 1000
    copy = FrameReplayBuffer(1000, (4, 2, 2))
    copy.load_state_dict(state)
    a = buf.sample(64, np.random.default_rng(1))
    b = copy.sample(64, np.random.default_rng(1))
    assert all(torch.equal(x, y) if x is not None else y is None
               for x, y in zip(a, b, strict=True)) and len(copy) == 5


# -------------------------------------------- FrameReplayBuffer: n-step and prioritized keys


def _drive_frames(buf, steps: int, k: int, n_envs: int, seed: int, on_add=None):
    """Feed `buf` from FrameStackObservation-wrapped _Frames envs with random rewards; give
    back each env's record of steps (id, obs, reward, next_obs, terminated, end)."""
    import gymnasium as gym

    rng = np.random.default_rng(seed)
    envs = []
    for e in range(n_envs):
        base = _Frames(e + 3 * seed)
        env = gym.Env.__new__(gym.Env)
        env.observation_space, env.action_space = base.observation_space, base.action_space
        env.reset, env.step = base.reset, base.step  # type: ignore[method-assign]
        envs.append(gym.wrappers.FrameStackObservation(env, k))
    record: list[list[tuple]] = [[] for _ in range(n_envs)]
    obs = np.stack([env.reset()[0] for env in envs])
    for t in range(steps):
        ids = np.arange(n_envs) + n_envs * t
        rewards = rng.normal(size=n_envs).round(2)
        nexts, finals, terms, ends = [], [], [], []
        for e, env in enumerate(envs):
            nxt, _, terminated, truncated, _ = env.step(0)
            end = terminated or truncated
            record[e].append((int(ids[e]), obs[e].copy(), float(rewards[e]), nxt.copy(),
                              float(terminated), end))
            finals.append(nxt)
            terms.append(terminated)
            ends.append(end)
            nexts.append(env.reset()[0] if end else nxt)
        out = buf.add(obs, ids, rewards, np.stack(finals), np.array(terms), np.array(ends))
        if on_add is not None:
            on_add(*out)
        obs = np.stack(nexts)
    return record


def _expected_n_step(record, n: int, gamma: float, slots: int, k: int) -> dict:
    """From the record alone: id -> (obs, G, next_obs, terminated, γ^m) for every transition
    whose n steps (or its episode's end) were seen and whose frames the ring still holds."""
    expected = {}
    for steps in record:
        frame_of, written, first = [], 0, 0  # each step's frame index in the env's ring
        for p, step in enumerate(steps):
            if p == 0 or steps[p - 1][5]:
                first = written
            frame_of.append((written, first))
            written += 1 + step[5]  # an end adds the final frame
        for p, (ident, obs, _, _, _, _) in enumerate(steps):
            m = next((j + 1 for j in range(n) if p + j < len(steps) and steps[p + j][5]), n)
            last = p + m - 1
            if last >= len(steps) or (not steps[last][5] and last + 1 >= len(steps)):
                continue  # the frame after the last step is not in the buffer yet
            frame, first = frame_of[p]
            if max(frame - k + 1, first) < written - slots:
                continue  # its oldest frame was overwritten
            ret = sum(gamma ** j * steps[p + j][2] for j in range(m))
            expected[ident] = (obs, ret, steps[last][3], steps[last][4], gamma ** m)
    return expected


def _check_batch(batch, expected) -> set:
    for i in range(len(batch.actions)):
        obs, ret, nxt, term, discount = expected[int(batch.actions[i])]
        assert np.array_equal(batch.obs[i].numpy(), obs)
        assert np.array_equal(batch.next_obs[i].numpy(), nxt)
        assert abs(float(batch.rewards[i]) - ret) < 1e-5
        assert float(batch.terminated[i]) == term
        if batch.discounts is not None:
            assert abs(float(batch.discounts[i]) - discount) < 1e-6
    return set(batch.actions.tolist())


def test_frame_buffer_n_step_transitions_match_the_episodes_as_played():
    """n = 3: sums of three rewards inside episodes, fewer at terminations and truncations
    (bootstrapped from the true final frame), and never across an episode or an env."""
    from ganghwa.buffers import FrameReplayBuffer

    k, n, gamma = 4, 3, 0.9
    buf = FrameReplayBuffer(120, (k, 2, 2), num_envs=2, n_step=n, gamma=gamma)
    record = _drive_frames(buf, 150, k, 2, seed=1)
    expected = _expected_n_step(record, n, gamma, buf.slots, k)
    seen = _check_batch(buf.sample(3000, np.random.default_rng(0)), expected)
    assert seen == set(expected)  # every complete transition is reachable, no other
    short = {i for i, e in expected.items() if e[4] != gamma ** n}
    assert len(short & seen) > 20  # the episode ends were sampled, with m < n
    assert len(buf) >= len(expected)  # (it also counts stacks already partly overwritten)


def test_frame_buffer_keys_of_complete_transitions_for_prioritized_replay():
    """The keys `add` reports as complete, less those it reports stale, are exactly the
    transitions that can still be rebuilt, each as played, with n = 1 and n = 3."""
    from ganghwa.buffers import FrameReplayBuffer
    from ganghwa.priority import Priorities

    for n in (1, 3):
        k, gamma = 4, 0.99
        buf = FrameReplayBuffer(60, (k, 2, 2), num_envs=2, n_step=n, gamma=gamma)
        priorities = Priorities(buf.capacity, alpha=0.6, beta=0.4, eps=1e-6)

        def on_add(fresh, stale, priorities=priorities):
            priorities.removed(np.asarray(stale, dtype=np.int64))
            priorities.added(np.asarray(fresh, dtype=np.int64))

        record = _drive_frames(buf, 203, k, 2, seed=2, on_add=on_add)
        expected = _expected_n_step(record, n, gamma, buf.slots, k)
        keyed = np.flatnonzero(priorities.tree.priorities(np.arange(buf.capacity)) > 0)
        assert _check_batch(buf.gather(keyed), expected) == set(expected)
        assert len(keyed) == len(expected)
        slots, weights = priorities.sample(256, len(buf), np.random.default_rng(0), 0.5)
        _check_batch(buf.gather(slots), expected)  # sampled keys are all live transitions
        assert np.allclose(weights, 1.0)  # all at the same (largest) priority yet

        # A reset behind the buffer's back: each env's newest frame becomes a final frame, as
        # if the step before it had been truncated there.
        before = len(keyed)
        priorities.added(np.asarray(buf.break_episodes(), dtype=np.int64))
        for steps in record:
            if not steps[-1][5] and not steps[-2][5]:  # (a lone first step stays lone)
                last = steps.pop()
                ident, obs, reward, _, terminated, _ = steps[-1]
                steps[-1] = (ident, obs, reward, last[1], terminated, True)
        expected = _expected_n_step(record, n, gamma, buf.slots, k)
        keyed = np.flatnonzero(priorities.tree.priorities(np.arange(buf.capacity)) > 0)
        assert _check_batch(buf.gather(keyed), expected) == set(expected)
        assert len(keyed) > before or n == 1  # n = 1: the newest were complete already


def test_a_wrapped_frame_ring_refuses_a_buffer_of_another_size():
    from ganghwa.buffers import FrameReplayBuffer

    small = FrameReplayBuffer(20, (4, 2, 2))
    for t in range(30):  # 30 slots written into 20: wrapped
        _stack_add(small, None, t, action=t)
    other = FrameReplayBuffer(40, (4, 2, 2))
    with pytest.raises(ValueError, match="had wrapped"):
        other.load_state_dict(small.state_dict())
    same = FrameReplayBuffer(20, (4, 2, 2))
    same.load_state_dict(small.state_dict())
    assert len(same) == len(small)

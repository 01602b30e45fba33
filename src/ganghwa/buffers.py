"""Replay memory: one preallocated ring of numpy arrays, sampled by index.

Writes go to numpy (cheap for a handful of floats per step); reads go through torch views of
the same memory, so sampling a batch is one gather per field and no copy through Python lists.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ganghwa.resources import require_memory


class Batch(NamedTuple):
    """A sampled minibatch: obs, actions, rewards, next_obs, terminated (1.0 = no bootstrap),
    and, for n-step returns, each transition's discount γ^m of its bootstrap (m ≤ n steps)."""

    obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor
    discounts: torch.Tensor | None = None


class ReplayBuffer:
    """Fixed-capacity FIFO of transitions; the oldest are overwritten first. With
    `discounts=True` each transition also keeps the discount of its bootstrap (n-step)."""

    def __init__(self, capacity: int, obs_shape: tuple[int, ...],
                 obs_dtype: np.dtype | type = np.float32, device: torch.device | str = "cpu",
                 discounts: bool = False):
        self.capacity = capacity
        self.device = torch.device(device)
        self.FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated") + (
            ("discounts",) if discounts else ())
        per_transition = (2 * int(np.prod(obs_shape)) * np.dtype(obs_dtype).itemsize + 8 + 4 + 4
                          + 4 * discounts)
        require_memory(capacity * per_transition, f"a replay buffer of {capacity:,} transitions",
                       "use a smaller --set buffer_size=...")
        self.obs = np.zeros((capacity, *obs_shape), dtype=obs_dtype)
        self.next_obs = np.zeros((capacity, *obs_shape), dtype=obs_dtype)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.discounts = np.zeros(capacity if discounts else 0, dtype=np.float32)
        self._views = {name: torch.from_numpy(getattr(self, name)) for name in self.FIELDS}
        self.pos = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
            next_obs: np.ndarray, terminated: np.ndarray, ends: np.ndarray | None = None,
            discounts: np.ndarray | None = None) -> None:
        """Store a batch of n transitions (one per vector env), wrapping around at capacity.
        (`ends`, where episodes ended, matters only to FrameReplayBuffer.)"""
        n = len(actions)
        idx = (self.pos + np.arange(n)) % self.capacity if self.pos + n > self.capacity \
            else slice(self.pos, self.pos + n)
        self.obs[idx] = obs
        self.actions[idx] = actions
        self.rewards[idx] = rewards
        self.next_obs[idx] = next_obs
        self.terminated[idx] = terminated
        if self.discounts.size:
            assert discounts is not None, "this buffer keeps each transition's discount"
            self.discounts[idx] = discounts
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def slots(self, n: int) -> np.ndarray:
        """The slots the next add() of n transitions writes (prioritized replay's keys)."""
        return (self.pos + np.arange(n)) % self.capacity

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """Uniform sample with replacement, as in DQN (Mnih et al. 2015) and SB3."""
        return self.gather(rng.integers(0, self.size, size=batch_size))

    def gather(self, slots: np.ndarray) -> Batch:
        """The transitions in `slots`, as one Batch on the buffer's device."""
        idx = torch.from_numpy(np.asarray(slots, dtype=np.int64))
        rows = [torch.index_select(self._views[name], 0, idx) for name in self.FIELDS]
        if self.device.type != "cpu":
            rows = [r.to(self.device, non_blocking=True) for r in rows]
        return Batch(*rows)

    def state_dict(self) -> dict[str, object]:
        """The filled part as tensors (checkpoints load with weights_only=True)."""
        return {"pos": self.pos, "size": self.size,
                **{name: self._views[name][: self.size].clone() for name in self.FIELDS}}

    def load_state_dict(self, state: dict[str, object]) -> None:
        size = int(state["size"])  # type: ignore[call-overload]
        if size > self.capacity:
            raise ValueError(f"buffer holds {size} transitions, capacity is {self.capacity}")
        for name in self.FIELDS:
            tensor = state[name]
            assert isinstance(tensor, torch.Tensor)
            self._views[name][:size] = tensor
        self.size, self.pos = size, int(state["pos"])  # type: ignore[call-overload]


def discounted_returns(rewards: np.ndarray, episode_ends: np.ndarray, gamma: float
                       ) -> np.ndarray:
    """Reward-to-go G_t = r_t + γ G_{t+1} over a run of transitions, restarting at episode ends.

    `episode_ends[t]` is true when the episode finished at t, terminated or cut off by a time
    limit: Monte Carlo returns stop where the data stops.
    """
    returns = np.zeros(len(rewards), dtype=np.float64)
    g = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        g = float(rewards[t]) + (0.0 if episode_ends[t] else gamma * g)
        returns[t] = g
    return returns


def compute_gae(rewards: np.ndarray, values: np.ndarray, next_values: np.ndarray,
                terminated: np.ndarray, ends: np.ndarray, gamma: float, lam: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimates (Schulman et al. 2016) and returns, for (T, n_envs) arrays.

        δ_t = r_t + γ (1 - terminated_t) V(s'_t) - V(s_t)
        A_t = δ_t + γ λ (1 - end_t) A_{t+1}          returns = A + V

    `next_values[t]` is V of the true next state, the last observation of an episode that
    ended at t (cut off by a time limit, it is still bootstrapped; terminated, it is not).
    λ = 1 gives n-step returns to the end of the rollout, λ = 0 one-step TD.
    """
    advantages = np.zeros_like(rewards, dtype=np.float64)
    last = np.zeros(rewards.shape[1:], dtype=np.float64)
    for t in range(len(rewards) - 1, -1, -1):
        delta = rewards[t] + gamma * (1.0 - terminated[t]) * next_values[t] - values[t]
        last = delta + gamma * lam * (1.0 - ends[t]) * last
        advantages[t] = last
    return advantages, advantages + values


class NStepWindow:
    """One-step transitions of vector envs in, n-step transitions out (Sutton & Barto 7.1):

        (s_t, a_t, G = r_t + γ r_{t+1} + ... + γ^(m-1) r_{t+m-1}, s_{t+m}, terminated, γ^m)

    m = n while the episode goes on. When it ends at step t+m-1 (m ≤ n), every transition
    still in the window is given out with the rewards up to the end: after a termination with
    terminated = 1 (no bootstrap), after a time-limit truncation with terminated = 0 and
    s_{t+m} the true final observation, bootstrapped with γ^m. Each env has its own window, so
    episodes of different envs never mix. Written here because Gymnasium has no such wrapper
    (its vector envs hand back one step) and SB3 has no n-step replay.
    """

    def __init__(self, n: int, gamma: float, num_envs: int, obs_shape: tuple[int, ...],
                 obs_dtype: np.dtype | type = np.float32):
        self.n, self.gamma = n, gamma
        self.obs = np.zeros((num_envs, n, *obs_shape), dtype=obs_dtype)
        self.actions = np.zeros((num_envs, n), dtype=np.int64)
        self.rewards = np.zeros((num_envs, n), dtype=np.float64)
        self.count = np.zeros(num_envs, dtype=np.int64)  # transitions held per env
        self.head = np.zeros(num_envs, dtype=np.int64)  # ring slot of each env's oldest
        self.powers = gamma ** np.arange(n + 1)

    def push(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
             next_obs: np.ndarray, terminated: np.ndarray, ends: np.ndarray
             ) -> tuple[np.ndarray, ...]:
        """Take one step of every env; give out (obs, actions, returns, next_obs, terminated,
        discounts) of the n-step transitions that are complete now (none, or some)."""
        envs = np.arange(len(actions))
        slot = (self.head + self.count) % self.n
        self.obs[envs, slot] = obs
        self.actions[envs, slot] = actions
        self.rewards[envs, slot] = rewards
        self.count += 1
        out_env: list[int] = []
        out_start: list[int] = []
        out_len: list[int] = []
        for e in np.flatnonzero(ends):  # flush: every start, to the end of the episode
            c = int(self.count[e])
            out_env += [int(e)] * c
            out_start += [(int(self.head[e]) + j) % self.n for j in range(c)]
            out_len += [c - j for j in range(c)]
        full = np.flatnonzero((self.count == self.n) & ~ends.astype(bool))
        out_env += full.tolist()
        out_start += self.head[full].tolist()
        out_len += [self.n] * len(full)
        env = np.array(out_env, dtype=np.int64)
        start = np.array(out_start, dtype=np.int64)
        length = np.array(out_len, dtype=np.int64)
        k = np.arange(self.n)
        ring = (start[:, None] + k[None, :]) % self.n
        mask = k[None, :] < length[:, None]
        returns = (self.rewards[env[:, None], ring] * self.powers[:self.n] * mask).sum(axis=1)
        result = (self.obs[env, start], self.actions[env, start], returns, next_obs[env],
                  np.asarray(terminated, dtype=np.float32)[env] * ends[env],
                  self.powers[length])
        self.head[full] = (self.head[full] + 1) % self.n
        self.count[full] -= 1
        done = np.flatnonzero(ends)
        self.count[done] = 0
        self.head[done] = 0
        return result

    def state_dict(self) -> dict[str, object]:
        return {name: torch.from_numpy(getattr(self, name).copy())
                for name in ("obs", "actions", "rewards", "count", "head")}

    def load_state_dict(self, state: dict[str, object]) -> None:
        for name in ("obs", "actions", "rewards", "count", "head"):
            tensor = state[name]
            assert isinstance(tensor, torch.Tensor)
            getattr(self, name)[...] = tensor.numpy()


class FrameReplayBuffer:
    """Replay memory for stacked frames that stores each frame once (uint8), not k times.

    A stacked observation (k, H, W) shares k-1 frames with the one before it. Each env gets a
    ring of frame slots, one per step (the newest frame of each observation), plus one slot at
    each episode end for the final frame, which no action is taken from. A stack is rebuilt
    from the k slots ending at its own, with frames from before the episode's first slot
    replaced by that first frame: what gymnasium's FrameStackObservation (padding "reset")
    shows at the start of an episode. So 100k transitions of 4×84×84 take ~0.7 GB, not 5.6.

    With `n_step` > 1 the n-step transition of a slot is read off the ring at sample time, as
    its following slots already hold the rewards and frames: m = n, or fewer where a final
    frame comes sooner; G = Σ_{j<m} γ^j r, next_obs the stack at slot + m, discount γ^m. (The
    streaming NStepWindow would need a stack per transition, which is what this buffer avoids.)

    Same interface as ReplayBuffer: add a batch of n transitions (one per env), sample Batch.
    For prioritized replay, `add` returns the keys (env · slots + ring index) of transitions
    that became complete, and of those that can no longer be rebuilt (their oldest frame was
    overwritten); `gather(keys)` reads a batch by key.
    """

    FIELDS = ("frames", "actions", "rewards", "terminated", "episode_first", "is_transition")

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], num_envs: int = 1,
                 device: torch.device | str = "cpu", n_step: int = 1, gamma: float = 0.99):
        self.stack, *frame_shape = obs_shape
        self.num_envs = num_envs
        self.n_step = n_step
        self.powers = gamma ** np.arange(n_step + 1)
        self.slots = max(capacity // num_envs, self.stack + n_step + 2)  # per env
        self.capacity = self.slots * num_envs
        self.device = torch.device(device)
        shape = (num_envs, self.slots)
        per_slot = int(np.prod(frame_shape)) + 8 + 4 + 4 + 8 + 1
        require_memory(self.capacity * per_slot, f"a replay buffer of {self.capacity:,} frames",
                       "use a smaller --set buffer_size=...")
        self.frames = np.zeros((*shape, *frame_shape), dtype=np.uint8)
        self.actions = np.zeros(shape, dtype=np.int64)
        self.rewards = np.zeros(shape, dtype=np.float32)
        self.terminated = np.zeros(shape, dtype=np.float32)
        self.episode_first = np.zeros(shape, dtype=np.int64)  # absolute slot of its first frame
        self.is_transition = np.zeros(shape, dtype=bool)
        self.written = np.zeros(num_envs, dtype=np.int64)  # slots written per env, ever
        self._in_episode = np.zeros(num_envs, dtype=bool)
        self._first = np.zeros(num_envs, dtype=np.int64)
        self._frames_view = torch.from_numpy(self.frames)
        self._fresh: list[int] = []  # keys completed / made stale by the add in progress
        self._stale: list[int] = []

    def __len__(self) -> int:
        """Complete transitions held: transition slots, less those still awaiting their next
        frames (the newest n of an env whose episode goes on)."""
        waiting = 0
        for env in range(self.num_envs):
            if self._in_episode[env]:
                waiting += min(self.n_step, int(self.written[env] - self._first[env]))
        return int(self.is_transition.sum()) - waiting

    def _completed(self, env: int, final: int, through: int) -> None:
        """Slots final-through .. final-1 of env's episode are complete now that the frame
        at absolute slot `final` ends it (clipped to the episode's first slot)."""
        start = max(int(self._first[env]), final - through)
        self._fresh += [env * self.slots + s % self.slots for s in range(start, final)]

    def break_episodes(self) -> list[int]:
        """The envs were reset without the buffer seeing the episodes end (a resumed run whose
        env state could not be restored): the newest transitions lose their next frame, and
        the frame they stop at serves as the final frame of those before it. Returns the keys
        that this completes (for prioritized replay)."""
        self._fresh = []
        for env in range(self.num_envs):
            if self._in_episode[env] and self.written[env]:
                newest = int(self.written[env]) - 1
                self.is_transition[env, newest % self.slots] = False
                self._completed(env, newest, self.n_step - 1)
            self._in_episode[env] = False
        return self._fresh

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self.FIELDS)

    def _write(self, env: int, frame: np.ndarray, transition: bool) -> int:
        slot = int(self.written[env])
        gone = slot - self.slots  # the absolute slot this write overwrites
        if gone >= 0:  # transitions whose stack reaches back to it can no longer be rebuilt
            for s in range(gone, min(gone + self.stack, slot)):
                if max(s - self.stack + 1, int(self.episode_first[env, s % self.slots])) <= gone:
                    self._stale.append(env * self.slots + s % self.slots)
        i = slot % self.slots
        self.frames[env, i] = frame
        self.episode_first[env, i] = self._first[env]
        self.is_transition[env, i] = transition
        self.written[env] += 1
        return i

    def add(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
            next_obs: np.ndarray, terminated: np.ndarray, ends: np.ndarray | None = None
            ) -> tuple[list[int], list[int]]:
        """n transitions; `ends[i]` (terminated or truncated) closes env i's episode, whose
        final frame (next_obs[i]'s newest) then gets its own slot. Returns the keys that
        became complete, and those that became stale."""
        ends = terminated.astype(bool) if ends is None else ends
        self._fresh, self._stale = [], []
        for env in range(self.num_envs):
            if not self._in_episode[env]:  # the first observation of an episode
                self._first[env] = self.written[env]
                self._in_episode[env] = True
            i = self._write(env, obs[env, -1], True)
            self.actions[env, i] = actions[env]
            self.rewards[env, i] = rewards[env]
            self.terminated[env, i] = terminated[env]
            s = int(self.written[env]) - 1 - self.n_step  # its n-th frame is this one
            if s >= self._first[env]:
                self._fresh.append(env * self.slots + s % self.slots)
            if ends[env]:
                self._write(env, next_obs[env, -1], False)
                self._completed(env, int(self.written[env]) - 1, self.n_step)
                self._in_episode[env] = False
        return self._fresh, self._stale

    def _stacks(self, env: np.ndarray, slot: np.ndarray, first: np.ndarray) -> torch.Tensor:
        """(n, k, H, W) stacks ending at absolute slots `slot`, padded with the first frame."""
        back = np.arange(self.stack - 1, -1, -1)
        slots = np.maximum(slot[:, None] - back[None, :], first[:, None]) % self.slots
        flat = torch.from_numpy((env[:, None] * self.slots + slots).reshape(-1))
        frames = self._frames_view.reshape(-1, *self.frames.shape[2:])
        return torch.index_select(frames, 0, flat).reshape(len(slot), self.stack,
                                                           *self.frames.shape[2:])

    def _ends(self, env: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """(n, n_step) flags: slot + j (j = 1..n_step) is a written final frame."""
        ahead = slot[:, None] + np.arange(1, self.n_step + 1)[None, :]
        return ~self.is_transition[env[:, None], ahead % self.slots] \
            & (ahead < self.written[env][:, None])

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """Uniform over stored transitions whose stacks and next frames are all still held."""
        env_list, slot_list = [], []
        got, tries = 0, 0
        while got < batch_size:  # rejection: a few slots are final frames, too old or too new
            tries += 1
            if tries > 100 and not got:
                raise ValueError("the frame buffer holds no complete transition yet")
            env = rng.integers(self.num_envs, size=batch_size + 8)
            newest = self.written[env]  # exclusive
            oldest = np.maximum(newest - self.slots, 0)
            span = np.maximum(newest - oldest, 1)
            slot = oldest + (rng.random(len(env)) * span).astype(np.int64)
            first = self.episode_first[env, slot % self.slots]
            complete = (slot + self.n_step < newest) | self._ends(env, slot).any(axis=1)
            ok = self.is_transition[env, slot % self.slots] & complete \
                & (np.maximum(slot - self.stack + 1, first) >= oldest)
            env_list.append(env[ok])
            slot_list.append(slot[ok])
            got += int(ok.sum())
        return self._batch(np.concatenate(env_list)[:batch_size],
                           np.concatenate(slot_list)[:batch_size])

    def gather(self, keys: np.ndarray) -> Batch:
        """The transitions of `keys` (env · slots + ring index), as one Batch."""
        keys = np.asarray(keys, dtype=np.int64)
        env, i = np.divmod(keys, self.slots)
        newest = self.written[env] - 1
        return self._batch(env, newest - (newest - i) % self.slots)

    def _batch(self, env: np.ndarray, slot: np.ndarray) -> Batch:
        i = slot % self.slots
        first = self.episode_first[env, i]
        discounts = None
        if self.n_step == 1:
            m = np.ones(len(slot), dtype=np.int64)
            rewards = torch.from_numpy(self.rewards[env, i])
        else:  # m = the first j whose slot is a final frame, else n
            ends = self._ends(env, slot)
            m = np.where(ends.any(axis=1), ends.argmax(axis=1) + 1, self.n_step)
            k = np.arange(self.n_step)
            taken = k[None, :] < m[:, None]
            ring = (slot[:, None] + k[None, :]) % self.slots
            returns = (self.rewards[env[:, None], ring] * self.powers[:self.n_step] * taken)
            rewards = torch.from_numpy(returns.sum(axis=1).astype(np.float32))
            discounts = torch.from_numpy(self.powers[m].astype(np.float32))
        rows = [self._stacks(env, slot, first),
                torch.from_numpy(self.actions[env, i]),
                rewards,
                self._stacks(env, slot + m, first),
                torch.from_numpy(self.terminated[env, (slot + m - 1) % self.slots])]
        if discounts is not None:
            rows.append(discounts)
        if self.device.type != "cpu":
            rows = [r.to(self.device, non_blocking=True) for r in rows]
        return Batch(*rows)

    def state_dict(self) -> dict[str, object]:
        """The slots written so far (all of them once the ring has wrapped), as tensors."""
        used = int(min(self.written.max(initial=0), self.slots))
        return {"written": torch.from_numpy(self.written.copy()),
                "in_episode": torch.from_numpy(self._in_episode.copy()),
                "first": torch.from_numpy(self._first.copy()),
                **{name: torch.from_numpy(getattr(self, name)[:, :used].copy())
                   for name in self.FIELDS}}

    def load_state_dict(self, state: dict[str, object]) -> None:
        written, frames = state["written"], state["frames"]
        assert isinstance(written, torch.Tensor) and isinstance(frames, torch.Tensor)
        if int(written.max()) > frames.shape[1] and frames.shape[1] != self.slots:
            # a ring that wrapped keeps slot s at s mod its own size: another size scrambles it
            raise ValueError(f"the frame buffer was saved with {frames.shape[1]} slots per env "
                             f"and had wrapped; this buffer has {self.slots}")
        for name in self.FIELDS:
            tensor = state[name]
            target = getattr(self, name)
            assert isinstance(tensor, torch.Tensor)
            if tensor.shape[0] != target.shape[0] or tensor.shape[1] > target.shape[1] \
                    or tuple(tensor.shape[2:]) != target.shape[2:]:
                raise ValueError(f"frame buffer {name} has shape {tuple(tensor.shape)}, "
                                 f"this buffer {target.shape}")
            target[:, :tensor.shape[1]] = tensor.numpy()
        for key, attr in (("written", "written"), ("in_episode", "_in_episode"),
                          ("first", "_first")):
            tensor = state[key]
            assert isinstance(tensor, torch.Tensor)
            getattr(self, attr)[...] = tensor.numpy()

"""Replay memory: one preallocated ring of numpy arrays, sampled by index.

Writes go to numpy (cheap for a handful of floats per step); reads go through torch views of
the same memory, so sampling a batch is one gather per field and no copy through Python lists.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch


class Batch(NamedTuple):
    """A sampled minibatch: obs, actions, rewards, next_obs, terminated (1.0 = no bootstrap)."""

    obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor


class ReplayBuffer:
    """Fixed-capacity FIFO of transitions; the oldest are overwritten first."""

    FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated")

    def __init__(self, capacity: int, obs_shape: tuple[int, ...],
                 obs_dtype: np.dtype | type = np.float32, device: torch.device | str = "cpu"):
        self.capacity = capacity
        self.device = torch.device(device)
        self.obs = np.zeros((capacity, *obs_shape), dtype=obs_dtype)
        self.next_obs = np.zeros((capacity, *obs_shape), dtype=obs_dtype)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self._views = {name: torch.from_numpy(getattr(self, name)) for name in self.FIELDS}
        self.pos = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
            next_obs: np.ndarray, terminated: np.ndarray) -> None:
        """Store a batch of n transitions (one per vector env), wrapping around at capacity."""
        n = len(actions)
        idx = (self.pos + np.arange(n)) % self.capacity if self.pos + n > self.capacity \
            else slice(self.pos, self.pos + n)
        self.obs[idx] = obs
        self.actions[idx] = actions
        self.rewards[idx] = rewards
        self.next_obs[idx] = next_obs
        self.terminated[idx] = terminated
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """Uniform sample with replacement, as in DQN (Mnih et al. 2015) and SB3."""
        idx = torch.from_numpy(rng.integers(0, self.size, size=batch_size))
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

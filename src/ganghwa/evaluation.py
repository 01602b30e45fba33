"""Greedy evaluation over seeded episodes, shared by training, `ganghwa eval` and benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ganghwa.envs import make_env

PERIODIC_EVAL_SEED = 10_000
"""Evaluation during training uses seeds seed+10000..., the final one seed+100000...: never the
seeds the training episodes were reset with."""
FINAL_EVAL_SEED = 100_000

Policy = Callable[[np.ndarray], np.ndarray]
"""Maps a batch of observations (n, *obs_shape) to n actions."""


@dataclass
class EvalResult:
    returns: np.ndarray
    lengths: np.ndarray

    @property
    def mean(self) -> float:
        return float(self.returns.mean())

    def summary(self) -> dict[str, float | int | list[float]]:
        r, n = self.returns, self.lengths
        return {"episodes": len(r), "mean": float(r.mean()), "std": float(r.std()),
                "min": float(r.min()), "max": float(r.max()),
                "mean_length": float(n.mean()), "min_length": int(n.min()),
                "max_length": int(n.max()), "returns": [float(x) for x in r]}


def evaluate(policy: Policy, env_id: str, episodes: int, seed: int) -> EvalResult:
    """Run `episodes` episodes, episode i reset with seed + i, so results are reproducible."""
    env = make_env(env_id)
    returns = np.zeros(episodes)
    lengths = np.zeros(episodes, dtype=np.int64)
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=seed + i)
            done = False
            while not done:
                action = policy(obs[None])[0]
                obs, reward, terminated, truncated, _ = env.step(action)
                returns[i] += float(reward)
                lengths[i] += 1
                done = terminated or truncated
    finally:
        env.close()
    return EvalResult(returns, lengths)

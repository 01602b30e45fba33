"""Greedy evaluation over seeded episodes, shared by training, `ganghwa eval` and benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import gymnasium as gym
import numpy as np

from ganghwa.envs import make_env

if TYPE_CHECKING:
    from ganghwa.logging import Logger
    from ganghwa.run import Run

PERIODIC_EVAL_SEED = 10_000
"""Evaluation during training uses seeds seed+10000..., the final one seed+100000...: never the
seeds the training episodes were reset with."""
FINAL_EVAL_SEED = 100_000
EPISODE_STEP_CAP = 1_000
"""Greedy episodes on an env without a time limit (CliffWalking, a user's class) stop here: a
greedy policy can walk in circles forever. Gymnasium's own envs stop at 200 to 1,000 steps;
a run on an env without a limit says so when it starts (pipeline.check_env)."""

NOT_SCORES = {"prob"}
"""`info` numbers that are no score of the episode: toy-text's probability of the last
transition."""

Policy = Callable[[np.ndarray], np.ndarray]
"""Maps a batch of observations (n, *obs_shape) to n actions."""


@dataclass
class EvalResult:
    returns: np.ndarray
    lengths: np.ndarray
    final_info: dict[str, np.ndarray] = field(default_factory=dict)
    """Numeric values the env reported in `info` at each episode's last step (Snake's
    `length`, for example): a game's own score, beside the return."""

    @property
    def mean(self) -> float:
        return float(self.returns.mean())

    def summary(self) -> dict[str, float | int | list[float]]:
        r, n = self.returns, self.lengths
        return {"episodes": len(r), "mean": float(r.mean()), "std": float(r.std()),
                "min": float(r.min()), "max": float(r.max()),
                "mean_length": float(n.mean()), "min_length": int(n.min()),
                "max_length": int(n.max()), "returns": [float(x) for x in r],
                **{f"final_{k}_mean": float(v.mean()) for k, v in self.final_info.items()}}


def capped(env: gym.Env) -> gym.Env:
    """The env with a time limit of EPISODE_STEP_CAP steps unless it has one already."""
    if env.spec is None or env.spec.max_episode_steps is None:
        return gym.wrappers.TimeLimit(env, EPISODE_STEP_CAP)
    return env


def evaluate(policy: Policy, env_id: str, episodes: int, seed: int,
             env_kwargs: dict[str, Any] | None = None) -> EvalResult:
    """Run `episodes` episodes, episode i reset with seed + i, so results are reproducible."""
    return play(capped(make_env(env_id, env_kwargs=env_kwargs)), policy, episodes, seed)


def play(env: gym.Env, policy: Policy, episodes: int, seed: int, close: bool = True
         ) -> EvalResult:
    """Play `episodes` episodes of `policy` on `env` (reset with seed, seed + 1, ...), then
    close it (unless told not to): the one episode loop behind evaluation, video recording
    and the GA's fitness."""
    returns = np.zeros(episodes)
    lengths = np.zeros(episodes, dtype=np.int64)
    infos: list[dict[str, Any]] = []
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=seed + i)
            done = False
            while not done:
                action = policy(np.asarray(obs)[None])[0]
                obs, reward, terminated, truncated, info = env.step(action)
                returns[i] += float(reward)
                lengths[i] += 1
                done = terminated or truncated
            infos.append(info)
    finally:
        if close:
            env.close()
    numeric = [k for k, v in (infos[0] if infos else {}).items()
               if isinstance(v, int | float | np.number) and not isinstance(v, bool)
               and k not in NOT_SCORES and all(k in info for info in infos)]
    return EvalResult(returns, lengths, {k: np.array([info[k] for info in infos], dtype=float)
                                         for k in numeric})


class _Evaluated(Protocol):
    """What periodic_eval reads from an agent's config."""

    env_id: str
    env_kwargs: dict[str, Any]
    seed: int
    eval_episodes: int
    stop_at: float | None


def periodic_eval(policy: Policy, cfg: _Evaluated, step: int, run: Run | None, logger: Logger,
                  best_score: float, save_best: Callable[[], None]
                  ) -> tuple[float, bool, float]:
    """A greedy evaluation during training: logs it, keeps best.pt through `save_best`.

    Returns the new best score, whether `stop_at` was reached (the run then stops early) and
    this evaluation's mean.
    """
    result = evaluate(policy, cfg.env_id, cfg.eval_episodes, cfg.seed + PERIODIC_EVAL_SEED,
                      cfg.env_kwargs)
    logger.scalar("eval/mean_return", result.mean, step)
    if run is not None:
        run.append_evaluation(step, result.mean, float(result.returns.std()))
    if result.mean >= best_score:
        best_score = result.mean
        if run is not None:
            save_best()
    solved = cfg.stop_at is not None and result.mean >= cfg.stop_at
    if solved:
        logger.message(f"greedy evaluation mean {result.mean:.1f} ≥ stop_at {cfg.stop_at} at "
                       f"step {step}: stopping early")
    return best_score, solved, result.mean

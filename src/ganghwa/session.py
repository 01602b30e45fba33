"""What every learning loop does around its steps: the Logger, Ctrl-C, and the last checkpoints."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ganghwa.evaluation import periodic_eval
from ganghwa.logging import Logger
from ganghwa.run import PROGRESS_FIELDS, Run
from ganghwa.runtime import InterruptFlag
from ganghwa.schedules import crossings


class _Periodic(Protocol):
    env_id: str
    env_kwargs: dict[str, Any]
    seed: int
    eval_every: int
    eval_episodes: int
    stop_at: float | None
    checkpoint_every: int


class Learner(Protocol):
    @property
    def config(self) -> _Periodic: ...

    step: int
    elapsed: float
    stop_reason: str
    best_score: float

    def greedy_policy(self, obs: np.ndarray) -> np.ndarray: ...

    def save(self, path: Path) -> None: ...

    def save_state(self, path: Path, elapsed: float) -> None: ...


class Session:
    """The Logger and Ctrl-C flag of one `learn` call, and the chores due between env steps."""

    def __init__(self, agent: Learner, run: Run | None, logger: Logger,
                 interrupted: InterruptFlag):
        self.agent, self.run, self.logger, self.interrupted = agent, run, logger, interrupted

    def tick(self, prev_step: int) -> None:
        """After the steps (prev_step, agent.step]: evaluation and checkpoint when due, Ctrl-C.

        The greedy evaluation keeps best.pt and ends the run once `stop_at` is reached.
        """
        agent, cfg, run = self.agent, self.agent.config, self.run
        if cfg.eval_every and crossings(prev_step, agent.step, cfg.eval_every):
            agent.best_score, solved = periodic_eval(
                agent.greedy_policy, cfg, agent.step, run, self.logger, agent.best_score,
                lambda: agent.save(run.best) if run is not None else None)
            if solved:
                agent.stop_reason = "solved"
        if self.run is not None and crossings(prev_step, agent.step, cfg.checkpoint_every):
            agent.save_state(self.run.latest, self.logger.elapsed)
        if self.interrupted.flag:
            agent.stop_reason = "interrupted"


class _Trainable(Learner, Protocol):
    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def learn(self, total_steps: int | None = None, run: Run | None = None,
              progress: bool = False) -> Any: ...


def entry_point(factory: Callable[..., _Trainable]) -> Callable[..., Any]:
    """The registry's `train(cfg, run, progress, resume_from)` for an agent class built as
    `factory(config=cfg)`: fresh, or restored from a full checkpoint, then trained."""
    def train(cfg: Any, run: Run | None, progress: bool = True,
              resume_from: dict[str, Any] | None = None) -> Any:
        agent = factory(config=cfg)
        if resume_from is not None:
            agent.load_state_dict(resume_from)
        return agent.learn(cfg.total_steps, run=run, progress=progress)

    return train


@contextmanager
def learning_session(agent: Learner, run: Run | None, total_steps: int, progress: bool,
                     throttle: float = 0.0, done: int | None = None,
                     fields: tuple[str, ...] = PROGRESS_FIELDS) -> Iterator[Session]:
    """A Session for the loop; afterwards latest.pt is saved (and best.pt if there is none).

    The loop sets `agent.stop_reason` to end early ("solved", "interrupted"); an exception
    skips the final checkpoints, so the last good ones stay. The bar counts env steps, or
    other units (the GA's generations) when `total_steps` and `done` are given in them.
    """
    logger = Logger(run, total_steps, agent.step if done is None else done, progress,
                    agent.elapsed, throttle, fields)
    interrupted = InterruptFlag(enabled=run is not None)
    agent.stop_reason = ""
    try:
        yield Session(agent, run, logger, interrupted)
    finally:
        interrupted.restore()
        agent.elapsed = logger.elapsed
        logger.close(agent.step)
    agent.stop_reason = agent.stop_reason or "done"
    if run is not None:
        agent.save_state(run.latest, agent.elapsed)
        if not run.best.exists():
            agent.save(run.best)

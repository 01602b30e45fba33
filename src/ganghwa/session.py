"""What every learning loop does around its steps: the Logger, stop signals, evaluations,
checkpoints.

A loop calls `session.tick(prev_step)` after each batch of env steps. latest.pt is written every
`checkpoint_every` steps and every `checkpoint_seconds` of wall time (the first after at most a
minute), so a hard kill loses minutes at most; the CSV logs are flushed just before, so that
a resume, which cuts them back to the checkpoint's step, finds every row up to it. Ctrl-C,
SIGTERM and SIGHUP end the loop at the next tick and save. When the loop ends normally the
final policy is evaluated by the same protocol as the periodic evaluations, so best.pt is the
best of all of them, the last one included.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ganghwa import checkpoint
from ganghwa.agent import Agent
from ganghwa.evaluation import periodic_eval
from ganghwa.logging import Logger
from ganghwa.run import Run, write_error
from ganghwa.runtime import InterruptFlag
from ganghwa.schedules import crossings


class Session:
    """The Logger and Ctrl-C flag of one `learn` call, and the chores due between env steps."""

    def __init__(self, agent: Agent, run: Run | None, logger: Logger,
                 interrupted: InterruptFlag):
        self.agent, self.run, self.logger, self.interrupted = agent, run, logger, interrupted
        self.last_eval = -1
        seconds = float(agent.config.checkpoint_seconds)
        self._next_save = time.monotonic() + min(seconds, 60.0) if seconds else float("inf")

    def tick(self, prev_step: int) -> None:
        """After the steps (prev_step, agent.step]: evaluation and checkpoint when due, and the
        stop signals."""
        agent, cfg = self.agent, self.agent.config
        if cfg.eval_every and crossings(prev_step, agent.step, cfg.eval_every):
            self.evaluate()
        if self.run is not None and (crossings(prev_step, agent.step, cfg.checkpoint_every)
                                     or time.monotonic() >= self._next_save):
            self.save_latest()
        if self.interrupted.flag:
            agent.stop_reason = "interrupted"
            agent.stop_signal = self.interrupted.signal or ""

    def evaluate(self) -> None:
        """A greedy evaluation now; keeps best.pt, and ends the run once `stop_at` is reached,
        or when the agent's `evaluation_hook(step, mean)` (a tuner's pruner) returns False."""
        agent, run = self.agent, self.run
        agent.best_score, solved, mean = periodic_eval(
            lambda obs: agent.policy(obs, True), agent.config, agent.step, run, self.logger,
            agent.best_score, lambda: checkpoint.save(agent, run.best) if run else None)
        self.last_eval = agent.step
        if solved:
            agent.stop_reason = "solved"
        hook = getattr(agent, "evaluation_hook", None)
        if hook is not None and not solved and not hook(agent.step, mean):
            agent.stop_reason = "pruned"

    def save_latest(self) -> None:
        """latest.pt, after flushing the CSV rows it covers."""
        assert self.run is not None
        self.agent.elapsed = self.logger.elapsed
        try:
            self.logger.flush()
        except OSError as e:
            raise write_error(e, self.run.progress_path, 0, atomic=False) from None
        checkpoint.save(self.agent, self.run.latest, full=True)
        seconds = float(self.agent.config.checkpoint_seconds)
        self._next_save = time.monotonic() + seconds if seconds else float("inf")


@contextmanager
def learning_session(agent: Agent, run: Run | None, total_steps: int, progress: bool,
                     throttle: float = 0.0, done: int | None = None,
                     generations: bool = False) -> Iterator[Session]:
    """A Session for the loop; afterwards the final evaluation, latest.pt and best.pt.

    The loop sets `agent.stop_reason` to end early ("solved", "interrupted"); an exception
    skips everything after it, so the last good checkpoints stay. The bar counts env steps, or
    other units (the GA's generations) when `total_steps` and `done` are given in them. With
    evaluation off (eval_every = 0) best.pt is the final policy.
    """
    cfg: Any = agent.config
    logger = Logger(run, total_steps, agent.step if done is None else done, progress,
                    agent.elapsed, throttle, metrics=agent.metrics, generations=generations)
    interrupted = InterruptFlag(enabled=run is not None)
    agent.stop_reason = ""
    session = Session(agent, run, logger, interrupted)
    failed = True
    try:
        yield session
        agent.stop_reason = agent.stop_reason or "done"
        if agent.stop_reason == "done" and cfg.eval_every and session.last_eval != agent.step:
            session.evaluate()
        failed = False
    finally:
        interrupted.restore()
        agent.elapsed = logger.elapsed
        try:
            logger.close(agent.step if done is None else None)
        except OSError as e:  # the CSV's last rows on a full disk: report it, unless the
            if not failed:    # loop already failed (its error says more)
                where = run.progress_path if run else Path(".")
                raise write_error(e, where, 0, atomic=False) from None
    if run is not None:
        checkpoint.save(agent, run.latest, full=True)
        if not cfg.eval_every or not run.best.exists():
            checkpoint.save(agent, run.best)

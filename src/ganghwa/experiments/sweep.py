"""A whole sweep from Python, as `ganghwa sweep` runs it.

    from ganghwa.experiments import sweep
    done = sweep.sweep("dqn", "CartPole-v1", "0-9", ["tutorial:preset=pytorch-tutorial",
                       "tuned:preset=tuned"], workers=2)
    done.root                     # experiments/dqn-CartPole-v1, ready for compare
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganghwa.errors import GanghwaError
from ganghwa.experiments import folder, plan, runner

WORKER_BYTES = 400 * 2**20
"""Memory of one sweep worker running a small run (torch, Gymnasium, a replay buffer)."""


@dataclass
class SweepOutcome:
    root: Path
    tasks: list[plan.Task]
    results: list[runner.Result] = field(default_factory=list)
    stop_signal: int = 0
    seconds: float = 0.0

    def count(self, *statuses: str) -> int:
        return sum(r.status in statuses for r in self.results)

    def show(self, threshold: float | None = None) -> Any:
        """The experiment for a notebook: compare's table and curves (notebook.py)."""
        from ganghwa.notebook import Comparison

        return Comparison([self.root], threshold)


def prepare(algo: str, env: str, seeds: str, variants: list[str], grid: list[str] | None = None,
            steps: int | None = None, name: str | None = None, out: str | Path = "experiments",
            env_kwargs: dict[str, Any] | None = None, command: list[str] | None = None
            ) -> tuple[Path, list[plan.Task]]:
    """The experiment folder and its tasks, every variant checked, the manifest written."""
    tasks = plan.tasks(algo, env, plan.parse_seeds(seeds), plan.variants(variants, grid or []),
                       steps, env_kwargs)
    root = Path(out) / (name or folder.default_name(algo, env))
    folder.write_manifest(root, algo, env, tasks, command)
    return root, tasks


def run(root: Path, tasks: list[plan.Task], backend: str = "local", workers: int = 1,
        files: str = "shared", report: Callable[[plan.Task, runner.Result], None] | None = None
        ) -> SweepOutcome:
    """Run every prepared task to the end; finished runs are skipped, cut-short ones resumed."""
    if workers < 1:
        raise GanghwaError(f"--workers must be at least 1, got {workers}")
    if backend == "local":
        from ganghwa.ray_setup import check_workers

        check_workers(workers, WORKER_BYTES, backend, "sweep worker")
    started = time.perf_counter()
    results, stop = runner.run_all(tasks, root, backend, workers, report, files)
    return SweepOutcome(root, tasks, results, stop, time.perf_counter() - started)


def sweep(algo: str, env: str, seeds: str = "0-9", variants: list[str] | None = None,
          grid: list[str] | None = None, steps: int | None = None, name: str | None = None,
          out: str | Path = "experiments", backend: str = "local", workers: int = 1,
          files: str = "shared", env_kwargs: dict[str, Any] | None = None,
          report: Callable[[plan.Task, runner.Result], None] | None = None) -> SweepOutcome:
    """Every (variant, seed) to the end; a rerun finishes only what is missing."""
    root, tasks = prepare(algo, env, seeds, variants or [], grid, steps, name, out, env_kwargs)
    return run(root, tasks, backend, workers, files, report)

"""One Logger behind the rich progress bar, progress.csv and TensorBoard.

Metric names follow CleanRL: charts/episodic_return, losses/td_loss, charts/SPS, ...
"""

from __future__ import annotations

import csv
import math
import time
from collections import deque
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ganghwa.run import PROGRESS_FIELDS, Run


class Logger:
    """Episode rows to CSV and TensorBoard, and a live bar: steps/s, episode, return, eps, loss."""

    def __init__(self, run: Run | None, total_steps: int, start_step: int = 0,
                 progress: bool = True, elapsed: float = 0.0, throttle: float = 0.0,
                 fields: tuple[str, ...] = PROGRESS_FIELDS):
        """`throttle` > 0 sends TensorBoard and the bar at most one episode per that many
        seconds (progress.csv still gets every row): tabular methods finish ~10k episodes/s.
        `fields` heads a new progress.csv (the GA's rows are generations, not episodes)."""
        self.run = run
        self.throttle = throttle
        self._last_sample = -math.inf
        self.recent: deque[float] = deque(maxlen=100)
        self._t0 = time.perf_counter() - elapsed
        self._sps_t, self._sps_step = time.perf_counter(), start_step
        self._sps = 0.0
        self._last_flush = 0.0
        self._csv_file: Any = None
        self._tb: Any = None
        if run is not None:
            new = not run.progress_path.exists()
            self._csv_file = run.progress_path.open("a", newline="")
            self._csv = csv.writer(self._csv_file, lineterminator="\n")
            if new:
                self._csv.writerow(fields)
            from torch.utils.tensorboard import SummaryWriter
            self._tb = SummaryWriter(str(run.path), purge_step=start_step or None)
        self._progress: Progress | None = None
        if progress:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=Console(stderr=True), refresh_per_second=4, transient=False)
            self._task = self._progress.add_task("train", total=total_steps, completed=start_step,
                                                 stats="")
            self._progress.start()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._t0

    def episode(self, step: int, episode: int, ret: float, length: int, epsilon: float,
                loss: float) -> None:
        """One finished episode: a CSV row, TensorBoard scalars, and the bar's numbers."""
        self.recent.append(ret)
        now = time.perf_counter()
        if now - self._sps_t > 1.0:
            self._sps = (step - self._sps_step) / (now - self._sps_t)
            self._sps_t, self._sps_step = now, step
        if self._csv_file is not None:
            self._csv.writerow((step, episode, f"{ret:.6g}", length, f"{epsilon:.6g}",
                                "" if math.isnan(loss) else f"{loss:.6g}", f"{self.elapsed:.3f}"))
            if now - self._last_flush > 2.0:
                self._csv_file.flush()
                self._last_flush = now
        if self.throttle:
            if now - self._last_sample < self.throttle:
                return
            self._last_sample = now
        if self._tb is not None:
            self._tb.add_scalar("charts/episodic_return", ret, step)
            self._tb.add_scalar("charts/episodic_length", length, step)
            self._tb.add_scalar("charts/epsilon", epsilon, step)
            if not math.isnan(loss):
                self._tb.add_scalar("losses/td_loss", loss, step)
            self._tb.add_scalar("charts/SPS", self._sps, step)
        if self._progress is not None:
            mean = sum(self.recent) / len(self.recent)
            loss_text = "-" if math.isnan(loss) else f"{loss:.3g}"
            self._progress.update(
                self._task, completed=step,
                stats=f"{self._sps:,.0f} steps/s  ep {episode}  return {mean:.1f}  "
                      f"eps {epsilon:.3f}  loss {loss_text}")

    def generation(self, generation: int, step: int, fitness: Any) -> None:
        """One GA generation: a GENERATION_FIELDS row (min, mean, max fitness), TensorBoard
        scalars against the generation, and the bar (whose units are generations)."""
        low, mean, high = float(fitness.min()), float(fitness.mean()), float(fitness.max())
        if self._csv_file is not None:
            self._csv.writerow((step, generation, f"{low:.6g}", f"{mean:.6g}", f"{high:.6g}",
                                f"{self.elapsed:.3f}"))
            self._csv_file.flush()
        if self._tb is not None:
            for name, value in (("min", low), ("mean", mean), ("max", high)):
                self._tb.add_scalar(f"charts/fitness_{name}", value, generation)
            self._tb.add_scalar("charts/env_steps", step, generation)
        if self._progress is not None:
            self._progress.update(self._task, completed=generation,
                                  stats=f"fitness min {low:.1f}  mean {mean:.1f}  max {high:.1f}"
                                        f"  {step:,} env steps")

    def scalar(self, name: str, value: float, step: int) -> None:
        if self._tb is not None:
            self._tb.add_scalar(name, value, step)

    def message(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text)

    def close(self, step: int | None = None) -> None:
        if self._progress is not None:
            if step is not None:
                self._progress.update(self._task, completed=step)
            self._progress.stop()
            self._progress = None
        if self._csv_file is not None:
            self._csv_file.close()
            self._csv_file = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None

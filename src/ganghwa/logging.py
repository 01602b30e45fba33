"""One Logger behind the rich progress bar, progress.csv and TensorBoard.

Each algorithm names the metrics it has (`metrics=("epsilon", "td_loss")` for DQN,
`("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction")` for PPO, `("epsilon",)`
for tabular methods); they become progress.csv's columns, TensorBoard tags (CleanRL's names:
losses/td_loss, charts/epsilon, charts/SPS, charts/episodic_return, ...) and the bar's numbers.
A new metric needs nothing but its name; an entry in the two tables below gives it a nicer
tag and plot label.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections import deque
from pathlib import Path
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

from ganghwa.run import GENERATION_FIELDS, PROGRESS_FIELDS, Run, atomic_write_text

METRIC_TAGS = {
    "td_loss": "losses/td_loss",
    "policy_loss": "losses/policy_loss",
    "value_loss": "losses/value_loss",
    "entropy": "losses/entropy",
    "approx_kl": "losses/approx_kl",
    "clip_fraction": "losses/clip_fraction",
    "epsilon": "charts/epsilon",
    "loss": "losses/loss",
}
"""TensorBoard tag of each metric; any other name is logged as losses/<name>."""

METRIC_LABELS = {
    "td_loss": "mean TD loss",
    "policy_loss": "policy loss",
    "value_loss": "value loss",
    "entropy": "entropy",
    "approx_kl": "approx KL",
    "clip_fraction": "clip fraction",
    "epsilon": "epsilon",
    "loss": "loss",  # progress.csv before per-algorithm metrics: the TD loss for DQN
}
"""Plot label of each metric; any other name is its own label."""

_BAR_NAMES = {"epsilon": "eps"}


def metric_tag(name: str) -> str:
    return METRIC_TAGS.get(name, f"losses/{name}")


def metric_label(name: str) -> str:
    return METRIC_LABELS.get(name, name)


def _cell(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6g}"


class Logger:
    """Episode rows to CSV and TensorBoard, and a live bar: steps/s, episode, return, metrics."""

    def __init__(self, run: Run | None, total_steps: int, start_step: int = 0,
                 progress: bool = True, elapsed: float = 0.0, throttle: float = 0.0,
                 metrics: tuple[str, ...] = ("epsilon", "td_loss"), generations: bool = False):
        """`metrics` are the algorithm's own columns, between PROGRESS_FIELDS and `time`;
        `generations` makes the rows GENERATION_FIELDS instead (the GA, via `generation()`).
        `throttle` > 0 sends TensorBoard and the bar at most once per that many seconds
        (progress.csv still gets every row): tabular methods finish ~10k episodes/s."""
        self.run = run
        self.metrics = tuple(metrics)
        self.throttle = throttle
        self._last_sample = self._last_update_sample = -math.inf
        self.recent: deque[float] = deque(maxlen=100)
        self._latest = dict.fromkeys(self.metrics, math.nan)
        self._episode = 0
        self._t0 = time.perf_counter() - elapsed
        self._sps_t, self._sps_step = time.perf_counter(), start_step
        self._sps = 0.0
        self._last_flush = 0.0
        self._csv_file: Any = None
        self._tb: Any = None
        if run is not None:
            fields = GENERATION_FIELDS if generations else (*PROGRESS_FIELDS, *self.metrics,
                                                            "time")
            header = _prepare_csv(run.progress_path, fields)
            self._csv_file = run.progress_path.open("a", newline="")
            self._csv = csv.DictWriter(self._csv_file, header, restval="",
                                       lineterminator="\n")
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

    def episode(self, step: int, episode: int, ret: float, length: int,
                **values: float) -> None:
        """One finished episode: a CSV row, TensorBoard scalars, and the bar's numbers.

        `values` are metrics known at the episode's end (DQN: epsilon, td_loss); a metric not
        given is written from its latest value, from `update()`, or left empty.
        """
        given = self._remember(values)
        self.recent.append(ret)
        self._episode = episode
        now = self._tick(step)
        if self._csv_file is not None:
            self._csv.writerow({"step": step, "episode": episode, "return": _cell(ret),
                                "length": length, "time": f"{self.elapsed:.3f}",
                                **{name: _cell(v) for name, v in self._latest.items()}})
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
            self._scalars(given, step)
            self._tb.add_scalar("charts/SPS", self._sps, step)
        self._show(step)

    def update(self, step: int, **values: float) -> None:
        """The metrics of one gradient update (policy gradients: once per update), as
        TensorBoard scalars at `step`; the next CSV rows and the bar carry them too."""
        given = self._remember(values)
        now = self._tick(step)
        if self.throttle:
            if now - self._last_update_sample < self.throttle:
                return
            self._last_update_sample = now
        if self._tb is not None:
            self._scalars(given, step)
        if self.recent:
            self._show(step)

    def _remember(self, values: dict[str, float]) -> dict[str, float]:
        unknown = [name for name in values if name not in self._latest]
        if unknown:
            raise ValueError(f"metrics {unknown} are not among this Logger's metrics "
                             f"{list(self.metrics)}; add them to Logger(metrics=...)")
        given = {name: float(v) for name, v in values.items()}
        self._latest.update(given)
        return given

    def _tick(self, step: int) -> float:
        """The clock, and steps/s over the last second or more."""
        now = time.perf_counter()
        if now - self._sps_t > 1.0:
            self._sps = (step - self._sps_step) / (now - self._sps_t)
            self._sps_t, self._sps_step = now, step
        return now

    def _scalars(self, values: dict[str, float], step: int) -> None:
        for name, value in values.items():
            if not math.isnan(value):
                self._tb.add_scalar(metric_tag(name), value, step)

    @property
    def stats(self) -> str:
        """The bar's numbers: steps/s, episode, mean return of the last 100, each metric."""
        mean = sum(self.recent) / len(self.recent) if self.recent else math.nan
        stats = f"{self._sps:,.0f} steps/s  ep {self._episode}  return {mean:.1f}"
        for name, value in self._latest.items():
            number = f"{value:.3f}" if name == "epsilon" else f"{value:.3g}"
            stats += f"  {_BAR_NAMES.get(name, name)} {'-' if math.isnan(value) else number}"
        return stats

    def _show(self, step: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=step, stats=self.stats)

    def generation(self, generation: int, step: int, fitness: Any) -> None:
        """One GA generation: a GENERATION_FIELDS row (min, mean, max fitness), TensorBoard
        scalars against the generation, and the bar (whose units are generations)."""
        low, mean, high = float(fitness.min()), float(fitness.mean()), float(fitness.max())
        if self._csv_file is not None:
            self._csv.writerow({"step": step, "generation": generation,
                                "fitness_min": f"{low:.6g}", "fitness_mean": f"{mean:.6g}",
                                "fitness_max": f"{high:.6g}", "time": f"{self.elapsed:.3f}"})
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


def _prepare_csv(path: Path, fields: tuple[str, ...]) -> tuple[str, ...]:
    """The header rows will be written under: `fields` for a new or empty file. A resumed
    run whose file has other columns (one from an earlier version: epsilon, loss) is
    rewritten once under the union of both, so old rows keep their numbers and new rows
    line up with the header."""
    if not path.is_file():
        path.write_text(",".join(fields) + "\n")
        return fields
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        old = tuple(reader.fieldnames or ())
        if old == fields:
            return fields
        rows = list(reader)
    if not rows:
        header = fields
    else:
        header = (*[c for c in old if c != "time"],
                  *[c for c in fields if c not in old and c != "time"], "time")
    out = io.StringIO()
    writer = csv.DictWriter(out, header, restval="", extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, out.getvalue())
    return header

"""One Logger behind the rich progress bar, progress.csv and TensorBoard.

Each algorithm names the metrics it has (`metrics=("epsilon", "td_loss")` for DQN,
`("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction")` for PPO, `("epsilon",)`
for tabular methods); they become progress.csv's columns, TensorBoard tags (CleanRL's names:
losses/td_loss, charts/epsilon, charts/SPS, charts/episodic_return, ...) and the bar's numbers.
A new metric needs nothing but its name; an entry in the two tables below gives it a nicer
tag and plot label.

The progress line goes where it can be read: rich's live bar on a terminal, a plain line every
ten seconds where stderr is a file or a pipe (`make demo | tee log`, a subprocess), and one
updated output line in Jupyter (rich's live display there needs ipywidgets). The three are one
small interface, `_Display`; the Logger decides when to show, so a fast loop pays a clock read
per episode, not a formatted line.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, Protocol

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text

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
    """Episode rows to CSV and TensorBoard, and a progress line: steps/s, episode, return,
    metrics."""

    def __init__(self, run: Run | None, total_steps: int, start_step: int = 0,
                 progress: bool = True, elapsed: float = 0.0, throttle: float = 0.0,
                 metrics: tuple[str, ...] = ("epsilon", "td_loss"), generations: bool = False):
        """`metrics` are the algorithm's own columns, between PROGRESS_FIELDS and `time`;
        `generations` makes the rows GENERATION_FIELDS instead (the GA, via `generation()`),
        and the progress line counts generations. `throttle` > 0 sends TensorBoard at most once
        per that many seconds (progress.csv still gets every row): tabular methods finish ~10k
        episodes/s. The progress line keeps its own pace (`_Display.interval`), and `close()`
        shows the final numbers whatever was shown before."""
        self.run = run
        self.metrics = tuple(metrics)
        self.throttle = throttle
        self._generations = generations
        self._last_sample = self._last_update_sample = -math.inf
        self.recent: deque[float] = deque(maxlen=100)
        self._latest = dict.fromkeys(self.metrics, math.nan)
        self._episode = 0
        now = time.perf_counter()
        self._t0 = now - elapsed
        self._call_t0, self._start_step, self._step = now, start_step, start_step
        self._sps_t, self._sps_step = now, start_step
        self._sps = 0.0
        self._generation_stats = ""
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
        self._display: _Display | None = None
        self._next_show = math.inf
        if progress:
            self._display = _open_display(total_steps, start_step,
                                          "generation" if generations else "step")
            self._next_show = time.perf_counter() + self._display.first

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._t0

    def episode(self, step: int, episode: int, ret: float, length: int,
                **values: float) -> None:
        """One finished episode: a CSV row, TensorBoard scalars, and the progress line's numbers.

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
        if self._tb is not None and now - self._last_sample >= self.throttle:
            self._last_sample = now
            self._tb.add_scalar("charts/episodic_return", ret, step)
            self._tb.add_scalar("charts/episodic_length", length, step)
            self._scalars(given, step)
            self._tb.add_scalar("charts/SPS", self._sps, step)
        if now >= self._next_show:
            self._show(step, self.stats, now)

    def update(self, step: int, **values: float) -> None:
        """The metrics of one gradient update (policy gradients: once per update), as
        TensorBoard scalars at `step`; the next CSV rows and the progress line carry them too."""
        given = self._remember(values)
        now = self._tick(step)
        if self._tb is not None and now - self._last_update_sample >= self.throttle:
            self._last_update_sample = now
            self._scalars(given, step)
        if self.recent and now >= self._next_show:
            self._show(step, self.stats, now)

    def _remember(self, values: dict[str, float]) -> dict[str, float]:
        unknown = [name for name in values if name not in self._latest]
        if unknown:
            raise ValueError(f"metrics {unknown} are not among this Logger's metrics "
                             f"{list(self.metrics)}; add them to Logger(metrics=...)")
        given = {name: float(v) for name, v in values.items()}
        self._latest.update(given)
        return given

    def _tick(self, step: int) -> float:
        """The clock, the latest step, and steps/s over the last second or more."""
        now = time.perf_counter()
        self._step = step
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
        """The progress line's numbers: steps/s (over the last second), episode, mean return
        of the last 100, each metric."""
        return self._stats(self._sps)

    def _stats(self, sps: float) -> str:
        mean = sum(self.recent) / len(self.recent) if self.recent else math.nan
        stats = f"{sps:,.0f} steps/s  ep {self._episode}  return {mean:.1f}"
        for name, value in self._latest.items():
            number = f"{value:.3f}" if name == "epsilon" else f"{value:.3g}"
            stats += f"  {_BAR_NAMES.get(name, name)} {'-' if math.isnan(value) else number}"
        return stats

    def _show(self, done: int, stats: str, now: float) -> None:
        if self._display is not None:
            try:
                self._display.show(done, stats)
            except OSError:  # nowhere to show it any more: train on, the files still matter
                self._display = None
                return
            self._next_show = now + self._display.interval

    def generation(self, generation: int, step: int, fitness: Any) -> None:
        """One GA generation: a GENERATION_FIELDS row (min, mean, max fitness), TensorBoard
        scalars against the generation, and the progress line (whose units are generations)."""
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
        self._step = generation
        self._generation_stats = (f"fitness min {low:.1f}  mean {mean:.1f}  max {high:.1f}"
                                  f"  {step:,} env steps")
        now = time.perf_counter()
        if now >= self._next_show:
            self._show(generation, self._generation_stats, now)

    def scalar(self, name: str, value: float, step: int) -> None:
        if self._tb is not None:
            self._tb.add_scalar(name, value, step)

    def message(self, text: str) -> None:
        if self._display is not None:
            try:
                self._display.message(text)
            except OSError:  # nowhere to show it any more (SIGHUP, a closed pipe)
                self._display = None

    def flush(self) -> None:
        """Push the CSV rows to the file (before a checkpoint, which a resume cuts back to)."""
        if self._csv_file is not None:
            self._csv_file.flush()

    def close(self, step: int | None = None) -> None:
        """The final progress line, then the files. It shows `step` (default: the last one
        logged) and the true totals: the episode count, the mean return of the last 100, and
        steps/s over this whole call (steps done since `start_step` / seconds since the
        Logger was made); GA runs, their last generation."""
        if self._display is not None:
            done = self._step if step is None else step
            if self._generations:
                stats = self._generation_stats
            else:
                seconds = time.perf_counter() - self._call_t0
                stats = self._stats((done - self._start_step) / seconds if seconds > 0 else 0.0)
            display, self._display = self._display, None
            with contextlib.suppress(OSError):  # a hung-up terminal: the files still matter
                display.close(done, stats)
        if self._csv_file is not None:
            self._csv_file.close()
            self._csv_file = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None


# ---------------------------------------------------------------- where the line is shown

class _Display(Protocol):
    """A place to show the progress line. The Logger calls `show` at most once per `interval`
    seconds (the first time `first` seconds after it starts), and `close` once, with the
    final numbers."""

    first: float
    interval: float

    def show(self, done: int, stats: str) -> None: ...

    def message(self, text: str) -> None: ...

    def close(self, done: int, stats: str) -> None: ...


def _open_display(total: int, done: int, unit: str) -> _Display:
    """Jupyter's output line, rich's live bar on a terminal, or plain lines on a file or pipe
    (where a live bar prints cut fragments: `22… 0:0…`)."""
    console = Console(stderr=True)
    if console.is_jupyter:
        try:
            from IPython.display import display
        except ImportError:  # pragma: no cover - Jupyter runs on IPython
            return _Lines(console.file, total, unit)
        return _NotebookLine(display, total, done, unit)
    if console.is_terminal and _live_terminal(console.file):
        return _RichBar(console, total, done)
    return _Lines(console.file, total, unit)


def _live_terminal(file: IO[str]) -> bool:
    """A terminal that can show rich's live bar, which moves the cursor.

    Not a pipe that FORCE_COLOR makes rich take for a terminal, and not the pseudo-terminal of
    a notebook's `!ganghwa train`: IPython runs shell commands in a pty, and Jupyter and Colab
    render colours but not cursor moves, so every redraw became a new line of garbage. The
    kernel's environment tells that case apart: jupyter_client's JPY_PARENT_PID, or the
    TERM=xterm-color and PAGER=cat that ipykernel's shell sets for its commands."""
    env = os.environ
    if "JPY_PARENT_PID" in env or (env.get("TERM") == "xterm-color" and env.get("PAGER") == "cat"):
        return False
    try:
        return file.isatty()
    except (AttributeError, ValueError):
        return False


def _line(unit: str, done: int, total: int, stats: str, seconds: float) -> str:
    """`step 12,000/50,000 (24%)  1,650 steps/s  ep 83  ...  0:00:07 elapsed`."""
    share = f" ({100 * done // total}%)" if total > 0 else ""
    return (f"{unit} {done:,}/{total:,}{share}  {stats}  "
            f"{timedelta(seconds=int(seconds))} elapsed")


class _RichBar:
    """rich's live bar, for a terminal."""

    first, interval = 0.0, 0.25  # the bar redraws 4 times a second

    def __init__(self, console: Console, total: int, done: int):
        self.progress = _BarProgress(
            TextColumn("[bold]{task.description}"), BarColumn(),
            MofNCompleteColumn(table_column=Column(no_wrap=True)), _StatsColumn(),
            TimeElapsedColumn(table_column=Column(no_wrap=True)),
            TimeRemainingColumn(table_column=Column(no_wrap=True)),
            console=console, refresh_per_second=4, transient=False)
        self.task = self.progress.add_task("train", total=total, completed=done, stats="")
        self.progress.start()

    def show(self, done: int, stats: str) -> None:
        self.progress.update(self.task, completed=done, stats=stats)

    def message(self, text: str) -> None:
        self.progress.console.print(text)

    def close(self, done: int, stats: str) -> None:
        self.show(done, stats)
        self.progress.stop()  # draws the bar a last time, with these numbers


_BAR_ROOM = 50
"""Columns the bar needs besides its stats: name, a short bar, done/total, elapsed, remaining."""


class _StatsColumn(ProgressColumn):
    """The stats, in the bar's row while the terminal is wide enough for both."""

    def __init__(self) -> None:
        super().__init__(table_column=Column(no_wrap=True))
        self.inline = True

    def render(self, task: Task) -> Text:
        return Text(task.fields["stats"] if self.inline else "")


class _BarProgress(Progress):
    """rich's Progress with the stats on a line of their own below the bar where the terminal
    is too narrow for one line (there rich would cut every column: `22… 0:0…`)."""

    def get_renderables(self) -> Iterable[RenderableType]:
        stats = self.tasks[0].fields.get("stats", "") if self.tasks else ""
        column = next(c for c in self.columns if isinstance(c, _StatsColumn))
        live = getattr(self, "live", None)  # None while Progress.__init__ makes its Live
        column.inline = live is None or live.console.width >= len(stats) + _BAR_ROOM
        yield self.make_tasks_table(self.tasks)
        if not column.inline and stats:
            yield Text(f"  {stats}", no_wrap=True, overflow="ellipsis")


class _Lines:
    """A plain line every ten seconds and a final one, for a log file or a pipe. A write that
    fails (the reader of the pipe is gone) ends the lines, not the training."""

    first = interval = 10.0

    def __init__(self, file: IO[str], total: int, unit: str):
        self.file: IO[str] | None = file
        self.total, self.unit = total, unit
        self.t0 = time.perf_counter()

    def show(self, done: int, stats: str) -> None:
        self.message(_line(self.unit, done, self.total, stats, time.perf_counter() - self.t0))

    def message(self, text: str) -> None:
        if self.file is None:
            return
        try:
            self.file.write(text + "\n")
            self.file.flush()
        except (OSError, ValueError):  # a broken pipe, a closed file
            self.file = None

    def close(self, done: int, stats: str) -> None:
        self.show(done, stats)


class _Text:
    """A line of text as Jupyter shows it (its repr), without quotes."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


class _NotebookLine:
    """One output line of a Jupyter cell, updated in place at most four times a second."""

    first, interval = 0.0, 0.25

    def __init__(self, display: Callable[..., Any], total: int, done: int, unit: str):
        self.total, self.unit = total, unit
        self.t0 = time.perf_counter()
        self.handle = display(_Text(f"{unit} {done:,}/{total:,}"), display_id=True)

    def show(self, done: int, stats: str) -> None:
        if self.handle is not None:
            self.handle.update(_Text(_line(self.unit, done, self.total, stats,
                                           time.perf_counter() - self.t0)))

    def message(self, text: str) -> None:
        print(text, file=sys.stdout, flush=True)

    def close(self, done: int, stats: str) -> None:
        self.show(done, stats)


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
